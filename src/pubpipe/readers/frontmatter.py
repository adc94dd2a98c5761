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


MAX_YAML_NODES = 10_000  # front matter is a few dozen keys; aliases must not multiply it


def _yaml(src: str) -> dict:
    try:
        data = _safe_load_bounded(src) if src.strip() else {}
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = mark.line + 2 if mark else None  # +1 for 1-based, +1 for the opening fence
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise FrontMatterError(f"invalid YAML front matter: {problem}", line) from None
    except RecursionError:
        raise FrontMatterError("YAML front matter nested too deeply", 2) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise FrontMatterError("YAML front matter is not a mapping of keys to values", 2)
    return data


def _safe_load_bounded(src: str):
    """yaml.safe_load, refusing a document whose aliases expand past MAX_YAML_NODES nodes.

    PyYAML builds an alias as a shared reference, so a 600-byte "billion laughs" loads at once,
    but everything that walks or prints the value afterwards (titles, tags, authors) expands it.
    The expanded size is counted on the composed node graph (memoized, so linear)."""
    loader = yaml.SafeLoader(src)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        sizes: dict[int, int] = {}
        stack: list = [(node, False)]
        while stack:  # iterative post-order: deep nesting cannot overflow Python's stack
            n, done = stack.pop()
            if id(n) in sizes:
                continue
            children = []
            if isinstance(n, yaml.SequenceNode):
                children = n.value
            elif isinstance(n, yaml.MappingNode):
                children = [x for pair in n.value for x in pair]
            if not done:
                stack.append((n, True))
                stack.extend((c, False) for c in children if id(c) not in sizes)
                continue
            total = 1 + sum(sizes.get(id(c), 1) for c in children)
            if total > MAX_YAML_NODES:
                raise FrontMatterError(f"YAML front matter too large once its aliases (*name)"
                                       f" are expanded (more than {MAX_YAML_NODES} values)",
                                       n.start_mark.line + 2)
            sizes[id(n)] = total
        return loader.construct_document(node)
    finally:
        loader.dispose()


def _toml(src: str) -> dict:
    try:
        return tomllib.loads(src)
    except tomllib.TOMLDecodeError as e:
        m = re.search(r"line (\d+)", str(e))
        raise FrontMatterError(f"invalid TOML front matter: {e}",
                               int(m.group(1)) + 1 if m else None) from None
    except RecursionError:
        raise FrontMatterError("TOML front matter nested too deeply", 2) from None


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
