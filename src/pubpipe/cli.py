"""The ``pubpipe`` command: parses arguments, calls the pipeline, prints diagnostics. No logic here.

Exit codes: 0 success (warnings printed), 1 build failed, 2 usage or configuration error.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from . import __version__, config
from .document import Diagnostics, Severity
from .errors import ConfigError, PubpipeError
from .pipeline import FORMATS, BuildOptions, build


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="pubpipe", description=__doc__.splitlines()[0])
    p.add_argument("--version", action="version", version=f"pubpipe {__version__}")
    sub = p.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="build the book as EPUB, PDF and/or HTML")
    b.add_argument("source", nargs="?", help="a book folder (book.toml) or one .md file;"
                   " default: this folder if it has book.toml, else content/")
    b.add_argument("--format", default="all", choices=[*FORMATS, "all"],
                   help="what to build (default: all)")
    b.add_argument("-o", "--output", type=Path, help="write exactly this file (one format only)")
    b.add_argument("--out-dir", type=Path, help="output folder (default: SOURCE's build/)")
    b.add_argument("--cache-dir", type=Path, help="asset cache folder")
    b.add_argument("--offline", action="store_true", help="use cached assets only; no network")
    b.add_argument("--strict", action="store_true", help="treat warnings as errors")
    b.add_argument("--report", type=Path, help="write a JSON build report to this file")
    return p


def _default_source() -> Path:
    return Path(".") if Path("book.toml").is_file() else Path("content")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    formats = FORMATS if args.format == "all" else (args.format,)
    if args.output and len(formats) != 1:
        print("pubpipe: error: -o/--output needs a single --format", file=sys.stderr)
        return 2
    source = Path(args.source) if args.source else _default_source()
    diags: Diagnostics = Diagnostics()
    outputs: dict[str, Path] = {}
    code = 0
    try:
        cfg = config.load(source)
        opts = BuildOptions(formats=formats, out_dir=args.out_dir, output=args.output,
                            cache_dir=args.cache_dir, offline=args.offline, strict=args.strict,
                            report=args.report, progress=sys.stderr.isatty())
        try:
            result = build(cfg, opts)
            diags, outputs = result.diagnostics, result.outputs
        except PubpipeError as e:
            diags = e.diagnostics or diags
            raise
    except ConfigError as e:
        print(f"pubpipe: error: {e}", file=sys.stderr)
        code = 2
    except PubpipeError as e:
        _print_diagnostics(e.diagnostics or diags)
        print(f"pubpipe: build failed: {e}", file=sys.stderr)
        code = e.exit_code
    except KeyboardInterrupt:
        print("pubpipe: interrupted; nothing written", file=sys.stderr)
        code = 130
    except Exception as e:  # a bug in pubpipe: one line unless asked for the traceback
        if os.environ.get("PUBPIPE_DEBUG"):
            raise
        print(f"pubpipe: internal error: {type(e).__name__}: {e} (set PUBPIPE_DEBUG=1 for details)",
              file=sys.stderr)
        code = 1
    else:
        _print_diagnostics(diags)
        for fmt, path in outputs.items():
            print(f"wrote {path}")
    if args.report:
        _write_report(args.report, code, diags, outputs)
    return code


# Notes worth a line on the terminal: the PDF preflight summary (pages, fonts, colour, spine).
_SHOWN_NOTES = ("pdf-pages", "pdf-spine", "pdf-fonts", "pdf-color", "pdf-tags")


def _print_diagnostics(diags) -> None:
    """Warnings, errors and the preflight summary; other notes go only to the --report file."""
    for d in diags or []:
        if d.severity >= Severity.WARNING or d.code in _SHOWN_NOTES:
            print(d.format(), file=sys.stderr)


def _write_report(path: Path, code: int, diags, outputs) -> None:
    report = {
        "exit_code": code,
        "outputs": {k: str(v) for k, v in outputs.items()},
        "diagnostics": [
            {"severity": d.severity.name.lower(), "code": d.code, "message": d.message,
             "file": str(d.file) if d.file else None, "line": d.line} for d in diags or []
        ],
    }
    try:
        from .write.output import write_atomic
        write_atomic(path, json.dumps(report, indent=2).encode())
    except OSError as e:
        print(f"pubpipe: cannot write report {path}: {e}", file=sys.stderr)
