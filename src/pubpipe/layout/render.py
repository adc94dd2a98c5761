"""Rendering print markup with WeasyPrint, in a worker process.

WeasyPrint does not give its memory back to the OS, so every render runs in a fresh child
process (``max_tasks_per_child=1``) started by a forkserver that has WeasyPrint preloaded; the
pool's processes exit with the parent, also when it is killed (a watchdog thread and Linux's
parent-death signal), and at the build's time budget. WeasyPrint may read nothing but the resolved asset files
and ``data:`` URIs (``_SandboxFetcher``). Set ``PUBPIPE_PDF_INPROCESS=1`` to render in this
process (debugging, platforms without fork).
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import signal
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .. import budget
from ..document import read_regular_file
from .edition import BlockPath, Bookmark, Measures
from .measure import read_layout
from .settings import PrintSettings, icc_profile
from .styles import ASSET_URL


@dataclass
class RenderJob:
    """Everything a worker needs: plain data, sent to the child process."""

    html: str
    css: list[str]
    settings: PrintSettings
    resources: dict[str, tuple[Path, str]]  # URL -> (file, media type) the fetcher may serve
    chapter_ids: list[str]
    block_ids: dict[str, tuple[str, BlockPath]]  # anchor -> (chapter slug, block path)
    block_seq: dict[str, int]  # anchor -> document order
    deadline: float = 0.0  # time.time() after which the worker ends itself (the build's budget)


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


class _SandboxFetcher:
    """Serves the resolved asset files and data: URIs; everything else is refused.

    With settings asking for grayscale, CMYK or no transparency, raster images are converted on
    the way in (the cached assets stay as they are).
    """

    def __new__(cls, allowed: dict[str, tuple[Path, str]], settings: PrintSettings | None = None):
        from weasyprint.urls import URLFetcher, URLFetcherResponse

        class Fetcher(URLFetcher):
            def fetch(self, url, headers=None):
                if url in allowed:
                    path, media_type = allowed[url]
                    data = read_regular_file(Path(path))  # a cache file, never a link
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



_POOL = None


def _ignore_interrupt() -> None:
    """Ctrl+C is the parent's to handle (it says so in one line); a worker just ends with it."""

    signal.signal(signal.SIGINT, signal.SIG_IGN)


@contextlib.contextmanager
def _budget_held():
    """Hold the build's time-budget signal while worker processes are being started.

    Starting one is a handshake with the forkserver; the budget's exception in the middle of it
    leaves the forkserver with half a request, and it prints a traceback after the build ended.
    The signal is delivered as soon as the workers exist, and the caller then kills them.
    """
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGALRM})


def render(job: RenderJob) -> Rendered:
    """Render in a child process: WeasyPrint's memory is not given back to the OS otherwise.

    A forkserver (with WeasyPrint preloaded) starts each render from a clean, small process; set
    PUBPIPE_PDF_INPROCESS=1 to render in this process (debugging, platforms without fork).
    """
    if os.environ.get("PUBPIPE_PDF_INPROCESS") or os.name != "posix":
        return render_here(job)
    import atexit
    import concurrent.futures
    import multiprocessing

    global _POOL
    try:
        if _POOL is None:
            ctx = multiprocessing.get_context("forkserver")
            ctx.set_forkserver_preload(["weasyprint", "pubpipe.layout.render"])
            # one task per worker: each render gets a fresh process, freed when it ends
            _POOL = concurrent.futures.ProcessPoolExecutor(
                max_workers=1, mp_context=ctx, max_tasks_per_child=1,
                initializer=_worker_start, initargs=(os.getpid(),))
            # shut down before interpreter teardown, or the executor's callbacks fail noisily
            atexit.register(_POOL.shutdown, wait=True)
        with _budget_held():
            future = _POOL.submit(render_here, job)
    except (OSError, RuntimeError, ValueError):
        _POOL = None
        return render_here(job)
    try:
        return future.result()
    except concurrent.futures.process.BrokenProcessPool:
        _POOL = None  # the child died (out of memory, a crash in a C library): try here once
        return render_here(job)


def _worker_start(build_pid: int) -> None:
    """In each render worker: Ctrl+C is the parent's to handle; die with the build (kill -9 of
    it included), never outlive it."""
    global _IN_WORKER
    _IN_WORKER = True
    _ignore_interrupt()
    budget.watch_from_worker(build_pid)


_IN_WORKER = False


class _LogCapture(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def render_here(job: RenderJob) -> Rendered:
    import weasyprint

    if _IN_WORKER and job.deadline:
        budget.watch_from_worker(os.getppid(), job.deadline)  # the budget holds here too
    from weasyprint.text.fonts import FontConfiguration

    s = job.settings
    fetcher = _SandboxFetcher(job.resources, s)
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
        starts, labels, chapter_pages, measures, anchor_pages, note_pos = read_layout(
            document, job.chapter_ids, job.block_ids, job.block_seq, s)
        # images denser than needed are scaled down (never up): 600 ppi keeps print sharp
        options = dict(full_fonts=s.full_fonts, pdf_variant=s.variant or None,
                       pdf_tags=s.tagged, optimize_images=False,
                       dpi=600 if s.for_print else 200)
        if not s.bookmarks:
            for page in document.pages:
                page.bookmarks = []
        pdf = document.write_pdf(**options)
    finally:
        logger.removeHandler(cap)
    return Rendered(pdf=pdf, page_labels=labels, chapter_pages=chapter_pages, starts=starts,
                    measures=measures, anchor_pages=anchor_pages, warnings=cap.messages,
                    note_pos=note_pos)



# --------------------------------------------------------------------------------------------
# Pieces: the book laid out part by part, in parallel worker processes


@dataclass
class PieceJob:
    kind: str  # front | chapter | overlay
    html: str
    css: list[str]
    settings: PrintSettings
    resources: dict[str, tuple[Path, str]]
    chapter: int = -1
    block_ids: dict[str, tuple[str, BlockPath]] = field(default_factory=dict)
    block_seq: dict[str, int] = field(default_factory=dict)
    text_area: tuple[float, float, float, float] | None = None  # where page words are read


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


def render_piece_here(job: PieceJob) -> RenderedPiece:
    """Lay out and write one piece (in whatever process calls it)."""
    import weasyprint

    from .measure import anchor_pages, bookmarks, measure, note_positions, page_starts
    from .pagemap import first_words

    s = job.settings
    fetcher = _SandboxFetcher(job.resources, s)
    logger = logging.getLogger("weasyprint")
    cap = _LogCapture()
    logger.addHandler(cap)
    try:
        fonts, sheets, profiles = _stylesheets(job.css, fetcher)
        html = weasyprint.HTML(string=job.html, base_url=ASSET_URL, url_fetcher=fetcher)
        document = html.render(font_config=fonts, stylesheets=sheets, color_profiles=profiles)
        marks = bookmarks(document) if s.bookmarks else []
        for page in document.pages:
            page.bookmarks = []  # the merge writes the book's one outline
        pdf = document.write_pdf(full_fonts=s.full_fonts, pdf_tags=s.tagged,
                                 optimize_images=False, dpi=600 if s.for_print else 200)
        starts = page_starts(document, job.block_ids, job.block_seq) if job.block_ids else {}
        measures = measure(document, s) if job.kind != "overlay" else Measures()
        anchors = anchor_pages(document)
        notes = note_positions(document) if job.kind == "chapter" else {}
        pages = len(document.pages)
    finally:
        logger.removeHandler(cap)
    words = first_words(pdf, pages, job.text_area) if job.kind == "chapter" else []
    return RenderedPiece(job.kind, job.chapter, pdf, pages, starts, anchors, measures, marks,
                         words, cap.messages, notes)


_SHEETS: dict[str, tuple] = {}  # stylesheets' hash -> (font configuration, parsed, profiles)


def _stylesheets(css: list[str], fetcher) -> tuple:
    """The stylesheets parsed (about a second for print.css): once per worker process for the
    pieces that share them. Sheets naming a resource of their own (the PDF/X output intent) are
    parsed each time, with the piece's fetcher."""
    import hashlib

    import weasyprint
    from weasyprint.text.fonts import FontConfiguration

    key = hashlib.sha256("\0".join(css).encode()).hexdigest()
    if key in _SHEETS:
        return _SHEETS[key]
    fonts, profiles = FontConfiguration(), {}
    parsed = (fonts, [weasyprint.CSS(string=c, url_fetcher=fetcher, font_config=fonts,
                                     color_profiles=profiles) for c in css if c], profiles)
    if not any(ASSET_URL in c for c in css):
        if len(_SHEETS) >= 4:
            _SHEETS.pop(next(iter(_SHEETS)))
        _SHEETS[key] = parsed
    return parsed


def _worker_init(build_pid: int = 0) -> None:
    """Workers die with the process that started them, and leave Ctrl-C to the parent."""

    if build_pid:  # the forkserver may outlive the build: watch the build itself too
        budget.watch_from_worker(build_pid)

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG: killed when the parent dies
    except (OSError, AttributeError):
        pass


def render_pieces(jobs: list[PieceJob], done: Callable[[], None] = lambda: None
                  ) -> list[RenderedPiece]:
    """Every job laid out, in parallel worker processes (one per core), in the jobs' order.

    A forkserver with WeasyPrint preloaded starts the workers; a pool of workers lays out a
    batch of a few pieces each and is then shut down, so memory WeasyPrint keeps is given back
    (one pool per batch: CPython 3.11's max_tasks_per_child can hang with many tasks queued).
    Workers are killed when this process dies (PR_SET_PDEATHSIG) and ignore Ctrl-C, which the
    parent handles.
    """
    if not jobs:
        return []
    workers = min(len(jobs), os.cpu_count() or 1)
    if os.environ.get("PUBPIPE_PDF_INPROCESS") or os.name != "posix":
        out = []
        for job in jobs:
            out.append(render_piece_here(job))
            done()
        return out
    import concurrent.futures
    import multiprocessing

    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["weasyprint", "pubpipe.layout.render", "pubpipe.layout.warm"])
    results: list[RenderedPiece | None] = [None] * len(jobs)
    batch = workers * PIECES_PER_WORKER
    for start in range(0, len(jobs), batch):
        pool = concurrent.futures.ProcessPoolExecutor(max_workers=workers, mp_context=ctx,
                                                      initializer=_worker_init,
                                                      initargs=(os.getpid(),))
        try:
            with _budget_held():
                futures = {pool.submit(render_piece_here, jobs[i]): i
                           for i in range(start, min(start + batch, len(jobs)))}
            for future in concurrent.futures.as_completed(futures):
                results[futures[future]] = future.result()
                done()
        except BaseException:
            # the budget ran out, Ctrl-C, an error: end the pieces still being laid out now, or
            # the interpreter's exit waits for them (minutes) after the error was reported
            for proc in list((getattr(pool, "_processes", None) or {}).values()):
                proc.kill()
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        pool.shutdown(wait=True)
    return [r for r in results if r is not None]


PIECES_PER_WORKER = 8  # then a fresh process: WeasyPrint does not give memory back
