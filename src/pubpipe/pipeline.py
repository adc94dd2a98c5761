"""The build, in order. This is the one place that says which stage runs when.

read -> (context) -> embeds.detect -> sanitize -> math -> figures -> citations -> footnotes
-> embeds.render -> assets -> alt -> headings -> tables -> ids -> links -> print layout
(when an output needs it) -> writers. Each transform is a function of the book it is given (plus
the build context for the stages that need bytes or settings); stages report problems as
diagnostics, never by printing.
Writers never change the book, so every output is made from the same document; the print edition
is laid out once for all of them.
"""

from __future__ import annotations

import importlib
import os
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from . import config as config_mod
from . import budget
from .config import FORMATS
from .context import BuildContext, BuildOptions, cache_dir_for, open_store, page_list_wanted
from .document import Asset, Book, Chapter, Diagnostics
from .errors import BuildError, PubpipeError
from .progress import Progress
from .write import output

if TYPE_CHECKING:
    from .assets.store import AssetStore
    from .buildcache import CachedBuild, OutputCache
    from .layout import PrintEdition
    from .write.pdf.merge import ReadAhead

__all__ = ["FORMATS", "BuildOptions", "BuildResult", "build", "cache_dir_for", "prepare"]

LAYOUT_PROFILES = ("print",)  # the image variants the print layout needs
COVER_PRESETS = ("kdp", "lulu", "ingramspark")


_STARTED: float | None = None  # when the build being made started (time.perf_counter())

# the cover is the PDF writer's second output: write/pdf/cover.py
_WRITER_MODULES = {"cover": "pdf.cover"}


def _writer(fmt: str) -> ModuleType:
    """The writer module of a format: ``write_<fmt>`` and ``PROFILES`` (the image variants it
    needs). Imported when asked for, so an EPUB build never loads the PDF writer."""
    if fmt not in FORMATS:
        raise BuildError(f"unknown format {fmt!r}")
    return importlib.import_module(f".write.{_WRITER_MODULES.get(fmt, fmt)}", __package__)


@dataclass
class BuildResult:
    book: Book | None
    outputs: dict[str, Path] = field(default_factory=dict)
    diagnostics: Diagnostics = field(default_factory=Diagnostics)
    context: BuildContext | None = None  # the store (requests made, every asset) and settings
    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage, for the report
    assets: list[Asset] = field(default_factory=list)  # every image the build asked for
    requests: int = 0  # network requests made
    reused: bool = False  # the outputs of an earlier build with the same inputs (buildcache)
    cache_dir: Path | None = None  # the cache the build used (pruned after it)


def needs_layout(ctx: BuildContext) -> bool:
    """A print edition is made for the PDF, and for the EPUB's page-list when it carries one."""
    return _lays_out(ctx.config, ctx.options.formats)


def _lays_out(cfg: config_mod.Config, formats: tuple[str, ...]) -> bool:
    return "pdf" in formats or "cover" in formats or ("epub" in formats
                                                      and page_list_wanted(cfg))


def _profiles(cfg: config_mod.Config, formats: tuple[str, ...]) -> tuple[str, ...]:
    """The image variants the outputs need (the writers' and, when laid out, the print's)."""
    wanted = {p for f in formats for p in _writer(f).PROFILES}
    if _lays_out(cfg, formats):
        wanted.update(LAYOUT_PROFILES)
    return tuple(p for p in ("epub", "print") if p in wanted)


def _printed(formats: tuple[str, ...]) -> bool:
    return "pdf" in formats or "cover" in formats


def prepare(cfg: config_mod.Config, opts: BuildOptions, progress: Progress | None = None,
            diagnostics: Diagnostics | None = None) -> tuple[Book, BuildContext]:
    """Read the sources and run every transform: the document the writers consume.
    diagnostics: the list the build reports to (what came before reading is kept)."""
    # Markdown, html5lib and the transforms are imported by the stages, not at the top: a build
    # whose outputs come from the cache never needs them.
    budget.doing("reading the chapters")
    progress = progress or Progress.of(opts.progress)
    diags = diagnostics if diagnostics is not None else Diagnostics()
    opts.formats = wanted_formats(cfg, opts.formats)
    profiles = _profiles(cfg, opts.formats)
    store = open_store(cfg, opts, diags, progress)
    if _lays_out(cfg, opts.formats):
        _start_workers(store)
    try:
        book, ctx = _read(cfg, opts, store, diags, progress, profiles)
        return _transform(book, ctx, cfg, profiles), ctx
    finally:
        store.stop_prefetching()  # a build that failed before its images stage


def _read(cfg: config_mod.Config, opts: BuildOptions, store: AssetStore, diags: Diagnostics,
          progress: Progress, profiles: tuple[str, ...]) -> tuple[Book, BuildContext]:
    from .layout import bounds
    from .readers import read_book
    from .readers.cache import ChapterCache
    from .resources import code_fingerprint
    from .transforms import assets

    with progress.stage("read", len(cfg.chapter_files), "chapters") as advance:
        def read(chapter: Chapter) -> None:
            # its local images are processed while the next chapters are read (a second core)
            assets.prefetch(chapter, store, profiles)
            advance()

        book = read_book(cfg, ChapterCache(store, code_fingerprint()), diags, read)
    if book.diagnostics.errors:  # unreadable sources: stop before any network or image work
        raise BuildError(f"{len(book.diagnostics.errors)} error(s); nothing written",
                         book.diagnostics)
    ctx = BuildContext.create(cfg, opts, book.meta.language, book.diagnostics, progress, store)
    if _printed(opts.formats):  # a chapter too long to lay out fails now, not after minutes
        for e in bounds.too_long(book, ctx.print):
            ctx.diagnostics.error("print-too-long", bounds.message(e), e.chapter.source, 1)
        _check(ctx)
    return book, ctx


def _start_workers(store: AssetStore) -> None:
    """Start the layout's forkserver now: it readies WeasyPrint (about a second of one core)
    while this process reads, and the photos are processed in workers forked from it, on the
    other core, not in threads that would share this process's GIL with the reader."""
    from .layout import workers

    if workers.in_process():
        return
    from .assets import images

    workers.prestart()
    images.load_decoders()  # once here, not in each of the workers forked from this process
    store.prefetch_in(workers.Background(fork_now=True))


def _transform(book: Book, ctx: BuildContext, cfg: config_mod.Config,
               profiles: tuple[str, ...]) -> Book:
    from . import embeds
    from .readers.math import site_math
    from .transforms import (alt, assets, citations, figures, footnotes, headings, ids, links,
                             math, sanitize, tables)

    progress = ctx.progress
    budget.doing("transforming the chapters")
    with progress.stage("transform"):
        embeds.detect(book)  # before sanitizing: embed markup is mostly what the sanitizer removes
        sanitize.run(book)
        found = site_math(cfg.root)
        book.files_read += found.files  # its config and templates say whether $…$ is math
        math.run(book, {**(found.macros or {}), **cfg.math.macros})
        figures.run(book)
        citations.run(book)
        footnotes.run(book)
    budget.doing("fetching and processing images and embeds")
    with progress.stage("embeds"):
        embeds.render(book, ctx.store)
    with progress.stage("images"):
        assets.run(book, ctx.store, profiles)
    with progress.stage("document"):
        alt.run(book)
        headings.run(book)
        tables.run(book)
        ids.run(book)
        links.run(book)
    return book


def wanted_formats(cfg: config_mod.Config, formats: tuple[str, ...]) -> tuple[str, ...]:
    """The formats to write: every format ("all") writes the cover only for a print-on-demand
    preset, the one kind of book whose printer asks for it."""
    if set(formats) >= set(FORMATS) and cfg.pdf.preset not in COVER_PRESETS:
        return tuple(f for f in formats if f != "cover")
    return tuple(formats)


def _check(ctx: BuildContext) -> None:
    diags = ctx.diagnostics
    ctx.checks.append(len(diags))  # so that a build from the output cache fails at the same point
    if diags.errors:
        raise BuildError(f"{len(diags.errors)} error(s); nothing written", diags)
    if ctx.options.strict and diags.warnings:
        raise BuildError(f"--strict: {len(diags.warnings)} warning(s); nothing written", diags)


def build(cfg: config_mod.Config, opts: BuildOptions) -> BuildResult:
    """Build every requested format. Raises BuildError when the build fails (nothing written),
    also when it takes longer than opts.time_limit or meets a bug (named by what it was doing;
    --debug, which sets PUBPIPE_DEBUG, lets the bug through with its traceback)."""
    global _STARTED
    # the first build of a process counts from the process's start (its imports are part of it)
    _STARTED = time.perf_counter() - ((_process_age() or 0.0) if _STARTED is None else 0.0)
    try:
        with budget.limit(opts.time_limit):
            return _build(cfg, opts)
    except (PubpipeError, KeyboardInterrupt):
        raise
    except Exception as e:  # noqa: BLE001 - a bug in pubpipe, or MemoryError/RecursionError
        if os.environ.get("PUBPIPE_DEBUG"):
            raise
        raise BuildError(f"internal error while {budget.activity()}: {type(e).__name__}: {e}"
                         " (a bug in pubpipe; run again with --debug for details)") from None


def _lay_out(book: Book, ctx: BuildContext, opts: BuildOptions,
             ahead: ReadAhead | None = None) -> PrintEdition | None:
    from .layout.stage import lay_out

    budget.doing("laying out the print edition")
    if _STARTED is not None:  # for the report: how long it takes to get to the layout
        ctx.progress.timings["layout starts at"] = round(time.perf_counter() - _STARTED, 3)
    try:  # the front matter and the merge are wanted only by printed outputs
        return lay_out(book, ctx, pdf=_printed(opts.formats),
                       chapters_done=ahead.start if ahead is not None else None)
    except budget.BuildTimeout:
        raise
    except Exception as e:
        if "pdf" in opts.formats:
            raise
        # the EPUB is still good without page numbers
        ctx.diagnostics.warn("epub-page-numbers", f"print page numbers left out: laying out"
                             f" the print edition failed ({e})")
        return None


def _process_age() -> float | None:
    """Seconds since this process started (Linux; None elsewhere)."""
    try:
        with open("/proc/self/stat") as f:
            started = int(f.read().rsplit(")", 1)[1].split()[19]) / os.sysconf("SC_CLK_TCK")
        return time.clock_gettime(time.CLOCK_BOOTTIME) - started
    except (OSError, ValueError, IndexError, AttributeError):
        return None


def _build(cfg: config_mod.Config, opts: BuildOptions) -> BuildResult:
    out_dir = Path(opts.out_dir) if opts.out_dir else cfg.book_dir / "build"
    for folder in {Path(opts.output).parent if opts.output else out_dir}:
        output.check_target(folder / ".pubpipe-check")  # a file in the way fails before any work
        output.remove_stale_temp_files(folder)
    opts.formats = wanted_formats(cfg, opts.formats)
    progress = Progress.of(opts.progress)
    early = Diagnostics()  # what looking into the output cache found (a damaged entry)
    reuse = None
    if opts.reuse_outputs:
        budget.doing("looking for the outputs of an earlier build")
        with progress.stage("check cache"):
            reuse = _output_cache(cfg, opts, out_dir, early)
            cached = reuse.lookup() if reuse is not None else None
        if cached is not None:
            result = _replay(cached, opts, out_dir, progress)
            result.cache_dir = reuse.store.cache_dir
            return result
    n_early = len(early)
    book, ctx = prepare(cfg, opts, progress, early)
    result = BuildResult(book=book, diagnostics=ctx.diagnostics, context=ctx,
                         timings=ctx.progress.timings,  # seconds per stage, as they run
                         cache_dir=ctx.cache_dir)
    _check(ctx)

    edition = None
    replayable = True
    # the PDF writer reads the chapters' pieces while the layout still makes the rest (a thread
    # that ends when it has read them, or when the writer takes them)
    ahead = _writer("pdf").ReadAhead() if "pdf" in opts.formats else None
    if needs_layout(ctx):
        from .layout import bounds


        # (printed outputs were checked in prepare; the EPUB is still good without page numbers)
        unprintable = [] if _printed(opts.formats) else bounds.too_long(book, ctx.print)
        for e in unprintable:
            ctx.diagnostics.warn("epub-page-numbers", "print page numbers left out: "
                                 + bounds.message(e).split(";")[0], e.chapter.source, 1)
        if not unprintable:
            edition = _lay_out(book, ctx, opts, ahead)
            # an EPUB without its page numbers because the layout failed (a worker killed, out of
            # memory): not kept for reuse, so the next build lays out again
            replayable = edition is not None

    rendered: dict[str, bytes] = {}
    for fmt in opts.formats:
        budget.doing(f"writing the {fmt.upper()}")
        with ctx.progress.stage(f"write {fmt}"):
            if fmt == "epub":  # the EPUB reads only the page map of the print edition
                page_map = edition.page_map if edition and ctx.wants_page_list else None
                rendered[fmt] = _writer(fmt).write_epub(book, ctx, page_map)
            elif fmt == "pdf" and edition is not None:
                rendered[fmt] = _writer(fmt).write_pdf(book, ctx, edition, ahead)
            elif fmt == "html":
                rendered[fmt] = _writer(fmt).write_html(book, ctx)
            elif fmt == "cover" and edition is not None:  # sized by the interior's page count
                rendered[fmt] = _writer(fmt).write_cover(book, ctx, edition)
    # Writers may add diagnostics too (e.g. PDF preflight); --strict judges them all.
    _check(ctx)

    names = {fmt: f"{book.slug}-cover.pdf" if fmt == "cover" else f"{book.slug}.{fmt}"
             for fmt in rendered}
    with ctx.progress.stage("write files"):
        targets = {fmt: Path(opts.output) if opts.output else out_dir / names[fmt]
                   for fmt in rendered}
        output.write_all({targets[fmt]: data for fmt, data in rendered.items()})  # all or none
        result.outputs.update(targets)
    result.assets = ctx.store.registered()
    result.requests = ctx.store.requests_made
    # A build that met a damaged cache entry says so, and the next full build would not; a
    # damaged entry of the output cache itself is said by this build only.
    said = ctx.diagnostics[n_early:]
    if reuse is not None and replayable and not result.requests \
            and not any(d.code == "cache-damaged" for d in said):
        with ctx.progress.stage("cache outputs"):
            reuse.save({fmt: (names[fmt], data) for fmt, data in rendered.items()},
                       said, [n - n_early for n in ctx.checks], result.assets,
                       _files_read(cfg, result.assets, book.files_read),
                       ctx.store.network_reads, _local_hashes(result.assets))
    return result


def _output_cache(cfg: config_mod.Config, opts: BuildOptions, out_dir: Path,
                  diagnostics: Diagnostics) -> OutputCache | None:
    """The output cache of this build, or None when the book is too large to hash each time."""
    from .assets.store import AssetStore
    from .buildcache import OutputCache

    store = AssetStore(cfg.root, cache_dir_for(cfg, opts), cfg.assets, offline=opts.offline,
                       diagnostics=diagnostics)
    cache = OutputCache(cfg, opts, store, [Path(opts.output) if opts.output else out_dir])
    return cache if cache.usable else None


def _replay(cached: CachedBuild, opts: BuildOptions, out_dir: Path,
            progress: Progress) -> BuildResult:
    """Write what an earlier build with the same inputs wrote, and fail as it would have under
    --strict: at the first check that saw a warning, with what had been said by then."""
    diags = cached.diagnostics
    if opts.strict:
        for n in cached.checks:
            found = Diagnostics(diags[:n])
            if found.warnings:
                raise BuildError(f"--strict: {len(found.warnings)} warning(s); nothing written",
                                 found)
    with progress.stage("write files"):
        targets = {fmt: Path(opts.output) if opts.output else out_dir / name
                   for fmt, (name, _) in cached.outputs.items()}
        output.write_all({targets[fmt]: data for fmt, (_, data) in cached.outputs.items()})
    return BuildResult(book=None, outputs=targets, diagnostics=diags, timings=progress.timings,
                       assets=cached.assets, reused=True)


def _local_path(asset: Asset) -> Path | None:
    """The book file a local image was read from (None for other images)."""
    if not asset.url.startswith("file:"):
        return None
    return Path(urllib.parse.unquote(urllib.parse.urlsplit(asset.url).path))


def _local_hashes(assets: list[Asset]) -> dict[Path, str]:
    """The SHA-256 of each local image's bytes as the store read them."""
    return {path: a.sha256 for a in assets
            if a.ok and a.sha256 and (path := _local_path(a)) is not None}


def _files_read(cfg: config_mod.Config, assets: list[Asset], extra: list[Path]) -> list[Path]:
    """The files a build read (chapters, book.toml, the site's config, the [epub]/[pdf] css
    files, the include files chapters read, cover, local images), wherever they are. A file listed
    here is hashed on every lookup; any other is seen changed only by its size and mtime, which
    `cp -p` or `touch -r` keep."""
    files = [*cfg.chapter_files]
    if cfg.config_file is not None:
        files.append(cfg.config_file)
    if cfg.site is not None and cfg.site.config_file is not None:
        files.append(cfg.site.config_file)
    files += [Path(css) for css in (cfg.epub.css, cfg.pdf.css) if css]
    files += extra
    if cfg.book.cover:
        files.append(cfg.root / cfg.book.cover)
    files += [path for a in assets if (path := _local_path(a)) is not None]
    return files
