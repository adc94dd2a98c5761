"""The build context: made once per build, handed to every stage and writer.

It holds the validated configuration, the command-line options, the print settings resolved
once (page size, margins, text width: ``layout.settings``), the asset store and the diagnostics
every stage reports to. Nothing in a stage reaches around it for configuration.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from .assets.store import AssetStore
from .config import FORMATS, Config
from .config import cache_dir as configured_cache_dir
from .document import Diagnostic, Diagnostics
from .progress import Progress
from .layout.settings import PT_PER_IN, PrintSettings, resolve_settings, text_width

__all__ = ["FORMATS", "BuildContext", "BuildOptions", "cache_dir_for", "open_store",
           "page_list_wanted"]


@dataclass
class BuildOptions:
    formats: tuple[str, ...] = ("epub", "pdf")
    out_dir: Path | None = None  # default: <book>/build
    output: Path | None = None  # exactly this file (one format only)
    cache_dir: Path | None = None
    offline: bool = False
    strict: bool = False
    report: Path | None = None
    progress: bool | str = False  # True/"tty": rich bars; "lines": a line per stage; False/"off"
    time_limit: float = 600.0  # seconds the whole build may take (0: no limit)
    revalidate: bool = True  # online: re-ask servers about cached images (False: cache first)
    # take the outputs of an earlier build with the very same inputs from the cache (buildcache;
    # the commands do; BuildResult.book is then None)
    reuse_outputs: bool = False


@dataclass
class BuildContext:
    config: Config
    options: BuildOptions
    diagnostics: Diagnostics
    print: PrintSettings
    store: AssetStore
    cache_dir: Path
    progress: Progress
    # what resolving [pdf] had to say: reported by builds that print (an EPUB-only build of a
    # book with a bad [pdf] page size is not failed for it)
    print_notes: list[Diagnostic] = field(default_factory=list)
    # how many diagnostics each error/--strict check of the build saw (the output cache keeps it)
    checks: list[int] = field(default_factory=list)

    @classmethod
    def create(cls, cfg: Config, opts: BuildOptions, language: str = "",
               diagnostics: Diagnostics | None = None,
               progress: Progress | None = None, store: AssetStore | None = None) -> BuildContext:
        """The context for building cfg's book, written in language (right-to-left books print
        their first page on the left). store: the build's store when it was opened before the
        book was read (``open_store``, with the same diagnostics and progress)."""
        diags = diagnostics if diagnostics is not None else Diagnostics()
        notes = Diagnostics()
        settings = resolve_settings(cfg.pdf, notes, cfg.config_file if cfg.config_file else None,
                                    language)
        progress = progress or Progress.of(opts.progress)
        if store is None:
            store = open_store(cfg, opts, diags, progress)
        return cls(config=cfg, options=opts, diagnostics=diags, print=settings, store=store,
                   cache_dir=store.cache_dir, progress=progress, print_notes=list(notes))

    @property
    def config_file(self) -> Path | None:
        """book.toml, when the book has one (a single Markdown file has none)."""
        path = self.config.config_file
        return path if path is not None and path.is_file() else None

    @property
    def wants_page_list(self) -> bool:
        """Whether the EPUB carries the print edition's page numbers: asked for ([epub]
        page-list, on by default) and the book has a print edition ([pdf] table)."""
        return page_list_wanted(self.config)

    @cached_property
    def installed_fonts(self) -> str:
        """The fonts installed on the machine, as a fingerprint (``systemfonts``): in the key of
        every cache entry drawn with them. Looked at once per build."""
        from . import systemfonts

        return systemfonts.fingerprint()

    def publish_print_notes(self) -> None:
        """Add what resolving [pdf] found to the build's diagnostics (once)."""
        self.diagnostics.extend(self.print_notes)
        self.print_notes = []


def page_list_wanted(cfg: Config) -> bool:
    """[epub] page-list (on by default) in a book with a print edition ([pdf] table)."""
    epub = cfg.epub
    return cfg.has_pdf_section and epub.page_list and epub.page_numbers


def open_store(cfg: Config, opts: BuildOptions, diagnostics: Diagnostics,
               progress: Progress | None = None) -> AssetStore:
    """The build's asset store: the cache, the fetcher, image processing (a print image is at
    most as wide as the text block, which does not depend on the book's language)."""
    settings = resolve_settings(cfg.pdf, Diagnostics(), cfg.config_file or None)
    width = cfg.assets.print_width or text_width(settings) / PT_PER_IN
    return AssetStore(cfg.root, cache_dir_for(cfg, opts), cfg.assets, offline=opts.offline,
                      diagnostics=diagnostics, progress=progress, print_width=round(width, 3),
                      revalidate=opts.revalidate)


def cache_dir_for(cfg: Config, opts: BuildOptions) -> Path:
    """--cache-dir, else [assets] cache-dir, else the user's cache folder (config.cache_dir)."""
    return configured_cache_dir(cfg, opts.cache_dir)
