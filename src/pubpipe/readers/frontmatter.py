"""Front matter: YAML (``---``), TOML (``+++``) and Pelican-style ``Key: value`` lines.

Returns the metadata dict, the body text, and how many source lines the front matter took, so that
the Markdown reader can keep line numbers true to the file.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass

import yaml

from ..errors import ConfigError

_PELICAN_KEY = re.compile(r"^([A-Za-z][A-Za-z0-9_-]*):[ \t]*(.*)$")
# Pelican keys we recognise; an arbitrary "Word: text" first line is prose, not metadata.
_PELICAN_KEYS = {"title", "date", "modified", "author", "authors", "category", "tags", "slug",
                 "summary", "lang", "language", "subtitle", "status", "keywords", "description"}


@dataclass
class FrontMatter:
    meta: dict
    body: str
    lines: int  # source lines consumed before body starts


class FrontMatterError(ConfigError):
    """Front matter that cannot be parsed: named by file and line by the reader."""

    def __init__(self, message: str, line: int | None = None):
        super().__init__(message)
        self.line = line


def split(text: str) -> FrontMatter:
    text = text.lstrip("\ufeff")
    for fence, parse in (("---", _yaml), ("+++", _toml)):
        if text.startswith(fence) and not text.split("\n", 1)[0][len(fence):].strip():
            lines = text.splitlines(keepends=True)
            for i in range(1, len(lines)):
                if lines[i].strip() in (fence, "..." if fence == "---" else fence):
                    meta = parse("".join(lines[1:i]))
                    return FrontMatter(meta, "".join(lines[i + 1:]), i + 1)
            raise FrontMatterError(f"front matter opened with '{fence}' is never closed", 1)
    return _pelican(text)


def _yaml(src: str) -> dict:
    try:
        data = yaml.safe_load(src) if src.strip() else {}
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = mark.line + 2 if mark else None  # +1 for 1-based, +1 for the opening fence
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise FrontMatterError(f"invalid YAML front matter: {problem}", line) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise FrontMatterError("YAML front matter is not a mapping of keys to values", 2)
    return data


def _toml(src: str) -> dict:
    try:
        return tomllib.loads(src)
    except tomllib.TOMLDecodeError as e:
        m = re.search(r"line (\d+)", str(e))
        raise FrontMatterError(f"invalid TOML front matter: {e}",
                               int(m.group(1)) + 1 if m else None) from None


def _pelican(text: str) -> FrontMatter:
    lines = text.splitlines(keepends=True)
    meta: dict = {}
    i = 0
    while i < len(lines):
        m = _PELICAN_KEY.match(lines[i].rstrip("\r\n"))
        if not m or m.group(1).lower() not in _PELICAN_KEYS:
            break
        meta[m.group(1).lower()] = m.group(2).strip()
        i += 1
    # Metadata lines must end at a blank line and include a title, or they were prose.
    if meta and "title" in meta and (i == len(lines) or not lines[i].strip()):
        for key in ("tags", "authors", "keywords"):
            if key in meta:
                meta[key] = [v.strip() for v in re.split(r"[,;]", meta[key]) if v.strip()]
        return FrontMatter(meta, "".join(lines[i:]), i)
    return FrontMatter({}, text, 0)
