"""The page map: which block of which chapter each printed page begins with, and its first words.

``mark_blocks`` tags every block of a chapter copy with its path (``data-pp-block="i.j.k"``) before
the print markup is made; after layout, the topmost marked block that begins on a page says where
the page begins (``measure.read_layout``). The first words printed on each page (from the PDF's
text) refine that to the word, for pages that begin mid-paragraph. Readers of the map (the EPUB
writer) use ``mark_blocks`` and ``block_at`` to find the same blocks in their own copy.
"""

from __future__ import annotations

import copy
import dataclasses
import io
import re
import unicodedata
from pathlib import Path

from lxml import etree

from ..document import Chapter
from ..htmlmodel import BLOCK_TAGS
from .edition import BlockPath, PageMap, PageStart
from .settings import PrintSettings, margins, page_boxes, text_height


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


def build(starts: dict[str, list[tuple[BlockPath, str]]], labels: list[str], pdf: bytes,
          settings: PrintSettings, limit: int = 40) -> PageMap:
    """The page map from the blocks each page begins with and the PDF's text."""
    first = printed_words(pdf, labels, text_area(settings), limit)
    return {slug: [PageStart(tuple(path), label, *first.get(label, ((), ())))
                   for path, label in entries] for slug, entries in starts.items()}


def text_area(s: PrintSettings) -> tuple[float, float, float, float]:
    """(x, y, width, height) of the text block's band on the page, from the media box's top left
    corner, in points: running heads and folios lie outside it."""
    top, _, _, _ = margins(s)
    boxes = page_boxes(s, 0)
    media, trim = boxes["MediaBox"], boxes["TrimBox"]
    y = (media[3] - trim[3]) + top
    return 0.0, y, media[2] - media[0], text_height(s)


def printed_words(pdf: bytes, labels: list[str], area: tuple[float, float, float, float] | None
                  = None, limit: int = 40) -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
    """The first words printed in the text block of each page, by folio ({} if the text cannot be
    read): as printed, and without the URLs print shows after link texts."""
    out = {}
    try:
        texts = page_texts(pdf, area)
    except Exception:  # block-level positions are still right at most pages
        return {}
    for i, text in enumerate(texts):
        if i < len(labels):
            # words broken at the line end by hyphenation are one word again
            text = re.sub(r"[\u2010\u00ad-]\s*\n\s*(?=\w)", "", text)
            # "<https://…>" after a link's text is print-only (the EPUB keeps it in href)
            loose = re.sub(r"<[a-z][a-z0-9+.-]*:[^<>]*>", " ", text, flags=re.I)
            out[labels[i]] = (tuple(words(text)[:limit]), tuple(words(loose)[:limit]))
    return out


def first_words(pdf: bytes, pages: int, area: tuple[float, float, float, float] | None,
                limit: int = 40) -> list[tuple[tuple[str, ...], tuple[str, ...]]]:
    """Per page of a piece, its first printed words (see printed_words), by page index."""
    got = printed_words(pdf, [str(i) for i in range(pages)], area, limit)
    return [got.get(str(i), ((), ())) for i in range(pages)]


def page_texts(pdf: bytes, area: tuple[float, float, float, float] | None = None) -> list[str]:
    """The text of every page (within area, when given: x, y, width, height in points from the top
    left): poppler's pdftotext (0.4 s for 100 pages) when installed, else pypdf (about 60 ms a
    page, the whole page)."""
    import shutil
    import subprocess
    import tempfile

    tool = shutil.which("pdftotext")
    if tool:
        with tempfile.TemporaryDirectory() as d:
            path = Path(d) / "book.pdf"
            path.write_bytes(pdf)
            try:
                crop = [] if area is None else [
                    "-x", str(int(area[0])), "-y", str(int(area[1])), "-W", str(int(area[2] + 1)),
                    "-H", str(int(area[3] + 1))]
                proc = subprocess.run([tool, "-enc", "UTF-8", *crop, str(path), "-"],
                                      capture_output=True, timeout=300)
                if proc.returncode == 0:
                    pages = proc.stdout.decode("utf-8", "replace").split("\f")
                    return pages[:-1] if pages and not pages[-1].strip() else pages
            except (OSError, subprocess.SubprocessError):
                pass
    from pypdf import PdfReader

    return [page.extract_text() or "" for page in PdfReader(io.BytesIO(pdf)).pages]
