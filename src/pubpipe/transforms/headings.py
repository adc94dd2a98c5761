"""Heading levels: after the chapter title (the one h1) levels go down one step at a time.

Posts often pick a level for its look: ``####`` straight under the title, or an ``h3`` under an
``h1``. A reader navigating by headings (a screen reader, Ace's ``heading-order`` check, PDF/UA)
then meets a hole in the outline. Each heading is renumbered from its place in the outline the
author wrote: one level below the nearest earlier heading of a higher rank, so the structure stays
(siblings stay siblings, sections keep their subsections) and only the holes close:
``h1 h4 h4 h5 h3`` becomes ``h1 h2 h2 h3 h2``. The chapter title (the first h1) stays. An info
diagnostic per chapter says what moved. An empty heading (``<h2></h2>``) is no heading at all.
"""

from __future__ import annotations

from lxml import etree

from ..document import Book, Chapter
from ..htmlmodel import HEADINGS
from ..util import remove_keep_tail, text_of


def outline_levels(levels: list[int], top: int = 1) -> list[int]:
    """New levels for headings of the given levels, in order, below a title of level ``top``.

    A heading is one level deeper than the nearest earlier heading of a strictly higher rank
    (a smaller number), else one below the title; h6 is the deepest level HTML has.
    """
    stack: list[tuple[int, int]] = []  # (level as written, level given)
    out = []
    for level in levels:
        while stack and stack[-1][0] >= level:
            stack.pop()
        new = min(6, (stack[-1][1] if stack else top) + 1)
        stack.append((level, new))
        out.append(new)
    return out


def _empty(h: etree._Element) -> bool:
    """A heading with nothing to say: no text, no image with alt text."""
    return not text_of(h).strip() and not any((i.get("alt") or "").strip() for i in h.iter("img"))


def fix_chapter(ch: Chapter) -> list[tuple[etree._Element, int, int]]:
    """Renumber the chapter's headings in place; returns (heading, old, new) for those moved.

    An empty heading names no section: it goes (its anchors and images stay, as a paragraph).
    """
    for h in list(ch.body.iter(*HEADINGS)):
        if _empty(h):
            if len(h):
                h.tag = "p"
            else:
                remove_keep_tail(h)
    headings = [h for h in ch.body.iter(*HEADINGS)]
    title = next((h for h in headings if h.tag == "h1"), None)
    rest = [h for h in headings if h is not title]
    moved = []
    for h, new in zip(rest, outline_levels([int(h.tag[1]) for h in rest])):
        old = int(h.tag[1])
        if new != old:
            h.tag = f"h{new}"
            moved.append((h, old, new))
    return moved


def run(book: Book) -> None:
    for ch in book.chapters:
        moved = fix_chapter(ch)
        if moved:
            pairs = sorted({(old, new) for _, old, new in moved})
            what = ", ".join(f"h{old} to h{new}" for old, new in pairs)
            book.diagnostics.info("heading-levels", f"{len(moved)} heading(s) renumbered so that"
                                  f" levels do not skip ({what})", ch.source,
                                  moved[0][0].sourceline)
