"""Footnotes as EPUB 3 notes: ``noteref`` links in the text, ``footnote`` asides in a notes section.

Python-Markdown writes ``<sup><a class="footnote-ref">`` and a ``<div class="footnote">`` list; the
EPUB writer wants ``epub:type="noteref"``/``"footnote"`` (pop-up notes in readers) and the PDF writer
turns the same asides into notes at the foot of the page.
"""

from __future__ import annotations

from lxml import etree

from ..document import EPUB_TYPE, Book, Chapter
from ..util import remove_keep_tail


def run(book: Book) -> None:
    for chapter in book.chapters:
        convert(chapter)


def convert(chapter: Chapter) -> None:
    body = chapter.body
    for div in list(body.iter("div")):
        if "footnote" not in (div.get("class") or "").split():
            continue
        section = etree.Element("section")
        section.set("class", "pp-footnotes")
        section.set(EPUB_TYPE, "footnotes")
        section.set("role", "doc-endnotes")
        section.sourceline = div.sourceline
        for number, li in enumerate(div.iter("li"), 1):
            note_id = li.get("id")
            if not note_id:
                continue
            aside = etree.SubElement(section, "aside", id=note_id)
            aside.set(EPUB_TYPE, "footnote")
            aside.set("role", "doc-footnote")
            aside.set("class", "pp-footnote")
            aside.sourceline = li.sourceline
            backrefs = [a for a in li.iter("a") if "footnote-backref" in (a.get("class") or "")]
            first_ref = backrefs[0].get("href") if backrefs else None
            for a in backrefs:
                remove_keep_tail(a)
            aside.text = li.text
            for child in list(li):
                aside.append(child)
            label = etree.Element("a", href=first_ref) if first_ref else etree.Element("span")
            label.set("class", "pp-note-label")
            if first_ref:
                label.set("role", "doc-backlink")
            label.text = f"{number}."
            label.tail = " "
            first_block = aside[0] if len(aside) and aside[0].tag == "p" and not (aside.text or "").strip() else None
            if first_block is not None:
                label.tail = " " + (first_block.text or "")
                first_block.text = None
                first_block.insert(0, label)
            else:
                label.tail = " " + (aside.text or "")
                aside.text = None
                aside.insert(0, label)
            for p in aside.iter("p"):
                if len(p):
                    p[-1].tail = (p[-1].tail or "").rstrip() or None
                elif p.text:
                    p.text = p.text.rstrip()
        div.addprevious(section)
        section.tail = div.tail
        div.getparent().remove(div)
    for a in list(body.iter("a")):
        if "footnote-ref" not in (a.get("class") or "").split():
            continue
        a.set(EPUB_TYPE, "noteref")
        a.set("role", "doc-noteref")
        a.set("class", "pp-noteref")
        sup = a.getparent()
        if sup is not None and sup.tag == "sup" and sup.get("id") and not a.get("id"):
            a.set("id", sup.attrib.pop("id"))

