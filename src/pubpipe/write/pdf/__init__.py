"""The PDF writer: the print edition post-processed and preflighted.

``write_pdf(book, ctx, edition) -> bytes``. The layout stage (``pubpipe.layout``) made the
edition; here it gets its exact page boxes, page labels and preset rules (``postprocess``), and
preflight reports on the result as diagnostics (``preflight``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...document import Book
from ...layout.edition import PrintEdition
from ...layout.settings import icc_profile
from . import preflight
from .postprocess import postprocess

if TYPE_CHECKING:
    from ...context import BuildContext

PROFILES = ("print",)  # the image variants this writer needs (the layout's)


def write_pdf(book: Book, ctx: BuildContext, edition: PrintEdition) -> bytes:
    """The book as a PDF (bytes); preflight findings go to the build's diagnostics."""
    ctx.publish_print_notes()
    s = edition.settings
    if s.variant.startswith("pdf/x") and icc_profile(s.color) is None:
        ctx.diagnostics.warn("pdf-output-intent", f"{s.variant} without an output intent: no"
                             " CMYK ICC profile found (install libgs-common or put one in"
                             " styles/icc/cmyk.icc)", ctx.config_file)
    pdf = postprocess(edition.pdf, s, edition.page_labels)
    preflight.run(book, edition, pdf, ctx.diagnostics, ctx.config_file)
    return pdf
