"""The tables of book.toml as dataclasses: one field per key, its type and default, and the
check of its value (``metadata=rule(check)``, see ``values``). ``Config`` holds them all, with
what the build learned about the book (its files, the site, line numbers for messages).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, get_type_hints

from .values import (choice, date_value, language_value, length, macros_value,
                     maybe_bool, paper_value, page_size_value, positive, rule, site_url_value,
                     toc_depth_value, variant_value)

if TYPE_CHECKING:  # the document model imports lxml: not for `pubpipe --help`
    from ..document import SiteInfo

# What `build --format` can make; "all" is every one (the cover only for a print-on-demand preset)
FORMATS = ("epub", "pdf", "html", "cover")
SUFFIXES = {"cover": "pdf"}  # file ending of a format, where it is not the format's name


@dataclass
class BookSection:
    title: str = ""
    subtitle: str = ""
    authors: list[str] = field(default_factory=list)
    language: str = field(default="", metadata=rule(language_value))
    date: str = field(default="", metadata=rule(date_value))
    publisher: str = ""
    rights: str = ""
    identifier: str = ""
    description: str = ""
    keywords: list[str] = field(default_factory=list)
    cover: str = ""
    chapters: list[str] = field(default_factory=list)  # files or globs, in reading order
    # the site or folder of posts the chapters come from, when it is not the book.toml's folder
    source: str = ""
    # which posts, in which order (readers.sites.select); default: every post, oldest first
    order: str = field(default="", metadata=rule(choice(("date", "date-desc", "name"))))
    tags: list[str] = field(default_factory=list)  # only posts with one of these tags
    since: str = field(default="", metadata=rule(date_value))  # only posts dated on or after
    until: str = field(default="", metadata=rule(date_value))  # only posts dated on or before
    exclude: list[str] = field(default_factory=list)  # globs of files to leave out
    drafts: bool = False  # drafts too


PRESETS = ("kdp", "lulu", "ingramspark", "proof", "screen")


@dataclass
class PdfSection:
    page_size: str = field(default="6in 9in", metadata=rule(page_size_value))
    bleed: str = field(default="", metadata=rule(length(
        'a length with a unit up to 1in, like "0.125in" or "3mm"', "in", "0.125in", 0.0, 72.0,
        allow_zero=True)))  # empty: no bleed
    crop_marks: bool = False
    preset: str = field(default="", metadata=rule(choice(PRESETS)))
    variant: str = field(default="", metadata=rule(variant_value))  # pdf/a-3b, pdf/ua-1, pdf/x-1a...
    color: str = field(default="rgb", metadata=rule(choice(("rgb", "grayscale", "cmyk"),
                                                          empty=False)))
    paper: str = field(default="white", metadata=rule(paper_value))  # for the spine width
    font_size: str = field(default="10.5pt", metadata=rule(length(
        'a type size with a unit from 6pt to 24pt, like "10.5pt" or "11pt"', "pt", "10.5pt",
        6.0, 24.0)))
    fonts: list[str] = field(default_factory=list)  # preferred body font families, first wins
    css: str = ""  # the author's stylesheet, added after pubpipe's (absolute path once loaded)


@dataclass
class EpubSection:
    page_list: bool = True  # carry the print edition's page numbers when [pdf] is set
    page_numbers: bool = True  # the older name of page-list: false turns the page-list off too
    toc_depth: int = field(default=3, metadata=rule(toc_depth_value))  # 1 chapters, 2 +h2, 3 +h3...
    css: str = ""  # the author's stylesheet, added after pubpipe's (absolute path once loaded)


@dataclass
class AssetsSection:
    cache_dir: str = ""  # default: the user's cache folder (XDG), see cache_dir()
    static_dir: str = ""  # folder in the book where site-relative paths ('/img/x.png') are found
    site_url: str = field(default="", metadata=rule(site_url_value))
    epub_max_size: int = field(default=1600, metadata=positive(lo=16, hi=20000))
    jpeg_quality: int = field(default=85, metadata=positive(lo=1, hi=100))
    print_dpi: int = field(default=300, metadata=positive(lo=72, hi=2400))
    print_width: float = field(default=0.0, metadata=positive(False, lo=0, hi=40))  # 0: text block
    print_height: float = field(default=6.5, metadata=positive(False))
    print_jpeg_quality: int = field(default=90, metadata=positive(lo=1, hi=100))
    allow_private_hosts: bool = False  # fetch from loopback/private addresses (tests, intranets)
    # wall-clock seconds for all fetching of one build
    fetch_budget: float = field(default=300.0, metadata=positive(False))
    connect_timeout: float = field(default=5.0, metadata=positive(False))
    read_timeout: float = field(default=10.0, metadata=positive(False))
    total_timeout: float = field(default=20.0, metadata=positive(False))
    max_bytes: int = field(default=50 * 1024 * 1024, metadata=positive())
    max_redirects: int = field(default=5, metadata=positive(lo=0, hi=50))
    retries: int = field(default=2, metadata=positive(lo=0, hi=20))
    concurrency: int = field(default=8, metadata=positive(lo=1, hi=64))
    # pruning after each build (assets/cache.py): derived entries none of the last N builds used,
    # or unused for that many days, go; then the least recently used while over the size
    cache_keep_builds: int = field(default=20, metadata=positive(lo=0, hi=100000))
    cache_max_age: float = field(default=30.0, metadata=positive(False, lo=0, hi=36500))
    cache_max_mb: int = field(default=2048, metadata=positive(lo=0, hi=10 ** 9))


@dataclass
class MathSection:
    # $…$ inline math: None finds out per post (front matter, a MathJax/KaTeX script in the post,
    # a site config or template in the book folder that loads KaTeX or MathJax); true/false force it
    dollars: bool | None = field(default=None, metadata=rule(maybe_bool))
    macros: dict[str, str] = field(default_factory=dict, metadata=rule(macros_value))  # KaTeX-style


@dataclass
class Config:
    """Everything a build needs to know, from book.toml and the command line."""

    root: Path  # the book folder
    book: BookSection = field(default_factory=BookSection)
    pdf: PdfSection = field(default_factory=PdfSection)
    epub: EpubSection = field(default_factory=EpubSection)
    assets: AssetsSection = field(default_factory=AssetsSection)
    math: MathSection = field(default_factory=MathSection)
    config_file: Path | None = None
    chapter_files: list[Path] = field(default_factory=list)
    has_pdf_section: bool = False
    lines: dict[tuple[str, str], int] = field(default_factory=dict)  # (table, key) -> line
    home: Path | None = None  # book.toml's folder when [book] source puts root elsewhere
    labels: dict[str, str] = field(default_factory=dict)  # [labels]: the words pubpipe writes
    site: SiteInfo | None = None  # the site or folder of posts (None for one .md file)

    @property
    def book_dir(self) -> Path:
        """Where build/, the cache and the book's own styles live: book.toml's folder."""
        return self.home or self.root

    def where(self, table: str, key: str = "") -> str:
        """'book.toml:12' for a key (or table) of the config file, for messages."""
        line = self.lines.get((table, key))
        where = str(self.config_file or self.root)
        return f"{where}:{line}" if line else where


SECTIONS: dict[str, type] = {"book": BookSection, "pdf": PdfSection, "epub": EpubSection,
                             "assets": AssetsSection, "math": MathSection}
TABLES = (*SECTIONS, "labels")  # [labels]: its keys are the i18n label names


def keys_of(section: type) -> list[tuple[str, str, Any]]:
    """(toml key, type name, default) of every key of a table, for documentation and `new`."""
    hints = get_type_hints(section)
    out = []
    for f in dataclasses.fields(section):
        default = f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
        out.append((f.name.replace("_", "-"), _type_name(hints[f.name]), default))
    return out


def _type_name(hint: Any) -> str:
    if getattr(hint, "__origin__", None) is list:
        return "list of strings"
    if getattr(hint, "__origin__", None) is dict:
        return "table"
    if hint == (bool | None):
        return "true/false"
    return {bool: "true/false", int: "whole number", float: "number", str: "string"}.get(
        hint, str(hint))
