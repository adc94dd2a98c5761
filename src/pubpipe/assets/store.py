"""The asset store: every stage that needs an image's bytes asks it.

Usage (the assets transform does exactly this; other stages may too)::

    store = AssetStore(book.root, cache_dir, cfg.assets, offline=False, diagnostics=book.diagnostics,
                       progress=None)
    a = store.register("img/photo.jpg", base=chapter.source.parent, file=chapter.source, line=12)
    store.fetch_all()                  # fetch/read every pending reference, concurrently
    a = store.canonical(a)             # identical bytes -> one Asset (same id); locations merged
    if a.ok:
        v = store.process(a, "epub")   # -> document.Variant (cached) or None (a.status: "failed")
    g = store.add_bytes(png_bytes, "image/png", "cover")  # generated images: ok at once

* ``register(ref, base=, file=, line=) -> Asset`` resolves a reference: ``http``/``https`` URLs
  (``//host/x`` is taken as https), ``data:`` URIs, and paths relative to ``base`` (a folder inside
  the book; percent-encoding decoded, ``?query``/``#fragment`` ignored). ``file:`` URLs, other
  schemes, absolute paths and paths that leave the book folder (symlinks included) give an Asset
  with status ``"refused"`` at once. Registering the same resolved reference twice returns the
  same Asset with one more location.
* ``fetch_all()`` reads local files and fetches remote URLs (see ``fetch.py``), sniffs the bytes,
  checks images (decoder allow-list, decompression bombs, SVG sanitizing) and sets ``status``
  (``ok`` | ``failed`` | ``refused``), ``reason``, ``sha256``, ``media_type``, ``width``,
  ``height``, ``final_url`` and ``source_path``. Asset ids are final after this: an ok asset's id
  is ``img-<first 16 hex digits of sha256>``, so identical bytes share one id.
* ``process(asset, profile)`` makes the variant for ``"epub"`` or ``"print"``;
  ``process_all(assets, profiles)`` does many in a thread pool. Results are cached by (content hash,
  profile, the settings that shape the output), so a rebuild does no image work.
* ``offline=True``: no network request at all; remote images come from the cache or fail.

Cache layout (``cache_dir``), every file written atomically (temp file + rename)::

    objects/ab/<sha256>           original bytes, content-addressed
    urls/<sha256 of url>.json     url, final_url, status, kept headers, fetched_at, sha256, type
    variants/<key>.<ext> + .json  processed variants, key = sha256(content, profile, settings)
    CACHEDIR.TAG                  marks the folder as pubpipe's cache (``cache.claim``)

Other stages keep their results beside these through ``read_cache_file``/``write_cache_file``;
``cache.py`` prunes the folder after each build and empties it (``pubpipe clean``).

A cache is shared with whoever can write to it, so nothing in it is trusted: every file is read only
if it is a regular file inside the cache (no symlink anywhere below the cache folder), and objects
and variants only if their bytes still have the SHA-256 recorded for them. A bad entry is deleted,
reported once (``cache-damaged`` warning), and made again: a local image is re-read, a remote one
fetched again (offline: a placeholder), a variant re-processed.
"""

from __future__ import annotations

import base64
import binascii
import concurrent.futures
import hashlib
import json
import os
import re
import threading
import urllib.parse
from contextlib import nullcontext
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from ..config import AssetsSection
from ..document import Asset, Diagnostics, Location, Variant, read_regular_file
from ..progress import Progress
from ..util import atomic_write, inside
from .cache import mark_used, usable_cache

if TYPE_CHECKING:
    from . import fetch as fetch_mod
    from . import images

# fetch (httpx), images (Pillow) and svg are imported by the methods that use them: a build whose
# outputs come from the cache reads cache files through the store and needs none of them.

PROFILES = ("epub", "print")
PROCESS_VERSION = 3  # bump when processing changes, so cached variants are remade
# how much larger than its box a print variant may stay rather than be resampled (linear)
PRINT_SLACK = 1.25
_WINDOWS_ABS = re.compile(r"^[A-Za-z]:[\\/]")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*):")
# Cache entries that hold what the network said (records, oEmbed answers, fetched bytes): inputs
# of a build as much as its files are, so every read of one is noted in ``network_reads``.
NETWORK_ENTRIES = ("urls/", "oembed/", "objects/")


class AssetStore:
    def __init__(self, root: Path, cache_dir: Path, settings: AssetsSection,
                 offline: bool = False, diagnostics: Diagnostics | None = None,
                 progress: Progress | None = None, print_width: float = 4.5,
                 revalidate: bool = True):
        self.root = Path(root).resolve()
        self.cache_dir = Path(cache_dir)
        self._cache_real = usable_cache(self.cache_dir)
        self.settings = settings
        self.offline = offline
        self.diagnostics = diagnostics if diagnostics is not None else Diagnostics()
        self.progress = progress
        # Widest an image prints, in inches, when [assets] print-width is 0 (auto): the text
        # block of the print settings (the build context passes it). 4.5 in: a 6x9 in book.
        self.print_width = print_width
        # Online: ask servers again about cached images (conditional requests). False: take what
        # the cache holds and fetch only what it lacks (`pubpipe fetch` without --refresh).
        self.revalidate = revalidate
        self.requests_made = 0  # network requests started by this store (tests, report)
        self.images_processed = 0  # variants actually computed (not taken from the cache)
        self._by_key: dict[str, Asset] = {}  # resolved reference -> Asset
        self._by_hash: dict[str, Asset] = {}  # sha256 -> canonical Asset
        self._kind: dict[str, str] = {}  # resolved reference -> remote | local | data | none
        self._svg_removed: dict[str, list[str]] = {}  # sha256 -> what sanitizing removed
        self._damaged: set[Path] = set()  # cache files found bad this build (reported once)
        # NETWORK_ENTRIES read this build: relative path -> SHA-256 of the bytes, None if absent
        self.network_reads: dict[str, str | None] = {}
        self._lock = threading.Lock()

    # ---- registering -------------------------------------------------------------------------

    def register(self, ref: str, *, base: Path | None = None, file: Path | None = None,
                 line: int | None = None) -> Asset:
        """The Asset for a reference as an author wrote it (see the module docstring)."""
        ref = (ref or "").strip()
        kind, key, refusal = self._resolve(ref, Path(base) if base else self.root)
        asset = self._by_key.get(key)
        if asset is None:
            asset = Asset(id="ref-" + hashlib.sha256(key.encode()).hexdigest()[:12], ref=ref,
                          url=key if kind != "none" else "")
            if refusal:
                asset.status, asset.reason = ("refused" if kind == "none" else "failed"), refusal
            self._by_key[key] = asset
            self._kind[key] = kind
        asset.locations.append(Location(file, line))
        return asset

    def _resolve(self, ref: str, base: Path) -> tuple[str, str, str]:
        """(kind, key, refusal): key is the absolute URL, or a refusal key for refused refs."""
        if not ref:
            return "none", "none:empty", "the image has no source (empty src)"
        low = ref.lower()
        if low.startswith("data:"):
            return "data", ref, ""
        if ref.startswith("//"):
            ref = "https:" + ref
            low = ref.lower()
        if ref.startswith("/") and not ref.startswith("//"):
            # Site-relative ('/img/x.jpg', as static-site generators write): look in the book's
            # static folder, else on the site, when the book says where those are.
            static_dir, site_url = self.settings.static_dir, self.settings.site_url
            if static_dir:
                found = self._resolve(ref.lstrip("/"), self.root / static_dir)
                if not site_url or (found[0] == "local" and Path(urllib.parse.unquote(
                        urllib.parse.urlsplit(found[1]).path)).exists()):
                    return found
            if site_url:
                return self._resolve(urllib.parse.urljoin(site_url.rstrip("/") + "/",
                                                          ref.lstrip("/")), base)
            return "none", "none:" + ref, ("absolute paths are not allowed; for a site-relative"
                                           " path set [assets] static-dir (a folder in the book)"
                                           " or site-url in book.toml")
        if _WINDOWS_ABS.match(ref) or ref.startswith("\\"):
            return "none", "none:" + ref, ("absolute paths are not allowed: put the file in the"
                                           " book folder and refer to it relative to the post")
        m = _SCHEME.match(ref)
        if m:
            scheme = m.group(1).lower()
            if scheme in ("http", "https"):
                try:
                    parts = urllib.parse.urlsplit(ref)
                    if not parts.hostname:
                        raise ValueError("no host")
                except ValueError as e:
                    return "none", "none:" + ref, f"invalid URL ({e})"
                # Fragments never reach a server; drop them so #a and #b are one download.
                return "remote", urllib.parse.urlunsplit(parts._replace(fragment="")), ""
            if scheme == "file":
                return "none", "none:" + ref, "file: URLs are not allowed (they can read any file)"
            return "none", "none:" + ref, f"unsupported URL scheme '{scheme}:'"
        # A relative path: percent-decoded, query and fragment dropped.
        raw = re.split(r"[?#]", ref, maxsplit=1)[0]
        candidates = [urllib.parse.unquote(raw)]
        if candidates[0] != raw:
            candidates.append(raw)  # a file whose name really contains '%'
        path = None
        for cand in candidates:
            try:
                p = (base / cand).resolve()
                exists = p.exists()
            except (OSError, ValueError) as e:  # NUL bytes, names too long, loops
                return "none", "none:" + ref, f"not a usable path ({e})"
            if not p.is_relative_to(self.root):
                return "none", "none:" + ref, "the path leads outside the book folder"
            if path is None or exists:
                path = p
            if exists:
                break
        return "local", path.as_uri(), ""

    def registered(self) -> list[Asset]:
        """Every asset registered so far (one per resolved reference), whatever its status."""
        return list({id(a): a for a in self._by_key.values()}.values())

    # ---- fetching ----------------------------------------------------------------------------

    def fetch_all(self) -> None:
        """Read or fetch every pending reference (concurrently for remote ones)."""
        pending = [(k, a) for k, a in self._by_key.items() if a.status == "pending"]
        if not pending:
            return
        remote = []
        for key, asset in pending:
            kind = self._kind[key]
            if kind == "local":
                self._load_local(asset)
            elif kind == "data":
                self._load_data(asset)
            else:
                remote.append(asset)
        if remote:
            self._fetch_remote(remote)
        for _, asset in pending:
            self._merge(asset)

    def _load_local(self, asset: Asset) -> None:
        path = Path(urllib.parse.unquote(urllib.parse.urlsplit(asset.url).path))
        rel = path.relative_to(self.root) if path.is_relative_to(self.root) else path
        if inside(self.root, path) is None:  # changed into a link since it was resolved
            self._fail(asset, "the path leads outside the book folder", refused=True)
            return
        if not path.is_file():
            self._fail(asset, f"file not found: {rel}")
            return
        size = path.stat().st_size
        if size > self.settings.max_bytes:
            self._fail(asset, f"too large ({size} bytes; [assets] max-bytes)")
            return
        try:
            data = read_regular_file(path)
        except (OSError, ValueError) as e:
            self._fail(asset, f"cannot read {rel}: {getattr(e, 'strerror', None) or e}")
            return
        self._accept(asset, data)

    def _load_data(self, asset: Asset) -> None:
        header, sep, payload = asset.url[5:].partition(",")
        if not sep:
            self._fail(asset, "malformed data: URI (no comma)")
            return
        try:
            if header.lower().endswith(";base64"):
                data = base64.b64decode(re.sub(r"\s+", "", urllib.parse.unquote(payload)),
                                        validate=True)
            else:
                data = urllib.parse.unquote_to_bytes(payload)
        except (binascii.Error, ValueError) as e:
            self._fail(asset, f"malformed data: URI ({e})")
            return
        if len(data) > self.settings.max_bytes:
            self._fail(asset, "data: URI too large ([assets] max-bytes)")
            return
        self._accept(asset, data)

    def _fetch_remote(self, assets: list[Asset]) -> None:
        from . import fetch as fetch_mod
        records = {a.url: self._read_record(a.url) for a in assets}
        if not self.offline and not self.revalidate:
            cached = [a for a in assets
                      if records[a.url] and self._object_path(records[a.url]["sha256"]).is_file()]
            for a in cached:
                self._accept(a, self._object_path(records[a.url]["sha256"]).read_bytes(),
                             records[a.url])
            assets = [a for a in assets if a not in cached]
        if self.offline:
            for a in assets:
                rec = records[a.url]
                data = self._read_object(rec["sha256"], a) if rec else None
                if data is not None:
                    self._accept(a, data, rec)
                elif rec and self._object_path(rec["sha256"]) in self._damaged:
                    self._fail(a, "the cached copy was damaged (removed), and --offline forbids"
                               " fetching it again")
                else:
                    self._fail(a, "not in the cache, and --offline forbids fetching it")
            return
        requests = []
        for a in assets:
            rec = records[a.url]
            # Validators only for a copy that is still intact: a damaged one is fetched afresh.
            usable = rec and self._object_ok(rec["sha256"], a)
            hdrs = rec.get("headers", {}) if usable else {}
            requests.append(fetch_mod.FetchRequest(a.url, etag=hdrs.get("etag", ""),
                                                   last_modified=hdrs.get("last-modified", "")))
        self.requests_made += len(requests)
        fs = self.fetch_settings()
        by_url = {a.url: a for a in assets}
        with self._progress_bar("fetch images", len(requests)) as advance:
            def done(res: fetch_mod.FetchResult) -> None:
                # Checked and written to the cache as each arrives; the bytes are then dropped.
                self._fetched(by_url[res.url], records[res.url], res)
                res.data = b""
                advance()

            fetch_mod.fetch_many(requests, fs, on_done=done)

    def fetch_settings(self, max_bytes: int | None = None) -> fetch_mod.FetchSettings:
        """The fetcher's settings from [assets] (every network request of a build uses them)."""
        from . import fetch as fetch_mod
        s = self.settings
        return fetch_mod.FetchSettings(
            connect_timeout=s.connect_timeout, read_timeout=s.read_timeout,
            total_timeout=s.total_timeout, max_bytes=min(s.max_bytes, max_bytes or s.max_bytes),
            max_redirects=s.max_redirects, retries=s.retries, concurrency=s.concurrency,
            allow_private_hosts=s.allow_private_hosts, budget=s.fetch_budget)

    def _fetched(self, a: Asset, rec: dict | None, res: fetch_mod.FetchResult) -> None:
        url = a.url
        cached = (self._read_object(rec["sha256"], a) if rec and (res.not_modified or not res.ok)
                  else None)
        if res.not_modified and cached is not None:
            rec["fetched_at"] = _now()
            self._write_json(self._record_path(url), rec)
            self._accept(a, cached, rec)
        elif res.ok:
            self._accept(a, res.data, None, res)
        elif cached is not None:
            # The cache exists so that a vanished image doesn't vanish from the book.
            self._accept(a, cached, rec)
            self.diagnostics.info("asset-stale", f"image {url}: {res.reason}; using the"
                                  f" copy cached on {rec.get('fetched_at', '?')}",
                                  *self._where(a))
        else:
            self._fail(a, res.reason)

    def _accept(self, asset: Asset, data: bytes, record: dict | None = None,
                res: fetch_mod.FetchResult | None = None) -> None:
        """Check bytes and, if they are an acceptable image, store them and mark the asset ok."""
        from . import images, svg
        media = images.sniff(data)
        if not media:
            what = images.describe(data)
            if res and res.headers.get("content-type"):
                what += f" (served as {res.headers['content-type']})"
            self._fail(asset, what)
            return
        try:
            if media == images.SVG:
                clean = svg.sanitize(data, self.settings.max_bytes)
                w, h = clean.width, clean.height
            else:
                w, h = images.probe(data)
        except (images.ImageRefused, svg.SvgRefused) as e:
            self._fail(asset, str(e), refused="refused" in str(e))
            return
        sha = hashlib.sha256(data).hexdigest()
        obj = self._object_path(sha)
        if not self._object_ok(sha, asset):
            self._write_atomic(obj, data)
        if media == images.SVG and clean.removed:
            self._svg_removed[sha] = clean.removed
        if res is not None:  # a fresh download: record where it came from
            self._write_json(self._record_path(asset.url), {
                "url": asset.url, "final_url": res.final_url or asset.url,
                "status": res.status_code, "headers": res.headers, "fetched_at": _now(),
                "sha256": sha, "media_type": media, "size": len(data)})
            asset.final_url = res.final_url or asset.url
        elif record is not None:
            asset.final_url = record.get("final_url", asset.url)
        else:
            asset.final_url = asset.url
        asset.sha256, asset.media_type, asset.source_path = sha, media, obj
        asset.width, asset.height = w, h
        asset.status, asset.reason = "ok", ""
        asset.id = "img-" + sha[:16]

    def _fail(self, asset: Asset, reason: str, refused: bool = False) -> None:
        asset.status = "refused" if refused else "failed"
        asset.reason = reason

    def _merge(self, asset: Asset) -> None:
        if not asset.ok:
            return
        first = self._by_hash.setdefault(asset.sha256, asset)
        if first is not asset:
            for loc in asset.locations:
                if loc not in first.locations:
                    first.locations.append(loc)

    def canonical(self, asset: Asset) -> Asset:
        """The one Asset that stands for these bytes (itself, unless identical bytes came first)."""
        if asset.ok:
            return self._by_hash.get(asset.sha256, asset)
        return asset

    def add_bytes(self, data: bytes, media_type: str = "", name: str = "") -> Asset:
        """An Asset for bytes made by pubpipe itself (a cover, a drawn card); ok or failed."""
        key = "generated:" + hashlib.sha256(data).hexdigest()
        asset = self._by_key.get(key)
        if asset is None:
            asset = Asset(id="gen-" + key[-12:], ref=name or "generated image", url=key)
            self._by_key[key] = asset
            self._kind[key] = "generated"
            self._accept(asset, data)
            self._merge(asset)
        return self.canonical(asset)

    # ---- processing --------------------------------------------------------------------------

    def process(self, asset: Asset, profile: str) -> Variant | None:
        """The variant of an ok asset for one profile (cached); None and status "failed" if the
        image turns out to be damaged."""
        from . import images
        if profile not in PROFILES:
            raise ValueError(f"unknown profile {profile!r}")
        asset = self.canonical(asset)
        if not asset.ok:
            return None
        if profile in asset.variants:
            return asset.variants[profile]
        key = self._variant_key(asset, profile)
        meta_path = self.cache_dir / "variants" / f"{key}.json"
        variant = self._cached_variant(meta_path, asset)
        if variant is None:
            try:
                out = self._make_variant(asset, profile)
            except images.ImageRefused as e:
                with self._lock:
                    self._fail(asset, str(e), refused="refused" in str(e))
                return None
            ext = Variant(Path(), out.media_type).extension
            path = self.cache_dir / "variants" / f"{key}.{ext}"
            self._write_atomic(path, out.data)
            variant = Variant(path, out.media_type, out.width, out.height,
                              hashlib.sha256(out.data).hexdigest())
            self._write_json(meta_path, {"file": path.name, "media_type": out.media_type,
                                         "width": out.width, "height": out.height,
                                         "sha256": variant.sha256, "source": asset.sha256,
                                         "profile": profile})
            with self._lock:
                self.images_processed += 1
        with self._lock:
            asset.variants[profile] = variant
        return variant

    def process_all(self, assets: list[Asset], profiles: tuple[str, ...]) -> None:
        """Process many assets for many profiles in a small thread pool (Pillow releases the
        GIL while decoding and resampling)."""
        jobs = []
        seen = set()
        for a in assets:
            a = self.canonical(a)
            if a.ok and a.sha256 not in seen:
                seen.add(a.sha256)
                jobs.extend((a, p) for p in profiles)
        if not jobs:
            return
        workers = max(1, min(4, os.cpu_count() or 1))
        with self._progress_bar("process images", len(jobs)) as advance:
            with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
                for _ in pool.map(lambda job: (self.process(*job), advance()), jobs):
                    pass

    def _box(self, profile: str) -> images.Box:
        from . import images
        s = self.settings
        if profile == "epub":
            return images.Box(longest=s.epub_max_size)
        width = s.print_width if s.print_width > 0 else self.print_width
        return images.Box(width=round(s.print_dpi * width),
                          height=round(s.print_dpi * s.print_height))

    def _slack(self, profile: str) -> float:
        # print: 300-375 ppi is as good as 300 (sharper, a little bigger), and spares a resize
        return PRINT_SLACK if profile == "print" else 1.0

    def _quality(self, profile: str) -> int:
        return self.settings.jpeg_quality if profile == "epub" else self.settings.print_jpeg_quality

    def _variant_key(self, asset: Asset, profile: str) -> str:
        box = self._box(profile)
        spec = json.dumps([PROCESS_VERSION, asset.sha256, profile, box.longest, box.width,
                           box.height, self._quality(profile), self._slack(profile)])
        return hashlib.sha256(spec.encode()).hexdigest()[:32]

    def _cached_variant(self, meta_path: Path, asset: Asset) -> Variant | None:
        """The variant recorded at meta_path if its file is intact; a bad one is removed."""
        raw = self._read_cache_file(meta_path)
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
            self._drop(meta_path, asset, "unreadable record")
            return None
        data = self._read_cache_file(variant.path, asset)
        if data is None:
            return None
        if hashlib.sha256(data).hexdigest() != variant.sha256:
            self._drop(variant.path, asset, "its bytes do not match their recorded hash")
            self._drop(meta_path, asset, None)
            return None
        return variant

    def _make_variant(self, asset: Asset, profile: str) -> images.Output:
        from . import images, svg
        data = self._read_object(asset.sha256, asset)
        if data is None:
            raise images.ImageRefused("its cached original was damaged; build again to fetch it"
                                      " anew")
        if asset.media_type == images.SVG:
            try:
                clean = svg.sanitize(data, self.settings.max_bytes)
            except svg.SvgRefused as e:
                raise images.ImageRefused(str(e)) from None
            return images.Output(clean.data, images.SVG, clean.width, clean.height)
        return images.process(data, self._box(profile), self._quality(profile),
                              self._slack(profile))

    def svg_removed(self, asset: Asset) -> list[str]:
        """What sanitizing took out of an SVG asset (empty if it was clean)."""
        return self._svg_removed.get(asset.sha256, [])

    # ---- cache files -------------------------------------------------------------------------

    def _object_path(self, sha: str) -> Path:
        return self.cache_dir / "objects" / sha[:2] / sha

    def _record_path(self, url: str) -> Path:
        return self.cache_dir / "urls" / (hashlib.sha256(url.encode()).hexdigest() + ".json")

    def _read_record(self, url: str) -> dict | None:
        raw = self._read_cache_file(self._record_path(url))
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
        data = self._read_cache_file(path)
        if data is not None and sha256 and hashlib.sha256(data).hexdigest() != sha256:
            self._drop(path, None, "its bytes do not match their recorded hash")
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
            self._drop(self.cache_dir / relative, None, "its bytes do not match their recorded hash")
            return None
        return data

    def write_sealed_cache_file(self, relative: str, data: bytes) -> None:
        """Write an entry that carries its own hash (for entries no record points to)."""
        self.write_cache_file(relative, _seal(relative, data).encode() + b"\n" + data)

    def original_bytes(self, asset: Asset) -> bytes | None:
        """The original bytes of an ok asset, checked against its hash (None if damaged)."""
        asset = self.canonical(asset)
        return self._read_object(asset.sha256, asset) if asset.ok else None

    def write_cache_file(self, relative: str, data: bytes) -> None:
        """Write cache_dir/relative atomically (a cache that cannot be written is no error)."""
        if Path(relative).is_absolute() or ".." in Path(relative).parts:
            raise ValueError(f"not a cache file name: {relative}")
        try:
            self._write_atomic(self.cache_dir / relative, data)
        except OSError:
            pass

    def _read_cache_file(self, path: Path, asset: Asset | None = None) -> bytes | None:
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
            self._drop(path, asset, "a link, not a file of the cache")
            return None
        try:
            data = read_regular_file(path)
        except ValueError as e:  # not a regular file
            self._drop(path, asset, str(e))
            return None
        except OSError:
            return None
        mark_used(path)  # its last use, for pruning (assets/cache.py)
        if noted:
            self.network_reads[rel.as_posix()] = hashlib.sha256(data).hexdigest()
        return data

    def _read_object(self, sha: str, asset: Asset | None = None) -> bytes | None:
        path = self._object_path(sha)
        data = self._read_cache_file(path, asset)
        if data is not None and hashlib.sha256(data).hexdigest() != sha:
            self._drop(path, asset, "its bytes do not match their hash")
            return None
        return data

    def _object_ok(self, sha: str, asset: Asset | None = None) -> bool:
        return self._read_object(sha, asset) is not None

    def _drop(self, path: Path, asset: Asset | None, why: str | None) -> None:
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
        file, line = self._where(asset) if asset is not None else (None, None)
        what = f" (image {asset.ref})" if asset is not None and asset.ref else ""
        self.diagnostics.warn("cache-damaged", f"cache entry {path} was bad: {why}{what};"
                              " removed and made again", file, line)

    def _write_json(self, path: Path, data: dict) -> None:
        self._write_atomic(path, json.dumps(data, indent=1, sort_keys=True).encode())

    def _write_atomic(self, path: Path, data: bytes) -> None:
        atomic_write(path, data)

    def _where(self, asset: Asset) -> tuple[Path | None, int | None]:
        loc = asset.locations[0] if asset.locations else Location(None)
        return loc.file, loc.line

    def _progress_bar(self, label: str, total: int):
        if not self.progress or total == 0:
            return nullcontext(lambda: None)
        return self.progress.stage(label, total, "images")


def _now() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


def _seal(relative: str, data: bytes) -> str:
    return hashlib.sha256(relative.encode() + b"\0" + data).hexdigest()
