"""The asset store's cache folder: every read and write of it goes through ``CacheFiles``.

Layout (``cache_dir``), every file written atomically (temp file + rename)::

    objects/ab/<sha256>           original bytes, content-addressed
    urls/<sha256 of url>.json     url, final_url, status, kept headers, fetched_at, sha256, type
    variants/<key>.<ext> + .json  processed variants (``variants.py``)
    CACHEDIR.TAG                  marks the folder as pubpipe's cache (``cache.claim``)

Other stages keep their results beside these through ``read_cache_file``/``write_cache_file``
(and the sealed pair, for entries no record points to); ``cache.py`` prunes the folder after each
build and empties it (``pubpipe clean``).

A cache is shared with whoever can write to it, so nothing in it is trusted: every file is read only
if it is a regular file inside the cache (no symlink anywhere below the cache folder), and objects
and variants only if their bytes still have the SHA-256 recorded for them. A bad entry is deleted,
reported once (``cache-damaged`` warning), and made again by its owner.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
from pathlib import Path

from ..document import Asset, Diagnostics, Location, read_regular_file
from ..util import atomic_write
from .cache import mark_used, usable_cache

# Cache entries that hold what the network said (records, oEmbed answers, fetched bytes): inputs
# of a build as much as its files are, so every read of one is noted in ``network_reads``.
NETWORK_ENTRIES = ("urls/", "oembed/", "objects/")


class CacheFiles:
    """Checked reads and atomic writes of one cache folder; damaged entries removed and reported
    (once each) to diagnostics."""

    def __init__(self, cache_dir: Path, diagnostics: Diagnostics | None = None):
        self.cache_dir = Path(cache_dir)
        self._cache_real = usable_cache(self.cache_dir)
        self.diagnostics = diagnostics if diagnostics is not None else Diagnostics()
        self._damaged: set[Path] = set()  # cache files found bad this build (reported once)
        # NETWORK_ENTRIES read this build: relative path -> SHA-256 of the bytes, None if absent
        self.network_reads: dict[str, str | None] = {}
        self._lock = threading.Lock()

    def object_path(self, sha: str) -> Path:
        return self.cache_dir / "objects" / sha[:2] / sha

    def record_path(self, url: str) -> Path:
        return self.cache_dir / "urls" / (hashlib.sha256(url.encode()).hexdigest() + ".json")

    def read_record(self, url: str) -> dict | None:
        raw = self.read_file(self.record_path(url))
        try:
            rec = json.loads(raw.decode("utf-8")) if raw is not None else None
        except ValueError:
            rec = None
        if not (isinstance(rec, dict) and isinstance(rec.get("sha256"), str)
                and re.fullmatch(r"[0-9a-f]{64}", rec["sha256"])
                and isinstance(rec.get("headers", {}), dict)):
            return None
        return rec

    # Every read of the cache goes through these: regular files inside the cache, objects and
    # variants checked against their hash.

    def read_cache_file(self, relative: str, sha256: str = "") -> bytes | None:
        """Bytes of cache_dir/relative if it is a regular file inside the cache (else None) and,
        when sha256 is given, still has that hash (a file that does not is removed)."""
        if Path(relative).is_absolute() or ".." in Path(relative).parts:
            return None  # never a file outside the cache (nor one to remove as damaged)
        path = self.cache_dir / relative
        data = self.read_file(path)
        if data is not None and sha256 and hashlib.sha256(data).hexdigest() != sha256:
            self.drop(path, None, "its bytes do not match their recorded hash")
            return None
        return data

    def read_sealed_cache_file(self, relative: str) -> bytes | None:
        """Bytes written by write_sealed_cache_file, if the file is a regular file inside the
        cache whose recorded hash (of its name and bytes) still holds: a truncated, edited or
        swapped entry is removed (reported once) and None returned, so the caller makes it again."""
        raw = self.read_cache_file(relative)
        if raw is None:
            return None
        seal, _, data = raw.partition(b"\n")
        if seal.decode("ascii", "replace") != _seal(relative, data):
            self.drop(self.cache_dir / relative, None, "its bytes do not match their recorded hash")
            return None
        return data

    def write_sealed_cache_file(self, relative: str, data: bytes) -> None:
        """Write an entry that carries its own hash (for entries no record points to)."""
        self.write_cache_file(relative, _seal(relative, data).encode() + b"\n" + data)

    def write_cache_file(self, relative: str, data: bytes) -> None:
        """Write cache_dir/relative atomically (a cache that cannot be written is no error)."""
        if Path(relative).is_absolute() or ".." in Path(relative).parts:
            raise ValueError(f"not a cache file name: {relative}")
        try:
            self.write_atomic(self.cache_dir / relative, data)
        except OSError:
            pass

    def read_file(self, path: Path, asset: Asset | None = None) -> bytes | None:
        try:
            rel = path.relative_to(self.cache_dir)
        except ValueError:
            return None
        try:
            real = Path(os.path.realpath(path))
        except (OSError, ValueError):
            real = None
        noted = rel.as_posix().startswith(NETWORK_ENTRIES)
        if noted:
            self.network_reads[rel.as_posix()] = None
        if not os.path.lexists(path):
            return None
        if real != self._cache_real / rel:  # a symlink somewhere below the cache folder
            self.drop(path, asset, "a link, not a file of the cache")
            return None
        try:
            data = read_regular_file(path)
        except ValueError as e:  # not a regular file
            self.drop(path, asset, str(e))
            return None
        except OSError:
            return None
        mark_used(path)  # its last use, for pruning (assets/cache.py)
        if noted:
            self.network_reads[rel.as_posix()] = hashlib.sha256(data).hexdigest()
        return data

    def read_object(self, sha: str, asset: Asset | None = None) -> bytes | None:
        path = self.object_path(sha)
        data = self.read_file(path, asset)
        if data is not None and hashlib.sha256(data).hexdigest() != sha:
            self.drop(path, asset, "its bytes do not match their hash")
            return None
        return data

    def object_ok(self, sha: str, asset: Asset | None = None) -> bool:
        return self.read_object(sha, asset) is not None

    def write_object(self, sha: str, data: bytes) -> None:
        """Store original bytes under their hash. The build depends on the entry as written, as
        on one it read (``network_reads``), so it need not read it back to have it noted."""
        path = self.object_path(sha)
        self.write_atomic(path, data)
        self.network_reads[path.relative_to(self.cache_dir).as_posix()] = sha

    def drop(self, path: Path, asset: Asset | None, why: str | None) -> None:
        """Remove a bad cache entry and say so once; the caller makes it again."""
        try:
            if os.path.isdir(path) and not os.path.islink(path):
                import shutil
                shutil.rmtree(path)
            else:
                os.unlink(path)
        except OSError:
            pass
        with self._lock:
            if why is None or path in self._damaged:
                self._damaged.add(path)
                return
            self._damaged.add(path)
        file, line = where(asset) if asset is not None else (None, None)
        what = f" (image {asset.ref})" if asset is not None and asset.ref else ""
        self.diagnostics.warn("cache-damaged", f"cache entry {path} was bad: {why}{what};"
                              " removed and made again", file, line)

    def write_json(self, path: Path, data: dict) -> None:
        self.write_atomic(path, json.dumps(data, indent=1, sort_keys=True).encode())

    def write_atomic(self, path: Path, data: bytes) -> None:
        atomic_write(path, data)


def where(asset: Asset) -> tuple[Path | None, int | None]:
    """The file and line where an asset is first referenced (for its diagnostics)."""
    loc = asset.locations[0] if asset.locations else Location(None)
    return loc.file, loc.line


def _seal(relative: str, data: bytes) -> str:
    return hashlib.sha256(relative.encode() + b"\0" + data).hexdigest()
