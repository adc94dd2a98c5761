"""One static rendering for every Embed, shared by EPUB and PDF.

A card names the provider, shows the title or the post's full text (links and hashtags kept), the
author/handle/date, and the canonical URL as a plain link; videos and audio get a poster image when
one can be had (``data-pp-optional``: the assets stage fetches it or removes it) and always a
drawn placeholder (pure CSS, no SVG, no font glyph) that shows when the poster is missing. On paper
a ``pp-qr`` marker becomes a QR code of the URL.

The placeholder may sit where only phrasing content is allowed (inside a ``<p>``): then the card is
built from ``span``s that embeds.css displays as blocks; elsewhere from figure/div/p/blockquote.
"""

from __future__ import annotations

import copy
import re
from urllib.parse import quote

from lxml import etree

from ..document import Embed
from .base import text_of



_KIND_LABEL = {"video": "{p} video", "social": "Post on {p}", "audio": "{p} audio",
               "code": "{p}", "map": "{p}", "page": "Embedded content from {p}", "plugin": "{p}"}
_MEDIA_KINDS = {"video", "audio", "map"}


def label(e: Embed) -> str:
    return e.extra.get("label") or _KIND_LABEL.get(e.kind, "{p}").format(p=e.provider_name)


def is_linkable(url: str) -> bool:
    return bool(re.match(r"^https?://[^\s/]+", url or "", re.I))


def safe_href(url: str) -> str:
    """url with spaces, non-ASCII and other characters invalid in a URL percent-encoded."""
    return quote(url.strip(), safe=":/?#[]@!$&'()*+,;=%~")


class _B:
    """Builds the card from block or inline (span-only) elements."""

    def __init__(self, inline: bool):
        self.inline = inline

    def sub(self, parent, tag: str, cls: str, text: str | None = None, **attrs) -> etree._Element:
        el = etree.SubElement(parent, "span" if self.inline and tag != "a" else tag)
        el.set("class", cls)
        for k, v in attrs.items():
            el.set(k.replace("_", "-"), v)
        if text:
            el.text = text
        return el


def build(e: Embed, *, inline: bool = False, in_figure: bool = False,
          links: bool = True) -> etree._Element:
    """The card element for e. inline: phrasing-only context; links=False inside an <a>."""
    b = _B(inline)
    root_tag = "span" if inline else ("div" if in_figure else "figure")
    root = etree.Element(root_tag)
    root.set("class", f"pp-embed pp-embed-{e.kind} pp-embed-{_token(e.provider)}")
    root.set("data-pp-provider", e.provider)
    if not inline:  # names the card for screen readers (it has no caption of its own)
        root.set("aria-label", f"{label(e)}: {e.title}" if e.title else label(e))
    url_ok = is_linkable(e.url)
    if e.kind in _MEDIA_KINDS or e.thumbnail:
        media = b.sub(root, "div", "pp-embed-media")
        if e.thumbnail:
            alt = f"{label(e)}: {e.title}" if e.title else label(e)
            img = etree.SubElement(media, "img", {"class": "pp-embed-poster", "src": e.thumbnail,
                                                  "alt": alt, "data-pp-optional": "1"})
            img.tail = None
        if e.kind in _MEDIA_KINDS or not e.thumbnail:
            ph = b.sub(media, "div", f"pp-embed-placeholder pp-embed-placeholder-{e.kind}",
                       aria_hidden="true")
            etree.SubElement(ph, "span", {"class": "pp-embed-icon"})
    # Text and QR code side by side as table cells (floats beside justified text misplace lines
    # in WeasyPrint); the QR cell is print-only, so on screen the text has the whole width.
    row = b.sub(root, "div", "pp-embed-row")
    info = b.sub(row, "div", "pp-embed-info")
    b.sub(info, "p", "pp-embed-provider", label(e))
    if e.title:
        b.sub(info, "p", "pp-embed-title", e.title)
    body = e.body
    if body is None and e.text:
        body = etree.Element("div")
        etree.SubElement(body, "p").text = e.text
    if body is not None:
        quote = b.sub(info, "blockquote", "pp-embed-text")
        if url_ok and not inline:
            quote.set("cite", safe_href(e.url))
        if e.extra.get("lang"):
            quote.set("lang", e.extra["lang"])
        for p in body:
            para = copy.deepcopy(p)
            para.tail = None
            if inline:
                para.tag = "span"
                para.set("class", "pp-embed-para")
            for a in para.iter("a"):
                if a.get("href"):
                    a.set("href", safe_href(a.get("href")))
                if not links:
                    a.tag = "span"
                    a.attrib.pop("href", None)
                elif _quiet_link(a, e):
                    a.set("class", "pp-no-url")
            quote.append(para)
    byline = _byline(e)
    if byline:
        b.sub(info, "p", "pp-embed-byline", byline)
    if e.extra.get("start"):  # a video linked at a moment: say which
        b.sub(info, "p", "pp-embed-byline", f"Starts at {_clock(int(e.extra['start']))}")
    if e.caption:
        b.sub(info, "p", "pp-embed-caption", e.caption)
    if e.url:
        line = b.sub(info, "p", "pp-embed-link")
        if e.extra.get("link_label"):  # the post's own words, e.g. "View this post on Instagram"
            line.text = e.extra["link_label"] + ": "
        if url_ok and links:
            # The address is the link's text already: the PDF writer need not print it again.
            a = etree.SubElement(line, "a", {"href": safe_href(e.url),
                                             "class": "pp-embed-url pp-no-url"})
            a.text = e.url
        else:
            b.sub(line, "span", "pp-embed-url", e.url)
    alternates = [u for u in e.extra.get("alternates", []) if is_linkable(u) and u != e.url]
    if alternates and links:  # other files of a <video>, the map as embedded...
        line = b.sub(info, "p", "pp-embed-alternates")
        line.text = e.extra.get("alternates_label", "Also") + ": "
        for i, u in enumerate(alternates):
            a = etree.SubElement(line, "a", {"href": safe_href(u), "class": "pp-no-url"})
            a.text = e.extra.get("alternate_names", {}).get(u) or _short(u)
            if i < len(alternates) - 1:
                a.tail = ", "
    if url_ok:
        qr = b.sub(row, "div", "pp-embed-qr pp-print-only")
        etree.SubElement(qr, "span", {"class": "pp-qr", "data-pp-qr": e.url})
    return root


def _clock(seconds: int) -> str:
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def _short(url: str) -> str:
    """The last path segment of a URL (a file name), or its host."""
    path = re.sub(r"[?#].*$", "", url).rstrip("/")
    tail = path.rsplit("/", 1)[-1]
    return tail if tail and "." in tail and not tail.startswith("www.") else _host(url) or url


def _quiet_link(a: etree._Element, e: Embed) -> bool:
    """Links whose address need not be printed after them: hashtags, mentions, addresses as
    text, and links back to the post's own site (its URL is on the card and in the QR code)."""
    text = text_of(a)
    if text[:1] in ("#", "@", "$") or _urlish(text):
        return True
    return _host(a.get("href") or "") == _host(e.url) != ""


def _host(url: str) -> str:
    m = re.match(r"^https?://(?:www\.)?([^/:?#]+)", url or "", re.I)
    return m.group(1).lower() if m else ""


def _urlish(text: str) -> bool:
    return " " not in text and bool(re.match(r"^(https?://)?[\w-]+(\.[\w-]+)+(/\S*)?$", text))


def _byline(e: Embed) -> str:
    if e.extra.get("byline"):
        return e.extra["byline"]
    who = e.author
    if e.handle:
        handle = e.handle if e.handle.startswith("@") else f"@{e.handle}"
        who = f"{who} ({handle})" if who else handle
    parts = [p for p in (who, e.date) if p]
    if not parts:
        return ""
    if e.kind == "social":
        return "\u2014 " + ", ".join(parts)
    return ("by " + ", ".join(parts)) if who else parts[0]


def _token(s: str) -> str:
    return re.sub(r"[^a-z0-9-]+", "-", (s or "").lower()).strip("-") or "embed"
