"""Notes on their call's page: what the layout needs to find and move a note's call.

WeasyPrint never splits a footnote and sometimes carries one to a later page than its call. The
print markup gets anchors (``anchor_note_calls``) that tell a layout where each call's line
begins; the layout stage (``stage.note_breaks``) names the anchor to break at, and the markup is
made again with the call's block split there. A note too long for any page foot is set after its
block instead (``long_notes_in_text``).
"""

from __future__ import annotations

import re

from lxml import etree

from .polish import text_slots


CALL_SUFFIX = "--call"
WORD_INFIX = "--w"
WORDS_SUFFIX = "--words"  # in breaks: anchor the words before this note's call


def anchor_note_calls(body: etree._Element, breaks: frozenset[str] = frozenset()) -> None:
    """Anchors that let the layout tell where each note's call sits, and forced breaks.

    Before every footnote (``span[data-ppw=footnote]`` with an id) goes an empty span
    ``<id>--call``. A layout that finds a note on a later page than its call asks for the words
    before that call (``<id>--words`` in ``breaks``): before every word of the call's block that
    precedes the call then goes an empty span ``<id>--w<k>``, and the next layout names the word
    that begins the call's line: ``breaks`` holds such word anchors, and the block is split
    there, its rest starting a new page (the note goes with it). Words are anchored only for the
    notes that need them: every anchor is an inline box, and a page of them lays out three times
    slower.
    """
    # the notes whose words are anchored: asked for, or broken at one of them
    wanted = {b[:-len(WORDS_SUFFIX)] if b.endswith(WORDS_SUFFIX) else b.rsplit(WORD_INFIX, 1)[0]
              for b in breaks if b.endswith(WORDS_SUFFIX) or WORD_INFIX in b}
    for fn in list(body.iter("span")):
        if fn.get("data-ppw") != "footnote" or not fn.get("id"):
            continue
        fid = fn.get("id")
        call = etree.Element("span", {"id": fid + CALL_SUFFIX, "data-ppw": "anchor"})
        fn.addprevious(call)
        block = block_of(call)
        if block is None or fid not in wanted:
            continue
        _word_anchors(block, call, fid)
    for anchor_id in breaks:
        if anchor_id.endswith(WORDS_SUFFIX):
            continue
        found = body.xpath(f'.//span[@id="{anchor_id}"]')
        if not found:
            continue
        if anchor_id.endswith(CALL_SUFFIX):
            block = block_of(found[0])
            if block is not None:
                block.set("data-ppw-pushed", "")
        else:
            _break_after(found[0])


_BLOCKS = {"p", "li", "dd", "dt", "blockquote", "div", "td", "th", "figcaption", "section",
           "h1", "h2", "h3", "h4", "h5", "h6", "pre", "aside", "header", "footer", "figure"}


def block_of(el):
    for anc in el.iterancestors():
        if anc.tag in _BLOCKS:
            return anc
    return None


def _word_anchors(block, stop, fid: str) -> None:
    """Empty anchors at the end of each word of block's text that comes before stop.

    An anchor goes where a run of white space begins, never after it: an empty inline box after
    a space changes how WeasyPrint breaks the line, one before the space does not.
    """
    k = 0
    for node, attr in text_slots(block):
        if node is stop:
            break
        if attr == "tail" and (node is block or _is_inside_note(node.getparent())):
            continue
        if attr == "text" and _is_inside_note(node):
            continue
        text = getattr(node, attr)
        if not text:
            continue
        cuts = [m.start() for m in _SPACE_RUN.finditer(text)]
        if not cuts:
            continue
        pieces = [text[:cuts[0]]] + [text[x:y] for x, y in zip(cuts, cuts[1:] + [len(text)])]
        setattr(node, attr, pieces[0])
        anchors = []
        for piece in pieces[1:]:
            a = etree.Element("span", {"id": f"{fid}{WORD_INFIX}{k}", "data-ppw": "anchor"})
            a.tail = piece
            anchors.append(a)
            k += 1
        if attr == "text":
            for i, a in enumerate(anchors):
                node.insert(i, a)
        else:
            prev = node
            for a in anchors:
                prev.addnext(a)
                prev = a


_SPACE_RUN = re.compile(r"(?<=\S)\s+|^\s+")


def _is_inside_note(el) -> bool:
    while el is not None:
        if el.tag == "span" and el.get("data-ppw") == "footnote":
            return True
        el = el.getparent()
    return False


def _break_after(marker: etree._Element) -> None:
    """Split the block at marker: what follows it starts a new page."""
    block = block_of(marker)
    if block is None:
        return
    # lift the marker out of inline elements, splitting each one at it
    while marker.getparent() is not block:
        parent = marker.getparent()
        twin = etree.Element(parent.tag, {k: v for k, v in parent.attrib.items() if k != "id"})
        twin.text = marker.tail
        marker.tail = None
        for sib in list(marker.itersiblings()):
            twin.append(sib)
        parent.addnext(twin)
        twin.tail, parent.tail = parent.tail, None
        parent.remove(marker)
        parent.addnext(marker)
        marker.tail = None
    rest = etree.Element("span", {"data-ppw": "pushed"})
    rest.text = marker.tail
    marker.tail = None
    for sib in list(marker.itersiblings()):
        rest.append(sib)
    marker.addnext(rest)
    block.set("data-ppw-split", "")


# ------------------------------------------------------------------------------ notes too long

NOTE_SIZE = 0.8  # print.css: a note's type, in em of the body
NOTE_LINE = 1.3
NOTE_CHAR_EM = 0.5  # average advance of a character of running text (Noto Serif)
NOTE_SHARE = 0.45  # of the text block: a longer note does not go to the page foot


def long_notes_in_text(body: etree._Element, measure: float, block_height: float,
                       font_pt: float) -> int:
    """Notes too long for a page foot print as a block after their paragraph instead.

    WeasyPrint never splits a footnote over pages: one taller than the page foot can hold runs
    off the page. Such a note (estimated from its length) keeps its number at the call and is set
    in note type right after the block that calls it. Returns how many were moved.
    """
    size = font_pt * NOTE_SIZE
    per_line = max(20, int(measure / (size * NOTE_CHAR_EM)))
    limit_lines = block_height * NOTE_SHARE / (size * NOTE_LINE)
    moved = 0
    number = 0
    for fn in list(body.iter("span")):
        if fn.get("data-ppw") != "footnote":
            continue
        number += 1
        text = " ".join("".join(fn.itertext()).split())
        lines = sum(max(1, -(-len(part) // per_line)) for part in
                    ["".join(el.itertext()) for el in fn if el.get("data-ppw-fn")] or [text])
        if max(lines, len(text) / per_line) <= limit_lines:
            continue
        block = block_of(fn)
        call = etree.Element("span", {"data-ppw": "longcall"})
        call.tail = fn.tail
        fn.addprevious(call)
        fn.getparent().remove(fn)
        fn.tail = None
        fn.set("data-ppw", "longnote")
        fn.set("data-ppw-n", str(number))
        # right after the block that calls it: never inside a <p>
        anchor = block if block is not None else call
        fn.tail = anchor.tail
        anchor.tail = None
        anchor.addnext(fn)
        moved += 1
    return moved
