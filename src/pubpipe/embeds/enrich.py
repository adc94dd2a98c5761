"""Optional online enrichment of embeds through oEmbed (title, author, thumbnail, a post's text).

Runs inside ``render`` when an asset store is given. Responses are cached as JSON under
``<cache>/oembed/``; with ``--offline`` only that cache is read, so an offline build is the same
as the last online one, and without any cache the cards are complete from the post alone.
Requests go through the asset fetcher (timeouts, size limit, retries). Enrichment only fills
what the post left empty; failures are INFO diagnostics, never errors: a card without a title
is still a complete card.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import TYPE_CHECKING
from urllib.parse import quote

from ..document import Book, Embed
from ..htmlmodel import parse_document
from . import registry
from .base import plain_text

if TYPE_CHECKING:
    from ..assets.store import AssetStore

MAX_BYTES = 512 * 1024  # an oEmbed answer is a few kB of JSON


def endpoint(e: Embed) -> str:
    """The oEmbed request URL for e, or "" when its provider has no public endpoint."""
    p = registry.get(e.provider)
    template = p.oembed if p else ""
    if not template or not re.match(r"^https?://", e.url or ""):
        return ""
    origin = re.match(r"^https?://[^/]+", e.url).group(0)
    return template.format(url=quote(e.url, safe=""), origin=origin)


def enrich(book: Book, store: AssetStore | None) -> None:
    """Fill empty embed fields from cached (or, online, freshly fetched) oEmbed answers; with no
    store (no cache, no network) there is nothing to do."""
    if store is None:
        return

    wanted: dict[str, list[Embed]] = {}
    for e in book.embeds.values():
        url = endpoint(e) if _needs(e) else ""
        if url:
            wanted.setdefault(url, []).append(e)
    if not wanted:
        return
    answers: dict[str, dict] = {}
    missing = []
    for url in wanted:
        data = _read(store, url)
        if data is not None:
            answers[url] = data
        else:
            missing.append(url)
    if missing and not store.offline:
        answers.update(_fetch(missing, store, book, wanted))
    for url, data in answers.items():
        for e in wanted[url]:
            apply(e, data)


def _needs(e: Embed) -> bool:
    """Whether an answer could add anything: a post without text, a video without a title..."""
    if e.kind == "social":
        return e.body is None or not e.author
    return not e.title or not e.author or (not e.thumbnail and e.kind in ("video", "audio"))


def apply(e: Embed, data: dict) -> None:
    """Copy what an oEmbed answer knows into the fields the post left empty."""
    if not isinstance(data, dict):
        return
    if not e.title and isinstance(data.get("title"), str) and e.kind != "social":
        e.title = " ".join(data["title"].split())[:300]
    if not e.author and isinstance(data.get("author_name"), str):
        e.author = " ".join(data["author_name"].split())[:120]
    thumb = data.get("thumbnail_url")
    if not e.thumbnail and isinstance(thumb, str) and re.match(r"^https://", thumb):
        e.thumbnail = thumb
    html = data.get("html")
    if e.body is None and isinstance(html, str) and e.kind == "social":
        # Twitter/X answers with the same blockquote authors paste: recognize it as such.
        p = registry.get(e.provider)
        for bq in parse_document(html).iter("blockquote"):
            got = p.from_element(bq) if p else None
            if got is not None and got.body is not None:
                e.body, e.text = got.body, plain_text(got.body)
                e.author = e.author or got.author
                e.handle = e.handle or got.handle
                e.date = e.date or got.date
                break
    e.extra["enriched"] = True


def _fetch(urls: list[str], store: AssetStore, book: Book,
           wanted: dict[str, list[Embed]]) -> dict[str, dict]:
    from ..assets import fetch as fetch_mod

    settings = store.fetch_settings(max_bytes=MAX_BYTES)
    store.requests_made += len(urls)
    results = fetch_mod.fetch_many([fetch_mod.FetchRequest(u) for u in urls], settings)
    out = {}
    for url, res in results.items():
        data = None
        if res.ok:
            try:
                data = json.loads(res.data.decode("utf-8"))
            except (ValueError, UnicodeDecodeError):
                data = None
        if isinstance(data, dict):
            _write(store, url, data)
            out[url] = data
        else:
            e = wanted[url][0]
            book.diagnostics.info(
                "embed-enrich", f"no oEmbed details for {e.url}: {res.reason or 'not JSON'};"
                " the card shows what the post holds", e.location.file, e.location.line)
    return out


def _name(url: str) -> str:
    return "oembed/" + hashlib.sha256(url.encode()).hexdigest() + ".json"


def _read(store: AssetStore, url: str) -> dict | None:
    """A cached answer, read through the store (only a regular file inside the cache)."""
    raw = store.read_cache_file(_name(url))
    try:
        data = json.loads(raw.decode("utf-8")) if raw is not None else None
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _write(store: AssetStore, url: str, data: dict) -> None:
    store.write_cache_file(_name(url), json.dumps(data).encode("utf-8"))
