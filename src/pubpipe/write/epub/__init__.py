"""The EPUB 3 writer: ``write_epub(book, ctx, page_map) -> bytes``.

``builder`` writes the documents in reading order; ``images`` the cover and images;
``accessibility`` the facts and metadata; ``pagelist`` the print edition's page markers (from the
layout stage's page map, the only thing this writer reads of the print edition); ``nav`` the
contents, landmarks, page-list and NCX; ``package`` the OPF and the reproducible zip.
"""

from __future__ import annotations

from ...context import BuildContext
from ...document import Book
from ...layout.edition import PageMap
from .builder import EpubBuilder
from .package import book_identifier, modified_time

__all__ = ["PROFILES", "book_identifier", "modified_time", "write_epub"]

PROFILES = ("epub",)  # the image variants this writer needs


def write_epub(book: Book, ctx: BuildContext, page_map: PageMap | None = None) -> bytes:
    """The book as an EPUB 3 file (bytes); problems go to the build's diagnostics. With a page
    map (the print edition's), the EPUB carries the printed page numbers."""
    return EpubBuilder(book, ctx, page_map).build()
