"""Figures and captions: an image or embed standing alone becomes a ``<figure>``.

Bloggers caption a picture with an italic line right under it, often led by a citation number:
``![..](x.jpg)`` then ``[2] _Picture in question misused by news sites._`` — in the same paragraph
or the next. Such a line becomes the ``<figcaption>``; the citation number stays in it (the citations
stage links it). An image inside running text stays inline.
"""

from __future__ import annotations

import re

from lxml import etree

from ..document import Book, Chapter

_CITE_PREFIX = re.compile(r"^\s*(\[\s*\d+(?:\s*[,;–-]\s*\d+)*\s*\]\s*)?$")
_EMPH = ("em", "i")


def run(book: Book) -> None:
    for chapter in book.chapters:
        make_figures(chapter)


def _is_media(el: etree._Element) -> bool:
    if el.tag in ("img", "pp-embed"):
        return True
    if el.tag == "a":  # a linked image
        kids = [k for k in el if isinstance(k.tag, str)]
        return len(kids) == 1 and kids[0].tag == "img" and not (el.text or "").strip() \
            and not (kids[0].tail or "").strip()
    return False


def _split(p: etree._Element):
    """(media, caption_parts) when p is media followed by nothing or by one caption line."""
    if (p.text or "").strip():
        return None
    media: list[etree._Element] = []
    rest: list[etree._Element] = []
    for child in p:
        if not isinstance(child.tag, str):
            return None
        if not rest and _is_media(child):
            media.append(child)
            if (child.tail or "").strip():
                rest.append(child)  # text right after the media: judged as a caption below
            continue
        if not rest and child.tag == "br":
            if (child.tail or "").strip():
                rest.append(child)
            continue
        rest.append(child)
    if not media:
        return None
    if not rest:
        return media, None
    # Caption candidate: the text after the last media/br plus the remaining elements.
    lead = (rest[0].tail or "") if (rest[0] in media or rest[0].tag == "br") else None
    elements = [e for e in rest if not (e in media or (e is rest[0] and e.tag == "br"))]
    if lead is None:
        lead = ""
    if len(media) != 1 or not _is_caption(lead, elements):
        return None
    return media, (lead, elements)


def _is_caption(lead: str, elements: list[etree._Element]) -> bool:
    content = [e for e in elements if e.tag != "br"]
    if len(content) != 1 or content[0].tag not in _EMPH:
        return False
    if not _CITE_PREFIX.match(lead):
        return False
    return all(not (e.tail or "").strip(" \t\n.") for e in elements)


def _caption_paragraph(p: etree._Element | None):
    """(lead text, elements) when p is a paragraph holding only a caption line."""
    if p is None or p.tag != "p":
        return None
    elements = [c for c in p if isinstance(c.tag, str)]
    if _is_caption(p.text or "", elements):
        return (p.text or ""), elements
    return None


def _figure(media: list[etree._Element], caption, line) -> etree._Element:
    fig = etree.Element("figure")
    fig.sourceline = line
    for m in media:
        m.tail = None
        fig.append(m)
    if caption is not None:
        lead, elements = caption
        text = " ".join("".join(t for e in elements for t in e.itertext()).split())
        for img in fig.iter("img"):
            if text and (not img.get("alt", "").strip() or img.get("alt") == img.get("src")):
                img.set("alt", text)  # a URL as alt text tells a listener nothing; the caption does
        cap = etree.SubElement(fig, "figcaption")
        cap.sourceline = line
        cap.text = lead.strip() + " " if lead.strip() else None
        for e in elements:
            if e.tag == "br":
                continue
            e.tail = None
            cap.append(e)
    return fig


def make_figures(chapter: Chapter) -> None:
    for p in list(chapter.body.iter("p")):
        if p.getparent() is None:
            continue
        found = _split(p)
        if found is None:
            continue
        media, caption = found
        if caption is None and len(media) == 1:
            nxt = p.getnext()
            caption = _caption_paragraph(nxt)
            if caption is not None:
                nxt.getparent().remove(nxt)
        figures = [_figure([m], caption if len(media) == 1 else None, p.sourceline or m.sourceline)
                   for m in media]
        tail = p.tail
        for fig in reversed(figures):
            p.addnext(fig)
        figures[-1].tail = tail
        p.getparent().remove(p)
    # An embed that stood alone at block level, with its caption line in the next paragraph.
    for emb in list(chapter.body.iter("pp-embed")):
        parent = emb.getparent()
        if parent is None or parent.tag == "figure" or parent.tag == "p":
            continue
        nxt = emb.getnext()
        caption = _caption_paragraph(nxt) if not (emb.tail or "").strip() else None
        if caption is None:
            continue
        nxt.getparent().remove(nxt)
        fig = _figure([], caption, emb.sourceline)
        emb.addprevious(fig)
        fig.insert(0, emb)
        emb.tail = None
