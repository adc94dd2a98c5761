"""Unit tests for the embed recognizers (one per markup variant) and the static card renderer."""

from __future__ import annotations

from pathlib import Path

import html5lib
import pytest
from lxml import etree

from pubpipe.document import Book, BookMeta, Chapter
from pubpipe.embeds import detect, render, resolve_url


def parse(html: str) -> etree._Element:
    doc = html5lib.parse("<!DOCTYPE html><html><head></head><body>" + html + "</body></html>",
                         treebuilder="lxml", namespaceHTMLElements=False)
    body = doc.getroot().find("body")
    root = etree.Element("div")
    root.text = body.text
    for c in list(body):
        root.append(c)
    return root


def book_of(html: str, meta: dict | None = None, source: str | None = None) -> Book:
    ch = Chapter(source=Path("post.md"), body=parse(html), meta=meta or {},
                 source_text=source if source is not None else html)
    return Book(meta=BookMeta(title="T"), root=Path("."), chapters=[ch])


def one(html: str, **kw):
    book = book_of(html, **kw)
    detect(book)
    assert len(book.embeds) == 1, [(e.provider, e.url) for e in book.embeds.values()]
    return book, next(iter(book.embeds.values()))


def tags(book: Book) -> list[str]:
    return [el.tag for el in book.chapters[0].body.iter() if isinstance(el.tag, str)]


# --- YouTube ---------------------------------------------------------------------------------

@pytest.mark.parametrize("src, start", [
    ("https://www.youtube.com/embed/YrpK90bHO2U", 0),
    ("https://www.youtube-nocookie.com/embed/YrpK90bHO2U?rel=0", 0),
    ("//www.youtube.com/embed/YrpK90bHO2U?rel=0&amp;html5=1&amp;start=6175", 6175),
    ("https://www.youtube.com/embed/YrpK90bHO2U?si=Nc2N2Gqqpry1FKfs", 0),
    ("http://www.youtube.com/v/YrpK90bHO2U?fs=1&amp;hl=en_US", 0),
])
def test_youtube_iframes(src, start):
    book, e = one(f'<p>Before</p><iframe width="560" height="315" src="{src}" frameborder="0" '
                  f'allowfullscreen></iframe>tail text<p>After</p>')
    assert e.provider == "youtube" and e.kind == "video"
    assert e.url.startswith("https://www.youtube.com/watch?v=YrpK90bHO2U")
    assert e.extra["start"] == start
    assert e.thumbnail == "https://i.ytimg.com/vi/YrpK90bHO2U/hqdefault.jpg"
    assert (e.width, e.height) == (560, 315)
    assert "iframe" not in tags(book)
    ph = next(book.chapters[0].body.iter("pp-embed"))
    assert ph.get("data-pp-embed") == e.id and ph.tail == "tail text"


@pytest.mark.parametrize("url, start", [
    ("https://youtu.be/xb_PyKuI7II", 0), ("https://youtu.be/xb_PyKuI7II?t=90", 90),
    ("https://www.youtube.com/watch?v=xb_PyKuI7II&t=1m30s", 90),
    ("https://m.youtube.com/watch?v=xb_PyKuI7II", 0),
    ("https://www.youtube.com/shorts/xb_PyKuI7II", 0)])
def test_youtube_urls(url, start):
    e = resolve_url(url)
    assert e.provider == "youtube" and e.extra["video_id"] == "xb_PyKuI7II"
    assert e.extra["start"] == start


def test_youtube_object_embed():
    book, e = one('<object width="425" height="344"><param name="movie" '
                  'value="http://www.youtube.com/v/YrpK90bHO2U&hl=en"></param><embed '
                  'src="http://www.youtube.com/v/YrpK90bHO2U&hl=en" type="application/x-shockwave-flash">'
                  '</embed></object>')
    assert e.provider == "youtube"
    assert "object" not in tags(book) and "embed" not in tags(book)


def test_bare_youtube_link_alone_in_paragraph():
    book = book_of('<p><a href="https://youtu.be/xb_PyKuI7II">https://youtu.be/xb_PyKuI7II</a></p>'
                   '<p>https://vimeo.com/65678345</p>'
                   '<p>See <a href="https://youtu.be/xb_PyKuI7II">https://youtu.be/xb_PyKuI7II</a></p>'
                   '<p><a href="https://youtu.be/xb_PyKuI7II">my talk</a></p>')
    detect(book)
    assert [e.provider for e in book.embeds.values()] == ["youtube", "vimeo"]
    assert len(list(book.chapters[0].body.iter("a"))) == 2  # links inside sentences stay links


# --- Twitter ---------------------------------------------------------------------------------

TWEET = ('<blockquote class="twitter-tweet" data-lang="en"><p lang="en" dir="ltr">Interesting to see '
         'the huge difference. Check out: <a href="https://t.co/lIyMhaMnFb">https://t.co/lIyMhaMnFb</a> '
         '<a href="https://twitter.com/hashtag/socialcredit?src=hash&amp;ref_src=twsrc%5Etfw">'
         '#socialcredit</a></p>&mdash; Manya Koetse (@manyapan) <a href="https://{host}/manyapan/status/'
         '1020194136710819841?ref_src=twsrc%5Etfw">July 20, 2018</a></blockquote>')


@pytest.mark.parametrize("host", ["twitter.com", "x.com", "mobile.twitter.com"])
@pytest.mark.parametrize("script", [
    "", '<script async src="https://platform.twitter.com/widgets.js" charset="utf-8"></script>'])
def test_tweet_blockquote(host, script):
    book, e = one(TWEET.format(host=host) + script + "<p>after</p>")
    assert e.provider == "twitter" and e.kind == "social"
    assert e.url == f"https://{host.replace('mobile.', '')}/manyapan/status/1020194136710819841"
    assert (e.author, e.handle, e.date) == ("Manya Koetse", "manyapan", "July 20, 2018")
    assert e.text.startswith("Interesting to see the huge difference.") and "#socialcredit" in e.text
    hrefs = [a.get("href") for a in e.body.iter("a")]
    assert hrefs == ["https://t.co/lIyMhaMnFb", "https://twitter.com/hashtag/socialcredit"]
    assert "script" not in tags(book) and "blockquote" not in tags(book)


def test_tweet_with_br_and_emoji_keeps_all_text():
    html = ('<blockquote class="twitter-tweet"><p lang="en" dir="ltr">Tech friends: I get it.<br><br>'
            'We’re engineers.<br>We’re stressed 😈</p>&mdash; Someone (@some_one) '
            '<a href="https://twitter.com/some_one/status/1240000000000000000">March 18, 2020</a>'
            '</blockquote>')
    _, e = one(html)
    assert e.text == "Tech friends: I get it.\n\nWe’re engineers.\nWe’re stressed 😈"
    assert len(list(e.body.iter("br"))) == 3


def test_tweet_shortcodes():
    for args, url in [('user="SanDiegoZoo" id="1453110110599868418"',
                       "https://twitter.com/SanDiegoZoo/status/1453110110599868418"),
                      ('1453110110599868418', "https://twitter.com/i/status/1453110110599868418"),
                      ('https://x.com/a/status/1', "https://x.com/a/status/1")]:
        _, e = one(f"<pp-shortcode data-name='tweet' data-args='{args}' data-syntax='hugo'>"
                   "</pp-shortcode>")
        assert e.url == url


# --- generic and unknown ---------------------------------------------------------------------

def test_unknown_iframe_becomes_generic_card():
    book, e = one('<div class="wrap"><iframe src="https://example.org/widget?x=1" title="Live '
                  'results"></iframe></div>')
    assert e.provider == "iframe" and e.url == "https://example.org/widget?x=1"
    assert e.title == "Live results" and e.provider_name == "example.org"


def test_inline_scripts_are_left_to_the_sanitizer():
    book = book_of("<script>var x = 1;</script><script src='https://unpkg.com/leaflet.js'></script>")
    detect(book)
    assert tags(book).count("script") == 2 and not book.embeds


def test_unknown_shortcode_is_left_alone():
    book = book_of("<pp-shortcode data-name='notice' data-args='warning' data-syntax='hugo'>"
                   "</pp-shortcode>")
    detect(book)
    assert not book.embeds and "pp-shortcode" in tags(book)


# --- rendering -------------------------------------------------------------------------------

def test_card_in_paragraph_is_phrasing_only():
    book = book_of('<p>Watch <iframe src="https://www.youtube.com/embed/YrpK90bHO2U"></iframe> '
                   'now.</p>')
    detect(book)
    render(book, None)
    p = book.chapters[0].body.find("p")
    inside = {el.tag for el in p.iter()} - {"p"}
    assert inside <= {"span", "a", "img"}, inside
    assert "now." in "".join(p.itertext())


def test_card_for_lone_placeholder_is_a_figure():
    book = book_of('<p><iframe src="https://www.youtube.com/embed/YrpK90bHO2U"></iframe></p>')
    detect(book)
    render(book, None)
    fig = book.chapters[0].body.find("figure")
    assert fig is not None and "pp-embed" in fig.get("class")
    assert fig.find(".//a").get("href") == "https://www.youtube.com/watch?v=YrpK90bHO2U"
    assert fig.find(".//span[@data-pp-qr]") is not None
    assert fig.find(".//img").get("data-pp-optional") == "1"
    assert fig.find(".//*[@class='pp-embed-placeholder pp-embed-placeholder-video']") is not None


def test_card_inside_figure_is_a_div():
    book = book_of(TWEET.format(host="twitter.com"))
    detect(book)
    ph = next(book.chapters[0].body.iter("pp-embed"))
    fig = etree.Element("figure")
    ph.addprevious(fig)
    fig.append(ph)
    etree.SubElement(fig, "figcaption").text = "A caption"
    render(book, None)
    assert fig[0].tag == "div" and "pp-embed-social" in fig[0].get("class")
    assert fig[1].tag == "figcaption"
    text = " ".join(fig.itertext())
    assert "Manya Koetse (@manyapan)" in text and "Post on X (Twitter)" in text


def test_qr_element_is_an_img_with_data_uri():
    from pubpipe.qr import qr_element

    img = qr_element("https://www.youtube.com/watch?v=YrpK90bHO2U")
    assert img.tag == "img" and img.get("src").startswith("data:image/svg+xml")
    assert "https://www.youtube.com/watch?v=YrpK90bHO2U" in img.get("alt")
    assert "width: 0.9" in img.get("style")


# --- odd input -------------------------------------------------------------------------------

@pytest.mark.parametrize("html", [
    '<iframe src="javascript:alert(1)"></iframe>',
    '<iframe src="data:text/html,<b>hi</b>"></iframe>',
    '<video poster="javascript:x()" src="javascript:y()">Fallback words</video>',
    '<iframe src="https://example.org/a page/ü?q=a b"></iframe>',
    '<iframe src="   "></iframe>',
    '<object></object>',
    '<blockquote class="twitter-tweet"><p>No status link at all</p></blockquote>',
    '<blockquote class="instagram-media"></blockquote>',
    '<p class="codepen">no slug</p>',
    '<pp-shortcode data-name="youtube"></pp-shortcode>',
    '<pp-shortcode data-name="gist" data-args="&quot;unbalanced"></pp-shortcode>',
])
def test_odd_markup_never_raises_and_keeps_text(html):
    book = book_of("<p>Before.</p>" + html + "<p>After.</p>")
    detect(book)
    render(book, None)
    body = book.chapters[0].body
    text = " ".join(" ".join(body.itertext()).split())
    assert "Before." in text and "After." in text
    for word in ("Fallback words", "No status link at all", "no slug"):
        if word in html:
            assert word in text
    for a in body.iter("a"):
        assert a.get("href", "").startswith("https://"), a.get("href")
        assert " " not in a.get("href") and "ü" not in a.get("href")
    for img in body.iter("img"):
        assert not img.get("src", "").startswith("javascript")


def test_card_inside_a_link_has_no_nested_links():
    book = book_of('<p><a href="https://example.org/">Watch <iframe src="https://youtu.be/'
                   'YrpK90bHO2U"></iframe></a></p>')
    detect(book)
    render(book, None)
    outer = book.chapters[0].body.find(".//a")
    assert outer.get("href") == "https://example.org/"
    assert not outer.findall(".//a") and "youtube.com/watch?v=YrpK90bHO2U" in "".join(outer.itertext())


def test_card_in_list_item_and_heading():
    book = book_of('<ul><li><iframe src="https://youtu.be/YrpK90bHO2U"></iframe></li></ul>'
                   '<h2>Title <iframe src="https://youtu.be/YrpK90bHO2U"></iframe></h2>')
    detect(book)
    render(book, None)
    body = book.chapters[0].body
    assert body.find("ul/li/figure") is not None
    assert {el.tag for el in body.find("h2").iter()} <= {"h2", "span", "a", "img"}


def test_generic_embeds_are_reported_as_info_with_line():
    src = "Text\n\n<iframe src=\"https://example.org/widget\"></iframe>\n"
    book = book_of('<p>Text</p><iframe src="https://example.org/widget"></iframe>', source=src)
    detect(book)
    [d] = book.diagnostics
    assert (d.code, d.severity.name, d.line) == ("embed-generic", "INFO", 3)
    assert "https://example.org/widget" in d.message


def test_card_directly_in_a_list_becomes_an_item():
    book = book_of('<ul><li>one</li><iframe src="https://youtu.be/YrpK90bHO2U"></iframe></ul>'
                   '<dl><dt>t</dt><iframe src="https://youtu.be/YrpK90bHO2U"></iframe></dl>')
    detect(book)
    render(book, None)
    body = book.chapters[0].body
    assert [c.tag for c in body.find("ul")] == ["li", "li"]
    assert [c.tag for c in body.find("dl")] == ["dt", "dd"]


def test_start_time_is_shown():
    book = book_of('<iframe src="//www.youtube.com/embed/pga5kyweM9g?start=6175"></iframe>')
    detect(book)
    render(book, None)
    assert "Starts at 1:42:55" in " ".join(book.chapters[0].body.itertext())


def test_language_tags_are_kept_only_when_well_formed():
    book, e = one('<blockquote class="twitter-tweet" data-lang="en_US"><p lang="x y" dir="RTL">Hi '
                  '<span lang="zh-Hant">你好</span></p>&mdash; A (@a) <a href="https://twitter.com/a/'
                  'status/1">May 1</a></blockquote>')
    assert e.extra["lang"] == "en-US"
    p = e.body[0]
    assert p.get("lang") is None and p.get("dir") == "rtl"
    assert p.find("span").get("lang") == "zh-Hant"
