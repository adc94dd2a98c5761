"""Typed build configuration, read and validated in one place.

``book.toml`` has the tables ``[book]``, ``[pdf]``, ``[epub]``, ``[assets]``, ``[math]`` and
``[labels]``. TOML keys use dashes (``page-size``); the dataclass fields use underscores. Every value
is checked here, once: a key a table does not know, a value of the wrong type or one that is not
understood is a ``ConfigError`` (exit code 2) naming the file, the line, the key, the value given,
what is accepted and the nearest valid value. Later stages can trust what they read from ``Config``.

By concern: ``schema`` (the tables as dataclasses, ``Config``), ``values`` (checks of single values,
lengths and page sizes, how a refusal is worded), ``load`` (reading book.toml, rules between keys,
files the book names) and ``discovery`` (which book, which posts, ``[book] source``, the cache).

To add a key: add a field to its table's dataclass in ``schema``. Its type (str, bool, int, float,
list[str]) is checked without more code; a value with rules of its own gets
``metadata=rule(check)``, where ``check(value)`` returns the value to store or raises ``Invalid``
(helpers in ``values``: ``choice``, ``length``, ``number``...). Then document it in the README's
tables (type and default).
"""

from __future__ import annotations

from ..errors import ConfigError
from .discovery import cache_dir, default_cache_dir, find_book
from .load import key_lines, load
from .schema import (FORMATS, PRESETS, SECTIONS, SUFFIXES, TABLES, AssetsSection, BookSection,
                     Config, EpubSection, MathSection, PdfSection, keys_of)
from .values import (NAMED_SIZES, PT_PER_IN, UNITS, VARIANTS, Invalid, choice, length, nearest,
                     number, parse_length, parse_page_size, rule, toml_value)

__all__ = [
    "AssetsSection", "BookSection", "Config", "ConfigError", "EpubSection", "FORMATS", "Invalid",
    "MathSection", "NAMED_SIZES", "PRESETS", "PT_PER_IN", "PdfSection", "SECTIONS", "SUFFIXES",
    "TABLES", "UNITS", "VARIANTS", "cache_dir", "choice", "default_cache_dir", "find_book",
    "key_lines", "keys_of", "length", "load", "nearest", "number", "parse_length",
    "parse_page_size", "rule", "toml_value",
]
