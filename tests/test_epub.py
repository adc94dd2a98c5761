"""EPUB writer units: hand-built books through write_epub, read back from the zip.

Fast tests only (no EPUBCheck here; test_epub_books.py validates whole books in one JVM run).
"""

from __future__ import annotations

import copy
import io
import zipfile
from pathlib import Path

import pytest
from lxml import etree
from PIL import Image

from pubpipe.document import (EPUB_TYPE, Asset, Book, BookMeta, Chapter, Severity, Variant)
from buildctx import epub_of

from pubpipe.assets import cover as cover_mod
from pubpipe.layout.edition import PageStart
from pubpipe.write.epub import book_identifier, modified_time

NS = {"x": "http://www.w3.org/1999/xhtml", "epub": "http://www.idpf.org/2007/ops",
      "opf": "http://www.idpf.org/2007/opf", "dc": "http://purl.org/dc/elements/1.1/",
      "ncx": "http://www.daisy.org/z3986/2005/ncx/"}


def _chapter(slug: str, title: str, blocks: str, source: Path | None = None) -> Chapter:
    body = etree.fromstring(f"<div>{blocks}</div>")
    return Chapter(source=source or Path(f"/book/{slug}.md"), body=body, title=title, slug=slug)


def _book(*chapters: Chapter, **meta) -> Book:
    fields = dict(title="A Book", authors=["Ann Author", "Bob Writer"], language="en",
                  date="2020-05-01")
    fields.update(meta)
    return Book(meta=BookMeta(**fields), root=Path("/book"), chapters=list(chapters))


def _zip(data: bytes) -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO(data))


def _xml(z: zipfile.ZipFile, name: str) -> etree._Element:
    return etree.fromstring(z.read(name))


def _simple_book() -> Book:
    one = _chapter("one", "One", "<h1>One</h1><h2>First part</h2><p>Text <a href='#later'>on</a>."
                   "</p><h3>A detail</h3><p>More.</p>")
    two = _chapter("two", "Two", "<h2 id='later'>Later</h2><p>End.</p>")
    return _book(one, two)


def test_package_metadata_and_reading_order():
    data = epub_of(_simple_book())
    z = _zip(data)
    assert z.namelist()[0] == "mimetype" and z.infolist()[0].compress_type == zipfile.ZIP_STORED
    opf = _xml(z, "EPUB/content.opf")
    assert opf.xpath("//dc:title[@id='title']/text()", namespaces=NS) == ["A Book"]
    creators = opf.xpath("//dc:creator", namespaces=NS)
    assert [c.text for c in creators] == ["Ann Author", "Bob Writer"]
    assert len({c.get("id") for c in creators}) == 2  # unique ids (ebooklib's default clashes)
    assert opf.xpath("//dc:date/text()", namespaces=NS) == ["2020-05-01"]
    assert opf.xpath("//dc:language/text()", namespaces=NS) == ["en"]
    assert opf.xpath("//opf:meta[@property='dcterms:modified']/text()", namespaces=NS) == [
        "2020-05-01T00:00:00Z"]
    spine = opf.xpath("//opf:itemref/@idref", namespaces=NS)
    assert spine[:3] == ["cover", "titlepage", "nav"] and len(spine) == 5
    cover_item = opf.xpath("//opf:item[@properties='cover-image']", namespaces=NS)
    assert len(cover_item) == 1
    props = " ".join(opf.xpath("//opf:item/@properties", namespaces=NS))
    assert "remote-resources" not in props and "scripted" not in props


def test_nav_is_nested_with_landmarks_and_ncx_matches():
    z = _zip(epub_of(_simple_book()))
    nav = _xml(z, "EPUB/nav.xhtml")
    toc = nav.xpath("//x:nav[@epub:type='toc']", namespaces=NS)[0]
    labels = [a.text for a in toc.iter("{%s}a" % NS["x"])]
    assert labels == ["Cover", "A Book", "Contents", "One", "First part", "A detail", "Two",
                      "Later"]
    nested = toc.xpath(".//x:li[x:a='First part']/x:ol/x:li/x:a/text()", namespaces=NS)
    assert nested == ["A detail"]
    kinds = nav.xpath("//x:nav[@epub:type='landmarks']//x:a/@epub:type", namespaces=NS)
    assert kinds == ["cover", "titlepage", "toc", "bodymatter"]
    ncx = _xml(z, "EPUB/toc.ncx")
    ncx_labels = ncx.xpath("//ncx:navMap//ncx:text/text()", namespaces=NS)
    assert ncx_labels == ["Cover", "A Book", "Contents", "One", "First part", "A detail", "Two",
                          "Later"]
    opf = _xml(z, "EPUB/content.opf")
    uid = opf.xpath("//dc:identifier/text()", namespaces=NS)[0]
    assert ncx.xpath("//ncx:meta[@name='dtb:uid']/@content", namespaces=NS) == [uid]


def test_every_document_has_lang_and_title_and_links_cross_chapters():
    z = _zip(epub_of(_simple_book()))
    for name in z.namelist():
        if name.endswith(".xhtml"):
            doc = _xml(z, name)
            assert doc.get("lang") == "en", name
            assert doc.xpath("string(//x:title)", namespaces=NS).strip(), name
    one = _xml(z, "EPUB/text/one.xhtml")
    assert one.xpath("//x:a[.='on']/@href", namespaces=NS) == ["two.xhtml#later"]
    section = one.xpath("//x:section[@epub:type='chapter']", namespaces=NS)[0]
    assert section.get("role") == "doc-chapter"


def test_reproducible_bytes_and_identifier(monkeypatch):
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    a = epub_of(_simple_book())
    b = epub_of(_simple_book())
    assert a == b
    book = _simple_book()
    assert book_identifier(book).startswith("urn:uuid:")
    book.meta.identifier = "isbn:9780000000000"
    assert book_identifier(book) == "isbn:9780000000000"
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    assert modified_time(_simple_book()).isoformat() == "2023-11-14T22:13:20+00:00"
    c = epub_of(_simple_book())
    assert c != a
    assert b"2023-11-14T22:13:20Z" in _zip(c).read("EPUB/content.opf")
    assert {i.date_time for i in _zip(c).infolist()} == {(2023, 11, 14, 22, 13, 20)}


def test_modified_falls_back_to_newest_source(tmp_path, monkeypatch):
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    src = tmp_path / "a.md"
    src.write_text("x")
    import os

    os.utime(src, (1600000000, 1600000000))
    book = _book(_chapter("a", "A", "<p>x</p>", source=src), date="")
    assert modified_time(book).timestamp() == 1600000000


def test_writer_does_not_change_the_book():
    book = _simple_book()
    before = [etree.tostring(ch.body) for ch in book.chapters]
    epub_of(book)
    assert [etree.tostring(ch.body) for ch in book.chapters] == before


def _image_book(tmp_path: Path, alt: str, caption: str | None) -> Book:
    img = tmp_path / "v.png"
    Image.new("RGB", (40, 30), (10, 120, 200)).save(img)
    import hashlib

    sha = hashlib.sha256(img.read_bytes()).hexdigest()
    variant = Variant(img, "image/png", 40, 30, sha)
    asset = Asset(id="img-1", ref="https://www.example.org/pic.png",
                  url="https://www.example.org/pic.png", status="ok", variants={"epub": variant})
    fig = f"<figure><img data-pp-asset='img-1' alt='{alt}'/>" + (
        f"<figcaption>{caption}</figcaption>" if caption is not None else "") + "</figure>"
    ch = _chapter("pics", "Pics", f"<h1>Pics</h1>{fig}")
    book = _book(ch)
    book.assets["img-1"] = asset
    return book


@pytest.mark.parametrize("alt,caption,expected,warned", [
    ("A blue box", "Caption", "A blue box", False),
    ("", "The caption says it", "The caption says it", False),
    ("", None, "Image from example.org", True),
])
def test_alt_text_author_caption_or_host(tmp_path, alt, caption, expected, warned):
    book = _image_book(tmp_path, alt, caption)
    z = _zip(epub_of(book))
    doc = _xml(z, "EPUB/text/pics.xhtml")
    imgs = doc.xpath("//x:img", namespaces=NS)
    assert [i.get("alt") for i in imgs] == [expected]
    assert imgs[0].get("src").startswith("../images/") and imgs[0].get("src").endswith(".png")
    codes = [d.code for d in book.diagnostics if d.severity == Severity.WARNING]
    assert ("image-alt-missing" in codes) == warned
    opf = z.read("EPUB/content.opf").decode()
    assert ("alternativeText" in opf) == (not warned)
    assert ("dcterms:conformsTo" in opf) == (not warned)
    assert '<meta property="schema:accessMode">visual</meta>' in opf


def test_accessibility_metadata_for_text_only_book():
    opf = _zip(epub_of(_simple_book())).read("EPUB/content.opf").decode()
    for needle in ('schema:accessMode">textual', 'schema:accessModeSufficient">textual',
                   'schema:accessibilityFeature">structuralNavigation',
                   'schema:accessibilityFeature">tableOfContents',
                   'schema:accessibilityHazard">none', 'schema:accessibilitySummary">',
                   "EPUB Accessibility 1.1 - WCAG 2.2 Level AA"):
        assert needle in opf
    # the cover is an image, described by its alt text: a text-only book is visual too
    assert 'accessMode">visual' in opf and "alternativeText" in opf
    assert "The cover is an image with a text description. It has no other images." in opf
    assert "pageBreakMarkers" not in opf  # no [pdf] settings, no page list
    assert '<package xmlns="http://www.idpf.org/2007/opf"' in opf and ' xml:lang="en"' in opf


def test_safety_net_and_content_model_repairs():
    ch = _chapter("h", "H", "<h1>H</h1><ul><li>a</li><br/><li>b</li>text<br/></ul>"
                  "<p>x<img src='https://evil.example/t.gif' alt='tracker'/><img src='gone.png'"
                  " alt='local'/>"
                  "<a href='javascript:alert(1)'>js</a></p><script>bad()</script>"
                  "<svg viewBox='0 0 1 1'><circle r='1'/></svg>")
    book = _book(ch)
    z = _zip(epub_of(book))
    doc = _xml(z, "EPUB/text/h.xhtml")
    ul = doc.xpath("//x:ul", namespaces=NS)[0]
    assert {etree.QName(c).localname for c in ul} == {"li"}
    assert "text" in "".join(ul.itertext())
    assert not doc.xpath("//x:script|//x:img", namespaces=NS)
    assert "local" in "".join(doc.itertext())
    assert doc.xpath("//x:a[contains(., 'tracker')]/@href", namespaces=NS) == [
        "https://evil.example/t.gif"]
    assert doc.xpath("//x:a[.='js']/@href", namespaces=NS) == []
    assert doc.xpath("//svg:svg", namespaces={"svg": "http://www.w3.org/2000/svg"})
    opf = z.read("EPUB/content.opf").decode()
    assert 'properties="svg"' in opf


def test_footnotes_and_bibliography_get_landmarks():
    blocks = ("<h1>N</h1><p>Claim<a href='#fn1' class='pp-noteref'>1</a>.</p>"
              "<section class='pp-sources'><h2>Sources</h2><p id='source-1'>[1] A.</p></section>"
              "<section class='pp-footnotes'><aside id='fn1'><p>Note.</p></aside></section>")
    ch = _chapter("n", "N", blocks)
    body = ch.body
    body.find(".//a").set(EPUB_TYPE, "noteref")
    body.find(".//section").set(EPUB_TYPE, "bibliography")
    body.findall(".//section")[1].set(EPUB_TYPE, "footnotes")
    body.find(".//aside").set(EPUB_TYPE, "footnote")
    z = _zip(epub_of(_book(ch)))
    nav = _xml(z, "EPUB/nav.xhtml")
    kinds = nav.xpath("//x:nav[@epub:type='landmarks']//x:a/@epub:type", namespaces=NS)
    assert "bibliography" in kinds and "endnotes" in kinds
    toc = nav.xpath("//x:nav[@epub:type='toc']//x:a", namespaces=NS)
    notes = [a.get("href") for a in toc if a.text == "Notes"]
    assert len(notes) == 1 and notes[0].startswith("text/n.xhtml#")
    doc = _xml(z, "EPUB/text/n.xhtml")
    assert doc.xpath("//x:a[@epub:type='noteref']/@href", namespaces=NS) == ["#fn1"]
    assert doc.xpath("//x:aside[@epub:type='footnote']/@id", namespaces=NS) == ["fn1"]


def test_generated_cover_is_portrait_jpeg_with_the_title():
    made = cover_mod.generate_cover("A Title", "Sub", ["Writer"])
    im = Image.open(io.BytesIO(made.data))
    assert im.format == "JPEG" and im.size == (1600, 2560)
    # the title is drawn in the light ink (rules and subtitle use the darker accent colour)
    band = im.crop((200, 300, 1400, 1400)).convert("L")
    assert sum(band.histogram()[215:]) > 3000
    blank = cover_mod.generate_cover(" ", "", [])
    band = Image.open(io.BytesIO(blank.data)).crop((200, 300, 1400, 1400)).convert("L")
    assert sum(band.histogram()[215:]) < 3000
    assert cover_mod.generate_cover("A Title", "Sub", ["Writer"]).data == made.data


@pytest.mark.parametrize("size,upscaled,embedded", [((1000, 1600), True, False),
                                                    ((2000, 3000), False, False),
                                                    ((1200, 800), False, True)])
def test_author_cover_processing(size, upscaled, embedded):
    buf = io.BytesIO()
    Image.new("RGBA", size, (200, 30, 30, 255)).save(buf, "PNG")
    buf.seek(0)
    made = cover_mod.process_cover(buf, "T", "", ["A"], name="c.png")
    im = Image.open(io.BytesIO(made.data))
    assert im.format == "JPEG" and im.height >= 2560 and im.width >= 1600
    assert im.height > im.width
    assert any("upscaled" in n for n in made.notes) == upscaled
    assert any("not portrait" in n for n in made.notes) == embedded


def test_author_cover_in_book_and_bad_cover_falls_back(tmp_path):
    good = tmp_path / "cover.jpg"
    Image.new("RGB", (1600, 2560), (0, 90, 0)).save(good)
    book = _simple_book()
    book.root = tmp_path
    book.meta.cover = Path("cover.jpg")
    z = _zip(epub_of(book))
    im = Image.open(io.BytesIO(z.read("EPUB/images/cover.jpg")))
    assert im.size == (1600, 2560) and im.getpixel((800, 1280))[1] > 60  # the green original
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"not an image")
    book2 = copy.deepcopy(_simple_book())
    book2.root = tmp_path
    book2.meta.cover = Path("bad.jpg")
    z2 = _zip(epub_of(book2))
    assert Image.open(io.BytesIO(z2.read("EPUB/images/cover.jpg"))).size == (1600, 2560)
    assert [d.code for d in book2.diagnostics] == ["epub-cover"]


def test_toc_depth_setting():
    from pubpipe.config import Config, EpubSection

    book = _simple_book()
    cfg = Config(root=Path("/book"), epub=EpubSection(toc_depth=1))
    nav = _xml(_zip(epub_of(book, cfg=cfg)), "EPUB/nav.xhtml")
    labels = nav.xpath("//x:nav[@epub:type='toc']//x:a/text()", namespaces=NS)
    assert labels == ["Cover", "A Book", "Contents", "One", "Two"]


def test_right_to_left_book_and_odd_urls():
    ch = _chapter("ar", "فصل", "<h1>فصل</h1><p>مرحبا <a href='https://example.org/a b'>رابط</a></p>")
    book = _book(ch, language="ar", title="كتاب")
    z = _zip(epub_of(book))
    doc = _xml(z, "EPUB/text/ar.xhtml")
    assert doc.get("lang") == "ar"
    assert doc.find("{%s}body" % NS["x"]).get("dir") == "rtl"
    assert doc.xpath("//x:a/@href", namespaces=NS) == ["https://example.org/a%20b"]
    opf = _xml(z, "EPUB/content.opf")
    assert opf.find("{%s}spine" % NS["opf"]).get("page-progression-direction") == "rtl"


def test_cover_from_url_through_the_asset_store(tmp_path, httpserver):
    from pubpipe.assets.store import AssetStore
    from pubpipe.config import AssetsSection, BookSection, Config

    buf = io.BytesIO()
    Image.new("RGB", (1600, 2560), (0, 0, 200)).save(buf, "JPEG")
    httpserver.expect_request("/cover.jpg").respond_with_data(buf.getvalue(),
                                                              content_type="image/jpeg")
    url = httpserver.url_for("/cover.jpg")
    book = _simple_book()
    book.root = tmp_path
    book.meta.cover = tmp_path / url  # what the reader makes of a URL; the writer uses the raw one
    cfg = Config(root=tmp_path, book=BookSection(cover=url))
    store = AssetStore(tmp_path, tmp_path / "cache", AssetsSection(allow_private_hosts=True),
                       diagnostics=book.diagnostics)
    z = _zip(epub_of(book, store, cfg=cfg))
    im = Image.open(io.BytesIO(z.read("EPUB/images/cover.jpg")))
    assert im.size == (1600, 2560) and im.getpixel((800, 1280))[2] > 150  # the blue original
    assert not book.diagnostics


def test_page_markers_from_a_layout(monkeypatch, tmp_path):
    """Markers go where each page's first printed words are: mid-paragraph, before a figure
    whose image opens the page, at the chapter start; a blank last page gets none."""
    from pubpipe.config import Config

    book = _image_book(tmp_path, "pic", "nu xi omicron pi rho")
    ch = book.chapters[0]
    ch.slug = "c"
    figure = ch.body.find("figure")
    p = etree.fromstring("<p>alpha beta gamma delta epsilon zeta eta theta iota kappa lambda"
                         " mu</p>")
    figure.addprevious(p)
    figure.addnext(etree.fromstring("<p>sigma tau upsilon phi chi psi</p>"))
    cfg = Config(root=Path("/book"), has_pdf_section=True)
    words = {"1": ["pics", "alpha", "beta", "gamma", "delta"],
             "2": ["running", "head", "theta", "iota", "kappa", "lambda", "mu"],
             "3": ["nu", "xi", "omicron", "pi", "rho", "sigma"], "4": []}
    page_map = {"c": [PageStart((), k, tuple(v), tuple(v)) for k, v in words.items()]}
    z = _zip(epub_of(book, page_map=page_map, cfg=cfg))
    doc = _xml(z, "EPUB/text/c.xhtml")
    section = doc.xpath("//x:section[@epub:type='chapter']", namespaces=NS)[0]
    first = section[0]
    assert first.get("role") == "doc-pagebreak" and first.get("aria-label") == "1"
    p1 = doc.xpath("//x:p", namespaces=NS)[0]
    marker2 = p1.find("{%s}span" % NS["x"])
    assert marker2.get("aria-label") == "2" and marker2.tail.startswith("theta")
    figure = doc.xpath("//x:figure", namespaces=NS)[0]
    before = figure.getprevious()
    assert before.get("aria-label") == "3"  # before the figure, not inside its caption
    labels = doc.xpath("//x:span[@epub:type='pagebreak']/@aria-label", namespaces=NS)
    assert labels == ["1", "2", "3"]  # page 4 printed nothing: no marker
    nav = _xml(z, "EPUB/nav.xhtml")
    assert nav.xpath("//x:nav[@epub:type='page-list']//x:a/text()", namespaces=NS) == [
        "1", "2", "3"]
    opf = z.read("EPUB/content.opf").decode()
    assert "pageBreakMarkers" in opf and "<dc:source>" in opf
    assert '<meta property="pageBreakSource">' in opf
