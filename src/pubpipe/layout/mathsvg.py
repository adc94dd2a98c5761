"""MathML drawn as vector SVG for print, with ziamath (its own STIX Two Math font; no TeX needed).

WeasyPrint does not lay out MathML, so the print markup replaces each ``<math>`` with an ``<img>``
holding an SVG data URI, sized in ``em`` so that it scales with the text around it, and shifted down
by its depth so that its baseline sits on the line's baseline. Display formulas are centred blocks;
one wider than the text column is scaled down to fit (the caller decides, knowing the measure).

ziamath draws glyphs as paths, so a formula adds no text to the PDF (no TeX, no font to embed).
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
from dataclasses import dataclass
from typing import Protocol
from functools import lru_cache
from pathlib import Path
from xml.etree import ElementTree as ET

from lxml import etree

from .. import resources

MATHML_NS = "http://www.w3.org/1998/Math/MathML"
RENDER_SIZE = 20.0  # ziamath's font size in SVG units; sizes are given to the page in em
# STIX Two Math has a smaller x-height than the body font (Noto Serif: 0.536 em against 0.473 em);
# formulas are enlarged so that their letters match the text's, as MathJax and KaTeX do on screen.
TEXT_SCALE = 1.1
MARGIN = 0.5  # SVG units around the ink, so that antialiasing is not clipped


_LARGE_OPS = set("\u2211\u220f\u2210\u222b\u222c\u222d\u222e\u222f\u2230\u22c3\u22c2\u22c1\u22c0"
                 "\u2a00\u2a01\u2a02\u2a04\u2a06")
_ACCENTS = {"^": "\u02c6", "~": "\u02dc"}


class MathDrawError(ValueError):
    """ziamath could not draw this MathML."""


@dataclass(frozen=True)
class Drawing:
    svg: str  # a standalone SVG document
    width: float  # em of the surrounding text
    height: float  # em, whole box
    depth: float  # em below the baseline

    def data_uri(self) -> str:
        return "data:image/svg+xml;base64," + base64.b64encode(self.svg.encode()).decode("ascii")


def _for_ziamath(math: etree._Element) -> str:
    """The presentation part of a <math> element as a MathML string ziamath reads."""
    math = copy.deepcopy(math)
    for el in math.iter():
        if isinstance(el.tag, str):
            el.tag = etree.QName(el).localname
    for sem in list(math.iter("semantics")):  # ziamath knows no <semantics>: keep its first child
        first = next((c for c in sem if isinstance(c.tag, str) and c.tag != "annotation"), None)
        parent = sem.getparent()
        if first is None:
            parent.remove(sem)
        else:
            first.tail = sem.tail
            parent.replace(sem, first)
    for ann in list(math.iter("annotation", "annotation-xml")):
        ann.getparent().remove(ann)
    for bar in math.iter("mi", "mo"):
        if (bar.text or "").strip() in ("|", "\u2016", "\u2223", "\u2225") and \
                "stretchy" not in bar.attrib:
            bar.set("stretchy", "false")  # "\vert", "\mid": TeX's bars keep the letters' size
    for mo in math.iter("mo"):
        if (mo.text or "").strip() in _LARGE_OPS and "stretchy" not in mo.attrib:
            # ziamath stretches a sum or integral to the height of its row, without bound
            # (a \Big( beside one in an aligned row made it 100 em tall); TeX never does
            mo.set("stretchy", "false")
        parent = mo.getparent()
        if parent is not None and parent.tag in ("mover", "munder") and mo.text in _ACCENTS:
            # STIX draws ASCII '^' and '~' as full-size glyphs set high above the letter; the
            # spacing accents sit right on it, as TeX's \hat and \tilde do
            mo.text = _ACCENTS[mo.text]
    _flatten_rows(math)
    etree.strip_attributes(math, "alttext")
    math.attrib.pop("xmlns", None)
    return etree.tostring(math, encoding="unicode", with_tail=False)


_ROW_HOLDERS = {"math", "mrow", "mtd", "mstyle", "msqrt", "menclose", "mpadded", "mphantom"}


def _flatten_rows(math: etree._Element) -> None:
    """Drop the rows latex2mathml nests for nothing (``<msub><mi>x</mi><mrow><mi>i</mi></mrow>``).
    ziamath lays each row's children out twice (once to measure what stretchy operators must
    reach), so every needless level doubles the work below it; rows that group fences stay."""
    for row in list(math.iter("mrow")):
        parent = row.getparent()
        if parent is None:
            continue
        kids = list(row)
        if len(kids) == 1 and not (row.text or "").strip():
            kids[0].tail = row.tail
            parent.replace(row, kids[0])
        elif parent.tag in _ROW_HOLDERS and not any(
                k.tag == "mo" and (k.get("fence") == "true" or k.get("stretchy") == "true")
                for k in kids) and not (row.text or "").strip():
            i = parent.index(row)
            for k in reversed(kids):
                parent.insert(i + 1, k)
            parent.remove(row)


@lru_cache(maxsize=2048)
def _draw(mathml: str, display: bool) -> Drawing:
    import ziamath

    try:
        m = ziamath.Math(mathml, size=RENDER_SIZE, margin=MARGIN)
        svg = m.svgxml()
        bbox = m.node.bbox
    except Exception as e:  # ziamath raises many kinds of errors on MathML it cannot lay out
        raise MathDrawError(f"{type(e).__name__}: {e}") from None
    scale = TEXT_SCALE / RENDER_SIZE
    width = (bbox.xmax - bbox.xmin + 2 * MARGIN) * scale
    height = (bbox.ymax - bbox.ymin + 2 * MARGIN) * scale
    depth = (-bbox.ymin + MARGIN) * scale
    svg.attrib["width"] = f"{width:.4f}em"
    svg.attrib["height"] = f"{height:.4f}em"
    return Drawing(ET.tostring(svg, encoding="unicode"), width, height, depth)


def draw(math: etree._Element, cache: DrawingCache | None = None) -> Drawing:
    """Draw one <math> element (lxml, MathML namespace or none). Raises MathDrawError.

    cache: where drawings are kept between builds (ziamath takes 10-50 ms a formula,
    seconds for a big aligned one), keyed by the MathML and the drawing code's version."""
    display = math.get("display") == "block"
    return _cached(_for_ziamath(math), display, cache)


class DrawingCache(Protocol):
    """Where drawings are kept between builds: the asset store, whose sealed entries are
    regular files inside the cache that still have the hash written with them."""

    def read_sealed_cache_file(self, relative: str) -> bytes | None: ...

    def write_sealed_cache_file(self, relative: str, data: bytes) -> None: ...


def _cached(mathml: str, display: bool, cache: DrawingCache | None) -> Drawing:
    if cache is None:
        return _draw(mathml, display)
    key = hashlib.sha256(f"{_version()}\0{display}\0{mathml}".encode()).hexdigest()[:32]
    relative = f"math/{key}.json"
    raw = cache.read_sealed_cache_file(relative)
    try:
        if raw is not None:
            data = json.loads(raw.decode("utf-8"))
            return Drawing(str(data["svg"]), float(data["width"]), float(data["height"]),
                           float(data["depth"]))
    except (ValueError, KeyError, TypeError):
        pass
    d = _draw(mathml, display)
    cache.write_sealed_cache_file(relative, json.dumps(
        {"svg": d.svg, "width": d.width, "height": d.height, "depth": d.depth}).encode())
    return d


@lru_cache(maxsize=1)
def _version() -> str:
    """What a cached drawing depends on besides its MathML: ziamath and this module."""
    zia = resources.installed_version("ziamath")
    return f"{zia}:{hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:12]}"


@dataclass
class Placed:
    """What the print markup puts in place of one <math>, and how it had to be fitted."""

    element: etree._Element  # an <img>, or a <span> holding one <img> per line
    lines: int = 1  # a display formula broken into this many lines
    scale: float = 1.0  # and/or scaled down by this factor (1: as drawn)


# Where a display formula too wide for the measure may be broken: before a relation or a binary
# operator at its top level, as TeX's own line breaking in formulas does.
_RELATIONS = set("=<>\u2264\u2265\u2248\u2261\u223c\u2243\u2245\u221d\u2260\u2192\u21d2\u21d4\u2254")
_OPERATORS = set("+-\u2212\u00b1\u2213\u00d7\u22c5\u00b7")
_OPENERS = set("([{\u27e8\u230a\u2308")
_CLOSERS = set(")]}\u27e9\u230b\u2309")
CONTINUATION_INDENT = 2.0  # em: lines after the first are indented


def _img(d: Drawing, alt: str, display: bool, scale: float = 1.0) -> etree._Element:
    img = etree.Element("img")
    img.set("src", d.data_uri())
    img.set("alt", alt)
    img.set("class", "pp-math pp-math-display" if display else "pp-math")
    style = f"width: {d.width * scale:.3f}em; height: {d.height * scale:.3f}em"
    if not display:
        style += f"; vertical-align: {-d.depth * scale:.3f}em"
    img.set("style", style)
    return img


def _top_level(math: etree._Element) -> list[etree._Element]:
    """The children of a formula's outermost row (inside <semantics>, through single <mrow>s)."""
    row = math
    while True:
        kids = [c for c in row if isinstance(c.tag, str) and
                etree.QName(c).localname not in ("annotation", "annotation-xml")]
        if len(kids) == 1 and etree.QName(kids[0]).localname in ("semantics", "mrow", "mstyle"):
            row = kids[0]
            continue
        return kids


def _piece(children: list[etree._Element]) -> str:
    math = etree.Element("math", display="block")
    row = etree.SubElement(math, "mrow")
    for c in children:
        c = copy.deepcopy(c)
        c.tail = None
        row.append(c)
    return _for_ziamath(math)


def _break_points(children: list[etree._Element]) -> list[int]:
    """Indexes of top-level children before which a line may break: relations and operators
    outside brackets (latex2mathml leaves "(", ")" as loose siblings), else any of them."""
    points, outside, depth = [], [], 0
    for k, c in enumerate(children):
        text = (c.text or "").strip() if etree.QName(c).localname == "mo" else ""
        if text in _OPENERS:
            depth += 1
        elif text in _CLOSERS:
            depth = max(0, depth - 1)
        elif k and text and set(text) <= (_RELATIONS | _OPERATORS):
            points.append(k)
            if depth == 0:
                outside.append(k)
    return outside or points


def _broken(math: etree._Element, max_width_em: float,
            cache: DrawingCache | None = None) -> list[Drawing] | None:
    """The formula as lines that fit max_width_em (continuation lines indented), or None."""
    children = _top_level(math)
    points = _break_points(children)
    if not points:
        return None
    lines, start = [], 0
    while start < len(children):
        room = max_width_em - (CONTINUATION_INDENT if lines else 0)
        best = None
        for k in [p for p in points if p > start] + [len(children)]:
            d = _cached(_piece(children[start:k]), True, cache)
            if d.width <= room:
                best = (k, d)
            else:
                break
        if best is None:  # not even the shortest piece fits: the caller scales it
            k = next((p for p in points if p > start), len(children))
            best = (k, _cached(_piece(children[start:k]), True, cache))
        lines.append(best[1])
        start = best[0]
    return lines if len(lines) > 1 else None


def place(math: etree._Element, max_width_em: float | None = None,
          cache: DrawingCache | None = None) -> Placed:
    """The print form of one <math> (lxml): an <img> drawing it, alt text its TeX.

    max_width_em: the measure, in em of the text. A display formula wider than that is broken
    before a top-level relation or operator into lines that fit; a piece that still does not fit
    (or a formula with no place to break, or an inline formula longer than a line) is scaled
    down. Raises MathDrawError.
    """
    d = draw(math, cache)
    display = math.get("display") == "block"
    alt = math.get("alttext") or "formula"
    if not max_width_em or d.width <= max_width_em:
        return Placed(_img(d, alt, display))
    if not display:  # an inline formula longer than a whole line: only scaling can help
        scale = max_width_em / d.width
        return Placed(_img(d, alt, False, scale), 1, scale)
    lines = _broken(math, max_width_em, cache)
    if lines is None:
        scale = max_width_em / d.width
        return Placed(_img(d, alt, True, scale), 1, scale)
    box = etree.Element("span")
    box.set("class", "pp-math-lines")
    box.set("role", "img")
    box.set("aria-label", alt)
    smallest = 1.0
    for i, line in enumerate(lines):
        room = max_width_em - (CONTINUATION_INDENT if i else 0)
        scale = min(1.0, room / line.width)
        smallest = min(smallest, scale)
        img = _img(line, alt if i == 0 else "", True, scale)
        img.set("class", "pp-math pp-math-line")
        if i:
            img.set("style", img.get("style") + f"; margin-left: {CONTINUATION_INDENT}em")
        box.append(img)
    return Placed(box, len(lines), smallest)


def math_image(math: etree._Element, max_width_em: float | None = None) -> etree._Element:
    """place(), the element only."""
    return place(math, max_width_em).element


@dataclass
class Note:
    """A formula the print markup had to fit or could not draw, for the preflight."""

    line: int | None
    alttext: str
    lines: int = 1
    scale: float = 1.0
    error: str = ""


# Containers that indent their content (list items, quotes…): each takes about this much of the
# measure from a formula inside it.
_INDENTING = {"li", "blockquote", "dd", "aside", "figure", "details"}
INDENT_EM = 2.0


def place_all(body: etree._Element, measure_em: float, cache: DrawingCache | None = None) -> list[Note]:
    """Replace every <math> in an (un-namespaced HTML) tree by its drawing, fitted to the measure
    (less the indentation of lists and quotes around it). A formula ziamath cannot draw is shown
    as its TeX in code style. Returns a note for each formula that was broken, scaled or not drawn.
    """
    notes: list[Note] = []
    for math in list(body.iter(f"{{{MATHML_NS}}}math", "math")):
        if any(a.tag in ("math", f"{{{MATHML_NS}}}math") for a in math.iterancestors()):
            continue
        ancestors = [a.tag for a in math.iterancestors()]
        in_table = any(t in ("td", "th") for t in ancestors)
        room = None if in_table else max(8.0, measure_em - INDENT_EM * sum(
            t in _INDENTING for t in ancestors))
        alt = " ".join((math.get("alttext") or "").split())
        try:
            placed = place(math, room, cache)
        except MathDrawError as e:
            code = etree.Element("code")
            code.set("class", "pp-math-tex" + (" pp-math-display" if math.get("display") ==
                                                "block" else ""))
            code.text = alt or " ".join("".join(math.itertext()).split())
            placed = Placed(code)
            notes.append(Note(math.sourceline, alt, error=str(e)))
        else:
            if placed.lines > 1 or placed.scale < 1:
                notes.append(Note(math.sourceline, alt, placed.lines, placed.scale))
        placed.element.tail = math.tail
        math.getparent().replace(math, placed.element)
    return notes
