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
from dataclasses import dataclass
from functools import lru_cache
from xml.etree import ElementTree as ET

from lxml import etree

MATHML_NS = "http://www.w3.org/1998/Math/MathML"
RENDER_SIZE = 20.0  # ziamath's font size in SVG units; sizes are given to the page in em
# STIX Two Math has a smaller x-height than the body font (Noto Serif: 0.536 em against 0.473 em);
# formulas are enlarged so that their letters match the text's, as MathJax and KaTeX do on screen.
TEXT_SCALE = 1.1
MARGIN = 0.5  # SVG units around the ink, so that antialiasing is not clipped


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
    etree.strip_attributes(math, "alttext")
    math.attrib.pop("xmlns", None)
    return etree.tostring(math, encoding="unicode")


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


def draw(math: etree._Element) -> Drawing:
    """Draw one <math> element (lxml, MathML namespace or none). Raises MathDrawError."""
    display = math.get("display") == "block"
    return _draw(_for_ziamath(math), display)


def math_image(math: etree._Element, max_width_em: float | None = None) -> etree._Element:
    """An un-namespaced <img> drawing math, for WeasyPrint; alt text is the formula's TeX.

    max_width_em: the widest a display formula may be (the text column, in em); a wider one is
    scaled down to fit and marked ``data-pp-math-scaled`` with the factor.
    Raises MathDrawError.
    """
    d = draw(math)
    display = math.get("display") == "block"
    scale = 1.0
    if display and max_width_em and d.width > max_width_em:
        scale = max_width_em / d.width
    img = etree.Element("img")
    img.set("src", d.data_uri())
    img.set("alt", math.get("alttext") or "formula")
    img.set("class", "pp-math pp-math-display" if display else "pp-math")
    w, h, depth = d.width * scale, d.height * scale, d.depth * scale
    style = f"width: {w:.3f}em; height: {h:.3f}em"
    if not display:
        style += f"; vertical-align: {-depth:.3f}em"
    img.set("style", style)
    if scale < 1.0:
        img.set("data-pp-math-scaled", f"{scale:.2f}")
    return img
