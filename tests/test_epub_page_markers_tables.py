"""Print page numbers in the EPUB: a page that begins inside a long table gets its marker in the
table's body, never in the header that print repeats on every page."""

from __future__ import annotations

import zipfile

import pytest
from lxml import etree

from pubpipe import config
from pubpipe.pipeline import BuildOptions, build

pytestmark = pytest.mark.slow
X = "http://www.w3.org/1999/xhtml"
OPS = "http://www.idpf.org/2007/ops"


def test_no_marker_inside_a_repeated_table_header(tmp_path):
    rows = "\n".join(f"| {1800 + i} | Lamp number {i} | Colza oil | {i * 3} nmi |" for i in range(90))
    (tmp_path / "book.toml").write_text('[book]\ntitle = "Lights"\n[pdf]\npage-size = "6in 9in"\n')
    (tmp_path / "a.md").write_text("# Lighthouses\n\nSome words before the table.\n\n"
                                   "| Year | Lamp name | Fuel | Range |\n|---|---|---|---|\n"
                                   f"{rows}\n\nAnd words after it.\n")
    out = build(config.load(tmp_path), BuildOptions(formats=("epub",), out_dir=tmp_path / "out",
                                                     cache_dir=tmp_path / "cache", offline=True))
    with zipfile.ZipFile(out.outputs["epub"]) as z:
        docs = [etree.fromstring(z.read(n)) for n in z.namelist() if n.endswith(".xhtml")]
    markers = [el for d in docs for el in d.iter(f"{{{X}}}span")
               if el.get(f"{{{OPS}}}type") == "pagebreak"]
    assert len(markers) >= 3  # the table spans several printed pages
    for m in markers:
        assert not any(a.tag == f"{{{X}}}thead" for a in m.iterancestors()), m.get("aria-label")


def test_a_page_that_begins_with_a_picture_gets_its_marker_before_it():
    """A printed page holding only a picture has no words to find: its marker stands before
    the picture, and never after the next page's marker."""
    from lxml import etree as _etree

    from pubpipe.layout.edition import PageStart
    from pubpipe.write.epub.pagelist import insert_markers

    body = _etree.fromstring(
        '<body><p data-pp-block="0">Opening words of the chapter here</p>'
        '<figure data-pp-block="1"><img src="a.png" alt="A"/></figure>'
        '<figure data-pp-block="2"><img src="b.png" alt="B"/></figure>'
        '<h2 data-pp-block="3">Later heading words follow</h2><p data-pp-block="4">End.</p></body>')
    starts = [PageStart((), "1", ("opening", "words", "of", "the", "chapter")),
              PageStart((1,), "2"),
              PageStart((3,), "3", ("later", "heading", "words", "follow"))]
    pages = insert_markers(body, starts, "c.xhtml")
    assert [label for _, label in pages] == ["1", "2", "3"]
    order = [el.get("aria-label") or el.tag for el in body]
    assert order == ["1", "p", "2", "figure", "figure", "3", "h2", "p"], order


def test_markers_that_share_a_place_keep_page_order():
    from lxml import etree as _etree

    from pubpipe.layout.edition import PageStart
    from pubpipe.write.epub.pagelist import insert_markers

    body = _etree.fromstring('<body><p data-pp-block="0">Only words here</p>'
                             '<p data-pp-block="1">Next words</p></body>')
    starts = [PageStart((), "1", ("only", "words", "here")),
              PageStart((1,), "2", ("next", "words")), PageStart((1,), "3", ("next", "words"))]
    insert_markers(body, starts, "c.xhtml")
    labels = [el.get("aria-label") for el in body.iter("span")]
    assert labels == ["1", "2", "3"], labels


def test_a_page_that_begins_with_a_picture_and_then_words_gets_its_marker_before_the_picture():
    """A printed page that begins with a picture and goes on with a paragraph: its first words
    are the paragraph's, but the picture is on it too, so the marker stands before the picture."""
    from lxml import etree as _etree

    from pubpipe.layout.edition import PageStart
    from pubpipe.write.epub.pagelist import insert_markers

    body = _etree.fromstring(
        '<body><p data-pp-block="0">Opening words of the chapter here</p>'
        '<p data-pp-block="1"><code>xxxxxxxx</code></p>'
        '<figure data-pp-block="2"><img src="a.png" alt="A"/></figure>'
        '<p data-pp-block="3">Tide lantern rope harbour granite ledger</p></body>')
    words = ("tide", "lantern", "rope", "harbour", "granite")
    starts = [PageStart((), "7", ("opening", "words", "of", "the", "chapter")),
              PageStart((2,), "8", words, words)]
    insert_markers(body, starts, "c.xhtml")
    order = [el.get("aria-label") or el.tag for el in body]
    assert order == ["7", "p", "p", "8", "figure", "p"], order


def test_a_page_whose_first_words_read_back_garbled_gets_its_marker_at_its_first_word():
    """The PDF's text of a page may spell a word otherwise than the EPUB (a ligature glyph with
    no Unicode mapping): the marker still goes before the page's first word, not after the
    words up to the first exact match."""
    from lxml import etree as _etree

    from pubpipe.layout.edition import PageStart
    from pubpipe.write.epub.pagelist import insert_markers

    body = _etree.fromstring(
        '<body><p data-pp-block="0">كان المسافر يمشي في الصحراء إلا '
        'والريح إلا تحمل قرب الغبار إلا في الغبار جده المسافر ولم القديمة البعيد معه</p></body>')
    page2 = ("والريح", "إǂ", "تحمل", "قرب", "الغبار", "إǂ", "في", "الغبار", "جده",
             "المسافر", "ولم", "القديمة", "البعيد", "معه")
    starts = [PageStart((), "5", ("كان", "المسافر", "يمشي", "في", "الصحراء")),
              PageStart((0,), "6", page2, page2)]
    insert_markers(body, starts, "c.xhtml")
    marker = next(el for el in body.iter("span") if el.get("aria-label") == "6")
    assert marker.tail.startswith("والريح إلا تحمل"), marker.tail
    assert marker.getparent().text.endswith("الصحراء إلا "), marker.getparent().text


def test_a_word_read_back_as_two_is_stepped_over():
    """'الأفق' reads back from a PDF with full fonts as 'اǂ فق': the marker still stands before
    the page's first word, the paragraph's first."""
    from lxml import etree as _etree

    from pubpipe.layout.edition import PageStart
    from pubpipe.write.epub.pagelist import insert_markers

    body = _etree.fromstring(
        '<body><p data-pp-block="0">كان المسافر يمشي في الصحراء الواسعة</p>'
        '<p data-pp-block="1">وجهه الغبار الأفق إلا يمشي فوق المسافر قليل جده القديمة</p></body>')
    page2 = ("وجهه", "الغبار", "اǂ", "فق", "إǂ", "يمشي", "فوق", "المسافر", "قليل", "جده")
    starts = [PageStart((), "9", ("كان", "المسافر", "يمشي", "في", "الصحراء")),
              PageStart((1,), "10", page2, page2)]
    insert_markers(body, starts, "c.xhtml")
    order = [el.get("aria-label") or el.tag for el in body]
    assert order == ["9", "p", "10", "p"], order
