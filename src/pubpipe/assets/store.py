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
  profile, the settings that shape the output), so a rebuild does no image work (``variants.py``).
  ``prefetch(refs, profiles)`` starts on local images before they are registered (while the other
  chapters are read), in threads or in the runner given to ``prefetch_in`` (worker processes);
  ``process_all`` waits for it and takes what it made.
* ``offline=True``: no network request at all; remote images come from the cache or fail.

The store is the cache folder's front door (``cachefiles.py``: its layout, checked reads, atomic
writes, damaged entries): a bad entry is deleted, reported once (``cache-damaged`` warning), and
made again: a local image is re-read, a remote one fetched again (offline: a placeholder), a
variant re-processed.
"""

from __future__ import annotations

import base64
import binascii
import concurrent.futures
import hashlib
import os
import re
import urllib.parse
from contextlib import nullcontext
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from ..config import AssetsSection
from ..document import Asset, Diagnostics, Location, Variant, read_regular_file
from ..progress import Progress
from ..util import inside
from .cachefiles import NETWORK_ENTRIES, CacheFiles, where
from .variants import PRINT_SLACK, PROCESS_VERSION, PROFILES, Runner, Variants

if TYPE_CHECKING:
    from . import fetch as fetch_mod

# fetch (httpx), images (Pillow) and svg are imported by the methods that use them: a build whose
# outputs come from the cache reads cache files through the store and needs none of them.

__all__ = ["NETWORK_ENTRIES", "PRINT_SLACK", "PROCESS_VERSION", "PROFILES", "AssetStore"]
_WINDOWS_ABS = re.compile(r"^[A-Za-z]:[\\/]")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*):")


class AssetStore(CacheFiles):
    def __init__(self, root: Path, cache_dir: Path, settings: AssetsSection,
                 offline: bool = False, diagnostics: Diagnostics | None = None,
                 progress: Progress | None = None, print_width: float = 4.5,
                 revalidate: bool = True):
        super().__init__(cache_dir, diagnostics)
        self.root = Path(root).resolve()
        self.settings = settings
        self.offline = offline
        self.progress = progress
        # Widest an image prints, in inches, when [assets] print-width is 0 (auto): the text
        # block of the print settings (the build context passes it). 4.5 in: a 6x9 in book.
        self.print_width = print_width
        self.variants = Variants(self, settings, print_width)
        # Online: ask servers again about cached images (conditional requests). False: take what
        # the cache holds and fetch only what it lacks (`pubpipe fetch` without --refresh).
        self.revalidate = revalidate
        self.requests_made = 0  # network requests started by this store (tests, report)
        self.images_processed = 0  # variants actually computed (not taken from the cache)
        self._by_key: dict[str, Asset] = {}  # resolved reference -> Asset
        self._by_hash: dict[str, Asset] = {}  # sha256 -> canonical Asset
        self._kind: dict[str, str] = {}  # resolved reference -> remote | local | data | none
        self._svg_removed: dict[str, list[str]] = {}  # sha256 -> what sanitizing removed

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
        records = {a.url: self.read_record(a.url) for a in assets}
        if not self.offline and not self.revalidate:
            cached = [a for a in assets
                      if records[a.url] and self.object_path(records[a.url]["sha256"]).is_file()]
            for a in cached:
                self._accept(a, self.object_path(records[a.url]["sha256"]).read_bytes(),
                             records[a.url])
            assets = [a for a in assets if a not in cached]
        if self.offline:
            for a in assets:
                rec = records[a.url]
                data = self.read_object(rec["sha256"], a) if rec else None
                if data is not None:
                    self._accept(a, data, rec)
                elif rec and self.object_path(rec["sha256"]) in self._damaged:
                    self._fail(a, "the cached copy was damaged (removed), and --offline forbids"
                               " fetching it again")
                else:
                    self._fail(a, "not in the cache, and --offline forbids fetching it")
            return
        requests = []
        for a in assets:
            rec = records[a.url]
            # Validators only for a copy that is still intact: a damaged one is fetched afresh.
            usable = rec and self.object_ok(rec["sha256"], a)
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
        cached = (self.read_object(rec["sha256"], a) if rec and (res.not_modified or not res.ok)
                  else None)
        if res.not_modified and cached is not None:
            rec["fetched_at"] = _now()
            self.write_json(self.record_path(url), rec)
            self._accept(a, cached, rec)
        elif res.ok:
            self._accept(a, res.data, None, res)
        elif cached is not None:
            # The cache exists so that a vanished image doesn't vanish from the book.
            self._accept(a, cached, rec)
            self.diagnostics.info("asset-stale", f"image {url}: {res.reason}; using the"
                                  f" copy cached on {rec.get('fetched_at', '?')}",
                                  *where(a))
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
        obj = self.object_path(sha)
        if not self.object_ok(sha, asset):
            self.write_object(sha, data)
        if media == images.SVG and clean.removed:
            self._svg_removed[sha] = clean.removed
        if res is not None:  # a fresh download: record where it came from
            self.write_json(self.record_path(asset.url), {
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

    # ---- processing (variants.py) -------------------------------------------------------------

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
        try:
            variant, made = self.variants.make(asset, profile)
        except images.ImageRefused as e:
            with self._lock:
                self._fail(asset, str(e), refused="refused" in str(e))
            return None
        with self._lock:
            if made:
                self.images_processed += 1
            asset.variants[profile] = variant
        return variant

    def process_all(self, assets: list[Asset], profiles: tuple[str, ...]) -> None:
        """Process many assets for many profiles in a small thread pool (Pillow releases the
        GIL while decoding and resampling); what was prefetched is taken, the rest made here."""
        self.variants.settle()
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
        self.variants.forget()

    def prefetch(self, refs: list[tuple[str, Path]], profiles: tuple[str, ...]) -> None:
        """Start processing, in the background, the local images among refs ((reference, folder
        it is relative to) pairs) for profiles, ahead of register/fetch_all/process_all, which
        take the results (variants.py). Remote, data: and refused references are left alone."""
        paths = []
        for ref, base in refs:
            kind, key, refusal = self._resolve((ref or "").strip(), Path(base))
            if kind == "local" and not refusal:
                paths.append(Path(urllib.parse.unquote(urllib.parse.urlsplit(key).path)))
        self.variants.prefetch(self.root, paths, tuple(p for p in profiles if p in PROFILES))

    def prefetch_in(self, runner: Runner) -> None:
        """Prefetch with this runner (worker processes, say) instead of threads of this
        process; call it before the first ``prefetch``."""
        self.variants.runner = runner

    def stop_prefetching(self) -> None:
        """Drop background work not yet taken (a build that fails before its images stage)."""
        self.variants.forget()

    def svg_removed(self, asset: Asset) -> list[str]:
        """What sanitizing took out of an SVG asset (empty if it was clean)."""
        return self._svg_removed.get(asset.sha256, [])

    def original_bytes(self, asset: Asset) -> bytes | None:
        """The original bytes of an ok asset, checked against its hash (None if damaged)."""
        asset = self.canonical(asset)
        return self.read_object(asset.sha256, asset) if asset.ok else None


    def _progress_bar(self, label: str, total: int):
        if not self.progress or total == 0:
            return nullcontext(lambda: None)
        return self.progress.stage(label, total, "images")


def _now() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()
