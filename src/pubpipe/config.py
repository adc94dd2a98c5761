"""Typed build configuration, read and validated in one place.

``book.toml`` has the tables ``[book]``, ``[pdf]``, ``[epub]`` and ``[assets]``. TOML keys use dashes
(``page-size``); the dataclass fields use underscores. Every value is checked here, once: a key a
table does not know, a value of the wrong type or one that is not understood is a ``ConfigError``
(exit code 2) naming the file, the line, the key, the value given, what is accepted and the nearest
valid value. Later stages can trust what they read from ``Config``.

To add a key: add a field to its table's dataclass. Its type (str, bool, int, float, list[str]) is
checked without more code; a value with rules of its own gets ``metadata=rule(check)``, where
``check(value)`` returns the value to store or raises ``Invalid`` (helpers below: ``choice``,
``length``, ``number``...). Then document it in the README's tables (type and default).
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import os
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, get_type_hints

from .errors import ConfigError
from .util import inside, normalize_lang

if TYPE_CHECKING:  # the document model imports lxml: not for `pubpipe --help`
    from .document import SiteInfo


# What `build --format` can make; "all" is every one (the cover only for a print-on-demand preset)
FORMATS = ("epub", "pdf", "html", "cover")
SUFFIXES = {"cover": "pdf"}  # file ending of a format, where it is not the format's name


class Invalid(ValueError):
    """A value a key does not accept: what is accepted, and the nearest valid value if any."""

    def __init__(self, accepted: str, nearest: Any = None, problem: str = ""):
        super().__init__(problem or "not accepted")
        self.accepted, self.nearest, self.problem = accepted, nearest, problem


def rule(check: Callable[[Any], Any]) -> dict[str, Any]:
    """Field metadata: check(value) validates (and may normalize) a key's raw TOML value."""
    return {"check": check}


# ---------------------------------------------------------------------------------------------
# Lengths and page sizes: parsed here once, so writers read points.

PT_PER_IN = 72.0
UNITS = {"pt": 1.0, "in": 72.0, "mm": 72 / 25.4, "cm": 72 / 2.54, "px": 0.75, "pc": 12.0,
         "q": 72 / 101.6}
_LENGTH = re.compile(r"^\s*(\d+(?:\.\d+)?|\.\d+)\s*(pt|in|mm|cm|px|pc|q)\s*$", re.I)
_NUMBER = re.compile(r"^\s*(\d+(?:\.\d+)?|\.\d+)\s*$")
NAMED_SIZES = {  # CSS page-size keywords, in points (portrait)
    "a3": (841.89, 1190.55), "a4": (595.28, 841.89), "a5": (419.53, 595.28),
    "a6": (297.64, 419.53), "b4": (708.66, 1000.63), "b5": (498.9, 708.66),
    "jis-b4": (728.5, 1031.81), "jis-b5": (515.91, 728.5), "letter": (612.0, 792.0),
    "legal": (612.0, 1008.0), "ledger": (792.0, 1224.0),
}


def parse_length(text: str) -> float | None:
    """A CSS absolute length ('0.125in', '3mm', '10.5pt') as points, or None."""
    m = _LENGTH.match(text or "") if isinstance(text, str) else None
    return float(m[1]) * UNITS[m[2].lower()] if m else None


def parse_page_size(text: str) -> tuple[float, float] | None:
    """'6in 9in', '6in x 9in', 'A5', 'letter', 'A4 landscape' -> (width, height) in points."""
    words = (text or "").lower().replace(" x ", " ").replace("×", " ").split()
    landscape = "landscape" in words
    words = [w for w in words if w not in ("portrait", "landscape")]
    size = None
    if len(words) == 1 and words[0] in NAMED_SIZES:
        size = NAMED_SIZES[words[0]]
    elif len(words) == 2:
        w, h = parse_length(words[0]), parse_length(words[1])
        if w and h:
            size = (w, h)
    if size and landscape:
        size = (max(size), min(size))
    return size


def _bare_number(value: Any) -> str | None:
    """'11' or 11 -> '11': a number written without its unit."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return f"{value:g}"
    if isinstance(value, str) and _NUMBER.match(value):
        return value.strip()
    return None


def length(accepted: str, default_unit: str, example: str, lo_pt: float, hi_pt: float,
           allow_zero: bool = False) -> Callable[[Any], str]:
    """A length with a unit, between lo_pt and hi_pt points; a bare number is refused."""

    def check(value: Any) -> str:
        if allow_zero and (value == "" or _bare_number(value) in ("0", "0.0")):
            return ""
        bare = _bare_number(value)
        if bare is not None:
            raise Invalid(accepted, f"{bare}{default_unit}", "a length needs a unit")
        pt = parse_length(value)
        if pt is None:
            raise Invalid(accepted, example, "not a length")
        if not lo_pt <= pt <= hi_pt:
            raise Invalid(accepted, example, "out of range")
        return value.strip()

    return check


def choice(options: tuple[str, ...], also: str = "", other: Callable[[str], bool] | None = None,
           empty: bool = True) -> Callable[[Any], str]:
    """One of options (case-insensitive), or a value other() accepts; '' when empty is allowed."""

    def check(value: Any) -> str:
        accepted = ", ".join(options) + (f", {also}" if also else "")
        if not isinstance(value, str):
            raise Invalid(accepted, options[0], "not a string")
        v = value.strip().lower()
        if (empty and v == "") or v in options or (other and other(v)):
            return v
        raise Invalid(accepted, nearest(v, options) or options[0])

    return check


def number(lo: float | None = None, hi: float | None = None, whole: bool = False,
           positive: bool = False) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        kind = "a whole number" if whole else "a number"
        rng = (f" from {lo:g} to {hi:g}" if lo is not None and hi is not None
               else " above 0" if positive else f" of at least {lo:g}" if lo is not None else "")
        accepted = kind + rng
        if isinstance(value, bool) or not isinstance(value, (int, float)) or (
                whole and not isinstance(value, int)):
            bare = _bare_number(value) if isinstance(value, str) else None
            if bare is not None:
                raise Invalid(accepted, float(bare) if not whole else int(float(bare)),
                              "a number is written without quotes")
            if whole and isinstance(value, float) and not isinstance(value, bool):
                raise Invalid(accepted, round(value))
            raise Invalid(accepted, lo if lo is not None else 1)
        if positive and value <= 0:
            raise Invalid(accepted, hi if hi is not None and hi < 1 else 1, "must be above 0")
        if lo is not None and value < lo:
            raise Invalid(accepted, lo)
        if hi is not None and value > hi:
            raise Invalid(accepted, hi)
        return value if whole else float(value)

    return check


def nearest(given: str, options) -> str | None:
    found = difflib.get_close_matches(str(given).lower(), list(options), n=1, cutoff=0.5)
    return found[0] if found else None


# ---------------------------------------------------------------------------------------------
# Checks of single keys

def _page_size(value: Any) -> str:
    accepted = ('two lengths with units, width then height ("6in 9in", "148mm 210mm"), or a name: '
                + ", ".join(k.upper() if k[0] in "abj" else k for k in NAMED_SIZES)
                + ' (add "landscape" to turn it)')
    if not isinstance(value, str):
        bare = _bare_number(value)
        raise Invalid(accepted, f"{bare}in {float(bare) * 1.5:g}in" if bare else "6in 9in",
                      "not a string")
    size = parse_page_size(value)
    if size is None:
        words = value.lower().replace(" x ", " ").split()
        if len(words) == 1 and (pt := parse_length(words[0])):  # one length: a square? no
            unit = re.sub(r"[\d.\s]", "", words[0])
            w = pt / UNITS[unit]
            raise Invalid(accepted, f"{w:g}{unit} {w * 1.5:g}{unit}", "one length is not a page size")
        if len(words) == 2 and all(_bare_number(w) for w in words):
            raise Invalid(accepted, f"{words[0]}in {words[1]}in", "lengths need units")
        named = nearest(value.strip(), NAMED_SIZES)
        raise Invalid(accepted, named.upper() if named and named[0] in "abj" else named or "6in 9in")
    if not all(72.0 <= s <= 40 * 72.0 for s in size):
        raise Invalid(accepted, "6in 9in", "each side must be from 1in to 40in")
    return value.strip()


def _paper(value: Any) -> str:
    return choice(("white", "cream", "color"), also='or a thickness per page like "0.0024in"',
                  other=lambda v: parse_length(v) is not None and 0 < parse_length(v) < 7.2,
                  empty=False)(value)


# The PDF variants WeasyPrint 70 writes (weasyprint.pdf.VARIANTS; a test keeps them in step).
VARIANTS = frozenset({
    "pdf/a-1a", "pdf/a-1b", "pdf/a-2a", "pdf/a-2b", "pdf/a-2u", "pdf/a-3a", "pdf/a-3b",
    "pdf/a-3u", "pdf/a-4e", "pdf/a-4f", "pdf/a-4u", "pdf/ua-1", "pdf/ua-2", "pdf/x-1a", "pdf/x-3",
    "pdf/x-4", "pdf/x-5g", "debug"})


def _variant(value: Any) -> str:
    return choice(tuple(sorted(v for v in VARIANTS if v != "debug")))(value)


def _language(value: Any) -> str:
    if value == "":
        return ""
    lang = normalize_lang(value) if isinstance(value, str) else None
    if not lang:
        raise Invalid('a language tag like "en", "de-AT" or "pt-BR"', "en")
    return lang


def _date(value: Any) -> str:
    if hasattr(value, "isoformat"):  # a TOML date
        value = value.isoformat()
    if value == "":
        return ""
    from .readers.opening import parse_date  # the one date parser of the project

    iso = parse_date(value) if isinstance(value, str) else None
    if not iso:
        raise Invalid('a date like 2019-01-20 (or "January 20, 2019")', "2019-01-20")
    return iso


def _site_url(value: Any) -> str:
    if value == "":
        return ""
    if not isinstance(value, str) or not re.match(r"^https?://[^/\s]+", value):
        raise Invalid('an http(s) address like "https://blog.example.com"',
                      "https://" + str(value).split("//")[-1].strip("/"))
    return value


def _toc_depth(value: Any) -> int:
    return number(1, 6, whole=True)(value)


# ---------------------------------------------------------------------------------------------
# The tables

@dataclass
class BookSection:
    title: str = ""
    subtitle: str = ""
    authors: list[str] = field(default_factory=list)
    language: str = field(default="", metadata=rule(_language))
    date: str = field(default="", metadata=rule(_date))
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
    since: str = field(default="", metadata=rule(_date))  # only posts dated on or after
    until: str = field(default="", metadata=rule(_date))  # only posts dated on or before
    exclude: list[str] = field(default_factory=list)  # globs of files to leave out
    drafts: bool = False  # drafts too


PRESETS = ("kdp", "lulu", "ingramspark", "proof", "screen")


@dataclass
class PdfSection:
    page_size: str = field(default="6in 9in", metadata=rule(_page_size))
    bleed: str = field(default="", metadata=rule(length(
        'a length with a unit up to 1in, like "0.125in" or "3mm"', "in", "0.125in", 0.0, 72.0,
        allow_zero=True)))  # empty: no bleed
    crop_marks: bool = False
    preset: str = field(default="", metadata=rule(choice(PRESETS)))
    variant: str = field(default="", metadata=rule(_variant))  # pdf/a-3b, pdf/ua-1, pdf/x-1a...
    color: str = field(default="rgb", metadata=rule(choice(("rgb", "grayscale", "cmyk"),
                                                          empty=False)))
    paper: str = field(default="white", metadata=rule(_paper))  # for the spine width
    font_size: str = field(default="10.5pt", metadata=rule(length(
        'a type size with a unit from 6pt to 24pt, like "10.5pt" or "11pt"', "pt", "10.5pt",
        6.0, 24.0)))
    fonts: list[str] = field(default_factory=list)  # preferred body font families, first wins
    css: str = ""  # the author's stylesheet, added after pubpipe's (absolute path once loaded)


@dataclass
class EpubSection:
    page_list: bool = True  # carry the print edition's page numbers when [pdf] is set
    page_numbers: bool = True  # the older name of page-list: false turns the page-list off too
    toc_depth: int = field(default=3, metadata=rule(_toc_depth))  # 1 chapters, 2 +h2, 3 +h3...
    css: str = ""  # the author's stylesheet, added after pubpipe's (absolute path once loaded)


def _positive(whole: bool = True, lo: float | None = None, hi: float | None = None):
    return rule(number(lo, hi, whole=whole, positive=lo is None))


@dataclass
class AssetsSection:
    cache_dir: str = ""  # default: the user's cache folder (XDG), see cache_dir()
    static_dir: str = ""  # folder in the book where site-relative paths ('/img/x.png') are found
    site_url: str = field(default="", metadata=rule(_site_url))
    epub_max_size: int = field(default=1600, metadata=_positive(lo=16, hi=20000))
    jpeg_quality: int = field(default=85, metadata=_positive(lo=1, hi=100))
    print_dpi: int = field(default=300, metadata=_positive(lo=72, hi=2400))
    print_width: float = field(default=0.0, metadata=_positive(False, lo=0, hi=40))  # 0: text block
    print_height: float = field(default=6.5, metadata=_positive(False))
    print_jpeg_quality: int = field(default=90, metadata=_positive(lo=1, hi=100))
    allow_private_hosts: bool = False  # fetch from loopback/private addresses (tests, intranets)
    # wall-clock seconds for all fetching of one build
    fetch_budget: float = field(default=300.0, metadata=_positive(False))
    connect_timeout: float = field(default=5.0, metadata=_positive(False))
    read_timeout: float = field(default=10.0, metadata=_positive(False))
    total_timeout: float = field(default=20.0, metadata=_positive(False))
    max_bytes: int = field(default=50 * 1024 * 1024, metadata=_positive())
    max_redirects: int = field(default=5, metadata=_positive(lo=0, hi=50))
    retries: int = field(default=2, metadata=_positive(lo=0, hi=20))
    concurrency: int = field(default=8, metadata=_positive(lo=1, hi=64))


def _maybe_bool(value: Any) -> bool | None:
    if not isinstance(value, bool):
        raise Invalid("true or false (without quotes); leave the key out to let pubpipe find out",
                      str(value).strip().lower() in ("true", "yes", "1", "on"))
    return value


def _macros(value: Any) -> dict[str, str]:
    accepted = 'a table of TeX macros, like { "\\RR" = "\\mathbb{R}" }'
    if not isinstance(value, dict):
        raise Invalid(accepted, {}, "not a table")
    for name, tex in value.items():
        if not re.fullmatch(r"\\?[A-Za-z]+", name) or not isinstance(tex, str):
            raise Invalid(accepted, None, f"'{name}' must name a TeX command (like \\RR) and its"
                          " value must be a string of TeX")
    return dict(value)


@dataclass
class MathSection:
    # $…$ inline math: None finds out per post (front matter, a MathJax/KaTeX script in the post,
    # a site config or template in the book folder that loads KaTeX or MathJax); true/false force it
    dollars: bool | None = field(default=None, metadata=rule(_maybe_bool))
    macros: dict[str, str] = field(default_factory=dict, metadata=rule(_macros))  # KaTeX-style


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


# ---------------------------------------------------------------------------------------------
# Reading

def toml_value(value: Any) -> str:
    """A value as it is written in TOML, for messages."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, list)):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, dict):
        return "{…}"
    return str(value)


_TABLE_LINE = re.compile(r'^\s*\[\s*([A-Za-z0-9_-]+)\s*\]')
_KEY_LINE = re.compile(r'^\s*("?)([A-Za-z0-9_-]+)\1\s*=')


def key_lines(text: str) -> dict[tuple[str, str], int]:
    """(table, key) -> line number of every key and table header (table headers: key '')."""
    lines: dict[tuple[str, str], int] = {}
    table = ""
    depth = 0  # inside a multi-line array or inline table, '=' lines are not keys
    for n, line in enumerate(text.splitlines(), 1):
        stripped = re.sub(r'"(?:\\.|[^"\\])*"|\'[^\']*\'|#.*$', '""', line)
        if depth == 0:
            if m := _TABLE_LINE.match(line):
                table = m[1]
                lines.setdefault((table, ""), n)
            elif m := _KEY_LINE.match(line):
                lines.setdefault((table, m[2]), n)
        depth = max(0, depth + stripped.count("[") + stripped.count("{")
                    - stripped.count("]") - stripped.count("}"))
    return lines


def _check_type(value: Any, hint: Any) -> Any:
    origin = getattr(hint, "__origin__", None)
    if hint is bool:
        if not isinstance(value, bool):
            word = str(value).strip().lower() if isinstance(value, (str, int)) else ""
            raise Invalid("true or false (without quotes)",
                          word in ("true", "yes", "1", "on"))
        return value
    if hint is int:
        return number(whole=True)(value)
    if hint is float:
        return number()(value)
    if hint is str:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return str(value)
        if hasattr(value, "isoformat"):  # TOML dates
            return value.isoformat()
        if not isinstance(value, str):
            raise Invalid("a string in quotes", str(value))
        return value
    if origin is list:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise Invalid('a list of strings, like ["a", "b"]',
                          [str(v) for v in value] if isinstance(value, list) else [str(value)])
        return list(value)
    return value


def _error(file: Path, line: int | None, table: str, key: str, value: Any, err: Invalid) -> ConfigError:
    where = f"{file}:{line}" if line else str(file)
    problem = f" ({err.problem})" if err.problem and err.problem != "not accepted" else ""
    hint = f"; nearest valid value: {key} = {toml_value(err.nearest)}" if err.nearest is not None else ""
    return ConfigError(f"{where}: [{table}] {key} = {toml_value(value)} is not understood{problem};"
                       f" accepted: {err.accepted}{hint}")


def _section(cls: type, data: Any, name: str, file: Path, lines: dict) -> Any:
    if not isinstance(data, dict):
        raise ConfigError(f"{file}:{lines.get((name, ''), '?')}: [{name}] must be a table")
    hints = get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    kwargs = {}
    for key, value in data.items():
        attr = key.replace("-", "_")
        line = lines.get((name, key))
        where = f"{file}:{line}" if line else str(file)
        if attr not in fields:
            known = sorted(k.replace("_", "-") for k in fields)
            near = nearest(key.replace("_", "-"), known)
            did = f"did you mean '{near}'? " if near else ""
            raise ConfigError(f"{where}: unknown key '{key}' in [{name}] ({did}known:"
                              f" {', '.join(known)})")
        check = fields[attr].metadata.get("check")
        try:
            kwargs[attr] = check(value) if check else _check_type(value, hints[attr])
        except Invalid as err:
            raise _error(file, line, name, key, value, err) from None
    return cls(**kwargs)


def find_book(source: Path | None) -> Path:
    """The book a command works on: SOURCE (folder, book.toml or .md), else the current folder
    when it has book.toml, else content/, else the current folder when it holds Markdown files.
    A ConfigError saying how to make one when there is none."""
    if source is not None:
        return Path(source)
    if Path("book.toml").is_file():
        return Path(".")
    if Path("content").is_dir():
        return Path("content")
    if any(p.is_file() and p.name.lower() != "readme.md" for p in Path(".").glob("*.md")):
        return Path(".")  # a folder of posts is a book too
    raise ConfigError(f"no book here: {Path.cwd()} has no book.toml. Make one with"
                      " 'pubpipe new mybook', or name a book folder, a book.toml or a .md file")


def load(source: Path) -> Config:
    """Read the configuration for SOURCE: a book folder with book.toml, the book.toml itself,
    or one Markdown file."""
    source = Path(source)
    if not source.exists():
        raise ConfigError(f"{source}: no such file or folder (make a book with"
                          f" 'pubpipe new {source.name or 'mybook'}')")
    if source.is_file() and source.suffix.lower() == ".toml":
        if source.name != "book.toml":
            raise ConfigError(f"{source}: a book's settings file is called book.toml")
        source = source.parent
    if source.is_file():
        if source.suffix.lower() not in (".md", ".markdown", ".mdown", ".txt"):
            raise ConfigError(f"{source}: not a Markdown file, a book.toml or a book folder")
        cfg = Config(root=source.parent.resolve())
        real = inside(cfg.root, source)
        if real is None:
            raise ConfigError(f"{source}: a link to a file outside its folder; refused")
        cfg.chapter_files = [real]
        return cfg
    root = source.resolve()
    cfg = Config(root=root)
    toml_path = root / "book.toml"
    if toml_path.is_file():
        try:
            text = toml_path.read_text(encoding="utf-8")
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as e:
            raise ConfigError(f"{toml_path}: {e}") from None
        except UnicodeDecodeError:
            raise ConfigError(f"{toml_path}: not UTF-8 text") from None
        cfg.config_file = toml_path
        cfg.lines = lines = key_lines(text)
        for key, value in data.items():
            if key not in TABLES:
                line = lines.get((key, ""))
                near = nearest(key, TABLES)
                did = f"did you mean [{near}]? " if near else ""
                raise ConfigError(f"{toml_path}{f':{line}' if line else ''}: unknown table [{key}]"
                                  f" ({did}known: {', '.join(TABLES)})")
            if key == "labels":
                cfg.labels = _labels(value, toml_path, lines)
                continue
            setattr(cfg, key, _section(SECTIONS[key], value, key, toml_path, lines))
        cfg.has_pdf_section = "pdf" in data
        if cfg.book.source:
            _use_source(cfg)
            root = cfg.root
    _validate(cfg)
    for ch in cfg.book.chapters:
        if not any(c in ch for c in "*?["):  # a file, not a glob: named precisely when wrong
            p = inside(root, root / ch)
            if p is None:
                raise ConfigError(f"{cfg.where('book', 'chapters')}: [book] chapters: '{ch}' is"
                                  " outside the book folder (symlinks are followed)")
            if not p.is_file():
                near = nearest(ch, [q.relative_to(root).as_posix() for q in root.rglob("*.md")
                                    if "build" not in q.parts][:500])
                did = f" (did you mean '{near}'?)" if near else ""
                raise ConfigError(f"{cfg.where('book', 'chapters')}: [book] chapters: '{ch}' not"
                                  f" found{did}")
    _read_site(cfg)
    if not cfg.chapter_files:
        raise ConfigError(f"{root}: no Markdown chapters found (put .md files in the folder or"
                          " list them in [book] chapters)")
    return cfg


def _labels(data: Any, file: Path, lines: dict) -> dict[str, str]:
    """[labels]: any word pubpipe writes, by its i18n key; placeholders kept."""
    from .i18n import LABELS

    if not isinstance(data, dict):
        raise ConfigError(f"{file}:{lines.get(('labels', ''), '?')}: [labels] must be a table")
    out = {}
    for key, value in data.items():
        line = lines.get(("labels", key))
        where = f"{file}:{line}" if line else str(file)
        if key not in LABELS:
            near = nearest(key, LABELS)
            did = f"did you mean '{near}'? " if near else ""
            raise ConfigError(f"{where}: unknown key '{key}' in [labels] ({did}known:"
                              f" {', '.join(sorted(LABELS))})")
        needed = re.findall(r"%\((\w+)\)s", LABELS[key])
        if not isinstance(value, str) or not value.strip():
            raise _error(file, line, "labels", key, value, Invalid(
                "a non-empty string", LABELS[key]))
        missing = [n for n in needed if f"%({n})s" not in value]
        if missing:
            raise _error(file, line, "labels", key, value, Invalid(
                f"a string holding {', '.join(f'%({n})s' for n in needed)} where the value goes",
                LABELS[key], f"%({missing[0]})s is missing"))
        out[key] = value
    return out


def _read_site(cfg: Config) -> None:
    """The posts of the site or folder (readers.sites), selected as [book] says; the site's
    config fills in what book.toml does not say (static folder, address)."""
    from .readers import sites  # readers sit below config; imported late, as parse_date is

    try:
        site = sites.load(cfg.root)
        chosen = sites.select(site, sites.Selection(
            chapters=cfg.book.chapters, tags=cfg.book.tags, since=cfg.book.since,
            until=cfg.book.until, order=cfg.book.order, drafts=cfg.book.drafts,
            exclude=cfg.book.exclude))
    except ValueError as e:
        msg = str(e)
        where = cfg.where("book", "chapters") if "chapter" in msg else str(cfg.config_file
                                                                           or cfg.root)
        raise ConfigError(msg if msg.startswith(str(cfg.root)) else
                          f"{where}: [book] {msg}" if "chapter" in msg else f"{where}: {msg}"
                          ) from None
    cfg.site = site
    cfg.chapter_files = []
    for post in chosen:
        real = inside(cfg.root, post.source)
        if real is None:  # a symlink out of the book would put any file into the outputs
            links = [q for q in cfg.root.rglob("*") if q.is_symlink()
                     and inside(q.resolve(), post.source) is not None]
            raise ConfigError(f"{links[0] if links else post.source}: a link to a file outside"
                              " the book folder; refused (copy the file into the book instead)")
        if real not in cfg.chapter_files:  # a link to a post inside the book: once
            cfg.chapter_files.append(real)
    if not cfg.assets.static_dir and site.static_dir and (cfg.root / site.static_dir).is_dir():
        cfg.assets.static_dir = site.static_dir
    if not cfg.assets.site_url and site.base_url.startswith(("http://", "https://")):
        cfg.assets.site_url = site.base_url
    elif not site.base_url and cfg.assets.site_url:
        site.base_url = cfg.assets.site_url.rstrip("/")  # where posts left out can be read


def _use_source(cfg: Config) -> None:
    """[book] source: chapters (and everything they use) come from that folder, which becomes
    the book's root; build/, the cache and styles stay next to book.toml."""
    folder = (cfg.root / cfg.book.source).resolve()
    if not folder.is_dir():
        raise _error(cfg.config_file or cfg.root, cfg.lines.get(("book", "source")), "book",
                     "source", cfg.book.source,
                     Invalid("a folder of posts or a site's root, relative to book.toml", None,
                             "no such folder"))
    cfg.home, cfg.root = cfg.root, folder


def default_cache_dir() -> Path:
    """The user's cache folder for pubpipe: $XDG_CACHE_HOME/pubpipe, else ~/.cache/pubpipe.

    Outside every book folder on purpose: a cache inside a book travels with it (a repository, a
    zip from someone else), and a poisoned one would be trusted by whoever builds it next."""
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    base = Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".cache"
    return base / "pubpipe"


def cache_dir(cfg: Config, override: Path | None = None) -> Path:
    """The asset cache of a build: --cache-dir, else [assets] cache-dir (relative to the folder
    of book.toml), else the user's cache folder."""
    if override:
        return Path(override).absolute()
    if cfg.assets.cache_dir:
        return (cfg.book_dir / cfg.assets.cache_dir).absolute()
    return default_cache_dir()


def _validate(cfg: Config) -> None:
    """Rules between keys, and those that need the book folder."""
    for table, section in (("epub", cfg.epub), ("pdf", cfg.pdf)):
        if section.css:
            section.css = str(_book_file(cfg, table, "css", section.css, (".css",),
                                         'a .css file inside the book folder, like "styles/print.css"'))
    cover = cfg.book.cover
    if cover and not re.match(r"^https?://", cover, re.I):
        _book_file(cfg, "book", "cover", cover,
                   (".jpg", ".jpeg", ".png", ".webp", ".gif", ".tif", ".tiff", ".bmp"),
                   "an image file inside the book folder (JPEG, PNG…), or its http(s) address",
                   base=cfg.root)
    a = cfg.assets
    if a.static_dir and inside(cfg.root, cfg.root / a.static_dir) is None:
        raise ConfigError(f"{cfg.where('assets', 'static-dir')}: [assets] static-dir ="
                          f" {toml_value(a.static_dir)} is not understood; accepted: a folder"
                          " inside the book")


def _book_file(cfg: Config, table: str, key: str, value: str, suffixes: tuple[str, ...],
               accepted: str, base: Path | None = None) -> Path:
    """A file the book names (relative to base, default book.toml's folder): inside the book,
    existing, with one of suffixes."""
    base = base or cfg.book_dir
    path = (base / value).resolve()
    inside = path.is_relative_to(cfg.book_dir) or path.is_relative_to(cfg.root)
    problem = ("outside the book folder" if not inside
               else "no such file" if not path.is_file()
               else "wrong kind of file" if path.suffix.lower() not in suffixes else "")
    if problem:
        near = None
        if problem == "no such file":
            found = [q.relative_to(base).as_posix() for q in base.rglob("*")
                     if q.suffix.lower() in suffixes and "build" not in q.parts][:500]
            near = nearest(value, found)
        err = Invalid(accepted, near, problem)
        raise _error(cfg.config_file or cfg.root, cfg.lines.get((table, key)), table, key, value,
                     err)
    return path
