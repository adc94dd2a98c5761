"""``pubpipe watch``: build, then rebuild on every save (watchfiles).

Each rebuild prints what changed, the warnings that are new (and how many went away) and how long
it took. A broken save (bad book.toml, unreadable chapter, even a bug in pubpipe) is reported in
one line and watching goes on; the last good books stay in place, since a failed build writes
nothing.
"""

from __future__ import annotations

import time
from pathlib import Path

from .. import config
from ..errors import ConfigError
from .buildrun import build_once
from .ui import UI

_IGNORED_SUFFIXES = ("~", ".swp", ".swx", ".tmp", ".part", ".crdownload")


def run(args, ui: UI) -> int:
    import logging

    import watchfiles

    logging.getLogger("watchfiles").setLevel(logging.ERROR)  # its own "stopping" notice
    source = config.find_book(args.source)
    cfg = config.load(source)  # a broken book.toml at the start is a usage error (exit 2)
    cfg.assets.allow_private_hosts |= args.allow_private_hosts
    root = cfg.book_dir
    tops = list(dict.fromkeys([cfg.book_dir, cfg.root]))  # book.toml's folder, and the posts'
    out_dir = Path(args.out_dir).resolve() if args.out_dir else root / "build"
    formats = args.format or ("epub", "pdf")
    from ..context import cache_dir_for
    from ..pipeline import BuildOptions

    skip = [out_dir, cache_dir_for(cfg, BuildOptions(cache_dir=args.cache_dir)).resolve()]

    def wanted(change, path: str) -> bool:
        p = Path(path)
        if p.name.startswith((".#", "#")) or p.name.endswith(_IGNORED_SUFFIXES):
            return False
        if any(p.is_relative_to(s) for s in skip):
            return False
        top = next((t for t in tops if p.is_relative_to(t)), None)
        rel = p.relative_to(top).parts if top else ()
        return not any(part.startswith(".") for part in rel)

    ui.say(f"watching {' and '.join(map(str, tops))} (Ctrl+C to stop)")
    before = _snapshot(tops, wanted)  # saves made while the first build runs are not lost
    known = _rebuild(ui, source, args, formats, out_dir, set(), first=True)
    try:
        for changes in watchfiles.watch(*tops, watch_filter=wanted, debounce=300, step=50,
                                        raise_interrupt=False, yield_on_timeout=True,
                                        rust_timeout=1000):
            if not changes:  # a quiet second; the first one: did anything change meanwhile?
                if before is None:
                    continue
                now = _snapshot(tops, wanted)
                names = sorted(_name(root, p) for p in set(now) ^ set(before)
                               | {p for p in now if p in before and now[p] != before[p]})
                before = None
            else:  # the watcher runs; the rebuild reads every file anyway
                names, before = _changed(changes, root), None
            if not names:
                continue
            ui.say(ui.paint(f"[{time.strftime('%H:%M:%S')}] changed: {', '.join(names)}", "cyan"))
            known = _rebuild(ui, source, args, formats, out_dir, known)
    except KeyboardInterrupt:
        pass
    ui.say("stopped watching")
    return 0


def _snapshot(tops: list[Path], wanted) -> dict[str, int]:
    """path -> modification time of every file watched."""
    out = {}
    for p in (q for top in tops for q in top.rglob("*")):
        try:
            if p.is_file() and wanted(None, str(p)):
                out[str(p)] = p.stat().st_mtime_ns
        except OSError:
            continue
    return out


def _changed(changes, root: Path) -> list[str]:
    """Names of the files that changed; a temporary file made and removed in one go (editors,
    sed -i) is no change."""
    import watchfiles

    kinds: dict[str, set] = {}
    for change, path in changes:
        kinds.setdefault(_name(root, path), set()).add(change)
    return sorted(n for n, k in kinds.items()
                  if (root / n).exists() or watchfiles.Change.added not in k)


def _name(root: Path, path: str) -> str:
    p = Path(path)
    return p.relative_to(root).as_posix() if p.is_relative_to(root) else str(p)


def _key(d) -> tuple:
    return (d.code, d.message, str(d.file), d.line)


def _rebuild(ui: UI, source: Path, args, formats, out_dir: Path, known: set,
             first: bool = False) -> set:
    """One build; returns the warnings it gave (to tell new ones next time)."""
    from ..document import Severity

    start = time.perf_counter()
    try:
        cfg = config.load(source)
        cfg.assets.allow_private_hosts |= args.allow_private_hosts
        run = build_once(ui, cfg, formats, out_dir=out_dir, cache_dir=args.cache_dir,
                         offline=args.offline, quiet_outputs=True, show=False)
    except ConfigError as e:
        ui.error(f"{e}; fix it and save again (still watching)")
        return known
    except Exception as e:  # a bug must not end the session: say it and keep watching
        if ui.debug:
            raise
        ui.error(f"internal error: {type(e).__name__}: {e} (still watching; --debug for details)")
        return known
    seconds = time.perf_counter() - start  # loading the book included
    if run.code:
        ui.say(ui.paint(f"build failed after {seconds:.1f} s: the previous books stay in place;"
                        " still watching", "red"))
        return known
    warnings = [d for d in run.diagnostics if d.severity >= Severity.WARNING]
    current = {_key(d) for d in warnings}
    new = [d for d in warnings if _key(d) not in known]
    for d in new:
        ui.diagnostic(d)
    gone = len(known - current)
    outputs = ", ".join(Path(p).name for p in run.outputs.values())
    parts = [f"built {outputs} in {seconds:.1f} s"]
    if first:
        parts.append(f"{len(warnings)} warning(s)")
    else:
        parts.append(f"{len(new)} new warning(s)")
        if gone:
            parts.append(f"{gone} fixed")
    stages = ", ".join(f"{k} {v:.1f} s" for k, v in run.timings.items() if k != "total")
    if stages:
        parts.append(stages)
    ui.say(ui.paint("; ".join(parts), "green" if not new else "yellow"))
    return current
