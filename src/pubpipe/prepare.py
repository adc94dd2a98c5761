"""A chapter prepared for one output: what the print layout and every writer do to a chapter
before serializing it.

Each gets a *copy* of a chapter body (the book itself is never changed), with images pointed at
that output's copies of the processed asset variants and the output-specific markers resolved
(``pp-print-only`` / ``pp-screen-only`` content, ``pp-qr`` QR codes). See ``document.py`` for the
conventions. It sits below both the layout stage and the writers so that neither imports the other.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable

from lxml import etree

from .document import Asset, Book, Chapter, Variant
from .util import remove_keep_tail

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
