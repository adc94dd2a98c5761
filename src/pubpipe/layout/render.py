"""Rendering print markup with WeasyPrint: the whole book, or one piece of it (a chapter, the
front matter, the overlay), with what the page map and preflight need read from the layout.

Runs in the layout's worker processes (``workers.py``: forked from a forkserver with WeasyPrint
warmed, one per core, ended with the build). WeasyPrint may read nothing but the resolved asset
files and ``data:`` URIs (``SandboxFetcher``).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..document import read_regular_file
from . import workers
from .deflate import deflate_streams
from .edition import BlockPath, Bookmark, Measures, Resource
from .measure import read_layout, text_check
from .pagemap import first_words, text_area
from .pdfwords import read_pages
from .settings import PrintSettings, icc_profile
from .styles import ASSET_URL


@dataclass
class RenderJob:
    """Everything a worker needs: plain data, sent to the child process."""

    html: str
    css: list[str]
    settings: PrintSettings
    resources: dict[str, Resource]  # URL -> (file, media type) the fetcher may serve
    chapter_ids: list[str]
    block_ids: dict[str, tuple[str, BlockPath]]  # anchor -> (chapter slug, block path)
    block_seq: dict[str, int]  # anchor -> document order
    image_ids: dict[str, tuple[str, str]] = field(default_factory=dict)  # anchor -> (src, alt)


@dataclass
class Rendered:
    pdf: bytes
    page_labels: list[str]
    chapter_pages: dict[str, int]
    starts: dict[str, list[tuple[BlockPath, str]]]  # chapter slug -> (block path, folio) per page
    measures: Measures
    anchor_pages: dict[str, int]  # anchor -> first page (0-based)
    warnings: list[str] = field(default_factory=list)
    # footnotes, their calls and the words before them -> (page, y): see stage.note_breaks
    note_pos: dict[str, tuple[int, float]] = field(default_factory=dict)
    cpu: float = 0.0  # seconds of CPU it took to lay out
    # first words printed on each page (pagemap.first_words), by page index
    words: list[tuple[tuple[str, ...], tuple[str, ...]]] = field(default_factory=list)


class SandboxFetcher:
    """Serves the resolved asset files and data: URIs; everything else is refused.

    With settings asking for grayscale, CMYK or no transparency, raster images are converted on
    the way in (the cached assets stay as they are).
    """

    def __new__(cls, allowed: dict[str, Resource], settings: PrintSettings | None = None):
        from weasyprint.urls import URLFetcher, URLFetcherResponse

        class Fetcher(URLFetcher):
            def fetch(self, url, headers=None):
                if url in allowed:
                    path, media_type, sha256 = allowed[url]
                    data = read_regular_file(Path(path))  # a cache file, never a link
                    if sha256 and hashlib.sha256(data).hexdigest() != sha256:
                        raise ValueError(f"pubpipe: {path} changed since it was made")
                elif url.startswith("data:"):
                    response = super().fetch(url, headers)
                    data, media_type = response.read(), response.content_type
                else:
                    raise ValueError(f"pubpipe: refused to fetch {url[:80]!r}")
                if settings is not None and media_type.startswith("image/"):
                    data, media_type = convert_image(data, media_type, settings)
                return URLFetcherResponse(url, body=data, headers={"Content-Type": media_type})

        return Fetcher(allowed_protocols={"data"}, allow_redirects=False)


def convert_image(data: bytes, media_type: str, s: PrintSettings) -> tuple[bytes, str]:
    """A raster image in the colour the print settings ask for, alpha flattened when needed."""
    if media_type in ("image/svg+xml",) or (s.color == "rgb" and not s.flatten):
        return data, media_type
    from PIL import Image, ImageCms

    try:
        im = Image.open(io.BytesIO(data))
        im.load()
    except Exception:
        return data, media_type
    if im.mode in ("RGBA", "LA", "PA", "P", "1", "I;16", "I", "F") or "transparency" in im.info:
        im = im.convert("RGBA")
        flat = Image.new("RGB", im.size, (255, 255, 255))
        flat.paste(im, mask=im.getchannel("A"))
        im = flat
    out = io.BytesIO()
    if s.color == "grayscale":
        im.convert("L").save(out, "PNG", optimize=False)
        return out.getvalue(), "image/png"
    if s.color == "cmyk":
        im = im.convert("RGB")
        icc = icc_profile("cmyk")
        try:
            if icc is None:
                raise OSError("no CMYK profile")
            im = ImageCms.profileToProfile(im, ImageCms.createProfile("sRGB"), str(icc),
                                           outputMode="CMYK")
        except Exception:
            im = im.convert("CMYK")
        im.save(out, "JPEG", quality=92)
        return out.getvalue(), "image/jpeg"
    if im.mode not in ("RGB", "L", "CMYK"):
        im = im.convert("RGB")
    im.save(out, "PNG")
    return out.getvalue(), "image/png"



@contextlib.contextmanager
def fixed_font_timestamps():
    """fontTools stamps a font it saves again (WeasyPrint's subsets of colour emoji fonts) with
    the time of day, or SOURCE_DATE_EPOCH when set: stamped 0 here, always, a chapter with an
    emoji is the same bytes in every build (cached pieces are not keyed on the variable), and an
    incremental PDF equals a cold one. The variable is put back as it was."""
    before = os.environ.get("SOURCE_DATE_EPOCH")
    os.environ["SOURCE_DATE_EPOCH"] = "0"
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("SOURCE_DATE_EPOCH", None)
        else:
            os.environ["SOURCE_DATE_EPOCH"] = before


def render(job: RenderJob) -> Rendered:
    """The whole book laid out in a fresh worker process (see ``workers``), which then ends: a
    whole book is large, and WeasyPrint does not give its memory back to the OS."""
    return workers.run(render_here, [job], fresh=True)[0]


class _LogCapture(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def render_here(job: RenderJob) -> Rendered:
    import weasyprint
    from weasyprint.text.fonts import FontConfiguration

    started = _cpu_seconds()
    s = job.settings
    fetcher = SandboxFetcher(job.resources, s)
    fonts = FontConfiguration()
    profiles: dict = {}  # shared by every stylesheet: @color-profile (PDF/X output intent)
    logger = logging.getLogger("weasyprint")
    cap = _LogCapture()
    logger.addHandler(cap)
    try:
        sheets = [weasyprint.CSS(string=c, url_fetcher=fetcher, font_config=fonts,
                                 color_profiles=profiles) for c in job.css if c]
        html = weasyprint.HTML(string=job.html, base_url=ASSET_URL, url_fetcher=fetcher)
        document = html.render(font_config=fonts, stylesheets=sheets, color_profiles=profiles)
        # images denser than needed are scaled down (never up): 600 ppi keeps print sharp
        options = dict(full_fonts=s.full_fonts, pdf_variant=s.variant or None,
                       pdf_tags=s.tagged, optimize_images=False,
                       dpi=600 if s.for_print else 200)
        if not s.bookmarks:
            for page in document.pages:
                page.bookmarks = []
        with fixed_font_timestamps():
            pdf = document.write_pdf(**options)
    finally:
        logger.removeHandler(cap)
    printed = read_pages(pdf, text_area(s), text_check(s))  # what it prints, read once
    starts, labels, chapter_pages, measures, anchor_pages, note_pos = read_layout(
        document, printed, job.chapter_ids, job.block_ids, job.block_seq, s, job.image_ids)
    return Rendered(pdf=pdf, page_labels=labels, chapter_pages=chapter_pages, starts=starts,
                    measures=measures, anchor_pages=anchor_pages, warnings=cap.messages,
                    note_pos=note_pos, cpu=_cpu_seconds() - started,
                    words=first_words(printed))



# --------------------------------------------------------------------------------------------
# Pieces: the book laid out part by part, in parallel worker processes


@dataclass
class PieceJob:
    kind: str  # front | chapter | overlay | stamps
    html: str
    css: list[str]
    settings: PrintSettings
    resources: dict[str, Resource]
    chapter: int = -1
    block_ids: dict[str, tuple[str, BlockPath]] = field(default_factory=dict)
    block_seq: dict[str, int] = field(default_factory=dict)
    text_area: tuple[float, float, float, float] | None = None  # where page words are read
    # layout only (pages and anchors, no PDF): the page numbers it prints are guesses, so it
    # will be laid out again once they are known
    probe: bool = False
    image_ids: dict[str, tuple[str, str]] = field(default_factory=dict)  # anchor -> (src, alt)


@dataclass
class RenderedPiece:
    kind: str
    chapter: int
    pdf: bytes
    pages: int
    starts: dict[str, list[tuple[BlockPath, int]]]  # chapter slug -> (block path, page) per page
    anchors: dict[str, int]  # anchor -> page (0-based, in the piece)
    measures: Measures
    bookmarks: list[Bookmark]
    words: list[tuple[tuple[str, ...], tuple[str, ...]]]  # first words printed, per page
    warnings: list[str] = field(default_factory=list)
    # footnotes, their calls and the words before them -> (page, y): see stage.note_breaks
    note_pos: dict[str, tuple[int, float]] = field(default_factory=dict)
    cpu: float = 0.0  # seconds of CPU it took to lay out (0 when it came from the cache)

    @property
    def probe(self) -> bool:
        """Laid out only, to count its pages (``PieceJob.probe``): no PDF."""
        return not self.pdf


def render_piece_here(job: PieceJob) -> RenderedPiece:
    """Lay out and write one piece (in whatever process calls it)."""
    import weasyprint

    from .measure import (anchor_pages, block_marks, bookmarks, measure, note_positions,
                          page_starts)

    started = _cpu_seconds()
    s = job.settings
    fetcher = SandboxFetcher(job.resources, s)
    logger = logging.getLogger("weasyprint")
    cap = _LogCapture()
    logger.addHandler(cap)
    try:
        fonts, sheets, profiles = _stylesheets(job.css, fetcher)
        html = weasyprint.HTML(string=job.html, base_url=ASSET_URL, url_fetcher=fetcher)
        document = html.render(font_config=fonts, stylesheets=sheets, color_profiles=profiles)
        if job.probe:
            return RenderedPiece(job.kind, job.chapter, b"", len(document.pages), {},
                                 anchor_pages(document), Measures(), [], [], cap.messages,
                                 cpu=_cpu_seconds() - started)
        blocks = block_marks(document)  # before the outline is read: not part of it
        marks = bookmarks(document) if s.bookmarks else []
        for page in document.pages:
            page.bookmarks = []  # the merge writes the book's one outline
        with fixed_font_timestamps():
            # uncompressed: read back as it is, then compressed faster (see deflate)
            pdf = document.write_pdf(full_fonts=s.full_fonts, pdf_tags=s.tagged,
                                     optimize_images=False, dpi=600 if s.for_print else 200,
                                     uncompressed_pdf=True)
        starts = (page_starts(document, job.block_ids, job.block_seq, blocks)
                  if job.block_ids else {})
        anchors = anchor_pages(document)
        notes = note_positions(document) if job.kind == "chapter" else {}
        pages = len(document.pages)
    finally:
        logger.removeHandler(cap)
    measures, words = Measures(), []
    if job.kind not in ("overlay", "stamps"):  # they print folios and running heads only
        area = job.text_area if job.kind == "chapter" else None
        printed = read_pages(pdf, area, text_check(s))  # what it prints, read once
        measures = measure(document, printed, s, job.image_ids)
        if area is not None:
            words = first_words(printed)
    pdf = deflate_streams(pdf)
    return RenderedPiece(job.kind, job.chapter, pdf, pages, starts, anchors, measures, marks,
                         words, cap.messages, notes, _cpu_seconds() - started)


def _cpu_seconds() -> float:
    """CPU time of this process and the programs it ran (pdftotext), for the report."""
    import resource

    own, kids = (resource.getrusage(who) for who in (resource.RUSAGE_SELF,
                                                      resource.RUSAGE_CHILDREN))
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


# the sheets every piece of a book shares (all but the piece's own, the last) -> their font
# configuration, colour profiles and every sheet parsed with them
_SHEETS: dict[str, tuple] = {}


def _stylesheets(css: list[str], fetcher) -> tuple:
    """The stylesheets parsed (about 40 ms of CPU for print.css and the component styles): once
    per worker process for all the pieces that share them. Only a piece's own sheet (the last:
    its folio, its kind) is parsed per piece, once for each distinct text, with the shared sheets'
    font configuration. Sheets naming a resource of their own (the PDF/X output intent) are
    parsed each time, with the piece's fetcher."""
    import hashlib

    import weasyprint
    from weasyprint.text.fonts import FontConfiguration

    if any(ASSET_URL in c for c in css):
        fonts, profiles = FontConfiguration(), {}
        return (fonts, [weasyprint.CSS(string=c, url_fetcher=fetcher, font_config=fonts,
                                       color_profiles=profiles) for c in css if c], profiles)
    key = hashlib.sha256("\0".join(css[:-1]).encode()).hexdigest()
    if key not in _SHEETS:
        if len(_SHEETS) >= 4:
            _SHEETS.pop(next(iter(_SHEETS)))
        _SHEETS[key] = (FontConfiguration(), {}, {})
    fonts, profiles, parsed = _SHEETS[key]
    for c in css:
        if c and c not in parsed:
            if len(parsed) >= 64:  # pieces' own sheets differ by folio: keep the shared ones
                for old in [t for t in parsed if t not in css[:-1]][:16]:
                    del parsed[old]
            parsed[c] = weasyprint.CSS(string=c, url_fetcher=fetcher, font_config=fonts,
                                       color_profiles=profiles)
    return fonts, [parsed[c] for c in css if c], profiles


def render_pieces(jobs: list[PieceJob], done: Callable[[], None] = lambda: None
                  ) -> list[RenderedPiece]:
    """Every job laid out in the layout's worker processes (one per core, the biggest pieces
    first, the stamps before them: laid out beside the chapters, they must not end the batch),
    the results in the jobs' order."""
    return workers.run(render_piece_here, jobs, done, cost=lambda job: (
        float("inf") if job.kind == "stamps" else len(job.html)))
