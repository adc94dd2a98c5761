"""Print markup that depends on the measure: list markers, code lines, lead-ins, author image sizes.

Each function changes a print copy of a chapter body (plain HTML element names) in place. Sizes are
in points; ``measure`` is the width of the text block, ``font_pt`` the body type size.

- ``hang_list_markers``: an ordered list's left padding is sized to its widest marker ("14.",
  "xviii."), so markers of long lists stay inside the text block.
- ``wrap_code``: a code block whose longest line would not fit is set a size smaller when that is
  enough and still legible; otherwise its long lines are broken (at a space when there is one)
  and every continuation line starts, under the original indentation, with a "↪" mark.
- ``mark_lead_ins``: a paragraph ending with a colon right before a figure, embed card, code block,
  quote, list or table stays on the page of what it introduces.
- ``size_images``: an image the author gave a width (``width="300"``, ``{: width="100"}``,
  ``50%``) prints at that share of the measure, never wider than the image has pixels for at
  300 ppi.

Notes kept on their call's page are in ``notes``.
"""

from __future__ import annotations

import re
import unicodedata

from lxml import etree

# Character advances in em, for widths estimated without a font at hand.
MONO_EM = 0.602  # DejaVu Sans Mono: every character 1233/2048 em
_SERIF_EM = {  # Noto Serif, generous by a few percent
    **dict.fromkeys("0123456789", 0.56), ".": 0.27, ")": 0.33, "(": 0.33, " ": 0.26,
    "i": 0.30, "l": 0.30, "j": 0.30, "f": 0.35, "t": 0.37, "r": 0.42, "v": 0.53, "x": 0.53,
    "c": 0.47, "d": 0.58, "m": 0.88, "w": 0.78,
    "I": 0.38, "V": 0.68, "X": 0.66, "L": 0.57, "C": 0.64, "D": 0.72, "M": 0.90, "W": 0.98,
}
_SERIF_DEFAULT_EM = 0.62
MARKER_GAP_EM = 0.45  # room between the marker and the item text

# Code sizes, as a share of the body size: the stylesheet's size first, the smallest still easy
# to read (8 pt at a 10.5 pt body) last.
CODE_SIZES = (0.86, 0.81, 0.76)
CONTINUATION = "\u21aa"  # ↪, drawn by DejaVu Sans Mono
CODE_PAD_EM = 0.6  # print.css pre padding, left and right, in em of the code size
CODE_BORDER_PT = 1.5
# Blocks a lead-in may introduce, and the markers of embed cards (which are divs or figures).
_LEAD_TARGETS = {"figure", "pre", "blockquote", "table", "ul", "ol", "dl", "img"}
# A blog's text column, in CSS px: an author's width="300" is that share of the measure.
BLOG_COLUMN_PX = 700.0
PRINT_PPI = 300.0


# ------------------------------------------------------------------------------ lists

_ROMAN = ((1000, "m"), (900, "cm"), (500, "d"), (400, "cd"), (100, "c"), (90, "xc"), (50, "l"),
          (40, "xl"), (10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i"))


def _roman(n: int) -> str:
    out = ""
    for v, r in _ROMAN:
        while n >= v:
            out, n = out + r, n - v
    return out


def _alpha(n: int) -> str:
    out = ""
    while n > 0:
        n, rem = divmod(n - 1, 26)
        out = chr(97 + rem) + out
    return out


def marker_text(n: int, kind: str) -> str:
    """The marker WeasyPrint draws for item number n of a list-style-type."""
    if kind in ("lower-roman", "upper-roman") and n > 0:
        s = _roman(n)
        return (s.upper() if kind == "upper-roman" else s) + "."
    if kind in ("lower-alpha", "upper-alpha", "lower-latin", "upper-latin") and n > 0:
        s = _alpha(n)
        return (s.upper() if kind.startswith("upper") else s) + "."
    return f"{n}."


def text_em(text: str) -> float:
    return sum(_SERIF_EM.get(c, _SERIF_DEFAULT_EM) for c in text)


def _int(value) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


_KINDS = {"1": "decimal", "a": "lower-alpha", "A": "upper-alpha", "i": "lower-roman",
          "I": "upper-roman"}


def hang_list_markers(ol: etree._Element, base_padding_em: float = 1.4) -> None:
    """Left padding of ol (in em of its own size) wide enough for its widest marker."""
    kind = _KINDS.get((ol.get("type") or "").strip(), "decimal")
    items = [li for li in ol if isinstance(li.tag, str) and li.tag == "li"]
    if not items:
        return
    reverse = ol.get("reversed") is not None
    start = _int(ol.get("start"))
    n = (start if start is not None else len(items)) if reverse else (start or 1)
    widest = 0.0
    for li in items:
        value = _int(li.get("value"))
        if value is not None:
            n = value
        li_kind = _KINDS.get((li.get("type") or "").strip(), kind)
        widest = max(widest, text_em(marker_text(abs(n), li_kind)) + (0.3 if n < 0 else 0))
        n += -1 if reverse else 1
    need = round(widest + MARKER_GAP_EM, 2)
    if need > base_padding_em:
        _add_style(ol, f"padding-inline-start: {need}em")  # the marker side, in RTL too


def _add_style(el, decl: str) -> None:
    old = (el.get("style") or "").strip().rstrip(";")
    el.set("style", f"{old}; {decl}" if old else decl)


# ------------------------------------------------------------------------------ code

def _columns(ch: str) -> float:
    """Width of a character in columns of the monospace font (wide CJK is about 1.66)."""
    if unicodedata.combining(ch):
        return 0.0
    return 1.0 / MONO_EM if unicodedata.east_asian_width(ch) in ("W", "F") else 1.0


def _width(text: str) -> float:
    return sum(_columns(c) for c in text)


def code_capacity(measure: float, font_pt: float, size: float) -> int:
    """Characters of code that fit on one line of a code block at size (em of the body)."""
    pt = font_pt * size
    room = measure - 2 * CODE_PAD_EM * pt - CODE_BORDER_PT - 1.0
    return max(12, int(room / (pt * MONO_EM)))


def _break_points(line: str, capacity: int) -> list[int]:
    """Where a line is broken (indexes into line), each piece at most capacity columns wide.

    Breaks after the last space that fits; a token longer than the room is broken inside only
    when it has no space to break at. Continuation lines carry an indent plus the mark, so they
    have less room than the first.
    """
    indent = len(line) - len(line.lstrip(" "))
    cont_room = capacity - min(indent, capacity // 2) - 2  # "↪ " after the indent
    points: list[int] = []
    start, room = 0, capacity
    while _width(line[start:]) > room:
        end, used = start, 0.0
        while end < len(line) and used + _columns(line[end]) <= room:
            used += _columns(line[end])
            end += 1
        space = line.rfind(" ", start + 1, end + 1)
        # at the last space that fits; inside a token only when the piece has no space at all
        cut = space + 1 if space > start and line[start:space].strip() else end
        if cut <= start:
            cut = start + 1
        points.append(cut)
        start, room = cut, cont_room
    return points


def _pre_measure(pre: etree._Element, measure: float, font_pt: float) -> float:
    """The width a code block gets: the measure less the indents of lists and quotes around it."""
    room = measure
    for anc in pre.iterancestors():
        if anc.get("data-ppw-flat") is not None:
            continue  # printed without an indent of its own (printfixes.flatten_indents)
        if anc.tag in ("ul", "ol"):
            room -= 1.4 * font_pt
        elif anc.tag == "blockquote":
            room -= 2 * 1.2 * font_pt * 0.95
        elif anc.tag == "dd":
            room -= 1.4 * font_pt
        elif anc.tag in ("td", "th"):
            return 0.0  # tables size their own columns
    return room


def wrap_code(pre: etree._Element, measure: float, font_pt: float) -> None:
    """Fit a code block to its measure: a size smaller when that suffices, else marked wraps."""
    room = _pre_measure(pre, measure, font_pt)
    if room <= 0:
        return
    text = "".join(pre.itertext()).expandtabs(4)
    lines = text.split("\n")
    longest = max((_width(ln) for ln in lines), default=0)
    for size in CODE_SIZES:
        if longest <= code_capacity(room, font_pt, size):
            if size != CODE_SIZES[0]:
                pre.set("data-ppw-code", f"{size:g}")
                _add_style(pre, f"font-size: {font_pt * size:.2f}pt")
            _expand_tabs(pre)
            return
    size = CODE_SIZES[-1]
    pre.set("data-ppw-code", "wrapped")
    _add_style(pre, f"font-size: {font_pt * size:.2f}pt")
    _expand_tabs(pre)
    capacity = code_capacity(room, font_pt, size)
    _insert_breaks(pre, capacity)


def text_slots(el: etree._Element):
    """Every text slot under el in document order: (element, 'text'|'tail')."""
    out = []

    def walk(e):
        out.append((e, "text"))
        for c in e:
            if isinstance(c.tag, str):
                walk(c)
            out.append((c, "tail"))

    walk(el)
    return out


def _expand_tabs(pre: etree._Element) -> None:
    for node, attr in text_slots(pre):
        v = getattr(node, attr)
        if v and "\t" in v:
            setattr(node, attr, v.replace("\t", "    "))


def _insert_breaks(pre: etree._Element, capacity: int) -> None:
    """Break the long lines of pre (across any inline markup) and mark the continuations."""
    slots = [(n, a) for n, a in text_slots(pre) if not (a == "tail" and n is pre)]
    text = "".join(getattr(n, a) or "" for n, a in slots)
    # positions in text -> (prefix to insert there, characters to drop before it)
    inserts: dict[int, tuple[str, int]] = {}
    pos = 0
    for line in text.split("\n"):
        points = _break_points(line, capacity)
        indent = " " * min(len(line) - len(line.lstrip(" ")), capacity // 2)
        for p in points:
            # spaces at the break go: the line ends at the last word, the next starts at its own
            trail = len(line[:p]) - len(line[:p].rstrip(" "))
            lead = len(line[p:]) - len(line[p:].lstrip(" "))
            inserts[pos + p - trail] = (indent, trail + lead)
        pos += len(line) + 1
    if not inserts:
        return
    offset = 0
    for node, attr in slots:
        value = getattr(node, attr) or ""
        n = len(value)
        here = sorted(k for k in inserts if offset <= k < offset + n or
                      (k == offset + n and n and node is slots[-1][0] and attr == slots[-1][1]))
        if here:
            _split_slot(node, attr, value, [(k - offset, *inserts.pop(k)) for k in here])
        offset += n


def _split_slot(node, attr: str, value: str, cuts: list[tuple[int, str, int]]) -> None:
    """Insert a line break, the indent and a continuation mark at each cut of one text slot."""
    pieces, last = [], 0
    for at, indent, drop in cuts:
        pieces.append((value[last:at], indent))
        last = at + drop
    rest = value[last:]
    first_text, _ = pieces[0]
    setattr(node, attr, first_text + "\n" + pieces[0][1])
    marks = []
    for i, (_, indent) in enumerate(pieces):
        mark = etree.Element("span", {"data-ppw": "cont", "aria-hidden": "true"})
        mark.text = CONTINUATION
        following = pieces[i + 1][0] if i + 1 < len(pieces) else rest
        mark.tail = " " + following + ("\n" + pieces[i + 1][1] if i + 1 < len(pieces) else "")
        marks.append(mark)
    if attr == "text":
        for k, m in enumerate(marks):
            node.insert(k, m)
    else:
        anchor = node
        for m in marks:
            anchor.addnext(m)
            anchor = m


# ------------------------------------------------------------------------------ lead-ins

def _is_card(el) -> bool:
    return el.tag in ("div", "figure", "aside") and (
        "pp-embed" in (el.get("class") or "").split() or el.get("data-pp-embed") is not None
        or el.find(".//img") is not None)


def mark_lead_ins(body: etree._Element) -> None:
    """A paragraph that ends with a colon keeps with the block it introduces."""
    for p in body.iter("p"):
        text = "".join(p.itertext()).rstrip()
        if not text.endswith((":", "\uff1a")):
            continue
        nxt = p.getnext()
        while nxt is not None and not isinstance(nxt.tag, str):
            nxt = nxt.getnext()
        if nxt is None:
            continue
        if nxt.tag in _LEAD_TARGETS or _is_card(nxt) or (
                nxt.tag == "p" and len(nxt) == 1 and nxt[0].tag in ("img", "span", "div")
                and not (nxt.text or "").strip() and not (nxt[0].tail or "").strip()):
            p.set("data-ppw-lead", "")


# ------------------------------------------------------------------------------ images

def author_width(value: str | None) -> tuple[float, str] | None:
    """An author's image width as (number, 'px' | '%'), or None."""
    m = re.match(r"^\s*(\d+(?:\.\d+)?)\s*(px|%)?\s*$", value or "")
    if not m or float(m[1]) <= 0:
        return None
    return float(m[1]), (m[2] or "px")


def print_width(author: tuple[float, str], pixels: int | None, measure: float) -> float:
    """Points an author-sized image prints at: its share of the measure, at most 300 ppi."""
    value, unit = author
    share = value / 100.0 if unit == "%" else value / BLOG_COLUMN_PX
    width = min(1.0, share) * measure
    if pixels:
        width = min(width, pixels / PRINT_PPI * 72.0)
    return round(width, 2)


def size_images(body: etree._Element, measure: float) -> None:
    """Author widths (data-pp-width, kept by the sanitizer) as printed widths."""
    for img in body.iter("img"):
        author = author_width(img.attrib.pop("data-pp-width", None))
        if author is None:
            continue
        pixels = _int(img.get("width"))
        width = print_width(author, pixels, measure)
        img.attrib.pop("data-ppw", None)  # not the full-measure figure rule
        parent = img.getparent()
        alone = parent is not None and (parent.tag == "figure" or (
            parent.tag in ("p", "a", "div") and not "".join(parent.itertext()).strip()
            and len([c for c in parent if isinstance(c.tag, str)]) == 1))
        img.set("data-ppw-sized", "block" if alone else "inline")
        _add_style(img, f"width: {width}pt")
