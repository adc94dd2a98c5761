"""What paper needs that a screen does not: each a small rewrite of a chapter's print copy.

EPUB notes become footnotes at the foot of the page; tables whose words would not fit get
smaller type; list numbering attributes become CSS; bare URLs and long tokens become spans that
may break anywhere; block images print at column width; back-links become page references.
"""

from __future__ import annotations

import copy
import re

from lxml import etree

from ..document import EPUB_TYPE
from ..htmlmodel import BLOCK_TAGS
from ..resources import author_rules
from ..util import remove_keep_tail, text_of
from . import polish
from .settings import PrintSettings, parse_length, text_width


def _epub_type(el) -> str:
    return el.get("epub:type") or el.get(EPUB_TYPE) or ""


_BLOCKISH = BLOCK_TAGS | {"img"}


def footnotes(cbody) -> None:
    """EPUB notes (noteref + aside footnote) become WeasyPrint footnotes at the foot of the page.

    The note's content moves to where it is called, inside a span with ``float: footnote``; its
    blocks become spans (display: block) because the HTML parser would not keep a <p> inside a <p>.
    """
    notes = {}
    for aside in list(cbody.iter("aside", "div", "li", "section")):
        t = _epub_type(aside)
        if any(x in t.split() for x in ("footnote", "endnote", "rearnote", "note")) \
                and aside.get("id"):
            notes[aside.get("id")] = aside
    if not notes:
        return
    used = set()
    for a in list(cbody.iter("a")):
        if "noteref" not in _epub_type(a).split():
            continue
        target = (a.get("href") or "")[1:]
        note = notes.get(target)
        if note is None or target in used:
            continue
        used.add(target)
        fn = etree.Element("span", {"data-ppw": "footnote", "id": target})
        inner = copy.deepcopy(note)
        # back links make no sense on paper
        for back in list(inner.iter("a")):
            t = _epub_type(back)
            cls = back.get("class") or ""
            if "backlink" in t or "footnote-back" in cls or "backref" in cls or \
                    "pp-note-label" in cls or back.get(
                    "role") == "doc-backlink":
                remove_keep_tail(back)
        for label in [e for e in inner.iter("span") if "pp-note-label" in (e.get("class") or "")]:
            remove_keep_tail(label)
        # leading white space would put the footnote marker on a line of its own
        fn.text = (inner.text or "").lstrip() or None
        for child in inner:
            fn.append(child)
        first = fn[0] if len(fn) and not fn.text else None
        while first is not None and isinstance(first.tag, str) and not first.text:
            first = first[0] if len(first) else None
        if first is not None and first.text:
            first.text = first.text.lstrip()
        for el in fn.iter():
            if el is not fn and isinstance(el.tag, str) and el.tag in _BLOCKISH - {"img"}:
                el.set("data-ppw-fn", el.tag)
                el.tag = "span"
            if el is not fn and isinstance(el.tag, str):
                el.attrib.pop("id", None)
                el.attrib.pop("data-pp-block", None)
        # the call: the generated ::footnote-call replaces the author's number
        parent = a.getparent()
        if parent is not None and parent.tag == "sup" and len(parent) == 1 \
                and not (parent.text or "").strip():
            a = parent  # <sup><a>1</a></sup>: replace the sup
        fn.tail = a.tail
        a.addprevious(fn)
        a.getparent().remove(a)
    for nid, note in notes.items():
        if nid in used:
            parent = note.getparent()
            remove_keep_tail(note)
            # an emptied notes container (section/div/ol) goes too
            while parent is not None and parent.getparent() is not None and \
                    not [c for c in parent if isinstance(c.tag, str)] and \
                    not "".join(parent.itertext()).strip() and parent.tag in BLOCK_TAGS:
                gp = parent.getparent()
                remove_keep_tail(parent)
                parent = gp



# Table type sizes (print.css table[data-ppw-size]): em of the body size, cell padding (pt) per side
TABLE_SIZES = (("", 0.88, 5.0), ("s1", 0.8, 3.5), ("s2", 0.72, 2.5), ("s3", 0.65, 2.0))
# average advance of a character of the longest words, in em (Noto Serif; bold headers wider)
_CHAR_EM, _HEAD_CHAR_EM = 0.56, 0.62
LONG_TOKEN = 18  # characters: longer words (identifiers, hashes) may break anywhere in a cell
SHORT_TABLE_ROWS = 8  # a table of at most this many rows is never split over pages
_TOKEN = re.compile(r"\S+")


def _cells(table) -> list[list]:
    """The rows of table (own rows only, not those of nested tables) as lists of cells."""
    rows = []
    for tr in table.iter("tr"):
        if next((a for a in tr.iterancestors("table")), None) is table:
            rows.append([c for c in tr if isinstance(c.tag, str) and c.tag in ("td", "th")])
    return rows


def _classify_table(table, text_width: float, font_pt: float) -> None:
    """Smaller type and padding for tables whose words would not fit whole at the body size.

    A column can be no narrower than its longest word (cells never break words, print.css), so
    the table's narrowest width is about the sum over columns of the longest word plus padding.
    The first size at which that fits the text block is chosen; where none does, the table is
    marked "tight" and its words may break anywhere, so it never runs past the margin.
    """
    rows = _cells(table)
    cols = max((sum(int(c.get("colspan") or 1) if (c.get("colspan") or "1").isdigit() else 1
                    for c in r) for r in rows), default=0)
    widest: dict[int, float] = {}
    for r in rows:
        col = 0
        for c in r:
            words = [w for w in _TOKEN.findall(text_of(c)) if len(w) <= LONG_TOKEN]
            longest = max((len(w) for w in words), default=1)
            em = longest * (_HEAD_CHAR_EM if c.tag == "th" else _CHAR_EM)
            span = int(c.get("colspan")) if (c.get("colspan") or "").isdigit() else 1
            if span == 1:
                widest[col] = max(widest.get(col, 0.0), em)
            col += max(span, 1)
    body_rows = len([r for r in rows if r and not all(c.tag == "th" for c in r)])
    chosen = None
    for name, scale, pad in TABLE_SIZES:
        need = sum(widest.values()) * font_pt * scale + cols * 2 * pad + 2
        if need <= text_width:
            chosen = name
            break
    if chosen is None:
        chosen = "tight"
    elif chosen == "" and cols >= 5:
        chosen = "s1"  # many columns read better a size down even when they would fit
    if chosen:
        table.set("data-ppw-size", chosen)
    table.set("data-ppw-cols", str(cols))
    if body_rows <= SHORT_TABLE_ROWS:
        table.set("data-ppw-short", "")
    # long tokens (hashes, identifiers, paths) are the only words a cell may break
    for c in (c for r in rows for c in r):
        _mark_long_tokens(c)


def _mark_long_tokens(cell) -> None:
    for el in [cell, *[e for e in cell.iterdescendants() if isinstance(e.tag, str)]]:
        if el.tag in ("a", "pre", "code") or el.get("data-ppw") in ("url", "long"):
            continue
        _spans_for_matches(el, _TOKEN, "long", lambda t: len(t) > LONG_TOKEN,
                           keep=lambda m: len(m.group(0)) > LONG_TOKEN)


_LIST_TYPES = {"1": "decimal", "a": "lower-alpha", "A": "upper-alpha", "i": "lower-roman",
               "I": "upper-roman"}


def _add_style(el, decl: str) -> None:
    old = (el.get("style") or "").strip().rstrip(";")
    el.set("style", f"{old}; {decl}" if old else decl)


def _int_attr(el, name: str) -> int | None:
    try:
        return int((el.get(name) or "").strip())
    except ValueError:
        return None


def _list_numbering(ol) -> None:
    """<ol type start reversed> and <li value> as CSS: WeasyPrint ignores these attributes.

    WeasyPrint applies counter-set before the li's own increment of list-item, hence the -1.
    """
    kind = _LIST_TYPES.get((ol.get("type") or "").strip())
    if kind:
        _add_style(ol, f"list-style-type: {kind}")
    items = [li for li in ol if isinstance(li.tag, str) and li.tag == "li"]
    reverse = ol.get("reversed") is not None
    step = -1 if reverse else 1
    start = _int_attr(ol, "start")
    if reverse:
        first = start if start is not None else len(items)
        _add_style(ol, f"counter-reset: list-item {first + 1}")
    elif start is not None and start != 1:
        _add_style(ol, f"counter-reset: list-item {start - 1}")
    for li in items:
        if reverse:
            _add_style(li, "counter-increment: list-item -1")
        value = _int_attr(li, "value")
        if value is not None:
            _add_style(li, f"counter-set: list-item {value - step}")
        li_kind = _LIST_TYPES.get((li.get("type") or "").strip())
        if li_kind:
            _add_style(li, f"list-style-type: {li_kind}")



def print_fixes(cbody, settings: PrintSettings | None = None,
                 anchor_pages: dict[str, int] | None = None) -> list[list[str]]:
    """Small markup adjustments for paper. Returns the page back-link targets per parent."""
    settings = settings or PrintSettings(trim_w=432.0, trim_h=648.0)
    font_pt = parse_length(settings.font_size) or 10.5
    flatten_indents(cbody)
    _wrap_bare_urls(cbody)
    for el in list(cbody.iter("table")):
        _classify_table(el, text_width(settings), font_pt)
    for ol in cbody.iter("ol"):
        _list_numbering(ol)
        polish.hang_list_markers(ol)
    measure = text_width(settings)
    for pre in list(cbody.iter("pre")):
        polish.wrap_code(pre, measure, font_pt)
    polish.mark_lead_ins(cbody)
    for el in cbody.iter():
        # line and paragraph separators: no font draws them; they are white space in HTML terms
        if isinstance(el.tag, str):
            for attr in ("text", "tail"):
                v = getattr(el, attr)
                if v and ("\u2028" in v or "\u2029" in v):
                    setattr(el, attr, v.replace("\u2028", " ").replace("\u2029", " "))
    for img in cbody.iter("img"):
        # block images of some size print at column width (what a reader expects of a figure)
        try:
            w = int(img.get("width") or 0)
        except ValueError:
            w = 0
        parent = img.getparent()
        alone = parent is not None and (parent.tag in ("figure", "a", "div") or (
            parent.tag == "p" and not text_of(parent) and len(parent) == 1))
        if alone and w >= 240:
            img.set("data-ppw", "full")
    polish.size_images(cbody, measure)
    break_long_runs(cbody)
    groups: dict = {}  # parent element -> [(target anchor, page or None)]
    for a in list(cbody.iter("a")):
        if a.get("role") == "doc-backlink" and (a.get("href") or "").startswith("#"):
            # "back to the citation" becomes the page it is on (print.css draws the number)
            target = a.get("href")[1:]
            page = anchor_pages.get(target) if anchor_pages is not None else None
            group = groups.setdefault(a.getparent(), [])
            if page is not None and any(p == page for _, p in group):
                remove_keep_tail(a)  # that page is already listed for this entry
                continue
            group.append((target, page))
            for child in list(a):
                a.remove(child)
            a.text = None
            a.set("data-ppw", "pageref")
            continue
        href = a.get("href") or ""
        if href.startswith(("http://", "https://")) and text_of(a) != href and \
                "pp-no-url" not in (a.get("class") or ""):
            a.set("data-pp-href", href)
    return [[t for t, _ in g] for g in groups.values() if len(g) > 1]


MAX_INDENTS = 8  # quotes and lists inside each other that print indented
_INDENTS = {"blockquote", "ul", "ol", "menu", "dl", "aside"}


def flatten_indents(root) -> None:
    """Quotes and lists nested deeper than MAX_INDENTS print at that depth (data-ppw-flat:
    no margin or padding of their own), so the column stays readable (32 levels of quotes
    left it one letter wide); the structure stays as the author wrote it."""
    stack = [(root, 0)]
    while stack:
        el, depth = stack.pop()
        for child in el:
            if not isinstance(child.tag, str):
                continue
            d = depth + (child.tag in _INDENTS)
            if d > MAX_INDENTS and child.tag in _INDENTS:
                child.set("data-ppw-flat", "")
            stack.append((child, d))


LONG_RUN = 64  # characters without a break opportunity, at most
# Address lines beside a QR code sit in a table cell, whose narrowest width WeasyPrint measures:
# with break-anywhere rules that costs the square of the address's length (4,000 characters:
# 40 s), so print breaks them only at these opportunities (print.css), every ADDRESS_RUN.
ADDRESS_RUN = 16
_ADDRESS_CLASSES = {"pp-embed-link", "pp-embed-alternates", "pp-missing-url"}
_SPACE = re.compile(r"(\s+)")
_NO_RUN_BREAK = {"pre", "script", "style", "svg", "math"}  # drawn as they are (code is wrapped)
_LONG_RUNS: dict[int, re.Pattern[str]] = {}


def _long_run(limit: int) -> re.Pattern[str]:
    """A run of more than limit characters without a space."""
    if limit not in _LONG_RUNS:
        _LONG_RUNS[limit] = re.compile(r"\S{%d,}" % (limit + 1))
    return _LONG_RUNS[limit]


def break_long_runs(root) -> None:
    """A zero-width space after every LONG_RUN characters that have no break opportunity
    (50 KB of ``[x``, a hash, a URL as link text...), counted across inline elements.

    WeasyPrint's line breaking is quadratic in the length of an unbreakable run, and
    hyphenating it worse (8 KB of ``[x``: 45 s for 4 pages); with a break opportunity every
    64 characters such a run costs what ordinary words cost. Nothing visible changes: a line
    breaks there only where the run would have been broken anyway (overflow-wrap)."""
    run = 0
    limit = LONG_RUN

    def feed(text: str | None) -> str | None:
        nonlocal run
        if not text:
            return text
        if run + len(text) <= limit:
            run = 0 if text[-1:].isspace() else run + len(text)
            return text
        # the common case, running text: no run too long, so nothing to cut (the loop below
        # costs a Python step per word, 1.2 s of a 40-chapter book's markup)
        space = _SPACE.search(text)
        if space is not None and run + space.start() <= limit and \
                not _long_run(limit).search(text, space.end()):
            run = 0 if text[-1].isspace() else len(text.rsplit(None, 1)[-1])
            return text
        out = []
        for part in _SPACE.split(text):
            if not part:
                continue
            if part[0].isspace():
                run = 0
            else:
                while run + len(part) > limit:
                    cut = limit - run
                    out += [part[:cut], "\u200b"]
                    part, run = part[cut:], 0
                run += len(part)
            out.append(part)
        return "".join(out)

    def walk(el) -> None:
        nonlocal run, limit
        tag = el.tag if isinstance(el.tag, str) else ""
        if tag in _BLOCKISH or tag == "br" or tag.startswith("{"):
            run = 0
        if tag in _NO_RUN_BREAK or tag.startswith("{"):
            run = 0
        elif tag:
            outer = limit
            if _ADDRESS_CLASSES.intersection((el.get("class") or "").split()):
                limit, run = ADDRESS_RUN, 0
            el.text = feed(el.text)
            for child in el:
                walk(child)
            limit = outer
            if tag in _BLOCKISH:
                run = 0
        el.tail = feed(el.tail)

    walk(root)


_URL = re.compile(r"https?://[^\s<>\"]+[^\s<>\".,;:!?)\]]")
_NO_URL_WRAP = {"a", "pre", "code", "kbd", "samp", "script", "style", "svg", "math"}


def _wrap_bare_urls(root) -> None:
    """URLs written as plain text go in <span class="pp-url">: never hyphenated, broken anywhere."""
    for el in list(root.iter()):
        if not isinstance(el.tag, str) or el.tag in _NO_URL_WRAP or any(
                a.tag in _NO_URL_WRAP for a in el.iterancestors()):
            continue
        _spans_for_matches(el, _URL, "url", lambda t: "://" in t)


def _spans_for_matches(el, pattern, marker: str, worth, keep=lambda m: True) -> None:
    """Put each match of pattern (that keep accepts) in el's own text and in its children's
    tails into a <span data-ppw=marker>; worth(text) is a cheap test that a text may hold one."""

    def split(text):
        parts, pos = [], 0
        for m in pattern.finditer(text):
            if keep(m):
                parts += [text[pos:m.start()], m.group(0)]
                pos = m.end()
        parts.append(text[pos:])
        return parts

    if el.text and worth(el.text):
        parts = split(el.text)
        if len(parts) > 1:
            el.text = parts[0]
            for k in range(1, len(parts), 2):
                span = etree.Element("span", {"data-ppw": marker})
                span.text, span.tail = parts[k], parts[k + 1]
                el.insert((k - 1) // 2, span)
    for child in list(el):
        # spans made just above hold their text's last pieces already
        if isinstance(child.tag, str) and child.tail and worth(child.tail) and \
                child.get("data-ppw") != marker:
            parts = split(child.tail)
            if len(parts) > 1:
                child.tail = parts[0]
                anchor = child
                for k in range(1, len(parts), 2):
                    span = etree.Element("span", {"data-ppw": marker})
                    span.text, span.tail = parts[k], parts[k + 1]
                    anchor.addnext(span)
                    anchor = span



# Blocks whose lines break a word longer than the line (print.css: overflow-wrap: break-word),
# and how far the elements around a block may narrow its lines, in em (generous: list markers
# widen a list's padding); an element not listed may narrow them by any amount
_WRAP_BLOCKS = {"p", "li", "dd", "dt", "figcaption", "blockquote"}
_NARROWING = {"ul": 4.0, "ol": 4.0, "blockquote": 2.4, "dd": 1.4, "li": 0.0, "dl": 0.0,
              "dt": 0.0, "p": 0.0, "figure": 0.0, "figcaption": 0.0, "header": 0.0,
              "section": 0.0, "body": 0.0}
# where a line may break: not at a no-break space (U+00A0, U+202F, U+2007), which Python's \s
# matches: words joined by them are one run
_RUN_SPLIT = re.compile(r"[ \t\n\r\f\v\u200b]+")
# the widest single character of the installed fonts: U+FDFD, the basmala ligature (7.9 em in
# some Arabic fonts); after it, cuneiform signs (4.6 em); every other one is at most 4 em
_WIDEST_EM = 8.0


def _run_em(token: str) -> float:
    """The widest a run of letters may print, in em: no Latin glyph of the print fonts is wider
    than 1 em; other scripts' and symbols' glyphs are counted wider still."""
    if token.isascii():
        return float(len(token))
    return sum(1.0 if c < "\x80" else 1.5 if c < "\u0600" else
               _WIDEST_EM if c == "\ufdfd" else 5.0 if "\U00012000" <= c < "\U00012550" else 4.0
               for c in token)


def mark_fitting_blocks(cbody, settings: PrintSettings) -> None:
    """``data-ppw-fit`` on the blocks of a chapter in which no run of letters can be wider than a
    line: they need no ``overflow-wrap: break-word``, which costs every text layout WeasyPrint
    makes of their lines an attribute list (about 2 % of a chapter's layout) and changes nothing
    where every word fits. Anything uncertain is left unmarked, as before: a style attribute, an
    element that may narrow the lines by an unknown amount, a soft hyphen (Pango breaks there
    itself), author CSS (it may change sizes)."""
    if author_rules(settings.css):
        return
    font_pt = parse_length(settings.font_size) or 10.5
    # the line less a first-line indent or a hanging one, with a fifth to spare
    line_em = (text_width(settings) / font_pt - 1.5) * 0.8

    def walk(el, narrowed: float | None) -> None:
        for child in el:
            if not isinstance(child.tag, str):
                continue
            tag = child.tag
            room = narrowed
            if room is not None:
                room = None if (child.get("style") is not None or tag not in _NARROWING) \
                    else room + _NARROWING[tag]
            if tag in _WRAP_BLOCKS and room is not None and _fits(child, line_em - room):
                child.set("data-ppw-fit", "")
            walk(child, room)

    walk(cbody, 0.0)


def _fits(block, line_em: float) -> bool:
    """Whether every run of letters in block fits in line_em (a nested style attribute may
    change its type: no)."""
    text = "".join(block.itertext())
    if "\u00ad" in text or any(isinstance(e.tag, str) and e.get("style") is not None
                               for e in block.iterdescendants()):
        return False
    if text.isascii() and (len(text) <= line_em or max(
            map(len, _RUN_SPLIT.split(text)), default=0) <= line_em):
        return True
    # a few characters may be wide ones: a run of three-em dashes is 8 characters but 23 em
    return all(len(t) <= line_em / _WIDEST_EM or _run_em(t) <= line_em
               for t in _RUN_SPLIT.split(text))
