"""What preflight and the page map read from a laid-out piece, from public data only: placed
images from WeasyPrint's page anchors, text from the written PDF (PDFium, poppler or pypdf)."""

from __future__ import annotations

import shutil

import pytest
from PIL import Image

from pubpipe.config import PdfSection
from pubpipe.layout import measure, pagemap, pdfwords, styles
from pubpipe.layout import render as prender
from pubpipe.layout import settings as psettings
from pubpipe.layout.edition import Resource

READERS = ["pdfium", "pypdf"] + (["poppler"] if shutil.which("pdftotext") else [])

OVERFLOW = ("<html><body><p style='white-space: nowrap'>" + "unbreakable " * 40 + "</p>"
            "<p style='margin-left: -60pt'>Edgeword near the trim</p><p>Fine text.</p>"
            "<p style='margin-right: -20pt; text-align: right'>Pastmargin</p>"
            "</body></html>")


def _render(html: str, s, resources=None, image_ids=None) -> prender.Rendered:
    job = prender.RenderJob(html, styles.stylesheets(s), s, resources or {}, [], {}, {},
                            image_ids=image_ids or {})
    return prender.render_here(job)


@pytest.fixture(scope="module")
def overflow_pdf():
    s = psettings.resolve_settings(PdfSection())
    return s, _render(OVERFLOW, s)


@pytest.mark.slow
@pytest.mark.parametrize("reader", READERS)
def test_every_reader_finds_text_outside_and_past(overflow_pdf, reader):
    s, rendered = overflow_pdf
    pages = pdfwords.read_pages(rendered.pdf, pagemap.text_area(s), measure.text_check(s), reader)
    outside, past = measure.text_measures(pages, s)
    assert [text for _, text in past] == ["Pastmargin"]
    assert any("Edgeword" in text for _, text in outside)
    assert any("unbreakable" in text for _, text in outside)
    assert not any("Fine" in text for _, text in past + outside)
    # the words of the text block, as printed (the nowrap line runs off the page: its first
    # words are there)
    words = pagemap.first_words(pages)[0][0]
    assert words[0] == "unbreakable" and "fine" in words and "pastmargin" in words
    # the render itself measured the same
    assert rendered.measures.past_margin == past


def _chapter(paragraphs: int, seed: int) -> str:
    import random

    rnd = random.Random(seed)
    syll = ["ka", "lo", "mi", "ter", "phan", "os", "ul", "bra", "ve", "sen", "qui", "nor"]
    paras = []
    for k in range(paragraphs):
        words = ["".join(rnd.choice(syll) for _ in range(rnd.randint(1, 4)))
                 for _ in range(rnd.randint(30, 90))]
        if k % 4 == 1:
            words[5] = f"<em>{words[5]}</em>,"
        if k % 5 == 2:
            words[9] = f"<a href='https://example.com/{words[9]}'>{words[9]}</a>"
        paras.append("<p>" + " ".join(words) + ".</p>")
        if k % 7 == 3:
            paras.append(f"<h2>Part {k}</h2>")
    return "<html lang='en'><body>" + "".join(paras) + "</body></html>"


@pytest.mark.slow
def test_readers_agree_on_first_words():
    """PDFium (in this process) and the fallbacks read the same first words on every page of a
    made-up chapter (justified, hyphenated, with italics, links and headings)."""
    s = psettings.resolve_settings(PdfSection(page_size="A5"))
    pdf = _render(_chapter(40, 7), s).pdf
    got = {r: pagemap.first_words(pdfwords.read_pages(pdf, pagemap.text_area(s),
                                                      measure.text_check(s), r))
           for r in READERS}
    assert len(got["pdfium"]) > 4
    for page in range(len(got["pdfium"])):
        first = got["pdfium"][page][0]
        assert len(first) >= 20
        for r in READERS[1:]:
            # the same words in the same order (poppler may read a justified line's wide gap
            # as a column break: compare the first five)
            assert got[r][page][0][:5] == first[:5], (r, page)
        assert got["pypdf"][page] == got["pdfium"][page], page


@pytest.mark.slow
@pytest.mark.parametrize("pdf", [PdfSection(), PdfSection(preset="kdp", bleed="0.125in"),
                                 PdfSection(preset="lulu"), PdfSection(preset="proof"),
                                 PdfSection(page_size="A6")],
                         ids=["plain", "kdp-bleed", "lulu", "proof-marks", "a6"])
def test_body_area_is_where_weasyprint_lays_text(pdf):
    """The page geometry the checks use is where the text really goes, on right and left pages
    and with every kind of bleed: flush-left lines start at the body's left edge, none ends past
    its right edge, and nothing in a plain chapter is reported."""
    s = psettings.resolve_settings(pdf)
    html = _chapter(30, 3).replace("<body>", "<body style='text-align: left; hyphens: none'>")
    rendered = _render(html, s)
    every = pdfwords.read_pages(rendered.pdf, None, lambda *box: True)
    assert len(every) >= 3
    for i, page in enumerate(every):
        bx0, by0, bx1, by1 = measure.body_area(s, i)
        body = [r for r in page.runs if by0 - 1 <= r.y0 and r.y1 <= by1 + 1]
        assert body, i
        assert abs(min(r.x0 for r in body) - bx0) < 2.0, (i, min(r.x0 for r in body), bx0)
        assert max(r.x1 for r in body) <= bx1 + 0.5
        if i:  # the first line at the top of the body (the first page's has space above)
            assert min(r.y0 for r in body) < by0 + 6, (i, min(r.y0 for r in body), by0)
    assert rendered.measures.outside_live == [] and rendered.measures.past_margin == []


@pytest.mark.slow
def test_placed_images_from_anchors(tmp_path):
    """Each image preflight knows is measured where it prints: its page and printed size from
    its anchor, its src and alt from the markup; images it does not know are left out."""
    Image.new("RGB", (600, 400), (200, 40, 40)).save(tmp_path / "a.png")
    Image.new("RGB", (90, 45), (40, 40, 200)).save(tmp_path / "b.png")
    a, b = styles.ASSET_URL + "a.png", styles.ASSET_URL + "b.png"
    res = {a: Resource(tmp_path / "a.png", "image/png"),
           b: Resource(tmp_path / "b.png", "image/png")}
    html = ("<html><body><p>First page.</p>"
            "<figure style='break-before: page'><img id='pic' src='" + a + "' alt='Red'"
            " style='width: 144pt'></figure>"
            "<p>Text <img id='icon' src='" + b + "' alt='' data-ppw-sized='inline'"
            " style='width: 36pt'> and <img id='other' src='" + b + "' style='width: 9pt'>"
            "</p></body></html>")
    for section in (PdfSection(), PdfSection(preset="kdp", bleed="0.125in")):
        s = psettings.resolve_settings(section)
        got = _render(html, s, res, {"pic": (a, "Red"), "icon": (b, "")}).measures.images
        assert [(i.page, i.src, i.alt) for i in got] == [(1, a, "Red"), (1, b, "")]
        assert got[0].width == pytest.approx(144.0, abs=0.01)
        assert got[0].height == pytest.approx(96.0, abs=0.01)
        assert got[1].width == pytest.approx(36.0, abs=0.01)
        assert got[1].height == pytest.approx(18.0, abs=0.01)


def test_parse_bbox_lines_and_words():
    text = ('<doc><page width="432" height="648"><flow><block xMin="1" yMin="2" xMax="3" yMax="4">'
            '<line xMin="45.0" yMin="54.0" xMax="120.5" yMax="68.3">'
            '<word xMin="45.0" yMin="54.0" xMax="80.0" yMax="68.3">Fish&amp;</word>'
            '<word xMin="80.5" yMin="54.0" xMax="95.0" yMax="68.3">chips</word>'
            '<word xMin="99.0" yMin="54.0" xMax="120.5" yMax="68.3">here</word></line>'
            '</block></flow></page><page width="432" height="648"></page></doc>')
    pages = pdfwords.parse_bbox(text)
    assert len(pages) == 2 and pages[1] == []
    line = pages[0][0]
    assert (line.x0, line.y1) == (45.0, 68.3)
    assert [w.text for w in line.words] == ["Fish&", "chips", "here"]
    # no gap: one word drawn in two runs; a gap: a space
    assert pdfwords.line_text(line.words) == "Fish&chips here"


def test_logical_order_of_right_to_left_lines():
    # PDFium: words in reading order, runs left to right
    assert pdfwords.logical(["b", "פרק"], visual=False) == ["פרק", "b"]
    assert pdfwords.logical(["עולם", "hello", "שלום", "יום"], visual=False) == [
        "שלום", "יום", "hello", "עולם"]
    # more left-to-right letters than right-to-left: a left-to-right line
    assert pdfwords.logical(["see", "פרק", "here"], visual=False) == ["see", "פרק", "here"]
    assert pdfwords.logical(["שלום", "יום"], visual=False) == ["שלום", "יום"]
    # poppler and pypdf: everything as drawn
    assert pdfwords.logical(["b", "קרפ"], visual=True) == ["פרק", "b"]
    assert pdfwords.logical(["םוי", "םולש"], visual=True) == ["שלום", "יום"]
    assert pdfwords.logical(["see", "קרפ", "here"], visual=True) == ["see", "פרק", "here"]
    assert pdfwords.logical(["plain", "words"], visual=True) == ["plain", "words"]


@pytest.mark.slow
def test_readers_read_right_to_left_pages_in_reading_order():
    import random

    rnd = random.Random(5)
    vocab = "שלום עולם ספר דף מילה אור מים ארץ שמים יום לילה בית דרך עיר ים הר".split()
    text = [rnd.choice(vocab) for _ in range(900)]
    paras = ["<p>" + " ".join(text[k:k + 90]) + ".</p>" for k in range(0, 900, 90)]
    html = ("<html lang='he' dir='rtl'><body><h1>פרק b</h1>" + "".join(paras) + "</body></html>")
    s = psettings.resolve_settings(PdfSection(page_size="A6"))
    pdf = _render(html, s).pdf
    source = " ".join(["פרק", "b", *text])
    for r in READERS:
        first = pagemap.first_words(pdfwords.read_pages(pdf, pagemap.text_area(s),
                                                        measure.text_check(s), r))
        assert first[0][0][:3] == ("פרק", "b", text[0]), r
        for page in first[1:]:
            assert " ".join(page[0][:6]) in source, (r, page[0][:6])


def test_pieces_streams_are_compressed_after_reading(tmp_path):
    """A piece is written uncompressed, read back, then its streams deflated at zlib's default
    level: the same pages, every content stream and font compressed, images left as they are,
    and anything not laid out as pydyf writes it returned untouched."""
    import io

    import weasyprint
    from pypdf import PdfReader

    from pubpipe.layout.deflate import deflate_streams

    photo = tmp_path / "p.jpg"
    Image.new("RGB", (40, 30), "teal").save(photo)
    html = (f"<html lang=en><body><h1>Deflate</h1><p>{'Words in a paragraph. ' * 200}</p>"
            f"<img src='{photo.as_uri()}' alt=''></body></html>")
    raw = weasyprint.HTML(string=html).render().write_pdf(uncompressed_pdf=True)
    packed = deflate_streams(raw)
    assert len(packed) < len(raw) / 2
    before, after = PdfReader(io.BytesIO(raw), strict=True), PdfReader(io.BytesIO(packed),
                                                                         strict=True)
    assert len(after.pages) == len(before.pages) > 1
    for a, b in zip(after.pages, before.pages):
        assert a["/Contents"].get_object().get("/Filter") == "/FlateDecode"
        assert a.get_contents().get_data() == b.get_contents().get_data()
        assert a.extract_text() == b.extract_text()
    filters = {}
    for n in range(1, int(after.trailer["/Size"])):
        obj = after.get_object(n)
        if hasattr(obj, "get_data"):
            filters[n] = obj.get("/Filter")
    assert "/DCTDecode" in filters.values()  # the photo as it was
    assert all(f in ("/FlateDecode", "/DCTDecode") for f in filters.values())
    # the same bytes every time, and what it cannot read left alone
    assert deflate_streams(raw) == packed
    assert deflate_streams(packed) == packed
    compressed = weasyprint.HTML(string=html).render().write_pdf()  # an xref stream
    assert deflate_streams(compressed) == compressed
    assert deflate_streams(raw[:-200]) == raw[:-200]


def test_blocks_of_a_piece_are_found_by_position_bookmarks():
    """In a piece, a block without an id is marked by a bookmark (one shared CSS rule, so sibling
    paragraphs share a computed style) rather than an id: the page map finds where each page
    begins from them as from anchors, and they never reach the outline."""
    import weasyprint

    from pubpipe.layout.pagemap import BLOCK_MARK

    s = psettings.resolve_settings(PdfSection())
    sheets = [weasyprint.CSS(string=c) for c in styles.stylesheets(s) if c]
    text = "Kiln clay glaze porcelain stoneware feldspar silica. "
    blocks = [("ppb-0-0", "p", 130), ("h", "h2", 0), ("ppb-0-2", "p", 40), ("ppb-0-3", "p", 1),
              ("ppb-0-4", "p", 50)]

    def lay_out(marked: bool):
        inner = "".join(
            f'<{tag} {"data-ppw-b" if marked and tag == "p" else "id"}='
            f'"{BLOCK_MARK if marked and tag == "p" else ""}{key}">{text * n or "Heading"}</{tag}>'
            for key, tag, n in blocks)
        html = (f'<html lang="en"><body><div data-ppw="bodymatter"><section '
                f'data-ppw="chapter" id="ch">{inner}</section></div></body></html>')
        return weasyprint.HTML(string=html).render(stylesheets=sheets)

    document, twin = lay_out(True), lay_out(False)
    assert len(document.pages) >= 5
    marks = measure.block_marks(document)
    assert [list(m) for m in marks[:2]] == [["ppb-0-0"], []]  # a split block: its first page
    assert {k for m in marks for k in m} == {"ppb-0-0", "ppb-0-2", "ppb-0-3", "ppb-0-4"}
    assert [b.label for b in measure.bookmarks(document)] == ["Heading"]  # the outline's only
    block_ids = {"ch": ("c", ())} | {key: ("c", (i,)) for i, (key, _, _) in enumerate(blocks)}
    block_seq = {key: i for i, key in enumerate(block_ids)}
    starts = measure.page_starts(document, block_ids, block_seq, marks)
    assert starts == measure.page_starts(twin, block_ids, block_seq)  # as anchors give them
    assert len(starts["c"]) == len(document.pages)
    assert {path for path, _ in starts["c"]} > {(), (0,)}
    # without the marks the blocks are not found (the test can tell)
    assert measure.page_starts(document, block_ids, block_seq) != starts


def test_a_glyph_standing_out_of_its_line_is_not_text_past_the_margin():
    """An italic f at the start of a line stands 0.14 em left of the margin (Noto Serif Italic):
    its ink, not text past the margin (it was reported as pdf-overflow); a run a whole glyph
    past the margin still is."""
    from pubpipe.config import PdfSection
    from pubpipe.layout.measure import body_area, text_check
    from pubpipe.layout.settings import resolve_settings

    s = resolve_settings(PdfSection(page_size="A6", font_size="14pt"))
    check = text_check(s)
    for index in (0, 1):
        x0, y0, x1, _ = body_area(s, index)
        assert not check(index, x0 - 1.95, y0 + 40, x1 - 10, y0 + 54)  # italic f's overhang
        assert not check(index, x0 + 10, y0 + 40, x1 + 2.0, y0 + 54)
        assert check(index, x0 - 8.0, y0 + 40, x1 - 10, y0 + 54)  # half a word past it
        assert check(index, x0 + 10, y0 + 40, x1 + 8.0, y0 + 54)
