"""Property test: any mix of embed snippets, text and wrappers is detected and rendered without an
exception, leaves no embed markup, keeps the surrounding text, and builds valid content models."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from pubpipe.embeds import detect, render
from pubpipe.htmlmodel import PHRASING_ONLY
from test_embeds import book_of

SNIPPETS = [
    '<iframe src="https://www.youtube.com/embed/YrpK90bHO2U"></iframe>',
    '<iframe src="//player.vimeo.com/video/65678345"></iframe>',
    '<blockquote class="twitter-tweet"><p>Tweet words here</p>&mdash; A (@a) '
    '<a href="https://twitter.com/a/status/1">May 1, 2020</a></blockquote>',
    '<script async src="https://platform.twitter.com/widgets.js"></script>',
    '<script src="https://gist.github.com/u/abc123def.js"></script>',
    '<video src="https://example.org/v.mp4">Video fallback words</video>',
    '<audio><source src="https://example.org/a.mp3">Audio fallback words</audio>',
    '<object data="https://example.org/x.swf"><embed src="https://example.org/x.swf">Object words'
    '</object>',
    '<iframe src="https://example.org/widget"></iframe>',
    '<iframe src="https://open.spotify.com/embed/episode/7makk4oTQel546B0PZlDM5"></iframe>',
    "<pp-shortcode data-name='youtube' data-args='\"3mdiCUbgxi0\"' data-syntax='hugo'></pp-shortcode>",
    '<a href="https://youtu.be/xb_PyKuI7II">https://youtu.be/xb_PyKuI7II</a>',
]
WRAPPERS = ["{}", "<p>{}</p>", "<div>{}</div>", "<ul><li>{}</li></ul>", "<figure>{}</figure>",
            "<p><a href='https://example.org/'>{}</a></p>", "<h2>{}</h2>", "<blockquote>{}</blockquote>",
            "<p><em>{}</em></p>", "<table><tr><td>{}</td></tr></table>"]
LEFTOVER = {"iframe", "script", "object", "embed", "audio", "video", "source", "pp-embed",
            "pp-shortcode"}
BLOCKS = {"div", "p", "figure", "blockquote", "ul", "ol", "table", "h1", "h2", "h3", "pre"}

piece = st.tuples(st.sampled_from(WRAPPERS), st.lists(st.one_of(
    st.sampled_from(SNIPPETS), st.sampled_from(["plain words", " tail text ", "more prose"])),
    min_size=1, max_size=4))


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(piece, min_size=1, max_size=5))
def test_any_mix_renders_cleanly(pieces):
    html = "".join(w.format("".join(parts)) for w, parts in pieces)
    book = book_of(html)
    before = " ".join(" ".join(book.chapters[0].body.itertext()).split())
    detect(book)
    render(book, None)
    body = book.chapters[0].body
    tags = {el.tag for el in body.iter() if isinstance(el.tag, str)}
    assert not tags & LEFTOVER - {"pp-shortcode"}, tags & LEFTOVER
    if "youtube" in html and "pp-shortcode" in html:
        assert "pp-shortcode" not in tags
    after = " ".join(" ".join(body.itertext()).split())
    for words in ("plain words", "tail text", "more prose", "Tweet words here",
                  "Video fallback words", "Audio fallback words", "Object words"):
        if words in before or words in html:
            assert words in after, words
    # Cards never put blocks where only phrasing content may stand, nor links inside links.
    for el in body.iter():
        if not isinstance(el.tag, str):
            continue
        if el.tag in PHRASING_ONLY:
            for inner in el.iterdescendants():
                if isinstance(inner.tag, str) and "pp-embed" in (inner.get("class") or ""):
                    assert inner.tag not in BLOCKS, (el.tag, inner.tag)
        if el.tag == "a":
            assert not list(el.iterdescendants("a"))
    etree.tostring(body)  # serializable
