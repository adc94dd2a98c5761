"""Print polish: notes on their call's page, list markers inside the measure, code that wraps with
a mark, lead-ins kept with what they introduce, author image sizes, bylines.

Unit tests work on small trees; the slow tests build a made-up book through the real pipeline and
read the PDF back page by page (pdftotext).
"""

from __future__ import annotations

import io
import random
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from lxml import etree
from lxml import html as lxml_html
from PIL import Image

from pubpipe import config, pipeline
from pubpipe.document import Book, BookMeta, Chapter
from pubpipe.transforms import sanitize
from pubpipe import prepare
from pubpipe.layout import polish as pp

needs_poppler = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler missing")


# ------------------------------------------------------------------------------ units

def test_list_padding_fits_the_widest_marker():
    ol = lxml_html.fromstring("<ol>" + "<li>x</li>" * 14 + "</ol>")
    pp.hang_list_markers(ol)
    pad = float(re.search(r"padding-inline-start: ([\d.]+)em", ol.get("style"))[1])
    assert pad >= pp.text_em("14.") + 0.3
    roman = lxml_html.fromstring('<ol type="i" start="30">' + "<li>x</li>" * 9 + "</ol>")
    pp.hang_list_markers(roman)
    assert float(re.search(r"([\d.]+)em", roman.get("style"))[1]) >= pp.text_em("xxxviii.")
    short = lxml_html.fromstring("<ol><li>a</li><li>b</li></ol>")
    pp.hang_list_markers(short)
    assert short.get("style") is None  # the stylesheet's padding is enough for "2."


def _code(text: str) -> etree._Element:
    pre = etree.Element("pre")
    code = etree.SubElement(pre, "code")
    code.text = text
    return pre


def _lines(pre) -> list[str]:
    return "".join(pre.itertext()).split("\n")


def test_code_shrinks_a_little_before_it_wraps():
    line = "x" * 60
    pre = _code(line)
    pp.wrap_code(pre, 324.0, 10.5)
    assert "font-size" in pre.get("style") and pre.get("data-ppw-code") != "wrapped"
    assert _lines(pre) == [line]


def test_code_wraps_at_spaces_with_a_mark_and_a_hanging_indent():
    src = ("def f(alpha, beta):\n"
           "    result = compute_something(alpha_value, beta_value, gamma_value, delta_value, eps)\n"
           "    token = 'https://example.com/" + "a" * 90 + "'\n")
    pre = _code(src)
    pp.wrap_code(pre, 324.0, 10.5)
    assert pre.get("data-ppw-code") == "wrapped"
    cap = pp.code_capacity(324.0, 10.5, pp.CODE_SIZES[-1])
    lines = _lines(pre)
    assert all(len(ln) <= cap for ln in lines), [(len(ln), ln) for ln in lines]
    marks = [ln for ln in lines if pp.CONTINUATION in ln]
    assert marks and all(ln.startswith("    " + pp.CONTINUATION + " ") for ln in marks)
    # no word of the second line is cut: it had spaces to break at
    words = set(src.split("\n")[1].split())
    got = " ".join(ln.replace(pp.CONTINUATION, " ") for ln in lines[1:4]).split()
    assert words <= set(got), words - set(got)
    # the URL has no space: it is broken inside, and the mark says so
    assert "".join(ln.replace(pp.CONTINUATION, "").strip() for ln in lines[-4:]).count("a") >= 90
    # nothing lost, nothing added but the marks and indents
    assert re.sub(r"\s+", "", "".join(lines).replace(pp.CONTINUATION, "")) == re.sub(r"\s+", "", src)


def test_code_wrap_crosses_inline_markup():
    pre = lxml_html.fromstring('<pre><code><span>value = </span><b>'
                               + "word " * 30 + "</b>end</code></pre>")
    pp.wrap_code(pre, 324.0, 10.5)
    text = "".join(pre.itertext())
    assert pp.CONTINUATION in text and "word word" in text
    assert text.replace(pp.CONTINUATION, "").split() == ("value = " + "word " * 30 + "end").split()


def test_lead_in_marked_before_figure_code_quote_not_before_text():
    body = lxml_html.fromstring(
        "<div><p>She put it well:</p><figure><img src='a.png'></figure>"
        "<p>Here is the code:</p><pre>x</pre><p>As follows:</p><blockquote><p>q</p></blockquote>"
        "<p>A list:</p><ol><li>a</li></ol><p>Not a lead-in:</p><p>text</p>"
        "<p>No colon</p><figure></figure></div>")
    pp.mark_lead_ins(body)
    marked = [p.text for p in body.iter("p") if p.get("data-ppw-lead") is not None]
    assert marked == ["She put it well:", "Here is the code:", "As follows:", "A list:"]


def test_author_width_is_a_share_of_the_measure_capped_at_300_ppi():
    assert pp.print_width((300, "px"), 3000, 324.0) == pytest.approx(324.0 * 300 / 700, abs=0.01)
    assert pp.print_width((500, "px"), 600, 324.0) == pytest.approx(144.0)  # 2 in at 300 ppi
    assert pp.print_width((50, "%"), 5000, 324.0) == pytest.approx(162.0)
    assert pp.print_width((2000, "px"), 9000, 324.0) == pytest.approx(324.0)


def _sanitized(md_html: str) -> etree._Element:
    ch = Chapter(source=Path("x.md"), body=lxml_html.fragment_fromstring(md_html, create_parent="div"))
    sanitize.sanitize_chapter(ch)
    return ch.body


def test_sanitizer_keeps_the_authors_image_width():
    body = _sanitized('<p><img src="a.png" width="300"></p><p width="100"><img src="b.png"></p>'
                      '<p><img src="c.png" style="width: 40%"></p><p><img src="d.png" width="x"></p>')
    widths = [img.get("data-pp-width") for img in body.iter("img")]
    assert widths == ["300", "100", "40%", None]
    assert all(img.get("width") is None for img in body.iter("img"))


def _chapter(authors, byline="By Riley Ambrose"):
    body = lxml_html.fragment_fromstring(
        f'<header class="chapter-opening"><h1>T</h1><p class="byline">{byline}</p></header>'
        "<p>text</p>", create_parent="div")
    return Chapter(source=Path("c.md"), body=body, title="T", authors=authors)


def test_byline_only_where_the_chapter_author_is_not_the_books():
    book = Book(meta=BookMeta(title="B", authors=["Riley Ambrose"]), chapters=[], root=Path("."))
    one = prepare.prepare_body(_chapter(["Riley Ambrose"]), book, profile="epub",
                              asset_src=lambda a, v: "")
    assert not [p for p in one.iter("p") if p.get("class") == "byline"]
    anthology = Book(meta=BookMeta(title="B", authors=["Riley Ambrose", "Sam Lee"]), chapters=[], root=Path("."))
    two = prepare.prepare_body(_chapter(["Sam Lee"], "By Sam Lee"), anthology, profile="print",
                              asset_src=lambda a, v: "")
    assert [p.text for p in two.iter("p") if p.get("class") == "byline"] == ["By Sam Lee"]


# ------------------------------------------------------------------------------ a whole book

WORDS = ("the of and a to in is was that for on with as by at from this be or an are which not "
         "river stone garden letter window harbour lantern evening market journey weather "
         "morning silence station").split()


def _sentence(rng, n):
    s = " ".join(rng.choice(WORDS) for _ in range(n))
    return s[0].upper() + s[1:] + "."


def _para(rng, k=5):
    return " ".join(_sentence(rng, rng.randint(12, 24)) for _ in range(k))


def make_polish_book(root: Path, pdf_toml: str = "") -> Path:
    """A book with notes called near page feet, a 14-item list, long code lines, lead-ins before
    a figure, a quote and code, and small images the author sized."""
    rng = random.Random(7)
    root.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (600, 400), (40, 90, 160)).save(root / "chart.png")
    Image.new("RGB", (200, 200), (200, 120, 30)).save(root / "badge.png")
    one = ["# The Harbour Notes", "", "**By Riley Ambrose**", ""]
    for i in range(6):
        one += [_para(rng) + (f" A remark worth a note.[^n{i}]" if i % 2 == 0 else ""), ""]
    one += ["Someone summed it up nicely:", "", '<img src="chart.png" width="300" alt="A chart">',
            "", _para(rng), "", "The steps, in order:", ""]
    one += [f"{i}. Step number {i}: " + _sentence(rng, rng.randint(6, 20)) for i in range(1, 15)]
    one += ["", "Here is the code that does it:", "", "```python",
            "def harbour_report(ships, weather, *, include_departed=False, timezone='Europe/Lisbon'):",
            "    for ship in ships:",
            "        if ship.arrived and (include_departed or not ship.departed) and weather.visibility_km > 2:",
            "            url = 'https://example.com/harbour/api/v2/ships/' + ship.identifier + '/manifest?format=json'",
            "```", "", "A small badge, at a hundred pixels:", "", "![Badge](badge.png)",
            '{: width="100" }', "", "And a quote from the keeper:", "", "> " + _para(rng, 3), ""]
    for i in range(6):
        one += [_para(rng) + (f" Another note here.[^m{i}]" if i % 2 else ""), ""]
    for i in range(0, 6, 2):
        one.append(f"[^n{i}]: The note numbered {i}, " + _sentence(rng, rng.randint(10, 40)))
    for i in range(1, 6, 2):
        one.append(f"[^m{i}]: A second kind of note {i}, " + _sentence(rng, rng.randint(10, 50)))
    two = ["# Second Letters", "", "**By Riley Ambrose**", ""]
    for i in range(14):
        two += [_para(rng, rng.randint(3, 7)) + (f" The call.[^c{i}]" if i % 3 == 0 else ""), ""]
    two += [f"[^c{i}]: Note {i} of the second chapter, " + _sentence(rng, rng.randint(15, 60))
            for i in range(0, 14, 3)]
    (root / "one.md").write_text("\n".join(one) + "\n", encoding="utf-8")
    (root / "two.md").write_text("\n".join(two) + "\n", encoding="utf-8")
    (root / "book.toml").write_text(
        '[book]\ntitle = "Harbour Notes"\nauthors = ["Riley Ambrose"]\nlanguage = "en"\n'
        'description = "Letters from a harbour town."\nchapters = ["one.md", "two.md"]\n'
        f'\n[pdf]\npage-size = "6in 9in"\n{pdf_toml}\n', encoding="utf-8")
    return root


def build_pdf(src: Path, formats=("pdf",), strict=False):
    cfg = config.load(src)
    opts = pipeline.BuildOptions(formats=formats, out_dir=src / "build", offline=True,
                                 cache_dir=src / ".cache", strict=strict)
    return pipeline.build(cfg, opts)


def pages_text(pdf: Path) -> list[str]:
    out = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                         text=True, check=True).stdout
    return out.split("\f")[:-1] if out.endswith("\f") else out.split("\f")


_CALL = re.compile(r"(?:note|here|call)\.(\d+)")
_NOTE = re.compile(r"(?m)^\s*(\d+)\.\s+(?:The note|A second|Note \d)")


def note_problems(pages: list[str]) -> list[str]:
    problems = []
    for i, text in enumerate(pages, 1):
        calls = sorted(_CALL.findall(text))
        notes = sorted(_NOTE.findall(text))
        if calls != notes:
            problems.append(f"page {i}: calls {calls}, notes {notes}")
    return problems


@pytest.fixture(scope="module")
def polish_book(tmp_path_factory):
    src = make_polish_book(tmp_path_factory.mktemp("polish"))
    result = build_pdf(src, strict=True)  # --strict: no warning at all
    return src, result, result.outputs["pdf"]


@pytest.mark.slow
@needs_poppler
def test_every_note_on_its_calls_page(polish_book):
    _, result, pdf = polish_book
    pages = pages_text(pdf)
    assert sum(len(_CALL.findall(t)) for t in pages) == 11
    assert note_problems(pages) == []


@pytest.mark.slow
@needs_poppler
def test_without_the_second_layout_a_note_leaves_its_call(polish_book, monkeypatch, tmp_path):
    """The book really has a note WeasyPrint alone puts on the wrong page (so the test above
    can fail)."""
    from pubpipe.layout import stage

    monkeypatch.setattr(stage, "NOTE_PASSES", 0)
    src = make_polish_book(tmp_path / "again")
    pdf = build_pdf(src).outputs["pdf"]
    assert note_problems(pages_text(pdf))


@pytest.mark.slow
@needs_poppler
def test_list_code_lead_ins_and_images_in_print(polish_book):
    _, result, pdf = polish_book
    codes = {d.code for d in result.diagnostics}
    assert "pdf-overflow" not in codes and "pdf-image-resolution" not in codes
    pages = pages_text(pdf)
    lead = next(i for i, t in enumerate(pages) if "summed it up nicely" in t)
    code_lead = next(i for i, t in enumerate(pages) if "code that does it" in t)
    assert "def harbour_report" in pages[code_lead]
    # the lead-in is not the page's last line: its image follows it on the page
    after = pages[lead].split("summed it up nicely:", 1)[1]
    assert len([ln for ln in after.splitlines() if ln.strip()]) > 2
    text = "\n".join(pages)
    assert pp.CONTINUATION in text
    for line in text.splitlines():  # every wrapped code line ends at a space or is marked
        if "harbour/api" in line:
            assert "ships/' +" in line or pp.CONTINUATION in line
    # no byline under the chapter titles of a single-author book
    assert "By Riley Ambrose" not in text


# ------------------------------------------------------------------------------ the cover

@pytest.mark.slow
@pytest.mark.parametrize("preset", ["kdp", "lulu"])
def test_cover_wrap_size_from_page_count_and_paper(preset, tmp_path):
    from pypdf import PdfReader

    from pubpipe.write.pdf.cover import wrap_for

    src = make_polish_book(tmp_path / preset, f'preset = "{preset}"\npaper = "cream"')
    result = build_pdf(src, formats=("pdf", "cover"))
    cover = result.outputs["cover"]
    assert cover.name == "harbour-notes-cover.pdf"
    pages = len(PdfReader(result.outputs["pdf"]).pages)
    even = pages + pages % 2
    spine_in = even / 444 + 0.06 if preset == "lulu" else even * 0.0025
    page = PdfReader(cover).pages[0]
    assert float(page.mediabox.width) == pytest.approx((2 * 6 + spine_in + 2 * 0.125) * 72, abs=0.05)
    assert float(page.mediabox.height) == pytest.approx((9 + 2 * 0.125) * 72, abs=0.05)
    assert float(page.trimbox.width) == pytest.approx((2 * 6 + spine_in) * 72, abs=0.05)
    spine = [d.message for d in result.diagnostics if d.code == "pdf-spine"]
    assert spine and f"{spine_in:.3f} in" in spine[0] and str(even) in spine[0]
    assert not [d for d in result.diagnostics if d.code == "pdf-cover-size"]
    # too few pages for spine text: none printed; the description is on the back
    text = subprocess.run(["pdftotext", str(cover), "-"], capture_output=True, text=True).stdout
    assert "Letters from a harbour town." in text
    assert text.count("Harbour Notes") == 2  # back and front, not the spine
    assert not wrap_for(result.book and __import__("pubpipe.layout.settings", fromlist=["x"])
                        .resolve_settings(config.load(src).pdf), pages).spine_text


def test_spine_text_only_from_the_services_page_count():
    from pubpipe.config import PdfSection
    from pubpipe.layout.settings import resolve_settings
    from pubpipe.write.pdf.cover import wrap_for

    kdp = resolve_settings(PdfSection(preset="kdp"))
    assert not wrap_for(kdp, 78).spine_text and wrap_for(kdp, 100).spine_text
    # KDP allows spine text from 80 pages, but at 80 white pages the spine (0.18 in) leaves
    # under 5 pt between the 1/16 in margins: text waits until it can be legible
    assert not wrap_for(kdp, 80).spine_text
    assert wrap_for(kdp, 79).pages == 80  # the blank page the printer adds counts
    assert not wrap_for(resolve_settings(PdfSection(preset="kdp", paper="cream")), 78).spine_text
    lulu = wrap_for(resolve_settings(PdfSection(preset="lulu")), 100)
    assert lulu.spine == pytest.approx((100 / 444 + 0.06) * 72)
    assert lulu.width == pytest.approx(2 * 432 + lulu.spine + 18)


def test_preflight_warns_when_the_cover_does_not_match_the_interior():
    from pubpipe.config import PdfSection
    from pubpipe.document import Diagnostics
    from pubpipe.layout.settings import resolve_settings
    from pubpipe.write.pdf import preflight
    from pubpipe.write.pdf.cover import render_cover

    s = resolve_settings(PdfSection(preset="kdp"))
    book = Book(meta=BookMeta(title="T", authors=["A"], description="D"), chapters=[],
                root=Path("."))
    made = render_cover(book, s, 120)
    diags = Diagnostics()
    preflight.check_cover(made.pdf, s, 120, diags, None)
    assert not [d for d in diags if d.code == "pdf-cover-size"]
    preflight.check_cover(made.pdf, s, 300, diags, None)
    bad = [d.message for d in diags if d.code == "pdf-cover-size"]
    assert bad and "300 pages" in bad[0] and "build the cover again" in bad[0]


def test_epub_css_hyphenates_running_text_only_in_supported_languages():
    from pubpipe import resources

    css = resources.stylesheet("epub.css")
    assert not re.search(r"(^|\n)\s*html\s*\{[^}]*hyphens:\s*auto", css)
    auto = re.search(r"((?:body:lang\([a-z]+\),?\s*)+)\{[^}]*\bhyphens:\s*auto", css)
    assert auto and "body:lang(en)" in auto[1] and "body:lang(de)" in auto[1]
    assert "lang(ja)" not in auto[1] and "lang(zh)" not in auto[1] and "lang(ar)" not in auto[1]
    rules = re.findall(r"(?:^|\n)([^{}@]+)\{([^}]*)\}", css)
    for selector in ("pre", "code", 'a[href^="http"]'):
        assert any(selector in [x.strip() for x in sel.split(",")] and "hyphens: none" in body
                   for sel, body in rules), selector
    heads = re.search(r"h1, h2, h3, h4, h5, h6 \{([^}]*)\}", css)
    assert heads and "hyphens: none" in heads[1]


def test_epub_image_keeps_the_authors_width():
    from pubpipe.document import Asset, Variant

    body = lxml_html.fragment_fromstring(
        '<p><img data-pp-asset="a" data-pp-width="300"><img data-pp-asset="a" '
        'data-pp-width="50%"></p>', create_parent="div")
    book = Book(meta=BookMeta(title="B"), chapters=[], root=Path("."))
    asset = Asset(id="a", ref="x.png")
    asset.variants["epub"] = Variant(path=Path("x.png"), media_type="image/png", width=600,
                                     height=400)
    book.assets["a"] = asset
    ch = Chapter(source=Path("c.md"), body=body)
    out = prepare.prepare_body(ch, book, profile="epub", asset_src=lambda a, v: "x.png")
    one, two = out.iter("img")
    assert (one.get("width"), one.get("height")) == ("300", "200")
    assert two.get("width") is None and "pp-w50" in two.get("class")
    assert one.get("data-pp-width") is None and two.get("data-pp-width") is None


def test_notes_apart_listed_for_preflight():
    from pubpipe.layout.stage import note_breaks, notes_apart

    pos = {"c1--fn1--call": (3, 500.0), "c1--fn1": (4, 700.0), "c1--fn1--w0": (3, 480.0),
           "c1--fn1--w1": (3, 500.0), "c1--fn2--call": (5, 100.0), "c1--fn2": (5, 600.0)}
    assert notes_apart(pos) == [(3, 4)]
    # the break goes after the last word above the call's line
    assert note_breaks(pos) == {"c1--fn1--w0"}


def test_cover_front_from_the_authors_image(tmp_path):
    from pypdf import PdfReader

    from pubpipe.config import PdfSection
    from pubpipe.layout.settings import resolve_settings
    from pubpipe.write.pdf.cover import render_cover

    s = resolve_settings(PdfSection(preset="lulu"))
    book = Book(meta=BookMeta(title="T", authors=["A"], description="D"), chapters=[],
                root=tmp_path)
    portrait = tmp_path / "front.jpg"
    Image.new("RGB", (1200, 1800), (150, 40, 60)).save(portrait)
    made = render_cover(book, s, 100, portrait, "front.jpg")
    assert any("front.jpg prints at 195 ppi" in n and "1838x2775 px" in n for n in made.notes)
    images = PdfReader(io.BytesIO(made.pdf)).pages[0].images
    assert len(images) == 1
    wide = tmp_path / "wide.png"
    Image.new("RGB", (1600, 900), (40, 90, 160)).save(wide)
    made = render_cover(book, s, 100, wide, "wide.png")
    assert any("not the front's shape" in n for n in made.notes)


def test_a_note_too_long_for_a_page_foot_prints_after_its_paragraph():
    body = lxml_html.fromstring(
        '<div><p>One<span data-ppw="footnote" id="a">short</span> two'
        '<span data-ppw="footnote" id="b">' + "word " * 600 + '</span> three.</p><p>next</p></div>')
    from pubpipe.layout import notes

    assert notes.long_notes_in_text(body, 324.0, 531.0, 10.5) == 1
    p, moved, nxt = list(body)
    assert moved.get("data-ppw") == "longnote" and moved.get("data-ppw-n") == "2"
    assert p.find('.//span[@data-ppw="longcall"]') is not None
    assert [s.get("id") for s in p.iter("span") if s.get("data-ppw") == "footnote"] == ["a"]
    assert "".join(p.itertext()).endswith("two three.") and nxt.text == "next"


def test_sized_image_in_a_line_of_text_stays_inline():
    body = lxml_html.fromstring('<div><p>An icon <img data-pp-width="40" width="150"> inline.</p>'
                                '<p><img data-pp-width="250" width="500"></p></div>')
    pp.size_images(body, 324.0)
    inline, block = body.iter("img")
    assert inline.get("data-ppw-sized") == "inline" and block.get("data-ppw-sized") == "block"
    assert "width: 18.51pt" in inline.get("style") and "width: 115.71pt" in block.get("style")


def test_right_to_left_cover_has_its_front_on_the_left():
    from pubpipe.config import PdfSection
    from pubpipe.layout.settings import resolve_settings
    from pubpipe.write.pdf.cover import cover_html, wrap_for

    book = Book(meta=BookMeta(title="ملاحظات", authors=["رايلي"], language="ar"), chapters=[],
                root=Path("."))
    ar = wrap_for(resolve_settings(PdfSection(preset="kdp"), language="ar"), 200)
    html = cover_html(book, ar, None, False)
    assert ar.rtl and "#front { left: 0.000pt;" in html and 'dir="rtl"' in html
    en = wrap_for(resolve_settings(PdfSection(preset="kdp"), language="en"), 200)
    assert "#back { left: 0.0pt;" in cover_html(book, en, None, False)


@needs_poppler
def test_the_line_before_a_note_break_stays_justified(tmp_path):
    # the chapter rule `text-align: justify` is a shorthand that resets text-align-last: the
    # split block's rule must win over it, or the page ends on a ragged line mid-paragraph
    from weasyprint import CSS, HTML

    from pubpipe import resources
    from pubpipe.layout import notes

    words = ("kiln clay glaze ash porcelain stoneware slip wheel trimming bisque firing cone "
             "reduction oxidation feldspar silica kaolin grog").split()
    text = " ".join(words[(i * 7) % len(words)] for i in range(90))
    markup = ('<body><section data-ppw="chapter"><p>' + text + ' call<span data-ppw="footnote" '
              'id="fn1">The note.</span> and the rest of the paragraph.</p></section></body>')
    body = lxml_html.fromstring(markup)
    notes.anchor_note_calls(body, frozenset({"fn1--w60"}))  # a word mid-paragraph
    assert body.find('.//p[@data-ppw-split]') is not None
    html = '<html lang="en"><head></head>' + etree.tostring(body, encoding="unicode") + "</html>"
    pdf = tmp_path / "split.pdf"
    HTML(string=html).write_pdf(pdf, stylesheets=[
        CSS(string=resources.stylesheet("print.css")), CSS(string="@page { size: 6in 9in; margin: 1in }")])
    bbox = subprocess.run(["pdftotext", "-f", "1", "-l", "1", "-bbox", str(pdf), "-"],
                          capture_output=True, text=True, check=True).stdout
    boxes = [(float(y), float(x)) for x, y, word in re.findall(
        r'<word xMin="[\d.]+" yMin="[\d.]+" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)<', bbox)
        if not word.isdigit()]  # not the folio
    right = max(x for _, x in boxes)
    last_y = max(y for y, _ in boxes)
    assert len({round(y) for y, _ in boxes}) > 3
    assert max(x for y, x in boxes if y == last_y) == pytest.approx(right, abs=1.0)


def test_description_paragraphs_reach_the_back_cover(tmp_path):
    from pubpipe.config import PdfSection
    from pubpipe.layout.settings import resolve_settings
    from pubpipe.readers import read_book
    from pubpipe.write.pdf.cover import cover_html, wrap_for

    (tmp_path / "one.md").write_text("# One\n\nText.\n", encoding="utf-8")
    (tmp_path / "book.toml").write_text(
        '[book]\ntitle = "T"\nauthors = ["A"]\n'
        'description = """A year of firings,\n  glazes and failures.\n\nEvery chapter began as a post."""\n',
        encoding="utf-8")
    book = read_book(config.load(tmp_path))
    assert book.meta.description == ("A year of firings, glazes and failures.\n\n"
                                     "Every chapter began as a post.")
    wrap = wrap_for(resolve_settings(PdfSection(preset="kdp")), 100)
    html = cover_html(book, wrap, None, False)
    assert "<p>A year of firings, glazes and failures.</p><p>Every chapter began as a post.</p>" in html


def test_padding_to_the_services_minimum_is_said_and_kdps_blank_page_limit_warned():
    from pubpipe.config import PdfSection
    from pubpipe.document import Diagnostics
    from pubpipe.layout.settings import resolve_settings
    from pubpipe.write.pdf import preflight

    def run(preset, laid):
        diags = Diagnostics()
        s = resolve_settings(PdfSection(preset=preset))
        n = preflight.padded_page_count(preset, laid)
        preflight._check_page_count(s, laid, n, diags, None)
        return n, [(d.severity, d.code, d.message) for d in diags]

    n, got = run("kdp", 16)  # 8 blank pages: within KDP's 10
    assert n == 24 and [c for _, c, _ in got] == ["pdf-pages"]
    assert "24 pages (16 laid out + 8 blank at the end: kdp prints paperbacks of at least 24" in got[0][2]
    n, got = run("kdp", 5)  # 19 blank pages: more than KDP accepts at the end
    warned = [m for sev, c, m in got if c == "pdf-page-count" and sev.name == "WARNING"]
    assert n == 24 and len(warned) == 1
    assert "19 blank pages" in warned[0] and "at most 10" in warned[0] and "add at least 9 pages" in warned[0]
    n, got = run("lulu", 5)  # Lulu states no such limit: padded, said, not warned
    assert n == 32 and [c for _, c, _ in got] == ["pdf-pages"] and "27 blank" in got[0][2]
    n, got = run("", 5)
    assert n == 5 and "blank" not in got[0][2]


def test_a_low_resolution_warning_names_the_use_in_the_chapter_of_its_page(tmp_path):
    # one image (one asset) used in two posts: the warning for page 9 names the second post
    from types import SimpleNamespace

    from pubpipe.layout import markup
    from pubpipe.layout.edition import ImageFacts
    from pubpipe.write.pdf import preflight

    one, two = tmp_path / "01-one.md", tmp_path / "02-two.md"
    chapters = [Chapter(source=one, body=etree.Element("div"), title="One", slug="one"),
                Chapter(source=two, body=etree.Element("div"), title="Two", slug="two")]
    book = Book(meta=BookMeta(title="T"), chapters=chapters, root=tmp_path)
    ids = [markup.chapter_id(i, ch) for i, ch in enumerate(chapters, 1)]
    assert [markup.chapter_index(c) for c in ids] == [0, 1]
    edition = SimpleNamespace(chapter_pages={ids[0]: 4, ids[1]: 8})
    facts = ImageFacts("a", "images/x.png", 300, 200, "image/png", 0, str(one), 10,
                       ((str(one), 10), (str(two), 7)))
    assert preflight._use_on_page(book, edition, facts, 5) == (one, 10)
    assert preflight._use_on_page(book, edition, facts, 9) == (two, 7)
    assert preflight._use_on_page(book, edition, facts, 1) == (one, 10)  # front matter: first use


def test_hyphenation_leaves_two_letters_and_carries_three():
    """Body text breaks words by Chicago's rule (at least 2 letters before the hyphen, 3 carried
    over: no "oth-er", "hap-pi-ly" ends as "hap-pily") with print.css as the book uses it."""
    import weasyprint

    from pubpipe.layout.settings import resolve_settings
    from pubpipe.layout.styles import stylesheets

    settings = resolve_settings(None)
    words = ("other happily extended another together rather whether mother further either "
             "neither hyphenated languages understanding ").split()
    rng = random.Random(7)
    text = " ".join(rng.choice(words) for _ in range(900))
    html = ('<html lang="en"><body><section data-ppw="chapter">'
            f'<p style="width: 11em">{text}</p></section></body></html>')
    sheets = [weasyprint.CSS(string=c) for c in stylesheets(settings) if c]
    pdf = weasyprint.HTML(string=html).write_pdf(stylesheets=sheets)
    out = subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True,
                         check=True).stdout.decode()
    lines = [ln for ln in (ln.strip("\f ") for ln in out.splitlines())
             if ln and not ln.isdigit()]  # folios left out
    broken = [(a, b) for a, b in zip(lines, lines[1:]) if a.endswith(("\u2010", "-"))]
    assert len(broken) > 20  # the column is narrow: many words are hyphenated
    for a, b in broken:
        before = re.findall(r"\w+", a)[-1]
        after = re.findall(r"\w+", b)[0]
        assert len(before) >= 2 and len(after) >= 3, (a, b)


@needs_poppler
def test_only_blocks_whose_words_all_fit_skip_word_breaking(tmp_path):
    """``data-ppw-fit`` (no overflow-wrap: break-word) goes on blocks whose every run of letters
    fits the measure; a block with a longer word still breaks it inside the margins, and a
    marked block lays out exactly as it did unmarked."""
    import dataclasses

    from weasyprint import CSS, HTML

    from pubpipe.config import PdfSection
    from pubpipe.layout import settings as psettings
    from pubpipe.layout import styles
    from pubpipe.layout.measure import text_check, text_measures
    from pubpipe.layout.pdfwords import read_pages
    from pubpipe.layout.printfixes import mark_fitting_blocks

    s = psettings.resolve_settings(PdfSection())
    words = "kiln clay glaze porcelain stoneware feldspar " * 30
    long_word = "Glaze" * 12  # 60 letters: wider than the 6 x 9 in measure
    body = lxml_html.fromstring(
        f"<div><p>{words}</p><p>{words} {long_word} {words}</p>"
        f"<ul><li><p>{words}</p></li></ul><blockquote><p>{words}</p></blockquote>"
        f"<div class='x'><p>{words}</p></div><p style='font-size: 3em'>{words}</p>"
        f"<p>{words} soft\u00adhyphen</p><p>{'字' * 30}</p><figure><figcaption>A caption"
        "</figcaption></figure></div>")
    mark_fitting_blocks(body, s)
    fit = [el.get("data-ppw-fit") is not None for el in body.iter("p", "li", "figcaption")]
    # p, p (long word), li, li > p, blockquote > p, div > p, styled p, soft hyphen, CJK, caption
    assert fit == [True, False, True, True, True, False, False, False, False, True]
    assert body.find("blockquote").get("data-ppw-fit") is not None
    mark_fitting_blocks(marked := lxml_html.fromstring(f"<div><p>{words}</p></div>"),
                        dataclasses.replace(s, css="p { font-size: 40pt }"))
    assert marked.find("p").get("data-ppw-fit") is None  # author CSS may change sizes

    sheets = [CSS(string=c) for c in styles.stylesheets(s) if c]

    def lay_out(inner: str) -> bytes:
        html = (f'<html lang="en"><body><section data-ppw="chapter">{inner}</section>'
                "</body></html>")
        return HTML(string=html).render(stylesheets=sheets).write_pdf()

    long_pdf = lay_out(f"<p data-ppw-fit>{words}</p><p>{words} {long_word} {words}</p>")
    outside, past = text_measures(read_pages(long_pdf, None, text_check(s)), s)
    assert not outside and not past  # the long word is broken
    # without the attribute the long word would run past the margin
    overflowing = lay_out(f"<p data-ppw-fit>{words} {long_word}</p>")
    assert text_measures(read_pages(overflowing, None, text_check(s)), s)[1]
    # a block whose words fit prints the same either way
    plain, fitted = lay_out(f"<p>{words}</p>"), lay_out(f"<p data-ppw-fit>{words}</p>")
    for name, pdf in (("plain", plain), ("fitted", fitted)):
        (tmp_path / f"{name}.pdf").write_bytes(pdf)
        subprocess.run(["pdftoppm", "-r", "72", "-png", str(tmp_path / f"{name}.pdf"),
                        str(tmp_path / name)], check=True)
    pages = sorted(p.name for p in tmp_path.glob("plain*.png"))
    assert pages and all((tmp_path / p).read_bytes() == (tmp_path / p.replace("plain", "fitted"))
                         .read_bytes() for p in pages)


def test_wide_characters_keep_word_breaking():
    """A short block of wide characters (three-em dashes, the basmala ligature) is not taken as
    fitting by its character count: eight three-em dashes are 23 em, past an A6 line at 14pt,
    and printed past the margin once their block lost overflow-wrap: break-word."""
    from pubpipe.config import PdfSection
    from pubpipe.layout import settings as psettings
    from pubpipe.layout.printfixes import mark_fitting_blocks

    for settings in (psettings.resolve_settings(PdfSection()),
                     psettings.resolve_settings(PdfSection(page_size="A6", font_size="14pt"))):
        body = lxml_html.fromstring(
            "<div><p>\u2e3b\u2e3b\u2e3b\u2e3b\u2e3b\u2e3b\u2e3b\u2e3b</p>"
            "<p>\ufdfd\ufdfd\ufdfd\ufdfd\ufdfd</p><p>Fa\u00e7ade na\u00efve \u00e9t\u00e9</p>"
            "<p>\u2e3b Smith, <i>Another Book</i> (1999).</p></div>")
        mark_fitting_blocks(body, settings)
        fit = [el.get("data-ppw-fit") is not None for el in body.iter("p")]
        assert fit == [False, False, True, True], fit


@needs_poppler
def test_a_heading_breaks_a_word_longer_than_its_line():
    """Headings break a word longer than the line like paragraphs do: a 66-letter compound in
    an h2 and in a chapter title ran past the right margin (and the trim on a small page)."""
    from weasyprint import CSS, HTML

    from pubpipe.config import PdfSection
    from pubpipe.layout import settings as psettings
    from pubpipe.layout import styles
    from pubpipe.layout.measure import text_check, text_measures
    from pubpipe.layout.pdfwords import read_pages

    s = psettings.resolve_settings(PdfSection(page_size="4in 6in", font_size="14pt"))
    sheets = [CSS(string=c) for c in styles.stylesheets(s) if c]
    word = "Rindfleischetikettierungsüberwachungsaufgabenübertragungsgesetz"
    for inner in (f"<h1 data-ppw=chapter-title>{word}</h1><p>Text.</p>",
                  f"<p>Text.</p><h2>Heading {word}</h2><p>Text.</p>",
                  f"<p>Text.</p><h4>{word}</h4><p>Text.</p>"):
        html = (f'<html lang="de"><body><section data-ppw="chapter">{inner}</section>'
                "</body></html>")
        pdf = HTML(string=html).render(stylesheets=sheets).write_pdf()
        outside, past = text_measures(read_pages(pdf, None, text_check(s)), s)
        assert not outside and not past, (inner, outside, past)


def test_words_joined_by_no_break_spaces_are_one_run():
    """Words joined by no-break spaces (U+00A0, U+202F) cannot be broken between: taken as
    separate runs, a chain of them longer than the line was marked data-ppw-fit and printed past
    the margin and the trim."""
    from pubpipe.config import PdfSection
    from pubpipe.layout import settings as psettings
    from pubpipe.layout.printfixes import mark_fitting_blocks

    s = psettings.resolve_settings(PdfSection(page_size="A6", font_size="14pt"))
    chain = "Donau dampf schiff fahrt gesell schaft kapitän mütze knopf loch".split()
    body = lxml_html.fromstring(
        f"<div><p>{chr(0xa0).join(chain)} and more.</p>"
        f"<p>1{chr(0x202f).join(['000'] * 10)} units</p><p>{' '.join(chain)} end.</p></div>")
    mark_fitting_blocks(body, s)
    assert [el.get("data-ppw-fit") is not None for el in body.iter("p")] == [False, False, True]


def test_a_stylesheet_of_comments_only_is_no_author_css(tmp_path):
    """The print.css ``pubpipe new`` writes holds only commented-out examples: as good as no
    author CSS, so blocks are still marked data-ppw-fit (every new book lost that before); a
    stylesheet with a rule still turns the marking off."""
    from pubpipe.config import PdfSection
    from pubpipe.layout import settings as psettings
    from pubpipe.layout.printfixes import mark_fitting_blocks
    from pubpipe.resources import author_rules

    comments = tmp_path / "comments.css"
    comments.write_text("/* Your CSS.\n\n:root { --pp-text-color: #111; }\n*/\n\n  \n")
    rule = tmp_path / "rule.css"
    rule.write_text("/* big */ p { font-size: 40pt }\n")
    open_comment = tmp_path / "open.css"
    open_comment.write_text("/* never closed p { font-size: 40pt }")
    assert not author_rules("") and not author_rules(str(comments))
    assert not author_rules(str(open_comment)) and author_rules(str(rule))
    for path, marked in ((comments, True), (rule, False)):
        s = psettings.resolve_settings(PdfSection(css=str(path)))
        body = lxml_html.fromstring("<div><p>Kiln clay glaze.</p></div>")
        mark_fitting_blocks(body, s)
        assert (body.find("p").get("data-ppw-fit") is not None) is marked, path
