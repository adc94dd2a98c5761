"""``pubpipe clean``: empty a book's cache (or, with ``--prune``, apply the pruning rules now).

The cache is the one a build of the book would use (``--cache-dir``, else ``[assets] cache-dir``,
else the user's cache folder). ``--cache-dir`` alone needs no book. Only pubpipe's own folders in
it are touched, never a file outside it (``assets/cache.py``).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from .. import config
from ..errors import ConfigError
from .ui import UI


def run(args, ui: UI) -> int:
    from ..assets.cache import Policy, claim, empty, prune

    cfg = None
    if args.source is not None or args.cache_dir is None:
        cfg = config.load(config.find_book(args.source))
    cache = Path(args.cache_dir).absolute() if args.cache_dir else config.cache_dir(cfg)
    cache = Path(os.path.normpath(cache))
    if not cache.exists():
        ui.say(f"{cache}: no cache yet, nothing to remove")
        return 0
    if not cache.is_dir():
        raise ConfigError(f"cache folder {cache} is not a folder (--cache-dir or"
                          " [assets] cache-dir)")
    if not claim(cache):
        raise ConfigError(f"{cache} is not pubpipe's cache (it has no CACHEDIR.TAG and holds"
                          " files of its own): nothing removed")
    if args.prune:
        done = prune(cache, time.time(),
                     Policy.of(cfg.assets if cfg is not None else config.AssetsSection()))
    else:
        done = empty(cache)
    ui.say(f"removed {done.removed_files} files ({_mb(done.removed_bytes)}) from {cache}"
           + (f"; kept {done.kept_files} files ({_mb(done.kept_bytes)})" if args.prune else ""))
    return 0


def _mb(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MiB"
