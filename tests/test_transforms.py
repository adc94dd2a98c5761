"""Sanitize, figures, citations, footnotes and ids, each on small inputs."""

from __future__ import annotations

from pathlib import Path

from lxml import etree

from pubpipe.document import EPUB_TYPE, Book, BookMeta, Diagnostics
from pubpipe.readers import read_chapter
from pubpipe.transforms import citations, figures, footnotes, ids, sanitize


def _book(tmp_path: Path, *texts: str) -> Book:
    chapters = []
    d = Diagnostics()
    for i, text in enumerate(texts):
        p = tmp_path / f"c{i}.md"
        p.write_text(text, encoding="utf-8")
        chapters.append(read_chapter(p, d))
    for i, ch in enumerate(chapters):
        ch.slug = f"c{i}"
    return Book(meta=BookMeta(title="T"), root=tmp_path, chapters=chapters, diagnostics=d)


def _run(book: Book) -> str:
    for stage in (sanitize, figures, citations, footnotes, ids):
        stage.run(book)
    return "\n".join(etree.tostring(c.body, encoding="unicode") for c in book.chapters)


def test_sanitizer_removes_active_content_and_keeps_words(tmp_path):
    html = _run(_book(tmp_path, '# T\n\n<script>alert("x")</script>\n<style>p{}</style>\n'
                      '<p style="color:red" onclick="x()">kept <font color=red>font</font> '
                      '<a href="javascript:alert(1)">js</a></p>\n\n<center>centre</center>\n'))
    for bad in ("<script", "<style", "style=", "onclick", "javascript:", "<font", "<center", "alert"):
        assert bad not in html, bad
    for word in ("kept", "font", "js", "centre"):
        assert word in html


def test_sanitizer_repairs_content_models(tmp_path):
    html = _run(_book(tmp_path, "# T\n\n<span><div>block in span</div></span>\n\n"
                      "<li>stray item</li>\n\n<table align=center><tr><td align=right>c</td></tr></table>\n"))
    assert "<span><div" not in html
    assert "<ul><li>stray item</li>" in html
    assert 'class="pp-align-right"' in html and "align=" not in html


def test_entities_become_characters(tmp_path):
    html = _run(_book(tmp_path, "# T\n\nA &mdash; B &hearts; &nbsp;C &copy;\n"))
    assert "A \u2014 B \u2665 \u00a0C \u00a9" in html


def test_figure_with_caption_line(tmp_path):
    book = _book(tmp_path, "# T\n\n![](a.png)\n[2] _A caption._<br/><br/>\n\ntext\n\n## Sources\n\n[2] Entry\n")
    html = _run(book)
    fig = next(book.chapters[0].body.iter("figure"))
    assert fig[0].tag == "img" and fig[1].tag == "figcaption"
    assert "A caption." in "".join(fig[1].itertext())
    assert fig[0].get("alt") == "A caption."  # no alt: the caption says what it shows
    assert 'href="#source-2"' in html


def test_caption_on_next_paragraph_and_inline_image_stays(tmp_path):
    book = _book(tmp_path, "# T\n\n![x](a.png)\n\n_Caption below._\n\nText ![y](b.png) inline.\n")
    _run(book)
    figs = list(book.chapters[0].body.iter("figure"))
    assert len(figs) == 1 and "Caption below." in "".join(figs[0].itertext())
    inline = [i for i in book.chapters[0].body.iter("img") if i.get("alt") == "y"][0]
    assert inline.getparent().tag == "p"


def test_citations_link_both_ways(tmp_path):
    book = _book(tmp_path, "# T\n\nClaim [1, 3] and [2] and [99].\n\n## Sources\n\n[1] One.\n\n[2] Two.\n\n[3] Three.\n")
    html = _run(book)
    assert html.count('role="doc-biblioref"') == 3
    assert "[99]" in html  # no such entry: left as text
    body = book.chapters[0].body
    entry = body.xpath("//*[@id='source-1']")[0]
    back = entry.find("a")
    assert back.get("href") == "#cite-1-1"
    section = body.xpath("//section")[0]
    assert section.get(EPUB_TYPE) == "bibliography"


def test_footnotes_become_epub_notes(tmp_path):
    book = _book(tmp_path, "# T\n\nText[^a] more[^b].\n\n[^a]: First.\n[^b]: Second.\n")
    _run(book)
    body = book.chapters[0].body
    refs = [a for a in body.iter("a") if a.get(EPUB_TYPE) == "noteref"]
    notes = [a for a in body.iter("aside") if a.get(EPUB_TYPE) == "footnote"]
    assert len(refs) == 2 and len(notes) == 2
    assert {r.get("href")[1:] for r in refs} == {n.get("id") for n in notes}
    assert "First." in "".join(notes[0].itertext())


def test_ids_unique_across_book_and_links_follow(tmp_path):
    book = _book(tmp_path, '# A\n\n<p id="x">one</p> <a href="#x">to x</a>\n\n## Same\n',
                 '# B\n\n<p id="x">two</p> <a href="#x">to x</a> <a href="#gone">gone</a>\n\n## Same\n')
    _run(book)
    all_ids = [e.get("id") for c in book.chapters for e in c.body.iter() if e.get("id")]
    assert len(all_ids) == len(set(all_ids))
    second = book.chapters[1].body
    target = second.xpath("//p[text()='two']")[0].get("id")
    assert second.xpath("//a[text()='to x']")[0].get("href") == f"#{target}"
    assert second.xpath("//a[text()='gone']")[0].get("href") is None
    assert any(d.code == "broken-anchor" and d.line for d in book.diagnostics)


def test_posts_cannot_borrow_pubpipe_classes(tmp_path):
    book = _book(tmp_path, '# T\n\n<p class="pp-embed chapter-opening byline">x</p>\n')
    _run(book)
    body = book.chapters[0].body
    assert body[0].get("class") == "chapter-opening"  # the reader's own opening keeps its class
    p = [e for e in body.iter("p") if "".join(e.itertext()) == "x"][0]
    assert p.get("class") is None


def test_generated_ids_win_over_the_authors(tmp_path):
    book = _book(tmp_path, '# T\n\n<p id="fn-1">mine</p>\n<p id="source-1">also</p>\n\n'
                 'Claim [1].[^1]\n\n[^1]: Note.\n\n## Sources\n\n[1] Entry.\n')
    _run(book)
    body = book.chapters[0].body
    ref = body.xpath("//a[@role='doc-noteref']")[0].get("href")[1:]
    assert body.xpath(f"//*[@id='{ref}']")[0].tag == "aside"
    cite = body.xpath("//a[@role='doc-biblioref']")[0].get("href")[1:]
    assert "Entry." in "".join(body.xpath(f"//*[@id='{cite}']")[0].itertext())


def test_invalid_attribute_values_are_dropped_or_normalized(tmp_path):
    html = _run(_book(tmp_path, '# T\n\n<time datetime="garbage">a</time> <time datetime="2019-01-20">b</time>'
                      ' <span lang="not a lang">c</span> <span lang="en_US">d</span>'
                      ' <q cite="not a url">e</q> <textarea>f words</textarea> <ol type="z"><li>g</li></ol>\n'))
    assert 'datetime="garbage"' not in html and 'datetime="2019-01-20"' in html
    assert 'lang="not a lang"' not in html and 'lang="en-US"' in html
    assert "cite=" not in html and "f words" in html and "type=" not in html


def test_hidden_content_is_not_shown(tmp_path):
    html = _run(_book(tmp_path, "# T\n\n<div hidden>secret hidden</div><template>tpl words</template> shown\n"))
    assert "secret hidden" not in html and "tpl words" not in html and "shown" in html


def test_markdown_column_alignment_survives(tmp_path):
    html = _run(_book(tmp_path, "# T\n\n| a | n |\n|:--|--:|\n| x | 1 |\n"))
    assert 'class="pp-align-right">1<' in html and "style=" not in html


def test_mathml_is_kept_and_cleaned(tmp_path):
    book = _book(tmp_path, '# T\n\n<p>a <math><mi onclick="x()">x</mi><mo>+</mo><mn>1</mn>'
                 '<script>bad()</script></math> b</p>\n')
    _run(book)
    doc = etree.tostring(book.chapters[0].body, encoding="unicode")
    assert "http://www.w3.org/1998/Math/MathML" in doc and "onclick" not in doc and "bad()" not in doc
