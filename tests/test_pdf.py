"""PDF writer: page geometry per preset, book typography checks, preflight, print layout.

The slow tests build small books through the real pipeline (book.toml + Markdown) and read the
PDF back with pypdf and poppler (pdftotext -bbox), as a printer's checks would.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image
from pypdf import PdfReader

from pubpipe import config, pipeline
from pubpipe.config import PdfSection
from pubpipe.layout.edition import Resource
from pubpipe.htmlmodel import BLOCK_TAGS
from pubpipe.layout.stage import lay_out
from pubpipe.write.pdf import write_pdf
from pubpipe.layout import markup, pagemap, styles
from pubpipe.layout import render as prender
from pubpipe.layout import settings as psettings
from pubpipe.write.pdf import preflight

LOREM = ("Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor "
         "incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud "
         "exercitation ullamco laboris nisi ut aliquip ex ea commodo consequat. ")


# ------------------------------------------------------------------------------ unit


def test_page_sizes():
    assert psettings.parse_page_size("6in 9in") == (432.0, 648.0)
    assert psettings.parse_page_size("6in x 9in") == (432.0, 648.0)
    assert psettings.parse_page_size("letter") == (612.0, 792.0)
    w, h = psettings.parse_page_size("A5")
    assert round(w) == 420 and round(h) == 595
    assert psettings.parse_page_size("A4 landscape")[0] > psettings.parse_page_size("A4 landscape")[1]
    assert psettings.parse_page_size("huge") is None
    assert psettings.parse_length("0.125in") == 9.0
    assert round(psettings.parse_length("3mm"), 2) == 8.5


def test_presets_geometry():
    kdp = psettings.resolve_settings(PdfSection(bleed="0.125in", preset="kdp", crop_marks=True))
    assert (kdp.media_w, kdp.media_h) == (441.0, 666.0)
    assert not kdp.marks and not kdp.bookmarks and not kdp.links and kdp.full_fonts
    right, left = psettings.page_boxes(kdp, 0), psettings.page_boxes(kdp, 1)
    assert right["TrimBox"] == (0.0, 9.0, 432.0, 657.0)  # bleed on the outside (right) edge
    assert left["TrimBox"] == (9.0, 9.0, 441.0, 657.0)  # ...and on the left of a left page
    kdp_nobleed = psettings.resolve_settings(PdfSection(preset="kdp"))
    assert (kdp_nobleed.media_w, kdp_nobleed.media_h) == (432.0, 648.0)

    lulu = psettings.resolve_settings(PdfSection(preset="lulu"))  # bleed always
    assert (lulu.media_w, lulu.media_h) == (450.0, 666.0) and not lulu.marks

    proof = psettings.resolve_settings(PdfSection(preset="proof"))
    assert proof.marks and proof.bleed == 9.0
    boxes = psettings.page_boxes(proof, 0)
    assert boxes["BleedBox"] == (-9.0, -9.0, 441.0, 657.0)
    assert boxes["MediaBox"][0] < -9.0  # room for the marks outside the bleed

    screen = psettings.resolve_settings(PdfSection(preset="screen", bleed="0.125in"))
    assert screen.bleed_mode == "none" and screen.link_color and not screen.for_print

    ingram = psettings.resolve_settings(PdfSection(preset="ingramspark"))
    assert ingram.color == "grayscale" and ingram.variant == "pdf/x-1a"


def test_bad_values_are_diagnostics_not_exceptions():
    from pubpipe.document import Diagnostics

    d = Diagnostics()
    s = psettings.resolve_settings(PdfSection(page_size="enormous", bleed="lots", variant="pdf/z-9"), d)
    assert (s.trim_w, s.trim_h) == (432.0, 648.0) and s.bleed == 0 and s.variant == ""
    assert {x.code for x in d.warnings} == {"pdf-page-size", "pdf-bleed", "pdf-variant"}


def test_sandbox_fetcher_serves_only_assets(tmp_path):
    f = tmp_path / "a.png"
    Image.new("RGB", (4, 4)).save(f)
    url = styles.ASSET_URL + "x.png"
    fetcher = prender.SandboxFetcher({url: Resource(f, "image/png")})
    assert fetcher.fetch(url).read() == f.read_bytes()
    assert fetcher.fetch("data:text/plain,hi").read() == b"hi"
    for bad in ("file:///etc/passwd", "http://127.0.0.1:1/x.png", styles.ASSET_URL + "other.png"):
        with pytest.raises(ValueError):
            fetcher.fetch(bad)


def test_spine_thickness():
    assert preflight.spine_thickness("white")[0] == 0.002252
    assert preflight.spine_thickness("cream")[0] == 0.0025
    assert preflight.spine_thickness("0.003in")[0] == pytest.approx(0.003)
    assert preflight.spine_thickness("papyrus")[0] is None


# ------------------------------------------------------------------------------ books


def _book(tmp: Path, pdf_toml: str, chapters: int = 3, image: bool = True,
          extra: str = "") -> Path:
    tmp.mkdir(parents=True, exist_ok=True)
    if image:
        Image.new("RGB", (300, 200), (190, 60, 60)).save(tmp / "small.png")
    names = []
    for i in range(1, chapters + 1):
        paras = "\n\n".join(f"{LOREM * 3}Paragraph {j} of chapter {i}." for j in range(9))
        body = f"# Chapter {i}: on things\n\n{paras}\n\n## A section\n\n{paras}\n"
        if i == 1:
            body += (("\n\n![A small picture](small.png)\n\n" if image else "") +
                     "A claim with a note.[^a]\n\n[^a]: The note, at the foot of the page.\n\n"
                     + extra)
        (tmp / f"ch{i}.md").write_text(body, encoding="utf-8")
        names.append(f"ch{i}.md")
    (tmp / "book.toml").write_text(
        '[book]\ntitle = "A Test of Print"\nsubtitle = "Three chapters"\n'
        'authors = ["Ada Lovelace"]\nlanguage = "en"\ndate = "2024-05-01"\n'
        'publisher = "Loopback Press"\ndescription = "For the tests"\nkeywords = ["print", "test"]\n'
        f'chapters = {names!r}\n'.replace("'", '"') + f"\n[pdf]\n{pdf_toml}\n", encoding="utf-8")
    return tmp


def _build(src: Path):
    cfg = config.load(src)
    opts = pipeline.BuildOptions(formats=("pdf",), out_dir=src / "build", offline=True,
                                 cache_dir=src / ".cache")
    result = pipeline.build(cfg, opts)
    return result, result.outputs["pdf"]


def _words(pdf: Path, page: int) -> list[tuple[float, float, float, float, str]]:
    """Words of a page (1-based) with boxes in points from the top-left of the CropBox."""
    out = subprocess.run(["pdftotext", "-bbox", "-f", str(page), "-l", str(page), str(pdf), "-"],
                         capture_output=True, text=True, check=True).stdout
    return [(float(a), float(b), float(c), float(d), w) for a, b, c, d, w in re.findall(
        r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>',
        out)]


needs_poppler = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler missing")


@pytest.fixture(scope="module")
def bled_book(tmp_path_factory):
    src = _book(tmp_path_factory.mktemp("bled"), 'page-size = "6in 9in"\nbleed = "0.125in"\n'
                'crop-marks = true\n')
    return (src, *_build(src))


@pytest.mark.slow
def test_page_boxes_bleed_and_marks(bled_book):
    src, result, out = bled_book
    reader = PdfReader(out)
    for page in reader.pages:
        trim, bleed, media = page.trimbox, page.bleedbox, page.mediabox
        assert (float(trim.width), float(trim.height)) == (432.0, 648.0)
        assert [float(v) for v in bleed] == [float(trim.left) - 9, float(trim.bottom) - 9,
                                             float(trim.right) + 9, float(trim.top) + 9]
        assert media.left < bleed.left and media.bottom < bleed.bottom  # room for the marks
        assert media.right > bleed.right and media.top > bleed.top


@pytest.mark.slow
def test_metadata_outline_fonts(bled_book):
    src, result, out = bled_book
    reader = PdfReader(out)
    info = reader.metadata
    assert info.title == "A Test of Print" and info.author == "Ada Lovelace"
    assert info.subject == "For the tests" and "print" in info["/Keywords"]
    assert reader.trailer["/Root"]["/Lang"] == "en"
    titles = [o.title for o in reader.outline if not isinstance(o, list)]
    assert [t for t in titles if t.startswith("Chapter")] == [
        "Chapter 1: on things", "Chapter 2: on things", "Chapter 3: on things"]
    fonts = preflight.pdf_fonts(out.read_bytes())
    assert fonts and all(f["embedded"] for f in fonts.values())
    # chapters laid out apart embed different subsets of one font: each has a name of its own
    from pubpipe.write.pdf.objects import font_file
    from pubpipe.write.pdf.objects import fonts as font_dicts

    programs: dict[str, set[bytes]] = {}
    for font in font_dicts(reader.pages):
        program = font_file(font)
        if program is not None:
            programs.setdefault(str(font["/BaseFont"]), set()).add(program.get_data())
    assert len([n for n in programs if "Noto-Serif" in n]) > 3  # one per chapter at least
    assert all(len(found) == 1 for found in programs.values()), {
        n: len(found) for n, found in programs.items()}


@needs_poppler
@pytest.mark.slow
def test_contents_folios_running_heads_live_area(bled_book):
    src, result, out = bled_book
    reader = PdfReader(out)
    n = len(reader.pages)
    # where each chapter opens, by the outline, and the folio printed there
    opens = {o.title: reader.get_destination_page_number(o) for o in reader.outline
             if not isinstance(o, list) and o.title.startswith("Chapter")}
    contents_page = next(i for i in range(n) if "Contents" in reader.pages[i].extract_text())
    toc_text = reader.pages[contents_page].extract_text()
    for title, index in opens.items():
        assert (index + 1) % 2 == 1, f"{title} opens on page {index + 1}, a left-hand page"
        m = re.search(re.escape(title) + r"[ .\u2002]*?(\d+)\s*$", toc_text, re.M)
        assert m, toc_text
        words = _words(out, index + 1)
        # the folio of the opening page: a number alone at the foot
        off = float(reader.pages[index].trimbox.bottom) - float(reader.pages[index].mediabox.bottom)
        foot = [w for w in words if w[1] > off + 648 - 72 and w[4].isdigit()]
        assert [w[4] for w in foot] == [m[1]], (title, foot)
        assert reader.page_labels[index] == m[1]
    # running heads on the other body pages
    first = min(opens.values())
    openings = set(opens.values())
    body_pages = [i for i in range(first, n) if i not in openings and _words(out, i + 1)]
    with_head = 0
    for i in body_pages:
        off = float(reader.pages[i].trimbox.bottom) - float(reader.pages[i].mediabox.bottom)
        words = _words(out, i + 1)
        head = " ".join(w[4] for w in words if w[3] < off + 54)
        if "Chapter" in head or "Test of Print" in head:
            with_head += 1
    assert body_pages and with_head / len(body_pages) >= 0.6
    # no word outside the live area (0.25in inside the trim), on any page
    for i in range(n):
        page = reader.pages[i]
        ox = float(page.trimbox.left) - float(page.mediabox.left)
        oy = float(page.mediabox.top) - float(page.trimbox.top)
        for x0, y0, x1, y1, w in _words(out, i + 1):
            assert ox + 18 <= x0 and x1 <= ox + 432 - 18, (i + 1, w, x0, x1)
            assert oy + 18 <= y0 and y1 <= oy + 648 - 18, (i + 1, w, y0, y1)


@pytest.mark.slow
def test_preflight_warns_about_low_resolution_image(bled_book):
    src, result, out = bled_book
    warns = [d for d in result.diagnostics.warnings if d.code == "pdf-image-resolution"]
    assert len(warns) == 1
    w = warns[0]
    assert "small.png" in w.message and "ppi" in w.message and w.file and w.file.name == "ch1.md"
    infos = {d.code for d in result.diagnostics if d.severity.name == "INFO"}
    assert {"pdf-pages", "pdf-spine", "pdf-fonts"} <= infos
    assert not [d for d in result.diagnostics.warnings if d.code in (
        "pdf-live-area", "pdf-overflow", "pdf-missing-glyph", "pdf-font-embedding")]


@pytest.mark.slow
def test_kdp_and_lulu(tmp_path):
    src = _book(tmp_path / "kdp", 'bleed = "0.125in"\npreset = "kdp"\n', chapters=2,
                image=False, extra="See [the site](https://example.com/).\n")
    result, out = _build(src)
    reader = PdfReader(out)
    assert {(float(p.mediabox.width), float(p.mediabox.height)) for p in reader.pages} == {
        (441.0, 666.0)}
    assert {(float(p.trimbox.width), float(p.trimbox.height)) for p in reader.pages} == {
        (432.0, 648.0)}
    assert not reader.outline
    assert not any("/Annots" in p for p in reader.pages)
    fonts = preflight.pdf_fonts(out.read_bytes())
    assert fonts and not any(f["subset"] for f in fonts.values())
    assert all(f["embedded"] for f in fonts.values())

    src = _book(tmp_path / "lulu", 'bleed = "0.125in"\npreset = "lulu"\n', chapters=2,
                image=False)
    result, out = _build(src)
    reader = PdfReader(out)
    for p in reader.pages:
        assert (float(p.mediabox.width), float(p.mediabox.height)) == (450.0, 666.0)
        assert (float(p.trimbox.width), float(p.trimbox.height)) == (432.0, 648.0)

    # screen: no bleed even when asked, links and bookmarks kept, no resolution warnings
    src = _book(tmp_path / "screen", 'bleed = "0.125in"\npreset = "screen"\n', chapters=1,
                extra="See [the site](https://example.com/).\n")
    result, out = _build(src)
    reader = PdfReader(out)
    assert {(float(p.mediabox.width), float(p.mediabox.height)) for p in reader.pages} == {
        (432.0, 648.0)}
    assert reader.outline and any("/Annots" in p for p in reader.pages)
    assert not [d for d in result.diagnostics.warnings if d.code == "pdf-image-resolution"]


@pytest.mark.slow
def test_every_script_drawn_and_missing_glyph_reported(tmp_path):
    text = ("Greek Καλημέρα κόσμε; CJK 你好，世界 日本語のテキスト 한국어; Arabic مرحبا بالعالم; "
            "Hebrew שלום עולם; emoji 😀🎉👍; nothing draws \U0010FFFD here.\n\n")
    src = _book(tmp_path, 'page-size = "A5"\n', chapters=1, image=False, extra=text)
    result, out = _build(src)
    fonts = preflight.pdf_fonts(out.read_bytes())
    names = " ".join(fonts)
    for family in ("Noto-Serif", "CJK", "Arabic", "Hebrew", "Emoji"):
        assert family in names, names
    assert all(f["embedded"] for f in fonts.values())
    missing = [d for d in result.diagnostics.warnings if d.code == "pdf-missing-glyph"]
    # exactly the one character no installed font has, located in its chapter
    assert len(missing) == 1 and "U+10FFFD" in missing[0].message
    assert missing[0].file.name == "ch1.md" and missing[0].line
    words = out.read_bytes()
    assert b"/Outlines" in words


@pytest.mark.slow
def test_print_layout_shape(tmp_path):
    src = _book(tmp_path, 'page-size = "A6"\n', chapters=2, image=False)
    cfg = config.load(src)
    book, ctx = pipeline.prepare(cfg, pipeline.BuildOptions(formats=("pdf",), offline=True,
                                                            cache_dir=src / ".cache"))
    book.meta.title = "A Very Long Book Title That Would Never Fit in a Running Head on A6 Paper"
    layout = lay_out(book, ctx).page_map
    assert set(layout) == {ch.slug for ch in book.chapters}
    for ch in book.chapters:
        entries = layout[ch.slug]
        assert entries[0].path == ()  # the opening page begins with the chapter
        assert len(entries) > 3
        labels = [int(ps.label) for ps in entries]
        assert labels == list(range(labels[0], labels[0] + len(labels)))
        assert entries[1].words  # the first words printed on the page
        for path in [ps.path for ps in entries[1:]]:
            el = pagemap.block_at(ch.body, path)
            assert el is not None and el.tag in BLOCK_TAGS
    # laid out once: the same book again comes from the stage cache
    from unittest import mock

    with mock.patch("pubpipe.layout.stage.render", side_effect=AssertionError("laid out again")):
        edition = lay_out(book, ctx)
    write_pdf(book, ctx, edition)
    # a small trim keeps running heads (shortened) and folios inside the live area
    assert not [d for d in book.diagnostics.warnings if d.code in ("pdf-live-area",
                                                                   "pdf-overflow")]


@pytest.mark.slow
def test_ingramspark_grayscale_output_intent_no_rgb(tmp_path):
    src = _book(tmp_path / "ing", 'preset = "ingramspark"\n', chapters=1,
                extra="Colour emoji too: 😀 and [a link](https://example.com/x).\n")
    result, out = _build(src)
    data = out.read_bytes()
    report = preflight.colour_report(data)
    assert report["output_intent"]  # the ICC profile is embedded as the PDF/X output intent
    assert report["rgb_ops"] == 0 and report["rgb_images"] == 0
    assert report["alpha_states"] == 0 and report["soft_masks"] == 0
    reader = PdfReader(out)
    assert reader.metadata["/GTS_PDFXVersion"].startswith("PDF/X-1a")
    assert not [d for d in result.diagnostics.warnings if d.code in ("pdf-color",
                                                                    "pdf-transparency")]
    # the same book in RGB does have RGB operators: the check above can fail
    rgb = _book(tmp_path / "rgb", "", chapters=1, extra="Colour emoji too: 😀\n")
    _, out_rgb = _build(rgb)
    assert preflight.colour_report(out_rgb.read_bytes())["rgb_images"] > 0


@pytest.mark.slow
def test_layout_measures_catch_overflow_and_live_area():
    s = psettings.resolve_settings(PdfSection())
    html = ("<html><body><p style='white-space: nowrap'>" + "unbreakable " * 40 + "</p>"
            "<p style='margin-left: -60pt'>Edgeword near the trim</p><p>Fine text.</p>"
            "<p style='margin-right: -20pt; text-align: right'>Pastmargin</p>"
            "</body></html>")
    job = prender.RenderJob(html, styles.stylesheets(s), s, {}, [], {}, {})
    result = prender.render_here(job)
    past = result.measures.past_margin
    outside = result.measures.outside_live
    assert [text for _, text in past] == ["Pastmargin"]
    assert any("Edgeword" in text for _, text in outside)
    assert any("unbreakable" in text for _, text in outside)
    assert not any("Fine" in text for _, text in past + outside)


@needs_poppler
@pytest.mark.slow
def test_footnote_at_the_foot_of_its_page(bled_book):
    src, result, out = bled_book
    reader = PdfReader(out)
    for i in range(len(reader.pages)):
        words = _words(out, i + 1)
        texts = [w[4] for w in words]
        if "claim" in texts:
            break
    else:
        pytest.fail("the sentence with the note call is not in the PDF")
    note = [w for w in words if w[4] in ("foot", "note,")]
    call = next(w for w in words if w[4] == "claim")
    assert note, "the note is not on the page of its call"
    off = float(reader.pages[i].mediabox.top) - float(reader.pages[i].trimbox.top)
    assert all(w[1] > call[1] and w[1] > off + 648 * 0.6 for w in note)
    assert "↩" not in " ".join(texts)  # no back link on paper


def test_unknown_font_family_is_a_warning():
    from pubpipe.document import Diagnostics

    if not psettings.installed_families():
        pytest.skip("fontconfig's fc-list is not installed")
    d = Diagnostics()
    s = psettings.resolve_settings(PdfSection(fonts=["DejaVu Serif", "No Such Font Family"]), d)
    assert s.fonts == ("DejaVu Serif", "No Such Font Family")
    assert [w.message for w in d.warnings if w.code == "pdf-font"] == [
        "[pdf] fonts: 'No Such Font Family' is not an installed font family; the next one"
        " (or Noto Serif) is used"]
    assert 'html { font-family: "DejaVu Serif"' in styles.geometry_css(s)


@pytest.mark.slow
def test_author_classes_cannot_restyle_the_book(tmp_path):
    evil = ('<div class="pp-chapter pp-titlepage"><p>Inside a div.</p></div>\n\n'
            '<span class="pp-footnote">Not a footnote.</span>\n\n'
            '<h1 class="pp-chapter-title">Fake title</h1>\n\n')
    src = _book(tmp_path, 'page-size = "A5"\n', chapters=1, image=False, extra=evil)
    result, out = _build(src)
    reader = PdfReader(out)
    titles = [o.title for o in reader.outline if not isinstance(o, list)]
    assert "Fake title" not in titles
    page = next(p for p in reader.pages if "Inside a div" in p.extract_text())
    text = page.extract_text()
    assert "Not a footnote." in text and "Fake title" in text  # in place, on the same page


@pytest.mark.slow
def test_right_to_left_book(tmp_path):
    para = "هذا نص عربي طويل لاختبار اتجاه الكتابة من اليمين إلى اليسار في الكتاب المطبوع. " * 12
    for i in (1, 2):
        (tmp_path / f"c{i}.md").write_text(f"# الفصل {i}\n\n" + "\n\n".join([para] * 9) + "\n",
                                           encoding="utf-8")
    (tmp_path / "book.toml").write_text(
        '[book]\ntitle = "كتاب"\nauthors = ["مؤلف"]\nlanguage = "ar"\n\n'
        '[pdf]\nbleed = "0.125in"\npreset = "kdp"\n', encoding="utf-8")
    result, out = _build(tmp_path)
    reader = PdfReader(out)
    # page 1 of a right-to-left book is a left-hand page: its outside edge (the bleed) is left
    assert [float(v) for v in reader.pages[0].trimbox] == [9.0, 9.0, 441.0, 657.0]
    assert [float(v) for v in reader.pages[1].trimbox] == [0.0, 9.0, 432.0, 657.0]
    settings = psettings.resolve_settings(PdfSection(bleed="0.125in", preset="kdp"),
                                          language=result.book.meta.language)
    assert settings.rtl
    html = markup.build_print_html(result.book, settings).html
    assert 'dir="rtl"' in html and "المحتويات" in html  # contents in the book's language
    assert not [d for d in result.diagnostics.warnings if d.code == "pdf-missing-glyph"]
    # justified Arabic stays inside the margins (its spaces from the Arabic font: with Noto
    # Serif's, Pango set each justified line about 6pt wider than WeasyPrint measured)
    assert not [d for d in result.diagnostics.warnings if d.code == "pdf-overflow"]
    inside, outside = psettings.margins(settings)[2:]
    for page in range(1, len(reader.pages) + 1):
        box = [float(v) for v in reader.pages[page - 1].trimbox]
        left_hand = box[0] > 0  # KDP's bleed is on the outside edge
        right = box[2] - (inside if left_hand else outside)
        words = _words(out, page)
        assert not words or max(w[2] for w in words) <= right + 0.5, (page, right)


def test_known_variants_match_weasyprint():
    """layout.settings names the variants without importing WeasyPrint; they must agree."""
    from weasyprint.pdf import VARIANTS

    assert psettings.VARIANTS == set(VARIANTS)


def test_one_text_width_for_layout_and_images():
    """The asset stage sizes print images for the text block the layout sets."""
    from pubpipe.config import Config
    from pubpipe.context import BuildContext, BuildOptions

    for size in ("6in 9in", "A6", "4in 6in", "letter"):
        cfg = Config(root=Path("/book"), pdf=PdfSection(page_size=size))
        ctx = BuildContext.create(cfg, BuildOptions())
        css = styles.geometry_css(ctx.print)
        top, bottom, inside, outside = psettings.margins(ctx.print)
        assert f"margin-left: {inside}pt; margin-right: {outside}pt" in css
        assert ctx.store.print_width == pytest.approx(
            (ctx.print.trim_w - inside - outside) / 72, abs=0.001)


@needs_poppler
def test_arabic_chapter_in_a_latin_book_justified_within_the_margin(tmp_path):
    """An Arabic section (lang on the section, not the book) gets the Arabic font's spaces too,
    and a Latin element inside it the usual fonts."""
    from weasyprint import CSS, HTML

    settings = psettings.resolve_settings(PdfSection(), language="en")
    words = "كان المسافر يمشي في الصحراء الواسعة حيث الرمال الذهبية تمتد إلى الأفق البعيد".split()
    para = " ".join(words[i % len(words)] for i in range(260))
    html = (f'<html lang="en"><body><section data-ppw="chapter" lang="ar" dir="rtl"><p>x</p>'
            f'<p>{para}</p><p lang="en" dir="ltr">{"An English paragraph inside. " * 30}</p>'
            f'</section></body></html>')
    out = tmp_path / "ar.pdf"
    HTML(string=html).write_pdf(out, stylesheets=[CSS(string=c) for c in
                                                  styles.stylesheets(settings)])
    inside, outside = psettings.margins(settings)[2:]
    right = settings.trim_w - outside  # page 1 of a left-to-right book is a right-hand page
    assert max(w[2] for w in _words(out, 1)) <= right + 0.5
    fonts = subprocess.run(["pdffonts", str(out)], capture_output=True, text=True).stdout
    assert "Noto-Naskh-Arabic" in fonts and "Noto-Serif" in fonts


def test_a_font_not_installed_falls_back_to_noto_serif(tmp_path):
    """[pdf] fonts naming a family that is not installed: the text is set in Noto Serif, as the
    warning says, not in the first font of the other scripts' fallback (Noto Serif CJK)."""
    from weasyprint import CSS, HTML

    settings = psettings.resolve_settings(PdfSection(fonts=["No Such Font Family"]))
    out = tmp_path / "f.pdf"
    HTML(string='<html lang="en"><body><p>Plain English words, <i>italic</i>.</p></body></html>'
         ).write_pdf(out, stylesheets=[CSS(string=c) for c in styles.stylesheets(settings)])
    fonts = subprocess.run(["pdffonts", str(out)], capture_output=True, text=True).stdout
    assert "Noto-Serif-Italic" in fonts and "CJK" not in fonts, fonts
