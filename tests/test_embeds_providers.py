"""One test per provider and markup variant: the Embed each recognizer makes from real embed code."""

from __future__ import annotations

import pytest

from pubpipe.embeds import detect, registry, render, resolve_url
from test_embeds import book_of, one, tags


# --- Vimeo -----------------------------------------------------------------------------------

@pytest.mark.parametrize("src", [
    "https://player.vimeo.com/video/65678345?color=004cff&title=0&byline=0&portrait=0",
    "//player.vimeo.com/video/65678345", "https://vimeo.com/65678345"])
def test_vimeo(src):
    _, e = one(f'<iframe src="{src}" width="610" height="343"></iframe>')
    assert (e.provider, e.url, e.kind) == ("vimeo", "https://vimeo.com/65678345", "video")


def test_vimeo_private_hash_and_attribution_line():
    book, e = one('<iframe src="https://player.vimeo.com/video/123456789?h=abcdef1234" '
                  'width="640"></iframe>\n<p><a href="https://vimeo.com/123456789">The Film</a> from '
                  '<a href="https://vimeo.com/maker">A Maker</a> on <a href="https://vimeo.com">Vimeo'
                  '</a>.</p><p>Next paragraph.</p>')
    assert e.url == "https://vimeo.com/123456789/abcdef1234"
    assert (e.title, e.author) == ("The Film", "A Maker")
    assert [p for p in book.chapters[0].body.iter("p")][0].text == "Next paragraph."


# --- Instagram, TikTok, Mastodon -------------------------------------------------------------

def test_instagram_old_embed_with_caption_link():
    html = ('<blockquote class="instagram-media" data-instgrm-version="7"><div><p><a '
            'href="https://www.instagram.com/p/BcdEfg123/" target="_blank">Sunset at the lake '
            '#nofilter</a></p><p>A post shared by <a href="https://www.instagram.com/someone/">Some One'
            '</a> (@someone) on <time datetime="2017-07-20T17:00:00+00:00">Jul 20, 2017 at 10:00am '
            'PDT</time></p></div></blockquote><script async defer src="//platform.instagram.com/en_US/'
            'embeds.js"></script>')
    book, e = one(html)
    assert e.url == "https://www.instagram.com/p/BcdEfg123/"
    assert e.text == "Sunset at the lake #nofilter"
    assert (e.author, e.handle) == ("Some One", "someone")
    assert e.date.startswith("Jul 20, 2017")
    assert "script" not in tags(book)


def test_instagram_reel_url_and_shortcode():
    assert resolve_url("https://www.instagram.com/reel/Cabc123XYZ/?igsh=x").url == \
        "https://www.instagram.com/reel/Cabc123XYZ/"
    _, e = one("<pp-shortcode data-name='instagram' data-args='BWNjjyYFxVx' "
               "data-syntax='hugo'></pp-shortcode>")
    assert e.url == "https://www.instagram.com/p/BWNjjyYFxVx/"


def test_tiktok_blockquote():
    html = ('<blockquote class="tiktok-embed" cite="https://www.tiktok.com/@scout2015/video/'
            '6718335390845095173" data-video-id="6718335390845095173"><section><a target="_blank" '
            'href="https://www.tiktok.com/@scout2015">@scout2015</a><p>Guess my name '
            '<a href="https://www.tiktok.com/tag/fyp">#fyp</a></p><a href="https://www.tiktok.com/'
            'music/x">♬ original sound - tiff</a></section></blockquote>'
            '<script async src="https://www.tiktok.com/embed.js"></script>')
    book, e = one(html)
    assert (e.provider, e.kind, e.handle) == ("tiktok", "social", "scout2015")
    assert e.text == "Guess my name #fyp\n\n♬ original sound - tiff"
    assert "script" not in tags(book)


@pytest.mark.parametrize("src, url, handle", [
    ("https://mastodon.social/@Gargron/109399924245634476/embed",
     "https://mastodon.social/@Gargron/109399924245634476", "Gargron@mastodon.social"),
    ("https://hachyderm.io/users/nova/statuses/1100/embed", "https://hachyderm.io/@nova/1100",
     "nova@hachyderm.io")])
def test_mastodon_iframe_any_instance(src, url, handle):
    book, e = one(f'<iframe src="{src}" class="mastodon-embed" width="400"></iframe>'
                  '<script src="https://mastodon.social/embed.js" async="async"></script>')
    assert (e.provider, e.url, e.handle) == ("mastodon", url, handle)
    assert "script" not in tags(book)


def test_mastodon_plain_status_iframe_without_embed_suffix_is_generic():
    _, e = one('<iframe src="https://example.org/@someone/12345"></iframe>')
    assert e.provider == "iframe"


def test_mastodon_blockquote():
    html = ('<blockquote class="mastodon-embed" data-embed-url="https://fosstodon.org/@kev/1133/embed">'
            '<a href="https://fosstodon.org/@kev/1133"><svg viewBox="0 0 1 1"><path d="M0 0"/></svg>'
            '<div>Post by @kev@fosstodon.org</div><div>View on Mastodon</div></a></blockquote>')
    _, e = one(html)
    assert (e.url, e.handle) == ("https://fosstodon.org/@kev/1133", "kev@fosstodon.org")
    assert e.body is None  # the blockquote holds no post text, only the link


# --- Gist, CodePen ---------------------------------------------------------------------------

@pytest.mark.parametrize("html, url, file", [
    ('<script src="https://gist.github.com/jessfraz/4a6de0e4e9b4d54f5a2c.js"></script>',
     "https://gist.github.com/jessfraz/4a6de0e4e9b4d54f5a2c", ""),
    ('<script src="https://gist.github.com/jessfraz/4a6de0e4e9b4d54f5a2c.js?file=getpid.c"></script>',
     "https://gist.github.com/jessfraz/4a6de0e4e9b4d54f5a2c", "getpid.c"),
    ("<pp-shortcode data-name='gist' data-args='spf13 7896402' data-syntax='hugo'></pp-shortcode>",
     "https://gist.github.com/spf13/7896402", ""),
    ("<pp-shortcode data-name='gist' data-args='spf13 7896402 \"img.html\"' data-syntax='hugo'>"
     "</pp-shortcode>", "https://gist.github.com/spf13/7896402", "img.html"),
    ("<pp-shortcode data-name='gist' data-args='parkr/931c1c8d465a04042403 jekyll-private-gist.markdown'"
     " data-syntax='liquid'></pp-shortcode>",
     "https://gist.github.com/parkr/931c1c8d465a04042403", "jekyll-private-gist.markdown"),
])
def test_gist(html, url, file):
    book, e = one(html)
    assert (e.provider, e.url, e.extra.get("file", "")) == ("gist", url, file)
    assert "script" not in tags(book) and "pp-shortcode" not in tags(book)


def test_other_scripts_are_not_gists():
    book = book_of('<script src="https://example.org/gist.github.com.js"></script>')
    detect(book)
    assert not book.embeds


@pytest.mark.parametrize("html", [
    '<p class="codepen" data-height="265" data-slug-hash="gfdDu" data-user="chriscoyier" '
    'data-pen-title="Pen Title"><span>See the Pen <a href="https://codepen.io/chriscoyier/pen/gfdDu">'
    'Pen Title</a> by Chris Coyier (<a href="https://codepen.io/chriscoyier">@chriscoyier</a>) on '
    '<a href="https://codepen.io">CodePen</a>.</span></p>'
    '<script async src="https://static.codepen.io/assets/embed/ei.js"></script>',
    '<iframe height="265" scrolling="no" title="Pen Title" src="https://codepen.io/chriscoyier/embed/'
    'gfdDu?height=265&theme-id=0&default-tab=css,result" frameborder="no"></iframe>',
])
def test_codepen(html):
    book, e = one(html)
    assert (e.provider, e.url, e.handle) == ("codepen", "https://codepen.io/chriscoyier/pen/gfdDu",
                                              "chriscoyier")
    assert e.title == "Pen Title"
    assert "script" not in tags(book)


# --- audio -----------------------------------------------------------------------------------

def test_soundcloud_api_track_without_attribution():
    _, e = one('<iframe width="100%" height="166" src="https://w.soundcloud.com/player/?url='
               'https%3A//api.soundcloud.com/tracks/293&amp;color=ff5500"></iframe>')
    assert (e.provider, e.kind, e.url) == ("soundcloud", "audio", "https://api.soundcloud.com/tracks/293")


@pytest.mark.parametrize("src, url, label", [
    ("https://open.spotify.com/embed/episode/7makk4oTQel546B0PZlDM5?utm_source=generator",
     "https://open.spotify.com/episode/7makk4oTQel546B0PZlDM5", "Spotify episode"),
    ("https://open.spotify.com/embed-podcast/episode/7makk4oTQel546B0PZlDM5",
     "https://open.spotify.com/episode/7makk4oTQel546B0PZlDM5", "Spotify episode"),
    ("https://open.spotify.com/embed/playlist/37i9dQZF1DXcBWIGoYBM5M",
     "https://open.spotify.com/playlist/37i9dQZF1DXcBWIGoYBM5M", "Spotify playlist"),
    ("https://embed.spotify.com/?uri=spotify:track:4cOdK2wGLETKBW3PvgPWqT",
     "https://open.spotify.com/track/4cOdK2wGLETKBW3PvgPWqT", "Spotify track"),
])
def test_spotify(src, url, label):
    _, e = one(f'<iframe src="{src}" width="100%" height="152"></iframe>')
    assert (e.provider, e.url, e.extra["label"]) == ("spotify", url, label)


def test_audio_element_with_sources_and_fallback():
    book, e = one('<audio controls><source src="talk.ogg" type="audio/ogg"><source src='
                  '"https://example.org/talk.mp3" type="audio/mpeg">Listen to <a href='
                  '"https://example.org/talk.mp3">the talk</a>.</audio>')
    assert (e.provider, e.kind, e.url) == ("audio", "audio", "https://example.org/talk.mp3")
    assert e.text == "Listen to the talk."
    assert not {"audio", "source"} & set(tags(book))


def test_video_poster_and_title():
    _, e = one('<video src="//cdn.example.org/a.mp4" poster="//cdn.example.org/a.jpg" title="Harbour">'
               '</video>')
    assert (e.url, e.thumbnail, e.title) == ("https://cdn.example.org/a.mp4",
                                             "https://cdn.example.org/a.jpg", "Harbour")


# --- maps, objects, generic ------------------------------------------------------------------

def test_google_maps_place_and_key_never_kept():
    e = resolve_url("https://www.google.com/maps/embed/v1/place?key=SECRETKEY&q=Eiffel+Tower,Paris")
    assert e.provider == "googlemaps" and "SECRETKEY" not in e.url
    assert e.url == "https://www.google.com/maps/search/?api=1&query=Eiffel%20Tower%2CParis"
    e = resolve_url("https://maps.google.com/maps?q=52.5,13.4&z=14&output=embed")
    assert e.url == "https://www.google.com/maps/search/?api=1&query=52.5%2C13.4"


def test_openstreetmap_marker():
    e = resolve_url("https://www.openstreetmap.org/export/embed.html?bbox=13.3,52.5,13.4,52.6"
                    "&layer=mapnik&marker=52.55,13.35")
    assert e.provider == "openstreetmap" and "mlat=52.55" in e.url


def test_flash_object_keeps_fallback_text():
    book, e = one('<object type="application/x-shockwave-flash" data="https://example.com/a.swf">'
                  '<param name="movie" value="https://example.com/a.swf"><p>Needs Flash.</p></object>')
    assert (e.provider, e.url, e.text) == ("plugin", "https://example.com/a.swf", "Needs Flash.")
    assert "Flash" in e.extra["label"]
    assert not {"object", "param"} & set(tags(book))


def test_svg_object_shows_the_image_when_it_can():
    _, e = one('<object data="diagram.svg" type="image/svg+xml">A diagram</object>')
    assert e.thumbnail == "diagram.svg" and e.text == "A diagram"


def test_srcdoc_iframe_keeps_its_text():
    _, e = one('<iframe srcdoc="<p>Hello <b>inline</b> world</p>"></iframe>')
    assert e.provider == "iframe" and e.text == "Hello inline world"


def test_iframe_without_src_is_not_lost():
    book, e = one('<iframe width="10"></iframe>')
    assert e.provider == "iframe" and e.url == ""


# --- shortcodes, Liquid, front matter --------------------------------------------------------

@pytest.mark.parametrize("name, args, syntax, url", [
    ("youtube", '"3mdiCUbgxi0"', "hugo", "https://www.youtube.com/watch?v=3mdiCUbgxi0"),
    ("youtube", 'id="w7Ft2ymGmfc" title="A talk" start="30"', "hugo",
     "https://www.youtube.com/watch?v=w7Ft2ymGmfc&t=30s"),
    ("youtube", "https://youtu.be/w7Ft2ymGmfc", "liquid", "https://www.youtube.com/watch?v=w7Ft2ymGmfc"),
    ("include", 'youtube.html id="4yanGsSk8rw"', "liquid",
     "https://www.youtube.com/watch?v=4yanGsSk8rw"),
    ("include", 'video/youtube-player.html video_id="4yanGsSk8rw"', "liquid",
     "https://www.youtube.com/watch?v=4yanGsSk8rw"),
    ("include", 'vimeo.html id="65678345"', "liquid", "https://vimeo.com/65678345"),
    ("vimeo", "146022717", "hugo", "https://vimeo.com/146022717"),
    ("include", 'tweet.html url="https://twitter.com/a/status/9"', "liquid",
     "https://twitter.com/a/status/9"),
    ("twitter", "https://twitter.com/jekyllrb/status/673678402917183488", "liquid",
     "https://twitter.com/jekyllrb/status/673678402917183488"),
    ("x", 'user="SanDiegoZoo" id="1453110110599868418"', "hugo",
     "https://twitter.com/SanDiegoZoo/status/1453110110599868418"),
])
def test_shortcodes(name, args, syntax, url):
    book, e = one(f"<p>Intro</p><pp-shortcode data-name='{name}' data-args='{args}' "
                  f"data-syntax='{syntax}'></pp-shortcode>")
    assert e.url == url
    assert "pp-shortcode" not in tags(book)


def test_shortcode_with_template_variable_warns_and_stays():
    book = book_of("<pp-shortcode data-name='include' data-args='youtube.html id=page.video' "
                   "data-syntax='liquid'></pp-shortcode>")
    detect(book)
    assert not book.embeds and "pp-shortcode" in tags(book)
    assert [d.code for d in book.diagnostics] == ["embed-unresolved"]


def test_front_matter_embeds():
    meta = {"youtube": "aqz-KE-bpKQ", "twitter": "jessfraz",  # a handle, not a post
            "embed": '<iframe src="https://player.vimeo.com/video/65678345" width="610"></iframe>',
            "embeds": ["https://open.spotify.com/episode/7makk4oTQel546B0PZlDM5",
                       "https://example.org/some/page"],
            "video": "https://media.example.org/clip.mp4",
            "links": [{"url": "https://youtu.be/4xJCP3eecG8"}]}  # just links: not embeds
    book = book_of("<header><h1>T</h1></header><p>Body.</p>", meta=meta)
    detect(book)
    got = [e.url for e in book.embeds.values()]
    assert got == ["https://www.youtube.com/watch?v=aqz-KE-bpKQ", "https://vimeo.com/65678345",
                   "https://open.spotify.com/episode/7makk4oTQel546B0PZlDM5",
                   "https://example.org/some/page", "https://media.example.org/clip.mp4"]
    body = book.chapters[0].body
    assert body[0].tag == "header" and [el.tag for el in body[1:6]] == ["pp-embed"] * 5
    assert body[6].tag == "p"


def test_registry_finds_every_provider_module():
    names = {p.name for p in registry.providers()}
    assert {"youtube", "vimeo", "twitter", "instagram", "tiktok", "mastodon", "gist", "codepen",
            "soundcloud", "spotify", "googlemaps", "media", "plugin", "iframe"} <= names
    assert registry.providers()[-1].name == "iframe"  # the generic fallback is asked last


def test_locations_point_at_the_source_line():
    src = "Intro\n\nMore\n\n<iframe src=\"https://www.youtube.com/embed/YrpK90bHO2U\"></iframe>\n"
    book = book_of('<p>Intro</p><p>More</p><iframe src="https://www.youtube.com/embed/YrpK90bHO2U">'
                   '</iframe>', source=src)
    detect(book)
    e = next(iter(book.embeds.values()))
    assert e.location.line == 5 and str(e.location.file) == "post.md"


# --- more providers --------------------------------------------------------------------------

def test_bluesky_blockquote():
    html = ('<blockquote class="bluesky-embed" data-bluesky-uri="at://did:plc:abc/app.bsky.feed.post/'
            '3kxyz" data-bluesky-cid="bafy"><p lang="en">Hello from the sky <a href="https://example.org">'
            'example.org</a></p>&mdash; Jay (<a href="https://bsky.app/profile/did:plc:abc?ref_src=embed">'
            '@jay.bsky.team</a>) <a href="https://bsky.app/profile/did:plc:abc/post/3kxyz?ref_src=embed">'
            'May 2, 2024 at 10:00</a></blockquote><script async src="https://embed.bsky.app/static/'
            'embed.js" charset="utf-8"></script>')
    book, e = one(html)
    assert (e.provider, e.url) == ("bluesky", "https://bsky.app/profile/did:plc:abc/post/3kxyz")
    assert (e.author, e.handle, e.date) == ("Jay", "jay.bsky.team", "May 2, 2024 at 10:00")
    assert e.text == "Hello from the sky example.org"
    assert "script" not in tags(book)


def test_facebook_post_div_and_iframe():
    html = ('<div class="fb-post" data-href="https://www.facebook.com/20531316728/posts/10154009990506729/"'
            ' data-width="500"><blockquote cite="https://www.facebook.com/20531316728/posts/1015/" '
            'class="fb-xfbml-parse-ignore"><p>Our new office is open.</p>Posted by <a href="https://www.'
            'facebook.com/facebook/">Facebook</a> on <a href="https://www.facebook.com/20531316728/posts/'
            '1015/">Thursday, 27 August 2015</a></blockquote></div>'
            '<script async defer src="https://connect.facebook.net/en_US/sdk.js#xfbml=1"></script>')
    book, e = one(html)
    assert e.url == "https://www.facebook.com/20531316728/posts/10154009990506729/"
    assert e.text == "Our new office is open."
    assert e.extra["byline"] == "Posted by Facebook on Thursday, 27 August 2015"
    assert "script" not in tags(book)
    _, e = one('<iframe src="https://www.facebook.com/plugins/video.php?href=https%3A%2F%2Fwww.facebook'
               '.com%2Ffacebook%2Fvideos%2F10153231379946729%2F&width=500"></iframe>')
    assert (e.kind, e.url) == ("video", "https://www.facebook.com/facebook/videos/10153231379946729/")


def test_reddit_blockquote():
    html = ('<blockquote class="reddit-embed-bq" style="height:500px" data-embed-height="740"><a '
            'href="https://www.reddit.com/r/rust/comments/abc123/some_title/">Some title</a><br> by<a '
            'href="https://www.reddit.com/user/ferris/">u/ferris</a> in<a href="https://www.reddit.com/r/'
            'rust/">rust</a></blockquote><script async src="https://embed.reddit.com/widgets.js" '
            'charset="UTF-8"></script>')
    book, e = one(html)
    assert (e.provider, e.url, e.title) == ("reddit", "https://www.reddit.com/r/rust/comments/abc123/"
                                            "some_title/", "Some title")
    assert "script" not in tags(book)


@pytest.mark.parametrize("src, provider, url", [
    ("https://cdn.embedly.com/widgets/media.html?src=https%3A%2F%2Fwww.youtube.com%2Fembed%2FYrpK90bHO2U"
     "&url=http%3A%2F%2Fwww.youtube.com%2Fwatch%3Fv%3DYrpK90bHO2U&type=text%2Fhtml&schema=youtube",
     "youtube", "https://www.youtube.com/watch?v=YrpK90bHO2U"),
    ("https://www.dailymotion.com/embed/video/x7tgad0", "dailymotion",
     "https://www.dailymotion.com/video/x7tgad0"),
    ("https://player.twitch.tv/?video=v123456&parent=example.org", "twitch",
     "https://www.twitch.tv/videos/123456"),
    ("https://www.loom.com/embed/0281766fa2d04bb788eaf19e65135184", "loom",
     "https://www.loom.com/share/0281766fa2d04bb788eaf19e65135184"),
    ("https://embed.ted.com/talks/ken_robinson_do_schools_kill_creativity", "ted",
     "https://www.ted.com/talks/ken_robinson_do_schools_kill_creativity"),
    ("https://codesandbox.io/embed/new?fontsize=14", "codesandbox", "https://codesandbox.io/s/new"),
    ("//jsfiddle.net/user1/a1b2c3/embedded/js,result/", "jsfiddle", "https://jsfiddle.net/user1/a1b2c3/"),
    ("https://embed.podcasts.apple.com/us/podcast/the-daily/id1200361736?i=1000650000000",
     "applepodcasts", "https://podcasts.apple.com/us/podcast/the-daily/id1200361736?i=1000650000000"),
    ("https://www.linkedin.com/embed/feed/update/urn:li:share:7100000000000000000", "linkedin",
     "https://www.linkedin.com/feed/update/urn:li:share:7100000000000000000/"),
])
def test_more_iframe_providers(src, provider, url):
    _, e = one(f'<iframe src="{src}" width="500" height="300"></iframe>')
    assert (e.provider, e.url) == (provider, url)


def test_bandcamp_fallback_link_names_the_album():
    _, e = one('<iframe style="border: 0; width: 350px; height: 470px;" src="https://bandcamp.com/'
               'EmbeddedPlayer/album=1234567/size=large/" seamless><a href="https://artist.bandcamp.com/'
               'album/record">Record by Artist</a></iframe>')
    assert (e.provider, e.url, e.title) == ("bandcamp", "https://artist.bandcamp.com/album/record",
                                            "Record by Artist")


def test_generic_iframe_keeps_its_fallback_link():
    _, e = one('<iframe src="https://example.org/w"><p>See <a href="https://example.org/page">the '
               'chart</a>.</p></iframe>')
    assert e.provider == "iframe" and e.text == "See the chart."


def test_lite_youtube_and_lite_vimeo():
    book = book_of('<lite-youtube videoid="ogfYd705cRs" params="start=10" playlabel="Play: Keynote">'
                   '</lite-youtube><lite-vimeo videoid="364402896"></lite-vimeo>')
    detect(book)
    assert [e.url for e in book.embeds.values()] == [
        "https://www.youtube.com/watch?v=ogfYd705cRs&t=10s", "https://vimeo.com/364402896"]


def test_wordpress_embed_block_keeps_its_caption():
    book = book_of('<figure class="wp-block-embed is-type-video is-provider-youtube wp-block-embed-'
                   'youtube"><div class="wp-block-embed__wrapper">\nhttps://www.youtube.com/watch?v='
                   'YrpK90bHO2U\n</div><figcaption>The episode</figcaption></figure>')
    detect(book)
    render(book, None)
    fig = book.chapters[0].body.find("figure")
    assert fig[0].tag == "div" and "pp-embed-youtube" in fig[0].get("class")
    assert fig.find("figcaption").text == "The episode"


def test_more_url_variants():
    assert resolve_url("https://twitter.com/i/web/status/1020194136710819841").url == \
        "https://twitter.com/i/status/1020194136710819841"
    assert resolve_url("https://vimeo.com/showcase/7654321/embed").url == \
        "https://vimeo.com/showcase/7654321"
    assert resolve_url("https://www.youtube.com/embed/videoseries?list=PLx0sYbCqOb8TBPRdmBHs5Iftvv9TPboYG"
                       ).url == "https://www.youtube.com/playlist?list=PLx0sYbCqOb8TBPRdmBHs5Iftvv9TPboYG"
