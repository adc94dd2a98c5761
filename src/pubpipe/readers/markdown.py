"""Markdown (with raw HTML) to a chapter tree.

Python-Markdown with what bloggers expect renders the text; html5lib then parses the result the way a
browser would (``<Br />``, unclosed ``<p>``, ``&mdash;``) into an lxml tree. Python-Markdown keeps no
source positions, so line numbers are recovered afterwards by matching each element's first words
(or its URL) against the source, in document order.
"""

from __future__ import annotations

import html
import re
from urllib.parse import unquote

import markdown
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
    "pymdownx.tasklist": {"custom_checkbox": False},
    "pymdownx.tilde": {"subscript": False},
}


def render_html(text: str, lang: str = "en", ctx: shortcodes.Context | None = None,
                unhonoured: list | None = None) -> str:
    """Markdown source (front matter removed) to an HTML fragment string.

    Smart quotes are the language's (i18n.quotes); template syntax is handled first
    (shortcodes.convert) and what it could not honour is appended to unhonoured."""
    configs = dict(EXTENSION_CONFIGS)
    configs["markdown.extensions.smarty"] = {"substitutions": _smart_quotes(lang),
                                             "smart_quotes": not pairs_quotes(lang)}
    md = markdown.Markdown(extensions=EXTENSIONS, extension_configs=configs, output_format="html")
    result = shortcodes.convert(text, ctx)
    if unhonoured is not None:
        unhonoured.extend(result.unhonoured)
    return md.convert(close_unclosed_blocks(result.text))


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


def annotate_lines(root: etree._Element, source: str) -> None:
    """Set ``el.sourceline`` on every element from where its words or URL stand in the source."""
    words: list[tuple[str, int]] = []
    for lineno, line in enumerate(source.splitlines(), 1):
        words.extend((w.lower(), lineno) for w in _WORD.findall(line))
    index: dict[str, list[int]] = {}
    for i, (w, _) in enumerate(words):
        index.setdefault(w, []).append(i)

    cursor = 0
    last_line = 1
    url_seen: dict[str, int] = {}

    def find_words(probe: list[str]) -> int | None:
        nonlocal cursor
        if not probe:
            return None
        for start in index.get(probe[0], []):
            if start < cursor:
                continue
            if all(start + k < len(words) and words[start + k][0] == probe[k]
                   for k in range(1, len(probe))):
                cursor = start
                return words[start][1]
        return None

    for el in root.iter():
        if not isinstance(el.tag, str) or el is root:
            continue
        line = None
        for attr in _URL_ATTRS:
            value = el.get(attr)
            if value and shortcodes.REF_PREFIX in value:  # {% post_url x %}: find x
                value = unquote(value.split(shortcodes.REF_PREFIX, 1)[1].partition("/")[2])
            if value and len(value) > 3 and not value.startswith("#"):
                # The same URL may stand twice: each use takes the next occurrence.
                pos = source.find(value, url_seen.get(value, 0))
                if pos < 0:
                    pos = source.find(value)
                if pos >= 0:
                    url_seen[value] = pos + len(value)
                    line = source.count("\n", 0, pos) + 1
                    break
        if line is None and el.tag in _BLOCKS:  # inline elements stand where their block does
            probe = []
            for chunk in el.itertext():
                probe.extend(w.lower() for w in _WORD.findall(chunk))
                if len(probe) >= 3:
                    break
            probe = probe[:3]
            line = find_words(probe)
        if line is None:
            parent = el.getparent()
            line = parent.sourceline if parent is not None and parent.sourceline else last_line
        el.sourceline = line
        last_line = line
