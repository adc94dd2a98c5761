"""Benchmark: build time and peak memory of a book with many images from a loopback server.

    python bench/assets.py [--images 60] [--size 3000x2000] [--format all] [--keep]

Generates a one-post book whose images (distinct photos as JPEG, and some PNG diagrams) are
served by a local HTTP server with ETags, then builds it three times with the CLI, each in a fresh
process so its peak memory (max RSS of the build and its children) is its own:

* cold     — empty cache: every image fetched and processed
* warm     — online with a full cache: every image revalidated (304), no image work
* offline  — --offline with a full cache: no request at all

and prints a table. Nothing touches the internet.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import shutil
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from PIL import Image, ImageDraw

from measure import measure

REPO = Path(__file__).resolve().parents[1]



def make_images(n: int, size: tuple[int, int]) -> dict[str, tuple[str, bytes]]:
    """n distinct images: three in four are photos (JPEG), the rest flat diagrams (PNG)."""
    w, h = size
    r = Image.linear_gradient("L").resize((w, h))
    g = Image.linear_gradient("L").rotate(90).resize((w, h))
    b = Image.effect_noise((w, h), 50).point(lambda v: max(0, min(255, v)))
    base = Image.merge("RGB", (r, g, b))
    out = {}
    for i in range(n):
        if i % 4 == 3:
            im = Image.new("RGB", (1200, 800), "white")
            d = ImageDraw.Draw(im)
            d.rectangle((50 + i, 50, 600, 400), fill=(20 * (i % 12), 90, 200))
            d.line((0, 799, 1199, i % 800), fill="black", width=4)
            buf = io.BytesIO()
            im.save(buf, "PNG")
            out[f"/img/diagram-{i}.png"] = ("image/png", buf.getvalue())
        else:
            im = base.copy()
            ImageDraw.Draw(im).rectangle((i * 37 % w, i * 53 % h, i * 37 % w + 200,
                                          i * 53 % h + 150), fill=(255, i % 256, 0))
            buf = io.BytesIO()
            im.save(buf, "JPEG", quality=88)
            out[f"/img/photo-{i}.jpg"] = ("image/jpeg", buf.getvalue())
    return out


class _Server:
    def __init__(self, files: dict[str, tuple[str, bytes]]):
        self.files = files
        self.requests = 0
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's naming
                with outer.lock:
                    outer.requests += 1
                item = outer.files.get(self.path)
                if item is None:
                    self.send_error(404)
                    return
                ctype, data = item
                etag = '"' + hashlib.sha256(data).hexdigest()[:16] + '"'
                if self.headers.get("If-None-Match") == etag:
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.send_header("ETag", etag)
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"


def write_book(folder: Path, server: _Server) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    lines = ["---", "title: Benchmark book", "author: Bench", "date: 2024-01-01", "---", "",
             "# Benchmark book", ""]
    for i, path in enumerate(sorted(server.files)):
        lines += [f"Paragraph {i} before an image. " * 4, "", f"![Image {i}]({server.url(path)})",
                  ""]
    (folder / "post.md").write_text("\n".join(lines), encoding="utf-8")




def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--images", type=int, default=60)
    ap.add_argument("--size", default="3000x2000", help="photo size, WxH pixels")
    ap.add_argument("--format", default="all", choices=["epub", "pdf", "html", "all"])
    ap.add_argument("--keep", action="store_true", help="keep the work folder")
    args = ap.parse_args()
    w, h = (int(v) for v in args.size.lower().split("x"))

    t0 = time.monotonic()
    files = make_images(args.images, (w, h))
    total_mb = sum(len(d) for _, d in files.values()) / 1e6
    print(f"{len(files)} images ({total_mb:.1f} MB, photos {w}x{h}) generated in"
          f" {time.monotonic() - t0:.1f} s")

    work = Path(tempfile.mkdtemp(prefix="pubpipe-bench-"))
    rows = []
    try:
        with _Server(files) as server:
            book = work / "book"
            write_book(book, server)
            pubpipe = [sys.executable, "-m", "pubpipe", "build", str(book), "--format",
                       args.format, "--cache-dir", str(work / "cache"), "--allow-private-hosts"]
            for name, extra in (("cold", []), ("warm (304)", []), ("offline", ["--offline"])):
                before = server.requests
                res = measure(pubpipe + ["--out-dir", str(work / name.split()[0])] + extra,
                              stderr_tail=2000)
                if res["rc"] != 0:
                    print(f"{name}: build failed (exit {res['rc']}):\n{res['stderr']}")
                    return 1
                rows.append((name, res["seconds"], res["peak_mb"], server.requests - before))
        cache_mb = sum(p.stat().st_size for p in (work / "cache").rglob("*") if p.is_file()) / 1e6
        outputs = [(p.name, p.stat().st_size / 1e6) for p in sorted((work / "cold").glob("*.*"))]
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)

    print()
    print(f"{'build':<12} {'seconds':>8} {'peak MB':>8} {'requests':>9}")
    print(f"{'-' * 12} {'-' * 8} {'-' * 8} {'-' * 9}")
    for name, secs, peak, reqs in rows:
        print(f"{name:<12} {secs:8.1f} {peak:8.0f} {reqs:9d}")
    print()
    print(f"format: {args.format}; cache: {cache_mb:.1f} MB;"
          f" outputs: {', '.join(f'{n} ({mb:.1f} MB)' for n, mb in outputs)}")
    if args.keep:
        print(f"work folder kept: {work}")
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
