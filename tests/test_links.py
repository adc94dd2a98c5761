"""Links between posts: a Hugo and a Jekyll site built as books; every in-book link lands on its
chapter and anchor, links out of the book go to the site or stay text with a warning, every href
is a valid URL, no template syntax is printed unless reported, code carries no curly quotes."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest
from lxml import etree

from epubcheck_runner import run_epubcheck
from pubpipe import config
from pubpipe.pipeline import BuildOptions, build

SITES = Path(__file__).parent / "fixtures" / "sites"
XHTML = "{http://www.w3.org/1999/xhtml}"
# RFC 3986 characters (a '%' only as an escape)
VALID_HREF = re.compile(r"^(?:[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})*$")


def _build(site: str, out: Path, formats=("epub", "html")):
    cfg = config.load(SITES / site)
    return build(cfg, BuildOptions(formats=formats, out_dir=out, cache_dir=out / "cache",
                                   offline=True))


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("site-links")
    results = {name: _build(name, out / name) for name in ("hugo", "jekyll")}
    checks = run_epubcheck([r.outputs["epub"] for r in results.values()])
    return results, checks


def _docs(epub: Path) -> dict[str, etree._Element]:
    with zipfile.ZipFile(epub) as z:
        return {n.rsplit("/", 1)[-1]: etree.fromstring(z.read(n)) for n in z.namelist()
                if n.startswith("EPUB/text/") and n.endswith(".xhtml")}


def _links(doc) -> dict[str, str]:
    return {" ".join("".join(a.itertext()).split()): a.get("href")
            for a in doc.iter(f"{XHTML}a")}


def test_both_sites_pass_epubcheck(built):
    _, checks = built
    for path, result in checks.items():
        assert result.clean, result.report()


@pytest.mark.parametrize("site", ["hugo", "jekyll"])
def test_every_internal_link_lands_on_an_existing_id(built, site):
    results, _ = built
    docs = _docs(results[site].outputs["epub"])
    ids = {name: {el.get("id") for el in doc.iter() if el.get("id")} for name, doc in docs.items()}
    checked = 0
    for name, doc in docs.items():
        for a in doc.iter(f"{XHTML}a"):
            href = a.get("href")
            if href is None:
                continue
            assert VALID_HREF.match(href), href
            assert ".pubpipe-ref" not in href and "pubpipe.invalid" not in href
            assert not re.search(r"\.(md|markdown)(#|$)", href), href
            if re.match(r"^[a-z]+:", href):
                continue
            file, _, frag = href.partition("#")
            file = file or name
            assert file in ids, href
            if frag:
                assert frag in ids[file], (name, href)
            checked += 1
    assert checked >= 8


def test_hugo_links_by_every_means(built):
    results, _ = built
    docs = _docs(results["hugo"].outputs["epub"])
    first = _links(docs["first-steps.xhtml"])
    assert first["part two"] == "part-two.xhtml#part-two"
    assert first["setup section"] == "part-two.xhtml#setup"
    assert first["by ref"] == "part-two.xhtml#part-two"
    assert first["by relref with anchor"] == "part-two.xhtml#setup"
    assert first["here"] == "bundled.xhtml#bundled"  # by permalink
    assert first["the search"] == "https://example.com/search?q=50%25+off&x=a%20b"
    # never published: kept as text, not an <a> that goes nowhere
    assert "draft" not in first and "future post" not in first
    spans = {"".join(el.itertext()) for el in docs["first-steps.xhtml"].iter(f"{XHTML}span")}
    assert {"draft", "future post"} <= spans
    two = _links(docs["part-two.xhtml"])
    assert two["the first post"] == "first-steps.xhtml#first-steps"
    assert two["code"] == "first-steps.xhtml#code-quoted"
    assert two["alias"] == "first-steps.xhtml#first-steps"  # aliases front matter
    assert two["permalink"] == "first-steps.xhtml#first-steps"  # absolute, on the site's URL
    assert _links(docs["bundled.xhtml"])["part two’s setup"] == "part-two.xhtml#setup"
    de = _links(docs["ein-deutscher-beitrag.xhtml"])
    assert de["den ersten Beitrag"] == "first-steps.xhtml#first-steps"
    warned = [d for d in results["hugo"].diagnostics if d.code == "link-outside-book"]
    assert sorted((d.file.name, d.line) for d in warned) == [("first-steps.md", 11),
                                                             ("first-steps.md", 12)]


def test_jekyll_links_by_every_means(built):
    results, _ = built
    docs = _docs(results["jekyll"].outputs["epub"])
    first = _links(docs["opening-night.xhtml"])
    assert first["the second post"] == "second-wind.xhtml#second-wind"
    assert first["highlights"] == "second-wind.xhtml#highlights"  # post_url + #fragment
    assert first["tag"] == "second-wind.xhtml#second-wind"  # {% link %}
    assert first["absolute"] == "second-wind.xhtml#second-wind"  # site.url + baseurl + path
    assert first["site path"] == "second-wind.xhtml#second-wind"
    assert "draft" not in first
    assert not [a for d in docs.values() for a in d.iter(f"{XHTML}a") if a.get("href") is None]
    second = _links(docs["second-wind.xhtml"])
    assert second["the opening"] == "opening-night.xhtml#opening-night"
    assert second["old address"] == "opening-night.xhtml#opening-night"  # redirect_from
    assert second["Back"] == "#back-home"  # the kramdown TOC, IAL id
    warned = [d for d in results["jekyll"].diagnostics if d.code == "link-outside-book"]
    assert {d.file.name for d in warned} == {"2023-11-20-opening-night.md"}
    assert [d.line for d in warned if "secret-plans" in d.message] == [13]


@pytest.mark.parametrize("site", ["hugo", "jekyll"])
def test_no_template_syntax_is_printed_unless_reported_and_code_has_no_curly_quotes(built, site):
    results, _ = built
    docs = _docs(results[site].outputs["epub"])
    reported = [d.message for d in results[site].diagnostics if d.code == "template-tag"]
    for name, doc in docs.items():
        for code in doc.iter(f"{XHTML}code"):
            assert not re.search("[\u201c\u201d\u2018\u2019\u201e\u00ab\u00bb]",
                                 "".join(code.itertext()))
        text = "".join(doc.itertext())
        for tag in re.findall(r"\{\{.*?\}\}|\{%.*?%\}", text):
            if "Liquid shown as text" in text and tag in ("{{ page.title }}", "{% if x %}"):
                continue  # inside {% raw %}: the author asked for it
            if tag == "{{< youtube abc >}}":
                continue  # an escaped shortcode, shown as Hugo shows it
            name_ = re.match(r"\{[{%][<%]?\s*/?\s*(\w+)", tag)[1]
            assert any(f"'{name_}'" in m or f"'{name_.removeprefix('end')}'" in m
                       for m in reported) or any(tag in m for m in reported), (tag, reported)


def test_languages_of_the_posts(built):
    results, _ = built
    docs = _docs(results["hugo"].outputs["epub"])
    de = docs["ein-deutscher-beitrag.xhtml"]
    text = "".join(de.itertext())
    assert "\u201eGuten Tag\u201c" in text and "2. April 2024" in text
    ja = docs["nihongo.xhtml"]
    text = "".join(ja.itertext())
    assert "\u300cこんにちは\u300d" in text and "2024年5月1日" in text


def test_html_has_the_same_internal_links(built):
    results, _ = built
    html = results["hugo"].outputs["html"].read_text()
    assert ".md\"" not in html and ".pubpipe-ref" not in html
    ids = set(re.findall(r'\sid="([^"]+)"', html))
    for target in re.findall(r'href="#([^"]+)"', html):
        assert target in ids, target


def test_without_a_base_url_a_link_out_of_the_book_stays_text_with_file_and_line(tmp_path):
    (tmp_path / "a.md").write_text("---\ntitle: A\n---\nOne.\n\nSee [b](b.md) and [c](c.md#x)"
                                   " and [site](/about/).\n")
    (tmp_path / "b.md").write_text("---\ntitle: B\ndraft: true\n---\nB.\n")
    (tmp_path / "c.md").write_text("---\ntitle: C\n---\nC.\n")
    (tmp_path / "book.toml").write_text('[book]\nchapters = ["a.md"]\n')
    res = build(config.load(tmp_path), BuildOptions(formats=("html",), out_dir=tmp_path / "o",
                                                     cache_dir=tmp_path / "k", offline=True))
    warned = sorted((d.line, d.message) for d in res.diagnostics if d.code == "link-outside-book")
    assert [w[0] for w in warned] == [6, 6, 6]
    assert any("'b.md'" in m and "draft" in m for _, m in warned)
    assert any("'c.md#x'" in m and "not in [book] chapters" in m for _, m in warned)
    html = res.outputs["html"].read_text()
    assert 'href="b.md"' not in html and 'href="/about/"' not in html

    (tmp_path / "book.toml").write_text('[book]\nchapters = ["a.md"]\n'
                                        '[assets]\nsite-url = "https://blog.example"\n')
    res = build(config.load(tmp_path), BuildOptions(formats=("html",), out_dir=tmp_path / "o",
                                                     cache_dir=tmp_path / "k", offline=True))
    html = res.outputs["html"].read_text()
    assert 'href="https://blog.example/about/"' in html
    assert 'href="b.md"' not in html  # a draft has no public address either


def _tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        p = root / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, encoding="utf-8")
    return root


def _html_links(res) -> dict[str, str]:
    from lxml import html as lxml_html

    root = lxml_html.fromstring(res.outputs["html"].read_bytes())
    ids = {el.get("id") for el in root.iter() if isinstance(el.tag, str) and el.get("id")}
    out = {}
    for a in root.iter("a"):
        href = a.get("href")
        if href and href.startswith("#"):
            assert href[1:] in ids, href
        out[" ".join(a.text_content().split())] = href
    return out


def test_zola_pelican_and_eleventy_internal_links(tmp_path):
    zola = _tree(tmp_path / "zola", {
        "config.toml": 'base_url = "https://z.example"\ntitle = "Z"\n',
        "content/blog/_index.md": "+++\ntitle = 'blog'\n+++\n",
        "content/blog/2024-01-02-one.md": "+++\ntitle = 'One'\n+++\nTo [two](@/blog/two.md#deep)"
                                          " and [gone](@/blog/gone.md).\n",
        "content/blog/two.md": "+++\ntitle = 'Two'\ndate = 2024-02-01\n+++\n## Deep\n\nText.\n",
        "content/blog/gone.md": "+++\ntitle = 'Gone'\ndate = 2024-03-01\n+++\nText.\n",
    })
    (zola / "book.toml").write_text('[book]\nexclude = ["content/blog/gone.md"]\n')
    res = build(config.load(zola), BuildOptions(formats=("html",), out_dir=tmp_path / "zo",
                                                cache_dir=tmp_path / "k", offline=True))
    links = _html_links(res)
    assert links["two"] == "#deep"
    assert links["gone"] == "https://z.example/blog/gone/"  # left out by [book]: online

    pelican = _tree(tmp_path / "pelican", {
        "pelicanconf.py": "SITENAME = 'P'\nPATH = 'content'\nSITEURL = 'https://p.example'\n",
        "content/a.md": "Title: Alpha\nDate: 2020-01-01\n\nSee [beta]({filename}/sub/b.md) and"
                        " [beta again](|filename|sub/b.md#part).\n",
        "content/sub/b.md": "Title: Beta\nDate: 2020-02-02\n\n## Part\n\nB.\n",
    })
    res = build(config.load(pelican), BuildOptions(formats=("html",), out_dir=tmp_path / "po",
                                                   cache_dir=tmp_path / "k", offline=True))
    links = _html_links(res)
    assert links["beta"] == "#beta" and links["beta again"] == "#part"

    eleventy = _tree(tmp_path / "eleventy", {
        ".eleventy.js": "module.exports = function(c) { return {}; };\n",
        "posts/one.md": "---\ntitle: One\ndate: 2021-01-01\n---\n[Two]({{ '/posts/two/' |"
                        " url }}) and [two again](/posts/two/) and [raw]({% link posts/two.md %})."
                        "\n",
        "posts/two.md": "---\ntitle: Two\ndate: 2021-02-02\n---\nTwo.\n",
    })
    res = build(config.load(eleventy), BuildOptions(formats=("html",), out_dir=tmp_path / "eo",
                                                    cache_dir=tmp_path / "k", offline=True))
    links = _html_links(res)
    assert links["Two"] == links["two again"] == links["raw"] == "#two"


def _pdf_links(pdf: Path):
    """(page index, destination name or URI) of every link annotation, and the readers."""
    from pypdf import PdfReader

    reader = PdfReader(str(pdf))
    out = []
    for i, page in enumerate(reader.pages):
        for annot in page.get("/Annots") or []:
            annot = annot.get_object()
            if annot.get("/Subtype") != "/Link":
                continue
            action = annot.get("/A")
            dest = annot.get("/Dest")
            if dest is None and action is not None:
                dest = action.get("/D")
            uri = action.get("/URI") if action is not None else None
            out.append((i, str(dest) if dest is not None else None, uri))
    return reader, out


@pytest.fixture(scope="module")
def built_pdf(tmp_path_factory):
    out = tmp_path_factory.mktemp("site-pdf")
    return {name: _build(name, out / name, formats=("pdf",)) for name in ("hugo", "jekyll")}


@pytest.mark.parametrize("site", ["hugo", "jekyll"])
def test_pdf_in_book_links_are_internal(built_pdf, site):
    reader, links = _pdf_links(built_pdf[site].outputs["pdf"])
    names = reader.named_destinations
    internal = 0
    for page, dest, uri in links:
        if uri is not None:  # every address is a real one on the web
            assert uri.startswith(("https://", "http://", "mailto:")), uri
            assert "pubpipe.invalid" not in uri and ".pubpipe-ref" not in uri
            continue
        assert dest in names, dest
        internal += 1
    assert internal >= 10


def test_pdf_page_references_name_the_targets_page(built_pdf):
    import subprocess

    pdf = built_pdf["hugo"].outputs["pdf"]
    text = " ".join(subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True,
                                   text=True).stdout.split())
    assert text.count("(see p.") == 7  # once per target and paragraph
    from pypdf import PdfReader

    reader = PdfReader(str(pdf))
    names, labels = reader.named_destinations, reader.page_labels

    def page_of(name):
        return labels[reader.get_destination_page_number(names[name])]

    two = next(n for n in names if n.endswith("--setup"))
    assert f"setup section (see p. {page_of(two)})" in text
    bundled = next(n for n in names if n.endswith("--bundled"))
    assert f"here (see p. {page_of(bundled)})" in text
    first = next(n for n in names if n.endswith("--first-steps"))
    assert f"ersten Beitrag (siehe S. {page_of(first)})" in re.sub(r"[-\u2010] ", "", text)
    assert f"最初の記事（{page_of(first)}ページ参照）" in text


def test_every_address_written_is_a_valid_url(tmp_path):
    """A raw '%' in a query (a real post's link), spaces, non-ASCII: percent-encoded everywhere
    an address is written (links, quotation sources); a hopeless one is dropped with a warning."""
    (tmp_path / "a.md").write_text(
        "---\ntitle: A\n---\n[deal](https://shop.example/?q=50%+off) "
        "[space](https://x.example/a b) [umlaut](https://x.example/straße)\n\n"
        '<blockquote cite="https://q.example/?r=10%">Quoted.</blockquote>\n\n'
        "[bad port](https://x.example:99999/)\n", encoding="utf-8")
    res = build(config.load(tmp_path), BuildOptions(formats=("epub",), out_dir=tmp_path / "o",
                                                     cache_dir=tmp_path / "k", offline=True))
    docs = _docs(res.outputs["epub"])
    doc = next(d for name, d in docs.items() if name.startswith("a"))
    links = _links(doc)
    assert links["deal"] == "https://shop.example/?q=50%25+off"
    assert links["space"] == "https://x.example/a%20b"
    assert links["umlaut"] == "https://x.example/stra%C3%9Fe"
    assert "bad port" not in links  # text, with a warning
    assert [d.line for d in res.diagnostics if d.code == "link-invalid"] == [8]
    cites = [q.get("cite") for q in doc.iter(f"{XHTML}blockquote") if q.get("cite")]
    assert cites in ([], ["https://q.example/?r=10%25"])
    checks = run_epubcheck([res.outputs["epub"]])
    assert all(r.clean for r in checks.values()), [r.report() for r in checks.values()]


def test_an_author_link_that_cannot_be_a_url_is_text_with_a_warning(tmp_path):
    (tmp_path / "a.md").write_text("---\ntitle: A\n---\nOne.\n\n[port](http://x.example:99999/)"
                                   " and [empty](http://) and [ok](https://e.example/?a=5%)\n")
    res = build(config.load(tmp_path), BuildOptions(formats=("epub",), out_dir=tmp_path / "o",
                                                     cache_dir=tmp_path / "k", offline=True))
    warned = sorted((d.line, d.message) for d in res.diagnostics if d.code == "link-invalid")
    assert [line for line, _ in warned] == [6, 6]
    assert any("99999" in m for _, m in warned) and any("'http://'" in m for _, m in warned)
    doc = next(iter(_docs(res.outputs["epub"]).values()))
    assert _links(doc) == {"ok": "https://e.example/?a=5%25"}
    assert {"port", "empty"} <= {"".join(s.itertext()) for s in doc.iter(f"{XHTML}span")}
