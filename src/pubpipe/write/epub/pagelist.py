"""The print edition's page numbers in the EPUB: a pagebreak marker where each printed page begins.

The layout stage's page map says, per chapter, which block each printed page begins with and the
first words printed on it. Here those words are found in the chapter's EPUB text (``TextStream``),
so a page that begins mid-paragraph gets its marker at the right word; the block is the fallback.
Every marker is ``<span epub:type="pagebreak" role="doc-pagebreak" aria-label="7"/>`` and is
listed in the nav's page-list.
"""

from __future__ import annotations

import bisect
import re
import unicodedata

from lxml import etree

from ...document import EPUB_TYPE
from ...htmlmodel import NO_SPAN_CHILD
from ...layout.edition import PageStart
from ...util import ids_in, unique_name
from .xhtml import MATHML_NS, SVG_NS, safe_id

def insert_markers(body: etree._Element, starts: list[PageStart], file: str
                   ) -> list[tuple[str, str]]:
    """A pagebreak span where each printed page begins, in reading order; returns the
    (href, folio) of each marker for the page-list."""
    by_path: dict[str, etree._Element] = {}
    for el in body.iter():
        if isinstance(el.tag, str) and el.get("data-pp-block") is not None:
            by_path[el.attrib.pop("data-pp-block")] = el
    stream = TextStream(body)
    lo = 0
    placements: list[tuple[int, int, PageStart]] = []  # (token index, order, start)
    # a page that begins with a block holding no word (an image, a rule): its marker goes
    # right before that block, not at the next word, which may be a later page's (or, when
    # the page's first words follow that block, would leave the block on the page before)
    wordless: dict[int, etree._Element] = {}
    if any(ps.words for ps in starts):
        # a trailing page without a word is the blank verso before the next chapter:
        # it has no place in this chapter's text
        while starts and not starts[-1].words and len(starts) > 1:
            starts = starts[:-1]
    for k, ps in enumerate(starts):
        block = body if not ps.path else by_path.get(".".join(map(str, ps.path)))
        if block is None:  # the block is not in the EPUB (print-only): the next one
            block = _next_block(by_path, ps.path)
        hint = stream.first_token(block) if block is not None else None
        at = stream.find(list(ps.words), list(ps.loose), lo) if ps.words else None
        if at is None:
            at = hint if hint is not None and hint >= lo else lo
        if not ps.path and k == 0 and at == stream.first_token(body):
            at = -1  # the chapter's first page: before everything, the opening included
        if (ps.path and block is not None and at == hint
                and not "".join(block.itertext()).strip() and block.getparent() is not None
                and block.getparent().tag not in NO_SPAN_CHILD):
            wordless[k] = block
        placements.append((at, k, ps))
        lo = max(lo, at)
    taken = ids_in(body)
    ids = [unique_name(f"page-{safe_id(ps.label)}", taken) for _, _, ps in placements]
    # insert from the end, so earlier positions in the same text stay valid; markers that
    # share a place keep their page order (each goes before the one of the next page)
    later: tuple[int, etree._Element] | None = None  # (place, marker) inserted last
    for at, k, ps in sorted(placements, key=lambda t: (t[0], t[1]), reverse=True):
        span = etree.Element("span", {"id": ids[k],
                                      "role": "doc-pagebreak", "aria-label": ps.label,
                                      "class": "pp-pagebreak"})
        span.set(EPUB_TYPE, "pagebreak")
        if k in wordless:
            wordless[k].addprevious(span)
            continue
        if later is not None and later[0] == at:
            later[1].addprevious(span)
        elif at < 0 or at >= len(stream.tokens):
            if at < 0 or not len(body):
                span.tail, body.text = body.text, None
                body.insert(0, span)
            else:
                body.append(span)
        else:
            stream.insert_before(at, span)
        later = (at, span)
    return [(f"{file}#{ids[k]}", ps.label) for at, k, ps in placements]

# ---- navigation --------------------------------------------------------------------------


def _next_block(by_path: dict[str, etree._Element], path: tuple[int, ...]):
    """The first marked block after path in document order (for blocks the EPUB leaves out)."""
    later = [tuple(int(x) for x in k.split(".")) for k in by_path]
    later = sorted(p for p in later if p > tuple(path))
    return by_path[".".join(map(str, later[0]))] if later else None


_DRAWN = {"img", "svg", f"{{{SVG_NS}}}svg", "video", "audio", "object", "canvas", "math",
          f"{{{MATHML_NS}}}math", "hr", "table"}


def _drawn_before(el: etree._Element, node: etree._Element, which: str) -> bool:
    """Whether el holds something drawn (an image, a rule...) before the text node."""
    for d in el.iter():
        if d is node and which == "text":
            return False
        if d.tag in _DRAWN:
            return True
        if d is node:  # a tail: everything inside node came before it
            return any(x.tag in _DRAWN for x in node.iter())
    return False


class TextStream:
    """The words of a chapter body in reading order, each tied to the text node it sits in.

    Only text where a <span> may stand is included (not inside SVG or MathML).
    """

    def __init__(self, body: etree._Element):
        self.tokens: list[tuple[str, etree._Element, str, int]] = []  # word, node, which, offset
        self._enter: dict[int, int] = {}  # id(element) -> index of its first token
        # Print repeats a table's header on every page the table spans: a page never begins
        # inside a <thead>, so its words are no place to put a marker.
        self._in_head: set[int] = set()
        self._walk(body)
        self._words = [t[0] for t in self.tokens]
        self._where: dict[str, list[int]] = {}  # word -> its token indexes, ascending
        for i, w in enumerate(self._words):
            self._where.setdefault(w, []).append(i)

    def _from(self, word: str, lo: int) -> list[int]:
        """Token indexes of word at or after lo."""
        places = self._where.get(word, [])
        return places[bisect.bisect_left(places, lo):]

    def _walk(self, el: etree._Element) -> None:
        self._enter[id(el)] = len(self.tokens)
        if not isinstance(el.tag, str) or el.tag.startswith("{"):
            return  # comments, foreign content
        start = len(self.tokens)
        self._add(el, "text", el.text)
        for child in el:
            if isinstance(child.tag, str):
                self._walk(child)
            self._add(child, "tail", child.tail)
        if el.tag == "thead":
            self._in_head.update(range(start, len(self.tokens)))

    def _add(self, node, which: str, text: str | None) -> None:
        if not text:
            return
        norm = unicodedata.normalize("NFKC", text)
        if len(norm) != len(text):  # offsets must refer to the raw text: tokenise it as it is
            norm = text
        for m in re.finditer(r"\w+", norm):
            self.tokens.append((m.group().casefold(), node, which, m.start()))

    def first_token(self, el: etree._Element | None) -> int | None:
        return None if el is None else self._enter.get(id(el))

    def _hoist(self, index: int) -> etree._Element | None:
        """The outermost element that begins with this word (nothing drawn before it, or a
        figure: its image and caption share a page), if a span may stand before it."""
        _, node, which, _ = self.tokens[index]
        el = node if which == "text" else node.getparent()
        best = None
        while el is not None and el.getparent() is not None:
            if self._enter.get(id(el)) != index:
                break
            if el.tag != "figure" and _drawn_before(el, node, which):
                break
            if el.getparent().tag not in NO_SPAN_CHILD:
                best = el
            el = el.getparent()
        return best

    def find(self, words: list[str], loose: list[str], lo: int) -> int | None:
        """Index of the first token at or after lo where a run of the page's words begins.

        First five words printed together (as printed, then without print-only URLs), a few
        words into the page at most; else the best in-order match of the page's words.
        """
        toks = self._words
        for seq in (words, loose):
            for j in range(min(15, len(seq))):
                run = seq[j:j + 5]
                if len(run) < 3:
                    break
                n = len(run)
                hits = [i for i in self._from(run[0], lo)
                        if toks[i:i + n] == run and i not in self._in_head]
                # repeated text (boilerplate, refrains): read on until one place is left
                while len(hits) > 1 and j + n < len(seq):
                    n += 1
                    longer = [i for i in hits if toks[i:i + n] == seq[j:j + n]]
                    if not longer:
                        break
                    hits = longer
                if hits:
                    return self._back(hits[0], seq[:j], lo)
        words = loose or words
        # Print may show words the EPUB has not (link URLs after link text, QR captions):
        # accept a start where most of the following page words come in order.
        for j in range(min(20, len(words))):
            ahead = words[j:j + 10]
            if len(ahead) < 4:
                break
            for i in self._from(ahead[0], lo):
                if i in self._in_head:
                    continue
                k, hits = i + 1, 1
                for w in ahead[1:]:
                    for m in range(k, min(k + 4, len(toks))):
                        if toks[m] == w:
                            k, hits = m + 1, hits + 1
                            break
                if hits >= max(4, int(0.6 * len(ahead))):
                    return self._back(i, words[:j], lo)
        return None

    def _back(self, i: int, skipped: list[str], lo: int) -> int:
        """The page's words before the match (skipped) did not match as printed: a glyph the
        PDF maps to no letter (Arabic lam-alef in a font embedded in full reads back as 'إǂ'
        for 'إلا'), or a word print adds. Step back over the tokens before i that begin with
        the same letter as those words (or, for a word read back as two, 'اǂ فق' for 'الأفق',
        that begin with the first's letter and end with the second), so the marker stands at
        the page's first word, not a few words into it; at the first that does not, stop."""
        n = len(skipped)
        while n and i - 1 >= lo and i - 1 not in self._in_head:
            tok = self._words[i - 1]
            if tok[:1] == skipped[n - 1][:1]:
                n -= 1
            elif n >= 2 and tok[:1] == skipped[n - 2][:1] and tok.endswith(skipped[n - 1]):
                n -= 2
            else:
                break
            i -= 1
        return i

    def insert_before(self, index: int, span: etree._Element) -> None:
        host = self._hoist(index)
        if host is not None:  # a page that begins with a block: the marker goes before it
            host.addprevious(span)
            return
        _, node, which, offset = self.tokens[index]
        if which == "text":
            span.tail = node.text[offset:]
            node.text = node.text[:offset]
            node.insert(0, span)
        else:
            span.tail = node.tail[offset:]
            node.tail = node.tail[:offset]
            node.addnext(span)

