"""SVG sanitizing: an SVG enters a book only without anything active, external or unbounded in it.

Parsed with defusedxml, so a DTD, entity declarations or external entities refuse the file
outright (they are how XML bombs and file disclosure work). Then:

* **Bounded**: more than ``MAX_ELEMENTS`` elements, nesting deeper than ``MAX_DEPTH``, or ``<use>``
  references that would expand to more than ``MAX_EXPANDED`` elements (a "use bomb": a few
  hundred bytes that make a renderer draw billions of shapes) refuse the file, as do ``<use>``
  cycles. A refused SVG reaches no output, so no reader is handed it either.
* **Allowlist of elements**: only drawing, text, paint-server, filter, structure and animation
  elements of the SVG namespace stay; everything else (``script``, ``foreignObject``, ``iframe``,
  elements of other namespaces...) is removed with its content. ``<a>`` becomes ``<g>``.
* **Attributes**: ``on*`` handlers go; ``href``/``xlink:href``/``src`` must point inside the
  document (``#id``) or at an inline raster ``data:`` image; attributes of foreign namespaces go.
* **CSS** (``<style>``, ``style=`` and every attribute value, since presentation attributes are
  CSS too) is read after undoing CSS escapes and comments (``u\\72l(``, ``\\75 rl(``, ``u/**/rl``),
  and written back in that plain form: ``@import``/``@font-face`` rules go, and ``url()``,
  ``image-set()``, ``src()`` and the like that do not point at ``#id`` become ``none``.
* **Animation**: ``set``/``animate*`` that change a reference (``href``, ``src``), an event
  handler or ``style`` are removed (a link or a remote image swapped in after the check).

What was removed is returned, so the author can be told.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import defusedxml.ElementTree as DET
from defusedxml import DefusedXmlException
from xml.etree import ElementTree as ET

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
XML_NS = "http://www.w3.org/XML/1998/namespace"

MAX_ELEMENTS = 50_000  # a detailed map or chart has a few thousand
MAX_DEPTH = 100
MAX_EXPANDED = 200_000  # elements after every <use> is expanded

_FE = ("feBlend feColorMatrix feComponentTransfer feComposite feConvolveMatrix"
       " feDiffuseLighting feDisplacementMap feDistantLight feDropShadow feFlood feFuncA feFuncB"
       " feFuncG feFuncR feGaussianBlur feImage feMerge feMergeNode feMorphology feOffset"
       " fePointLight feSpecularLighting feSpotLight feTile feTurbulence").split()
ALLOWED = set(("svg g defs desc title metadata symbol use image switch view style"
               " path rect circle ellipse line polyline polygon"
               " text tspan textPath tref altGlyph altGlyphDef altGlyphItem glyphRef"
               " clipPath mask pattern marker linearGradient radialGradient stop solidcolor"
               " filter font font-face font-face-src font-face-name glyph missing-glyph hkern vkern"
               " a animate animateTransform animateMotion animateColor set mpath").split() + _FE)
ANIMATIONS = {"set", "animate", "animateTransform", "animateMotion", "animateColor"}
_SAFE_DATA = re.compile(r"^data:image/(png|jpeg|gif|webp);", re.I)
# CSS functions that load something; only a same-document '#id' is kept.
_LOADING = re.compile(r"(?<![\w-])(url|src|image-set|-webkit-image-set|image|cross-fade|element)"
                      r"\(\s*(['\"]?)(.*?)\2\s*\)", re.I | re.S)
_AT_RULES = re.compile(r"@(import|font-face|namespace)\b[^;{]*(;|\{[^}]*\}?)?", re.I)
_ESCAPE = re.compile(r"\\(?:([0-9a-fA-F]{1,6})[ \t\r\n\f]?|(.))", re.S)
_COMMENT = re.compile(r"/\*.*?(\*/|$)", re.S)
_ACTIVE_CSS = re.compile(r"expression\s*\(|-moz-binding|behavior\s*:|javascript:", re.I)


class SvgRefused(Exception):
    """The SVG cannot be made safe (reason in str(e))."""


@dataclass
class CleanSvg:
    data: bytes
    width: int
    height: int
    removed: list[str] = field(default_factory=list)  # what was taken out, for a diagnostic


def sanitize(data: bytes, max_bytes: int = 10 * 1024 * 1024) -> CleanSvg:
    if len(data) > max_bytes:
        raise SvgRefused(f"SVG too large ({len(data)} bytes)")
    try:
        root = DET.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as e:
        raise SvgRefused(f"SVG with a DTD or entities refused ({type(e).__name__})") from None
    except ET.ParseError as e:
        raise SvgRefused(f"not well-formed SVG ({e})") from None
    except RecursionError:
        raise SvgRefused(f"SVG refused: nested deeper than {MAX_DEPTH} levels") from None
    if _local(root.tag) != "svg" or _ns(root.tag) != SVG_NS:
        raise SvgRefused("not an SVG document (root is not <svg> in the SVG namespace)")
    _check_bounds(root)
    removed: list[str] = []
    _clean(root, removed)
    width, height = _size(root)
    ET.register_namespace("", SVG_NS)
    ET.register_namespace("xlink", XLINK_NS)
    out = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return CleanSvg(out, width, height, sorted(set(removed)))


def _local(tag) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _ns(tag) -> str:
    return tag[1:].split("}", 1)[0] if isinstance(tag, str) and tag.startswith("{") else ""


def _href(el: ET.Element) -> str:
    return (el.get(f"{{{XLINK_NS}}}href") or el.get("href") or "").strip()


def _check_bounds(root: ET.Element) -> None:
    """Refuse an SVG too big, too deep, or whose <use> references expand past the limit."""
    count = 0
    ids: dict[str, ET.Element] = {}
    stack = [(root, 1)]
    while stack:
        el, depth = stack.pop()
        count += 1
        if count > MAX_ELEMENTS:
            raise SvgRefused(f"SVG refused: more than {MAX_ELEMENTS} elements")
        if depth > MAX_DEPTH:
            raise SvgRefused(f"SVG refused: nested deeper than {MAX_DEPTH} levels")
        if el.get("id"):
            ids.setdefault(el.get("id"), el)
        stack.extend((child, depth + 1) for child in el)

    sizes: dict[int, int] = {}
    visiting: set[int] = set()

    def expanded(el: ET.Element) -> int:
        # Elements drawn for el, every <use> replaced by what it refers to (memoized: each
        # element is computed once, so this is linear in the file).
        key = id(el)
        if key in sizes:
            return sizes[key]
        if key in visiting:
            raise SvgRefused("SVG refused: a <use> refers to itself (a reference cycle)")
        visiting.add(key)
        total = 1
        for child in el:
            total += expanded(child)
        if _local(el.tag) == "use":
            target = ids.get(_href(el)[1:]) if _href(el).startswith("#") else None
            if target is not None:
                total += expanded(target)
        total = min(total, MAX_EXPANDED + 1)
        visiting.discard(key)
        sizes[key] = total
        return total

    try:
        total = expanded(root)
    except RecursionError:
        raise SvgRefused("SVG refused: <use> references nested too deeply") from None
    if total > MAX_EXPANDED:
        raise SvgRefused(f"SVG refused: its <use> references expand to more than {MAX_EXPANDED}"
                         " elements (a 'use bomb')")


def _clean(root: ET.Element, removed: list[str]) -> None:
    stack = [root]
    while stack:
        el = stack.pop()
        for child in list(el):
            if not isinstance(child.tag, str):  # comments, processing instructions
                el.remove(child)
                continue
            name = _local(child.tag)
            if name not in ALLOWED or _ns(child.tag) != SVG_NS:
                removed.append(f"<{name}>")
                el.remove(child)
                continue
            if name in ANIMATIONS and _animates_reference(child):
                removed.append(f"<{name}> of a link")  # animating href is a known script vector
                el.remove(child)
                continue
            if name == "a":
                child.tag = f"{{{SVG_NS}}}g"  # keep the drawing, drop the link
                removed.append("links")
            if name == "style":
                css = "".join(child.itertext())
                cleaned = clean_css(css)
                if cleaned != plain_css(css):
                    removed.append("external CSS")
                for sub in list(child):
                    child.remove(sub)
                child.text = cleaned
            stack.append(child)
        _clean_attributes(el, removed)


def _animates_reference(el: ET.Element) -> bool:
    name = plain_css(el.get("attributeName") or "").strip()
    local = name.rsplit(":", 1)[-1].lower()
    return local in ("href", "src", "style") or local.startswith("on")


def _clean_attributes(el: ET.Element, removed: list[str]) -> None:
    for attr in list(el.attrib):
        ns = _ns(attr)
        local = _local(attr) if attr.startswith("{") else attr
        value = el.attrib[attr]
        if ns not in ("", XLINK_NS, XML_NS):
            del el.attrib[attr]  # editor metadata (inkscape:, sodipodi:) and anything unknown
            continue
        if local.lower().startswith("on"):
            removed.append("event handlers")
            del el.attrib[attr]
        elif local in ("href", "src"):
            v = value.strip()
            if not (v.startswith("#") or _SAFE_DATA.match(v)):
                removed.append(f"external reference {v[:60]!r}")
                del el.attrib[attr]
        elif "\\" in value or "(" in value or ":" in value or "/*" in value:
            cleaned = clean_css(value)
            if cleaned != plain_css(value):
                removed.append("external CSS")
            el.attrib[attr] = cleaned


def plain_css(css: str) -> str:
    """CSS with comments removed and escapes undone: what a browser's CSS parser reads."""
    css = _COMMENT.sub("", css)

    def unescape(m: re.Match) -> str:
        if m.group(1):
            code = int(m.group(1), 16)
            return chr(code) if 0 < code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF else "\ufffd"
        return "" if m.group(2) == "\n" else m.group(2)

    return _ESCAPE.sub(unescape, css)


def clean_css(css: str) -> str:
    """plain_css(css) without anything that loads a resource or runs code."""
    css = _AT_RULES.sub("", plain_css(css))
    css = _ACTIVE_CSS.sub("none", css)

    def repl(m: re.Match) -> str:
        target = m.group(3).strip()
        return m.group(0) if m.group(1).lower() == "url" and target.startswith("#") else "none"

    return _LOADING.sub(repl, css)


def _length(value: str | None) -> float:
    if not value:
        return 0.0
    m = re.match(r"\s*([0-9.]+)\s*(px|pt|mm|cm|in)?\s*$", value)
    if not m:
        return 0.0  # percentages and unknown units: use the viewBox
    try:
        n = float(m.group(1))
    except ValueError:
        return 0.0
    return n * {"px": 1, None: 1, "pt": 4 / 3, "mm": 96 / 25.4, "cm": 96 / 2.54, "in": 96}[m.group(2)]


def _size(root: ET.Element) -> tuple[int, int]:
    w, h = _length(root.get("width")), _length(root.get("height"))
    vb = (root.get("viewBox") or "").replace(",", " ").split()
    if len(vb) == 4:
        try:
            vw, vh = float(vb[2]), float(vb[3])
        except ValueError:
            vw = vh = 0.0
        if vw > 0 and vh > 0:
            if not w and not h:
                w, h = vw, vh
            elif not h:
                h = w * vh / vw
            elif not w:
                w = h * vw / vh
    w, h = min(w, 1e6), min(h, 1e6)  # '1e999' or 1e300 px: no size worth trusting
    return int(round(w)), int(round(h))
