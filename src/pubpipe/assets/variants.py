"""Processed images: one variant of an asset per output profile, cached by content.

A variant's cache key is the SHA-256 of (``PROCESS_VERSION``, the original's SHA-256, the profile
and the settings that shape it: box, JPEG quality, slack), so a rebuild does no image work and a
changed setting remakes only what it changes. Variants live in ``variants/<key>.<ext>`` with a
``<key>.json`` record (its size, media type and SHA-256, checked on every read).

Prefetching: the local images a chapter refers to can be processed while the other chapters are
still being read (``prefetch``: a thread beside the Markdown reader; Pillow releases the GIL while
it decodes, resamples and encodes). A prefetched result is kept in memory under its cache key and
taken by ``make`` only for the very bytes the store later read and accepted, so what a build makes
and reports is the same with or without it; prefetching itself reports nothing, writes nothing,
never touches the network and refuses what the store would refuse (paths leaving the book,
links, files over [assets] max-bytes).
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import json
import os
import re
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from ..config import AssetsSection
from ..document import Asset, Variant, read_regular_file
from ..util import inside
from .cachefiles import CacheFiles

if TYPE_CHECKING:
    from . import images

PROFILES = ("epub", "print")
PROCESS_VERSION = 3  # bump when processing changes, so cached variants are remade
# how much larger than its box a print variant may stay rather than be resampled (linear)
PRINT_SLACK = 1.25
# prefetched variants wait in memory for the images stage: past this many bytes held, prefetching
# stops starting new ones (a book of thousands of photos must not hold them all)
PREFETCH_HELD_MAX = 64 * 2**20


class Variants:
    """Makes and caches the variants of accepted assets (the store asks it)."""

    def __init__(self, files: CacheFiles, settings: AssetsSection, print_width: float):
        self.files = files
        self.settings = settings
        # widest an image prints, in inches, when [assets] print-width is 0 (auto)
        self.print_width = print_width
        self._ready: dict[str, images.Output | Exception] = {}  # cache key -> prefetched result
        self._held = 0  # bytes of the prefetched outputs in _ready
        self._pool: concurrent.futures.ThreadPoolExecutor | None = None
        self._queued: list[concurrent.futures.Future] = []
        self._seen: set[Path] = set()  # files already prefetched (or queued)
        self._lock = threading.Lock()

    # ---- the settings that shape a variant -----------------------------------------------------

    def box(self, profile: str) -> images.Box:
        from . import images
        s = self.settings
        if profile == "epub":
            return images.Box(longest=s.epub_max_size)
        width = s.print_width if s.print_width > 0 else self.print_width
        return images.Box(width=round(s.print_dpi * width),
                          height=round(s.print_dpi * s.print_height))

    def slack(self, profile: str) -> float:
        # print: 300-375 ppi is as good as 300 (sharper, a little bigger), and spares a resize
        return PRINT_SLACK if profile == "print" else 1.0

    def quality(self, profile: str) -> int:
        return self.settings.jpeg_quality if profile == "epub" else self.settings.print_jpeg_quality

    def key(self, sha256: str, profile: str) -> str:
        box = self.box(profile)
        spec = json.dumps([PROCESS_VERSION, sha256, profile, box.longest, box.width,
                           box.height, self.quality(profile), self.slack(profile)])
        return hashlib.sha256(spec.encode()).hexdigest()[:32]

    # ---- making ----------------------------------------------------------------------------------

    def make(self, asset: Asset, profile: str) -> tuple[Variant, bool]:
        """The variant of an accepted asset: (variant, True if it was computed now, not taken
        from the cache). Raises images.ImageRefused if the image turns out to be damaged."""
        key = self.key(asset.sha256, profile)
        meta_path = self.files.cache_dir / "variants" / f"{key}.json"
        variant = self._cached(meta_path, asset)
        if variant is not None:
            return variant, False
        out = self._compute(asset, profile, key)
        ext = Variant(Path(), out.media_type).extension
        path = self.files.cache_dir / "variants" / f"{key}.{ext}"
        self.files.write_atomic(path, out.data)
        variant = Variant(path, out.media_type, out.width, out.height,
                          hashlib.sha256(out.data).hexdigest())
        self.files.write_json(meta_path, {"file": path.name, "media_type": out.media_type,
                                          "width": out.width, "height": out.height,
                                          "sha256": variant.sha256, "source": asset.sha256,
                                          "profile": profile})
        return variant, True

    def _cached(self, meta_path: Path, asset: Asset) -> Variant | None:
        """The variant recorded at meta_path if its file is intact; a bad one is removed."""
        files = self.files
        raw = files.read_file(meta_path)
        if raw is None:
            return None
        try:
            meta = json.loads(raw.decode("utf-8"))
            name, sha = meta["file"], meta["sha256"]
            if not (isinstance(name, str) and re.fullmatch(r"[0-9a-f]{32}\.[a-z]{2,4}", name)
                    and isinstance(sha, str) and re.fullmatch(r"[0-9a-f]{64}", sha)):
                raise ValueError("bad record")
            variant = Variant(meta_path.with_name(name), str(meta["media_type"]),
                              int(meta["width"]), int(meta["height"]), sha)
        except (ValueError, KeyError, TypeError):
            files.drop(meta_path, asset, "unreadable record")
            return None
        data = files.read_file(variant.path, asset)
        if data is None:
            return None
        if hashlib.sha256(data).hexdigest() != variant.sha256:
            files.drop(variant.path, asset, "its bytes do not match their recorded hash")
            files.drop(meta_path, asset, None)
            return None
        return variant

    def _compute(self, asset: Asset, profile: str, key: str) -> images.Output:
        from . import images, svg
        data = self.files.read_object(asset.sha256, asset)
        if data is None:
            raise images.ImageRefused("its cached original was damaged; build again to fetch it"
                                      " anew")
        if asset.media_type == images.SVG:
            try:
                clean = svg.sanitize(data, self.settings.max_bytes)
            except svg.SvgRefused as e:
                raise images.ImageRefused(str(e)) from None
            return images.Output(clean.data, images.SVG, clean.width, clean.height)
        with self._lock:
            ready = self._ready.pop(key, None)
            if isinstance(ready, images.Output):
                self._held -= len(ready.data)
        if isinstance(ready, Exception):
            raise ready
        if ready is not None:  # prefetched from these very bytes (the key holds their hash)
            return ready
        return images.process(data, self.box(profile), self.quality(profile),
                              self.slack(profile))

    # ---- prefetching ---------------------------------------------------------------------------

    def prefetch(self, root: Path, paths: list[Path], profiles: tuple[str, ...]) -> None:
        """Start processing these local files (inside root) for profiles in the background."""
        todo = [p for p in paths if p not in self._seen]
        if not todo or not profiles:
            return
        self._seen.update(todo)
        if self._pool is None:
            # the reader keeps one core; the others process images beside it
            workers = max(1, min(3, (os.cpu_count() or 1) - 1))
            self._pool = concurrent.futures.ThreadPoolExecutor(
                max_workers=workers, thread_name_prefix="pubpipe-prefetch")
        for path in todo:
            self._queued.append(self._pool.submit(self._prefetch_one, root, path, profiles))

    def settle(self) -> None:
        """Stop prefetching: what has not started is dropped (``make`` does it), what is running
        is waited for."""
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
        self._queued = []

    def forget(self) -> None:
        """Drop every prefetched result not taken (after the images stage)."""
        self.settle()
        with self._lock:
            self._ready.clear()
            self._held = 0

    def _prefetch_one(self, root: Path, path: Path, profiles: tuple[str, ...]) -> None:
        from . import images
        try:
            real = inside(root, path)
            if real is None or real.stat().st_size > self.settings.max_bytes:
                return
            data = read_regular_file(real)
        except (OSError, ValueError):
            return
        media = images.sniff(data)
        if not media or media == images.SVG or not images.quietly_openable(data):
            return  # SVGs are cheap, and the store refuses bombs itself (with its message)
        sha = hashlib.sha256(data).hexdigest()
        for profile in profiles:
            key = self.key(sha, profile)
            with self._lock:
                if key in self._ready or self._held > PREFETCH_HELD_MAX:
                    continue
            if (self.files.cache_dir / "variants" / f"{key}.json").exists():
                continue  # cached already (checked when it is read)
            try:
                out: images.Output | Exception = images.process(
                    data, self.box(profile), self.quality(profile), self.slack(profile))
            except images.ImageRefused as e:
                out = e
            with self._lock:
                self._ready[key] = out
                if isinstance(out, images.Output):
                    self._held += len(out.data)
