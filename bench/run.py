"""`make bench`: the speed targets, measured side by side with pandoc in one run.

    python bench/run.py [--chapters 40] [--words 2500] [--keep] [--links]

Generates the synthetic book (bench/book.py: 40 chapters of 2,500 words, two 3000 x 2000 photos
each; kept in bench/.book between runs), then builds it with pubpipe, each build in a fresh
process so its peak memory is its own (the largest of the build's processes):

* EPUB: cold (empty cache), nothing changed, one chapter changed, and cold with
  ``[epub] page-list = false``;
* PDF: cold, nothing changed, one chapter changed; the one-chapter-changed PDF and EPUB are
  compared byte for byte with cold builds of the same sources;

and runs pandoc on the same Markdown (EPUB, and PDF with ``--pdf-engine=weasyprint``). Prints
times, ratios against pandoc and against our cold PDF, peak memory and sizes, and which targets
are met. ``--links``: the same book with every chapter linking to the next (each link prints the
page it leads to), kept apart in bench/.book. Not a test: timings depend on the machine and its
load.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

from book import make_book, touch_chapter  # noqa: E402
from measure import measure as measured  # noqa: E402



def measure(cmd: list[str], env: dict | None = None, cwd: Path | None = None) -> dict:
    res = measured(cmd, env=env, cwd=cwd)
    if res["rc"] != 0:
        raise SystemExit(f"failed (exit {res['rc']}): {' '.join(cmd)}\n{res['stderr']}")
    return res


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--chapters", type=int, default=40)
    ap.add_argument("--words", type=int, default=2500)
    ap.add_argument("--photos", type=int, default=2)
    ap.add_argument("--keep", action="store_true", help="keep the work folder")
    ap.add_argument("--changed", type=int, default=0, help="chapter to change (default: middle)")
    ap.add_argument("--links", action="store_true",
                    help="every chapter links to the next (\"see p. 42\" across chapters)")
    args = ap.parse_args()
    pandoc = shutil.which("pandoc")
    if not pandoc:
        print("bench: pandoc is not installed (apt-get install pandoc); it is needed for the"
              " comparison", file=sys.stderr)
        return 2
    spec = f"{args.chapters}x{args.words}x{args.photos}" + ("-links" if args.links else "")
    source = HERE / ".book" / spec
    if not (source / "book.toml").is_file():
        t0 = time.monotonic()
        make_book(source, args.chapters, args.words, args.photos, links=args.links)
        print(f"generated the book in {time.monotonic() - t0:.0f} s: {source}")
    work = Path(tempfile.mkdtemp(prefix="pubpipe-bench-"))
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"  # weasyprint
    env["PYTHONPATH"] = str(REPO / "src") + os.pathsep + env.get("PYTHONPATH", "")
    # pubpipe's bytecode made first, as installing a package makes it (and as WeasyPrint's is in
    # the venv): a user's first run writes it anyway, unless PYTHONDONTWRITEBYTECODE is set, and
    # then every build, and every layout worker, would compile pubpipe's sources again
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "src")], check=False,
                   stdout=subprocess.DEVNULL)
    rows: list[tuple[str, dict, Path | None]] = []
    book = work / "book"
    shutil.copytree(source, book)
    chapters = sorted(str(p) for p in book.glob("ch*.md"))

    def ours(name: str, fmt: str, cache: str, folder: Path = book) -> None:
        out = work / name.replace(" ", "-").replace(",", "")
        cmd = [sys.executable, "-m", "pubpipe", "build", str(folder), "--format", fmt,
               "--out-dir", str(out), "--cache-dir", str(work / cache),
               "--report", str(out / "report.json")]
        res = measure(cmd, env)
        rows.append((name, res, next(out.glob(f"*.{fmt}"))))
        print(f"  {name:<32} {res['seconds']:7.1f} s", flush=True)

    print("pandoc:", flush=True)
    meta = ["--metadata", "title=A Synthetic Book", "--metadata", "author=Bench Author",
            "--metadata", "lang=en", f"--resource-path={book}"]
    # run in the book's folder: WeasyPrint finds the photos from there (pandoc writes its HTML
    # with the Markdown's relative image paths)
    res = measure([pandoc, *chapters, "-o", str(work / "pandoc.epub"), *meta], env, book)
    rows.append(("pandoc epub", res, work / "pandoc.epub"))
    print(f"  {'pandoc epub':<32} {res['seconds']:7.1f} s", flush=True)
    res = measure([pandoc, *chapters, "-o", str(work / "pandoc.pdf"), *meta,
                   "--pdf-engine=weasyprint"], env, book)
    rows.append(("pandoc + weasyprint pdf", res, work / "pandoc.pdf"))
    print(f"  {'pandoc + weasyprint pdf':<32} {res['seconds']:7.1f} s", flush=True)

    print("pubpipe:", flush=True)
    ours("epub cold", "epub", "cache-epub")
    ours("epub nothing changed", "epub", "cache-epub")
    ours("pdf cold", "pdf", "cache-pdf")
    ours("pdf nothing changed", "pdf", "cache-pdf")
    changed = args.changed or (args.chapters + 1) // 2
    touch_chapter(book, changed)
    ours("epub one chapter changed", "epub", "cache-epub")
    ours("pdf one chapter changed", "pdf", "cache-pdf")
    ours("pdf cold, changed book", "pdf", "cache-cold")
    ours("epub cold, changed book", "epub", "cache-cold-epub")  # its own cache: truly cold
    plain = work / "book-no-page-list"
    shutil.copytree(book, plain)
    toml = plain / "book.toml"
    toml.write_text(toml.read_text() + "\n[epub]\npage-list = false\n")
    ours("epub cold, page-list = false", "epub", "cache-plain", plain)
    t = {name: res for name, res, _ in rows}
    size = {name: path.stat().st_size / 1e6 for name, _, path in rows if path}
    secs = {name: res["seconds"] for name, res in t.items()}
    print()
    print(f"{'build':<32} {'seconds':>8} {'ratio':>16} {'peak MiB':>9} {'MB':>7}")
    pe, pp_ = secs["pandoc epub"], secs["pandoc + weasyprint pdf"]
    for name, res, _ in rows:
        ratio = ""
        if name.startswith("epub"):
            ratio = f"{res['seconds'] / pe:.2f} x pandoc"
        elif name.startswith("pdf cold"):
            ratio = f"{res['seconds'] / pp_:.2f} x pandoc"
        elif name.startswith("pdf"):
            ratio = f"{res['seconds'] / secs['pdf cold']:.2f} x cold"
        print(f"{name:<32} {res['seconds']:8.1f} {ratio:>16} {res['peak_mb']:9.0f}"
              f" {size.get(name, 0):7.1f}")
    same_pdf = rows_file(rows, "pdf one chapter changed") == rows_file(rows, "pdf cold, changed book")
    same_epub = rows_file(rows, "epub one chapter changed") == rows_file(rows, "epub cold, changed book")
    peak = max(res["peak_mb"] for name, res, _ in rows if not name.startswith("pandoc"))
    targets = [
        ("EPUB nothing changed <= 0.5 x pandoc", secs["epub nothing changed"] <= 0.5 * pe),
        ("EPUB one chapter changed <= 1.5 x pandoc", secs["epub one chapter changed"] <= 1.5 * pe),
        ("EPUB cold, page-list = false <= 3 x pandoc",
         secs["epub cold, page-list = false"] <= 3 * pe),
        ("PDF cold <= 0.9 x pandoc + WeasyPrint", secs["pdf cold"] <= 0.9 * pp_),
        ("PDF nothing changed <= 0.1 x cold", secs["pdf nothing changed"] <= 0.1 * secs["pdf cold"]),
        ("PDF one chapter changed <= 0.3 x cold",
         secs["pdf one chapter changed"] <= 0.3 * secs["pdf cold"]),
        ("largest process <= 800 MiB", peak <= 800),
        ("EPUB size <= 0.3 x pandoc's", size["epub cold"] <= 0.3 * size["pandoc epub"]),
        ("incremental PDF == cold PDF (bytes)", same_pdf),
        ("incremental EPUB == cold EPUB (bytes)", same_epub),
    ]
    print()
    for label, ok in targets:
        print(f"{'met    ' if ok else 'NOT met'}  {label}")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"\n{args.chapters} chapters x {args.words} words, {args.photos} photos each"
          f"{', each linked to the next' if args.links else ''};"
          f" python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load {load:.1f};"
          f" {subprocess.run([pandoc, '--version'], capture_output=True, text=True).stdout.split(chr(10))[0]}")
    if args.keep:
        print(f"work folder kept: {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)
    return 0


def rows_file(rows, name: str) -> bytes:
    return next(path for n, _, path in rows if n == name).read_bytes()


if __name__ == "__main__":
    sys.exit(main())
