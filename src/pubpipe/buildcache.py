"""A build's outputs, reused when nothing they were made from has changed.

A build that succeeds leaves in the cache (``outputs/``) what it wrote and what it said: each
output's bytes, every diagnostic (and how many each of its checks saw, so ``--strict``
fails at the same point), the images it registered (for ``--report``). They are kept in a *slot*
named by what the build was asked to do: the book (its settings, chapter list and selection as
``config.load`` found them), the formats, ``--offline``, the environment that shapes outputs
(``SOURCE_DATE_EPOCH``, ``PUBPIPE_LAYOUT``), pubpipe's code and styles, the installed libraries
and Python, and the fonts installed (``systemfonts``: a font installed or removed prints the
same book differently) and the PDF/X output intent's ICC profile. With the slot goes a manifest of what the build read:

* every file the build read (chapters, book.toml, the site config, `css` files, include files,
  the cover, local images): its SHA-256 (a local image's as the store hashed the bytes it read);
* every file of the book folder (and of the site root), read or not: its size and modification
  time, so that a new, removed or edited file is seen (hidden folders, the output folder, the
  cache, ``node_modules`` and a site's output folder aside);
* the modification times that an EPUB's ``dcterms:modified`` may come from;
* the cache entries that stand in for the network (``urls/``, ``oembed/``, ``objects/``): the
  SHA-256 of each one read, or that it was absent.

The next build with the same slot looks at the book folder again and hashes the files read; when
everything matches, it writes the same bytes and reports the same diagnostics without reading a
chapter, and without importing Markdown, html5lib, Pillow or WeasyPrint. Nothing from the cache
is trusted: the manifest is JSON, checked field by field, and each output is read through the
store's verified API against the SHA-256 the manifest gives.

Not stored: builds that asked a server anything (an online build revalidates every remote image
and may fetch embed details, so its outputs depend on answers that can change: it runs in full
each time); builds that found a damaged cache entry (the next full build would say something
else); EPUB builds whose print layout failed (a worker killed: the next one may succeed and
carry the page numbers); books whose folders hold more than ``MAX_FILES`` files (looking at them would cost more
than it saves).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
import sys
from dataclasses import dataclass, field
from pathlib import Path

from . import __version__, systemfonts
from .assets.store import NETWORK_ENTRIES, AssetStore
from .config import FORMATS, Config
from .context import BuildOptions
from .document import Asset, Diagnostic, Diagnostics, Location, Severity
from .layout.settings import icc_profile
from .resources import code_fingerprint
from .util import inside

__all__ = ["CachedBuild", "OutputCache"]

VERSION = 2  # bump when the manifest's shape changes
MAX_FILES = 20_000
# Environment variables that change what a build writes.
ENVIRONMENT = ("SOURCE_DATE_EPOCH", "PUBPIPE_LAYOUT")
_HEX = re.compile(r"[0-9a-f]{64}")
# Folders no build reads from (dependencies, site generators' outputs), left out of the listing;
# a file in one that a build does read (an image) is in the manifest all the same.
UNREAD = {"node_modules"}
UNREAD_AT_TOP = {"_site", "public", "output"}


@dataclass
class CachedBuild:
    """What an earlier build with the same inputs wrote and said."""

    outputs: dict[str, tuple[str, bytes]]  # format -> (file name, bytes)
    diagnostics: Diagnostics
    checks: list[int]  # how many diagnostics each of the build's error/--strict checks saw
    assets: list[Asset] = field(default_factory=list)


class OutputCache:
    """The output cache of one build: ``lookup()`` before the build, ``save()`` after it."""

    def __init__(self, cfg: Config, opts: BuildOptions, store: AssetStore, outputs: list[Path]):
        """outputs: where the build writes (folders or, with -o, one file): not inputs."""
        self.store = store
        self.cfg = cfg
        self._skip = [p.resolve() for p in outputs] + [Path(store.cache_dir).resolve()]
        self.slot = _slot(cfg, opts)
        self.files = _listing(cfg, self._skip)  # path -> SHA-256; None: too big to hash

    @property
    def usable(self) -> bool:
        return self.files is not None

    # ---- reuse --------------------------------------------------------------------------------

    def lookup(self) -> CachedBuild | None:
        """The earlier build's outputs and diagnostics if none of its inputs changed."""
        if self.files is None:
            return None
        raw = self.store.read_cache_file(f"outputs/{self.slot}.json")
        if raw is None:
            return None
        try:
            m = json.loads(raw.decode("utf-8"))
            if m.get("version") != VERSION or m.get("files") != self.files:
                return None
            roots = (self.cfg.root, self.cfg.book_dir)
            for p, h in m["read"].items():  # files are hashed only inside the book
                if not any(inside(r, p) for r in roots) or _file_state(Path(p), *roots) != h:
                    return None
            if m["mtimes"] != _mtimes(self.cfg):
                return None
            for rel, sha in m["cache"].items():
                if not any(rel.startswith(p) for p in NETWORK_ENTRIES) or ".." in rel:
                    return None
                data = self.store.read_cache_file(rel)
                if (hashlib.sha256(data).hexdigest() if data is not None else None) != sha:
                    return None
            outputs = {}
            for fmt, (name, sha) in m["outputs"].items():
                if fmt not in FORMATS or not (isinstance(name, str) and _HEX.fullmatch(sha)) \
                        or "/" in name or name.startswith("."):
                    return None
                data = self.store.read_cache_file(f"outputs/{self.slot}.{fmt}", sha)
                if data is None:
                    return None
                outputs[fmt] = (name, data)
            diags = Diagnostics(_diagnostic(d) for d in m["diagnostics"])
            checks = [int(n) for n in m["checks"]]
            return CachedBuild(outputs, diags, checks, [_asset(a) for a in m["assets"]])
        except (ValueError, KeyError, TypeError, AttributeError):
            return None

    # ---- storing ------------------------------------------------------------------------------

    def save(self, outputs: dict[str, tuple[str, bytes]], diagnostics: list[Diagnostic],
             checks: list[int], assets: list[Asset], read_files: list[Path],
             cache_reads: dict[str, str | None], hashed: dict[Path, str] | None = None) -> None:
        """Keep a successful build's outputs for the next build with the same inputs. hashed:
        the SHA-256 of files' bytes as the build read them (local images: the store hashed
        them), kept as they are instead of hashing the files again: a file edited while the
        build ran is then seen changed by the next build."""
        if self.files is None:
            return
        roots = (self.cfg.root, self.cfg.book_dir)
        hashed = hashed or {}
        read = {str(p): hashed[p] if p in hashed and _HEX.fullmatch(hashed[p])
                and not p.is_symlink() else _file_state(p, *roots)
                for p in sorted(set(read_files)) if any(inside(r, p) for r in roots)}
        # an object that is a copy of a book file is checked through that file
        local = {h[-64:] for h in read.values()}
        cache = {rel: sha for rel, sha in sorted(cache_reads.items())
                 if rel.startswith(NETWORK_ENTRIES)
                 and not (rel.startswith("objects/") and sha in local)}
        manifest = {
            "version": VERSION,
            "files": self.files,
            "read": read,
            "mtimes": _mtimes(self.cfg),
            "cache": cache,
            "outputs": {fmt: [name, hashlib.sha256(data).hexdigest()]
                        for fmt, (name, data) in outputs.items()},
            "diagnostics": [_diagnostic_json(d) for d in diagnostics],
            "checks": checks,
            "assets": [_asset_json(a) for a in assets],
        }
        for fmt, (_, data) in outputs.items():  # the bytes first: the manifest names them
            self.store.write_cache_file(f"outputs/{self.slot}.{fmt}", data)
        self.store.write_cache_file(f"outputs/{self.slot}.json",
                                    json.dumps(manifest, ensure_ascii=False).encode("utf-8"))


# ---- what names a slot ------------------------------------------------------------------------

def _slot(cfg: Config, opts: BuildOptions) -> str:
    h = hashlib.sha256(json.dumps([
        VERSION, __version__, sys.version, list(opts.formats), opts.offline, opts.revalidate,
        {k: os.environ.get(k, "") for k in ENVIRONMENT},
    ]).encode())
    h.update(repr(cfg).encode())  # every setting, the chapters in order, the posts left out
    h.update(code_fingerprint().encode())
    h.update(systemfonts.fingerprint().encode())
    h.update(_output_intent().encode())
    return h.hexdigest()[:32]


def _output_intent() -> str:
    """The CMYK profile a PDF/X build embeds as its output intent (one installed later, or
    changed, prints differently): where it is, its size and modification time."""
    icc = icc_profile()
    try:
        st = os.stat(icc) if icc is not None else None
    except OSError:
        st = None
    return f"{icc}:{st.st_size}:{st.st_mtime_ns}" if st is not None else "none"


# ---- what the build read ----------------------------------------------------------------------

def _listing(cfg: Config, skip: list[Path]) -> dict[str, str] | None:
    """Every file of the book folder (and site root) with its size and modification time (the
    files a build reads are hashed too, in the manifest's "read"); None when there are too many
    to look at on every build."""
    files: dict[str, str] = {}
    skip = [*skip, (cfg.book_dir / "build").resolve()]
    skip_files = {p for p in skip if p.is_file()}
    for top in dict.fromkeys([cfg.root, cfg.book_dir]):
        stack = [top]
        while stack:
            folder = stack.pop()
            try:
                entries = sorted(os.scandir(folder), key=lambda e: e.name)
            except OSError:
                continue
            for e in entries:
                path = Path(e.path)
                if e.is_dir(follow_symlinks=False):
                    if not (e.name.startswith(".") or e.name in UNREAD
                            or (folder == top and e.name in UNREAD_AT_TOP)
                            or path.resolve() in skip):
                        stack.append(path)
                    continue
                if skip_files and path.resolve() in skip_files:  # the output of -o FILE
                    continue
                if len(files) >= MAX_FILES:
                    return None
                link = ("link:" + os.readlink(path) + ":") if e.is_symlink() else ""
                try:
                    st = e.stat()  # a link's target is looked at, never read
                    files[str(path)] = f"{link}{st.st_size}:{st.st_mtime_ns}"
                except OSError:
                    files[str(path)] = link + "missing"
    return files


def _file_state(path: Path, *roots: Path) -> str:
    """A file's SHA-256; for a link, where it leads too, and no hash when it leads out of the
    book (such a file is never read); "special" for a device or pipe, "missing" for nothing."""
    try:
        real = path.resolve()
        st = os.stat(real)
    except (OSError, RuntimeError):
        return "missing"
    if not stat.S_ISREG(st.st_mode):
        return "special"
    if path.is_symlink():
        if not any(real.is_relative_to(r.resolve()) for r in roots):
            return "link:" + str(real)
        return "link:" + str(real) + ":" + _sha_file(real)
    return _sha_file(path)


def _sha_file(path: Path) -> str:
    h = hashlib.sha256()
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return "missing"
    try:
        with os.fdopen(fd, "rb", closefd=False) as f:
            while chunk := f.read(1 << 20):
                h.update(chunk)
    except OSError:
        return "unreadable"
    finally:
        os.close(fd)
    return h.hexdigest()


def _mtimes(cfg: Config) -> dict[str, int]:
    """Whole-second modification times of the files an EPUB's dcterms:modified may come from
    (the chapters, book.toml, the cover) when the book gives no date."""
    paths = [*cfg.chapter_files, cfg.config_file]
    if cfg.book.cover:
        paths.append(cfg.root / cfg.book.cover)
    out = {}
    for p in paths:
        if p is None:
            continue
        try:
            out[str(p)] = int(os.stat(p).st_mtime)
        except OSError:
            out[str(p)] = -1
    return out


# ---- JSON forms -------------------------------------------------------------------------------

def _diagnostic_json(d: Diagnostic) -> dict:
    return {"severity": d.severity.name, "code": d.code, "message": d.message,
            "file": str(d.file) if d.file else None, "line": d.line}


def _diagnostic(d: dict) -> Diagnostic:
    line = d["line"]
    if line is not None and not isinstance(line, int):
        raise TypeError("line")
    return Diagnostic(Severity[d["severity"]], str(d["code"]), str(d["message"]),
                      Path(d["file"]) if d["file"] else None, line)


def _asset_json(a: Asset) -> dict:
    return {"id": a.id, "ref": a.ref, "url": a.url, "status": a.status, "reason": a.reason,
            "media_type": a.media_type, "width": a.width, "height": a.height,
            "locations": [[str(loc.file) if loc.file else None, loc.line] for loc in a.locations]}


def _asset(d: dict) -> Asset:
    return Asset(id=str(d["id"]), ref=str(d["ref"]), url=str(d["url"]), status=str(d["status"]),
                 reason=str(d["reason"]), media_type=str(d["media_type"]),
                 width=int(d["width"]), height=int(d["height"]),
                 locations=[Location(Path(f) if f else None, int(n) if n is not None else None)
                            for f, n in d["locations"]])
