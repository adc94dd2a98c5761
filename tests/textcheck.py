"""Word-level checks that nothing a reader sees is lost between a post and its outputs.

The reference is the post as a browser shows it: Markdown rendered by plain Python-Markdown, minus
front matter, scripts and styles. Words are compared case-folded and as a set of distinct words.
Formulas are not words: a browser shows them drawn by MathJax or KaTeX, and so do the outputs
(MathML in the EPUB, vector drawings in the PDF), so the reference leaves them out.
"""

from __future__ import annotations

import re
import subprocess
import zipfile
from pathlib import Path

import markdown
from lxml import html as lxml_html

from pubpipe.readers import frontmatter
from pubpipe.readers import math as math_reader
from pubpipe.readers.markdown import close_unclosed_blocks

WORD = re.compile(r"[^\W_]{2,}", re.U)
BREAKING = {"br", "td", "th", "li", "p", "div", "tr", "dt", "dd", "h1", "h2", "h3", "h4", "h5", "h6",
            "blockquote", "pre", "figure", "figcaption", "hr", "table", "section", "img"}


def words(text: str) -> set[str]:
    return {w.casefold() for w in WORD.findall(text)}


def _space_blocks(root) -> None:
    """A browser shows a break between blocks and cells: keep their words apart in the text."""
    for el in root.iter():
        if isinstance(el.tag, str) and el.tag.split("}")[-1] in BREAKING:
            el.tail = " " + (el.tail or "")


def source_words(md_path: Path) -> set[str]:
    fm = frontmatter.split(md_path.read_text(encoding="utf-8"))
    meta = {str(k).lower(): v for k, v in fm.meta.items()}
    dollars = math_reader.enabled_by_post(meta, fm.body) or \
        math_reader.site_math(md_path.parent).loads_math
    body = math_reader.PLACEHOLDER.sub(" ", math_reader.protect(fm.body, dollars=dollars)[0])
    # What Hugo itself shows for a link shortcode: the path it names.
    body = re.sub(r'\{\{<\s*(?:rel)?ref\s+"([^"]*)"\s*>\}\}', r"\1", body)
    # An unclosed block tag would make plain Markdown show the rest of the post as raw Markdown
    # source; the reference reads the post as its author meant it.
    body = close_unclosed_blocks(body)
    rendered = markdown.markdown(body, extensions=["tables", "fenced_code", "footnotes", "def_list"])
    root = lxml_html.fromstring(f"<div>{rendered}</div>")
    for bad in root.xpath("//script|//style|//template|//math"):
        bad.drop_tree()
    _space_blocks(root)
    return words(root.text_content())


def epub_text(epub: Path) -> str:
    parts = []
    with zipfile.ZipFile(epub) as z:
        for name in z.namelist():
            if name.endswith((".xhtml", ".html")):
                root = lxml_html.fromstring(z.read(name))
                _space_blocks(root)
                parts.append(root.text_content())
    return "\n".join(parts)


def pdf_text(pdf: Path) -> str:
    out = subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True,
                         check=True).stdout.decode("utf-8", "replace")
    # Words hyphenated at a line end come back whole.
    return re.sub(r"(\w)[-\u2010\u00ad]\n(\w)", r"\1\2", out)


def kept_ratio(expected: set[str], actual_text: str) -> tuple[float, set[str]]:
    got = words(actual_text)
    # A word split by a line break inside a URL is still there when its pieces are.
    folded = actual_text.casefold()
    joined = re.sub(r"\s+", "", folded)  # CJK lines break inside words, without a hyphen
    missing = {w for w in expected if w not in got and w not in folded and w not in joined}
    return (1 - len(missing) / len(expected)) if expected else 1.0, missing
