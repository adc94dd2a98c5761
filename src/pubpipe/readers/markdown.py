"""Markdown (with raw HTML) to a chapter tree.

Python-Markdown with what bloggers expect renders the text; html5lib then parses the result the way a
browser would (``<Br />``, unclosed ``<p>``, ``&mdash;``) into an lxml tree. Python-Markdown keeps no
source positions, so line numbers are recovered afterwards by matching each element's first words
(or its URL) against the source, in document order.
"""

from __future__ import annotations

import bisect
import html
import itertools
import re
import threading
from urllib.parse import unquote

import markdown
import markdown.treeprocessors
from lxml import etree

from .. import i18n
from . import shortcodes

EXTENSIONS = [
    "markdown.extensions.tables",
    "markdown.extensions.footnotes",
    "markdown.extensions.fenced_code",
    "markdown.extensions.attr_list",
    "markdown.extensions.def_list",
    "markdown.extensions.abbr",
    "markdown.extensions.sane_lists",
    "markdown.extensions.smarty",
    "markdown.extensions.toc",
    "markdown.extensions.md_in_html",
    "pymdownx.tasklist",
    "pymdownx.tilde",
    "pymdownx.magiclink",
]
EXTENSION_CONFIGS = {
    # ':' is not allowed in XML ids (EPUB content documents are XML): use '-'.
    "markdown.extensions.footnotes": {"SEPARATOR": "-", "BACKLINK_TEXT": "\u21a9\ufe0e"},
    "markdown.extensions.toc": {"permalink": False},
    # The characters themselves, not entities: html5lib makes a token of every entity, and a
    # paragraph of many tokens is slow to build (the tree is the same either way).
    "markdown.extensions.smarty": {"substitutions": {
        "mdash": "\u2014", "ndash": "\u2013", "ellipsis": "\u2026", "left-angle-quote": "\u00ab",
        "right-angle-quote": "\u00bb", "left-single-quote": "\u2018",
        "right-single-quote": "\u2019", "left-double-quote": "\u201c",
        "right-double-quote": "\u201d"}},
    "pymdownx.tasklist": {"custom_checkbox": False},
    "pymdownx.tilde": {"subscript": False},
}


def render_html(text: str, lang: str = "en", ctx: shortcodes.Context | None = None,
                unhonoured: list | None = None,
                notes: list[tuple[int, str]] | None = None) -> str:
    """Markdown source (front matter removed) to an HTML fragment string.

    Smart quotes are the language's (i18n.quotes); template syntax is handled first
    (shortcodes.convert) and what it could not honour is appended to unhonoured. notes, if
    given, receives (line in text, message) for every block that had to be bounded."""
    md = _markdown(lang)
    text, found = bound_blocks(text)
    if notes is not None:
        notes.extend(found)
    result = shortcodes.convert(text, ctx)
    if unhonoured is not None:
        unhonoured.extend(result.unhonoured)
    try:
        return md.convert(close_unclosed_blocks(result.text))
    except BaseException as e:
        _discard(md)  # left mid-document (its block parser's state): the next chapter gets a new one
        if not isinstance(e, RecursionError):
            raise
        # Python-Markdown recurses once per list or quote level: thousands of '- ' or '>' in a
        # row exhaust the stack. Keep every word, as plain paragraphs.
        if notes is not None:
            notes.append((1, "Markdown nested too deeply to be read (thousands of list or quote"
                             " levels); the text is kept as plain paragraphs"))
        return "".join(f"<p>{html.escape(block)}</p>\n"
                       for block in re.split(r"\n[ \t]*\n", result.text) if block.strip())


_RENDERERS = threading.local()  # one set per thread: a renderer holds its document's state


def _markdown(lang: str) -> markdown.Markdown:
    """A Markdown renderer for lang's quotes, reset for a new document. Made once per set of
    quotes and reused: building one (its extensions, their patterns) cost as much as rendering
    a short chapter."""
    quotes = _smart_quotes(lang)
    key = (tuple(sorted(quotes.items())), pairs_quotes(lang))
    made = _RENDERERS.__dict__.setdefault("by_quotes", {})
    md = made.get(key)
    if md is None:
        configs = dict(EXTENSION_CONFIGS)
        configs["markdown.extensions.smarty"] = {
            "substitutions": {**_LITERAL_SUBSTITUTIONS, **quotes},
            "smart_quotes": not pairs_quotes(lang)}
        md = markdown.Markdown(extensions=EXTENSIONS, extension_configs=configs,
                               output_format="html")
        md.treeprocessors.register(_BlockTails(md), "pp-block-tails", 6.5)  # prettify 10, smarty 6
        made[key] = md
    md.reset()
    return md


def _discard(md: markdown.Markdown) -> None:
    made = _RENDERERS.__dict__.get("by_quotes", {})
    for key in [k for k, v in made.items() if v is md]:
        del made[key]


_TAIL_BLOCKS = {"li", "p", "ul", "ol", "dl", "dt", "dd", "div", "blockquote", "pre", "table",
                "h1", "h2", "h3", "h4", "h5", "h6", "hr"}


class _BlockTails(markdown.treeprocessors.Treeprocessor):
    """Drops the newline-only text after block elements before smarty's inline patterns run.

    Python-Markdown's inline processors look up the position of every element that has a tail
    in its parent's list of children, and prettify (which runs before smarty's) gives every block
    a newline tail, so a list of 70,000 items took minutes. Between blocks that text means
    nothing (the HTML is the same without it)."""

    def run(self, root):
        for el in root.iter():
            if el.tag in _TAIL_BLOCKS and el.tail and not el.tail.strip() and "\n" in el.tail:
                el.tail = None


# The characters themselves, not entities: html5lib makes a token of every entity, and a
# paragraph of many tokens is slow to build (the tree is the same either way).
_LITERAL_SUBSTITUTIONS = {"mdash": "\u2014", "ndash": "\u2013", "ellipsis": "\u2026",
                          "left-angle-quote": "\u00ab", "right-angle-quote": "\u00bb",
                          "left-single-quote": "\u2018", "right-single-quote": "\u2019",
                          "left-double-quote": "\u201c", "right-double-quote": "\u201d"}



# Scripts written without spaces: smarty's word-boundary rules cannot tell an opening quote from a
# closing one, so straight double quotes are paired in order instead (pair_quotes).
PAIRED_QUOTES = ("zh", "ja", "ko", "th", "lo", "km", "my")


def pairs_quotes(lang: str) -> bool:
    return (lang or "").split("-")[0].lower() in PAIRED_QUOTES


_NO_QUOTES = {"code", "pre", "kbd", "samp", "script", "style", "pp-shortcode", "math", "svg"}
_QUOTE_BLOCKS = {"p", "li", "h1", "h2", "h3", "h4", "h5", "h6", "td", "th", "dt", "dd",
                 "figcaption", "blockquote", "div"}


def pair_quotes(root: etree._Element, lang: str) -> None:
    """Straight double quotes in each block, alternately opening and closing (code aside)."""
    o, c, _, _ = i18n.quotes(lang)
    for block in root.iter(*_QUOTE_BLOCKS):
        if any(a.tag in _QUOTE_BLOCKS for a in block.iterancestors()) and block.tag == "div":
            continue
        state = [False]

        def swap(text):
            if not text or '"' not in text:
                return text
            out = []
            for ch in text:
                if ch == '"':
                    out.append(c if state[0] else o)
                    state[0] = not state[0]
                else:
                    out.append(ch)
            return "".join(out)

        def walk(el, inside_code):
            skip = inside_code or el.tag in _NO_QUOTES
            if not skip:
                el.text = swap(el.text)
            for child in el:
                if not isinstance(child.tag, str):
                    continue
                if child.tag in _QUOTE_BLOCKS:
                    continue  # its own block
                walk(child, skip)
                if not inside_code and el.tag not in _NO_QUOTES:
                    child.tail = swap(child.tail)

        walk(block, False)


def _smart_quotes(lang: str) -> dict[str, str]:
    """Double quotes as the language writes them. Single quotes stay ‘ ’ where the language's
    inner closing mark is not ’: smarty writes apostrophes with the right single quote."""
    o, c, io, ic = i18n.quotes(lang)
    subs = {"left-double-quote": html.escape(o), "right-double-quote": html.escape(c)}
    if ic == "\u2019":
        subs["left-single-quote"] = html.escape(io)
    return subs



# Python-Markdown's inline patterns are quadratic in the size of a paragraph, and some inputs
# (thousands of '[' that never close) make them far worse; html5lib and WeasyPrint too slow down
# on one huge paragraph. These limits keep every word but bound the work per paragraph.
MAX_PARAGRAPH = 20_000  # characters; a longer plain paragraph is cut into pieces of PIECE
PIECE = 10_000
MAX_UNMATCHED = 64  # unmatched '[' / '(' in a block; past that they are escaped (shown as is)
_FENCE_LINE = re.compile(r"^\s{0,3}(`{3,}|~{3,})")
MAX_QUOTE = 32  # '>' levels read; Python-Markdown stops nesting near the recursion limit and
# shows the rest of the markers as text, and nesting past MAX_DEPTH is flattened anyway
_DEEP_QUOTE = re.compile(r"^( {0,3})((?:>[ \t]?){%d,})" % (MAX_QUOTE + 1), re.M)
# Blocks that are not plain paragraphs (tables, raw HTML blocks, quotes, headings, lists, code):
# never cut. A paragraph may start with an inline tag (<b>, <a>, <img>...).
_NOT_PLAIN = re.compile(r"^\s{0,3}([|>#]|[-*+]\s|\d+[.)]\s|\t|</?(?:%s)\b)|^\s{4}" % "|".join(
    ("address article aside blockquote body canvas center dd details dialog dir div dl dt"
     " fieldset figcaption figure footer form frameset h1 h2 h3 h4 h5 h6 header hgroup hr html"
     " iframe legend li main math menu nav noscript ol p pre section summary table tbody td"
     " tfoot th thead tr ul script style video audio object embed").split()), re.I)


def bound_blocks(text: str) -> tuple[str, list[tuple[int, str]]]:
    """text with pathological blocks made harmless, and notes (line, message) on what changed."""
    if len(text) < MAX_PARAGRAPH and text.count("[") < MAX_UNMATCHED and \
            not _DEEP_QUOTE.search(text):
        return text, []
    notes: list[tuple[int, str]] = []
    parts = re.split(r"(\n[ \t]*\n)", text)
    fence = None
    line = 1
    for i in range(0, len(parts), 2):
        block = parts[i]
        start_line = line
        line += block.count("\n") + (parts[i + 1].count("\n") if i + 1 < len(parts) else 0)
        in_code = fence is not None
        for ln in block.splitlines():
            m = _FENCE_LINE.match(ln)
            if m and (fence is None or m.group(1).startswith(fence)):
                fence = None if fence else m.group(1)[:3]
                in_code = True
        if in_code:
            continue
        deep = _DEEP_QUOTE.search(block)
        if deep:
            notes.append((start_line + block.count("\n", 0, deep.start()), f"quotes nested more"
                          f" than {MAX_QUOTE} levels deep: the deeper levels are read as level"
                          f" {MAX_QUOTE}"))
            block = _DEEP_QUOTE.sub(lambda m: m.group(1) + "> " * MAX_QUOTE, block)
        if block.count("[") + block.count("(") >= MAX_UNMATCHED:
            escaped, n = _escape_unmatched(block)
            if n >= MAX_UNMATCHED:
                block = escaped
                notes.append((start_line, f"{n} unmatched '[' or '(' in one paragraph are shown"
                                          " as typed (not read as links)"))
        if len(block) > MAX_PARAGRAPH and not _NOT_PLAIN.match(block):
            pieces = _split_paragraph(block)
            if len(pieces) > 1:
                block = "\n\n".join(pieces)
                notes.append((start_line, f"a paragraph of {len(parts[i]):,} characters was cut"
                                          f" into {len(pieces)} paragraphs (at most {PIECE:,}"
                                          " characters each)"))
        parts[i] = block
    return "".join(parts), notes


def _escape_unmatched(block: str) -> tuple[str, int]:
    """Backslash-escape every '[' and '(' that is never closed (outside `code`): Markdown shows an
    escaped bracket as typed, so nothing changes but the parser's work."""
    opened: list[tuple[str, int]] = []
    unmatched: list[int] = []
    pairs = {"]": "[", ")": "("}
    i, n = 0, len(block)
    while i < n:
        c = block[i]
        if c == "\\":
            i += 2
            continue
        if c == "`":  # skip a code span
            run = len(block[i:]) - len(block[i:].lstrip("`"))
            end = block.find("`" * run, i + run)
            i = end + run if end >= 0 else i + run
            continue
        if c in "[(":
            opened.append((c, i))
        elif c in "])":
            while opened and opened[-1][0] != pairs[c]:
                unmatched.append(opened.pop()[1])  # an opener skipped by this closer
            if opened:
                opened.pop()
        i += 1
    unmatched.extend(pos for _, pos in opened)
    if not unmatched:
        return block, 0
    out, last = [], 0
    for pos in sorted(unmatched):
        out.append(block[last:pos])
        out.append("\\")
        last = pos
    out.append(block[last:])
    return "".join(out), len(unmatched)


def _split_paragraph(block: str) -> list[str]:
    """Cut a huge paragraph at line ends, else sentence ends, else spaces, outside <tags>."""
    pieces, start, n = [], 0, len(block)
    while n - start > PIECE:
        window = block[start:start + PIECE]
        cut = -1
        for sep in ("\n", ". ", " "):
            at = window.rfind(sep)
            while at > PIECE // 4:
                # not inside a tag: the last '<' before the cut is closed by a '>'
                lt = window.rfind("<", 0, at)
                if lt < 0 or window.rfind(">", lt, at) >= 0:
                    cut = at + len(sep)
                    break
                at = window.rfind(sep, 0, lt)
            if cut > 0:
                break
        if cut <= 0:
            cut = PIECE
            escapes = len(window) - len(window.rstrip("\\"))
            cut -= escapes % 2  # never between a backslash and the character it escapes
        pieces.append(block[start:start + cut].strip())
        start += cut
    pieces.append(block[start:].strip())
    return [p for p in pieces if p]


_BLOCK_TAGS = ("p", "div", "blockquote", "ul", "ol", "dl", "section", "article", "aside", "header",
               "footer", "figure", "details", "center", "table", "pre", "address", "main", "nav")
_OPEN = {t: re.compile(rf"<{t}(?:\s[^>]*)?(?<!/)>", re.I) for t in _BLOCK_TAGS}
_CLOSE = {t: re.compile(rf"</{t}\s*>", re.I) for t in _BLOCK_TAGS}
_CHUNK_START = re.compile(rf"^\s{{0,3}}<({'|'.join(_BLOCK_TAGS)})[\s>]", re.I)


def close_unclosed_blocks(text: str) -> str:
    """Close a raw HTML block tag that is never closed, at the end of its paragraph.

    Python-Markdown treats an unclosed block tag as raw HTML to the end of the post, so one
    forgotten ``</p>`` or ``</div>`` would turn every later heading, list and footnote into
    literal text. A browser closes a <p> at the next block; here such a tag is closed at the
    blank line that ends its chunk, unless a closing tag for it follows later in the post.
    """
    chunks = re.split(r"(\n[ \t]*\n)", text)
    fence = None
    for i in range(0, len(chunks), 2):
        chunk = chunks[i]
        for line in chunk.splitlines():  # fenced code is text, whatever it shows
            m = re.match(r"^\s{0,3}(`{3,}|~{3,})", line)
            if m and (fence is None or m.group(1).startswith(fence)):
                fence = None if fence else m.group(1)[:3]
        if fence is not None or not _CHUNK_START.match(chunk):
            continue
        rest = "".join(chunks[i + 1:])
        missing = []
        for tag in _BLOCK_TAGS:
            opened = len(_OPEN[tag].findall(chunk)) - len(_CLOSE[tag].findall(chunk))
            if opened <= 0:
                continue
            later = len(_CLOSE[tag].findall(rest)) - len(_OPEN[tag].findall(rest))
            missing.extend([tag] * (opened - max(0, later)))
        if missing:
            order = sorted(missing, key=lambda t: -max(m.start() for m in _OPEN[t].finditer(chunk)))
            chunks[i] = chunk.rstrip() + "".join(f"</{t}>" for t in order)
    return "".join(chunks)


_WORD = re.compile(r"[^\W_]{2,}", re.U)  # "_word_" is emphasis, not a word
_URL_ATTRS = ("src", "href", "data", "poster")
_BLOCKS = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "dt", "dd", "td", "th", "pre", "blockquote",
           "figure", "figcaption", "table", "tr", "div", "section", "aside", "ul", "ol", "dl",
           "iframe", "video", "audio", "object", "embed", "hr", "pp-shortcode", "details"}


def _first_words(el: etree._Element, want: int, limit: int = 200) -> list[str]:
    """The first words inside el in document order, looking at no more than limit elements
    (unlike itertext(), which walks a whole subtree without words: quadratic when nested)."""
    out: list[str] = []
    stack: list = [el]
    visited = 0
    while stack and len(out) < want and visited < limit:
        item = stack.pop()
        if isinstance(item, str):
            out.extend(w.lower() for w in _WORD.findall(item[:400]))
            continue
        visited += 1
        if item is not el and item.tail:
            stack.append(item.tail)
        stack.extend(reversed(list(itertools.islice(item, limit))))
        if isinstance(item.tag, str) and item.text:
            stack.append(item.text)
    return out[:want]


# characters that continue a URL or path: an occurrence right after one is inside a longer one
_URL_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/.-_~%+")


def _find_whole(source: str, value: str, start: int, tries: int = 20) -> int:
    """The first occurrence of value at or after start that does not continue a longer URL or
    path (-1 if none among the first few occurrences)."""
    pos = source.find(value, start)
    while pos > 0 and source[pos - 1] in _URL_CHARS and tries > 0:
        tries -= 1
        pos = source.find(value, pos + 1)
    return pos if tries > 0 else -1


MAX_SOURCELINE = 65535  # lxml keeps sourceline in 16 bits; later lines are reported as this one


def annotate_lines(root: etree._Element, source: str) -> None:
    """Set ``el.sourceline`` on every element from where its words or URL stand in the source.

    Linear in the size of the source: word positions are looked up by bisection from a cursor
    that only moves forward, and a URL's line by bisection over the line starts."""
    line_starts = [0] + [m.end() for m in re.finditer("\n", source)]
    words: list[str] = []
    word_lines: list[int] = []
    for lineno, line in enumerate(source.splitlines(), 1):
        for w in _WORD.findall(line):
            words.append(w.lower())
            word_lines.append(lineno)
    index: dict[str, list[int]] = {}
    for i, w in enumerate(words):
        index.setdefault(w, []).append(i)

    cursor = 0
    url_cursor = 0
    misses = 0
    last_line = 1
    url_seen: dict[str, int] = {}
    guessed: list[etree._Element] = []

    def find_words(probe: list[str]) -> int | None:
        nonlocal cursor
        if not probe:
            return None
        starts = index.get(probe[0], [])
        k = bisect.bisect_left(starts, cursor)
        for start in starts[k:k + 200]:  # bounded: a repeated word cannot make this quadratic
            if all(start + j < len(words) and words[start + j] == probe[j]
                   for j in range(1, len(probe))):
                cursor = start
                return word_lines[start]
        return None

    def find_url(value: str) -> int:
        nonlocal url_cursor, misses
        # The same URL may stand twice: each use takes the next occurrence.
        start = url_seen.get(value, url_cursor)
        pos = _find_whole(source, value, start)  # not "cat.jpg" inside "photos/cat.jpg"
        if pos < 0:
            pos = source.find(value, start)
        if pos < 0 and misses < 1000:  # before the cursor (rare); bounded for hostile posts
            misses += 1
            pos = source.find(value)
        if pos >= 0:
            url_seen[value] = pos + len(value)
            url_cursor = max(url_cursor, pos)
        return pos

    for el in root.iter():
        if not isinstance(el.tag, str) or el is root:
            continue
        line = None
        for attr in _URL_ATTRS:
            value = el.get(attr)
            if value and shortcodes.REF_PREFIX in value:  # {% post_url x %}: find x
                value = unquote(value.split(shortcodes.REF_PREFIX, 1)[1].partition("/")[2])
            if value and len(value) > 3 and not value.startswith("#"):
                pos = find_url(value)
                if pos >= 0:
                    line = bisect.bisect_right(line_starts, pos)
                    break
        if line is None and el.tag in _BLOCKS:  # inline elements stand where their block does
            probe = _first_words(el, 3)
            line = find_words(probe)
        if line is None:
            if el.tag in _BLOCKS:
                guessed.append(el)
            parent = el.getparent()
            line = parent.sourceline if parent is not None and parent.sourceline else last_line
        el.sourceline = min(line, MAX_SOURCELINE)
        last_line = line
    # A block whose words lie deeper than _first_words looks (hundreds of nested <div>s) stands
    # where its first child does, when that was found further on
    for el in reversed(guessed):
        first = next((c for c in el if isinstance(c.tag, str)), None)
        if first is not None and first.sourceline and first.sourceline > (el.sourceline or 0):
            el.sourceline = first.sourceline


MAX_DEPTH = 32  # element nesting in a chapter; layout engines recurse once per level
# Containers whose only job is grouping: past MAX_DEPTH they are dissolved into their parent.
_DISSOLVE = {"div", "blockquote", "section", "article", "aside", "main", "header", "footer", "nav",
             "center", "details", "summary", "span", "font", "b", "i", "em", "strong", "u", "s",
             "small", "big", "mark", "q", "cite", "ins", "del", "sub", "sup", "abbr", "dfn",
             "kbd", "samp", "var", "bdi", "bdo", "time", "data", "strike", "tt", "nobr",
             "ul", "ol", "li", "dl", "dt", "dd", "p", "form", "fieldset", "label", "address"}


_FLOW = {"div", "blockquote", "li", "dd", "td", "th", "section", "article", "aside", "figure",
         "details", "main", "header", "footer", "nav", "center"}


def flatten_depth(root: etree._Element) -> list[int]:
    """Dissolve nesting deeper than MAX_DEPTH, keeping every word, link and image.

    Past the limit, grouping containers (div, blockquote, span, lists...) give their content to
    their parent; anything still nested too deep (tables in tables...) keeps only its text.
    Returns the source lines of the places flattened (empty if nothing was too deep)."""
    too_deep: list[etree._Element] = []
    stack = [(root, 0)]
    while stack:
        el, depth = stack.pop()
        if depth == MAX_DEPTH:
            if any(isinstance(d.tag, str) for d in el.iterchildren()):
                # Flatten inside a container that may hold flow content, so what is left
                # stays valid (no text straight in a <ul> or <tr>).
                while el is not root and el.tag not in _FLOW:
                    el = el.getparent()
                if el not in too_deep:
                    too_deep.append(el)
            continue
        stack.extend((c, depth + 1) for c in el.iterchildren() if isinstance(c.tag, str))
    lines: set[int] = set()
    for top in too_deep:
        if top.getparent() is None and top is not root:
            continue  # inside a container flattened already
        lines.add(top.sourceline or 1)
        for d in reversed(list(top.iterdescendants())):  # innermost first
            if isinstance(d.tag, str) and d.tag in _DISSOLVE:
                _dissolve(d)
        for d in list(top.iterdescendants()):
            if not isinstance(d.tag, str) or d.getparent() is None:
                continue
            depth = sum(1 for _ in d.iterancestors()) - sum(1 for _ in top.iterancestors()) - 1
            if depth >= 8 and len(d):  # still deep: keep its words only
                text = " ".join("".join(d.itertext()).split())
                for child in list(d):
                    d.remove(child)
                d.text = text
    return sorted(lines)


def _dissolve(el: etree._Element) -> None:
    """Replace el by its content (text, children, tail) in its parent."""
    parent = el.getparent()
    if parent is None:
        return
    # Blocks dissolved into text would run words together: keep a space between them.
    sep = " " if el.tag not in ("span", "b", "i", "em", "strong", "u", "s", "small", "big", "mark",
                                "q", "cite", "ins", "del", "sub", "sup", "abbr", "dfn", "kbd",
                                "samp", "var", "bdi", "bdo", "time", "data", "strike", "tt",
                                "font", "nobr") else ""
    index = parent.index(el)
    text = sep + (el.text or "")
    prev = el.getprevious()
    if prev is not None:
        prev.tail = (prev.tail or "") + text
    else:
        parent.text = (parent.text or "") + text
    children = list(el)
    for i, child in enumerate(children):
        parent.insert(index + i, child)
    tail = sep + (el.tail or "")
    if children:
        children[-1].tail = (children[-1].tail or "") + tail
    else:
        p2 = el.getprevious()
        if p2 is not None:
            p2.tail = (p2.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
    parent.remove(el)
