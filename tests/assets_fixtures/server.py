"""A loopback image server (pytest-httpserver, threaded) serving good and bad images.

Every request is counted (``server.hits``), so tests can prove an offline build made none.
Good images carry an ETag and answer ``If-None-Match`` with 304.
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
from collections import Counter

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from . import images as img

# path -> (content type, bytes) of the good images
GOOD = {
    "/big.jpg": ("image/jpeg", img.big_jpeg),
    "/rotated.jpg": ("image/jpeg", img.rotated_jpeg),
    "/cmyk.jpg": ("image/jpeg", img.cmyk_jpeg),
    "/alpha.png": ("image/png", img.alpha_png),
    "/anim.gif": ("image/gif", img.animated_gif),
    "/photo.webp": ("image/webp", img.webp),
    "/gray16.png": ("image/png", img.gray16_png),
    "/image": ("image/png", img.graphic_png),  # served as /image?id=42: no extension
    "/icon.png": ("image/png", img.icon_png),
    "/target.png": ("image/png", lambda: img.small_png((10, 120, 10))),
    "/clean.svg": ("image/svg+xml", lambda: img.SVG_CLEAN),
}


class ImageServer:
    def __init__(self, trickle_seconds: float = 60.0):
        self.server = HTTPServer(threaded=True)
        self.hits: Counter[str] = Counter()
        self.conditional_hits = 0
        self.not_modified = 0
        self._lock = threading.Lock()
        self.trickle_seconds = trickle_seconds
        self.server.expect_request(re.compile(".*")).respond_with_handler(self._dispatch)

    def start(self) -> "ImageServer":
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.clear()
        if self.server.is_running():
            self.server.stop()

    def url(self, path: str) -> str:
        return self.server.url_for(path)

    @property
    def total_hits(self) -> int:
        return sum(self.hits.values())

    def _dispatch(self, request: Request) -> Response:
        path = request.path
        with self._lock:
            self.hits[path] += 1
            if request.headers.get("If-None-Match"):
                self.conditional_hits += 1
        if path in GOOD:
            ctype, make = GOOD[path]
            data = make()
            etag = '"' + hashlib.sha256(data).hexdigest()[:20] + '"'
            if request.headers.get("If-None-Match") == etag:
                with self._lock:
                    self.not_modified += 1
                return Response(status=304, headers={"ETag": etag})
            return Response(data, content_type=ctype, headers={"ETag": etag})
        if path == "/404.png":
            return Response("not found", status=404)
        if path == "/500.jpg":
            return Response("boom", status=500)
        if path == "/503.png":
            return Response("busy", status=503)
        if path == "/redirect":
            return Response(status=302, headers={"Location": "/target.png"})
        if path == "/redirect-to":  # anywhere: ?to=URL
            return Response(status=302, headers={"Location": request.args.get("to", "/")})
        if path == "/loop-a":
            return Response(status=302, headers={"Location": "/loop-b"})
        if path == "/loop-b":
            return Response(status=302, headers={"Location": "/loop-a"})
        if path == "/trickle.jpg":
            return Response(self._trickle(), content_type="image/jpeg",
                            headers={"Content-Length": "100000"})
        if path == "/truncated.jpg":
            return Response(img.truncated_jpeg(), content_type="image/jpeg")
        if path == "/fake.jpg":
            return Response(img.FAKE_JPEG, content_type="image/jpeg")
        if path == "/bomb.png":
            return Response(img.bomb_png(), content_type="image/png")
        if path == "/script.svg":
            return Response(img.SVG_WITH_SCRIPT, content_type="image/svg+xml")
        return Response("no such path", status=404)

    def _trickle(self):
        """A JPEG header, then one byte every half second: never a read timeout."""
        yield b"\xff\xd8\xff\xe0"
        end = time.monotonic() + self.trickle_seconds
        while time.monotonic() < end:
            time.sleep(0.5)
            yield b"\x00"
