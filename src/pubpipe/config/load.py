"""Reading book.toml: every table and key checked against the schema, the rules between keys,
the files the book names, then the chapters (``discovery``).
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
from pathlib import Path
from typing import Any, get_type_hints

from ..errors import ConfigError
from ..util import inside
from .discovery import read_site, use_source
from .schema import SECTIONS, TABLES, Config
from .values import Invalid, bad_value, check_type, nearest, toml_value

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


def _section(cls: type, data: Any, name: str, file: Path, lines: dict) -> Any:
    """One table of book.toml as its dataclass: every key known, every value checked."""
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
            kwargs[attr] = check(value) if check else check_type(value, hints[attr])
        except Invalid as err:
            raise bad_value(file, line, name, key, value, err) from None
    return cls(**kwargs)


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
            use_source(cfg)
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
    read_site(cfg)
    if not cfg.chapter_files:
        raise ConfigError(f"{root}: no Markdown chapters found (put .md files in the folder or"
                          " list them in [book] chapters)")
    return cfg


def _labels(data: Any, file: Path, lines: dict) -> dict[str, str]:
    """[labels]: any word pubpipe writes, by its i18n key; placeholders kept."""
    from ..i18n import LABELS

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
            raise bad_value(file, line, "labels", key, value, Invalid(
                "a non-empty string", LABELS[key]))
        missing = [n for n in needed if f"%({n})s" not in value]
        if missing:
            raise bad_value(file, line, "labels", key, value, Invalid(
                f"a string holding {', '.join(f'%({n})s' for n in needed)} where the value goes",
                LABELS[key], f"%({missing[0]})s is missing"))
        out[key] = value
    return out


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
        raise bad_value(cfg.config_file or cfg.root, cfg.lines.get((table, key)), table, key, value,
                     err)
    return path
