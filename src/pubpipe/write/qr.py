"""QR codes for paper: ``qr_element(url)`` draws a segno QR code as an ``<img>`` with an SVG data URI.

The PDF writer calls it for every ``<span class="pp-qr" data-pp-qr="URL"/>`` marker. Vector SVG keeps
the modules sharp at any resolution; the printed size grows with the code's module count so that a
module never gets smaller than ~0.66 mm. Measured with zbarimg on pages rasterized by pdftoppm:
at 0.8 in and level M, a 60-character URL decodes at 150 dpi but fails at 72-100 dpi half the
time; at 0.9-1.0 in and level L every code decodes at 72, 100 and 150 dpi.
"""

from __future__ import annotations

from functools import lru_cache

import segno
from lxml import etree

MIN_SIZE_IN = 0.9  # printed width of a small code
MODULE_IN = 0.026  # smallest module width we accept (~0.66 mm)
MAX_SIZE_IN = 1.4


@lru_cache(maxsize=512)
def _code(url: str) -> tuple[str, float]:
    # Error level L: the fewest modules for a URL, so the biggest ones; print is clean, and a
    # boosted level would only shrink the modules again.
    qr = segno.make(url, error="l", micro=False, boost_error=False)
    border = 2  # quiet zone in modules; the card's white background adds to it
    modules = qr.symbol_size(scale=1, border=border)[0]
    size = min(MAX_SIZE_IN, max(MIN_SIZE_IN, modules * MODULE_IN))
    uri = qr.svg_data_uri(scale=1, border=border, dark="#000", light="#fff", xmldecl=False,
                          svgns=True, nl=False, omitsize=True)
    return uri, size


def qr_element(url: str) -> etree._Element:
    """An un-namespaced ``<img>`` holding the QR code of url, 0.9-1.4 in wide, alt text naming url."""
    uri, size = _code(url)
    img = etree.Element("img")
    img.set("src", uri)
    img.set("alt", f"QR code: {url}")
    img.set("class", "pp-qr-code")
    img.set("style", f"width: {size:.2f}in; height: {size:.2f}in")
    return img
