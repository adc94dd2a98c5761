"""Mathematics end to end: posts in every blog convention built to EPUB, PDF and HTML.

In the EPUB every formula is a <math> with its TeX as alternative and no TeX delimiter or command
is left in the text a reader sees outside code; the PDF draws the formulas (vector paths) and its
text holds no TeX; prices stay prices; EPUBCheck 0/0/0; every word kept.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pypdf
import pytest
from lxml import etree

from ace_runner import assert_ace_clean, require_ace
from epubcheck_runner import run_epubcheck
from pubpipe import config
from pubpipe.pipeline import BuildOptions, build
from textcheck import epub_text, kept_ratio, pdf_text, source_words

pytestmark = pytest.mark.slow
FIXTURES = Path(__file__).parent / "fixtures" / "math"
POSTS = {  # post -> formulas it holds (given MathML included)
    "2016-05-31-policy-gradients.markdown": 9,
    "hugo-katex-notes.md": 12,
    "given-mathml.md": 3,
    "constructs.md": 24,
    "prices.md": 0,
}
M = "{http://www.w3.org/1998/Math/MathML}"
X = "{http://www.w3.org/1999/xhtml}"
CODE = {"hugo-katex-notes.md": [r"\foo{x}"], "prices.md": [r"C:\(x86)"],
        "2016-05-31-policy-gradients.markdown": [r"\\(y\\)"]}
_TEX_LEFT = re.compile(r"\\[A-Za-z]+|\\[()\[\]]|\$\$|\$[^\s\d$]")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("math")
    books = {}
    for name in POSTS:
        cfg = config.load(FIXTURES / name)
        result = build(cfg, BuildOptions(formats=("epub", "pdf", "html"), out_dir=out / name,
                                         cache_dir=out / "cache", offline=True))
        books[name] = (result.outputs, result.diagnostics)
    checks = run_epubcheck([o["epub"] for o, _ in books.values()])
    return books, checks


def _chapter(epub: Path) -> etree._Element:
    with zipfile.ZipFile(epub) as z:
        [name] = [n for n in z.namelist() if n.startswith("EPUB/text/") and "cover" not in n
                  and "titlepage" not in n]
        return etree.fromstring(z.read(name))


def _shown_outside_code(root: etree._Element) -> str:
    """The text a reader sees, less code and formulas."""
    parts = []

    def walk(el, hidden):
        hidden = hidden or el.tag in (f"{X}code", f"{X}pre", f"{M}math")
        if el.text and not hidden:
            parts.append(el.text)
        for c in el:
            walk(c, hidden)
            if c.tail and not hidden:
                parts.append(c.tail)

    walk(root.find(f"{X}body"), False)
    return " ".join(parts)


def test_epubcheck_clean(built):
    books, checks = built
    for name, (outputs, _) in books.items():
        r = checks[outputs["epub"]]
        assert r.clean, (name, r.messages[:5])


def test_ace_finds_no_violation(built):
    """MathML with alttext, coloured formulas (darkened to readable contrast), wide formulas."""
    require_ace()
    books, _ = built
    assert_ace_clean(*[o["epub"] for o, _ in books.values()])


@pytest.mark.parametrize("name", [n for n, count in POSTS.items() if count])
def test_epub_formulas_are_mathml_with_tex(built, name):
    books, _ = built
    root = _chapter(books[name][0]["epub"])
    maths = list(root.iter(f"{M}math"))
    assert len(maths) == POSTS[name]
    for m in maths:
        ann = m.find(f"{M}semantics/{M}annotation")
        if name == "given-mathml.md" and ann is None:
            continue  # MathML as the author gave it: there is no TeX to keep
        assert ann.get("encoding") == "application/x-tex" and ann.text.strip()
        assert m.get("alttext") == ann.text
    leaks = _TEX_LEFT.findall(_shown_outside_code(root))
    assert not leaks, leaks
    with zipfile.ZipFile(books[name][0]["epub"]) as z:
        opf = z.read("EPUB/content.opf").decode()
    assert re.search(r'properties="[^"]*mathml', opf)


def test_unconvertible_formula_is_shown_as_code_and_reported(built):
    books, _ = built
    outputs, diags = books["hugo-katex-notes.md"]
    [d] = [d for d in diags if d.code == "math-unconverted"]
    assert d.line == 50 and d.file.name == "hugo-katex-notes.md" and r"\foo" in d.message
    root = _chapter(outputs["epub"])
    assert [c.text for c in root.iter(f"{X}code") if "pp-math-tex" in (c.get("class") or "")] \
        == [r"\foo{x}"]
    assert r"\foo{x}" in pdf_text(outputs["pdf"])  # in code style on paper too


def _curves(pdf: Path) -> list[int]:
    """Bezier segments drawn on each page: the formulas' glyphs (text is set with fonts)."""
    return [len(re.findall(rb" c\n", p.get_contents().get_data())) if p.get_contents() is not None else 0
            for p in pypdf.PdfReader(pdf).pages]


@pytest.mark.parametrize("name", list(POSTS))
def test_pdf_draws_formulas_and_holds_no_tex(built, name):
    books, _ = built
    outputs, diags = books[name]
    text = pdf_text(outputs["pdf"])
    for code in CODE.get(name, ()):  # TeX-like text the posts show as code, on purpose
        assert code in text
        text = text.replace(code, "")
    assert not re.findall(r"\\[A-Za-z]+|\\\(|\\\[|alttext|annotation", text)
    drawn = sum(_curves(outputs["pdf"]))
    if POSTS[name]:
        assert drawn > 40 * POSTS[name]
    else:  # rounded corners of an embed card, no formula
        assert drawn < 40
    assert not [d for d in diags if d.code == "pdf-math-draw"]


def test_prices_stay_prices(built):
    books, _ = built
    outputs, _ = books["prices.md"]
    root = _chapter(outputs["epub"])
    assert not list(root.iter(f"{M}math"))
    shown = " ".join("".join(root.itertext()).split())
    for words in ("Lunch was $5 and dinner $10.", "The range is $5-$10", "between $ 20 and $ 30",
                  "a $3.50 coffee and $1,000 rent", "markdown escapes [1] and [of road collisions]",
                  "as does (note)."):
        assert words in shown
    flat = " ".join(pdf_text(outputs["pdf"]).split())
    assert "Lunch was $5 and dinner $10." in flat and "$3.50 coffee" in flat


@pytest.mark.parametrize("name", list(POSTS))
def test_words_kept(built, name):
    books, _ = built
    outputs, _ = books[name]
    expected = source_words(FIXTURES / name)
    for fmt, text in (("epub", epub_text(outputs["epub"])), ("pdf", pdf_text(outputs["pdf"]))):
        ratio, missing = kept_ratio(expected, text)
        assert ratio >= 0.99, (fmt, sorted(missing))


def test_wide_display_formula_noted(tmp_path):
    post = tmp_path / "wide.md"
    terms = " + ".join(f"a_{{{i}}} x^{{{i}}}" for i in range(40))
    post.write_text(f"# Wide\n\nA polynomial:\n\n$$\np(x) = {terms}\n$$\n\nDone.\n", encoding="utf-8")
    result = build(config.load(post), BuildOptions(formats=("pdf",), out_dir=tmp_path / "out",
                                                   cache_dir=tmp_path / "cache", offline=True))
    [note] = [d for d in result.diagnostics if d.code == "pdf-math-width"]
    assert note.line == 5 and "broken into" in note.message
    assert not [d for d in result.diagnostics if d.code in ("pdf-overflow", "pdf-live-area")]
