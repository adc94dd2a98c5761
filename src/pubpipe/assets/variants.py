"""Processed images: one variant of an asset per output profile, cached by content.

A variant's cache key is the SHA-256 of (``PROCESS_VERSION``, the original's SHA-256, the profile
and the settings that shape it: box, JPEG quality, slack), so a rebuild does no image work and a
changed setting remakes only what it changes. Variants live in ``variants/<key>.<ext>`` with a
``<key>.json`` record (its size, media type and SHA-256, checked on every read).

Prefetching: the local images a chapter refers to can be processed while the other chapters are
still being read (``prefetch``). Each file is one job (``prefetch_file``) for a ``Runner``: threads
in this process by default (Pillow releases the GIL while it decodes, resamples and encodes), or
worker processes when the build gives the store some (a build that lays out lends its layout
workers: there the second core is really used while this process reads, with no GIL shared).
A prefetched result comes back as bytes, is kept in memory under its cache key and is taken by
``make`` only for the very bytes the store later read and accepted (the key holds their hash), so
what a build makes, writes and reports is the same with or without it; prefetching itself reports
nothing, writes nothing, never touches the network and refuses what the store would refuse (paths
leaving the book, links, files over [assets] max-bytes, decompression bombs).
"""

from __future__ import annotations

import collections
import concurrent.futures
import hashlib
import json
import os
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, TypeVar

from ..config import AssetsSection
from ..document import Asset, Variant, read_regular_file
from ..util import Draining, inside
from .cachefiles import CacheFiles

if TYPE_CHECKING:
    from . import images

PROFILES = ("epub", "print")
PROCESS_VERSION = 3  # bump when processing changes, so cached variants are remade
# how much larger than its box a print variant may stay rather than be resampled (linear)
PRINT_SLACK = 1.25
# prefetched variants wait in memory for the images stage: past this many bytes held, prefetching
# stops starting new ones and drops what still comes back (a book of thousands of photos must not
# hold them all)
PREFETCH_HELD_MAX = 64 * 2**20
PREFETCH_RUNNING = 4  # jobs handed to the runner at once (the rest wait here, cheaply dropped)

J = TypeVar("J")
R = TypeVar("R")


class Runner(Protocol):
    """Runs jobs beside the caller and hands each result (or the exception it raised) to its
    callback, in another thread."""

    def submit(self, fn: Callable[[J], R], job: J,
               done: Callable[[R | Exception], None]) -> None: ...

    def drain(self) -> None:
        """Return when every job submitted is done and its callback has run."""

    def cancel(self) -> None:
        """Drop the jobs not started, end the ones running; no callback runs afterwards."""


class ThreadRunner(Draining):
    """A Runner of a few threads in this process (the reader keeps one core)."""

    def __init__(self, workers: int | None = None):
        super().__init__()
        self.workers = workers or max(1, min(3, (os.cpu_count() or 1) - 1))
        self._pool: concurrent.futures.ThreadPoolExecutor | None = None

    def submit(self, fn: Callable[[J], R], job: J,
               done: Callable[[R | Exception], None]) -> None:
        with self._changed:
            if self._pool is None:
                self._dropping = False
                self._pool = concurrent.futures.ThreadPoolExecutor(
                    max_workers=self.workers, thread_name_prefix="pubpipe-prefetch")
            self._open += 1
            pool = self._pool

        def run() -> None:
            if self._dropping:
                self._finished(done, None)
                return
            try:
                got: R | Exception = fn(job)
            except Exception as e:  # noqa: BLE001 - handed to the callback
                got = e
            except BaseException:
                self._finished(done, None, dropped=True)
                raise
            self._finished(done, got)

        pool.submit(run)

    def cancel(self) -> None:
        self._dropping = True
        self._end()

    def _end(self) -> None:
        with self._changed:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
        with self._changed:
            self._open = 0


@dataclass(frozen=True)
class Spec:
    """What shapes one profile's variant (with the original's hash: its cache key)."""

    profile: str
    box: images.Box
    quality: int
    slack: float

    def key(self, sha256: str) -> str:
        box = self.box
        spec = json.dumps([PROCESS_VERSION, sha256, self.profile, box.longest, box.width,
                           box.height, self.quality, self.slack])
        return hashlib.sha256(spec.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class PrefetchJob:
    """One local file to process ahead, for these profiles."""

    root: Path  # the book folder: nothing outside it is read
    path: Path
    max_bytes: int  # [assets] max-bytes
    variants_dir: Path  # a variant already cached there is not made again
    specs: tuple[Spec, ...]


Prefetched = dict[str, "images.Output | images.ImageRefused"]  # cache key -> what was made


def prefetch_file(job: PrefetchJob) -> Prefetched:
    """The variants of one local file, by cache key (empty when the store would refuse the file,
    or would report it: a bomb, an SVG, not an image). Runs in a thread or a worker process."""
    from . import images
    try:
        real = inside(job.root, job.path)
        if real is None or real.stat().st_size > job.max_bytes:
            return {}
        data = read_regular_file(real)
    except (OSError, ValueError):
        return {}
    media = images.sniff(data)
    if not media or media == images.SVG or not images.quietly_openable(data):
        return {}  # SVGs are cheap, and the store refuses bombs itself (with its message)
    sha = hashlib.sha256(data).hexdigest()
    made: Prefetched = {}
    for spec in job.specs:
        key = spec.key(sha)
        if (job.variants_dir / f"{key}.json").exists():
            continue  # cached already (checked when it is read)
        try:
            made[key] = images.process(data, spec.box, spec.quality, spec.slack)
        except images.ImageRefused as e:
            made[key] = e
    return made


class Variants:
    """Makes and caches the variants of accepted assets (the store asks it)."""

    def __init__(self, files: CacheFiles, settings: AssetsSection, print_width: float,
                 runner: Runner | None = None):
        self.files = files
        self.settings = settings
        # widest an image prints, in inches, when [assets] print-width is 0 (auto)
        self.print_width = print_width
        self.runner: Runner = runner or ThreadRunner()  # where prefetching runs
        self._ready: dict[str, images.Output | Exception] = {}  # cache key -> prefetched result
        self._held = 0  # bytes of the prefetched outputs in _ready
        self._seen: set[Path] = set()  # files already prefetched (or queued)
        self._waiting: collections.deque[PrefetchJob] = collections.deque()  # not yet started
        self._running = 0  # jobs handed to the runner, not yet taken back
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

    def spec(self, profile: str) -> Spec:
        return Spec(profile, self.box(profile), self.quality(profile), self.slack(profile))

    def key(self, sha256: str, profile: str) -> str:
        return self.spec(profile).key(sha256)

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
        with self._lock:
            ready = self._ready.pop(key, None)
            if isinstance(ready, images.Output):
                self._held -= len(ready.data)
        # prefetched from these very bytes: the key holds the hash of what the store accepted
        # (and has just stored, or checked in the cache), so the original is not read again
        if isinstance(ready, Exception):
            raise ready
        if ready is not None:
            return ready
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
        return images.process(data, self.box(profile), self.quality(profile),
                              self.slack(profile))

    # ---- prefetching ---------------------------------------------------------------------------

    def prefetch(self, root: Path, paths: list[Path], profiles: tuple[str, ...]) -> None:
        """Start processing these local files (inside root) for profiles in the background."""
        todo = [p for p in paths if p not in self._seen]
        if not todo or not profiles:
            return
        self._seen.update(todo)
        specs = tuple(self.spec(p) for p in profiles)
        variants_dir = self.files.cache_dir / "variants"
        with self._lock:
            self._waiting.extend(PrefetchJob(root, path, self.settings.max_bytes, variants_dir,
                                             specs) for path in todo)
        self._pump()

    def _pump(self) -> None:
        """Hand waiting jobs to the runner, a few at a time, while not too much is held."""
        with self._lock:
            jobs = []
            while (self._waiting and self._running + len(jobs) < PREFETCH_RUNNING
                   and self._held <= PREFETCH_HELD_MAX):
                jobs.append(self._waiting.popleft())
            self._running += len(jobs)
        for job in jobs:
            self.runner.submit(prefetch_file, job, self._took)

    def _took(self, got: Prefetched | Exception) -> None:
        """A prefetch job's result (one that failed, say its worker died, is made later)."""
        with self._lock:
            self._running -= 1
            for key, out in ({} if isinstance(got, Exception) else got).items():
                if key in self._ready or self._held > PREFETCH_HELD_MAX:
                    continue
                self._ready[key] = out
                if not isinstance(out, Exception):
                    self._held += len(out.data)
        self._pump()

    def settle(self) -> None:
        """Wait for the prefetch jobs already started (the images stage then takes their
        results); the files still waiting are not started: the images stage makes them itself,
        at the build's own priority. (Waiting for the whole queue left the build idle while the
        workers, below its priority, got a sliver of a busy machine's cores: a minute or more
        for a few seconds of images.)"""
        with self._lock:
            self._waiting.clear()
        self.runner.drain()

    def forget(self) -> None:
        """Stop prefetching (what has not started is dropped, what runs is ended) and drop
        every prefetched result not taken (after the images stage, or a failed build)."""
        with self._lock:
            self._waiting.clear()
        self.runner.cancel()
        with self._lock:
            self._ready.clear()
            self._held = 0
            self._running = 0
