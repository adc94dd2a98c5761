"""Preflight of a built PDF (stub, replaced below)."""


def run(book, result, settings):
    return None
