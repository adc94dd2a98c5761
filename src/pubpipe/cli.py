"""pubpipe: turn Markdown posts into an EPUB e-book and a print-ready PDF.

Exit codes: 0 done (warnings are printed), 1 the build or a check failed, 2 a usage or book.toml
error. Only argparse and the standard library are imported here; each command imports what it
needs when it runs, so ``pubpipe --help`` stays fast.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import __version__
from .config import FORMATS, SUFFIXES

_EPILOG = """\
Start a book:        pubpipe new mybook
Build it:            pubpipe build mybook          (EPUB, PDF and HTML in mybook/build/)
Check it for print:  pubpipe check mybook
Rebuild on save:     pubpipe watch mybook
Look at the pages:   pubpipe preview mybook
Empty its cache:     pubpipe clean mybook

SOURCE is a book folder (with book.toml), its book.toml, or a single .md file. Without SOURCE,
pubpipe uses the current folder when it has a book.toml. 'pubpipe COMMAND --help' says more."""

_SOURCE_HELP = ("the book: a folder with book.toml, the book.toml itself, or one .md file"
                " (default: this folder)")


def _formats(text: str) -> tuple[str, ...]:
    """'epub,pdf' -> ('epub', 'pdf'); 'all' -> every format."""
    wanted: list[str] = []
    for word in (w.strip().lower() for w in text.split(",")):
        if word == "all":
            wanted.extend(FORMATS)
        elif word in FORMATS:
            wanted.append(word)
        else:
            import difflib

            near = difflib.get_close_matches(word, [*FORMATS, "all"], n=1)
            hint = f" (did you mean '{near[0]}'?)" if near else ""
            raise argparse.ArgumentTypeError(
                f"unknown format '{word}'{hint}; choose from {', '.join(FORMATS)}, all,"
                " or several separated by commas")
    return tuple(dict.fromkeys(wanted))


def _common() -> argparse.ArgumentParser:
    """Options every command takes. SUPPRESS: a subcommand's default never hides the main one's."""
    p = argparse.ArgumentParser(add_help=False)
    g = p.add_argument_group("output")
    g.add_argument("-q", "--quiet", action="store_true", default=argparse.SUPPRESS,
                   help="print only warnings and errors")
    g.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS,
                   help="print more: every note, timings")
    g.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                   help="show the full Python traceback when something goes wrong")
    return p


def _book_options(p: argparse.ArgumentParser, out_dir: bool = True) -> None:
    p.add_argument("source", nargs="?", type=Path, metavar="SOURCE", help=_SOURCE_HELP)
    if out_dir:
        p.add_argument("--out-dir", type=Path, metavar="DIR",
                       help="where the books are written (default: SOURCE/build/)")
    p.add_argument("--allow-private-hosts", action="store_true",
                   help="let images be fetched from loopback and private network addresses")
    p.add_argument("--cache-dir", type=Path, metavar="DIR",
                   help="where downloaded images are kept (default: ~/.cache/pubpipe, or"
                   " $XDG_CACHE_HOME/pubpipe)")


def parser() -> argparse.ArgumentParser:
    common = _common()
    p = argparse.ArgumentParser(
        prog="pubpipe", description="Turn Markdown posts into an EPUB e-book and a print-ready PDF.",
        epilog=_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter, parents=[common])
    p.add_argument("--version", action="version", version=f"pubpipe {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    b = sub.add_parser(
        "build", parents=[common], help="make the EPUB, PDF and/or HTML of a book",
        description="Make the e-book (EPUB), the printed book (PDF) and/or a one-page HTML of a"
        " book. Remote images are downloaded once and kept in the cache. A build that fails"
        " writes nothing.")
    _book_options(b)
    b.add_argument("-f", "--format", type=_formats, metavar="FORMATS",
                   help="what to make: epub, pdf, html, cover (the full-wrap print cover), all,"
                   " or several with commas such as epub,pdf (default: all, which makes the cover"
                   " only with a print preset; or what -o's name says)")
    b.add_argument("-o", "--output", type=Path, metavar="FILE",
                   help="write exactly this file; its ending (.epub, .pdf, .html) must match"
                   " --format")
    b.add_argument("--offline", action="store_true",
                   help="don't use the network: take images from the cache (see 'pubpipe fetch')")
    b.add_argument("--strict", action="store_true",
                   help="fail on any warning (and write nothing)")
    b.add_argument("--report", type=Path, metavar="FILE",
                   help="also write a JSON report: outputs, warnings, images, timings")
    b.add_argument("--time-limit", type=float, default=600.0, metavar="SECONDS",
                   help="fail a build that takes longer (default: 600; 0: no limit)")

    n = sub.add_parser(
        "new", parents=[common], help="start a new book folder",
        description="Make a book folder that builds at once: book.toml with every setting"
        " explained, a first chapter showing what a chapter may contain, a picture, a styles/"
        " folder for your own CSS and a .gitignore. With --from, the book is made of the posts"
        " of a blog or site folder instead.")
    n.add_argument("folder", type=Path, metavar="DIR", help="the folder to create (must not exist"
                   " or be empty)")
    n.add_argument("--from", dest="site", type=Path, metavar="SITE",
                   help="make the book of a blog's posts: a Jekyll, Hugo or Zola site, or any"
                   " folder of Markdown posts; book.toml lists them, in order")
    n.add_argument("--title", help="the book's title (default: from the folder name)")
    n.add_argument("--author", help="your name as it should appear on the book")

    c = sub.add_parser(
        "check", parents=[common], help="check a book before you publish it",
        description="Build what is missing or out of date, then check everything and print one"
        " table: EPUBCheck (the validator e-book stores use; needs Java), the print checks,"
        " links that go nowhere, images that are missing, lack a description (alt text) or are"
        " too small for print, characters no font has, and template code left in the text."
        " Exit code 0 when nothing must be fixed, 1 otherwise.")
    _book_options(c)
    c.add_argument("--offline", action="store_true", help="don't use the network for the build")
    c.add_argument("--report", type=Path, metavar="FILE", help="write the findings as JSON")

    f = sub.add_parser(
        "fetch", parents=[common], help="download every image and embed so builds work offline",
        description="Download every remote image, video poster and embed description of the book"
        " into its cache, with a progress bar and a summary of what failed and why. Afterwards"
        " 'pubpipe build --offline' needs no network.")
    _book_options(f, out_dir=False)
    f.add_argument("--refresh", action="store_true",
                   help="also ask the servers again for images already in the cache")

    w = sub.add_parser(
        "watch", parents=[common], help="rebuild whenever you save a file",
        description="Build the book, then rebuild it every time a chapter, book.toml, an image or"
        " a stylesheet changes, printing what changed, new warnings and how long it took."
        " A broken save is reported and watching goes on. Stop with Ctrl+C.")
    _book_options(w)
    w.add_argument("-f", "--format", type=_formats, default=None, metavar="FORMATS",
                   help="what to rebuild (default: epub,pdf)")
    w.add_argument("--offline", action="store_true", help="don't use the network")

    v = sub.add_parser(
        "preview", parents=[common], help="save pictures of the PDF's pages",
        description="Save PNG pictures of the printed book's pages and one contact sheet with"
        " all of them, to look at without a PDF viewer. Builds the PDF first if it is missing"
        " or out of date.")
    _book_options(v)
    v.add_argument("--pages", metavar="RANGE",
                   help="which pages, such as 1-4 or 1,3,10-12 (default: all)")
    v.add_argument("--dpi", type=int, default=60, help="resolution of the pictures (default: 60)")
    v.add_argument("--offline", action="store_true", help="don't use the network for the build")

    k = sub.add_parser(
        "clean", parents=[common], help="empty the cache of downloaded images and laid-out pages",
        description="Remove everything pubpipe keeps in the book's cache: downloaded images,"
        " processed images, laid-out pages, finished PDFs. The next build makes them again (and"
        " downloads the images again). With --prune, remove only what the pruning rules of"
        " [assets] say (what recent builds did not use), as every build does after it succeeds."
        " Nothing outside the cache folder is touched.")
    k.add_argument("source", nargs="?", type=Path, metavar="SOURCE",
                   help=_SOURCE_HELP + "; not needed with --cache-dir")
    k.add_argument("--cache-dir", type=Path, metavar="DIR",
                   help="the cache folder to empty (default: the book's, as build uses it)")
    k.add_argument("--prune", action="store_true",
                   help="remove only what [assets] cache-keep-builds, cache-max-age and"
                   " cache-max-mb say")
    return p


class Terminated(KeyboardInterrupt):
    """SIGTERM, handled as an interrupt (see main)."""


def _terminated(signum, frame) -> None:
    raise Terminated()


def main(argv: list[str] | None = None) -> int:
    p = parser()
    args = p.parse_args(argv)
    if not args.command:
        p.print_help()
        return 2
    from .commands.ui import UI

    ui = UI(quiet=getattr(args, "quiet", False), verbose=getattr(args, "verbose", False),
            debug=getattr(args, "debug", False))
    if ui.quiet and ui.verbose:
        p.error("--quiet and --verbose cannot be used together")
    if ui.debug:  # the pipeline then lets a bug through with its traceback
        import os

        os.environ["PUBPIPE_DEBUG"] = "1"
    from .errors import ConfigError, PubpipeError

    import signal

    # SIGTERM (CI, a service manager, kill) ends the command like Ctrl+C: workers are stopped and
    # multiprocessing cleans up after itself (killed outright, its resource tracker complained
    # about leaked semaphores on stderr)
    signal.signal(signal.SIGTERM, _terminated)
    try:
        return _COMMANDS[args.command](args, ui, p)
    except ConfigError as e:
        if ui.debug:
            raise
        ui.error(str(e))
        return 2
    except PubpipeError as e:
        if ui.debug:
            raise
        ui.error(str(e))
        return e.exit_code
    except KeyboardInterrupt as e:
        print(f"pubpipe: {'terminated' if isinstance(e, Terminated) else 'interrupted'}",
              file=sys.stderr)
        return 143 if isinstance(e, Terminated) else 130
    except BrokenPipeError:  # `pubpipe check | head`: the reader left; say nothing more
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except Exception as e:  # a bug in pubpipe: one line unless asked for the traceback
        if ui.debug:
            raise
        ui.error(f"internal error: {type(e).__name__}: {e} (run again with --debug for details)")
        return 1


def _build(args, ui, p) -> int:
    from . import config
    from .errors import PubpipeError

    formats = args.format
    if args.output:
        suffix = args.output.suffix.lower().lstrip(".")
        if formats is None:
            if suffix not in FORMATS:
                p.error(f"-o {args.output}: cannot tell the format from the name; add --format")
            formats = (suffix,)
        elif len(formats) != 1:
            p.error("-o/--output writes one file: give a single --format")
        elif suffix != SUFFIXES.get(formats[0], formats[0]):
            p.error(f"-o {args.output} does not end in .{SUFFIXES.get(formats[0], formats[0])},"
                    f" but --format is {formats[0]}")
    formats = formats or FORMATS
    if args.report:  # a report that cannot be written is said before the build, not after
        from .write.output import check_writable
        try:
            check_writable(args.report)
        except PubpipeError as e:
            raise config.ConfigError(f"--report: {e}") from None
    try:
        cfg = config.load(config.find_book(args.source))
        cfg.assets.allow_private_hosts |= args.allow_private_hosts
    except config.ConfigError as e:
        if args.report:
            from .commands.buildrun import Run, write_report
            write_report(ui, args.report, Run(code=2, message=str(e)), {"error": str(e)})
        raise
    from .commands.buildrun import build_once

    run = build_once(ui, cfg, formats, out_dir=args.out_dir, output=args.output,
                     cache_dir=args.cache_dir, offline=args.offline, strict=args.strict,
                     report=args.report, time_limit=args.time_limit)
    return run.code


def _new(args, ui, p) -> int:
    from .commands.new import run
    return run(args, ui)


def _check(args, ui, p) -> int:
    from .commands.check import run
    return run(args, ui)


def _fetch(args, ui, p) -> int:
    from .commands.fetch import run
    return run(args, ui)


def _watch(args, ui, p) -> int:
    from .commands.watch import run
    return run(args, ui)


def _preview(args, ui, p) -> int:
    from .commands.preview import run
    return run(args, ui)


def _clean(args, ui, p) -> int:
    from .commands.clean import run
    return run(args, ui)


_COMMANDS = {"build": _build, "new": _new, "check": _check, "fetch": _fetch, "watch": _watch,
             "preview": _preview, "clean": _clean}
