"""Housekeeping of the cache folder: which entries builds use, pruning what recent builds did not
use, and emptying it (``pubpipe clean``).

The cache holds two sorts of entries, each in its own folder:

* *sources*, costly to get again (the network): ``objects/`` (original bytes), ``urls/`` (what a
  server said), ``oembed/`` (embed descriptions);
* *derived* entries, made again from the sources by any build: ``variants/`` (processed images),
  ``layout/`` (laid-out pieces), ``pdf/`` (finished PDFs), ``epub/`` (EPUB covers), ``math/``
  (drawn formulas), ``epubcheck/`` (EPUBCheck's verdicts for ``pubpipe check``), ``read/`` (read
  chapters) and ``outputs/`` (the outputs of a whole build).

An entry is a file together with the files of the same name and another ending (a layout piece
is ``<key>.pdf`` + ``<key>.json``). Its last use is the newest modification time of its files: a
build writes what it makes and marks what it reads (``mark_used``). After each successful build
``prune`` removes derived entries that none of the last ``cache-keep-builds`` builds used or that
were last used more than ``cache-max-age`` days ago, then, while the cache is larger than
``cache-max-mb``, the least recently used entries of either sort that this build did not use.
Sources are otherwise kept: an offline build needs them. A build that used no derived entry but
finished outputs (nothing changed) is not counted among the last builds.

Only a folder that is pubpipe's cache is touched: one holding a ``CACHEDIR.TAG`` (the cache
directory tag that backup tools know), which the store writes when it makes the folder or finds it
holding nothing but pubpipe's folders; a folder of one's own given as the cache by mistake is never
pruned or emptied. In it, only the folders above are touched, and nothing outside the cache:
folders are walked without following symbolic links, and files are removed through a descriptor
of their folder opened with ``O_NOFOLLOW`` from the cache's own, so a link (or a folder swapped for
one) can only lose the link itself, never what it points to.
"""

from __future__ import annotations

import json
import os
import stat
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from ..config import AssetsSection
from ..errors import ConfigError
from ..util import atomic_write, remove_stale_temp_files

SOURCES = ("objects", "urls", "oembed")
DERIVED = ("variants", "layout", "pdf", "epub", "math", "epubcheck", "read", "outputs")
FINISHED = ("outputs",)  # whole outputs of a build with nothing changed
KINDS = SOURCES + DERIVED  # a new kind of cache entry adds its folder to one of these
BUILD_LOG = "builds.json"  # start times of the latest builds that used this cache
TAG = "CACHEDIR.TAG"  # https://bford.info/cachedir/
TAG_SIGNATURE = b"Signature: 8a477f597d28d172789f06886806bc55"
TAG_TEXT = TAG_SIGNATURE + (b"\n# This file is a cache directory tag created by pubpipe: the folder"
                            b" is its cache.\n# For information about cache directory tags see"
                            b" https://bford.info/cachedir/\n")
LOG_LENGTH = 200
SLACK = 2.0  # seconds: file times on some file systems are coarse

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)


@dataclass(frozen=True)
class Policy:
    """How much the cache keeps ([assets] cache-keep-builds, cache-max-age, cache-max-mb)."""

    keep_builds: int = 20  # derived entries used by one of the last N builds stay; 0: any number
    max_age_days: float = 30.0  # derived entries unused for longer go; 0: no age limit
    max_bytes: int = 2048 * 1024 * 1024  # the whole cache; 0: no bound

    @classmethod
    def of(cls, settings: AssetsSection) -> Policy:
        return cls(keep_builds=settings.cache_keep_builds, max_age_days=settings.cache_max_age,
                   max_bytes=settings.cache_max_mb * 1024 * 1024)


@dataclass
class Entry:
    kind: str
    folder: tuple[str, ...]  # path of its folder below the cache
    stem: str
    names: list[str] = field(default_factory=list)
    size: int = 0
    last_use: float = 0.0

    @property
    def derived(self) -> bool:
        return self.kind in DERIVED


@dataclass
class Pruned:
    """What a prune or an emptying did."""

    removed_files: int = 0
    removed_bytes: int = 0
    kept_files: int = 0
    kept_bytes: int = 0
    over_bound: bool = False  # still above cache-max-mb: this build alone uses more
    not_ours: bool = False  # the folder has no CACHEDIR.TAG of pubpipe's: nothing was touched

    def as_dict(self) -> dict[str, int | bool]:
        return {"removed_files": self.removed_files, "removed_bytes": self.removed_bytes,
                "kept_files": self.kept_files, "kept_bytes": self.kept_bytes,
                "over_bound": self.over_bound, "not_ours": self.not_ours}


def claim(cache: Path) -> bool:
    """Tag the cache folder as pubpipe's (``CACHEDIR.TAG``) if it is not yet and holds nothing
    but pubpipe's folders and files; whether it is pubpipe's now."""
    with _opened(cache) as root:
        if root is None:
            return False
        if _tagged(root):
            return True
        ours = {*KINDS, BUILD_LOG}
        try:
            if not all(n in ours or n.startswith(".") for n in os.listdir(root)):
                return False
        except OSError:
            return False
    try:
        atomic_write(Path(cache) / TAG, TAG_TEXT)
    except OSError:
        return False
    return True


def mark_used(path: Path) -> None:
    """Say that a build used a cache file (its modification time is its last use)."""
    try:
        os.utime(path, follow_symlinks=False)
    except (OSError, NotImplementedError):
        pass  # a read-only cache only loses its pruning order


def record_build(cache: Path, started: float) -> list[float]:
    """Add a build's start time to the cache's build log; the log's times, oldest first."""
    times = _read_log(cache)
    times = sorted([*times, started])[-LOG_LENGTH:]
    try:
        atomic_write(Path(cache) / BUILD_LOG, json.dumps({"builds": times}).encode())
    except OSError:
        pass
    return times


def prune(cache: Path, started: float, policy: Policy, now: float | None = None) -> Pruned:
    """Remove what the policy says is no longer worth keeping (see the module docstring).

    started: when this build began (wall clock); entries it used are never removed."""
    now = time.time() if now is None else now
    if not claim(cache):
        return Pruned(not_ours=True)
    used_since = started - SLACK
    result = Pruned()
    with _ours(cache, result) as root:
        if root is None:
            return result
        entries = list(_entries(root, result))
        # A build answered from the output cache alone (nothing changed) used no other derived
        # entry: it does not count, or such builds would age out the layout the next edit needs.
        worked = any(e.derived and e.kind not in FINISHED and e.last_use >= used_since
                     for e in entries)
        builds = record_build(cache, started) if worked else _read_log(cache)
        cutoff = 0.0
        if policy.keep_builds and len(builds) >= policy.keep_builds:
            cutoff = builds[-policy.keep_builds] - SLACK
        if policy.max_age_days:
            cutoff = max(cutoff, now - policy.max_age_days * 86400)
        cutoff = min(cutoff, used_since)
        stale = [e for e in entries if e.derived and e.last_use < cutoff]
        keep = [e for e in entries if not (e.derived and e.last_use < cutoff)]
        total = sum(e.size for e in keep)
        if policy.max_bytes and total > policy.max_bytes:
            for e in sorted(keep, key=lambda e: (e.last_use, not e.derived)):
                if total <= policy.max_bytes:
                    break
                if e.last_use >= used_since:
                    continue  # this build's: needed by the next one
                stale.append(e)
                total -= e.size
            result.over_bound = total > policy.max_bytes
        gone = {id(e) for e in stale}
        for e in stale:
            _remove(root, e, result)
        for e in entries:
            if id(e) not in gone:
                result.kept_files += len(e.names)
                result.kept_bytes += e.size
    return result


def empty(cache: Path) -> Pruned:
    """Remove every entry of every kind, the build log and the folders they leave empty (the tag
    stays); files pubpipe did not put there stay."""
    result = Pruned()
    with _ours(cache, result) as root:
        if root is None:
            return result
        for e in list(_entries(root, result)):
            _remove(root, e, result)
        for kind in KINDS:
            _remove_empty_folders(root, kind)
        for name in (BUILD_LOG,):
            try:
                if stat.S_ISREG(os.stat(name, dir_fd=root, follow_symlinks=False).st_mode):
                    os.unlink(name, dir_fd=root)
            except OSError:
                pass
    return result


def cache_size(cache: Path) -> tuple[int, int]:
    """(files, bytes) of every entry in the cache."""
    result = Pruned()
    with _opened(cache) as root:
        if root is None:
            return 0, 0
        entries = list(_entries(root, result))
    return sum(len(e.names) for e in entries), sum(e.size for e in entries)


def _remove_stale_temp_files(cache: Path) -> None:
    """Temporary files of killed builds, in the cache's folders (two levels: objects/ab/)."""
    remove_stale_temp_files(cache)
    for sub in cache.iterdir():
        if sub.is_dir() and not sub.is_symlink():
            remove_stale_temp_files(sub)
            if sub.name in ("objects", "epub"):
                for inner in sub.iterdir():
                    if inner.is_dir() and not inner.is_symlink():
                        remove_stale_temp_files(inner)


def usable_cache(path: Path) -> Path:
    """The cache folder, created if needed, resolved; a ConfigError (exit 2) if it can't be used."""
    hint = "(--cache-dir or [assets] cache-dir)"
    try:
        if path.exists() and not path.is_dir():
            raise ConfigError(f"cache folder {path} is not a folder {hint}")
        path.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=path, prefix=".tmp-probe-")
        os.close(fd)
        os.unlink(probe)
        _remove_stale_temp_files(path)
        claim(path)  # tagged as pubpipe's, so that pruning may tidy it
        return path.resolve()
    except ConfigError:
        raise
    except OSError as e:
        raise ConfigError(f"cache folder {path} cannot be used: {e.strerror or e} {hint}") from None


# ---- walking and removing, without following links ------------------------------------------

def _read_log(cache: Path) -> list[float]:
    path = Path(cache) / BUILD_LOG
    try:
        st = os.lstat(path)
        if not stat.S_ISREG(st.st_mode) or st.st_size > 1 << 20:
            return []
        data = json.loads(path.read_text("utf-8"))
        return sorted(float(t) for t in data["builds"] if isinstance(t, (int, float)))
    except (OSError, ValueError, KeyError, TypeError):
        return []


def _tagged(root: int) -> bool:
    try:
        fd = os.open(TAG, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0), dir_fd=root)
    except OSError:
        return False
    try:
        return stat.S_ISREG(os.fstat(fd).st_mode) and os.read(fd, 64).startswith(TAG_SIGNATURE)
    except OSError:
        return False
    finally:
        os.close(fd)


@contextmanager
def _opened(cache: Path) -> Iterator[int | None]:
    """The cache folder (a link to it, as the user may have set up, is followed: the store does
    the same), opened as a descriptor everything below is reached from."""
    try:
        fd = os.open(Path(cache).resolve(), _DIR_FLAGS)
    except OSError:
        yield None
        return
    try:
        yield fd
    finally:
        os.close(fd)


@contextmanager
def _ours(cache: Path, result: Pruned) -> Iterator[int | None]:
    """The cache folder opened (as _opened) only when it carries pubpipe's tag; otherwise None,
    with result.not_ours set: a folder of the user's own is never emptied."""
    with _opened(cache) as root:
        if root is not None and not _tagged(root):
            result.not_ours = True
            root = None
        yield root


def _open_folder(root: int, parts: tuple[str, ...]) -> int | None:
    """A descriptor of root/parts, every step refusing a link; None if that is not a folder."""
    fd = os.dup(root)
    for part in parts:
        try:
            inner = os.open(part, _DIR_FLAGS, dir_fd=fd)
        except OSError:
            os.close(fd)
            return None
        os.close(fd)
        fd = inner
    return fd


def _entries(root: int, result: Pruned) -> Iterator[Entry]:
    """Every entry below the kinds' folders. A link or special file found there is not a cache
    entry: it is removed (the link itself) and counted."""
    for kind in KINDS:
        try:
            st = os.stat(kind, dir_fd=root, follow_symlinks=False)
        except OSError:
            continue
        if stat.S_ISLNK(st.st_mode):  # the kind's folder swapped for a link: drop the link
            _unlink(root, kind, st, result)
            continue
        if stat.S_ISDIR(st.st_mode):
            yield from _walk(root, kind, (kind,), result)


def _walk(root: int, kind: str, folder: tuple[str, ...], result: Pruned) -> Iterator[Entry]:
    fd = _open_folder(root, folder)
    if fd is None:
        return
    groups: dict[str, Entry] = {}
    subfolders = []
    try:
        for name in os.listdir(fd):
            if name.startswith("."):  # temporary files of a build at work (util.atomic_write)
                continue
            try:
                st = os.stat(name, dir_fd=fd, follow_symlinks=False)
            except OSError:
                continue
            if stat.S_ISDIR(st.st_mode):
                subfolders.append(name)
            elif stat.S_ISREG(st.st_mode):
                stem = name.split(".", 1)[0]
                e = groups.setdefault(stem, Entry(kind, folder, stem))
                e.names.append(name)
                e.size += st.st_size
                e.last_use = max(e.last_use, st.st_mtime)
            else:
                _unlink(fd, name, st, result)
    finally:
        os.close(fd)
    yield from groups.values()
    for name in subfolders:
        yield from _walk(root, kind, (*folder, name), result)


def _remove(root: int, entry: Entry, result: Pruned) -> None:
    fd = _open_folder(root, entry.folder)
    if fd is None:
        return
    try:
        for name in entry.names:
            try:
                st = os.stat(name, dir_fd=fd, follow_symlinks=False)
            except OSError:
                continue
            _unlink(fd, name, st, result)
    finally:
        os.close(fd)


def _unlink(fd: int, name: str, st: os.stat_result, result: Pruned) -> None:
    try:
        os.unlink(name, dir_fd=fd)  # removes a link itself, never its target
    except OSError:
        return
    result.removed_files += 1
    result.removed_bytes += st.st_size if stat.S_ISREG(st.st_mode) else 0


def _remove_empty_folders(root: int, *parts: str) -> None:
    fd = _open_folder(root, parts)
    if fd is None:
        return
    try:
        names = os.listdir(fd)
        for name in names:
            try:
                if stat.S_ISDIR(os.stat(name, dir_fd=fd, follow_symlinks=False).st_mode):
                    _remove_empty_folders(root, *parts, name)
            except OSError:
                pass
    finally:
        os.close(fd)
    parent = _open_folder(root, parts[:-1])
    if parent is None:
        return
    try:
        os.rmdir(parts[-1], dir_fd=parent)
    except OSError:
        pass  # not empty: something that is not pubpipe's is in it
    finally:
        os.close(parent)
