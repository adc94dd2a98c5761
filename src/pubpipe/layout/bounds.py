"""How much paper a chapter would take, estimated before anything is laid out.

WeasyPrint lays a chapter out on one core at 15-60 ms per page (list items cost most: their
markers are positioned boxes), so a post of 70,000 one-line paragraphs or list items (about
2,500 pages) would keep a build busy for many minutes. Such a chapter is refused for print at
once, naming the post, instead of being laid out; no printer binds it anyway (KDP: at most 828
pages). The estimate is linear in the chapter and errs on the long side.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..document import Book, Chapter
from .settings import PrintSettings, parse_length, text_height, text_width

MAX_CHAPTER_PAGES = 500  # estimated printed pages (errs long) of one chapter, laid out on one core

# Block elements that hold a line of their own (containers such as ul or div add none).
_LINE_BLOCKS = frozenset({"p", "li", "dt", "dd", "h1", "h2", "h3", "h4", "h5", "h6", "tr",
                          "figcaption", "hr", "summary", "address"})
_LEADING = 1.4  # print.css: body line-height
_BLOCK_LINES = 1.3  # a block's partial last line and the space after it, in lines
_CHAR_EM = 0.48  # an average character's advance, in em (Noto Serif text)


@dataclass(frozen=True)
class Estimate:
    chapter: Chapter
    pages: int
    blocks: int


def estimate(chapter: Chapter, settings: PrintSettings) -> Estimate:
    """The chapter's printed pages, from its blocks and characters (no layout)."""
    font = parse_length(settings.font_size) or 10.5
    per_line = max(text_width(settings) / (font * _CHAR_EM), 10.0)
    per_page = max(text_height(settings) / (font * _LEADING), 5.0)
    blocks = 0
    lines = 0.0
    for el in chapter.body.iter():
        if not isinstance(el.tag, str):
            continue
        if el.tag in _LINE_BLOCKS:
            blocks += 1
        if el.tag == "pre":
            lines += (el.xpath("string()") or "").count("\n")
    chars = len(chapter.body.xpath("string()") or "")
    lines += blocks * _BLOCK_LINES + chars / per_line
    return Estimate(chapter, int(lines / per_page) + 1, blocks)


def too_long(book: Book, settings: PrintSettings) -> list[Estimate]:
    """The chapters estimated to print longer than MAX_CHAPTER_PAGES."""
    out = []
    for ch in book.chapters:
        e = estimate(ch, settings)
        if e.pages > MAX_CHAPTER_PAGES:
            out.append(e)
    return out


def message(e: Estimate) -> str:
    return (f"too long to print as one chapter: about {e.pages:,} pages ({e.blocks:,} paragraphs,"
            f" list items and other blocks); a chapter may print at most {MAX_CHAPTER_PAGES:,}"
            " pages: split the post into several chapters, or build the EPUB alone"
            " (--format epub)")
