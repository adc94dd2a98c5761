"""Helpers the EPUB writer's modules share: XHTML safety, links inside the package, names."""

from __future__ import annotations

import os
import re
import urllib.parse

from lxml import etree

from ...document import EPUB_TYPE
from ...htmlmodel import LIST_ITEMS
from ...util import ids_in, remove_keep_tail, unique_name

SVG_NS = "http://www.w3.org/2000/svg"
MATHML_NS = "http://www.w3.org/1998/Math/MathML"

# Elements that never reach an EPUB (the sanitizer removes them already; this is a safety net).
FORBIDDEN = {"script", "noscript", "style", "iframe", "object", "embed", "applet", "frame",
              "frameset", "link", "meta", "base", "form", "input", "button", "select", "textarea"}
MEDIA = {"video", "audio", "source", "track", "picture"}


def etype(el: etree._Element) -> set[str]:
    return set((el.get(EPUB_TYPE) or "").split())


def visible_text(el: etree._Element) -> str:
    """Text a reader sees as a heading/caption, without note reference numbers or backlinks (nor
    a formula's TeX annotation: its MathML text stands for it)."""
    parts: list[str] = []

    def walk(node, skip: bool):
        if not isinstance(node.tag, str):
            return
        hide = skip or etree.QName(node).localname in ("annotation", "annotation-xml") or \
            "noteref" in etype(node) or node.get("role") in (
            "doc-noteref", "doc-backlink") or node.tag in ("sup",) and any(
            "noteref" in etype(a) or a.get("role") == "doc-noteref" for a in node.iter("a"))
        if node.text and not hide:
            parts.append(node.text)
        for child in node:
            walk(child, hide)
            if child.tail and not hide:
                parts.append(child.tail)

    walk(el, False)
    return " ".join("".join(parts).split())


def drop_keep_text(el: etree._Element) -> None:
    """Replace el by its children and text (unwrap)."""
    parent = el.getparent()
    if parent is None:
        return
    idx = parent.index(el)
    prev = el.getprevious()
    if el.text:
        if prev is not None:
            prev.tail = (prev.tail or "") + el.text
        else:
            parent.text = (parent.text or "") + el.text
    children = list(el)
    for k, child in enumerate(children):
        parent.insert(idx + k, child)
    last = children[-1] if children else el.getprevious()
    if el.tail:
        if last is not None and last is not el:
            last.tail = (last.tail or "") + el.tail
        else:
            parent.text = (parent.text or "") + el.tail
    parent.remove(el)


def is_remote(url: str) -> bool:
    return bool(re.match(r"^\s*(https?:|//|ftp:)", url or "", re.I))


def host(url: str) -> str:
    try:
        host = urllib.parse.urlsplit(url).hostname or ""
    except ValueError:
        host = ""
    return host[4:] if host.startswith("www.") else host



def rel(from_file: str, to_file: str) -> str:
    """Relative URL from one package file to another (both relative to EPUB/)."""
    target, _, frag = to_file.partition("#")
    rel = os.path.relpath(target, os.path.dirname(from_file) or ".").replace(os.sep, "/")
    return rel + (f"#{frag}" if frag else "")


def item_id(name: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9_.-]", "-", name)
    return "i-" + stem






def safe_id(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "-", text) or "x"


def names(authors: list[str]) -> str:
    if len(authors) <= 1:
        return "".join(authors)
    return ", ".join(authors[:-1]) + " and " + authors[-1]


def file_as(name: str) -> str:
    """'Yves Wienecke' -> 'Wienecke, Yves' (single names and 'Last, First' stay as they are)."""
    parts = name.split()
    if "," in name or len(parts) < 2:
        return name
    return f"{parts[-1]}, {' '.join(parts[:-1])}"





def repair_lists(body: etree._Element) -> None:
    """Lists and rows may hold only their items: stray <br/>s go, other content joins an item.

    Old blog editors write ``<li>..</li><br/>``; an HTML parser keeps that, XHTML forbids it.
    """
    for parent in list(body.iter(*LIST_ITEMS)):
        allowed = LIST_ITEMS[parent.tag]
        item_tag = allowed[0] if parent.tag != "dl" else "dd"
        if parent.text and parent.text.strip():
            li = etree.Element(item_tag)
            li.text, parent.text = parent.text, None
            parent.insert(0, li)
        for child in list(parent):
            if not isinstance(child.tag, str):
                continue
            if child.tag in allowed or child.tag in ("script", "template"):
                if child.tail and child.tail.strip():  # text between items joins the item
                    child.append(etree.Element("br"))
                    child[-1].tail = child.tail
                    child.tail = None
                continue
            prev = child.getprevious()
            while prev is not None and not isinstance(prev.tag, str):
                prev = prev.getprevious()
            if child.tag == "br":
                tail = (child.tail or "").strip()
                if tail and prev is not None:
                    prev.append(child)  # keep the break and its text inside the item
                    continue
                remove_keep_tail(child)
                continue
            if prev is not None and prev.tag in allowed:
                prev.append(child)  # the tail travels with it
            else:
                item = etree.Element(item_tag)
                child.addprevious(item)
                item.append(child)


_REMOTE_CSS = re.compile(r"url\(\s*['\"]?\s*(?:https?:)?//[^)]*\)", re.I)
_IMPORT_CSS = re.compile(r"@import[^;]*;", re.I)


def local_css(css: str) -> str:
    """No remote resources from stylesheets (EPUBCheck counts them; readers fetch them)."""
    return _IMPORT_CSS.sub("", _REMOTE_CSS.sub("none", css))



def unique_id(body: etree._Element, base: str) -> str:
    """base, or base-2 ...: an id no element of body has yet."""
    return unique_name(base, ids_in(body))
