"""Embeds end to end: the fixture post with every embed kind (and the seed post) built through the
real pipeline with no network; EPUBCheck, leftover markup, links, texts, and QR codes decoded
from the rendered PDF pages with zbarimg."""

from __future__ import annotations

import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from lxml import etree

from conftest import SEED, corpus_files, needs_shared
from epubcheck_runner import run_epubcheck
from textcheck import epub_text, kept_ratio, pdf_text, source_words

from pubpipe import config, pipeline

FIXTURE = Path(__file__).parent / "fixtures" / "embeds" / "every-embed.md"
LEFTOVER = ("iframe", "script", "object", "embed", "audio", "video", "source")

# Canonical URL of every embed in the fixture, and those the paper edition must QR-code.
CANONICAL = {
    "https://www.youtube.com/watch?v=aqz-KE-bpKQ",  # front matter
    "https://www.youtube.com/watch?v=YrpK90bHO2U",
    "https://www.youtube.com/watch?v=D5wu_za7ows&t=95s",
    "https://www.youtube.com/watch?v=pga5kyweM9g&t=6175s",
    "https://www.youtube.com/watch?v=xb_PyKuI7II",  # bare link
    "https://www.youtube.com/watch?v=3mdiCUbgxi0",  # Hugo shortcode
    "https://www.youtube.com/watch?v=4yanGsSk8rw",  # Liquid include
    "https://vimeo.com/65678345",
    "https://media.example.org/clips/harbour.mp4",
    "https://twitter.com/manyapan/status/1020194136710819841",
    "https://x.com/kelseyhightower/status/1240003938428514304",
    "https://twitter.com/SanDiegoZoo/status/1453110110599868418",
    "https://www.instagram.com/p/CxyzAbC1234/",
    "https://www.tiktok.com/@scout2015/video/6718335390845095173",
    "https://mastodon.social/@Gargron/109399924245634476",
    "https://fosstodon.org/@kev/113380372473475432",
    "https://gist.github.com/jessfraz/4a6de0e4e9b4d54f5a2c2a1f0e3b8d21",
    "https://gist.github.com/spf13/7896402",
    "https://codepen.io/chriscoyier/pen/gfdDu",
    "https://codepen.io/enxaneta/pen/adLPwv",
    "https://soundcloud.com/psdub/sonic-chemical-plant-zone",
    "https://open.spotify.com/episode/7makk4oTQel546B0PZlDM5",
    "https://open.spotify.com/track/4cOdK2wGLETKBW3PvgPWqT",
    "https://media.example.org/podcast/episode-12.mp3",
    "https://www.google.com/maps/search/?api=1&query=Brandenburger%20Tor",
    "https://datawrapper.dwcdn.net/abc12/3/",
    "https://www.example.com/flash/orbit-simulator.swf",
    "https://www.example.com/papers/orbits.pdf",
}
MUST_QR = {u for u in CANONICAL if re.search(
    r"youtube|vimeo|twitter|x\.com|gist|spotify\.com/episode|instagram", u)}
PROVIDERS = ("YouTube", "Vimeo", "X (Twitter)", "Instagram", "TikTok", "Mastodon", "GitHub Gist",
             "CodePen", "SoundCloud", "Spotify", "Google Maps", "datawrapper.dwcdn.net")
TEXTS = (  # full post texts and captions, whitespace folded
    "Interesting to see the huge difference in which the Social Credit System is illustrated in "
    "foreign vs Chinese media. Check out these 10 state media cartoons on social credit here: "
    "https://t.co/lIyMhaMnFb #socialcredit #China pic.twitter.com/565DZqvD6L",
    "Manya Koetse (@manyapan)", "July 20, 2018",
    "HOWEVER: This is not a tech problem. Stay home, wash your hands",
    "Morning light over the Spree, shot on film #berlin #analog",
    "Scramble up ur name & I’ll try to guess it",
    "Black Mirror, ‘Nosedive’ episode showcasing a concern for social credit systems.",
    "A stark contrast between how the west and China view the social credit system.",
    "The orbit simulator needs the Flash plugin.",
    "Your browser cannot play the harbour timelapse; download it instead.",
    "Sonic 2, Chemical Plant Zone (remix)",
)


def _build(src: Path, out: Path, formats=("epub", "pdf")) -> pipeline.BuildResult:
    cfg = config.load(src)
    return pipeline.build(cfg, pipeline.BuildOptions(formats=formats, out_dir=out, offline=True,
                                                     cache_dir=out / "cache"))


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("embeds")
    books = {}
    for name, src in (("fixture", FIXTURE), ("seed", SEED)):
        if not src.is_file():
            continue
        folder = root / name
        folder.mkdir()
        shutil.copy(src, folder / src.name)
        books[name] = _build(folder / src.name, folder / "out")
    return books


def _xhtml(epub: Path) -> dict[str, etree._Element]:
    with zipfile.ZipFile(epub) as z:
        return {n: etree.fromstring(z.read(n)) for n in z.namelist() if n.endswith(".xhtml")}


def _fold(s: str) -> str:
    return " ".join(s.split())


@pytest.mark.slow
def test_epubs_pass_epubcheck(built):
    epubs = [r.outputs["epub"] for r in built.values()]
    results = run_epubcheck(epubs)
    for p, r in results.items():
        assert r.clean, r.report()


@pytest.mark.slow
def test_epub_has_no_embed_markup_and_links_every_embed(built, tmp_path):
    epub = built["fixture"].outputs["epub"]
    docs = _xhtml(epub)
    hrefs, text = set(), ""
    for name, root in docs.items():
        for el in root.iter():
            if isinstance(el.tag, str):
                local = etree.QName(el).localname
                assert local not in LEFTOVER, f"{local} left in {name}"
                if local == "a" and el.get("href"):
                    hrefs.add(el.get("href"))
                if local == "img":  # nothing remote: images are in the package
                    assert not re.match(r"^(https?:)?//", el.get("src") or ""), el.get("src")
    text = _fold(epub_text(epub))
    assert not (CANONICAL - hrefs), sorted(CANONICAL - hrefs)
    for t in TEXTS:
        assert _fold(t) in text, t
    for name in PROVIDERS:
        assert name in text, name
    with zipfile.ZipFile(epub) as z:
        opf = next(z.read(n).decode() for n in z.namelist() if n.endswith(".opf"))
    assert "remote-resources" not in opf and "scripted" not in opf
    # Shortcode syntax ({{< tweet user=... >}}, {% include ... %}) is not what readers see.
    plain = tmp_path / "plain.md"
    plain.write_text(re.sub(r"\{\{<.*?>\}\}|\{%.*?%\}", "", FIXTURE.read_text()))
    ratio, missing = kept_ratio(source_words(plain), epub_text(epub))
    assert ratio >= 0.995, sorted(missing)


@pytest.mark.slow
def test_seed_post_keeps_tweet_and_caption(built):
    if "seed" not in built:
        pytest.skip("seed post not present")
    text = _fold(epub_text(built["seed"].outputs["epub"]))
    assert "Interesting to see the huge difference" in text and "pic.twitter.com/565DZqvD6L" in text
    assert "Black Mirror, ‘Nosedive’ episode" in text or "Black Mirror, 'Nosedive' episode" in text
    assert "https://www.youtube.com/watch?v=YrpK90bHO2U" in text


@pytest.mark.slow
@pytest.mark.skipif(not shutil.which("zbarimg") or not shutil.which("pdftoppm"),
                    reason="zbarimg/pdftoppm not installed")
def test_pdf_qr_codes_decode_to_canonical_urls(built, tmp_path):
    pdf = built["fixture"].outputs["pdf"]
    for dpi in (150, 72):  # 72 dpi: codes are big enough for a coarse scan too
        subprocess.run(["pdftoppm", "-r", str(dpi), "-png", str(pdf), str(tmp_path / f"p{dpi}")],
                       check=True)
        pages = sorted(tmp_path.glob(f"p{dpi}*.png"))
        out = subprocess.run(["zbarimg", "-q", "--raw", *map(str, pages)], capture_output=True,
                             text=True)
        decoded = set(out.stdout.split())
        assert not (MUST_QR - decoded), (dpi, sorted(MUST_QR - decoded))
        assert decoded <= CANONICAL, sorted(decoded - CANONICAL)
    text = _fold(pdf_text(pdf))
    for name in ("YouTube", "X (Twitter)", "Instagram", "GitHub Gist", "Spotify"):
        assert name.upper() in text.upper(), name
    assert _fold(TEXTS[0]).replace(" ", "") in text.replace(" ", "")


@pytest.mark.slow
@needs_shared
def test_corpus_embeds_become_cards(tmp_path):
    """Every corpus post: no embed markup survives the transforms and each embed gets a card."""
    for md in corpus_files():
        cfg = config.load(md)
        book, _ = pipeline.prepare(cfg, pipeline.BuildOptions(formats=("epub",), offline=True,
                                                              cache_dir=tmp_path / "empty"))
        for ch in book.chapters:
            tags = {el.tag for el in ch.body.iter() if isinstance(el.tag, str)}
            assert not tags & set(LEFTOVER) - {"script"}, (md.name, tags & set(LEFTOVER))
            assert "pp-embed" not in tags, md.name
            cards = [el for el in ch.body.iter() if "pp-embed" in (el.get("class") or "").split()]
            assert len(cards) == len(book.embeds), md.name
            for e in book.embeds.values():
                assert any(a.get("href") == e.url for c in cards for a in c.iter("a")), e.url


@pytest.mark.slow
def test_video_poster_is_fetched_into_the_book(httpserver, tmp_path):
    """Online, a <video poster> comes through the asset store; the drawn placeholder is still there
    (CSS hides it after a poster) and nothing remote is left."""
    from io import BytesIO

    from PIL import Image

    buf = BytesIO()
    Image.new("RGB", (320, 180), "navy").save(buf, "JPEG")
    httpserver.expect_request("/poster.jpg").respond_with_data(buf.getvalue(),
                                                               content_type="image/jpeg")
    poster = httpserver.url_for("/poster.jpg")
    md = tmp_path / "post.md"
    md.write_text(f"# Clip\n\n<video src=\"https://example.org/clip.mp4\" poster=\"{poster}\">"
                  "A clip of the harbour.</video>\n", encoding="utf-8")
    cfg = config.load(md)
    cfg.assets.allow_private_hosts = True  # the loopback test server
    book, _ = pipeline.prepare(cfg, pipeline.BuildOptions(formats=("epub",), offline=False,
                                                          cache_dir=tmp_path / "cache"))
    body = book.chapters[0].body
    img = body.find(".//img[@class='pp-embed-poster']")
    assert img is not None and img.get("data-pp-asset") in book.assets
    assert book.assets[img.get("data-pp-asset")].ok
    assert img.getnext() is not None and "pp-embed-placeholder" in img.getnext().get("class")
    assert "A clip of the harbour." in " ".join(" ".join(body.itertext()).split())
