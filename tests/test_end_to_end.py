"""End to end: the default book, hostile HTML and the shared corpus, built to EPUB and PDF.

Everything is built once per session, offline (no network in tests), and all EPUBs are checked in
one EPUBCheck run.
"""

from __future__ import annotations

import re
import subprocess
import zipfile
from pathlib import Path

import pytest
from lxml import etree

from conftest import CONTENT, corpus_files, needs_shared
from epubcheck_runner import run_epubcheck
from pubpipe import config
from pubpipe.pipeline import BuildOptions, build
from textcheck import epub_text, kept_ratio, pdf_text, source_words, words

pytestmark = pytest.mark.slow
FIXTURES = Path(__file__).parent / "fixtures"
OPF_NS = {"opf": "http://www.idpf.org/2007/opf", "dc": "http://purl.org/dc/elements/1.1/"}


def _build(source: Path, out: Path, formats=("epub", "pdf")) -> dict[str, Path]:
    cfg = config.load(source)
    result = build(cfg, BuildOptions(formats=formats, out_dir=out, cache_dir=out / "cache",
                                     offline=True))
    return result.outputs


@pytest.fixture(scope="session")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("e2e")
    books = {"default": _build(CONTENT, out / "default"),
             "hostile": _build(FIXTURES / "hostile.md", out / "hostile")}
    for f in corpus_files():
        books[f.name] = _build(f, out / f.stem, formats=("epub", "pdf"))
    checks = run_epubcheck([b["epub"] for b in books.values()])
    return books, checks


def _opf(epub: Path) -> etree._Element:
    with zipfile.ZipFile(epub) as z:
        container = etree.fromstring(z.read("META-INF/container.xml"))
        path = container.xpath("//*[local-name()='rootfile']/@full-path")[0]
        return etree.fromstring(z.read(path))


def _all_xhtml(epub: Path) -> str:
    with zipfile.ZipFile(epub) as z:
        return "\n".join(z.read(n).decode() for n in z.namelist() if n.endswith(".xhtml"))


def test_default_book_epub(built):
    books, checks = built
    epub = books["default"]["epub"]
    assert checks[epub].clean, checks[epub].report()
    opf = _opf(epub)
    assert "China as a technological dystopia" in opf.xpath("//dc:title/text()", namespaces=OPF_NS)[0]
    assert opf.xpath("//dc:creator/text()", namespaces=OPF_NS) == ["Yves Wienecke"]
    assert opf.xpath("//dc:language/text()", namespaces=OPF_NS) == ["en"]
    assert opf.xpath("//dc:date/text()", namespaces=OPF_NS)[0].startswith("2019-01-20")
    xhtml = _all_xhtml(epub)
    for tag in ("<script", "<iframe", "<object", "<embed"):
        assert tag not in xhtml, tag
    assert re.search(r'href="https://(www\.)?youtube\.com/(watch\?v=|embed/)YrpK90bHO2U', xhtml)
    assert 'href="https://twitter.com/manyapan/status/1020194136710819841' in xhtml
    ratio, missing = kept_ratio(source_words(CONTENT / "blog-post-2.md"), epub_text(epub))
    assert not missing, missing


def test_default_book_pdf(built):
    from pypdf import PdfReader

    books, _ = built
    pdf = books["default"]["pdf"]
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout
    rows = fonts.splitlines()[2:]
    assert rows and all(" yes " in r[r.find(" "):] for r in rows), fonts
    for row in rows:  # emb column
        assert re.search(r"\s(yes|no)\s+(yes|no)\s+(yes|no)\s", row).group(1) == "yes", row
    reader = PdfReader(pdf)
    assert reader.outline, "no PDF outline"
    info = reader.metadata
    assert "China" in (info.title or "") and "Yves Wienecke" in (info.author or "")
    pages = [p.extract_text() or "" for p in reader.pages]
    folio = re.compile(r"^\s*([0-9]+|[ivxlc]+)\s*$", re.I)
    numbered = sum(1 for t in pages if any(folio.match(line) for line in t.splitlines()))
    assert numbered >= 0.6 * len(pages), f"{numbered}/{len(pages)} pages show their number"
    text = pdf_text(pdf)
    ratio, missing = kept_ratio(source_words(CONTENT / "blog-post-2.md"), text)
    assert ratio >= 0.99, missing
    flat = re.sub(r"\s+", "", text)
    assert "YrpK90bHO2U" in flat and "1020194136710819841" in flat


def test_hostile_html(built):
    books, checks = built
    epub, pdf = books["hostile"]["epub"], books["hostile"]["pdf"]
    assert checks[epub].clean, checks[epub].report()
    xhtml = _all_xhtml(epub)
    for bad in ("<script", "<style", "style=\"", "onerror", "onclick", "javascript:", "<font",
                "<center", "evil.example", "injected script text", "<link rel=\"stylesheet\" href=\"http"):
        assert bad not in xhtml, bad
    assert 'epub:type="noteref"' in xhtml and 'epub:type="footnote"' in xhtml
    assert "<table" in xhtml and "<code" in xhtml
    # Markdown still works after unclosed block tags: headings, emphasis, footnotes
    assert ">Heading after unclosed div</h" in xhtml and "<strong>bold</strong>" in xhtml
    assert "## " not in xhtml and "[^1]" not in xhtml
    assert re.search(r'<math xmlns="http://www.w3.org/1998/Math/MathML" display="inline"'
                     r' alttext="[^"]+"><mi>E</mi>', xhtml)
    # the footnote link reaches the footnote, not the author's element that used its id
    note = re.search(r'epub:type="noteref"[^>]*>|<a[^>]*epub:type="noteref"', xhtml)
    href = re.search(r'href="#([^"]+)"', xhtml[xhtml.rfind("<a", 0, note.end()):note.end()]).group(1)
    assert re.search(rf'<aside[^>]*id="{href}"', xhtml), href
    text = epub_text(epub)
    for phrase in ("中文字符测试", "العربية", "עברית", "Ελληνικά", "Русский", "🎉", "Centered shouting text",
                   "Overlay", "Marquee text moves", "Button label", "Cell one", "svg text kept",
                   "Noscript fallback text", "<script>alert(\"this is code, shown as text\")</script>",
                   "The first footnote text.", "Definition list entry", "Struck text", "♥", "—", "½",
                   "Textarea prefilled words", "Option alpha", "quoted words", "Final paragraph with"):
        assert phrase in text, phrase
    ratio, missing = kept_ratio(source_words(FIXTURES / "hostile.md") - words("injected script text"), text)
    assert not missing, missing
    ratio, missing = kept_ratio(source_words(FIXTURES / "hostile.md") - words("injected script text"),
                                pdf_text(pdf))
    assert ratio >= 0.99, missing


@needs_shared
@pytest.mark.parametrize("post", [f.name for f in corpus_files()] or ["none"])
def test_corpus_post(built, post):
    books, checks = built
    epub, pdf = books[post]["epub"], books[post]["pdf"]
    result = checks[epub]
    assert result.fatal == 0 and result.errors == 0, result.report()
    assert result.warnings == 0, result.report()
    xhtml = _all_xhtml(epub)
    for tag in ("<iframe", "<script", "<object", "<embed", "<audio", "<video", "<source"):
        assert tag not in xhtml, tag
    expected = source_words(Path(__file__).resolve().parents[2] / "shared" / "corpus" / post)
    ratio, missing = kept_ratio(expected, epub_text(epub))
    assert ratio >= 0.995, (ratio, sorted(missing)[:40])
    ratio, missing = kept_ratio(expected, pdf_text(pdf))
    assert ratio >= 0.99, (ratio, sorted(missing)[:40])
