"""Ids: valid XML ids, unique across the whole book, and every in-book link pointing at one.

Chapters are separate files in the EPUB but one document in the PDF, so an id must be unique
book-wide. A duplicate or invalid id is renamed and the links in its chapter follow it; a link to an
id that exists nowhere loses its href (its text stays). Every heading gets an id for the contents.
After this stage an ``href="#x"`` may point into another chapter: the EPUB writer resolves it to that
chapter's file through the book-wide id map it can build from the trees.
"""

from __future__ import annotations

import re

from ..document import Book
from ..util import slugify, text_of

_VALID = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")
RESERVED = {"toc", "cover", "title-page", "titlepage", "nav", "landmarks", "page-list", "contents"}


def _valid(value: str) -> str:
    if _VALID.match(value):
        return value
    slug = slugify(value) or "id"
    return slug if slug[0].isalpha() else f"id-{slug}"


def _generated(el) -> bool:
    """Made by a pubpipe stage (the sanitizer strips pp-* classes and roles from posts)."""
    return any(c.startswith("pp-") for c in (el.get("class") or "").split()) or \
        (el.get("role") or "").startswith("doc-")


def run(book: Book) -> None:
    used: set[str] = set(RESERVED)
    renamed_all: dict[str, str] = {}  # first mapping of each old id, for links from other chapters

    def claim(wanted: str) -> str:
        new, n = wanted, 2
        while new in used:
            new, n = f"{wanted}-{n}", n + 1
        used.add(new)
        return new

    for chapter in book.chapters:
        renamed: dict[str, str] = {}
        # pubpipe's own ids (notes, citations, sources) are claimed first: an author's element
        # that happens to use the same id is the one renamed, so generated links stay right.
        elements = [el for el in chapter.body.iter() if isinstance(el.tag, str)]
        elements.sort(key=lambda el: not _generated(el))
        for el in elements:
            old = el.get("id")
            if old is None and el.tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
                old = slugify(text_of(el)) or "section"
            if old is None:
                continue
            new = claim(_valid(old))
            el.set("id", new)
            renamed.setdefault(old, new)
            renamed_all.setdefault(old, new)
        chapter.anchors = renamed
    known = set(used) - RESERVED
    for chapter in book.chapters:
        renamed = chapter.anchors
        for a in chapter.body.iter("a"):
            href = a.get("href") or ""
            if not href.startswith("#"):
                continue
            target = href[1:]
            new = renamed.get(target) or renamed_all.get(target)
            if new and new in known:
                a.set("href", f"#{new}")
            elif target in known:
                continue
            else:
                del a.attrib["href"]
                line = a.sourceline
                book.diagnostics.warn("broken-anchor", f"link to '#{target}' points at nothing in the"
                                      " book; kept as text", chapter.source, line)
