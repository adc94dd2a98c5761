"""SVG sanitizing: an SVG enters a book only without anything active or external in it.

Parsed with defusedxml, so a DTD, entity declarations or external entities refuse the file
outright (they are how XML bombs and file disclosure work). Then the tree is cleaned: scripts,
``foreignObject`` and other embedding elements are removed, as are ``on*`` event handlers,
``href``/``xlink:href`` that do not point inside the document (``#id``) or at an inline raster
``data:`` image, and CSS that loads anything (``@import``, ``url(...)`` not pointing at ``#id``).
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
# Elements that run code or pull in other documents.
BANNED = {"script", "foreignObject", "iframe", "embed", "object", "handler", "listener",
          "audio", "video", "canvas"}
_URL_RE = re.compile(r"url\(\s*(['\"]?)(.*?)\1\s*\)", re.I | re.S)
_SAFE_DATA = re.compile(r"^data:image/(png|jpeg|gif|webp);", re.I)


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
    if _local(root.tag) != "svg" or _ns(root.tag) != SVG_NS:
        raise SvgRefused("not an SVG document (root is not <svg> in the SVG namespace)")
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


def _clean(el: ET.Element, removed: list[str]) -> None:
    for child in list(el):
        name = _local(child.tag)
        if not isinstance(child.tag, str):
            continue
        if name in BANNED or _ns(child.tag) not in (SVG_NS, ""):
            removed.append(f"<{name}>")
            el.remove(child)
            continue
        if name in ("set", "animate", "animateMotion", "animateTransform") and (
                _local(child.get("attributeName") or "").lower() in ("href", "src")
                or (child.get("attributeName") or "").lower().startswith("on")):
            removed.append(f"<{name}> of a link")  # animating href is a known script vector
            el.remove(child)
            continue
        if name == "a":
            child.tag = f"{{{SVG_NS}}}g"  # keep the drawing, drop the link
            removed.append("links")
        if name == "style":
            css = "".join(child.itertext())
            cleaned = _clean_css(css)
            if cleaned != css:
                removed.append("external CSS")
                for sub in list(child):
                    child.remove(sub)
                child.text = cleaned
        _clean(child, removed)
    for attr in list(el.attrib):
        local = _local(attr) if attr.startswith("{") else attr
        value = el.attrib[attr]
        if local.lower().startswith("on"):
            removed.append("event handlers")
            del el.attrib[attr]
        elif local == "href" or attr == "src":
            v = value.strip()
            if not (v.startswith("#") or _SAFE_DATA.match(v)):
                removed.append(f"external reference {v[:60]!r}")
                del el.attrib[attr]
        elif local == "style" or "url(" in value.lower():
            cleaned = _clean_css(value)
            if cleaned != value:
                removed.append("external CSS")
                el.attrib[attr] = cleaned


def _clean_css(css: str) -> str:
    css = re.sub(r"@import[^;]*;?", "", css, flags=re.I)

    def repl(m: re.Match) -> str:
        target = m.group(2).strip()
        return m.group(0) if target.startswith("#") else "none"

    return _URL_RE.sub(repl, css)


def _length(value: str | None) -> float:
    if not value:
        return 0.0
    m = re.match(r"\s*([0-9.]+)\s*(px|pt|mm|cm|in)?\s*$", value)
    if not m:
        return 0.0  # percentages and unknown units: use the viewBox
    n = float(m.group(1))
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
    return int(round(w)), int(round(h))
