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
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

from . import config as config_mod
from . import budget, embeds
from .context import BuildContext, BuildOptions, cache_dir_for
from .document import Book, Diagnostics
from .layout import PrintEdition, bounds
from .errors import BuildError, PubpipeError
from .config import FORMATS
from .progress import Progress
from .readers import read_book
from .readers.math import site_math
from .transforms import (alt, assets, citations, figures, footnotes, headings, ids, links, math,
                         sanitize, tables)
from .write import output

__all__ = ["FORMATS", "BuildOptions", "BuildResult", "build", "cache_dir_for", "prepare"]

LAYOUT_PROFILES = ("print",)  # the image variants the print layout needs
COVER_PRESETS = ("kdp", "lulu", "ingramspark")


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


def needs_layout(ctx: BuildContext) -> bool:
    """A print edition is made for the PDF, and for the EPUB's page-list when it carries one."""
    formats = ctx.options.formats
    return "pdf" in formats or "cover" in formats or ("epub" in formats and ctx.wants_page_list)


def _printed(formats: tuple[str, ...]) -> bool:
    return "pdf" in formats or "cover" in formats


def prepare(cfg: config_mod.Config, opts: BuildOptions) -> tuple[Book, BuildContext]:
    """Read the sources and run every transform: the document the writers consume."""
    budget.doing("reading the chapters")
    progress = Progress.of(opts.progress)
    with progress.stage("read", len(cfg.chapter_files), "chapters") as advance:
        book = read_book(cfg)
        for _ in book.chapters:
            advance()
    if book.diagnostics.errors:  # unreadable sources: stop before any network or image work
        raise BuildError(f"{len(book.diagnostics.errors)} error(s); nothing written",
                         book.diagnostics)
    opts.formats = wanted_formats(cfg, opts.formats)
    ctx = BuildContext.create(cfg, opts, book.meta.language, book.diagnostics, progress)
    if _printed(opts.formats):  # a chapter too long to lay out fails now, not after minutes
        for e in bounds.too_long(book, ctx.print):
            ctx.diagnostics.error("print-too-long", bounds.message(e), e.chapter.source, 1)
        _check(ctx)
    profiles = {p for f in opts.formats for p in _writer(f).PROFILES}
    if needs_layout(ctx):
        profiles.update(LAYOUT_PROFILES)
        from .layout.workers import prestart

        prestart()  # the layout's workers get WeasyPrint ready while the chapters are transformed
    budget.doing("transforming the chapters")
    with progress.stage("transform"):
        embeds.detect(book)  # before sanitizing: embed markup is mostly what the sanitizer removes
        sanitize.run(book)
        math.run(book, {**(site_math(cfg.root).macros or {}), **cfg.math.macros})
        figures.run(book)
        citations.run(book)
        footnotes.run(book)
    budget.doing("fetching and processing images and embeds")
    with progress.stage("embeds"):
        embeds.render(book, ctx.store)
    with progress.stage("images"):
        assets.run(book, ctx.store, tuple(p for p in ("epub", "print") if p in profiles))
    with progress.stage("document"):
        alt.run(book)
        headings.run(book)
        tables.run(book)
        ids.run(book)
        links.run(book)
    return book, ctx


def wanted_formats(cfg: config_mod.Config, formats: tuple[str, ...]) -> tuple[str, ...]:
    """The formats to write: every format ("all") writes the cover only for a print-on-demand
    preset, the one kind of book whose printer asks for it."""
    if set(formats) >= set(FORMATS) and cfg.pdf.preset not in COVER_PRESETS:
        return tuple(f for f in formats if f != "cover")
    return tuple(formats)


def _check(ctx: BuildContext) -> None:
    diags = ctx.diagnostics
    if diags.errors:
        raise BuildError(f"{len(diags.errors)} error(s); nothing written", diags)
    if ctx.options.strict and diags.warnings:
        raise BuildError(f"--strict: {len(diags.warnings)} warning(s); nothing written", diags)


def build(cfg: config_mod.Config, opts: BuildOptions) -> BuildResult:
    """Build every requested format. Raises BuildError when the build fails (nothing written),
    also when it takes longer than opts.time_limit or meets a bug (named by what it was doing;
    --debug, which sets PUBPIPE_DEBUG, lets the bug through with its traceback)."""
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


def _lay_out(book: Book, ctx: BuildContext, opts: BuildOptions) -> PrintEdition | None:
    from .layout.stage import lay_out

    budget.doing("laying out the print edition")
    try:  # the front matter and the merge are wanted only by printed outputs
        return lay_out(book, ctx, pdf=_printed(opts.formats))
    except budget.BuildTimeout:
        raise
    except Exception as e:
        if "pdf" in opts.formats:
            raise
        # the EPUB is still good without page numbers
        ctx.diagnostics.warn("epub-page-numbers", f"print page numbers left out: laying out"
                             f" the print edition failed ({e})")
        return None


def _build(cfg: config_mod.Config, opts: BuildOptions) -> BuildResult:
    out_dir = Path(opts.out_dir) if opts.out_dir else cfg.book_dir / "build"
    for folder in {Path(opts.output).parent if opts.output else out_dir}:
        output.check_target(folder / ".pubpipe-check")  # a file in the way fails before any work
        output.remove_stale_temp_files(folder)
    book, ctx = prepare(cfg, opts)
    result = BuildResult(book=book, diagnostics=ctx.diagnostics, context=ctx,
                         timings=ctx.progress.timings)  # seconds per stage, as they run
    _check(ctx)

    edition = None
    if needs_layout(ctx):
        # (printed outputs were checked in prepare; the EPUB is still good without page numbers)
        unprintable = [] if _printed(opts.formats) else bounds.too_long(book, ctx.print)
        for e in unprintable:
            ctx.diagnostics.warn("epub-page-numbers", "print page numbers left out: "
                                 + bounds.message(e).split(";")[0], e.chapter.source, 1)
        if not unprintable:
            edition = _lay_out(book, ctx, opts)

    rendered: dict[str, bytes] = {}
    for fmt in opts.formats:
        budget.doing(f"writing the {fmt.upper()}")
        with ctx.progress.stage(f"write {fmt}"):
            if fmt == "epub":  # the EPUB reads only the page map of the print edition
                page_map = edition.page_map if edition and ctx.wants_page_list else None
                rendered[fmt] = _writer(fmt).write_epub(book, ctx, page_map)
            elif fmt == "pdf" and edition is not None:
                rendered[fmt] = _writer(fmt).write_pdf(book, ctx, edition)
            elif fmt == "html":
                rendered[fmt] = _writer(fmt).write_html(book, ctx)
            elif fmt == "cover" and edition is not None:  # sized by the interior's page count
                rendered[fmt] = _writer(fmt).write_cover(book, ctx, edition)
    # Writers may add diagnostics too (e.g. PDF preflight); --strict judges them all.
    _check(ctx)

    with ctx.progress.stage("write files"):
        targets = {}
        for fmt in rendered:
            name = f"{book.slug}-cover.pdf" if fmt == "cover" else f"{book.slug}.{fmt}"
            targets[fmt] = Path(opts.output) if opts.output else out_dir / name
        output.write_all({targets[fmt]: data for fmt, data in rendered.items()})  # all or none
        result.outputs.update(targets)
    return result
