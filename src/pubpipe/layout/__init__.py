"""The print layout stage: the finished document laid out as a print edition.

``stage.lay_out(book, ctx) -> PrintEdition``: print markup (``markup``), rendered by WeasyPrint in a
worker process (``render``), measured there (``measure``), and mapped back onto the chapters
(``pagemap``). The PDF writer post-processes and preflights the edition; the EPUB writer reads
only its page map. Editions are cached on disk by a hash of everything that shapes them, so a
build with nothing changed lays nothing out.

Importing this package is cheap: WeasyPrint is imported only by the render worker.
"""

from __future__ import annotations

from .edition import PageMap, PageStart, PrintEdition
from .settings import PrintSettings, resolve_settings, text_width

__all__ = ["PageMap", "PageStart", "PrintEdition", "PrintSettings", "resolve_settings",
           "text_width"]  # the stage itself: layout.stage.lay_out (loaded when a build lays out)
