"""QR codes for paper: ``qr_element(url)`` draws a segno QR code as an ``<img>`` with an SVG data URI.

The PDF writer calls it for every ``<span class="pp-qr" data-pp-qr="URL"/>`` marker. Vector SVG keeps
the modules sharp at any resolution; the printed size grows with the code's module count so that a
module never gets smaller than ~0.5 mm (phone cameras and zbarimg at 150 dpi read it).
"""

from __future__ import annotations

from functools import lru_cache

import segno
from lxml import etree

MIN_SIZE_IN = 0.8  # printed width of a small code
MODULE_IN = 0.02  # smallest module width we accept (~0.5 mm)
MAX_SIZE_IN = 1.4


@lru_cache(maxsize=512)
def _code(url: str) -> tuple[str, float]:
    # Error level M: survives a smudge yet keeps the code small; never boosted (bigger modules).
    qr = segno.make(url, error="m", micro=False, boost_error=False)
    border = 2  # quiet zone in modules; the card's white background adds to it
    modules = qr.symbol_size(scale=1, border=border)[0]
    size = min(MAX_SIZE_IN, max(MIN_SIZE_IN, modules * MODULE_IN))
    uri = qr.svg_data_uri(scale=1, border=border, dark="#000", light="#fff", xmldecl=False,
                          svgns=True, nl=False, omitsize=True)
    return uri, size


def qr_element(url: str) -> etree._Element:
    """An un-namespaced ``<img>`` holding the QR code of url, about 0.8in wide, alt text naming url."""
    uri, size = _code(url)
    img = etree.Element("img")
    img.set("src", uri)
    img.set("alt", f"QR code: {url}")
    img.set("class", "pp-qr-code")
    img.set("style", f"width: {size:.2f}in; height: {size:.2f}in")
    return img
