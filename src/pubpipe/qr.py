"""QR codes for paper: ``qr_element(url)`` draws a segno QR code as an ``<img>`` with an SVG data URI.

The print layout has ``prepare.prepare_body`` call it for every ``<span class="pp-qr"
data-pp-qr="URL"/>`` marker. Vector SVG keeps the modules sharp at any resolution; the printed size
grows with the code's module count so that a module never gets smaller than ~0.66 mm. Measured
with zbarimg on pages rasterized by pdftoppm: at 0.8 in and level M, a 60-character URL decodes at
150 dpi but fails at 72-100 dpi half the time; at 0.9-1.0 in and level L every code decodes at 72,
100 and 150 dpi.
"""

from __future__ import annotations

from functools import lru_cache

import segno
from lxml import etree

MIN_SIZE_IN = 0.9  # printed width of a small code
MODULE_IN = 0.026  # smallest module width we accept (~0.66 mm)
MAX_SIZE_IN = 1.4


# The largest code printed: version 12 (65 modules, about 290 bytes of URL at level L) has
# modules of 0.5 mm at MAX_SIZE_IN, about the least a phone reads from paper. A longer URL gets
# a note instead (segno cannot encode more than 2,953 bytes at all).
MAX_VERSION = 12


@lru_cache(maxsize=512)
def _code(url: str) -> tuple[str, float] | None:
    # Error level L: the fewest modules for a URL, so the biggest ones; print is clean, and a
    # boosted level would only shrink the modules again.
    try:
        qr = segno.make(url, error="l", micro=False, boost_error=False)
    except segno.DataOverflowError:
        return None
    if qr.version > MAX_VERSION:
        return None
    border = 2  # quiet zone in modules; the card's white background adds to it
    modules = qr.symbol_size(scale=1, border=border)[0]
    size = min(MAX_SIZE_IN, max(MIN_SIZE_IN, modules * MODULE_IN))
    uri = qr.svg_data_uri(scale=1, border=border, dark="#000", light="#fff", xmldecl=False,
                          svgns=True, nl=False, omitsize=True)
    return uri, size


def qr_element(url: str) -> etree._Element:
    """An un-namespaced ``<img>`` holding the QR code of url, 0.9-1.4 in wide, alt text naming url.

    A URL too long for a code that a phone can read from paper gets a short note instead (the
    URL itself is printed beside it anyway)."""
    code = _code(url)
    if code is None:
        note = etree.Element("span")
        note.set("class", "pp-qr-omitted")
        note.text = f"(no QR code: the address is {len(url)} characters long)"
        return note
    uri, size = code
    img = etree.Element("img")
    img.set("src", uri)
    img.set("alt", f"QR code: {url}")
    img.set("class", "pp-qr-code")
    img.set("style", f"width: {size:.2f}in; height: {size:.2f}in")
    return img
