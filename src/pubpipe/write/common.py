"""What every writer does to a chapter before serializing it.

A writer gets a *copy* of each chapter body (the book itself is never changed), with images pointed
at the writer's own copies of the processed asset variants and the output-specific markers resolved
(``pp-print-only`` / ``pp-screen-only`` content, ``pp-qr`` QR codes). See ``document.py`` for the
conventions.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable

from lxml import etree

from ..document import Asset, Book, Chapter, Variant
from ..util import remove_keep_tail

XHTML_NS = "http://www.w3.org/1999/xhtml"
EPUB_NS = "http://www.idpf.org/2007/ops"
MATHML_NS = "http://www.w3.org/1998/Math/MathML"

AssetSrc = Callable[[Asset, Variant], str]


def prepare_body(chapter: Chapter, book: Book, *, profile: str, asset_src: AssetSrc,
                 qr: Callable[[str], etree._Element] | None = None) -> etree._Element:
    """A copy of the chapter body ready for one output.

    profile: "epub" (screen) or "print". asset_src maps an asset's variant to the URL the output
    uses for it. qr, when given, draws a QR code element for a URL (print only).
    """
    body = copy.deepcopy(chapter.body)
    drop = "pp-screen-only" if profile == "print" else "pp-print-only"
    for el in list(body.iter()):
        if not isinstance(el.tag, str):
            continue
        if drop in (el.get("class") or "").split():
            remove_keep_tail(el)
    for img in list(body.iter("img")):
        asset_id = img.get("data-pp-asset")
        if asset_id is None:
            continue
        asset = book.assets.get(asset_id)
        variant = asset.variants.get(profile) if asset else None
        del img.attrib["data-pp-asset"]
        if asset is None or variant is None:
            remove_keep_tail(img)  # the assets transform already left a placeholder for failures
            continue
        img.set("src", asset_src(asset, variant))
        if variant.width and variant.height:
            img.set("width", str(variant.width))
            img.set("height", str(variant.height))
        if profile != "print":  # print sizes author widths against the measure (layout.polish)
            _author_size(img, variant)
    for img in body.iter("img"):
        if profile != "print":
            img.attrib.pop("data-pp-width", None)
    if not chapter_byline_wanted(chapter, book):
        _drop_byline(body)
    for span in list(body.iter("span")):
        url = span.get("data-pp-qr")
        if url is None:
            continue
        if qr is None:
            remove_keep_tail(span)
        else:
            span.addprevious(qr(url))
            remove_keep_tail(span)
    return body




def _author_size(img: etree._Element, variant: Variant) -> None:
    """The author's width on a screen image: CSS px as width/height attributes, a share of the
    column as a class ``pp-w<5..100>`` (styles/epub.css), rounded to 5%."""
    m = re.match(r"^(\d+(?:\.\d+)?)(%?)$", img.get("data-pp-width") or "")
    if not m:
        return
    value = float(m[1])
    if m[2]:  # a share of the text column: a class (the EPUB allows no inline style)
        img.attrib.pop("width", None)
        img.attrib.pop("height", None)
        step = min(100, max(5, 5 * round(value / 5)))
        img.set("class", " ".join(filter(None, (img.get("class"), f"pp-w{step}"))))
        return
    width = round(value)
    img.set("width", str(width))
    if variant.width and variant.height:
        img.set("height", str(max(1, round(width * variant.height / variant.width))))
    else:
        img.attrib.pop("height", None)


def chapter_byline_wanted(chapter: Chapter, book: Book) -> bool:
    """A chapter's byline is shown only when its authors are not simply the book's.

    In a single-author book the title page names the author once; repeating "By …" under every
    chapter title says nothing. In an anthology each chapter names its own author.
    """
    mine = [a.strip().lower() for a in (chapter.authors or []) if a.strip()]
    book_authors = [a.strip().lower() for a in (book.meta.authors or []) if a.strip()]
    return bool(mine) and mine != book_authors


def _drop_byline(body: etree._Element) -> None:
    for child in body:
        if isinstance(child.tag, str):
            if child.tag == "header" and "chapter-opening" in (child.get("class") or "").split():
                for p in child.findall("p"):
                    if "byline" in (p.get("class") or "").split():
                        remove_keep_tail(p)
            break


def to_xhtml(el: etree._Element) -> etree._Element:
    """A copy of an un-namespaced HTML tree in the XHTML namespace (epub:type kept as epub:type)."""
    src = copy.deepcopy(el)
    root = etree.Element(f"{{{XHTML_NS}}}{src.tag}", nsmap={None: XHTML_NS, "epub": EPUB_NS})
    for k, v in src.attrib.items():
        root.set(k, v)
    root.text = src.text
    root.tail = src.tail
    for child in list(src):
        root.append(child)  # moved under a parent that declares the default namespace
    for node in root.iter():
        if isinstance(node.tag, str) and not node.tag.startswith("{"):
            node.tag = f"{{{XHTML_NS}}}{node.tag}"
    for math in list(root.iter(f"{{{MATHML_NS}}}math")):
        # MathML written as <math xmlns="…">, as readers and people expect, not with a prefix
        clean = etree.Element(math.tag, dict(math.attrib), nsmap={None: MATHML_NS})
        clean.text, clean.tail = math.text, math.tail
        clean.extend(list(math))
        math.getparent().replace(math, clean)
    etree.cleanup_namespaces(root, top_nsmap={None: XHTML_NS, "epub": EPUB_NS})
    return root


def xhtml_document(title: str, lang: str, body_children: list[etree._Element] | etree._Element,
                   css_hrefs: list[str] = (), body_attrs: dict[str, str] | None = None) -> bytes:
    """A complete XHTML5 document (bytes, UTF-8) with the given body content (un-namespaced)."""
    html = etree.Element(f"{{{XHTML_NS}}}html", nsmap={None: XHTML_NS, "epub": EPUB_NS})
    html.set("lang", lang)
    html.set("{http://www.w3.org/XML/1998/namespace}lang", lang)
    head = etree.SubElement(html, f"{{{XHTML_NS}}}head")
    etree.SubElement(head, f"{{{XHTML_NS}}}meta", charset="utf-8")
    etree.SubElement(head, f"{{{XHTML_NS}}}title").text = title or "Untitled"
    for href in css_hrefs:
        etree.SubElement(head, f"{{{XHTML_NS}}}link", rel="stylesheet", type="text/css", href=href)
    body = etree.SubElement(html, f"{{{XHTML_NS}}}body")
    for k, v in (body_attrs or {}).items():
        if k.startswith("epub:"):
            body.set(f"{{{EPUB_NS}}}{k[5:]}", v)
        else:
            body.set(k, v)
    if isinstance(body_children, etree._Element):
        body_children = [body_children]
    for child in body_children:
        body.append(to_xhtml(child))
    return etree.tostring(html, xml_declaration=True, encoding="utf-8", doctype="<!DOCTYPE html>")
