"""End to end, the way issue 3 is checked: a post full of good and bad images built by the CLI
against a loopback server, to EPUB (EPUBCheck-clean) and PDF; rebuilt --offline from the cache
with zero requests and the same images; --strict fails without writing anything."""

from __future__ import annotations

import hashlib
import io
import re
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from assets_fixtures import images as fx
from assets_fixtures.server import ImageServer
from epubcheck_runner import run_epubcheck

pytestmark = pytest.mark.slow

GOOD = ["/big.jpg", "/rotated.jpg", "/cmyk.jpg", "/alpha.png", "/anim.gif", "/photo.webp",
        "/gray16.png", "/image?id=42", "/icon.png", "/redirect", "/clean.svg"]
BAD = ["/404.png", "/500.jpg", "/loop-a", "/trickle.jpg", "/truncated.jpg", "/fake.jpg",
       "/bomb.png"]
LOCAL_BAD = ["missing.png", "../outside.png", "/etc/passwd", "file:///etc/hostname"]


def pubpipe(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pubpipe", *args], capture_output=True,
                          text=True, timeout=300)


def _write_book(root: Path, server: ImageServer) -> Path:
    book = root / "book"
    book.mkdir()
    (root / "outside.png").write_bytes(fx.small_png((1, 1, 1)))
    (book / "photo.jpg").write_bytes(fx.rotated_jpeg())
    (book / "my photo.png").write_bytes(fx.graphic_png(300, 200))
    (book / "script.svg").write_bytes(fx.SVG_WITH_SCRIPT)
    (book / "icon-copy.png").write_bytes(fx.icon_png())
    lines = ["---", "title: Images everywhere", "author: Test Author", "date: 2024-05-01", "---",
             "", "# Images everywhere", ""]
    for p in GOOD + BAD:
        lines += [f"![alt {p}]({server.url(p)})", ""]
    lines += [f"Inline <img src=\"{server.url('/icon.png')}\" alt=\"icon\"> and a linked"
              f" [<img src=\"{server.url('/404.png')}?link\" alt=\"lost\">](https://example.org/).",
              "", "![unresolvable](http://no-such-host.invalid/x.jpg)", "",
              "![local](photo.jpg)", "", "![percent](my%20photo.png)", "",
              "![svg](script.svg)", "", f"![again]({server.url('/big.jpg')})", "",
              "![copy](icon-copy.png)", "",
              f"![data](data:image/png;base64,{__import__('base64').b64encode(fx.small_png()).decode()})",
              ""]
    for ref in LOCAL_BAD:
        lines += [f"![bad {ref}]({ref})", ""]
    lines += ["The end.", ""]
    (book / "post.md").write_text("\n".join(lines), encoding="utf-8")
    return book


def _images(epub: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(epub) as z:
        return {n: z.read(n) for n in z.namelist()
                if re.search(r"\.(jpe?g|png|gif|webp|svg)$", n) and "cover" not in n}


def _xhtml(epub: Path) -> str:
    with zipfile.ZipFile(epub) as z:
        return "\n".join(z.read(n).decode() for n in z.namelist()
                         if n.endswith(".xhtml") and "nav" not in n)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    server = ImageServer().start()
    root = tmp_path_factory.mktemp("assets-build")
    book = _write_book(root, server)
    cache = root / "cache"
    t0 = time.monotonic()
    first = pubpipe("build", str(book), "--format", "all", "--out-dir", str(root / "out"),
                    "--cache-dir", str(cache), "--allow-private-hosts")
    elapsed = time.monotonic() - t0
    hits = server.total_hits
    offline = pubpipe("build", str(book), "--format", "epub", "--out-dir", str(root / "offline"),
                      "--cache-dir", str(cache), "--offline")
    offline_hits = server.total_hits
    strict = pubpipe("build", str(book), "--format", "epub", "--out-dir", str(root / "strict"),
                     "--cache-dir", str(cache), "--offline", "--strict")
    epub = root / "out" / "images-everywhere.epub"
    offline_epub = root / "offline" / "images-everywhere.epub"
    checks = run_epubcheck([p for p in (epub, offline_epub) if p.is_file()])
    server.stop()
    return dict(server=server, root=root, first=first, elapsed=elapsed, hits=hits,
                offline=offline, offline_hits=offline_hits, strict=strict, epub=epub,
                offline_epub=offline_epub, checks=checks)


def test_build_succeeds_in_time_and_names_every_bad_image(run):
    first, server = run["first"], run["server"]
    assert first.returncode == 0, first.stderr
    assert "Traceback" not in first.stderr
    assert run["elapsed"] < 90
    for p in BAD:
        assert re.search(rf"post\.md:\d+: warning: image {re.escape(server.url(p))} ", first.stderr), p
    for ref in LOCAL_BAD + ["http://no-such-host.invalid/x.jpg"]:
        assert f"image {ref} " in first.stderr, ref
    assert (run["root"] / "out" / "images-everywhere.pdf").is_file()


def test_epub_is_valid_and_self_contained(run):
    epub = run["epub"]
    assert run["checks"][epub].clean, run["checks"][epub].report()
    xhtml = _xhtml(epub)
    assert not re.search(r'<img[^>]+src="(https?:|data:|file:|/)', xhtml), "remote or absolute image"
    assert "srcset" not in xhtml


def test_epub_images_processed_and_stored_once(run):
    images = _images(run["epub"])
    digests = [hashlib.sha256(b).hexdigest() for b in images.values()]
    assert len(digests) == len(set(digests)), "an image is stored twice"
    # 11 good remote, the percent-encoded local file, the SVG, the data: URI; the local photo
    # has the same bytes as /rotated.jpg, icon-copy.png as /icon.png: they share one file
    assert len(images) == len(GOOD) + 3
    for name, data in images.items():
        if name.endswith(".svg"):
            assert b"<script" not in data and b"onload" not in data
            continue
        im = Image.open(io.BytesIO(data))
        assert im.mode in ("RGB", "RGBA"), (name, im.mode)
        assert max(im.size) <= 1600, name
        assert not im.info.get("exif")
    xhtml = _xhtml(run["epub"])
    # the EXIF-rotated local photo is upright: 800 wide, 1200 high
    assert re.search(r'<img alt="local" src="[^"]+" width="800" height="1200"', xhtml)


def test_placeholders_in_the_epub(run):
    xhtml, server = _xhtml(run["epub"]), run["server"]
    assert xhtml.count('class="pp-missing"') == len(BAD) + 1 + 1 + len(LOCAL_BAD)
    for p in BAD:
        assert f'href="{server.url(p)}"' in xhtml, p
        assert f"alt {p}" in xhtml  # the alt text names what is missing
    assert "pp-qr" not in xhtml  # QR codes are for paper only
    assert not re.search(r"<a [^>]*>(?:(?!</a>).)*<a ", xhtml, flags=re.S), "link inside a link"


def test_offline_rebuild_makes_no_request_and_has_the_same_images(run):
    assert run["offline"].returncode == 0, run["offline"].stderr
    assert run["offline_hits"] == run["hits"], "an --offline build made requests"
    assert run["checks"][run["offline_epub"]].clean
    assert sorted(_images(run["offline_epub"]).values()) == sorted(_images(run["epub"]).values())


def test_strict_fails_without_writing(run):
    strict = run["strict"]
    assert strict.returncode != 0
    assert "Traceback" not in strict.stderr
    out = run["root"] / "strict"
    assert not out.exists() or not any(out.iterdir())


@pytest.mark.skipif(not (shutil.which("pdftoppm") and shutil.which("zbarimg")),
                    reason="needs poppler-utils and zbar-tools")
def test_pdf_placeholders_carry_readable_qr_codes(run, tmp_path):
    pdf = run["root"] / "out" / "images-everywhere.pdf"
    subprocess.run(["pdftoppm", "-png", "-r", "150", str(pdf), str(tmp_path / "p")], check=True)
    r = subprocess.run(["zbarimg", "-q", "--raw", *map(str, sorted(tmp_path.glob("p*.png")))],
                       capture_output=True, text=True)
    decoded = set(r.stdout.split())
    server = run["server"]
    for p in BAD:
        assert server.url(p) in decoded, p
    assert "http://no-such-host.invalid/x.jpg" in decoded
