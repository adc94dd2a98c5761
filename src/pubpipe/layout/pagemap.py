"""The page map: which block of which chapter each printed page begins with, and its first words.

``mark_blocks`` tags every block of a chapter copy with its path (``data-pp-block="i.j.k"``) before
the print markup is made; after layout, the topmost marked block that begins on a page says where
the page begins (``measure.read_layout``). The first words printed on each page (from the PDF's
text, ``pdfwords``) refine that to the word, for pages that begin mid-paragraph. Readers of the map (the EPUB
writer) use ``mark_blocks`` and ``block_at`` to find the same blocks in their own copy.
"""

from __future__ import annotations

import copy
import dataclasses
import re
import unicodedata

from lxml import etree

from ..document import Chapter
from ..htmlmodel import BLOCK_TAGS
from .edition import BlockPath, PageMap, PageStart
from .pdfwords import PrintedPage
from .settings import PrintSettings, margins, page_boxes, text_height


# starts the bookmark label that marks where a block of a piece is laid out (print.css
# [data-ppw-b]; measure.block_marks takes them out of the pages' bookmarks)
BLOCK_MARK = "\ue000"


def mark_blocks(chapter: Chapter) -> Chapter:
    """A copy of chapter whose block elements carry ``data-pp-block="i.j.k"`` (their path)."""
    body = copy.deepcopy(chapter.body)

    def walk(el, path):
        kids = [c for c in el if isinstance(c.tag, str)]
        for i, c in enumerate(kids):
            p = (*path, i)
            if c.tag in BLOCK_TAGS:
                c.set("data-pp-block", ".".join(map(str, p)))
            walk(c, p)

    walk(body, ())
    return dataclasses.replace(chapter, body=body)


def block_at(body: etree._Element, path: BlockPath) -> etree._Element | None:
    """The element at path (see ``edition.PageStart``) under body, or None."""
    el = body
    for i in path:
        kids = [c for c in el if isinstance(c.tag, str)]
        if i >= len(kids):
            return None
        el = kids[i]
    return el


def words(text: str) -> list[str]:
    """Words as the page map compares them: NFKC, case-folded."""
    return re.findall(r"\w+", unicodedata.normalize("NFKC", text).casefold())


def build(starts: dict[str, list[tuple[BlockPath, str]]], labels: list[str],
          first: list[tuple[tuple[str, ...], tuple[str, ...]]]) -> PageMap:
    """The page map from the blocks each page begins with and the first words printed on each
    page (``first_words``, by page index)."""
    at = {label: first[i] for i, label in enumerate(labels) if i < len(first)}
    return {slug: [PageStart(tuple(path), label, *at.get(label, ((), ())))
                   for path, label in entries] for slug, entries in starts.items()}


def text_area(s: PrintSettings) -> tuple[float, float, float, float]:
    """(x, y, width, height) of the text block's band on the page, from the media box's top left
    corner, in points: running heads and folios lie outside it."""
    top, _, _, _ = margins(s)
    boxes = page_boxes(s, 0)
    media, trim = boxes["MediaBox"], boxes["TrimBox"]
    y = (media[3] - trim[3]) + top
    return 0.0, y, media[2] - media[0], text_height(s)


def first_words(pages: list[PrintedPage], limit: int = 40
                ) -> list[tuple[tuple[str, ...], tuple[str, ...]]]:
    """Per page, the first words printed in its text block (``pdfwords.read_pages`` with
    ``text_area``): as printed, and without the URLs print shows after link texts."""
    out = []
    for page in pages:
        # words broken at the line end by hyphenation are one word again
        text = re.sub(r"[\u2010\u00ad-]\s*\n\s*(?=\w)", "", page.text)
        # "<https://…>" after a link's text is print-only (the EPUB keeps it in href)
        loose = re.sub(r"<[a-z][a-z0-9+.-]*:[^<>]*>", " ", text, flags=re.I)
        out.append((tuple(words(text)[:limit]), tuple(words(loose)[:limit])))
    return out
