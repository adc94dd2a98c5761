"""Unit tests of the asset store's parts: the fetcher's time, size and retry limits, reference
resolution, SVG sanitizing, image safety checks, the processed-variant cache and stale-cache use."""

from __future__ import annotations

import base64
import os
import time
from pathlib import Path

import pytest
from PIL import Image

from assets_fixtures import images as fx
from assets_fixtures.server import ImageServer
from pubpipe.assets import fetch, images, svg
from pubpipe.assets.store import AssetStore
from pubpipe.config import AssetsSection
from pubpipe.document import Severity


@pytest.fixture(scope="module")
def server():
    s = ImageServer(trickle_seconds=15).start()
    yield s
    s.stop()


def _fetch(url: str, **kw) -> fetch.FetchResult:
    settings = fetch.FetchSettings(**{"backoff": 0.05, "allow_private_hosts": True, **kw})
    return fetch.fetch_many([fetch.FetchRequest(url)], settings)[url]


# ---- fetcher ---------------------------------------------------------------------------------

def test_wall_clock_deadline_stops_a_trickling_server(server):
    t0 = time.monotonic()
    res = _fetch(server.url("/trickle.jpg"), total_timeout=2.0, read_timeout=10.0)
    assert not res.ok and "gave up after 2 s" in res.reason
    assert time.monotonic() - t0 < 3.5


def test_only_transient_failures_are_retried(server):
    for path, expected_hits, ok in (("/503.png", 3, False), ("/404.png", 1, False),
                                    ("/500.jpg", 1, False), ("/icon.png", 1, True)):
        before = server.hits[path]
        res = _fetch(server.url(path), retries=2)
        assert res.ok is ok
        assert server.hits[path] - before == expected_hits, path
    assert "503" in _fetch(server.url("/503.png"), retries=0).reason


def test_size_cap_and_redirect_limit(server):
    res = _fetch(server.url("/big.jpg"), max_bytes=10_000)
    assert not res.ok and "too large" in res.reason
    res = _fetch(server.url("/redirect"), max_redirects=1)
    assert res.ok and res.final_url == server.url("/target.png")
    res = _fetch(server.url("/loop-a"), max_redirects=10)
    assert not res.ok and "redirect loop" in res.reason
    # a chain longer than the limit fails even without a loop
    assert "more than 0 redirects" in _fetch(server.url("/redirect"), max_redirects=0).reason


def test_unresolvable_host_fails_fast():
    t0 = time.monotonic()
    res = _fetch("http://nothing-here.invalid/a.png")
    assert not res.ok and "cannot connect" in res.reason
    assert time.monotonic() - t0 < 10


def test_revalidation_sends_validators(server):
    first = _fetch(server.url("/icon.png"))
    etag = first.headers["etag"]
    url = server.url("/icon.png")
    res = fetch.fetch_many([fetch.FetchRequest(url, etag=etag)], fetch.FetchSettings(allow_private_hosts=True))[url]
    assert res.not_modified and not res.data


# ---- resolving references --------------------------------------------------------------------

@pytest.fixture
def book(tmp_path):
    root = tmp_path / "book"
    (root / "posts" / "sub").mkdir(parents=True)
    (root / "posts" / "a b.png").write_bytes(fx.icon_png())
    (root / "posts" / "100%.png").write_bytes(fx.small_png())
    (tmp_path / "secret.png").write_bytes(fx.small_png((5, 5, 5)))
    os.symlink(tmp_path / "secret.png", root / "posts" / "link.png")
    return root


def _store(root: Path, tmp: Path, offline=False, **kw) -> AssetStore:
    kw.setdefault("allow_private_hosts", True)  # the loopback test server
    return AssetStore(root, tmp / "cache", AssetsSection(**kw), offline=offline, progress=None)


def test_resolving(book, tmp_path):
    store = _store(book, tmp_path)
    base = book / "posts"
    cases = {
        "a%20b.png": "ok", "a b.png": "ok", "./sub/../a%20b.png?x=1#y": "ok", "100%.png": "ok",
        "link.png": "refused", "../../secret.png": "refused", "/etc/passwd": "refused",
        "C:\\Windows\\x.png": "refused", "file:///etc/passwd": "refused",
        "javascript:alert(1)": "refused", "": "refused", "nope.png": "failed",
        "a\x00b.png": "refused", "x" * 5000 + ".png": "refused", "sub": "failed",
    }
    assets = {ref: store.register(ref, base=base) for ref in cases}
    store.fetch_all()
    for ref, status in cases.items():
        a = store.canonical(assets[ref])
        assert a.status == status, (ref, a.status, a.reason)
    # three spellings of one file are one asset
    assert len({store.canonical(assets[r]).id for r in ("a%20b.png", "a b.png",
                                                        "./sub/../a%20b.png?x=1#y")}) == 1
    assert "outside the book" in assets["link.png"].reason  # symlinks are followed, then judged
    assert store.register("//cdn.example.org/x.png").url == "https://cdn.example.org/x.png"
    assert store.register("https://h.example/x.png#frag").url == "https://h.example/x.png"
    assert store.requests_made == 0


def test_data_uris(book, tmp_path):
    store = _store(book, tmp_path)
    good = "data:image/png;base64," + base64.b64encode(fx.icon_png()).decode()
    svg_uri = "data:image/svg+xml," + fx.SVG_CLEAN.decode().replace("#", "%23")
    cases = {good: "ok", svg_uri: "ok", "data:image/png;base64,!!!": "failed",
             "data:image/png;base64": "failed", "data:text/html,<b>hi</b>": "failed"}
    assets = {u: store.register(u) for u in cases}
    store.fetch_all()
    for u, status in cases.items():
        assert assets[u].status == status, (u, assets[u].reason)


def test_add_bytes_for_generated_images(book, tmp_path):
    store = _store(book, tmp_path)
    a = store.add_bytes(fx.graphic_png(), "image/png", "cover")
    assert a.ok and a.id.startswith("img-")
    assert store.add_bytes(fx.graphic_png(), "image/png", "again").id == a.id
    v = store.process(a, "epub")
    assert v.media_type == "image/png" and v.path.is_file()
    bad = store.add_bytes(b"not an image", "image/png", "junk")
    assert bad.status == "failed" and store.process(bad, "epub") is None


# ---- SVG ---------------------------------------------------------------------------------------

def test_svg_sanitizer():
    clean = svg.sanitize(fx.SVG_CLEAN)
    assert not clean.removed and (clean.width, clean.height) == (120, 60)
    dirty = svg.sanitize(fx.SVG_WITH_SCRIPT)
    assert {"<script>", "<foreignObject>", "event handlers"} <= set(dirty.removed)
    out = dirty.data.decode()
    assert "alert" not in out and "evil.invalid" not in out and "<circle" in out
    for bad, why in ((fx.SVG_DTD, "DTD"), (b"<svg><rect/></svg>", "namespace"),
                     (b"<svg xmlns='http://www.w3.org/2000/svg'><rect></svg>", "well-formed")):
        with pytest.raises(svg.SvgRefused, match=why):
            svg.sanitize(bad)
    xxe = (b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
           b'<svg xmlns="http://www.w3.org/2000/svg"><text>&x;</text></svg>')
    with pytest.raises(svg.SvgRefused):
        svg.sanitize(xxe)


# ---- images ------------------------------------------------------------------------------------

def test_sniffing_ignores_names_and_types():
    assert images.sniff(fx.big_jpeg()) == "image/jpeg"
    assert images.sniff(fx.webp()) == "image/webp"
    assert images.sniff(fx.SVG_CLEAN) == "image/svg+xml"
    assert images.sniff(fx.FAKE_JPEG) == "" and "HTML" in images.describe(fx.FAKE_JPEG)
    assert images.sniff(b"%PDF-1.7") == ""


def test_bombs_and_damaged_images_are_refused():
    with pytest.raises(images.ImageRefused, match="decompression bomb"):
        images.probe(fx.bomb_png())
    with pytest.raises(images.ImageRefused, match="decompression bomb"), \
            pytest.warns(Image.DecompressionBombWarning):  # off the main thread: checked by hand
        images.process(fx.bomb_png(), images.Box(longest=100), 85)
    with pytest.raises(images.ImageRefused, match="damaged"):
        images.process(fx.truncated_jpeg(), images.Box(longest=100), 85)
    # decoders are limited: a format Pillow knows but we don't accept
    import io

    buf = io.BytesIO()
    Image.new("RGB", (10, 10)).save(buf, "PCX")
    with pytest.raises(images.ImageRefused):
        images.probe(buf.getvalue())


def test_damaged_images_are_refused_after_weasyprint_was_imported():
    import weasyprint  # noqa: F401 - sets Pillow's LOAD_TRUNCATED_IMAGES for the whole process
    from PIL import ImageFile

    ImageFile.LOAD_TRUNCATED_IMAGES = True
    try:
        with pytest.raises(images.ImageRefused, match="damaged"):
            images.process(fx.truncated_jpeg(), images.Box(longest=100), 85)
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = False


def test_cmyk_without_profile_uses_a_real_profile():
    out = images.process(fx.cmyk_jpeg(), images.Box(longest=100), 90)
    im = Image.open(__import__("io").BytesIO(out.data))
    assert im.mode == "RGB"
    expected = fx.srgb_of_cmyk_cyan()
    if expected is None:
        pytest.skip("no CMYK ICC profile on this system")
    got = im.getpixel((5, 5))
    assert all(abs(a - b) <= 12 for a, b in zip(got, expected)), (got, expected)


def test_draft_mode_keeps_quality_and_size():
    out = images.process(fx.big_jpeg(), images.Box(longest=500), 85)
    assert (out.width, out.height) == (500, 375) and out.media_type == "image/jpeg"


def test_print_slack_keeps_a_draft_close_to_the_box():
    from assets_fixtures.images import photo
    from io import BytesIO
    buf = BytesIO()
    photo(3000, 2000).save(buf, "JPEG", quality=85)
    data = buf.getvalue()
    box = images.Box(width=1350, height=1950)
    # the half-scale draft (1500x1000) is within 1.25x of the box: kept, not resampled
    kept = images.process(data, box, 90, slack=1.25)
    assert (kept.width, kept.height) == (1500, 1000)
    assert images.process(data, box, 90, slack=1.25).data == kept.data  # deterministic
    # without slack, or when the draft is further from the box, it is resampled to the box
    assert (images.process(data, box, 90).width, images.process(data, box, 90).height) == (1350, 900)
    small = images.process(data, images.Box(width=1100, height=1950), 90, slack=1.25)
    assert (small.width, small.height) == (1100, 733)  # draft 1500 > 1.25 x 1100
    # a PNG within the slack of its box is kept whole too
    buf = BytesIO()
    Image.new("RGB", (1600, 50), (10, 200, 30)).save(buf, "PNG")
    png = images.process(buf.getvalue(), images.Box(width=1350), 90, slack=1.25)
    assert (png.width, png.height) == (1600, 50)


def test_print_variant_of_a_photo_is_its_draft(book, tmp_path):
    from assets_fixtures.images import photo
    from io import BytesIO
    buf = BytesIO()
    photo(3000, 2000).save(buf, "JPEG", quality=85)
    (book / "posts" / "wide.jpg").write_bytes(buf.getvalue())
    store = _store(book, tmp_path)
    a = store.register("wide.jpg", base=book / "posts")
    store.fetch_all()
    store.process_all([a], ("epub", "print"))
    a = store.canonical(a)
    assert (a.variants["print"].width, a.variants["print"].height) == (1500, 1000)  # 333 ppi
    assert (a.variants["epub"].width, a.variants["epub"].height) == (1600, 1067)  # no slack


# ---- the processed-variant cache ---------------------------------------------------------------

def test_variants_cached_by_content_profile_and_settings(book, tmp_path):
    (book / "posts" / "big.jpg").write_bytes(fx.big_jpeg())

    def run(**kw):
        store = _store(book, tmp_path, **kw)
        a = store.register("big.jpg", base=book / "posts")
        store.fetch_all()
        store.process_all([a], ("epub", "print"))
        return store, store.canonical(a)

    s1, a1 = run()
    assert s1.images_processed == 2
    s2, a2 = run()
    assert s2.images_processed == 0 and a2.variants["epub"].sha256 == a1.variants["epub"].sha256
    s3, a3 = run(epub_max_size=800)
    assert s3.images_processed == 1 and a3.variants["epub"].width == 800  # print variant reused
    assert a3.variants["print"].sha256 == a1.variants["print"].sha256


def test_stale_cache_is_used_when_the_image_is_gone(httpserver, book, tmp_path):
    httpserver.expect_request("/vanishing.png").respond_with_data(fx.icon_png(),
                                                                 content_type="image/png")
    url = httpserver.url_for("/vanishing.png")
    s1 = _store(book, tmp_path)
    a = s1.register(url)
    s1.fetch_all()
    assert a.ok
    httpserver.clear()
    httpserver.expect_request("/vanishing.png").respond_with_data("gone", status=404)
    s2 = _store(book, tmp_path)
    b = s2.register(url, file=book / "p.md", line=3)
    s2.fetch_all()
    assert b.ok and b.sha256 == a.sha256
    stale = [d for d in s2.diagnostics if d.code == "asset-stale"]
    assert stale and stale[0].severity == Severity.INFO and "404" in stale[0].message
    assert stale[0].line == 3


def test_progress_bar_does_not_break_quiet_runs(book, tmp_path, server, capsys):
    from pubpipe.progress import Progress

    store = AssetStore(book, tmp_path / "cache", AssetsSection(allow_private_hosts=True),
                       progress=Progress("tty"))
    a = store.register(server.url("/icon.png"))
    store.fetch_all()
    store.process_all([a], ("epub",))
    assert store.canonical(a).variants["epub"].width == 16


def test_embedded_profiles_are_converted_and_metadata_dropped():
    import io

    from PIL import ImageCms

    a98 = Path("/usr/share/color/icc/ghostscript/a98.icc")
    if not a98.is_file():
        pytest.skip("no Adobe RGB profile on this system")
    src_profile = ImageCms.ImageCmsProfile(str(a98))
    im = Image.new("RGB", (64, 48), (60, 150, 90))
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # camera make; GPS would be dropped the same way
    for fmt in ("PNG", "JPEG"):
        buf = io.BytesIO()
        im.save(buf, fmt, icc_profile=src_profile.tobytes(), exif=exif.tobytes())
        out = images.process(buf.getvalue(), images.Box(longest=100), 95)
        got = Image.open(io.BytesIO(out.data))
        assert "icc_profile" not in got.info and "exif" not in got.info, fmt
        expected = ImageCms.profileToProfile(im, src_profile, ImageCms.createProfile("sRGB"))
        want = expected.getpixel((5, 5))
        have = got.convert("RGB").getpixel((5, 5))
        assert all(abs(x - y) <= 6 for x, y in zip(have, want)), (fmt, have, want)
        assert want != (60, 150, 90)  # the conversion did something


def test_cmyk_with_embedded_profile():
    import io

    if fx.srgb_of_cmyk_cyan() is None:
        pytest.skip("no CMYK ICC profile on this system")
    out = images.process(fx.cmyk_jpeg(embed_profile=True), images.Box(longest=100), 90)
    got = Image.open(io.BytesIO(out.data)).getpixel((5, 5))
    assert all(abs(a - b) <= 12 for a, b in zip(got, fx.srgb_of_cmyk_cyan()))


def test_a_slow_host_costs_one_budget_not_one_per_image(server):
    # 12 trickling images on one host, 3 at a time: without the host breaker this takes 4 budgets
    urls = [server.url(f"/trickle.jpg?n={i}") for i in range(12)]
    settings = fetch.FetchSettings(total_timeout=1.5, concurrency=3,
                                   allow_private_hosts=True)
    t0 = time.monotonic()
    results = fetch.fetch_many([fetch.FetchRequest(u) for u in urls], settings)
    assert time.monotonic() - t0 < 3.5
    assert not any(r.ok for r in results.values())
    assert sum("not tried" in r.reason for r in results.values()) == 9


def test_retry_after_is_honoured_within_the_budget(httpserver):
    httpserver.expect_oneshot_request("/ra.png").respond_with_data(
        "busy", status=503, headers={"Retry-After": "1"})
    httpserver.expect_request("/ra.png").respond_with_data(fx.icon_png(), content_type="image/png")
    t0 = time.monotonic()
    res = _fetch(httpserver.url_for("/ra.png"))
    assert res.ok and res.attempts == 2 and time.monotonic() - t0 >= 1.0, res
    httpserver.clear()
    httpserver.expect_request("/later.png").respond_with_data(
        "busy", status=503, headers={"Retry-After": "3600"})
    t0 = time.monotonic()
    res = _fetch(httpserver.url_for("/later.png"))
    assert not res.ok and res.attempts == 1 and time.monotonic() - t0 < 2  # too long: no wait


def test_redirect_to_another_scheme_is_refused(httpserver):
    httpserver.expect_request("/to-file").respond_with_data(
        "", status=302, headers={"Location": "file:///etc/passwd"})
    res = _fetch(httpserver.url_for("/to-file"))
    assert not res.ok and "refused scheme" in res.reason and not res.data


def test_no_reference_resolves_outside_the_book(book, tmp_path):
    from hypothesis import given, settings as hsettings
    from hypothesis import strategies as st

    store = _store(book, tmp_path)
    parts = st.sampled_from(["..", ".", "posts", "sub", "a b.png", "%2e%2e", "%2F", "link.png",
                             "~", "\\", "/", "C:", "file:", "%00", "x.png", "..%2f", "?", "#"])
    refs = st.one_of(st.lists(parts, min_size=1, max_size=6).map("/".join),
                     st.lists(parts, min_size=1, max_size=6).map("".join), st.text(max_size=30))

    @hsettings(max_examples=300, deadline=None)
    @given(refs)
    def check(ref):
        asset = store.register(ref, base=book / "posts")
        if asset.url.startswith("file:"):
            path = Path(urllib.parse.unquote(urllib.parse.urlsplit(asset.url).path)).resolve()
            assert path.is_relative_to(book.resolve()), (ref, path)
        else:
            assert asset.status in ("refused", "pending") and not asset.url.startswith("file:")

    import urllib.parse

    check()
    store.fetch_all()  # reading them all must not raise either


# ---- prefetching (images processed while chapters are read) ----------------------------------

def _photo_jpeg(w: int = 1200, h: int = 800, seed: int = 0) -> bytes:
    from io import BytesIO

    from assets_fixtures.images import photo
    buf = BytesIO()
    photo(w, h, seed).save(buf, "JPEG", quality=85)
    return buf.getvalue()


def _finish_prefetching(store: AssetStore) -> None:
    store.variants.settle()


def _runner(kind: str):
    """Prefetching in threads of this process, or in the layout's worker processes."""
    from pubpipe.assets.variants import ThreadRunner
    from pubpipe.layout import workers
    if kind == "threads":
        return ThreadRunner()
    if workers.in_process():
        pytest.skip("no worker processes here")
    return workers.Background()


RUNNERS = pytest.mark.parametrize("runner", ["threads", "processes"])


@RUNNERS
def test_prefetched_variants_are_the_ones_made_without_it(book, tmp_path, runner):
    (book / "posts" / "p.jpg").write_bytes(_photo_jpeg())

    def run(prefetch: bool, where: str):
        store = _store(book, tmp_path / where)
        store.prefetch_in(_runner(runner))
        if prefetch:
            store.prefetch([("p.jpg", book / "posts"), ("a%20b.png", book / "posts")],
                           ("epub", "print"))
            _finish_prefetching(store)  # so what follows must take its results
            assert len(store.variants._ready) == 4
        a = store.register("p.jpg", base=book / "posts")
        b = store.register("a%20b.png", base=book / "posts")
        store.fetch_all()
        store.process_all([a, b], ("epub", "print"))
        assert not store.variants._ready  # taken (or dropped) by the images stage
        return store, [store.canonical(x).variants[p].sha256 for x in (a, b)
                       for p in ("epub", "print")]

    s1, plain = run(False, "c1")
    s2, fetched = run(True, "c2")
    assert plain == fetched
    assert s1.images_processed == s2.images_processed == 4  # made this build, either way
    assert not s2.diagnostics


@RUNNERS
def test_prefetch_takes_only_the_bytes_the_store_accepts(book, tmp_path, runner):
    photo = book / "posts" / "p.jpg"
    photo.write_bytes(_photo_jpeg(seed=1))
    store = _store(book, tmp_path)
    store.prefetch_in(_runner(runner))
    store.prefetch([("p.jpg", book / "posts")], ("print",))
    _finish_prefetching(store)
    assert len(store.variants._ready) == 1
    photo.write_bytes(_photo_jpeg(seed=2))  # changed after it was prefetched
    a = store.register("p.jpg", base=book / "posts")
    store.fetch_all()
    store.process_all([a], ("print",))
    fresh = _store(book, tmp_path / "fresh")
    b = fresh.register("p.jpg", base=book / "posts")
    fresh.fetch_all()
    fresh.process_all([b], ("print",))
    assert store.canonical(a).variants["print"].sha256 == fresh.canonical(b).variants["print"].sha256


@RUNNERS
def test_prefetch_reads_nothing_the_store_would_refuse(book, tmp_path, runner):
    (book / "posts" / "big.jpg").write_bytes(_photo_jpeg())
    store = _store(book, tmp_path, max_bytes=1000)
    store.prefetch_in(_runner(runner))
    store.prefetch([("link.png", book / "posts"), ("../../secret.png", book / "posts"),
                    ("big.jpg", book / "posts"), ("http://127.0.0.1:9/x.png", book / "posts"),
                    ("missing.png", book / "posts")], ("epub",))
    _finish_prefetching(store)
    assert not store.variants._ready and store.requests_made == 0 and not store.diagnostics


def test_a_build_that_fails_reading_leaves_no_prefetching_behind(tmp_path):
    import multiprocessing
    import threading

    from pubpipe import config, pipeline
    from pubpipe.context import BuildOptions
    from pubpipe.errors import BuildError
    root = tmp_path / "b"
    root.mkdir()
    for i in range(3):
        (root / f"p{i}.jpg").write_bytes(_photo_jpeg(2400, 1600, seed=i))
    (root / "book.toml").write_text('[book]\ntitle = "T"\nchapters = ["a.md", "b.md"]\n[pdf]\n')
    (root / "a.md").write_text("# A\n\n" + "".join(f"![p](p{i}.jpg)\n\n" for i in range(3)))
    (root / "b.md").write_bytes(b"# B\n\n\xff\xfe broken \x00 utf-8\n")
    with pytest.raises(BuildError):
        pipeline.build(config.load(root), BuildOptions(formats=("pdf",), cache_dir=tmp_path / "c"))
    assert not [t for t in threading.enumerate()
                if t.name.startswith(("pubpipe-prefetch", "pubpipe-background"))]
    assert not multiprocessing.active_children()  # the prefetching workers ended with it
    assert not list((root).glob("build/*"))


@RUNNERS
def test_prefetching_holds_a_bounded_amount(book, tmp_path, monkeypatch, runner):
    from pubpipe.assets import variants
    monkeypatch.setattr(variants, "PREFETCH_HELD_MAX", 1)  # one result held, then no more
    for i in range(3):
        (book / "posts" / f"p{i}.jpg").write_bytes(_photo_jpeg(seed=i))
    store = _store(book, tmp_path)
    store.prefetch_in(_runner(runner))
    store.prefetch([(f"p{i}.jpg", book / "posts") for i in range(3)], ("epub",))
    _finish_prefetching(store)
    assert len(store.variants._ready) == 1
    assets = [store.register(f"p{i}.jpg", base=book / "posts") for i in range(3)]
    store.fetch_all()
    store.process_all(assets, ("epub",))  # the rest are made by the images stage
    assert all(store.canonical(a).variants["epub"].width == 1200 for a in assets)
    assert store.images_processed == 3 and store.variants._held == 0


def test_prefetching_starts_no_more_once_enough_is_held(book, tmp_path, monkeypatch):
    from pubpipe.assets import variants
    monkeypatch.setattr(variants, "PREFETCH_HELD_MAX", 1)
    monkeypatch.setattr(variants, "PREFETCH_RUNNING", 1)  # one job at a time
    for i in range(4):
        (book / "posts" / f"p{i}.jpg").write_bytes(_photo_jpeg(seed=i))
    store = _store(book, tmp_path)
    ran = []
    real = variants.prefetch_file
    monkeypatch.setattr(variants, "prefetch_file", lambda job: ran.append(job) or real(job))
    store.prefetch([(f"p{i}.jpg", book / "posts") for i in range(4)], ("epub",))
    _finish_prefetching(store)
    assert len(ran) == 1 and len(store.variants._ready) == 1  # the others were never started
    store.stop_prefetching()
    assert not store.variants._ready and store.variants._held == 0


def test_the_images_stage_waits_only_for_prefetch_jobs_already_started(book, tmp_path,
                                                                         monkeypatch):
    """Files still queued for prefetching when the images stage starts are made by the stage
    itself: it does not sit idle while the (lower-priority) workers work through the queue."""
    import time

    from pubpipe.assets import variants
    monkeypatch.setattr(variants, "PREFETCH_RUNNING", 1)  # one job at a time
    for i in range(3):
        (book / "posts" / f"p{i}.jpg").write_bytes(_photo_jpeg(seed=i))
    store = _store(book, tmp_path)
    real = variants.prefetch_file
    monkeypatch.setattr(variants, "prefetch_file",
                        lambda job: time.sleep(1.0) or real(job))  # still running at settle
    store.prefetch([(f"p{i}.jpg", book / "posts") for i in range(3)], ("epub",))
    _finish_prefetching(store)
    assert len(store.variants._ready) == 1  # the one started; the others were not started
    assets = [store.register(f"p{i}.jpg", base=book / "posts") for i in range(3)]
    store.fetch_all()
    store.process_all(assets, ("epub",))
    assert all(store.canonical(a).variants["epub"].width == 1200 for a in assets)
    assert store.images_processed == 3


def test_a_prefetch_worker_that_dies_fails_only_its_own_job():
    """A job whose worker process ends is handed WorkerDied (the images stage then makes its
    variant itself); the next job gets a fresh worker."""
    from pubpipe.layout import workers
    if workers.in_process():
        pytest.skip("no worker processes here")
    runner = workers.Background(1)
    got = []
    runner.submit(os._exit, 9, got.append)  # ends the worker that runs it
    runner.submit(abs, -5, got.append)
    runner.drain()
    assert isinstance(got[0], workers.WorkerDied) and got[1] == 5


def test_prefetching_a_bomb_prints_no_warning(book, tmp_path):
    import warnings
    (book / "posts" / "bomb.png").write_bytes(fx.bomb_png())
    (book / "posts" / "fine.jpg").write_bytes(_photo_jpeg())
    assert not images.quietly_openable(fx.bomb_png()) and images.quietly_openable(_photo_jpeg())
    assert not images.quietly_openable(b"GIF89a not really")
    store = _store(book, tmp_path)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        store.prefetch([("bomb.png", book / "posts"), ("fine.jpg", book / "posts")], ("epub",))
        _finish_prefetching(store)
    assert not [w for w in seen if issubclass(w.category, Image.DecompressionBombWarning)]
    assert len(store.variants._ready) == 1  # the photo; the bomb is left to the store to refuse
    a = store.register("bomb.png", base=book / "posts")
    store.fetch_all()
    assert a.status == "refused" and "decompression bomb" in a.reason


def test_a_prefetched_variant_is_taken_without_reading_the_original_again(book, tmp_path,
                                                                          monkeypatch):
    (book / "posts" / "p.jpg").write_bytes(_photo_jpeg())
    store = _store(book, tmp_path)
    store.prefetch([("p.jpg", book / "posts")], ("print",))
    _finish_prefetching(store)
    a = store.register("p.jpg", base=book / "posts")
    store.fetch_all()
    noted = dict(store.network_reads)  # the original, as stored: what a replay checks
    assert list(noted.values()) == [store.canonical(a).sha256]
    reads = []
    real = store.read_object
    monkeypatch.setattr(store, "read_object", lambda *x: reads.append(x) or real(*x))
    store.process_all([a], ("print",))
    assert not reads and store.images_processed == 1 and store.canonical(a).variants["print"]
