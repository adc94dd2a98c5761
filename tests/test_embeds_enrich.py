"""oEmbed enrichment: fetched from a loopback server, cached, read back offline, never required."""

from __future__ import annotations

from pathlib import Path

import pytest

from pubpipe.assets.store import AssetStore
from pubpipe.config import AssetsSection
from pubpipe.embeds import detect, registry, render
from test_embeds import book_of

YT = '<iframe src="https://www.youtube.com/embed/YrpK90bHO2U"></iframe>'
TWEET_SC = ("<pp-shortcode data-name='tweet' data-args='user=\"manyapan\" id=\"1020194136710819841\"'"
            " data-syntax='hugo'></pp-shortcode>")
TWEET_HTML = ('<blockquote class="twitter-tweet"><p lang="en" dir="ltr">Cartoons on social credit '
              '<a href="https://t.co/x">https://t.co/x</a></p>&mdash; Manya Koetse (@manyapan) '
              '<a href="https://twitter.com/manyapan/status/1020194136710819841">July 20, 2018</a>'
              '</blockquote>\n')


@pytest.fixture
def endpoints(httpserver, monkeypatch):
    for name, path in (("youtube", "/yt"), ("twitter", "/tw")):
        monkeypatch.setattr(registry.get(name), "oembed", httpserver.url_for(path) + "?url={url}")
    httpserver.expect_request("/yt").respond_with_json(
        {"title": "Nosedive trailer", "author_name": "Netflix",
         "thumbnail_url": "https://i.ytimg.com/vi/YrpK90bHO2U/hqdefault.jpg"})
    httpserver.expect_request("/tw").respond_with_json(
        {"author_name": "Manya Koetse", "html": TWEET_HTML})
    return httpserver


def _store(tmp_path: Path, offline: bool, book) -> AssetStore:
    return AssetStore(tmp_path, tmp_path / "cache", AssetsSection(total_timeout=5.0, retries=0, allow_private_hosts=True),
                      offline=offline, diagnostics=book.diagnostics)


def _text(book) -> str:
    return " ".join(" ".join(book.chapters[0].body.itertext()).split())


def test_enrichment_fills_title_and_tweet_text_then_works_offline(endpoints, tmp_path):
    book = book_of(YT + TWEET_SC)
    detect(book)
    render(book, _store(tmp_path, False, book))
    text = _text(book)
    assert "Nosedive trailer" in text and "by Netflix" in text
    assert "Cartoons on social credit" in text and "Manya Koetse (@manyapan)" in text
    assert len(endpoints.log) == 2

    again = book_of(YT + TWEET_SC)  # offline: the same cards from the cache, no request
    detect(again)
    render(again, _store(tmp_path, True, again))
    assert _text(again) == text and len(endpoints.log) == 2


def test_offline_without_cache_needs_nothing(endpoints, tmp_path):
    book = book_of(YT)
    detect(book)
    render(book, _store(tmp_path, True, book))
    assert "YouTube video" in _text(book) and not endpoints.log
    assert not book.diagnostics


def test_failed_enrichment_is_info_only(httpserver, monkeypatch, tmp_path):
    monkeypatch.setattr(registry.get("youtube"), "oembed", httpserver.url_for("/nope") + "?url={url}")
    httpserver.expect_request("/nope").respond_with_data("not json", status=404)
    book = book_of(YT)
    detect(book)
    render(book, _store(tmp_path, False, book))
    assert [d.code for d in book.diagnostics] == ["embed-enrich"]
    assert not book.diagnostics.warnings and "youtube.com/watch?v=YrpK90bHO2U" in _text(book)


def test_complete_posts_are_not_looked_up(endpoints, tmp_path):
    book = book_of(TWEET_HTML)  # text and author already in the post
    detect(book)
    render(book, _store(tmp_path, False, book))
    assert not endpoints.log
