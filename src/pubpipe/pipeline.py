"""The build, in order. This is the one place that says which stage runs when.

read -> embeds.detect -> sanitize -> figures -> citations -> footnotes -> embeds.render -> assets
-> ids -> write. Each stage is a function of the book it is given (plus the asset store for the
stages that need bytes); stages report problems as diagnostics on the book, never by printing.
Writers never change the book, so every output is made from the same document.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from . import config as config_mod
from .assets.store import AssetStore
from .document import Book, Diagnostics
from .errors import BuildError
from .readers import read_book
from .transforms import assets, citations, figures, footnotes, ids, sanitize
from . import embeds
from .write import output

FORMATS = ("epub", "pdf", "html")


@dataclass
class BuildOptions:
    formats: tuple[str, ...] = ("epub", "pdf")
    out_dir: Path | None = None  # default: <book>/build
    output: Path | None = None  # exactly this file (one format only)
    cache_dir: Path | None = None
    offline: bool = False
    strict: bool = False
    report: Path | None = None
    progress: bool = False


@dataclass
class BuildResult:
    book: Book | None
    outputs: dict[str, Path] = field(default_factory=dict)
    diagnostics: Diagnostics = field(default_factory=Diagnostics)


def cache_dir_for(cfg: config_mod.Config, opts: BuildOptions) -> Path:
    if opts.cache_dir:
        return Path(opts.cache_dir).resolve()
    if cfg.assets.cache_dir:
        return (cfg.root / cfg.assets.cache_dir).resolve()
    return cfg.root / ".pubpipe-cache"


def prepare(cfg: config_mod.Config, opts: BuildOptions) -> tuple[Book, AssetStore]:
    """Read the sources and run every transform: the document the writers consume."""
    book = read_book(cfg)
    if book.diagnostics.errors:  # unreadable sources: stop before any network or image work
        raise _fail(book, f"{len(book.diagnostics.errors)} error(s); nothing written")
    store = AssetStore(book.root, cache_dir_for(cfg, opts), cfg.assets, offline=opts.offline,
                       diagnostics=book.diagnostics, progress=opts.progress)
    profiles = tuple(p for p, fmts in (("epub", ("epub", "html")), ("print", ("pdf",)))
                     if any(f in opts.formats for f in fmts))
    embeds.detect(book)  # before sanitizing: embed markup is mostly what the sanitizer removes
    sanitize.run(book)
    figures.run(book)
    citations.run(book)
    footnotes.run(book)
    embeds.render(book, store)
    assets.run(book, store, profiles)
    ids.run(book)
    return book, store


def _fail(book: Book, message: str) -> BuildError:
    err = BuildError(message)
    err.diagnostics = book.diagnostics
    return err


def build(cfg: config_mod.Config, opts: BuildOptions) -> BuildResult:
    """Build every requested format. Raises BuildError when the build fails (nothing written)."""
    book, store = prepare(cfg, opts)
    result = BuildResult(book=book, diagnostics=book.diagnostics)
    if book.diagnostics.errors:
        raise _fail(book, f"{len(book.diagnostics.errors)} error(s); nothing written")
    if opts.strict and book.diagnostics.warnings:
        raise _fail(book, f"--strict: {len(book.diagnostics.warnings)} warning(s); nothing written")

    rendered: dict[str, bytes] = {}
    for fmt in opts.formats:
        rendered[fmt] = _writer(fmt)(book, store)
    # Writers may add diagnostics too (e.g. PDF preflight); --strict judges them all.
    if opts.strict and book.diagnostics.warnings:
        raise _fail(book, f"--strict: {len(book.diagnostics.warnings)} warning(s); nothing written")
    if book.diagnostics.errors:
        raise _fail(book, f"{len(book.diagnostics.errors)} error(s); nothing written")

    out_dir = Path(opts.out_dir) if opts.out_dir else cfg.root / "build"
    for fmt, data in rendered.items():
        target = Path(opts.output) if opts.output else out_dir / f"{book.slug}.{fmt}"
        output.write_atomic(target, data)
        result.outputs[fmt] = target
    return result


def _writer(fmt: str):
    if fmt == "epub":
        from .write.epub import write_epub
        return write_epub
    if fmt == "pdf":
        from .write.pdf import write_pdf
        return write_pdf
    if fmt == "html":
        from .write.html import write_html
        return write_html
    raise BuildError(f"unknown format {fmt!r}")
