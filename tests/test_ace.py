"""Ace by DAISY, the EPUB accessibility checker, on the EPUBs pubpipe builds: no violation of any
impact, and accessibility metadata that is true of the book it describes.

The default suite checks the seed post, the hostile-HTML fixture, the embeds zoo, the three-chapter
print book (page list), markup that trips screen readers (``fixtures/a11y/awkward.md``: empty links
and headings, skipped levels, bad table scopes, images without alt) and two books made here: one whose source allows conformance (skipped
heading levels, a bold header row, images with alt text or a caption) and one whose source does
not (an image without any description, a data table without header cells). The whole shared
corpus runs under ``-m ace_corpus`` (about 3 s per EPUB). Ace is installed by ``make setup``;
where it cannot be, these tests are skipped and say why (see ``ace_runner.py``).
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from lxml import etree
from PIL import Image

from ace_runner import assert_ace_clean, require_ace, run_ace
from conftest import CONTENT, SEED, corpus_files, needs_shared
from epubcheck_runner import assert_epubcheck_clean
from pubpipe import config
from pubpipe.pipeline import BuildOptions, build

pytestmark = pytest.mark.slow
FIXTURES = Path(__file__).parent / "fixtures"
NS = {"opf": "http://www.idpf.org/2007/opf", "dc": "http://purl.org/dc/elements/1.1/"}

CONFORMING = """---
title: Field notes
author: Ann Example
date: 2024-05-01
lang: en
---

Opening words with a [link](https://example.org/a) in running text and a note.[^1]

#### A section the author styled small

<table>
<tr><td><b>River</b></td><td><b>Length</b></td></tr>
<tr><td>Rhine</td><td>1,230 km</td></tr>
<tr><td>Elbe</td><td>1,094 km</td></tr>
</table>

![A blue square on white](blue.png)

<figure><img src="red.png"><figcaption>A red square, described by its caption.</figcaption></figure>

###### Deep down

Text under a heading six levels down.

[^1]: The note, with a [link of its own](https://example.org/b).
"""

GAPS = """---
title: Gaps
lang: en
---

An image nobody described:

![](green.png)

<table>
<tr><td>a</td><td>b</td><td>c</td></tr>
<tr><td>1</td><td>2</td><td>3</td></tr>
<tr><td>4</td><td>5</td><td>6</td></tr>
</table>
"""


def _build(source: Path, out: Path) -> Path:
    cfg = config.load(source)
    result = build(cfg, BuildOptions(formats=("epub",), out_dir=out, cache_dir=out / "cache",
                                     offline=True))
    return result.outputs["epub"]


def _made_up_books(folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    for name, colour in (("blue", (30, 60, 200)), ("red", (200, 30, 30)), ("green", (30, 160, 60))):
        Image.new("RGB", (120, 80), colour).save(folder / f"{name}.png")
    (folder / "conforming.md").write_text(CONFORMING, encoding="utf-8")
    (folder / "gaps.md").write_text(GAPS, encoding="utf-8")
    return {"conforming": folder / "conforming.md", "gaps": folder / "gaps.md"}


@pytest.fixture(scope="session")
def built(tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("a11y")
    sources = {"seed": SEED if SEED.is_file() else CONTENT,
               "hostile": FIXTURES / "hostile.md",
               "embeds": FIXTURES / "embeds" / "every-embed.md",
               "print-book": FIXTURES / "epub-book",
               "awkward": FIXTURES / "a11y" / "awkward.md",
               **_made_up_books(out / "src")}
    return {name: _build(src, out / name) for name, src in sources.items()}


@pytest.fixture(scope="session")
def ace_books(built):
    require_ace()
    return built, run_ace(list(built.values()))


def _opf(epub: Path) -> etree._Element:
    with zipfile.ZipFile(epub) as z:
        return etree.fromstring(z.read("EPUB/content.opf"))


def _meta(epub: Path, prop: str) -> list[str]:
    return [m.text or "" for m in _opf(epub).iterfind(f"opf:metadata/opf:meta[@property='{prop}']",
                                                       NS)]


def test_ace_finds_no_violation(ace_books):
    books, results = ace_books
    bad = {name: results[p] for name, p in books.items() if not results[p].clean}
    assert not bad, "\n".join(f"{name}:\n{r.report()}" for name, r in bad.items())


def test_the_books_pass_epubcheck(built):
    assert_epubcheck_clean(*built.values())


def test_ace_sees_the_metadata_it_asks_for(ace_books):
    books, results = ace_books
    for name, p in books.items():
        present = set(results[p].a11y_metadata.get("present") or [])
        assert {"schema:accessMode", "schema:accessibilityFeature", "schema:accessibilityHazard",
                "schema:accessibilitySummary", "schema:accessModeSufficient"} <= present, name


def test_the_claim_and_the_summary_tell_the_truth(built):
    good, gaps = built["conforming"], built["gaps"]
    assert _meta(good, "dcterms:conformsTo") == ["EPUB Accessibility 1.1 - WCAG 2.2 Level AA"]
    summary = _meta(good, "schema:accessibilitySummary")[0]
    assert "Each of its 2 images has a text description." in summary
    assert "Its table has header cells." in summary and "It meets EPUB Accessibility 1.1" in summary
    assert "alternativeText" in _meta(good, "schema:accessibilityFeature")

    assert _meta(gaps, "dcterms:conformsTo") == []
    summary = _meta(gaps, "schema:accessibilitySummary")[0]
    assert "makes no claim to meet WCAG 2.2 Level AA, because an image has no text description" \
        " and a data table has no header cells." in summary
    assert "for 1 the source gives none" in summary
    assert "alternativeText" not in _meta(gaps, "schema:accessibilityFeature")
    assert _meta(gaps, "schema:accessModeSufficient") == ["textual,visual"]

    seed = _meta(built["seed"], "schema:accessibilitySummary")[0]
    assert "The cover is an image with a text description." in seed and "no images" not in seed
    assert "visual" in _meta(built["seed"], "schema:accessMode")
    for name, epub in built.items():
        assert _opf(epub).get("{http://www.w3.org/XML/1998/namespace}lang") == "en", name


def _chapter(epub: Path) -> etree._Element:
    with zipfile.ZipFile(epub) as z:
        name = next(n for n in z.namelist() if n.startswith("EPUB/text/")
                    and not n.endswith(("cover.xhtml", "titlepage.xhtml")))
        return etree.fromstring(z.read(name))


def test_awkward_markup_is_made_navigable(built):
    doc = _chapter(built["awkward"])
    x = "{http://www.w3.org/1999/xhtml}"
    labels = {a.get("href"): a.get("aria-label") for a in doc.iter(f"{x}a")
              if a.get("aria-label")}
    assert labels["https://example.org/empty"] == "example.org/empty"
    assert labels["mailto:ann@example.org"] == "ann@example.org"
    assert labels["#deep-heading"] == "Deep heading"
    levels = [int(h.tag[-1]) for h in doc.iter(*(f"{x}h{i}" for i in range(1, 7)))]
    assert levels[0] == 1 and all(b <= a + 1 for a, b in zip(levels, levels[1:])), levels
    assert all((h.text or len(h)) for h in doc.iter(*(f"{x}h{i}" for i in range(1, 7))))
    assert [th.get("scope") for th in doc.iter(f"{x}th")][:2] == ["col", "col"]
    assert _meta(built["awkward"], "dcterms:conformsTo") == []
    assert "because 2 images have no text description." in \
        _meta(built["awkward"], "schema:accessibilitySummary")[0]


def test_page_list_names_its_source(built):
    source = _meta(built["print-book"], "pageBreakSource")
    assert source and "print edition" in source[0]
    assert {"pageBreakMarkers", "pageNavigation"} <= set(
        _meta(built["print-book"], "schema:accessibilityFeature"))


def test_ace_catches_what_it_should(built, tmp_path):
    """The harness can fail: an EPUB with a colour-only link and no package language fails."""
    require_ace()
    good = built["hostile"]
    bad = tmp_path / "bad.epub"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(bad, "w") as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "EPUB/content.opf":
                data = data.replace(b' xml:lang="', b' data-lang="', 1)
            elif info.filename.endswith(".css"):
                data += b"\na { text-decoration: none; }\n"
            dst.writestr(info, data)
    found = run_ace([bad])[bad]
    rules = found.counts()
    assert "epub-lang" in rules and "link-in-text-block" in rules, found.report()
    with pytest.raises(AssertionError, match="link-in-text-block"):
        assert_ace_clean(bad)


@pytest.mark.ace_corpus
@needs_shared
def test_ace_on_the_whole_corpus(tmp_path):
    require_ace()
    books = {f.stem: _build(f, tmp_path / f.stem) for f in corpus_files()}
    results = run_ace(list(books.values()))
    bad = {name: results[p] for name, p in books.items() if not results[p].clean}
    assert not bad, "\n".join(f"{name}:\n{r.report()}" for name, r in bad.items())
    assert_epubcheck_clean(*books.values())
