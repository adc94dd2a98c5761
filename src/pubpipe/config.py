"""Typed build configuration, read and validated in one place.

``book.toml`` has the tables ``[book]``, ``[pdf]``, ``[epub]`` and ``[assets]``. TOML keys use dashes
(``page-size``); the dataclass fields use underscores. Every key a section does not know is reported
by name (as a ``ConfigError``, exit code 2). To add a key, add a field to its section's dataclass and
document it in the README.
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_type_hints

from .errors import ConfigError
from .util import normalize_lang


@dataclass
class BookSection:
    title: str = ""
    subtitle: str = ""
    authors: list[str] = field(default_factory=list)
    language: str = ""
    date: str = ""
    publisher: str = ""
    rights: str = ""
    identifier: str = ""
    description: str = ""
    keywords: list[str] = field(default_factory=list)
    cover: str = ""
    chapters: list[str] = field(default_factory=list)


@dataclass
class PdfSection:
    page_size: str = "6in 9in"
    bleed: str = ""  # CSS length, e.g. "0.125in"; empty: no bleed
    crop_marks: bool = False
    preset: str = ""  # kdp | lulu | ingramspark | proof | screen
    variant: str = ""  # pdf/a-3b, pdf/ua-1, pdf/x-1a, pdf/x-4, ...
    color: str = "rgb"  # rgb | grayscale | cmyk
    paper: str = "white"  # for the spine width: white | cream | color
    font_size: str = "10.5pt"
    fonts: list[str] = field(default_factory=list)  # preferred body font families, first wins


@dataclass
class EpubSection:
    page_list: bool = True  # carry the print edition's page numbers when [pdf] is set
    page_numbers: bool = True  # the older name of page-list: false turns the page-list off too
    toc_depth: int = 3  # heading levels in the EPUB contents: 1 chapters, 2 +h2, 3 +h3 ... 6


@dataclass
class AssetsSection:
    cache_dir: str = ""  # default: <book>/.pubpipe-cache
    static_dir: str = ""  # folder in the book where site-relative paths ('/img/x.png') are found
    site_url: str = ""  # the blog's address, to fetch site-relative paths from
    epub_max_size: int = 1600
    jpeg_quality: int = 85
    print_dpi: int = 300
    print_width: float = 0.0  # inches an image prints at most; 0: the [pdf] text block width
    print_height: float = 6.5  # inches: tallest an image prints
    print_jpeg_quality: int = 90
    connect_timeout: float = 5.0
    read_timeout: float = 10.0
    total_timeout: float = 20.0
    max_bytes: int = 50 * 1024 * 1024
    max_redirects: int = 5
    retries: int = 2
    concurrency: int = 8


@dataclass
class MathSection:
    # $…$ inline math: None finds out per post (front matter, a MathJax/KaTeX script in the post,
    # a site config or template in the book folder that loads KaTeX or MathJax); true/false force it
    dollars: bool | None = None
    macros: dict[str, str] = field(default_factory=dict)  # KaTeX-style: {"\\RR" = "\\mathbb{R}"}


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


SECTIONS = {"book": BookSection, "pdf": PdfSection, "epub": EpubSection, "assets": AssetsSection,
            "math": MathSection}


def _check_type(value: Any, hint: Any, where: str) -> Any:
    origin = getattr(hint, "__origin__", None)
    if hint is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{where} must be true or false, not {value!r}")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where} must be a whole number, not {value!r}")
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{where} must be a number, not {value!r}")
        return float(value)
    if hint is str:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return str(value)
        if hasattr(value, "isoformat"):  # TOML dates
            return value.isoformat()
        if not isinstance(value, str):
            raise ConfigError(f"{where} must be a string, not {value!r}")
        return value
    if origin is list:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{where} must be a list of strings, not {value!r}")
        return list(value)
    return value


def _section(cls: type, data: Any, name: str, file: Path) -> Any:
    if not isinstance(data, dict):
        raise ConfigError(f"{file}: [{name}] must be a table")
    hints = get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls)}
    kwargs = {}
    for key, value in data.items():
        attr = key.replace("-", "_")
        if attr not in known:
            raise ConfigError(f"{file}: unknown key '{key}' in [{name}]"
                              f" (known: {', '.join(sorted(k.replace('_', '-') for k in known))})")
        kwargs[attr] = _check_type(value, hints[attr], f"{file}: [{name}] {key}")
    return cls(**kwargs)


def load(source: Path) -> Config:
    """Read the configuration for SOURCE: a book folder with book.toml, or one Markdown file."""
    source = Path(source)
    if not source.exists():
        raise ConfigError(f"{source}: no such file or folder")
    if source.is_file():
        if source.suffix.lower() not in (".md", ".markdown", ".mdown", ".txt"):
            raise ConfigError(f"{source}: not a Markdown file or a book folder")
        cfg = Config(root=source.parent.resolve())
        cfg.chapter_files = [source.resolve()]
        return cfg
    root = source.resolve()
    cfg = Config(root=root)
    toml_path = root / "book.toml"
    if toml_path.is_file():
        try:
            data = tomllib.loads(toml_path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as e:
            raise ConfigError(f"{toml_path}: {e}") from None
        except UnicodeDecodeError:
            raise ConfigError(f"{toml_path}: not UTF-8 text") from None
        cfg.config_file = toml_path
        for key, value in data.items():
            if key not in SECTIONS:
                raise ConfigError(f"{toml_path}: unknown table [{key}]"
                                  f" (known: {', '.join(SECTIONS)})")
            setattr(cfg, key, _section(SECTIONS[key], value, key, toml_path))
        cfg.has_pdf_section = "pdf" in data
    _validate(cfg)
    if cfg.book.chapters:
        files = []
        for ch in cfg.book.chapters:
            p = (root / ch).resolve()
            if not p.is_relative_to(root):
                raise ConfigError(f"{toml_path}: chapter '{ch}' is outside the book folder")
            if not p.is_file():
                raise ConfigError(f"{toml_path}: chapter '{ch}' not found")
            files.append(p)
        cfg.chapter_files = files
    else:
        cfg.chapter_files = sorted(p.resolve() for p in root.glob("*.md")
                                   if p.is_file() and p.name.lower() != "readme.md")
    if not cfg.chapter_files:
        raise ConfigError(f"{root}: no Markdown chapters found")
    return cfg


def _validate(cfg: Config) -> None:
    where = cfg.config_file or cfg.root
    if cfg.book.language:
        lang = normalize_lang(cfg.book.language)
        if not lang:
            raise ConfigError(f"{where}: [book] language must be a language tag like 'en' or"
                              f" 'de-AT', not '{cfg.book.language}'")
        cfg.book.language = lang
    if cfg.math.dollars is not None and not isinstance(cfg.math.dollars, bool):
        raise ConfigError(f"{where}: [math] dollars must be true or false, not {cfg.math.dollars!r}")
    if not isinstance(cfg.math.macros, dict):
        raise ConfigError(f"{where}: [math] macros must be a table of TeX macros, like"
                          " {\"\\\\RR\" = \"\\\\mathbb{R}\"}")
    for name, value in cfg.math.macros.items():
        if not re.fullmatch(r"\\?[A-Za-z]+", name) or not isinstance(value, str):
            raise ConfigError(f"{where}: [math] macros: '{name}' must name a TeX command (like"
                              " \\RR) and its value must be a string of TeX")
    if cfg.book.date:
        from .readers.opening import parse_date  # the one date parser of the project

        iso = parse_date(cfg.book.date)
        if not iso:
            raise ConfigError(f"{where}: [book] date must be a date like 2019-01-20, not"
                              f" '{cfg.book.date}'")
        cfg.book.date = iso
    if cfg.pdf.preset and cfg.pdf.preset not in ("kdp", "lulu", "ingramspark", "proof", "screen"):
        raise ConfigError(f"{where}: [pdf] preset must be one of kdp, lulu, ingramspark, proof,"
                          f" screen, not '{cfg.pdf.preset}'")
    if cfg.pdf.color not in ("rgb", "grayscale", "cmyk"):
        raise ConfigError(f"{where}: [pdf] color must be rgb, grayscale or cmyk")
    for name in ("epub_max_size", "jpeg_quality", "print_dpi", "max_redirects", "concurrency",
                 "print_height", "print_jpeg_quality", "connect_timeout", "read_timeout",
                 "total_timeout", "max_bytes"):
        if getattr(cfg.assets, name) <= 0:
            raise ConfigError(f"{where}: [assets] {name.replace('_', '-')} must be positive")
    for name in ("print_width", "retries"):
        if getattr(cfg.assets, name) < 0:
            raise ConfigError(f"{where}: [assets] {name.replace('_', '-')} must not be negative")
    if cfg.assets.static_dir and not (cfg.root / cfg.assets.static_dir).resolve().is_relative_to(
            cfg.root):
        raise ConfigError(f"{where}: [assets] static-dir must be a folder inside the book")
    if cfg.assets.site_url and not re.match(r"^https?://[^/\s]+", cfg.assets.site_url):
        raise ConfigError(f"{where}: [assets] site-url must be an http(s) address,"
                          f" not '{cfg.assets.site_url}'")
    for name in ("jpeg_quality", "print_jpeg_quality"):
        if not 1 <= getattr(cfg.assets, name) <= 100:
            raise ConfigError(f"{where}: [assets] {name.replace('_', '-')} must be between 1"
                              " and 100")
