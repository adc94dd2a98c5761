"""The PDF writer: the print edition merged, post-processed and preflighted.

``write_pdf(book, ctx, edition) -> bytes``. The layout stage (``pubpipe.layout``) made the
edition; here its pieces become one PDF (``merge``), which gets its exact page boxes, page labels
and preset rules (``postprocess``), and preflight reports on the result as diagnostics
(``preflight``), all on one pypdf writer in memory, serialized once. The result and its
diagnostics are cached under a hash of the edition, so a build in which nothing changed writes
the same bytes without doing the work again. A ``ReadAhead`` handed to the layout stage parses
the chapters while the front matter and the overlay are still being laid out.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING

from ... import __version__
from ...document import Book, Diagnostic, Severity
from ...layout.edition import PrintEdition
from ...layout.settings import icc_profile
from . import preflight
from .merge import ReadAhead, merge, write
from .postprocess import postprocess

if TYPE_CHECKING:
    from ...context import BuildContext

PROFILES = ("print",)  # the image variants this writer needs (the layout's)

def write_pdf(book: Book, ctx: BuildContext, edition: PrintEdition,
              ahead: ReadAhead | None = None) -> bytes:
    """The book as a PDF (bytes); preflight findings go to the build's diagnostics. ahead: the
    chapters' PDFs read while the layout went on (``merge.ReadAhead``), if the build did."""
    ctx.publish_print_notes()
    key = _key(book, ctx, edition)
    cached = _load(ctx.store, key)
    if cached is not None:
        if ahead is not None:
            ahead.stop()
        pdf, found = cached
        ctx.diagnostics.extend(found)
        return pdf
    before = len(ctx.diagnostics)
    s = edition.settings
    if s.variant.startswith("pdf/x") and icc_profile(s.color) is None:
        ctx.diagnostics.warn("pdf-output-intent", f"{s.variant} without an output intent: no"
                             " CMYK ICC profile found (install libgs-common or put one in"
                             " styles/icc/cmyk.icc)", ctx.config_file)
    # one pass: merged, post-processed and preflighted in memory, serialized once
    writer = merge(edition, ahead)
    postprocess(writer, s, edition.page_labels)
    preflight.run(book, edition, writer, ctx.diagnostics, ctx.config_file)
    pdf = write(writer)
    _save(ctx.store, key, pdf, list(ctx.diagnostics[before:]))
    return pdf


def _key(book: Book, ctx: BuildContext, edition: PrintEdition) -> str:
    h = hashlib.sha256(f"pubpipe {__version__} pdf 1".encode())
    for p in sorted(Path(__file__).parent.glob("*.py")):  # this writer's code
        h.update(p.read_bytes())
    for part in (edition.pdf or b"", *(p.pdf for p in edition.pieces),
                 *(s for p in edition.pieces for s in p.streams)):
        h.update(hashlib.sha256(part).digest())
    h.update(repr((edition.settings, edition.page_labels, edition.measures, edition.images,
                   edition.warnings, [(p.kind, p.pages, p.first, p.bookmarks)
                                      for p in edition.pieces])).encode())
    h.update(repr((ctx.config_file, [(str(ch.source), ch.source_text) for ch in book.chapters])
                  ).encode())
    return h.hexdigest()[:32]


def _load(store, key: str) -> tuple[bytes, list[Diagnostic]] | None:
    """The cached PDF, read through the store: regular files inside the cache, the PDF only with
    the hash recorded beside it (a swapped file is dropped and made again)."""
    raw = store.read_sealed_cache_file(f"pdf/{key}.json")
    try:
        if raw is None:
            return None
        data = json.loads(raw.decode("utf-8"))
        pdf = store.read_cache_file(f"pdf/{key}.pdf", str(data["pdf_sha256"]))
        found = [Diagnostic(Severity[d["severity"]], d["code"], d["message"],
                            Path(d["file"]) if d["file"] else None, d["line"])
                 for d in data["diagnostics"]]
        return (pdf, found) if pdf is not None else None
    except (ValueError, KeyError, TypeError):
        return None


def _save(store, key: str, pdf: bytes, found: list[Diagnostic]) -> None:
    store.write_cache_file(f"pdf/{key}.pdf", pdf)
    store.write_sealed_cache_file(f"pdf/{key}.json", json.dumps({
        "pdf_sha256": hashlib.sha256(pdf).hexdigest(),
        "diagnostics": [{"severity": d.severity.name, "code": d.code, "message": d.message,
                         "file": str(d.file) if d.file else None, "line": d.line}
                        for d in found]}).encode())
