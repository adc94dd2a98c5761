"""Navigation: the nav document (contents, landmarks, page-list) and the EPUB 2 NCX.

The contents list the front matter too, as a printed book's contents do, and each chapter's
headings down to ``[epub] toc-depth``. The page-list (and the NCX pageList) name the print
edition's folios where the page map put its markers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from lxml import etree

from ...document import EPUB_TYPE
from ...htmlmodel import HEADINGS
from .package import Doc, book_identifier
from .xhtml import etype, visible_text

if TYPE_CHECKING:
    from .builder import EpubBuilder

# Containers whose headings are not part of the contents (notes, quotations, cards, figures).
NOT_IN_TOC = {"aside", "blockquote", "figure", "table", "nav", "details", "header"}


@dataclass
class TocEntry:
    title: str
    href: str
    children: list["TocEntry"] = field(default_factory=list)



def nav_document(b: EpubBuilder) -> Doc:
    """nav.xhtml: the visible contents, the hidden landmarks and page-list."""
    w = b.words
    doc = Doc("nav.xhtml", "nav", w("contents"), properties=["nav"])
    children = []
    toc = etree.Element("nav", {"id": "toc", "role": "doc-toc", "class": "pp-toc"})
    toc.set(EPUB_TYPE, "toc")
    h = etree.SubElement(toc, "h1")
    h.text = w("contents")
    ol = etree.SubElement(toc, "ol")
    b.facts.landmarks.setdefault("toc", "nav.xhtml#toc")
    # the front matter is listed too, as in a printed book's contents
    for kind, label in (("cover", w("cover")), ("titlepage", b.title), ("toc", w("contents"))):
        href = b.facts.landmarks.get(kind)
        if href:
            li = etree.SubElement(ol, "li")
            a = etree.SubElement(li, "a", href=href)
            a.text = label
    toc_list(ol, b.toc)
    children.append(toc)

    lm = etree.Element("nav", {"id": "landmarks", "hidden": "hidden"})
    lm.set(EPUB_TYPE, "landmarks")
    h = etree.SubElement(lm, "h2")
    h.text = w("landmarks")
    ol = etree.SubElement(lm, "ol")
    names = {"cover": w("cover"), "titlepage": w("title-page"), "toc": w("contents"),
             "bodymatter": w("start-of-content"), "bibliography": w("sources"),
             "endnotes": w("notes"), "glossary": w("glossary"), "index": w("index")}
    b.facts.landmarks.setdefault("toc", "nav.xhtml#toc")
    for kind in ("cover", "titlepage", "toc", "bodymatter", "bibliography", "endnotes",
                 "glossary", "index"):
        href = b.facts.landmarks.get(kind)
        if href:
            li = etree.SubElement(ol, "li")
            a = etree.SubElement(li, "a", href=href)
            a.set(EPUB_TYPE, kind)
            a.text = names[kind]
    children.append(lm)

    if b.pages:
        pl = etree.Element("nav", {"id": "page-list", "hidden": "hidden"})
        pl.set(EPUB_TYPE, "page-list")
        h = etree.SubElement(pl, "h2")
        h.text = w("pages")
        ol = etree.SubElement(pl, "ol")
        for href, label in b.pages:
            li = etree.SubElement(ol, "li")
            a = etree.SubElement(li, "a", href=href)
            a.text = label
        children.append(pl)
    doc.content = b.document(w("contents"), b.lang, children, doc.file,
                                 {"epub:type": "frontmatter"})
    return doc


def ncx(b: EpubBuilder) -> bytes:
    """toc.ncx for EPUB 2 reading systems, with a pageList when there are page numbers."""
    ncx_ns = "http://www.daisy.org/z3986/2005/ncx/"
    root = etree.Element(f"{{{ncx_ns}}}ncx", nsmap={None: ncx_ns}, version="2005-1")
    root.set("{http://www.w3.org/XML/1998/namespace}lang", b.lang)
    head = etree.SubElement(root, f"{{{ncx_ns}}}head")

    def depth(entries, d=1):
        return max((depth(e.children, d + 1) for e in entries), default=d - 1)

    numeric = [int(lab) for _, lab in b.pages if lab.isdigit()]
    for name, content in (("dtb:uid", book_identifier(b.book)), ("dtb:depth", str(max(1, depth(b.toc)))),
                          ("dtb:totalPageCount", str(len(b.pages))),
                          ("dtb:maxPageNumber", str(max(numeric, default=0)))):
        etree.SubElement(head, f"{{{ncx_ns}}}meta", name=name, content=content)
    t = etree.SubElement(etree.SubElement(root, f"{{{ncx_ns}}}docTitle"), f"{{{ncx_ns}}}text")
    t.text = b.title
    for author in b.book.meta.authors:
        a = etree.SubElement(etree.SubElement(root, f"{{{ncx_ns}}}docAuthor"),
                             f"{{{ncx_ns}}}text")
        a.text = author
    nav_map = etree.SubElement(root, f"{{{ncx_ns}}}navMap")
    counter = [0]

    def point(parent, label, href):
        counter[0] += 1
        np_ = etree.SubElement(parent, f"{{{ncx_ns}}}navPoint", id=f"np-{counter[0]}",
                               playOrder=str(counter[0]))
        lab = etree.SubElement(etree.SubElement(np_, f"{{{ncx_ns}}}navLabel"),
                               f"{{{ncx_ns}}}text")
        lab.text = label
        etree.SubElement(np_, f"{{{ncx_ns}}}content", src=href)
        return np_

    def add(parent, entries):
        for e in entries:
            add(point(parent, e.title, e.href), e.children)

    if "cover" in b.facts.landmarks:
        point(nav_map, b.words("cover"), b.facts.landmarks["cover"])
    if "titlepage" in b.facts.landmarks:
        point(nav_map, b.title, b.facts.landmarks["titlepage"])
    point(nav_map, b.words("contents"), "nav.xhtml")
    add(nav_map, b.toc)
    if b.pages:
        pl = etree.SubElement(root, f"{{{ncx_ns}}}pageList")
        lab = etree.SubElement(etree.SubElement(pl, f"{{{ncx_ns}}}navLabel"),
                               f"{{{ncx_ns}}}text")
        lab.text = b.words("pages")
        for k, (href, label) in enumerate(b.pages, 1):
            counter[0] += 1
            target = etree.SubElement(pl, f"{{{ncx_ns}}}pageTarget", id=f"pt-{k}",
                                      type="normal" if label.isdigit() else "front",
                                      playOrder=str(counter[0]))
            if label.isdigit():
                target.set("value", label)
            t = etree.SubElement(etree.SubElement(target, f"{{{ncx_ns}}}navLabel"),
                                 f"{{{ncx_ns}}}text")
            t.text = label
            etree.SubElement(target, f"{{{ncx_ns}}}content", src=href)
    return etree.tostring(root, xml_declaration=True, encoding="utf-8", pretty_print=True)

# ---- package -----------------------------------------------------------------------------



def toc_list(ol: etree._Element, entries: list[TocEntry]) -> None:
    for e in entries:
        li = etree.SubElement(ol, "li")
        a = etree.SubElement(li, "a", href=e.href)
        a.text = e.title
        if e.children:
            toc_list(etree.SubElement(li, "ol"), e.children)


def sections(body: etree._Element, file: str, title_h1, depth: int = 3,
             notes_label: str = "Notes") -> list[TocEntry]:
    """Nested contents of a chapter: its headings down to level `depth` (h2, h3 by default)."""
    root: list[TocEntry] = []
    stack: list[tuple[int, TocEntry]] = []
    for h in body.iter(*HEADINGS):
        if h is title_h1 or any(a.tag in NOT_IN_TOC for a in h.iterancestors()):
            continue
        level = int(h.tag[1])
        if level > depth:
            continue
        text = visible_text(h)
        if not text or not h.get("id"):
            continue
        entry = TocEntry(text, f"{file}#{h.get('id')}")
        while stack and stack[-1][0] >= level:
            stack.pop()
        (stack[-1][1].children if stack else root).append(entry)
        stack.append((level, entry))
    # a chapter's notes (no heading of their own) are a place to go to as well
    for el in body.iter("section", "aside", "div", "ol"):
        if etype(el) & {"footnotes", "endnotes", "rearnotes"} and el.get("id") \
                and not any(True for _ in el.iter(*HEADINGS)):
            root.append(TocEntry(notes_label, f"{file}#{el.get('id')}"))
            break
    return root

