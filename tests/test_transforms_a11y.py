"""Heading levels and table header cells, on small inputs (the transforms behind Ace's checks)."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from pubpipe.document import Book, BookMeta, Diagnostics
from pubpipe.readers import read_chapter
from pubpipe.document import ALT_SOURCE
from pubpipe.transforms import alt, figures, headings, ids, sanitize, tables


def _book(tmp_path: Path, text: str) -> Book:
    d = Diagnostics()
    p = tmp_path / "c.md"
    p.write_text(text, encoding="utf-8")
    ch = read_chapter(p, d)
    ch.slug = "c"
    return Book(meta=BookMeta(title="T"), root=tmp_path, chapters=[ch], diagnostics=d)


def _run(book: Book) -> etree._Element:
    for stage in (sanitize, figures, alt, headings, tables, ids):
        stage.run(book)
    return book.chapters[0].body


@pytest.mark.parametrize("levels, expected", [
    ([4, 4, 4], [2, 2, 2]),
    ([4, 5, 4, 6], [2, 3, 2, 3]),
    ([2, 4, 3, 2], [2, 3, 3, 2]),
    ([3, 2, 3], [2, 2, 3]),
    ([2, 3, 4, 5, 6], [2, 3, 4, 5, 6]),
    ([6, 2], [2, 2]),
    ([], []),
])
def test_outline_levels_close_holes_and_keep_the_structure(levels, expected):
    assert headings.outline_levels(levels) == expected


def test_headings_never_skip_after_the_chapter_title(tmp_path):
    book = _book(tmp_path, "---\ntitle: Post\n---\n\n#### Intro\n\ntext\n\n##### Detail\n\n"
                 "text\n\n#### Related\n\n<h6>deep</h6>\n\n## Sources\n")
    body = _run(book)
    got = [(h.tag, "".join(h.itertext())) for h in body.iter("h1", "h2", "h3", "h4", "h5", "h6")]
    assert got == [("h1", "Post"), ("h2", "Intro"), ("h3", "Detail"), ("h2", "Related"),
                   ("h3", "deep"), ("h2", "Sources")]
    info = [d for d in book.diagnostics if d.code == "heading-levels"]
    assert len(info) == 1 and "h4 to h2" in info[0].message and info[0].line == 5


def test_well_ordered_headings_are_left_alone(tmp_path):
    book = _book(tmp_path, "# Title\n\n## A\n\n### B\n\n## C\n")
    body = _run(book)
    assert [h.tag for h in body.iter("h1", "h2", "h3")] == ["h1", "h2", "h3", "h2"]
    assert not [d for d in book.diagnostics if d.code == "heading-levels"]


def _table(body: etree._Element, n: int = 0) -> etree._Element:
    return list(body.iter("table"))[n]


def test_bold_first_row_becomes_the_header_row(tmp_path):
    body = _run(_book(tmp_path, "# T\n\n<table><tr><td><b>Name</b></td><td><strong>Age</strong>"
                      "</td></tr><tr><td>Ann</td><td>3</td></tr></table>\n"))
    t = _table(body)
    head = t.find("thead")
    assert head is not None and t.index(head) == 0
    ths = head.findall("tr/th")
    assert [("".join(th.itertext()), th.get("scope")) for th in ths] == [("Name", "col"),
                                                                         ("Age", "col")]
    assert ths[0].find("b") is None  # the bold was the header's look: th is bold already
    assert [c.tag for c in t.iter("td")] == ["td", "td"]


def test_thead_cells_and_bold_first_column(tmp_path):
    body = _run(_book(tmp_path, "# T\n\n<table><thead><tr><td>A</td><td>B</td></tr></thead>"
                      "<tbody><tr><td>1</td><td>2</td></tr></tbody></table>\n\n"
                      "<table><tr><td><b>Row one</b></td><td>1</td></tr>"
                      "<tr><td><b>Row two</b></td><td>2</td></tr></table>\n"))
    first, second = _table(body, 0), _table(body, 1)
    assert [th.get("scope") for th in first.iter("th")] == ["col", "col"]
    assert [(th.text, th.get("scope")) for th in second.iter("th")] == [("Row one", "row"),
                                                                        ("Row two", "row")]


def test_tables_without_header_in_the_source_stay_and_empty_headers_go(tmp_path):
    body = _run(_book(tmp_path, "# T\n\n<table><tr><td>a <b>b</b></td><td>c</td></tr>"
                      "<tr><td>d</td><td>e</td></tr></table>\n\n"
                      "|   | A |\n|---|---|\n| x | 1 |\n"))
    plain, md = _table(body, 0), _table(body, 1)
    assert plain.find(".//th") is None and not tables.has_headers(plain)
    assert tables.is_data_table(plain)
    assert [c.tag for c in md.find("thead/tr")] == ["td", "th"]  # the empty corner is no header
    assert md.find("thead/tr/th").get("scope") == "col"


def test_invalid_scope_is_replaced(tmp_path):
    body = _run(_book(tmp_path, "# T\n\n<table><tr><th scope='column'>A</th><th>B</th></tr>"
                      "<tr><td>1</td><td>2</td></tr></table>\n"))
    assert [th.get("scope") for th in _table(body).iter("th")] == ["col", "col"]


def test_empty_headings_go(tmp_path):
    body = _run(_book(tmp_path, "# T\n\n<h2></h2>\n\n<h3><a id='x'></a></h3>\n\n"
                      "<h3><img src='a.png' alt='Logo'></h3>\n\ntext\n"))
    assert [h.tag for h in body.iter("h1", "h2", "h3")] == ["h1", "h2"]
    assert body.find(".//p/a[@id='x']") is not None


def test_alt_text_author_caption_or_source(tmp_path):
    book = _book(tmp_path, "# T\n\n![A real description](a.png)\n\n"
                 "<figure><img src='b.png' alt=' '><figcaption>The caption<sup>1</sup>"
                 "</figcaption></figure>\n\n<p><img src='https://www.example.org/x/c.jpg'></p>\n\n"
                 "<p><img src='d.png'></p>\n")
    body = _run(book)
    got = [(i.get("alt"), i.get(ALT_SOURCE)) for i in body.iter("img")]
    assert got == [("A real description", None), ("The caption", "caption"),
                   ("Image from example.org", "generic"), ("Image: d.png", "generic")]
    warned = [d for d in book.diagnostics if d.code == "image-alt-missing"]
    assert [d.line for d in warned] == [7, 9]


def test_languages_that_do_not_exist_are_dropped(tmp_path):
    from pubpipe.util import normalize_lang

    assert [normalize_lang(t) for t in ("en_US", "de-AT", "zh-Hant-TW", "fil", "iw")] == [
        "en-US", "de-AT", "zh-Hant-TW", "fil", "iw"]
    assert [normalize_lang(t) for t in ("jp", "xx-INVALID", "english", "e")] == [None] * 4
    body = _run(_book(tmp_path, "# T\n\n<p lang='jp'>こんにちは</p>\n\n<p lang='ja'>はい</p>\n"))
    assert [p.get("lang") for p in body.iter("p")] == [None, "ja"]


def _screen_rules(css: str) -> list[tuple[str, str]]:
    """(selector, declarations) of every rule a reading system applies (not @media print)."""
    import re

    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    out, depth, start, media_print = [], 0, 0, []
    i = 0
    while i < len(css):
        c = css[i]
        if c == "{":
            head = css[start:i].strip()
            if head.startswith("@media"):
                media_print.append("print" in head and "screen" not in head)
                depth += 1
                start = i + 1
            else:
                end = css.index("}", i)
                if not any(media_print):
                    out.append((head, css[i + 1:end]))
                i, start = end, end + 1
        elif c == "}":
            media_print.pop()
            start = i + 1
        i += 1
    return out


def test_epub_css_leaves_the_reader_in_charge():
    """No !important, no absolute font sizes, no text colours, no opaque backgrounds behind text,
    and no link in running text without its underline (only the contents list drops it)."""
    import re

    from pubpipe import resources

    css = resources.stylesheet("epub.css") + "\n" + resources.component_styles()
    rules = _screen_rules(css)
    assert len(rules) > 50
    for selector, decls in rules:
        assert "!important" not in decls, selector
        assert not re.search(r"font-size\s*:\s*[\d.]+(px|pt|pc|in|cm|mm)", decls), selector
        assert not re.search(r"(^|[;\s])color\s*:", decls), selector
        bg = re.search(r"background(-color)?\s*:\s*([^;]+)", decls)
        if bg and "placeholder" not in selector:  # drawn placeholders hold no text
            assert re.match(r"(rgba\(|none|transparent|inherit)", bg.group(2).strip()), selector
        if re.search(r"text-decoration\s*:\s*none", decls) and re.search(r"(^|[\s,>])a\b",
                                                                           selector):
            assert selector.startswith("nav"), selector
