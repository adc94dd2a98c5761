"""Property: whatever tag soup a post holds, the sanitized chapter is well-formed XHTML with no
active content, and every word outside script/style survives."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from pubpipe.document import Book, BookMeta, Diagnostics
from pubpipe.readers import read_chapter
from pubpipe.transforms import citations, figures, footnotes, ids, sanitize
from pubpipe.write.common import xhtml_document
from textcheck import words

TAGS = ["p", "div", "span", "b", "i", "u", "font", "center", "table", "tr", "td", "li", "ul", "a",
        "img", "br", "blockquote", "h2", "pre", "code", "em", "strong", "marquee", "section", "dd",
        "figure", "figcaption", "sup", "svg", "form", "button", "label"]
ATTRS = ['style="color:red"', 'onclick="x()"', 'href="javascript:alert(1)"', 'id="dup"',
         'class="evil"', 'align="center"', 'href="#dup"', 'src="a b.png"', 'width="50%"', ""]
WORDS = st.sampled_from(["alpha", "beta", "gamma", "δέλτα", "中文", "עברית", "&amp;", "&mdash;",
                         "&hearts;", "x < y", "[1]", "{{< tweet 1 >}}"])


@st.composite
def soup(draw, depth=0):
    parts = []
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.integers(0, 3 if depth < 3 else 1))
        if kind <= 1:
            parts.append(draw(WORDS))
        else:
            tag = draw(st.sampled_from(TAGS))
            attr = draw(st.sampled_from(ATTRS))
            inner = draw(soup(depth=depth + 1))
            closed = draw(st.booleans())
            parts.append(f"<{tag} {attr}>{inner}" + (f"</{tag}>" if closed else ""))
    return " ".join(parts)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(html=soup())
def test_any_soup_becomes_valid_safe_xhtml(tmp_path, html):
    check_soup(tmp_path, html)


def test_empty_block_between_words_keeps_them_apart(tmp_path):
    # the parser leaves empty paragraphs between "alpha" and "beta" (the stray </p> makes one,
    # the table takes the space); removing them must not make one word "alphabeta" of the two
    check_soup(tmp_path, 'alpha alpha <p style="color:red"><table style="color:red">alpha</p>'
                         ' <font style="color:red">beta')


def check_soup(tmp_path, html):
    src = tmp_path / "p.md"
    src.write_text(f"# T\n\n{html}\n\nend\n", encoding="utf-8")
    d = Diagnostics()
    ch = read_chapter(Path(src), d)
    ch.slug = "p"
    book = Book(meta=BookMeta(title="T"), root=tmp_path, chapters=[ch], diagnostics=d)
    before = words(" ".join(ch.body.itertext()))
    for stage in (sanitize, figures, citations, footnotes, ids):
        stage.run(book)
    doc = xhtml_document("T", "en", list(book.chapters[0].body))
    root = etree.fromstring(doc)  # well-formed XML
    text = " ".join(root.itertext())
    serialized = doc.decode()
    for bad in ("<script", "onclick", "javascript:", "style=", "<font", "<center", "<marquee"):
        assert bad not in serialized
    ids_seen = [e.get("id") for e in root.iter() if e.get("id")]
    assert len(ids_seen) == len(set(ids_seen))
    assert before <= words(text) | words("tweet")
