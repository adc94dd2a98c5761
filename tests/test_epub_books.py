"""Whole books through the real pipeline to EPUB, checked the way issues 2 and 6 are checked.

The default book (content/) and the three-chapter print book (tests/fixtures/epub-book, which has
[pdf] settings) are built offline; every EPUB made here, plus edge-case EPUBs from hand-built
books, is validated in one EPUBCheck run.
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import time
import unicodedata
import zipfile
from pathlib import Path

import pytest
from unittest import mock
from lxml import etree
from PIL import Image

from conftest import CONTENT
from epubcheck_runner import run_epubcheck
from buildctx import epub_of

from pubpipe import config
from pubpipe.pipeline import BuildOptions, build

pytestmark = pytest.mark.slow
BOOK3 = Path(__file__).parent / "fixtures" / "epub-book"
NS = {"x": "http://www.w3.org/1999/xhtml", "epub": "http://www.idpf.org/2007/ops",
      "opf": "http://www.idpf.org/2007/opf", "dc": "http://purl.org/dc/elements/1.1/",
      "ncx": "http://www.daisy.org/z3986/2005/ncx/"}


def _build(source: Path, out: Path, cache: Path, formats=("epub",)) -> dict[str, Path]:
    cfg = config.load(source)
    result = build(cfg, BuildOptions(formats=formats, out_dir=out, cache_dir=cache,
                                     offline=True))
    return result.outputs


def _edge_case_epubs(folder: Path) -> list[Path]:
    """EPUBs of the hand-built books in test_epub.py: their odd corners must validate too."""
    import test_epub as t

    folder.mkdir(parents=True, exist_ok=True)
    books = {"simple": t._simple_book()}
    for k, (alt, cap) in enumerate([("", "A caption"), ("", None)]):
        books[f"img{k}"] = t._image_book(folder, alt, cap)
    books["safety"] = t._book(t._chapter(
        "h", "H", "<h1>H</h1><ul><li>a</li><br/><li>b</li>text<br/></ul><p>x<img"
        " src='https://e.example/t.gif' alt='t'/><a href='https://e.example/'><img src='gone.png'"
        " alt='g'/></a></p><svg viewBox='0 0 1 1'><circle r='1'/></svg>"
        "<math><mi>x</mi></math><table><tr><td>c</td></tr></table>"))
    books["rtl"] = t._book(t._chapter(
        "ar", "فصل", "<h1 id='ar-chapter'>فصل</h1><p id='page-1'>مرحبا <a href='https://example.org/a b'>"
        "رابط</a> <a href='#nowhere'>x</a> <a href='other.md'>y</a></p>"), language="ar",
        title="كتاب")
    paths = []
    for name, book in books.items():
        p = folder / f"{name}.epub"
        p.write_bytes(epub_of(book))
        paths.append(p)
    return paths


@pytest.fixture(scope="session")
def books(tmp_path_factory):
    out = tmp_path_factory.mktemp("epub-books")
    made = {"default": _build(CONTENT, out / "default", out / "cache-default")["epub"]}
    both = _build(BOOK3, out / "book3", out / "cache-a", formats=("epub", "pdf"))
    made["book3"], made["book3-pdf"] = both["epub"], both["pdf"]
    time.sleep(1.5)  # "two builds a few seconds apart", the second with a cold cache
    made["book3-again"] = _build(BOOK3, out / "book3-again", out / "cache-b")["epub"]
    # A warm rebuild must not lay the book out again: print_layout is made to fail if called.
    import pubpipe.layout.stage as layout_stage

    def no_layout(*args, **kwargs):
        raise AssertionError("print layout recomputed although nothing changed")

    with mock.patch.object(layout_stage, "render", no_layout):
        made["book3-warm"] = _build(BOOK3, out / "book3-warm", out / "cache-a")["epub"]
    edge = _edge_case_epubs(out / "edge")
    epubs = [made["default"], made["book3"], made["book3-again"], *edge]
    checks = run_epubcheck(epubs)
    return made, checks, {}, edge


def _opf(epub: Path) -> etree._Element:
    with zipfile.ZipFile(epub) as z:
        return etree.fromstring(z.read("EPUB/content.opf"))


def _docs(epub: Path) -> dict[str, etree._Element]:
    with zipfile.ZipFile(epub) as z:
        return {n: etree.fromstring(z.read(n)) for n in z.namelist() if n.endswith(".xhtml")}


def test_every_epub_passes_epubcheck(books):
    _, checks, _, _ = books
    bad = {p.name: r.report() for p, r in checks.items() if not r.clean}
    assert not bad, bad


def test_default_book(books):
    made, _, _, _ = books
    opf = _opf(made["default"])
    title = opf.xpath("//dc:title[@id='title']/text()", namespaces=NS)[0]
    assert "China as a technological dystopia" in title
    assert opf.xpath("//dc:creator/text()", namespaces=NS) == ["Yves Wienecke"]
    assert opf.xpath("//dc:language/text()", namespaces=NS) == ["en"]
    assert opf.xpath("//dc:date/text()", namespaces=NS) == ["2019-01-20"]
    with zipfile.ZipFile(made["default"]) as z:
        text = "\n".join(z.read(n).decode() for n in z.namelist() if n.endswith(".xhtml"))
    for tag in ("script", "iframe", "object", "embed"):
        assert not re.search(rf"<{tag}[\s>/]", text), tag
    assert "youtube.com/watch?v=YrpK90bHO2U" in text


def test_book3_cover_nav_landmarks_ncx(books):
    made, _, _, _ = books
    epub = made["book3"]
    opf = _opf(epub)
    cover_href = opf.xpath("//opf:item[contains(@properties, 'cover-image')]/@href",
                           namespaces=NS)[0]
    with zipfile.ZipFile(epub) as z:
        im = Image.open(io.BytesIO(z.read(f"EPUB/{cover_href}")))
        assert im.format == "JPEG" and im.height >= 2560 and im.width >= 1600
        assert im.height > im.width
        assert "EPUB/toc.ncx" in z.namelist()
        ncx = etree.fromstring(z.read("EPUB/toc.ncx"))
    first = opf.xpath("//opf:itemref/@idref", namespaces=NS)[0]
    first_href = opf.xpath(f"//opf:item[@id='{first}']/@href", namespaces=NS)[0]
    docs = _docs(epub)
    assert docs[f"EPUB/{first_href}"].xpath("//x:img[@role='doc-cover']", namespaces=NS)
    nav = docs["EPUB/nav.xhtml"]
    toc_labels = nav.xpath("//x:nav[@epub:type='toc']//x:a/text()", namespaces=NS)
    for chapter in ("The River Chapter", "The Mountain Chapter", "The Lantern Chapter"):
        assert chapter in toc_labels
    assert len(toc_labels) >= 12
    assert nav.xpath("//x:nav[@epub:type='toc']/x:ol/x:li/x:ol", namespaces=NS)  # nested
    kinds = set(nav.xpath("//x:nav[@epub:type='landmarks']//x:a/@epub:type", namespaces=NS))
    assert {"cover", "titlepage", "toc", "bodymatter", "bibliography", "endnotes"} <= kinds
    assert len(ncx.xpath("//ncx:navPoint", namespaces=NS)) >= 12
    assert ncx.xpath("//ncx:pageTarget", namespaces=NS)


def test_book3_accessibility_and_alt_text(books):
    made, _, _, _ = books
    opf = _opf(made["book3"])
    props = {m.get("property") for m in opf.xpath("//opf:meta", namespaces=NS)}
    for p in ("schema:accessMode", "schema:accessModeSufficient", "schema:accessibilityFeature",
              "schema:accessibilityHazard", "schema:accessibilitySummary"):
        assert p in props
    assert opf.xpath("//opf:meta[@property='dcterms:conformsTo']/text()", namespaces=NS) == [
        "EPUB Accessibility 1.1 - WCAG 2.2 Level AA"]
    features = opf.xpath("//opf:meta[@property='schema:accessibilityFeature']/text()",
                         namespaces=NS)
    assert {"alternativeText", "pageBreakMarkers", "pageNavigation", "tableOfContents"} <= \
        set(features)
    assert "print edition" in opf.xpath("string(//dc:source)", namespaces=NS)
    imgs = [i for d in _docs(made["book3"]).values() for i in d.iter("{%s}img" % NS["x"])]
    assert len(imgs) >= 3  # cover + two figures
    assert all((i.get("alt") or "").strip() for i in imgs)


def test_book3_reproducible(books):
    made, _, times, _ = books
    assert made["book3"].read_bytes() == made["book3-again"].read_bytes()
    assert made["book3"].read_bytes() == made["book3-warm"].read_bytes()
    # the print layout is cached: the warm build above ran with print_layout forbidden


def _words(text: str) -> list[str]:
    text = re.sub(r"[\u2010\u00ad-]\s*\n\s*", "", text)  # hyphenation at line ends
    return re.findall(r"\w+", unicodedata.normalize("NFKC", text).casefold())


def _markers_with_following_words(epub: Path) -> list[tuple[str, list[str]]]:
    out = []
    for name, doc in sorted(_docs(epub).items()):
        parts: list[tuple[str, str]] = []

        def walk(el):
            if el.get(f"{{{NS['epub']}}}type") == "pagebreak":
                parts.append(("M", el.get("aria-label")))
            if el.text:
                parts.append(("T", el.text))
            for c in el:
                if isinstance(c.tag, str):
                    walk(c)
                if c.tail:
                    parts.append(("T", c.tail))

        walk(doc.find(f"{{{NS['x']}}}body"))
        for i, (kind, value) in enumerate(parts):
            if kind == "M":
                following = " ".join(v for k, v in parts[i + 1:] if k == "T")
                out.append((value, _words(following)[:5]))
    return out


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils not installed")
def test_book3_print_page_numbers_match_the_pdf(books):
    made, _, _, _ = books
    from pypdf import PdfReader

    pdf = made["book3-pdf"]
    labels = PdfReader(pdf).page_labels
    page_text = {}
    for i, label in enumerate(labels):
        text = subprocess.run(["pdftotext", "-f", str(i + 1), "-l", str(i + 1), str(pdf), "-"],
                              capture_output=True, text=True, check=True).stdout
        page_text[label] = " ".join(_words(text))
    markers = _markers_with_following_words(made["book3"])
    assert len(markers) >= 8
    on_page = [label for label, words in markers if " ".join(words) in page_text.get(label, "")]
    assert len(on_page) / len(markers) >= 0.9, (markers, on_page)
    nav = _docs(made["book3"])["EPUB/nav.xhtml"]
    page_list = nav.xpath("//x:nav[@epub:type='page-list']//x:a/text()", namespaces=NS)
    assert sorted(page_list) == sorted(label for label, _ in markers)
    with zipfile.ZipFile(made["book3"]) as z:
        body = z.read("EPUB/text/the-river-chapter.xhtml").decode()
    assert 'role="doc-pagebreak"' in body and 'epub:type="pagebreak"' in body
