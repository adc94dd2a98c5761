"""Fonts for tests, renamed so that fontconfig finds them as a family of their own."""

from __future__ import annotations


def rename(font, family: str) -> None:
    """A fontTools TTFont given the family name (its full and PostScript names follow)."""
    for rec in font["name"].names:
        if rec.nameID in (1, 4, 16):
            rec.string = family
        elif rec.nameID == 6:
            rec.string = family.replace(" ", "")
