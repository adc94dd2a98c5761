"""One build as the commands run it: load the book, build, print diagnostics, write the report."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .. import config
from ..errors import PubpipeError
from .ui import UI

if TYPE_CHECKING:  # lxml and the document model: not for `pubpipe --help`
    from ..assets.cache import Pruned
    from ..document import Asset, Book, Diagnostic

STATE = ".pubpipe-build.json"  # next to the outputs: what the last build found (its report)

# Notes worth a line on the terminal: the PDF preflight summary (pages, fonts, colour, spine).
SHOWN_NOTES = ("pdf-pages", "pdf-spine", "pdf-fonts", "pdf-color", "pdf-tags", "posts-selected")


@dataclass
class Run:
    """What one build gave: its exit code, outputs, diagnostics, the book and timings."""

    code: int = 0
    outputs: dict[str, Path] = field(default_factory=dict)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    book: Book | None = None
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)
    requests: int = 0
    message: str = ""
    assets: list[Asset] = field(default_factory=list)  # every image the build asked for
    cache: Pruned | None = None  # what pruning the cache did


def build_once(ui: UI, cfg: config.Config, formats: tuple[str, ...], *, out_dir: Path | None = None,
               output: Path | None = None, cache_dir: Path | None = None, offline: bool = False,
               strict: bool = False, report: Path | None = None, quiet_outputs: bool = False,
               notes: bool = True, show: bool = True, time_limit: float = 600.0) -> Run:
    """Build cfg's book; print its diagnostics and what was written. Raises ConfigError only."""
    from ..pipeline import BuildOptions, build

    run = Run()
    opts = BuildOptions(formats=formats, out_dir=out_dir, output=output, cache_dir=cache_dir,
                        offline=offline, strict=strict, report=report,
                        # bars on a terminal; a line per stage otherwise (not under --quiet)
                        progress=True if ui.progress else ("off" if ui.quiet else "lines"),
                        time_limit=time_limit, reuse_outputs=True)
    start, started = time.perf_counter(), time.time()
    try:
        result = build(cfg, opts)
    except config.ConfigError:
        raise
    except PubpipeError as e:
        run.code = e.exit_code
        run.diagnostics = list(e.diagnostics)
        run.message = str(e)
    else:
        run.outputs, run.diagnostics, run.book = result.outputs, list(result.diagnostics), result.book
        run.timings = dict(result.timings)
        run.requests, run.assets = result.requests, result.assets
        if result.cache_dir is not None:
            run.cache = _prune(result.cache_dir, started, cfg.assets, run.timings)
    run.seconds = time.perf_counter() - start
    run.timings.setdefault("total", run.seconds)
    if show or run.code:
        print_diagnostics(ui, run.diagnostics, notes)
    if run.code:
        ui.error(f"build failed: {run.message}")
    elif not quiet_outputs:
        for path in run.outputs.values():
            ui.say(f"wrote {path}")
        ui.detail(f"built in {run.seconds:.1f} s")
    if report:
        write_report(ui, report, run)
    if not run.code and output is None:  # what check reads when the books are up to date
        from .. import __version__
        state_dir = Path(out_dir) if out_dir else cfg.book_dir / "build"
        write_report(ui, state_dir / STATE, run, {"version": __version__})
    return run


def _prune(cache: Path, started: float, settings: config.AssetsSection,
           timings: dict[str, float]) -> Pruned | None:
    """After a successful build: the cache loses what recent builds did not use."""
    from ..assets.cache import Policy, prune

    t = time.perf_counter()
    try:
        done = prune(cache, started, Policy.of(settings))
    except OSError:  # a cache that cannot be tidied costs space, not the build
        return None
    timings["prune cache"] = time.perf_counter() - t
    return done


def print_diagnostics(ui: UI, diags, notes: bool = True) -> None:
    """Warnings, errors and the preflight summary; other notes only with --verbose (and in the
    report)."""
    from ..document import Severity

    for d in diags or []:
        if d.severity >= Severity.WARNING or (notes and (d.code in SHOWN_NOTES or ui.verbose)):
            if d.severity < Severity.WARNING and ui.quiet:
                continue
            ui.diagnostic(d)


def _asset_entry(a) -> dict:
    return {
        "ref": a.ref, "url": a.url, "status": a.status, "reason": a.reason or None,
        "media_type": a.media_type or None, "width": a.width or None, "height": a.height or None,
        "used_at": [f"{loc.file}:{loc.line}" if loc.line else str(loc.file)
                    for loc in a.locations if loc.file],
    }


def write_report(ui: UI, path: Path, run: Run, extra: dict | None = None) -> None:
    from ..document import Severity

    diags = run.diagnostics or []
    entries = [_asset_entry(a) for a in run.assets]
    report = {
        "exit_code": run.code,
        "outputs": {k: str(v) for k, v in run.outputs.items()},
        "warnings": sum(1 for d in diags if d.severity == Severity.WARNING),
        "errors": sum(1 for d in diags if d.severity >= Severity.ERROR),
        "diagnostics": [
            {"severity": d.severity.name.lower(), "code": d.code, "message": d.message,
             "file": str(d.file) if d.file else None, "line": d.line} for d in diags
        ],
        "assets": entries,
        "timings": {k: round(v, 3) for k, v in run.timings.items()},
        "requests": run.requests,
        "cache": run.cache.as_dict() if run.cache else None,  # what pruning removed and kept
        "error": run.message or None,  # why a failed build failed, as printed
        **(extra or {}),
    }
    try:
        from ..write.output import write_atomic
        write_atomic(path, json.dumps(report, indent=2, ensure_ascii=False).encode())
    except (OSError, PubpipeError) as e:
        ui.error(f"cannot write report {path}: {e}")


def input_files(cfg: config.Config, out_dir: Path) -> list[Path]:
    """Every file a build of cfg may read: in the book folder, outside build/, the cache and
    hidden folders."""
    from ..context import cache_dir_for
    from ..pipeline import BuildOptions

    skip = [out_dir.resolve(), cache_dir_for(cfg, BuildOptions()).resolve()]
    files = {}
    for top in dict.fromkeys([cfg.root, cfg.book_dir]):
        for p in top.rglob("*"):
            rel = p.relative_to(top).parts
            if any(part.startswith(".") for part in rel[:-1]) or not p.is_file():
                continue
            if not any(p.resolve().is_relative_to(s) for s in skip):
                files[p] = None
    return list(files)


def fresh_state(cfg: config.Config, out_dir: Path, formats: tuple[str, ...]) -> dict | None:
    """The last build's report when it made every one of formats and they are newer than every
    input (so nothing needs building); else None."""
    from .. import __version__

    path = out_dir / STATE
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    outs = [Path(state.get("outputs", {}).get(f, "")) for f in formats]
    if state.get("version") != __version__ or not all(o.name and o.is_file() for o in outs):
        return None
    built = min([path.stat().st_mtime] + [o.stat().st_mtime for o in outs])
    newest = max((p.stat().st_mtime for p in input_files(cfg, out_dir)), default=0)
    return state if newest < built else None
