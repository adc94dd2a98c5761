"""Single-file HTML: the whole book in one page, images inlined as data: URIs (screen profile).

Useful to preview the document the EPUB and PDF are made from; nothing in it points at the network
except plain links.
"""

from __future__ import annotations

import base64
import html as html_mod

from lxml import etree

from .. import resources
from ..context import BuildContext
from ..document import ALT_SOURCE, Book
from ..prepare import prepare_body
from .common import XHTML_NS, to_xhtml

PROFILES = ("epub",)  # the image variants this writer needs (screen)


def _data_uri(asset, variant) -> str:
    return f"data:{variant.media_type};base64,{base64.b64encode(variant.read_bytes()).decode()}"


def write_html(book: Book, ctx: BuildContext) -> bytes:
    """The book as one HTML page (bytes), images inlined."""
    m = book.meta
    css = "\n".join(filter(None, [_maybe("epub.css"), resources.component_styles(),
                                  resources.author_css(ctx.config.epub.css)]))
    parts = [
        "<!DOCTYPE html>",
        f'<html xmlns="{XHTML_NS}" xmlns:epub="http://www.idpf.org/2007/ops"'
        f' lang="{html_mod.escape(m.language)}">',
        "<head><meta charset=\"utf-8\"/>",
        f"<title>{html_mod.escape(m.title)}</title>",
        f'<meta name="author" content="{html_mod.escape(", ".join(m.authors))}"/>',
        f"<style>{css}</style></head><body>",
    ]
    if len(book.chapters) > 1:
        parts.append(f'<header class="pp-book-title"><h1>{html_mod.escape(m.title)}</h1></header>')
        parts.append("<nav><ol>" + "".join(
            f'<li><a href="#ch-{ch.slug}">{html_mod.escape(ch.title)}</a></li>'
            for ch in book.chapters) + "</ol></nav>")
    for ch in book.chapters:
        body = prepare_body(ch, book, profile="epub", asset_src=_data_uri)
        for img in body.iter("img"):
            img.attrib.pop(ALT_SOURCE, None)  # pubpipe's own note on where the alt text came from
        body.tag = "section"
        body.set("id", f"ch-{ch.slug}")
        body.set("class", "chapter")
        if ch.lang and ch.lang != m.language:
            body.set("lang", ch.lang)
        parts.append(etree.tostring(to_xhtml(body), encoding="unicode"))
    parts.append("</body></html>")
    return "\n".join(parts).encode("utf-8")


def _maybe(name: str) -> str:
    try:
        return resources.stylesheet(name)
    except FileNotFoundError:
        return ""
