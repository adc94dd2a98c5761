"""Folios and running heads stamped from the stamp document (layout/stamps.py): the printed pages
are those of the overlay laid out page by page, which is still what a book gets where stamps
cannot be trusted."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from fontnames import rename
from pubpipe import config, pipeline

LOREM = ("Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor "
         "incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud "
         "exercitation ullamco laboris nisi ut aliquip ex ea commodo consequat. ")
HEBREW = ("בראשית היה הדבר והדבר היה אצל הספר, וכל אשר נכתב בו נשמר לדורות הבאים. "
          "המילים עוברות מדף לדף והקורא הולך אחריהן בשקט. ") * 3


def _book(folder: Path, chapters: list[tuple[str, int]], toml: str = "", lang: str = "en",
          title: str = "Stamped Pages", text: str = LOREM * 3, css: str = "") -> Path:
    """A book of chapters (title, paragraphs): about a page of A6 per paragraph."""
    folder.mkdir(parents=True)
    names = [f"c{k}.md" for k in range(len(chapters))]
    (folder / "book.toml").write_text(
        f'[book]\ntitle = "{title}"\nauthors = ["A. Writer"]\nlanguage = "{lang}"\n'
        f'chapters = {names!r}\n\n[pdf]\npage-size = "A6"\n'.replace("'", '"')
        + ('css = "print.css"\n' if css else "") + toml, encoding="utf-8")
    if css:
        (folder / "print.css").write_text(css, encoding="utf-8")
    for name, (head, paragraphs) in zip(names, chapters):
        (folder / name).write_text(f"# {head}\n\n" + "\n\n".join([text] * paragraphs) + "\n",
                                   encoding="utf-8")
    return folder


def _build(src: Path, tmp: Path, name: str, monkeypatch, stamped: bool = True) -> Path:
    """The book's PDF; stamped=False: with the overlay laid out page by page (the chapters come
    from the cache the first build filled)."""
    from pubpipe.layout import stamps

    with monkeypatch.context() as m:
        if not stamped:
            m.setattr(stamps, "usable", lambda *a: False)
        cfg = config.load(src)
        return pipeline.build(cfg, pipeline.BuildOptions(
            formats=("pdf",), out_dir=tmp / name, cache_dir=tmp / "cache", offline=True)
        ).outputs["pdf"]


def _is_stamped(pdf: Path) -> bool:
    """Whether the body pages draw the stamps (their fonts have names of their own)."""
    from pypdf import PdfReader

    reader = PdfReader(pdf)
    return any(str(name).startswith("/PPs") for page in reader.pages
               for name in (page["/Resources"].get("/Font") or {}))


def _same_pages(a: Path, b: Path, tmp: Path, dpi: int = 50) -> int:
    """Both PDFs rasterised: the same number of pages, every one pixel for pixel equal."""
    from PIL import Image, ImageChops

    for name, pdf in (("a", a), ("b", b)):
        subprocess.run(["pdftoppm", "-png", "-r", str(dpi), str(pdf), str(tmp / name)],
                       check=True)
    x, y = sorted(tmp.glob("a-*.png")), sorted(tmp.glob("b-*.png"))
    assert len(x) == len(y)
    for p, q in zip(x, y):
        diff = ImageChops.difference(Image.open(p).convert("RGB"), Image.open(q).convert("RGB"))
        assert diff.getbbox() is None, (p.name, diff.getbbox())
    return len(x)


def _body_text(pdf: Path) -> list[tuple[str, str]]:
    """The text of every page, with its page label (pdftotext, without bidi controls)."""
    from pypdf import PdfReader

    labels = PdfReader(pdf).page_labels
    out = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                         text=True, check=True).stdout.split("\f")
    bidi = dict.fromkeys([*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F])
    return [(lab, text.translate(bidi)) for lab, text in zip(labels, out)]


CASES = {
    # 100+ pages (three-digit folios) and chapters of odd lengths (blank versos between them)
    "long": dict(chapters=[("A Long First Chapter", 66), ("Short", 3),
                           ("The Third Chapter Has a Title Too Long for Its Running Head, "
                            "So It Is Cut", 55)]),
    # right to left: versos on the right, running heads swapped
    "rtl": dict(chapters=[("פרק ראשון", 5), ("פרק שני", 4)], lang="he", title="ספר הדפים",
                text=HEBREW),
    # bleed and crop marks: drawn on every page, the blank versos too
    "marks": dict(chapters=[("One", 5), ("Two", 3)],
                  toml='bleed = "0.125in"\ncrop-marks = true\n'),
}


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(CASES))
def test_stamped_pages_look_like_the_overlay_laid_out_page_by_page(tmp_path, monkeypatch, case):
    if not shutil.which("pdftoppm"):
        pytest.skip("poppler not installed")
    src = _book(tmp_path / "book", **CASES[case])
    stamped = _build(src, tmp_path, "stamped", monkeypatch)
    laid_out = _build(src, tmp_path, "laid-out", monkeypatch, stamped=False)
    assert _is_stamped(stamped) and not _is_stamped(laid_out)
    pages = _same_pages(stamped, laid_out, tmp_path)
    text = _body_text(stamped)
    body = [(lab, t) for lab, t in text if lab.isdigit()]
    # a blank verso between chapters draws nothing; every other body page prints its folio
    # once (text a reader extracts), and its running head unless it opens a chapter
    blanks = [lab for lab, t in body if not t.strip()]
    assert blanks, "no blank verso: the case does not test them"
    for lab, t in body:
        if lab not in blanks:
            assert t.split().count(lab) >= 1, (lab, t[-200:])
    if case == "long":
        assert pages > 100 and int(body[-1][0]) >= 105
        assert any(int(lab) >= 100 for lab, t in body if t.strip().endswith(lab)
                   or t.strip().startswith(lab))
        assert sum("Stamped Pages" in t for _, t in body) > 40  # versos' running head


@pytest.mark.slow
@pytest.mark.parametrize("css", [
    "@page :left { @bottom-left { font-style: italic; } }",  # page rules: never trusted
    "html { letter-spacing: 0.02em; }",  # folios letter-spaced: the samples say no
])
def test_stamps_not_trusted_leave_the_overlay_laid_out_page_by_page(tmp_path, monkeypatch, css):
    if not shutil.which("pdftoppm"):
        pytest.skip("poppler not installed")
    src = _book(tmp_path / "book", [("One", 3), ("Two", 2)], css=css)
    built = _build(src, tmp_path, "built", monkeypatch)
    laid_out = _build(src, tmp_path, "laid-out", monkeypatch, stamped=False)
    assert not _is_stamped(built)
    assert built.read_bytes() == laid_out.read_bytes()
    body = [(lab, t) for lab, t in _body_text(built) if lab.isdigit()]
    assert all(t.split().count(lab) >= 1 for lab, t in body if t.strip())


def test_a_folio_is_the_sample_with_its_digits_and_moved_by_its_width():
    """Composing folios from samples: the sample values come back byte for byte, and other
    values are moved as the alignment says (end: by their whole width)."""
    from pubpipe.layout import stamps

    tail = b"\nET\nQ"
    template = stamps.FolioSample(b"BT\n1 0 0 -1 ", b" 811.7 Tm\n/F 12 Tf\n", b" TJ" + tail,
                             ((19.0, 101.0), (6.0, 114.0)), -1.0)  # end: at x = 120 - width
    s = stamps.Stamper({str(d): f"<{d:04x}>0".encode() for d in range(10)},
                       {str(d): 2.0 if d != 1 else 1.0 for d in range(10)},
                       {stamps.RECTO: template, stamps.VERSO: template,
                        stamps.OPENING: template}, b"", False, [(b"V", b"R"), (b"V2", b"R2")])
    assert s.folio(stamps.RECTO, 1234567890) == \
        b"BT\n1 0 0 -1 101 811.7 Tm\n/F 12 Tf\n[" + b"".join(
            f"<{int(d):04x}>0".encode() for d in "1234567890") + b"] TJ" + tail
    assert b" 118 811.7 Tm" in s.folio(stamps.RECTO, 11)  # 1 + 1 wide
    assert b" 113 811.7 Tm" in s.folio(stamps.RECTO, 1234)
    s.folios[stamps.OPENING] = stamps.FolioSample(  # centred: at x = 60 - width / 2
        template.pre, template.mid, template.post, ((19.0, 50.5), (6.0, 57.0)), -0.5)
    assert b" 59 811.7 Tm" in s.folio(stamps.OPENING, 11)
    assert b" 56.5 811.7 Tm" in s.folio(stamps.OPENING, 1234)
    page = s.page(0, 12, opening=False)
    assert page.startswith(b"q\nV\nQ\n") and b"<0001>0<0002>0" in page  # verso: even folio
    assert s.page(0, 13, opening=False).startswith(b"q\nR\nQ\n")
    assert stamps.compose(s, [3, 2], [1, 5])[3] == b""  # the blank verso after 3 pages


def test_author_css_that_touches_pages_strings_or_counters_is_not_trusted():
    from pubpipe.layout import stamps
    from pubpipe.layout.settings import PrintSettings

    s = PrintSettings(trim_w=432.0, trim_h=648.0)
    assert stamps.usable(s, "")
    assert stamps.usable(s, "p { color: red; }")
    assert stamps.usable(s, "ol { counter-reset: item; } li { counter-increment: item; }")
    for css in ("@page { margin: 1in; }", "@PAGE :left { margin: 1in; }",
                "h1 { string-set: x content(); }", "p::after { content: string(x); }",
                "h1 { counter-reset: page 1; }", "div { counter-increment: item page; }",
                "@counter-style x { system: cyclic; }"):
        assert not stamps.usable(s, css), css


_KERNED_FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf")


@pytest.mark.slow
@pytest.mark.skipif(not _KERNED_FONT.exists() or not shutil.which("fc-list"),
                    reason="needs DejaVu Serif and fontconfig")
def test_a_font_that_kerns_digits_the_two_samples_lack_is_not_stamped(tmp_path):
    """A folio font that kerns "11", "10" and "01" (pairs neither 1234567890 nor 908 holds):
    stamped folios would lose that kerning (folio 11 set wider than the page's own layout sets
    it), so the stamp document draws every pair of digits and such a font is not trusted."""
    import os
    import sys

    from fontTools.feaLib.builder import addOpenTypeFeaturesFromString
    from fontTools.ttLib import TTFont

    from pubpipe.layout.styles import STAMP_PAIRS
    assert len({s[i:i + 2] for s in map(str, STAMP_PAIRS) for i in range(len(s) - 1)}) == 100
    fonts = tmp_path / "fonts"
    fonts.mkdir()
    font = TTFont(_KERNED_FONT)
    addOpenTypeFeaturesFromString(font, "languagesystem DFLT dflt; languagesystem latn dflt;\n"
                                  "feature kern { pos one one -300; pos one zero -120;"
                                  " pos zero one -120; } kern;\n", tables=["GPOS"])
    rename(font, "Kerned Digits Test")
    font.save(fonts / "KernedDigitsTest.ttf")
    conf = tmp_path / "fonts.conf"
    conf.write_text('<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n'
                    '<fontconfig><include ignore_missing="yes">/etc/fonts/fonts.conf</include>'
                    f'<dir>{fonts}</dir><cachedir>{tmp_path / "fc"}</cachedir></fontconfig>\n')
    src = _book(tmp_path / "book", [("One", 13), ("Two", 2)],
                toml='fonts = ["Kerned Digits Test"]\n')
    env = {**os.environ, "FONTCONFIG_FILE": str(conf),
           "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")}
    run = subprocess.run([sys.executable, "-m", "pubpipe", "build", str(src), "--format", "pdf",
                          "--out-dir", str(tmp_path / "out"), "--cache-dir",
                          str(tmp_path / "cache"), "--offline"],
                         capture_output=True, text=True, env=env, timeout=600)
    assert run.returncode == 0, run.stderr
    assert "not installed" not in run.stderr
    pdf = next((tmp_path / "out").glob("*.pdf"))
    body = [lab for lab, _ in _body_text(pdf) if lab.isdigit()]
    assert "11" in body
    assert not _is_stamped(pdf)


def test_a_running_head_that_never_prints_brings_no_font(tmp_path, monkeypatch):
    # a chapter of one page (its opening) never prints its running head: its letters (CJK here,
    # in italics, which no other text of the book is set in) must not be embedded by way of the
    # blank verso after it
    from pypdf import PdfReader

    src = _book(tmp_path / "b", [("Opening Chapter", 3), ("漢字の章", 1), ("Last", 2)])
    pdf = _build(src, tmp_path, "out", monkeypatch)
    assert _is_stamped(pdf)
    fonts = set()
    for page in PdfReader(pdf).pages:
        for font in (page["/Resources"].get("/Font") or {}).values():
            fonts.add(str(font.get_object()["/BaseFont"]))
    assert any("CJK" in f for f in fonts)  # the title, at the opening and in the contents
    assert not any("CJK" in f and ("Oblique" in f or "Italic" in f) for f in fonts), fonts
