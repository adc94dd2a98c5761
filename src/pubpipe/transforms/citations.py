"""Numbered citations: ``[3, 6, 9]`` in the text link to the entries of the Sources list.

The list is found under a heading such as "Sources" or "References": paragraphs or list items led by
``[n]``, or an ordered list. Each entry gets an id (``source-N``) and links back to every place that
cites it; the section is marked as the bibliography (``epub:type``/``role``). Numbers that match no
entry are left as text: a bracketed number is not always a citation.
"""

from __future__ import annotations

import re

from lxml import etree

from ..document import EPUB_TYPE, Book, Chapter
from ..util import text_of

_HEADING = re.compile(r"^\s*(sources?|references?|bibliography|works cited|citations|notes and "
                      r"references|quellen|literatur|quellenverzeichnis|literaturverzeichnis|"
                      r"bibliographie|références|fuentes)\s*:?\s*$", re.I)
_ENTRY = re.compile(r"^\s*\[(\d+)\]\s*")
_CITE = re.compile(r"\[(\d+(?:\s*,\s*\d+)*)\]")
_SKIP = {"a", "code", "pre", "kbd", "samp", "h1", "h2", "h3", "h4", "h5", "h6"}


def run(book: Book) -> None:
    for chapter in book.chapters:
        link_citations(chapter)


def _find_sources(body: etree._Element) -> tuple[etree._Element, dict[int, etree._Element]] | None:
    for h in body.iter("h2", "h3", "h4", "h5", "h6", "p"):
        if h.tag == "p":
            strong = h.find("strong")
            if strong is None or not _HEADING.match(text_of(h)):
                continue
        elif not _HEADING.match(text_of(h)):
            continue
        entries: dict[int, etree._Element] = {}
        for sib in h.itersiblings():
            if not isinstance(sib.tag, str):
                continue
            if sib.tag in ("p", "li"):
                m = _ENTRY.match(text_of(sib))
                if m:
                    entries[int(m.group(1))] = sib
                    continue
                if not entries:
                    break
                break
            if sib.tag in ("ol", "ul") and not entries:
                start = int(sib.get("start", "1")) if sib.tag == "ol" else 1
                for i, li in enumerate(sib.findall("li")):
                    m = _ENTRY.match(text_of(li))
                    entries[int(m.group(1)) if m else start + i] = li
                break
            break
        if entries:
            return h, entries
    return None


def link_citations(chapter: Chapter) -> None:
    found = _find_sources(chapter.body)
    if not found:
        return
    heading, entries = found
    ids = {n: f"source-{n}" for n in entries}
    for n, entry in entries.items():
        entry.set("id", ids[n])
        entry.set("class", (entry.get("class", "") + " pp-source").strip())
    cites: dict[int, list[str]] = {}
    entry_nodes = set()
    for e in entries.values():
        entry_nodes.update(e.iter())
    for node in list(chapter.body.iter()):
        if not isinstance(node.tag, str) or node in entry_nodes or node.tag in _SKIP:
            continue
        if any(a.tag in _SKIP for a in node.iterancestors()):
            continue
        _link_text(node, "text", entries, ids, cites)
        for child in list(node):
            if child.get("class") != "pp-cite":  # tails of our own spans are already linked
                _link_text(child, "tail", entries, ids, cites)
    for n, entry in entries.items():
        for k, cite_id in enumerate(cites.get(n, []), 1):
            back = etree.SubElement(entry, "a", href=f"#{cite_id}")
            back.set("class", "pp-backlink")
            back.set("role", "doc-backlink")
            back.set("title", f"Back to citation {k} of [{n}]")
            back.text = "\u21a9\ufe0e" if len(cites[n]) == 1 else f"\u21a9\ufe0e{k}"
            back.tail = None
            prev = back.getprevious()
            if prev is not None and prev is not back:
                prev.tail = (prev.tail or "").rstrip() + " "
            elif entry.text is not None:
                entry.text = entry.text.rstrip() + " "
    _mark_section(heading, entries)


def _link_text(node, which, entries, ids, cites) -> None:
    text = getattr(node, which)
    if not text or "[" not in text:
        return
    pieces = []
    for m in _CITE.finditer(text):
        numbers = [int(x) for x in re.split(r"\s*,\s*", m.group(1))]
        if not all(n in entries for n in numbers):
            continue
        pieces.append((m.start(), m.end(), numbers))
    if not pieces:
        return
    # Rebuild: text before the first citation stays; each citation becomes links.
    new_nodes: list[etree._Element] = []
    head = text[:pieces[0][0]]
    for i, (start, end, numbers) in enumerate(pieces):
        span = etree.Element("span")
        span.set("class", "pp-cite")
        span.text = "["
        for j, n in enumerate(numbers):
            cite_id = f"cite-{n}-{len(cites.setdefault(n, [])) + 1}"
            cites[n].append(cite_id)
            a = etree.SubElement(span, "a", href=f"#{ids[n]}", id=cite_id)
            a.set("role", "doc-biblioref")
            a.text = str(n)
            a.tail = ", " if j < len(numbers) - 1 else "]"
        following = pieces[i + 1][0] if i + 1 < len(pieces) else len(text)
        span.tail = text[end:following]
        new_nodes.append(span)
    setattr(node, which, head)
    if which == "text":
        for k, el in enumerate(new_nodes):
            node.insert(k, el)
    else:
        anchor = node
        for el in new_nodes:
            anchor.addnext(el)
            anchor = el


def _mark_section(heading: etree._Element, entries: dict[int, etree._Element]) -> None:
    """Wrap the heading and its entries in <section epub:type="bibliography">."""
    parent = heading.getparent()
    if heading.tag == "p" or parent is None:
        return
    last = max(entries.values(), key=lambda e: list(parent).index(e) if e.getparent() is parent
               else list(parent).index(e.getparent()))
    last_top = last if last.getparent() is parent else last.getparent()
    section = etree.Element("section")
    section.set(EPUB_TYPE, "bibliography")
    section.set("role", "doc-bibliography")
    section.set("class", "pp-sources")
    section.sourceline = heading.sourceline
    heading.addprevious(section)
    members = [heading] + list(heading.itersiblings())
    for el in members:
        section.append(el)
        if el is last_top:
            break
    section.tail = last_top.tail
    last_top.tail = None
