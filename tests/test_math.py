"""Mathematics: recognition in the Markdown source, TeX to MathML, MathML drawn as SVG for print."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from pubpipe.document import Book, BookMeta, Diagnostics
from pubpipe.readers import math as reader
from pubpipe.readers import read_chapter
from pubpipe.transforms import math as transform

M = f"{{{transform.MATHML_NS}}}"


def found(text: str, dollars: bool = False) -> list[tuple[str, str]]:
    _, formulas = reader.protect(text, dollars=dollars)
    return [("display" if f.display else "inline", f.tex) for f in formulas]


# -- recognition ----------------------------------------------------------------------------------

@pytest.mark.parametrize("text,expected", [
    # kramdown: "\\(" in the source is what the page shows as "\(" for MathJax
    (r"gradient \\( \nabla_{W} \log p \\) here", [("inline", r"\nabla_{W} \log p")]),
    (r"\\[ x^2 \\]", [("display", "x^2")]),
    # $$ inside a sentence is inline (kramdown's rule), on its own lines it is display
    (r"so $$P(x)={5\choose3}$$, which", [("inline", r"P(x)={5\choose3}")]),
    ("text\n\n$$\n\\sum_i x_i\n$$\n\nmore", [("display", r"\sum_i x_i")]),
    ("$$a_1 + b_2$$", [("display", "a_1 + b_2")]),
    # one backslash: math only when it holds TeX; otherwise a Markdown escape
    (r"\(\hat\beta = 1\) and \[ \sigma^2 \]", [("inline", r"\hat\beta = 1"), ("display", r"\sigma^2")]),
    (r"cite \[1\] and \[of road collisions\] and \(note\)", []),
    (r"letter \(x\) alone", [("inline", "x")]),
    # environments without delimiters, as MathJax typesets them
    ("\\begin{align}\na &= b \\\\\nc &= d\n\\end{align}",
     [("display", "\\begin{align}\na &= b \\\\\nc &= d\n\\end{align}")]),
    # fences
    ("```math\n\\int_0^1 f\n```\n", [("display", r"\int_0^1 f")]),
    ("~~~math\nE = mc^2\n~~~\n", [("display", "E = mc^2")]),
    # a blockquote's markers are not part of the formula
    ("> $$\n> a = b\n> $$\n", [("display", "a = b")]),
])
def test_recognized(text, expected):
    assert found(text) == expected


@pytest.mark.parametrize("text", [
    "`$$x$$` and `\\\\(y\\\\)` in code",
    "```\n$$x$$\n```\n",
    "```python\nprint('$$', r'\\\\(x\\\\)')\n```\n",
    "<pre>$$x$$</pre>",
    "<code>$$x$$</code>",
    "<!-- $$x$$ -->",
    "<script>var a = '$$x$$';</script>",
    "``code with ` and $$x$$``",
])
def test_never_inside_code(text):
    assert found(text, dollars=True) == []


@pytest.mark.parametrize("text,expected", [
    ("$x$ and $y_1$", ["x", "y_1"]),
    ("Lunch was $5 and dinner $10.", []),  # a space before the second $: no formula
    ("from $5-$10 a day", []),  # a digit right after the closing $: no formula
    ("$ 20 and $ 30", []),  # a space after the opening $: no formula
    ("costs $3.50, I paid $4", []),
    (r"a dollar \$ sign and $a+b$", ["a+b"]),
    ("$x$5", []),
    ("$$", []),
    ("$a\n\nb$", []),  # never across paragraphs
    # a code span's '$' closes no formula opened before it
    ("and $2.50 per beer; a prompt looks like `$ ls`.", []),
    ("Use $$ for the PID, as in `echo $$`", []),
])
def test_single_dollar_rules(text, expected):
    assert [t for _, t in found(text, dollars=True)] == expected


def test_code_span_after_a_price_stays_code():
    out, formulas = reader.protect("$2.50 a beer; a prompt is `$ ls`.", dollars=True)
    assert formulas == [] and "`$ ls`" in out


@pytest.mark.parametrize("dollars", [False, True])
def test_github_inline_math(dollars):
    assert found("GitHub: $`a^2+b_1^2=c^2`$ and $``x`y``$, `$`", dollars) == [
        ("inline", "a^2+b_1^2=c^2"), ("inline", "x`y")]


def test_single_dollar_off_unless_enabled():
    assert found("$x$ and $y$") == []
    out, _ = reader.protect(r"costs \$5", dollars=False)
    assert out == "costs $5"  # the escape shows a dollar, as in a browser


def test_placeholders_survive_markdown_and_come_back(tmp_path):
    post = tmp_path / "p.md"
    post.write_text("---\ntitle: T\nmath: true\n---\n\n"
                    "# Heading with $\\alpha_1$\n\n"
                    "A *b* $a_1 * b_2 * c_3$ and `$x$`.\n\n"
                    "| a | b |\n| --- | --- |\n| $|x|$ | y |\n\n"
                    "<p title=\"$t$\">raw $r$</p>\n\n"
                    "    $indented$\n", encoding="utf-8")
    ch = read_chapter(post, Diagnostics())
    maths = [(el.get("data-pp-math"), el.text, el.sourceline)
             for el in ch.body.iter("code") if el.get("data-pp-math")]
    assert maths == [("inline", r"\alpha_1", 6), ("inline", "a_1 * b_2 * c_3", 8),
                     ("inline", "|x|", 12), ("inline", "r", 14)]
    assert not ch.body.findall(".//em/code")  # the underscores made no emphasis
    assert [c.text for c in ch.body.iter("code") if not c.get("data-pp-math")] == [
        "$x$", "$indented$\n"]
    assert ch.body.find(".//p[@title]").get("title") == "$t$"
    html = etree.tostring(ch.body, encoding="unicode")
    assert reader.OPEN not in html and reader.CLOSE not in html


@pytest.mark.parametrize("meta,body,on", [
    ({"math": True}, "", True),
    ({"katex": "true"}, "", True),
    ({"mathjax": True}, "", True),
    ({"extra": {"katex": True}}, "", True),
    ({"math": False}, "", False),
    ({}, '<script src="https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-mml-chtml.js"></script>', True),
    ({}, "no script here", False),
])
def test_enabled_by_post(meta, body, on):
    assert reader.enabled_by_post(meta, body) is on


def test_site_config_turns_math_on_and_gives_macros(tmp_path):
    (tmp_path / "layouts" / "partials").mkdir(parents=True)
    (tmp_path / "layouts" / "partials" / "math.html").write_text(
        """<script>renderMathInElement(document.body, {macros: {"\\\\RR": "\\\\mathbb{R}",
        'NN': '\\\\mathbb{N}'}});</script>""", encoding="utf-8")
    (tmp_path / "hugo.toml").write_text(
        '[params.math]\nenable = true\n[params.math.macros]\n"\\\\ZZ" = "\\\\mathbb{Z}"\n',
        encoding="utf-8")
    site = reader.site_math(tmp_path)
    assert site.loads_math
    assert site.macros == {"\\ZZ": "\\mathbb{Z}", "\\RR": "\\mathbb{R}", "\\NN": "\\mathbb{N}"}
    plain = tmp_path / "plain"
    plain.mkdir()
    assert not reader.site_math(plain).loads_math


# -- TeX to MathML -----------------------------------------------------------------------------

def test_mathml_with_tex_alternative():
    m = transform.tex_to_mathml(r"\nabla_{W} \log p(y=UP \mid x)", display=False)
    assert m.tag == f"{M}math" and m.get("display") == "inline"
    assert m.get("alttext") == r"\nabla_{W} \log p(y=UP \mid x)"
    ann = m.find(f"{M}semantics/{M}annotation")
    assert ann.get("encoding") == "application/x-tex" and ann.text == m.get("alttext")
    text = "".join(m.find(f"{M}semantics")[0].itertext())
    assert "\u2207" in text and "log" in text and "\\" not in text


def test_href_and_unknown_attributes_are_dropped():
    m = transform.tex_to_mathml(r"\href{javascript:alert(1)}{x}", display=False)
    shown = m.find(f"{M}semantics")[0]
    assert "href" not in etree.tostring(shown, encoding="unicode")


@pytest.mark.parametrize("tex,reason", [
    (r"\foo{x}", r"unknown command \foo"),
    (r"\frac{1}{", "unbalanced braces"),
    (r"x}", "unbalanced braces"),
    (r"\frac{1}", "missing its argument"),
    (r"x^", "syntax error"),
    (r"\begin{align} a \end{gather}", r"\begin and \end"),
])
def test_unconvertible(tex, reason):
    with pytest.raises(transform.TexError, match=None) as e:
        transform.tex_to_mathml(tex, display=False)
    assert reason in str(e.value)


def test_macros_expand():
    macros = transform.Macros.from_mapping({"\\RR": "\\mathbb{R}"})
    rest = transform.take_definitions(
        r"\newcommand{\norm}[1]{\left\lVert #1 \right\rVert}"
        r"\DeclareMathOperator*{\argmax}{arg\,max}\def\pair#1#2{(#1, #2)}"
        r"\newcommand\half[1][1]{\frac{#1}{2}}", macros)
    assert not rest.strip()
    assert " ".join(transform.expand(r"\norm{x} \in \RR^n", macros).split()) == \
        r"\left\lVert x \right\rVert \in \mathbb{R}^n"
    assert transform.expand(r"\pair{a}{b}", macros) == "(a, b)"
    assert transform.expand(r"\half + \half[3]", macros) == r"\frac{1}{2} + \frac{3}{2}"
    assert transform.expand(r"\RR x", macros) == r"\mathbb{R} x"
    eps = transform.Macros.from_mapping({"\\e": "\\epsilon"})
    assert transform.expand(r"\e_1+\e{}x", eps) == r"\epsilon _1+\epsilon {}x"
    m = transform.tex_to_mathml(r"\argmax_x f(x)", display=True, macros=macros)
    assert "arg\u2009max" in "".join(m.itertext())
    loop = transform.Macros.from_mapping({"\\a": "\\a\\a"})
    with pytest.raises(transform.TexError, match="does not end"):
        transform.expand(r"\a", loop)


def _chapter(tmp_path: Path, text: str):
    post = tmp_path / "post.md"
    post.write_text(text, encoding="utf-8")
    ch = read_chapter(post, Diagnostics())
    return ch, Book(meta=BookMeta(), root=tmp_path, chapters=[ch])


def test_chapter_macros_failures_and_definitions(tmp_path):
    ch, book = _chapter(tmp_path, "---\ntitle: T\nmath: true\n---\n\n"
                        "Use $\\R^n$ before the definition.\n\n"
                        "$$\\newcommand{\\R}{\\mathbb{R}}$$\n\n"
                        "Then $\\foo{x}$ and $\\ZZ$.\n")
    transform.run(book, {"\\ZZ": "\\mathbb{Z}"})
    maths = list(ch.body.iter(f"{M}math"))
    assert [m.get("alttext") for m in maths] == [r"\R^n", r"\ZZ"]
    assert "\u211d" in "".join(maths[0].itertext()) and "\u2124" in "".join(maths[1].itertext())
    assert "newcommand" not in etree.tostring(ch.body, encoding="unicode")  # shows nothing
    kept = [c for c in ch.body.iter("code")]
    assert [(c.text, c.get("class")) for c in kept] == [(r"\foo{x}", "pp-math-tex")]
    [d] = book.diagnostics
    assert d.code == "math-unconverted" and d.line == 10 and d.file == tmp_path / "post.md"
    assert r"\foo" in d.message


# -- MathML to SVG -----------------------------------------------------------------------------

def test_svg_drawing_sizes_and_baseline():
    from pubpipe.layout import mathsvg

    inline = transform.tex_to_mathml(r"a_1 + b^2", display=False)
    d = mathsvg.draw(inline)
    assert d.svg.startswith("<svg") and "<path" in d.svg and "\\" not in d.svg
    assert 1.5 < d.width < 4 and 0.8 < d.height < 2 and 0.1 < d.depth < 0.6
    img = mathsvg.math_image(inline)
    assert img.tag == "img" and img.get("alt") == "a_1 + b^2"
    assert "vertical-align: -" in img.get("style") and img.get("src").startswith(
        "data:image/svg+xml;base64,")
    tall = mathsvg.draw(transform.tex_to_mathml(r"\frac{a}{b}", display=False))
    assert tall.depth > d.depth and tall.height > d.height  # fractions go below the baseline

    # too wide for the measure: broken before top-level operators, every line within it
    wide = transform.tex_to_mathml("f(x) = " + " + ".join(f"a_{{{i}}} x^{{{i}}}" for i in range(30)),
                                   display=True)
    placed = mathsvg.place(wide, max_width_em=20)
    assert placed.lines > 2 and placed.scale == 1.0
    imgs = placed.element.findall("img")
    assert len(imgs) == placed.lines and placed.element.get("aria-label").startswith("f(x) =")
    widths = [float(i.get("style").split("width: ")[1].split("em")[0]) for i in imgs]
    assert max(widths[0], *[w + mathsvg.CONTINUATION_INDENT for w in widths[1:]]) <= 20.001
    assert all("vertical-align" not in i.get("style") for i in imgs)
    # nowhere to break: scaled down to the measure
    solid = transform.tex_to_mathml("".join(f"a_{{{i}}}" for i in range(40)), display=True)
    placed = mathsvg.place(solid, max_width_em=20)
    assert placed.lines == 1 and placed.scale < 1
    assert float(placed.element.get("style").split("width: ")[1].split("em")[0]) <= 20.001
    assert mathsvg.place(inline, max_width_em=30).scale == 1.0
    assert mathsvg.place(inline, max_width_em=1.0).scale < 1.0  # longer than a line: scaled


def test_place_all_fits_each_formula_to_its_room():
    from pubpipe.layout import mathsvg

    body = etree.fromstring("<div><p>a</p><ul><li>x</li></ul></div>")
    wide = "f(x) = " + " + ".join(f"a_{{{i}}} x^{{{i}}}" for i in range(14))
    top = transform.tex_to_mathml(wide, display=True)
    top.sourceline = 7
    body[0].append(top)
    nested = transform.tex_to_mathml(wide, display=True)
    body[1][0].append(nested)
    notes = mathsvg.place_all(body, measure_em=30)
    assert not list(body.iter(f"{M}math"))
    assert [n.line for n in notes][:1] == [7] and all(n.lines > 1 for n in notes)
    # inside a list item there is less room: more lines
    assert notes[1].lines >= notes[0].lines and len(notes) == 2


def test_given_mathml_is_drawn_too():
    from pubpipe.layout import mathsvg

    given = etree.fromstring('<math xmlns="http://www.w3.org/1998/Math/MathML"><mi>E</mi><mo>=</mo>'
                             '<mi>m</mi><msup><mi>c</mi><mn>2</mn></msup></math>')
    assert mathsvg.draw(given).width > 1


def test_markdown_escapes_inside_formulas():
    # kramdown posts escape underscores inside "\\(": the page (and MathJax) sees them unescaped
    assert found(r"\\( \sum\_i \log p(y\_i \mid x\_i) \\) and \\(\\{a\\}\\)") == [
        ("inline", r"\sum_i \log p(y_i \mid x_i)"), ("inline", r"\{a\}")]
    # $$ is kramdown's own syntax: its TeX is raw ("\\" is a row break), bar escaped underscores
    assert found("$$\n\\begin{align} a &= b \\\\ c\\_1 &= d \\end{align}\n$$") == [
        ("display", "\\begin{align} a &= b \\\\ c_1 &= d \\end{align}")]


FIXTURES = Path(__file__).parent / "fixtures" / "math"


def test_every_construct_converts_and_draws(tmp_path):
    """Each kind of TeX blogs use becomes MathML (EPUBCheck-valid: see test_math_build) and SVG."""
    from pubpipe.layout import mathsvg

    ch = read_chapter(FIXTURES / "constructs.md", Diagnostics())
    book = Book(meta=BookMeta(), root=FIXTURES, chapters=[ch])
    transform.run(book)
    assert not book.diagnostics, [d.format() for d in book.diagnostics]
    maths = list(ch.body.iter(f"{M}math"))
    assert len(maths) == 24
    for m in maths:
        tokens = [el for el in m.iter() if etree.QName(el).localname in ("mi", "mo", "mn", "mtext")]
        assert all(not len(t) for t in tokens)  # token elements hold text only
        assert not any("\\" in (t.text or "") for t in tokens)
        d = mathsvg.draw(m)
        assert d.width > 0.5 and "<path" in d.svg


def test_formula_with_text_after_it_is_drawn():
    from pubpipe.layout import mathsvg

    p = etree.fromstring("<p>before </p>")
    m = transform.tex_to_mathml(r"\hat{\beta}", display=False)
    m.tail = " and after"
    p.append(m)
    assert not mathsvg.place_all(p, 30)
    assert p[0].tag == "img" and p[0].tail == " and after"


def _book(tmp_path: Path, toml: str, post: str, extra: dict[str, str] | None = None):
    from pubpipe import config

    (tmp_path / "book.toml").write_text(toml, encoding="utf-8")
    (tmp_path / "post.md").write_text(post, encoding="utf-8")
    for name, text in (extra or {}).items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    return config.load(tmp_path)


def test_book_toml_math_table(tmp_path):
    from pubpipe.errors import ConfigError
    from pubpipe.readers import read_book

    cfg = _book(tmp_path, '[math]\ndollars = true\nmacros = { "\\\\RR" = "\\\\mathbb{R}" }\n',
                "# T\n\nA vector $v \\in \\RR^n$ costs $5.\n")
    assert cfg.math.dollars is True and cfg.math.macros == {"\\RR": "\\mathbb{R}"}
    book = read_book(cfg)
    transform.run(book, cfg.math.macros)
    [m] = book.chapters[0].body.iter(f"{M}math")
    assert "\u211d" in "".join(m.itertext()) and "costs $5." in "".join(
        book.chapters[0].body.itertext())
    for bad in ('[math]\ndollars = "yes"\n', '[math]\nmacros = ["\\\\RR"]\n',
                '[math]\nmacros = { "R R" = "x" }\n', '[math]\ncolour = 1\n'):
        with pytest.raises(ConfigError, match=r"\[math\]"):
            _book(tmp_path, bad, "# T\n")


def test_site_in_book_folder_turns_dollars_on(tmp_path):
    from pubpipe.readers import read_book

    post = "# T\n\nInline $x^2$ here.\n"
    book = read_book(_book(tmp_path, "", post))
    assert not list(book.chapters[0].body.iter("code"))  # no site, no front matter: text
    book = read_book(_book(tmp_path, "", post, {"hugo.toml": "[params]\nmath = true\n"}))
    assert [c.text for c in book.chapters[0].body.iter("code")] == ["x^2"]
    book = read_book(_book(tmp_path, "[math]\ndollars = false\n", post))
    assert not list(book.chapters[0].body.iter("code"))  # book.toml has the last word


def test_kramdown_math_block_may_hold_blank_lines():
    text = "$$\n\\begin{aligned}\na &= b \\\\\n\nc &= d\n\\end{aligned}\n$$\n\nThen $$x$$ and\n$$y$$ inline."
    assert found(text) == [("display", "\\begin{aligned}\na &= b \\\\\n\nc &= d\n\\end{aligned}"),
                           ("inline", "x"), ("inline", "y")]
    assert found("Shell: $$ is the PID.\n\nLater $$ again.") == []


def test_colours_become_valid_mathml_colours():
    m = transform.tex_to_mathml(r"\color{darkred}{x} + \textcolor{orange}{y} + \color{nosuch}{z}",
                                display=False)
    colours = [el.get("mathcolor") for el in m.iter() if el.get("mathcolor")]
    assert colours[0] == "#8b0000"  # dark enough already
    assert len(colours) == 2 and colours[1] != "#ffa500"  # orange darkened, still orange
    r, g, b = (int(colours[1][i:i + 2], 16) for i in (1, 3, 5))
    assert r > g > b == 0 and transform._contrast_on_white((r, g, b)) >= 4.5


def test_sums_keep_their_size_in_aligned_rows():
    from pubpipe.layout import mathsvg

    tex = (r"\begin{aligned} & \nabla V(s) \\ =& \sum_a \Big( \pi(a) + "
           r"\color{red}{\nabla \sum_{s', r} P(s',r \vert s,a)(r + V(s'))} \Big) & "
           r"\scriptstyle{\text{; Extend } Q \text{ with future state value.}} \\ \end{aligned}")
    d = mathsvg.draw(transform.tex_to_mathml(tex, display=True))
    assert d.height < 6  # two rows, not a sum stretched to 100 em


def test_mathjax_script_tags_are_math(tmp_path):
    ch, book = _chapter(tmp_path, "# T\n\nInline <script type=\"math/tex\">x_1^2</script> and\n\n"
                        "<script type=\"math/tex; mode=display\">\\sum_i a_i</script>\n\n"
                        "<script>alert('$$x$$')</script>\n")
    transform.run(book)
    maths = list(ch.body.iter(f"{M}math"))
    assert [(m.get("display"), m.get("alttext")) for m in maths] == [
        ("inline", "x_1^2"), ("block", r"\sum_i a_i")]


def test_drawings_are_cached_between_builds(tmp_path):
    """Drawings are kept in the store's cache as sealed entries: read back when intact; an
    edited, broken or linked entry is never trusted (drawn anew, and the damage reported)."""
    from pubpipe.assets.store import AssetStore
    from pubpipe.config import AssetsSection
    from pubpipe.document import Diagnostics
    from pubpipe.layout import mathsvg

    diags = Diagnostics()
    store = AssetStore(tmp_path, tmp_path / "cache", AssetsSection(), offline=True,
                       diagnostics=diags, progress=None)
    m = transform.tex_to_mathml(r"\int_0^1 x^2\,dx", display=True)
    first = mathsvg.draw(m, store)
    [stored] = list((tmp_path / "cache" / "math").glob("*.json"))
    mathsvg._draw.cache_clear()
    calls = []
    real = mathsvg._draw
    mathsvg._draw = lambda *a: calls.append(a) or real(*a)
    try:
        assert mathsvg.draw(m, store).width == first.width and not calls  # read back
        stored.write_text(stored.read_text().replace(f'"width": {first.width}', '"width": 123'))
        assert mathsvg.draw(m, store).width == first.width and len(calls) == 1  # not trusted
        assert any(d.code == "cache-damaged" for d in diags)
        stored.write_text("not json")
        assert mathsvg.draw(m, store).width == first.width and len(calls) == 2
        secret = tmp_path / "secret.json"
        secret.write_text('{"svg": "<svg>TOPSECRET</svg>", "width": 1, "height": 1, "depth": 0}')
        stored.unlink()
        stored.symlink_to(secret)
        d = mathsvg.draw(m, store)
        assert "TOPSECRET" not in d.svg and len(calls) == 3 and not stored.is_symlink()
    finally:
        mathsvg._draw = real


def test_wide_formula_breaks_outside_brackets():
    from pubpipe.layout import mathsvg

    m = transform.tex_to_mathml(r"J(\theta) = \mathbb{E}[\min(r(\theta) A, \operatorname{clip}"
                                r"(r(\theta), 1 - \epsilon, 1 + \epsilon) A)] + c_1 L + c_2 H",
                                display=True)
    kids = mathsvg._top_level(m)
    points = mathsvg._break_points(kids)
    texts = [(kids[k].text or "").strip() for k in points]
    assert texts == ["=", "+", "+"]  # not the "-" and "+" inside clip( … )



def test_given_mathml_gets_a_text_alternative(tmp_path):
    from pubpipe.transforms import sanitize
    ch, book = _chapter(tmp_path, "# Given\n\nSum <math><mi>x</mi><mo>+</mo><mn>1</mn></math>, "
                        '<math alttext="y squared"><msup><mi>y</mi><mn>2</mn></msup></math>, and '
                        '<math><semantics><mi>z</mi><annotation encoding="application/x-tex">'
                        "\\zeta</annotation></semantics></math>.\n")
    sanitize.sanitize_chapter(ch)
    transform.run(book)
    alts = [m.get("alttext") for m in ch.body.iter(f"{M}math")]
    assert alts == ["x+1", "y squared", "\\zeta"]
