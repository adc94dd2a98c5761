"""The layout stage proper: markup -> render -> page map, cached by content."""

from __future__ import annotations

import hashlib
import json
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING

from .. import __version__
from ..document import Book
from ..util import cache_write
from . import notes, pagemap
from .edition import PrintEdition
from .markup import PrintDocument, build_print_html
from .render import RenderJob, Rendered, render
from .styles import color_profile_css, stylesheets

if TYPE_CHECKING:
    from ..context import BuildContext

CACHE_VERSION = 2  # bump when the edition's shape changes


def lay_out(book: Book, ctx: BuildContext) -> PrintEdition:
    """The book laid out for print (from the cache when nothing that shapes it changed)."""
    settings = ctx.print
    math_cache = ctx.cache_dir / "math"
    doc = build_print_html(book, settings, math_cache=math_cache)
    _report_formulas(doc, ctx)
    css = stylesheets(settings)
    extra = color_profile_css(settings, doc.resources)
    if extra:
        css.append(extra)
    job = _job(doc, css, ctx)
    key = _key(job)
    folder = ctx.cache_dir / "layout"
    cached = _load(folder, key)
    if cached is not None:
        return cached
    rendered = render(job)
    # A note WeasyPrint carried to a later page than its call: the call's line moves to the
    # next page too (its block is split where that line begins), one note per chapter and pass,
    # since every move shifts what follows.
    breaks: set[str] = set()
    for _ in range(NOTE_PASSES):
        more = note_breaks(rendered.note_pos) - breaks  # a break already made cannot help
        if not more:
            break
        breaks |= more
        doc = build_print_html(book, settings, breaks=frozenset(breaks), math_cache=math_cache)
        color_profile_css(settings, doc.resources)  # the output intent's profile, served again
        rendered = render(_job(doc, css, ctx))
    if _repeated_pages(doc.pageref_groups, rendered.anchor_pages):
        # a source cited twice on one page: lay out again without the repeated back-links
        # (removing them only shortens source entries, so the cited pages stay where they are)
        doc = build_print_html(book, settings, rendered.anchor_pages, breaks=frozenset(breaks),
                               math_cache=math_cache)
        color_profile_css(settings, doc.resources)
        rendered = render(_job(doc, css, ctx))
    edition = _edition(doc, rendered, ctx)
    _save(folder, key, edition)
    return edition


def _report_formulas(doc: PrintDocument, ctx: BuildContext) -> None:
    """Preflight notes for formulas fitted to the measure; warnings for those not drawn."""
    for source, n in doc.formulas:
        tex = n.alttext if len(n.alttext) <= 50 else n.alttext[:47] + "..."
        if n.error:
            ctx.diagnostics.warn("pdf-math-draw", f"formula could not be drawn ({n.error});"
                                 f" printed as TeX: {tex}", source, n.line)
            continue
        how = (f"broken into {n.lines} lines" if n.lines > 1 else "") + \
            (" and " if n.lines > 1 and n.scale < 1 else "") + \
            (f"scaled to {int(n.scale * 100)}%" if n.scale < 1 else "")
        ctx.diagnostics.info("pdf-math-width", f"formula wider than the text column, {how}"
                             f" to fit: {tex}", source, n.line)


def _job(doc: PrintDocument, css: list[str], ctx: BuildContext) -> RenderJob:
    return RenderJob(html=doc.html, css=css, settings=ctx.print, resources=doc.resources,
                     chapter_ids=doc.chapter_ids, block_ids=doc.block_ids,
                     block_seq=doc.block_seq)


def _edition(doc: PrintDocument, r: Rendered, ctx: BuildContext) -> PrintEdition:
    return PrintEdition(pdf=r.pdf, settings=ctx.print, page_labels=r.page_labels,
                        chapter_pages=r.chapter_pages,
                        page_map=pagemap.build(r.starts, r.page_labels, r.pdf, ctx.print),
                        measures=r.measures, images=doc.images, warnings=r.warnings,
                        notes_apart=notes_apart(r.note_pos))


NOTE_PASSES = 6


def note_breaks(note_pos: dict[str, tuple[int, float]]) -> set[str]:
    """Anchors to break at: per chapter, the first note set on a later page than its call.

    The break goes after the last word anchor above the call's line (see
    notes.anchor_note_calls), or, when the call is on its block's first line, before the
    whole block.
    """
    calls = {a[:-len(notes.CALL_SUFFIX)]: pos for a, pos in note_pos.items()
             if a.endswith(notes.CALL_SUFFIX)}
    first: dict[str, tuple[int, str]] = {}
    for fid, (page, y) in calls.items():
        note = note_pos.get(fid)
        if note is None or note[0] <= page:
            continue
        prefix = fid + notes.WORD_INFIX
        above = [(int(a[len(prefix):]), a) for a, (p, wy) in note_pos.items()
                 if a.startswith(prefix) and (p < page or (p == page and wy < y - 6.0))]
        target = max(above)[1] if above else fid + notes.CALL_SUFFIX
        chapter = fid.split("--", 1)[0]
        if chapter not in first or page < first[chapter][0]:
            first[chapter] = (page, target)
    return {target for _, target in first.values()}


def notes_apart(note_pos: dict[str, tuple[int, float]]) -> list[tuple[int, int]]:
    """(call page, note page) of every note still printed away from its call."""
    out = []
    for a, (page, _) in note_pos.items():
        if a.endswith(notes.CALL_SUFFIX):
            note = note_pos.get(a[:-len(notes.CALL_SUFFIX)])
            if note is not None and note[0] != page:
                out.append((page, note[0]))
    return sorted(out)


def _repeated_pages(groups: list[list[str]], anchor_pages: dict[str, int]) -> bool:
    for targets in groups:
        pages = [anchor_pages.get(t) for t in targets]
        pages = [p for p in pages if p is not None]
        if len(pages) != len(set(pages)):
            return True
    return False


def _tool_versions() -> str:
    try:
        weasy = version("weasyprint")
    except PackageNotFoundError:
        weasy = "?"
    return f"pubpipe {__version__}; weasyprint {weasy}; layout cache {CACHE_VERSION}"


def code_fingerprint() -> bytes:
    """The layout code itself: an edited pubpipe lays out again even at the same version."""
    h = hashlib.sha256()
    for p in sorted(Path(__file__).parent.glob("*.py")):
        h.update(p.name.encode() + p.read_bytes())
    common = Path(__file__).parent.parent / "write" / "common.py"
    if common.is_file():
        h.update(common.read_bytes())
    return h.digest()


def _key(job: RenderJob) -> str:
    """Hash of everything the layout depends on: markup, styles, settings, image bytes' names
    (content-addressed), the tools and their versions."""
    h = hashlib.sha256(_tool_versions().encode())
    h.update(code_fingerprint())
    for part in (job.html, *job.css, repr(job.settings),
                 repr(sorted((k, str(v)) for k, v in job.resources.items()))):
        h.update(part.encode())
        h.update(b"\0")
    return h.hexdigest()[:32]


def _load(folder: Path, key: str) -> PrintEdition | None:
    try:
        data = json.loads((folder / f"{key}.json").read_text("utf-8"))
        pdf = (folder / f"{key}.pdf").read_bytes()
        return PrintEdition.from_json(data, pdf)
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _save(folder: Path, key: str, edition: PrintEdition) -> None:
    cache_write(folder / f"{key}.pdf", edition.pdf)
    cache_write(folder / f"{key}.json", json.dumps(edition.to_json()).encode())
