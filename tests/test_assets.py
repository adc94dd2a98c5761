"""The assets stage against a loopback server: good images processed, bad ones replaced by named
placeholders, every failure reported with file:line, the build bounded in time, and an offline
rebuild served from the cache with zero requests and no image work."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from lxml import etree, html
from PIL import Image

from assets_fixtures import images as fx
from assets_fixtures.server import ImageServer
from pubpipe.assets.store import AssetStore
from pubpipe.config import AssetsSection
from pubpipe.document import Book, BookMeta, Chapter, Severity
from pubpipe.transforms import assets as assets_stage

GOOD_PATHS = ["/big.jpg", "/rotated.jpg", "/cmyk.jpg", "/alpha.png", "/anim.gif", "/photo.webp",
              "/gray16.png", "/image?id=42", "/icon.png", "/redirect", "/clean.svg"]
BAD_PATHS = ["/404.png", "/500.jpg", "/loop-a", "/trickle.jpg", "/truncated.jpg", "/fake.jpg",
             "/bomb.png"]
UNRESOLVABLE = "http://no-such-host.invalid/picture.jpg"
LOCAL_BAD = ["missing.png", "../../outside.png", "/etc/passwd", "file:///etc/hostname",
             "dtd.svg", "javascript:alert(1)"]


@pytest.fixture(scope="module")
def server():
    s = ImageServer().start()
    yield s
    s.stop()


def _post_html(server: ImageServer) -> str:
    """One image per line, so each element's sourceline is its line in post.md."""
    lines = ["<div>"]
    for p in GOOD_PATHS + BAD_PATHS:
        lines.append(f'<p><img src="{server.url(p)}" alt="alt for {p}"/></p>')
    lines += [
        f'<p><img src="{UNRESOLVABLE}" alt="unresolvable"/></p>',
        # the same remote image twice, and a local copy of a remote image's bytes
        f'<p>Again: <img src="{server.url("/big.jpg")}" alt="big again"/> inline.</p>',
        '<p><img src="dup.png" alt="local duplicate of the icon"/></p>',
        '<p><img src="photo.jpg" alt="local photo"/></p>',
        '<p><img src="my%20photo.png?v=2#frag" alt="percent-encoded name"/></p>',
        '<p><img src="script.svg" alt="svg with script"/></p>',
        f'<p><img src="{fx_data_uri()}" alt="data uri"/></p>',
    ]
    for ref in LOCAL_BAD:
        lines.append(f'<p><img src="{ref}" alt="bad {ref}"/></p>')
    lines += [
        f'<figure><img src="{server.url("/404.png")}?in=figure" alt="figure alt"/>',
        "<figcaption>The caption of a lost figure</figcaption></figure>",
        f'<p><a href="https://example.org/"><img src="{server.url("/500.jpg")}?in=link"'
        ' alt="linked"/></a></p>',
        f'<div class="embed"><img src="{server.url("/404.png")}?poster" data-pp-optional="1"'
        ' alt="poster"/></div>',
        f'<p><img src="{server.url("/404.png")}?titled" alt="t" title="A title caption"/></p>',
        "</div>",
    ]
    return "\n".join(lines)


def fx_data_uri() -> str:
    import base64

    return "data:image/png;base64," + base64.b64encode(fx.small_png((1, 2, 3))).decode()


def _make_book_dir(root: Path, server: ImageServer) -> Path:
    book = root / "book"
    (book / "posts").mkdir(parents=True)
    (root / "outside.png").write_bytes(fx.small_png((9, 9, 9)))
    (book / "posts" / "dup.png").write_bytes(fx.icon_png())
    (book / "posts" / "photo.jpg").write_bytes(fx.rotated_jpeg())
    (book / "posts" / "my photo.png").write_bytes(fx.graphic_png(300, 200))
    (book / "posts" / "script.svg").write_bytes(fx.SVG_WITH_SCRIPT)
    (book / "posts" / "dtd.svg").write_bytes(fx.SVG_DTD)
    (book / "posts" / "post.md").write_text(_post_html(server), encoding="utf-8")
    return book


def _make_book(book_dir: Path) -> Book:
    source = book_dir / "posts" / "post.md"
    text = source.read_text(encoding="utf-8")
    body = html.fragment_fromstring(text)
    chapter = Chapter(source=source, body=body, title="Images", source_text=text, slug="images")
    return Book(BookMeta(title="Images"), root=book_dir, chapters=[chapter])


def _run(book_dir: Path, cache: Path, offline: bool = False, **settings):
    book = _make_book(book_dir)
    store = AssetStore(book.root, cache, AssetsSection(**{"allow_private_hosts": True, **settings}), offline=offline,
                       diagnostics=book.diagnostics, progress=None)
    t0 = time.monotonic()
    assets_stage.run(book, store, ("epub", "print"))
    return book, store, time.monotonic() - t0


@pytest.fixture(scope="module")
def built(server, tmp_path_factory):
    """One online build with the default settings (so the trickling server costs its full
    default budget), then an offline rebuild and an online (revalidating) rebuild."""
    root = tmp_path_factory.mktemp("assets")
    book_dir = _make_book_dir(root, server)
    cache = root / "cache"
    book, store, elapsed = _run(book_dir, cache)
    hits_after_first = server.total_hits
    offline_book, offline_store, offline_elapsed = _run(book_dir, cache, offline=True)
    hits_after_offline = server.total_hits
    return dict(book=book, store=store, elapsed=elapsed, cache=cache, book_dir=book_dir,
                hits_after_first=hits_after_first, hits_after_offline=hits_after_offline,
                offline_book=offline_book, offline_store=offline_store,
                offline_elapsed=offline_elapsed)


def _img_for(book: Book, ref: str) -> etree._Element | None:
    for img in book.chapters[0].body.iter("img"):
        if img.get("src") == ref:
            return img
    return None


def _asset(book: Book, ref: str):
    img = _img_for(book, ref)
    assert img is not None, f"{ref} was replaced, but it is a good image"
    return book.assets[img.get("data-pp-asset")]


def _open(variant) -> Image.Image:
    im = Image.open(variant.path)
    im.load()
    return im


def test_every_good_image_processed_for_both_profiles(built, server):
    book = built["book"]
    for path in GOOD_PATHS:
        asset = _asset(book, server.url(path))
        assert asset.ok and set(asset.variants) == {"epub", "print"}, path
        for profile, v in asset.variants.items():
            assert v.path.is_file() and v.path.is_relative_to(built["cache"])
            if v.media_type == "image/svg+xml":
                continue
            im = _open(v)
            assert im.mode in ("RGB", "RGBA"), (path, profile, im.mode)
            assert (im.width, im.height) == (v.width, v.height)
            assert max(im.size) <= 2000
            assert not im.info.get("exif") and not im.info.get("icc_profile"), path
            if profile == "epub":
                assert max(im.size) <= 1600
            else:
                assert im.width <= 1350 and im.height <= 1950


def test_sizes_formats_and_colour(built, server):
    book = built["book"]
    big = _asset(book, server.url("/big.jpg"))
    assert (big.variants["epub"].width, big.variants["epub"].height) == (1600, 1200)
    assert big.variants["epub"].media_type == "image/jpeg"
    assert big.variants["print"].width == 1350  # 4.5 in at 300 ppi

    rotated = _open(_asset(book, server.url("/rotated.jpg")).variants["epub"])
    assert rotated.size == (800, 1200)  # upright: portrait
    r, g, b = rotated.getpixel((400, 100))
    assert r > 200 and b < 60, "the red half must be on top after EXIF rotation"

    icon = _asset(book, server.url("/icon.png"))
    assert all((v.width, v.height) == (16, 16) for v in icon.variants.values())  # no upscaling

    alpha = _open(_asset(book, server.url("/alpha.png")).variants["epub"])
    assert alpha.format == "PNG" and alpha.mode == "RGBA" and alpha.getpixel((0, 0))[3] == 0

    gif = _asset(book, server.url("/anim.gif")).variants["epub"]
    gif_im = _open(gif)
    assert gif.media_type == "image/png" and not getattr(gif_im, "is_animated", False)

    assert _asset(book, server.url("/photo.webp")).variants["epub"].media_type == "image/jpeg"
    assert _asset(book, server.url("/image?id=42")).variants["epub"].media_type == "image/png"

    ramp = _open(_asset(book, server.url("/gray16.png")).variants["epub"]).convert("L")
    left, mid, right = (ramp.getpixel((x, 10)) for x in (0, 128, 255))
    assert left < 5 and 110 < mid < 145 and right > 250, "16-bit must be scaled, not clipped"

    cyan = _open(_asset(book, server.url("/cmyk.jpg")).variants["epub"]).getpixel((10, 10))
    expected = fx.srgb_of_cmyk_cyan()
    if expected is not None:  # converted through a real CMYK profile, not 255-C
        assert all(abs(a - b) <= 12 for a, b in zip(cyan, expected)), (cyan, expected)
        assert cyan[1] < 230


def test_identical_images_are_one_asset(built, server):
    book = built["book"]
    big_imgs = [i for i in book.chapters[0].body.iter("img") if i.get("src") == server.url("/big.jpg")]
    assert len(big_imgs) == 2 and len({i.get("data-pp-asset") for i in big_imgs}) == 1
    assert _img_for(book, "dup.png").get("data-pp-asset") == \
        _img_for(book, server.url("/icon.png")).get("data-pp-asset")
    shas = [a.sha256 for a in book.assets.values()]
    assert len(shas) == len(set(shas)), "each image is stored once"
    variant_files = [v.path for a in book.assets.values() for v in a.variants.values()]
    assert len(variant_files) == len(set(variant_files))


def test_local_images(built):
    book = built["book"]
    photo = _asset(book, "photo.jpg").variants["epub"]
    assert (photo.width, photo.height) == (800, 1200)
    assert _asset(book, "my%20photo.png?v=2#frag").variants["epub"].width == 300
    data = _asset(book, fx_data_uri())
    assert data.ok and data.variants["epub"].width == 40


def test_svg_is_sanitized(built):
    book = built["book"]
    svg_asset = _asset(book, "script.svg")
    for v in svg_asset.variants.values():
        assert v.media_type == "image/svg+xml"
        text = v.read_bytes().decode()
        for bad in ("<script", "onload", "onclick", "evil.invalid", "javascript:",
                    "foreignObject", "@import"):
            assert bad not in text, bad
        assert "url(#g)" in text and "<circle" in text  # the drawing itself is kept
    msgs = [d.message for d in book.diagnostics if d.code == "asset-svg-sanitized"]
    assert len(msgs) == 1 and "script.svg" in msgs[0]


def test_bad_images_get_named_placeholders_and_warnings(built, server):
    book = built["book"]
    body = book.chapters[0].body
    text = book.chapters[0].source_text
    placeholders = body.xpath('//*[@class="pp-missing"]')
    shown = [" ".join(p.itertext()) for p in placeholders]
    bad_refs = [server.url(p) for p in BAD_PATHS] + [UNRESOLVABLE] + LOCAL_BAD
    warnings = [d for d in book.diagnostics if d.severity == Severity.WARNING]
    for ref in bad_refs:
        assert _img_for(book, ref) is None, ref
        assert any(ref in s for s in shown), f"no placeholder names {ref}"
        assert any(f"alt for {ref[len(server.url('')):]}" in s or f"bad {ref}" in s
                   or "unresolvable" in s for s in shown)
        found = [d for d in warnings if ref in d.message]
        assert found, f"no warning names {ref}"
        d = found[0]
        assert d.file == book.chapters[0].source
        assert d.line == text[: text.index(f'src="{ref}"')].count("\n") + 1
    # remote ones link to their URL and carry a QR marker for paper
    p404 = [p for p in placeholders if server.url("/404.png") in " ".join(p.itertext())][0]
    assert p404.find("a").get("href") == server.url("/404.png")
    assert p404.find('span[@class="pp-qr"]').get("data-pp-qr") == server.url("/404.png")
    # local ones are not links (the file isn't in the book)
    missing = [p for p in placeholders if "missing.png" in " ".join(p.itertext())][0]
    assert missing.find("a") is None
    reasons = " ".join(d.message for d in warnings)
    for reason in ("404", "500", "redirect loop", "gave up after 20 s", "damaged",
                   "HTML page", "decompression bomb", "outside the book folder",
                   "absolute paths", "file: URLs", "not found", "DTD"):
        assert reason in reasons, reason


def test_placeholders_are_valid_in_context(built, server):
    body = built["book"].chapters[0].body
    for ph in body.xpath('//*[@class="pp-missing"]'):
        parent = ph.getparent()
        if parent.tag in ("p", "a", "span"):
            assert ph.tag == "span" and all(c.tag in ("span", "a") for c in ph.iter()
                                            if c is not ph), etree.tostring(parent)
        if any(a.tag == "a" for a in ph.iterancestors()):
            assert ph.find(".//a") is None, "no link inside a link"
    fig = body.xpath("//figure")[0]
    assert fig[0].tag == "div" and fig[0].get("class") == "pp-missing"
    assert fig.find("figcaption").text == "The caption of a lost figure"
    titled = [p for p in body.xpath('//*[@class="pp-missing"]')
              if "A title caption" in " ".join(p.itertext())]
    assert titled, "the title stands in as the caption"
    # the optional poster is simply gone, with an INFO
    assert not body.xpath('//div[@class="embed"]/*')
    infos = [d for d in built["book"].diagnostics if d.code == "asset-optional"]
    assert infos and infos[0].severity == Severity.INFO


def test_build_time_is_bounded(built):
    # 7 bad server cases + a trickle held to the 20 s default budget, all fetched concurrently.
    assert built["elapsed"] < 30, built["elapsed"]


def test_offline_rebuild_uses_cache_only(built, server):
    assert built["hits_after_offline"] == built["hits_after_first"], "offline made requests"
    first, again = built["book"], built["offline_book"]
    assert built["offline_store"].requests_made == 0
    assert built["offline_store"].images_processed == 0, "a rebuild does no image work"
    assert set(first.assets) == set(again.assets)
    for aid, a in first.assets.items():
        assert {p: v.sha256 for p, v in a.variants.items()} == \
            {p: v.sha256 for p, v in again.assets[aid].variants.items()}
    assert built["offline_elapsed"] < 5


def test_online_rebuild_revalidates(built, server):
    before = server.not_modified
    book, store, _ = _run(built["book_dir"], built["cache"], total_timeout=3.0)
    assert store.images_processed == 0
    assert not [d for d in book.diagnostics if d.code == "asset-stale"], "304 is not a failure"
    assert server.not_modified - before >= len(GOOD_PATHS) - 1  # /redirect ends in a 304 too
    assert set(book.assets) == set(built["book"].assets)


def test_cache_records(built, server):
    records = [json.loads(p.read_text()) for p in (built["cache"] / "urls").glob("*.json")]
    by_url = {r["url"]: r for r in records}
    rec = by_url[server.url("/redirect")]
    assert rec["final_url"] == server.url("/target.png")
    assert rec["headers"]["etag"] and rec["fetched_at"] and rec["media_type"] == "image/png"
    for r in records:
        obj = built["cache"] / "objects" / r["sha256"][:2] / r["sha256"]
        assert obj.is_file()
    assert not list(built["cache"].rglob(".tmp-*")), "no temp files left behind"
    # failures are not cached as if they were images
    assert server.url("/404.png") not in by_url


def test_offline_without_cache_fails_cleanly(server, tmp_path):
    book_dir = _make_book_dir(tmp_path, server)
    hits = server.total_hits
    book, store, elapsed = _run(book_dir, tmp_path / "empty-cache", offline=True)
    assert server.total_hits == hits and elapsed < 10
    msgs = [d.message for d in book.diagnostics if server.url("/big.jpg") in d.message]
    assert msgs and "--offline" in msgs[0]
    # local images still work offline
    assert _img_for(book, "photo.jpg").get("data-pp-asset") in book.assets
