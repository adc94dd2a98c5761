"""Chapters as read, kept in the cache: an unchanged chapter is not run through Markdown again.

``read_chapter`` turns a file into a ``Chapter`` (Python-Markdown, html5lib, smart quotes, line
numbers): about 20 ms for 2,500 words, most of a build's reading. Its result depends only on the
file's bytes, its path, the site's variables, the default language, ``[labels]``, whether
``$...$`` is math and pubpipe's code, so it is kept under a hash of those in
``<cache>/read/<key>.json``: the chapter's fields, its tree as XML (each element's source line in
an attribute while it is stored), the diagnostics reading gave and the template tags it could not
honour. JSON and XML only, read through the store's verified API: nothing from the cache is
executed, the XML is parsed without DTDs, entities or network, and the tree is checked (it must
serialize back to the stored text) when it is stored. A chapter that includes other files
(``{% include %}``) is always read afresh, since its text alone does not say what it holds.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Any, Protocol

from lxml import etree

from ..document import Chapter, Diagnostic, Severity

__all__ = ["CacheFiles", "ChapterCache"]

VERSION = 1  # bump when a stored chapter's shape changes
LINE = "data-pp-srcline"  # where an element's source line is kept while it is stored
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                          huge_tree=True, remove_blank_text=False)


class CacheFiles(Protocol):
    """The store's verified cache files (``assets.cachefiles.CacheFiles``, which the build's
    ``AssetStore`` is)."""

    def read_cache_file(self, relative: str, sha256: str = "") -> bytes | None: ...

    def write_cache_file(self, relative: str, data: bytes) -> None: ...


class Unstorable(ValueError):
    """A chapter whose data JSON cannot carry faithfully (it is simply not cached)."""


class ChapterCache:
    def __init__(self, files: CacheFiles, fingerprint: str):
        self.files = files
        self.fingerprint = fingerprint
        self.hits = 0

    def key(self, path: Path, data: bytes, context: Any) -> str | None:
        """The key of a chapter read from data with context (a repr-able tuple of everything
        else reading depends on); None when the chapter must always be read."""
        if b"include" in data:  # Liquid includes: other files' text goes into the chapter
            return None
        h = hashlib.sha256(f"read {VERSION} {self.fingerprint} {path}".encode() + b"\0")
        h.update(hashlib.sha256(data).digest())
        h.update(repr(context).encode())
        return h.hexdigest()[:32]

    def load(self, key: str) -> tuple[Chapter, list[Diagnostic], list[tuple[int, str, str]]] | None:
        """The chapter stored under key, the diagnostics reading it gave and the unhonoured
        template tags (kind, line, raw); None if absent or not as stored."""
        raw = self.files.read_cache_file(f"read/{key}.json")
        if raw is None:
            return None
        try:
            d = json.loads(raw.decode("utf-8"))
            if d["version"] != VERSION:
                return None
            body = etree.fromstring(d["body"].encode("utf-8"), _PARSER)
            info = body.getroottree().docinfo
            if info.doctype or info.internalDTD is not None or \
                    any(el.tag is etree.Entity for el in body.iter()):
                return None  # never stored: no chapter read has a DTD or entity references
            for el in body.iter():
                line = el.attrib.pop(LINE, None) if isinstance(el.tag, str) else None
                el.sourceline = int(line) if line else 0  # 0: no line
            ch = Chapter(source=Path(d["source"]), body=body, title=str(d["title"]),
                         subtitle=str(d["subtitle"]), authors=[str(a) for a in d["authors"]],
                         date=str(d["date"]), meta=_decode(d["meta"]), slug=str(d["slug"]),
                         source_text=str(d["source_text"]), lang=str(d["lang"]))
            diags = [Diagnostic(Severity[s], str(c), str(m), Path(f) if f else None,
                                int(n) if n is not None else None)
                     for s, c, m, f, n in d["diagnostics"]]
            tags = [(int(n), str(k), str(r)) for n, k, r in d["tags"]]
        except (ValueError, KeyError, TypeError, AttributeError, etree.LxmlError):
            return None
        self.hits += 1
        return ch, diags, tags

    def save(self, key: str, ch: Chapter, diags: list[Diagnostic],
             tags: list[tuple[int, str, str]]) -> None:
        try:
            body = _body_xml(ch.body)
            data = {
                "version": VERSION, "source": str(ch.source), "body": body, "title": ch.title,
                "subtitle": ch.subtitle, "authors": ch.authors, "date": ch.date,
                "meta": _encode(ch.meta), "slug": ch.slug, "source_text": ch.source_text,
                "lang": ch.lang,
                "diagnostics": [[d.severity.name, d.code, d.message,
                                 str(d.file) if d.file else None, d.line] for d in diags],
                "tags": [list(t) for t in tags],
            }
            raw = json.dumps(data, ensure_ascii=False).encode("utf-8")
        except (Unstorable, ValueError, TypeError, etree.LxmlError):
            return
        self.files.write_cache_file(f"read/{key}.json", raw)


def _body_xml(body: etree._Element) -> str:
    """The tree as XML with each element's source line in an attribute; Unstorable if the XML
    would not give the same tree back."""
    marked = []
    try:
        for el in body.iter():
            if isinstance(el.tag, str):
                if LINE in el.attrib:
                    raise Unstorable("the attribute name is taken")
                if el.sourceline:
                    el.set(LINE, str(el.sourceline))
                    marked.append(el)
        xml = etree.tostring(body, encoding="unicode")
    finally:
        for el in marked:
            del el.attrib[LINE]
    again = etree.fromstring(xml.encode("utf-8"), _PARSER)
    if etree.tostring(again, encoding="unicode") != xml:
        raise Unstorable("the XML does not give the same tree back")
    return xml


# Front matter keeps its types through the cache: dates stay dates, keys keep their types.

def _encode(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, list):
        return [_encode(v) for v in value]
    if isinstance(value, dict):
        return {"$map": [[_encode(k), _encode(v)] for k, v in value.items()]}
    if isinstance(value, dt.datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, dt.date):
        return {"$date": value.isoformat()}
    if isinstance(value, dt.time):
        return {"$time": value.isoformat()}
    raise Unstorable(type(value).__name__)


def _decode(value: Any) -> Any:
    if isinstance(value, list):
        return [_decode(v) for v in value]
    if isinstance(value, dict):
        [(tag, inner)] = value.items()
        if tag == "$map":
            return {_decode(k): _decode(v) for k, v in inner}
        if tag == "$datetime":
            return dt.datetime.fromisoformat(inner)
        if tag == "$date":
            return dt.date.fromisoformat(inner)
        if tag == "$time":
            return dt.time.fromisoformat(inner)
        raise ValueError(f"unknown tag {tag}")
    return value
