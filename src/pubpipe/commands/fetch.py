"""``pubpipe fetch``: every remote image, poster and embed description into the cache.

Afterwards ``pubpipe build --offline`` finds everything it needs and makes no request. Without
``--refresh`` what the cache already holds is taken as it is; with it, servers are asked again
(conditional requests: unchanged images are not downloaded twice).
"""

from __future__ import annotations

import time

from .. import config
from .ui import UI


def run(args, ui: UI) -> int:
    from ..pipeline import BuildOptions, cache_dir_for, prepare

    cfg = config.load(config.find_book(args.source))
    cfg.assets.allow_private_hosts |= args.allow_private_hosts
    opts = BuildOptions(formats=("epub", "pdf"), cache_dir=args.cache_dir, offline=False,
                        progress=ui.progress, revalidate=bool(args.refresh))
    cache = cache_dir_for(cfg, opts)
    ui.say(f"fetching what {cfg.book_dir.name} needs from the network into {cache}…")
    start = time.perf_counter()
    from ..errors import BuildError

    try:
        book, ctx = prepare(cfg, opts)
    except BuildError as e:
        from .buildrun import print_diagnostics
        print_diagnostics(ui, e.diagnostics)
        raise
    store = ctx.store
    cover = _fetch_cover(cfg, store)
    seconds = time.perf_counter() - start

    optional_refs = {d.message for d in book.diagnostics if d.code == "asset-optional"}
    remote = [a for a in {id(a): a for a in [*store.registered(), *([cover] if cover else [])]
                          }.values() if a.url.startswith(("http:", "https:"))]

    def is_optional(a) -> bool:  # a video poster: its card is complete without it
        return any(a.ref in m for m in optional_refs)

    failed = [a for a in remote if a.status != "ok" and not is_optional(a)]
    optional = [a for a in remote if a.status != "ok" and is_optional(a)]
    embeds = [d for d in book.diagnostics if d.code == "embed-enrich"]
    ok = sum(1 for a in remote if a.status == "ok")
    ui.say(f"{ok} of {len(remote)} remote image(s) in the cache;"
           f" {len(book.embeds) - len(embeds)} of {len(book.embeds)} embed(s) described;"
           f" {store.requests_made} request(s) in {seconds:.1f} s")
    if failed or optional or embeds:
        ui.say(ui.paint("could not fetch:", "red" if failed else "yellow"))
        for a in failed + optional:
            where = ", ".join(f"{loc.file.name}:{loc.line}" for loc in a.locations[:3]
                              if loc.file and loc.line)
            note = " (a video poster: the card is complete without it)" if a in optional else ""
            ui.say(f"  {a.url}" + (f" ({where})" if where else "") + f": {a.reason}{note}")
        for d in embeds:
            ui.say(f"  {d.location()}{': ' if d.location() else ''}{d.message}")
        ui.say("the book still builds: a missing image gets a named placeholder, an embed the"
               " card its post holds. Run 'pubpipe fetch' again later to retry.")
    else:
        ui.say(ui.paint("everything is cached: 'pubpipe build --offline' needs no network",
                        "green"))
    return 1 if failed else 0


def _fetch_cover(cfg: config.Config, store):
    """A [book] cover given as an address is read by the writers through the store: fetch it now
    so that an offline build has it too."""
    cover = cfg.book.cover
    if not cover.startswith(("http://", "https://")):
        return None
    asset = store.register(cover, base=cfg.root, file=cfg.config_file,
                           line=cfg.lines.get(("book", "cover")))
    store.fetch_all()
    return asset
