"""Static fallbacks for embeds: recognize embed markup (``detect``), draw static cards (``render``).

``detect(book)`` runs on freshly parsed chapters, fills ``book.embeds`` and leaves
``<pp-embed data-pp-embed="ID"/>`` placeholders; ``render(book, store)`` replaces each placeholder
with the card from ``card.build`` once the sanitizer and the figure transform have run. Providers
live one per module in ``embeds/providers`` (see ``registry``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lxml import etree

from ..document import Book
from ..htmlmodel import PHRASING_ONLY
from . import card, enrich
from .detect import detect, resolve_url
from ..util import remove_keep_tail

if TYPE_CHECKING:
    from ..assets.store import AssetStore

__all__ = ["detect", "render", "resolve_url"]

_LIST_ITEM = {"ul": "li", "ol": "li", "menu": "li", "dl": "dd"}


def render(book: Book, store: AssetStore | None) -> None:
    """Replace every ``pp-embed`` placeholder by its static card (offline: from the post alone).

    With a store (None: no cache, no network), oEmbed details (cached; fetched only when not offline) fill what the post left
    empty first: see ``enrich``."""
    enrich.enrich(book, store)
    for chapter in book.chapters:
        for ph in list(chapter.body.iter("pp-embed")):
            e = book.embeds.get(ph.get("data-pp-embed") or "")
            if e is None:
                book.diagnostics.warn("embed-missing",
                                      f"embed placeholder {ph.get('data-pp-embed')!r} has no embed",
                                      chapter.source, ph.sourceline)
                _replace(ph, None)
                continue
            ph = _unwrap_lone(ph)
            ancestors = [a.tag for a in ph.iterancestors()]
            inline = any(t in PHRASING_ONLY for t in ancestors)
            el = card.build(e, inline=inline, in_figure=ph.getparent().tag == "figure",
                            links="a" not in ancestors)
            if ph.sourceline:
                el.sourceline = ph.sourceline
            wrapper = _LIST_ITEM.get(ph.getparent().tag)
            if wrapper:  # a list holds only items: the card becomes one
                item = etree.Element(wrapper)
                item.append(el)
                el = item
            _replace(ph, el)


def _unwrap_lone(ph: etree._Element) -> etree._Element:
    """A placeholder alone in a paragraph takes the paragraph's place (so the card can be a block)."""
    p = ph.getparent()
    if p is None or p.tag != "p" or p.getparent() is None:
        return ph
    others = [c for c in p if c is not ph and isinstance(c.tag, str) and c.tag != "br"]
    text = (p.text or "") + "".join(c.tail or "" for c in p)
    if others or text.strip():
        return ph
    ph.tail = p.tail
    p.getparent().replace(p, ph)
    return ph


def _replace(ph: etree._Element, el: etree._Element | None) -> None:
    parent = ph.getparent()
    if el is not None:
        el.tail = ph.tail
        parent.replace(ph, el)
        return
    remove_keep_tail(ph)
