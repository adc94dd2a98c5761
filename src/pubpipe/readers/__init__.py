"""Readers: source files to the intermediate document (``Book``), knowing nothing of writers.

``read_book(cfg)`` and ``read_chapter(path, diags)`` live in ``book.py``; they are imported on
first use, so what needs only a small reader (``opening.parse_date`` for book.toml,
``frontmatter``, ``sites``) does not load Python-Markdown and html5lib with it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .book import read_book, read_chapter

__all__ = ["read_book", "read_chapter"]


def __getattr__(name: str):
    if name in __all__:
        from . import book

        return getattr(book, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
