"""Reader: front matter, Markdown features, seed-style opening lines, line numbers."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from conftest import CONTENT
from pubpipe import config
from pubpipe.document import Diagnostics
from pubpipe.readers import frontmatter, read_book, read_chapter
from pubpipe.readers.opening import parse_date
from pubpipe.readers.shortcodes import convert


def _chapter(tmp_path: Path, text: str):
    p = tmp_path / "post.md"
    p.write_text(text, encoding="utf-8")
    d = Diagnostics()
    return read_chapter(p, d), d


def test_default_book_metadata_from_the_post():
    book = read_book(config.load(CONTENT))
    m = book.meta
    assert m.title == "Blog post 2: China as a technological dystopia"
    assert m.subtitle.startswith("A critical review")
    assert m.authors == ["Yves Wienecke"]
    assert m.date == "2019-01-20"
    assert m.language == "en"
    header = book.chapters[0].body[0]
    assert header.tag == "header"
    texts = [" ".join("".join(e.itertext()).split()) for e in header]
    assert texts == ["Blog post 2: China as a technological dystopia",
                     "A critical review of discourse regarding Chinese sesame credit score",
                     "By Yves Wienecke", "January 20, 2019"]
    # the opening lines are not left behind as stray paragraphs
    body_text = etree.tostring(book.chapters[0].body, encoding="unicode")
    assert body_text.count("Yves Wienecke") == 1


@pytest.mark.parametrize("text,expected", [
    ("---\ntitle: Y\nauthor: A\ndate: 2020-03-04\n---\nBody", ("Y", ["A"], "2020-03-04")),
    ('+++\ntitle = "T"\nauthors = ["B", "C"]\ndate = "2019-02-17T08:09:26-07:00"\n+++\nBody',
     ("T", ["B", "C"], "2019-02-17")),
    ("Title: P\nAuthor: D\nDate: 2018-01-02\n\nBody", ("P", ["D"], "2018-01-02")),
])
def test_front_matter_styles(tmp_path, text, expected):
    ch, d = _chapter(tmp_path, text)
    assert (ch.title, ch.authors, ch.date) == expected
    assert not d


def test_pelican_lookalike_prose_is_not_metadata():
    fm = frontmatter.split("Note: this is prose.\nMore prose.\n")
    assert fm.meta == {} and fm.body.startswith("Note:")


def test_broken_front_matter_is_an_error_with_a_line(tmp_path):
    ch, d = _chapter(tmp_path, "---\ntitle: [unclosed\nauthor: x\n---\nBody text\n")
    assert d.errors and d.errors[0].line and d.errors[0].file.name == "post.md"
    assert "Body text" in "".join(ch.body.itertext())


def test_markdown_features(tmp_path):
    ch, _ = _chapter(tmp_path, "# T\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\nx[^1]\n\n[^1]: note\n\n"
                     "```py\nprint(1)\n```\n\nTerm\n: def\n\n- [x] done\n\n\"quotes\" -- dash\n\n"
                     "## Heading {: #custom }\n\nhttps://example.org/bare\n")
    html = etree.tostring(ch.body, encoding="unicode")
    for needle in ("<table>", "footnote", 'class="language-py"', "<dl>", "checkbox", "\u201cquotes\u201d",
                   'id="custom"', 'href="https://example.org/bare"'):
        assert needle in html, needle


def test_sections_move_below_the_chapter_title(tmp_path):
    ch, _ = _chapter(tmp_path, "---\ntitle: Front title\n---\nIntro\n\n# Section\n\ntext\n")
    assert [h.tag for h in ch.body.iter("h1", "h2")] == ["h1", "h2"]


def test_line_numbers_follow_the_source(tmp_path):
    ch, _ = _chapter(tmp_path, "# T\n\nfirst para\n\n\n![alt](pic.png)\n\nlast words here\n\n"
                     "![again](pic.png)\n")
    first, second = ch.body.iter("img")
    assert (first.sourceline, second.sourceline) == (6, 10)
    last = [p for p in ch.body.iter("p") if "last" in "".join(p.itertext())][0]
    assert last.sourceline == 8


def test_an_image_named_like_the_end_of_an_earlier_one_gets_its_own_line(tmp_path):
    ch, _ = _chapter(tmp_path, "# T\n\n![x](photos/cat.jpg)\n\n![y](cat.jpg)\n\n"
                     "<img src=\"images/a.png\"><img src=\"a.png\">\n\n[![z](cat.jpg)](x/cat.jpg)\n")
    assert [i.sourceline for i in ch.body.iter("img")] == [3, 5, 7, 7, 9]


@pytest.mark.parametrize("value,iso", [("January 20, 2019", "2019-01-20"), ("20 January 2019", "2019-01-20"),
                                       ("2019-01-20T10:00:00Z", "2019-01-20"), ("not a date", ""),
                                       ("March 3rd, 2020", "2020-03-03")])
def test_parse_date(value, iso):
    assert parse_date(value) == iso


def test_shortcodes_become_elements_but_not_in_code():
    src = '{{< youtube "abc" >}}\n\n```\n{{< youtube "x" >}}\n```\n[a]({{< ref "/blog/p" >}})\n'
    out = convert(src).text
    assert '<pp-shortcode data-name="youtube" data-args="&quot;abc&quot;"' in out
    assert '```\n{{< youtube "x" >}}\n```' in out
    assert "[a](.pubpipe-ref/ref//blog/p)" in out  # the links transform resolves it


def test_config_unknown_key_is_named(tmp_path):
    (tmp_path / "book.toml").write_text('[book]\ntitle = "x"\ncolour = "red"\n')
    (tmp_path / "a.md").write_text("# A\n")
    with pytest.raises(config.ConfigError, match="colour"):
        config.load(tmp_path)


def test_config_chapters_and_types(tmp_path):
    (tmp_path / "book.toml").write_text('[book]\ntitle = "x"\nchapters = ["b.md", "a.md"]\n'
                                        '[pdf]\ncrop-marks = true\n')
    (tmp_path / "a.md").write_text("# A\n")
    (tmp_path / "b.md").write_text("# B\n")
    cfg = config.load(tmp_path)
    assert [p.name for p in cfg.chapter_files] == ["b.md", "a.md"]
    assert cfg.pdf.crop_marks is True
    (tmp_path / "book.toml").write_text('[pdf]\ncrop-marks = "yes"\n')
    with pytest.raises(config.ConfigError, match="crop-marks"):
        config.load(tmp_path)
    (tmp_path / "book.toml").write_text('[book]\nchapters = ["../escape.md"]\n')
    with pytest.raises(config.ConfigError, match="outside"):
        config.load(tmp_path)


def test_unclosed_block_tags_do_not_swallow_markdown(tmp_path):
    ch, _ = _chapter(tmp_path, "# T\n\n<p>open paragraph\n\n## After\n\n*em*[^1]\n\n[^1]: n\n")
    html = etree.tostring(ch.body, encoding="unicode")
    assert "<h2" in html and "<em>em</em>" in html and "footnote" in html


def test_nul_bytes_and_control_characters(tmp_path):
    ch, d = _chapter(tmp_path, "# T\n\nbell\x07 here\n")
    assert "bell here" in "".join(ch.body.itertext()) and d.warnings[0].line == 3
    p = tmp_path / "bin.md"
    p.write_bytes(b"# x\n\x00\x01binary")
    d = Diagnostics()
    read_chapter(p, d)
    assert d.errors and d.errors[0].line == 2


def test_front_matter_language_normalized(tmp_path):
    ch, d = _chapter(tmp_path, "---\ntitle: X\nlang: en_US\n---\nbody\n")
    assert ch.lang == "en-US" and not d


@pytest.mark.parametrize("line,key", [('language = 42', "language"), ('date = "not a date"', "date")])
def test_config_bad_values(tmp_path, line, key):
    (tmp_path / "book.toml").write_text(f"[book]\n{line}\n")
    (tmp_path / "a.md").write_text("# A\n")
    with pytest.raises(config.ConfigError, match=key):
        config.load(tmp_path)


def test_each_chapter_is_rendered_afresh(tmp_path):
    """Chapters share a Markdown renderer (reset between them): nothing of one chapter's notes,
    abbreviations, link references or ids may reach the next."""
    first = ("# One\n\nA claim[^n] about HTML and [a ref][r].\n\n[^n]: The first note.\n\n"
             "*[HTML]: Hyper Text\n\n[r]: https://example.org/one\n\n## Same heading\n")
    second = ("# Two\n\nAnother claim[^n] about HTML and [a ref][r] and `$x$`.\n\n"
              "[^n]: The second note.\n\n## Same heading\n")
    a, _ = _chapter(tmp_path, first)
    b, _ = _chapter(tmp_path, second)
    text_b = etree.tostring(b.body, encoding="unicode")
    assert "The first note" not in text_b and "The second note" in text_b
    assert "<abbr" not in text_b and "example.org/one" not in text_b  # definitions are per chapter
    assert text_b.count("fnref") == etree.tostring(a.body, encoding="unicode").count("fnref")
    c, _ = _chapter(tmp_path, first)
    assert etree.tostring(c.body) == etree.tostring(a.body)  # the same text, the same tree


def test_a_renderer_left_mid_document_is_not_used_again(monkeypatch):
    from pubpipe.readers import markdown as mdmod
    text = "# T\n\n- a\n    - b\n\n1. one\n2. two\n\nPara *x*.\n"
    good = mdmod.render_html(text)
    md = mdmod._markdown("en")

    def fail(source):
        md.parser.state.set("list")  # what an exception deep in a list leaves behind
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(md, "convert", fail)
    notes: list = []
    assert "<p>" in mdmod.render_html(text, notes=notes) and notes  # kept as paragraphs
    assert mdmod._markdown("en") is not md
    assert mdmod.render_html(text) == good
