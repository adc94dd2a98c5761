"""Transforms: one concern each, run in the order pipeline.py gives, each changing the Book in place."""
