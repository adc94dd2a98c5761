"""No word lost: every word a browser shows in an embed's original markup is on its static card.

The snippets are the providers' official embed code shapes (widget script included, as authors
paste it). "Shown" words are the snippet's text with scripts, styles and SVG left out; an iframe's
fallback markup and its ``srcdoc`` count as shown (they are what a reader without frames sees).
Words are whitespace-separated tokens with surrounding punctuation stripped, so a word cut in two or
glued to its neighbour (a dropped space) is caught as well as a dropped text node.
"""

from __future__ import annotations

import html5lib
import pytest
from lxml import etree

from pubpipe.embeds import detect, render
from test_embeds import book_of

_BLOCK = {"p", "div", "section", "blockquote", "figure", "figcaption", "li", "ul", "ol", "br",
          "h1", "h2", "h3", "h4", "h5", "h6", "pre", "table", "tr", "td", "th", "dd", "dt", "body"}
_HIDDEN = {"script", "style", "svg", "template", "head", "title"}
_PUNCT = "\"'.,;:!?()[]{}<>\u2014\u2013-\u00b7\u2026\u201c\u201d\u2018\u2019*/|"


def _text(el, out: list[str]) -> None:
    """Visible text of el, a space at every block edge (as a browser lays blocks out)."""
    tag = el.tag if isinstance(el.tag, str) else ""
    if tag in _HIDDEN:
        return
    block = tag in _BLOCK
    if block:
        out.append(" ")
    if tag == "iframe":  # fallback markup (raw text for html5lib) or srcdoc: what a frameless reader sees
        for raw in (el.get("srcdoc"), el.text):
            if raw and raw.strip():
                _text(_parse(raw), out)
    elif tag and el.text:
        out.append(el.text)
    for c in el:
        _text(c, out)
        if c.tail:
            out.append(c.tail)
    if block:
        out.append(" ")


def _parse(html: str):
    return html5lib.parse(html, treebuilder="lxml", namespaceHTMLElements=False).getroot().find("body")


def words(text: str) -> set[str]:
    return {w.strip(_PUNCT) for w in text.split()} - {""}


def shown_words(html: str) -> set[str]:
    out: list[str] = []
    _text(_parse(html), out)
    return words("".join(out))


def card_text(html: str) -> str:
    """The text of the chapter after detect + render (offline): the cards and any text around them."""
    book = book_of(html)
    detect(book)
    assert book.embeds, "no embed recognized"
    render(book)
    out: list[str] = []
    _card(book.chapters[0].body, out)
    return "".join(out)


def _card(el, out):
    tag = el.tag if isinstance(el.tag, str) else ""
    block = tag in _BLOCK or tag in ("figure", "div")
    if block:
        out.append(" ")
    if tag and el.text:
        out.append(el.text)
    for c in el:
        _card(c, out)
        if c.tail:
            out.append(c.tail)
    if block:
        out.append(" ")


TIKTOK = ('<blockquote class="tiktok-embed" cite="https://www.tiktok.com/@scout2015/video/'
          '6718335390845095173" data-video-id="6718335390845095173" style="max-width: 605px;min-width: '
          '325px;" > <section> <a target="_blank" title="@scout2015" href="https://www.tiktok.com/'
          '@scout2015?refer=embed">@scout2015</a> Scramble up ur name &#38; I’ll try to guess it😍❤️ '
          '<a title="foryoupage" target="_blank" href="https://www.tiktok.com/tag/foryoupage?refer=embed">'
          '#foryoupage</a> <a target="_blank" title="♬ original sound - Tiff" href="https://www.tiktok.com/'
          'music/original-sound-6689804660171082501?refer=embed">♬ original sound - Tiff</a> </section> '
          '</blockquote> <script async src="https://www.tiktok.com/embed.js"></script>')


def test_tiktok_official_embed_keeps_its_caption():
    text = card_text(TIKTOK)
    assert "Scramble up ur name & I’ll try to guess it😍❤️" in " ".join(text.split())
    missing = shown_words(TIKTOK) - words(text)
    assert not missing, missing


def test_word_check_itself_catches_a_dropped_tail():
    """The checker is not vacuous: a card text without the caption is reported."""
    assert "Scramble" in shown_words(TIKTOK)
    assert "guess" in shown_words(TIKTOK) - words("@scout2015 #foryoupage ♬ original sound - Tiff")
    assert "embed.js" not in " ".join(shown_words(TIKTOK))
