"""The layout stage proper: markup -> render -> page map, cached by content.

Two ways, one result (a ``PrintEdition``):

* **piece by piece** (plain PDFs, the default): every chapter is laid out as its own document in
  parallel worker processes, beside them a stamp document from which every body page's folio
  and running heads are composed once the chapters' lengths are known (``stamps.py``; where
  stamps cannot be trusted, an overlay of the body pages laid out page by page), then the front
  matter (its contents print the chapters' first folios). The PDF writer merges them (``write/pdf/merge.py``). Each piece is cached under a hash of its markup,
  styles, settings, images and the layout code, so a rebuild lays out only what changed.
  A chapter opens on a recto, so its layout depends on the other chapters only through the
  page numbers it prints: its own pages (source back-links "p. 7", "see p. 7" within the
  chapter) from its first folio, and the pages of places in other chapters ("see p. 42"), from
  their chapter's first folio and the page of the piece they are on. A chapter is laid out
  first with the numbers of the last build (a cold build: folio 1 and a placeholder), then
  again, from the start, whenever the numbers it printed differ from those the pieces now
  give, until nothing moves; since every chapter fills whole leaves, a chapter's folios move
  only when an earlier chapter gains or loses a leaf. Numbers that never settle (a label one
  digit longer pushing its chapter onto another leaf, and back) make the book go whole.
  Folios and running heads are stamped afterwards, which is cheap to redo.
* **as one document** (PDF/A, PDF/UA and PDF/X variants, whose tags, metadata and output intents
  belong to one document, or ``PUBPIPE_LAYOUT=whole``): the whole book in one worker, cached
  whole.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict
from pathlib import Path
from collections.abc import Callable
from typing import TYPE_CHECKING

from .. import __version__, resources
from ..document import Book
from . import notes, pagemap, stamps, workers
from .edition import (Bookmark, ImageFacts, Measures, Piece, PageStart, PlacedImage,
                      PrintEdition, Resource)
from .markup import PrintDocument, build_print_html, chapter_id, overlay_html, stamp_html
from .measure import roman
from .render import PieceJob, RenderedPiece, RenderJob, Rendered, render, render_pieces
from .workers import Deferred
from .styles import color_profile_css, piece_css, stylesheets

if TYPE_CHECKING:
    from ..context import BuildContext

CACHE_VERSION = 3  # bump when the edition's shape changes


def by_pieces(ctx: BuildContext) -> bool:
    """Whether the book is laid out chapter by chapter (see the module docstring)."""
    mode = os.environ.get("PUBPIPE_LAYOUT", "")
    return not ctx.print.variant and not ctx.print.tagged and mode != "whole"


def lay_out(book: Book, ctx: BuildContext, pdf: bool = True,
            chapters_done: Callable[[list[bytes]], None] | None = None) -> PrintEdition:
    """The book laid out for print (from the cache when nothing that shapes it changed).
    pdf=False: only the page map is wanted (an EPUB's page-list), so the front matter and the
    overlay are not made. chapters_done: given the chapters' final PDFs while the front matter
    and the overlay are being laid out (the PDF writer starts reading them), when they are."""
    steps = len(book.chapters) + (2 if pdf else 0)
    with ctx.progress.stage("layout", steps, "pieces") as advance:
        try:
            if by_pieces(ctx):
                return _by_pieces(book, ctx, pdf, advance, chapters_done)
            edition = _whole(book, ctx)
            for _ in range(steps):
                advance()
            return edition
        finally:
            workers.stop()  # their memory goes back to the OS


def _whole(book: Book, ctx: BuildContext) -> PrintEdition:
    settings = ctx.print
    math_cache = ctx.store  # formula drawings, kept in the cache as sealed entries
    doc = build_print_html(book, settings, math_cache=math_cache)
    _report_formulas(doc, ctx)
    css = stylesheets(settings)
    extra = color_profile_css(settings, doc.resources)
    if extra:
        css.append(extra)
    job = _job(doc, css, ctx)
    key = _key(job, ctx.installed_fonts)
    cached = _load(ctx.store, key)
    if cached is not None:
        return cached
    rendered = render(job)
    ctx.progress.count("layout cpu", rendered.cpu)
    # A note WeasyPrint carried to a later page than its call: the call's line moves to the
    # next page too (its block is split where that line begins), one note per chapter and pass,
    # since every move shifts what follows.
    breaks: set[str] = set()
    for _ in range(NOTE_PASSES):
        more = note_breaks(rendered.note_pos, breaks) - breaks  # a break made cannot help
        if not more:
            break
        breaks |= more
        doc = build_print_html(book, settings, breaks=frozenset(breaks), math_cache=math_cache)
        color_profile_css(settings, doc.resources)  # the output intent's profile, served again
        rendered = render(_job(doc, css, ctx))
        ctx.progress.count("layout cpu", rendered.cpu)
    if _repeated_pages(doc.pageref_groups, rendered.anchor_pages):
        # a source cited twice on one page: lay out again without the repeated back-links
        # (removing them only shortens source entries, so the cited pages stay where they are)
        doc = build_print_html(book, settings, rendered.anchor_pages, breaks=frozenset(breaks),
                               math_cache=math_cache)
        color_profile_css(settings, doc.resources)
        rendered = render(_job(doc, css, ctx))
        ctx.progress.count("layout cpu", rendered.cpu)
    edition = _edition(doc, rendered, ctx)
    _save(ctx.store, key, edition)
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
                     block_seq=doc.block_seq, image_ids=doc.image_ids)


def _edition(doc: PrintDocument, r: Rendered, ctx: BuildContext) -> PrintEdition:
    return PrintEdition(pdf=r.pdf, settings=ctx.print, page_labels=r.page_labels,
                        chapter_pages=r.chapter_pages,
                        page_map=pagemap.build(r.starts, r.page_labels, r.words),
                        measures=r.measures, images=doc.images, warnings=r.warnings,
                        notes_apart=notes_apart(r.note_pos))


NOTE_PASSES = 12  # two per note moved: one to anchor its call's words, one to break there


def note_breaks(note_pos: dict[str, tuple[int, float]], asked: set[str] | frozenset[str]
                = frozenset()) -> set[str]:
    """Anchors to break at: per chapter, the first note set on a later page than its call.

    The break goes after the last word anchor above the call's line (see
    notes.anchor_note_calls), or, when the call is on its block's first line, before the
    whole block. Words are anchored only once asked for (asked: what the markup was made with):
    until then the answer is the request, ``<note id>--words``.
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
        if above or fid + notes.WORDS_SUFFIX in asked:
            target = max(above)[1] if above else fid + notes.CALL_SUFFIX
        else:
            target = fid + notes.WORDS_SUFFIX
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


def _tool_versions(fonts: str) -> str:
    """What draws the layout: the tools, their versions and the fonts installed
    (``BuildContext.installed_fonts``)."""
    weasy = resources.installed_version("weasyprint")
    return f"pubpipe {__version__}; weasyprint {weasy}; layout cache {CACHE_VERSION}; {fonts}"


def code_fingerprint() -> bytes:
    """The layout code itself and the modules below it that make print markup (prepare.py,
    qr.py): an edited pubpipe lays out again even at the same version."""
    h = hashlib.sha256()
    here = Path(__file__).parent
    for p in [*sorted(here.glob("*.py")), here.parent / "prepare.py", here.parent / "qr.py"]:
        h.update(p.name.encode() + p.read_bytes())
    return h.digest()


def _key(job: RenderJob, fonts: str) -> str:
    """Hash of everything the layout depends on: markup, styles, settings, the files it is
    served (by content), the tools and their versions, the fonts installed."""
    h = hashlib.sha256(_tool_versions(fonts).encode())
    h.update(code_fingerprint())
    for part in (job.html, *job.css, repr(job.settings), _served(job.resources)):
        h.update(part.encode())
        h.update(b"\0")
    return h.hexdigest()[:32]


def _served(resources: dict[str, Resource]) -> str:
    """The files the layout is served, by URL, media type and content hash, never by where they
    are: the same book laid out with another (or a moved) cache folder finds its pieces."""
    return repr(sorted((url, r.media_type, r.sha256 or _file_sha256(r.path))
                       for url, r in resources.items()))


def _file_sha256(path: Path) -> str:
    """A served file that carries no hash (an ICC profile): hashed here ('missing' if gone,
    which the layout then reports)."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return "missing"


def _load(store, key: str) -> PrintEdition | None:
    """A cached print edition, read through the store: regular files inside the cache, the PDF
    only with the hash recorded beside it (a swapped file is dropped and laid out again)."""
    raw = store.read_cache_file(f"layout/{key}.json")
    if raw is None:
        return None
    try:
        data = json.loads(raw.decode("utf-8"))
        pdf = store.read_cache_file(f"layout/{key}.pdf", str(data["pdf_sha256"]))
        return PrintEdition.from_json(data, pdf) if pdf is not None else None
    except (ValueError, KeyError, TypeError):
        return None


def _save(store, key: str, edition: PrintEdition) -> None:
    store.write_cache_file(f"layout/{key}.pdf", edition.pdf)
    store.write_cache_file(f"layout/{key}.json", json.dumps(
        {**edition.to_json(), "pdf_sha256": hashlib.sha256(edition.pdf).hexdigest()}).encode())


# --------------------------------------------------------------------------------------------
# Piece by piece


def first_folios(pages: list[int]) -> list[int]:
    """The first folio of every chapter: chapter 1 opens on folio 1, each chapter on the next
    recto (an odd folio), so a chapter of odd length is followed by a blank verso."""
    out, folio = [], 1
    for n in pages:
        out.append(folio)
        folio += n + n % 2
    return out


def _by_pieces(book: Book, ctx: BuildContext, want_pdf: bool, advance,
               chapters_done: Callable[[list[bytes]], None] | None = None) -> PrintEdition:
    s = ctx.print
    base = stylesheets(s)
    area = pagemap.text_area(s)
    n = len(book.chapters)
    math_cache = ctx.store  # formula drawings, kept in the cache as sealed entries
    cids = [chapter_id(k + 1, ch) for k, ch in enumerate(book.chapters)]
    # what the last build printed: usually still right, so a rebuild lays out nothing more
    known_folios = _cached_dict(ctx.store, FOLIOS)  # first folio of chapters printing their own
    known_labels = {t: v for t, v in _cached_dict(ctx.store, XREF_LABELS).items()
                    if isinstance(v, str) and v.isdigit()}  # target anchor -> its page label

    def markup(k: int, labels, anchor_pages=None, breaks=frozenset()) -> PrintDocument:
        return build_print_html(book, s, anchor_pages, breaks, front=False, chapters=[k],
                                math_cache=math_cache, xref_labels=labels)

    docs = [markup(k, known_labels) for k in range(n)]
    for d in docs:
        _report_formulas(d, ctx)

    def job(k: int, folio: int | None, probe: bool = False) -> PieceJob:
        d = docs[k]
        css = [*base, piece_css("chapter", folio)]
        return PieceJob("chapter", d.html, css, s, d.resources, k, d.block_ids, d.block_seq, area,
                        probe, image_ids=d.image_ids)

    used: list[int | None] = [_int(known_folios.get(cids[k]), 1) if docs[k].has_pagerefs
                              else None for k in range(n)]
    # labels of other chapters' pages no build has known yet (a cold build): the first layout
    # only counts pages (a probe); a first folio no build has known is guessed when the chapter
    # starts (see guess_folio), and its layout is kept when the guess is right
    probe = [any(t not in known_labels for t in docs[k].xrefs) for k in range(n)]

    # folios and running heads: the stamp document, laid out beside the chapters (it depends on
    # their titles only), unless the book's own CSS could make the stamps wrong
    stamp_job = PieceJob("stamps", stamp_html(book, s), [*base, piece_css("stamps")], s, {}) \
        if want_pdf and n and stamps.usable(s, resources.author_css(s.css)) else None
    before = 1 if stamp_job else 0  # jobs before the chapters' in the first batch

    def first(k: int) -> PieceJob | Deferred:
        if probe[k] or not docs[k].has_pagerefs or isinstance(known_folios.get(cids[k]), int):
            return job(k, used[k], probe[k])

        def make(results: list) -> PieceJob:
            used[k] = guess_folio(k, results[before:], [len(d.html) for d in docs])
            return job(k, used[k])
        return Deferred(make)

    pieces = _render_cached(ctx, [*([stamp_job] if stamp_job else []),
                                  *(first(k) for k in range(n))], advance)
    _count_cpu(ctx, pieces)
    stamped, pieces = (pieces[0] if stamp_job else None), pieces[before:]
    owner = {cid: k for k, cid in enumerate(cids)}

    def numbers(k: int, folios: list[int]) -> tuple[int | None, dict[str, str]]:
        """The first folio chapter k must print its own pages from, and the labels of the
        pages its links into other chapters lead to, as the pieces now stand."""
        labels = {}
        for target in docs[k].xrefs:
            j = owner.get(target.split("--", 1)[0])
            if j is None:  # not a chapter's anchor (cannot happen): the placeholder stays
                labels[target] = docs[k].xrefs[target]
                continue
            labels[target] = str(folios[j] + pieces[j].anchors.get(target, 0))
        return (folios[k] if docs[k].has_pagerefs else None), labels

    redone: set[int] = set()
    breaks: list[set[str]] = [set() for _ in range(n)]
    passes = [0] * n
    anchors: list[dict[str, int] | None] = [None] * n
    for _ in range(NOTE_PASSES + SETTLE_PASSES):
        folios = first_folios([p.pages for p in pieces])
        todo = []
        for k in range(n):
            folio, labels = numbers(k, folios)
            if folio != used[k] or labels != docs[k].xrefs:
                # the page numbers it prints moved: laid out again from the start (notes too),
                # so the result depends only on those numbers, never on the guess before them
                breaks[k], passes[k], anchors[k] = set(), 0, None
                redone.discard(k)
            elif pieces[k].probe:
                pass  # a guess that was right: now laid out in full
            elif (more := note_breaks(pieces[k].note_pos, breaks[k]) - breaks[k]) and \
                    passes[k] < NOTE_PASSES:
                # a note carried past its call's page: the call's line moves on too (see _whole)
                breaks[k] |= more
                passes[k] += 1
            elif k not in redone and _repeated_pages(docs[k].pageref_groups, pieces[k].anchors):
                # a source cited twice on one page: without the repeated back-links
                anchors[k] = pieces[k].anchors
                redone.add(k)
            else:
                continue
            docs[k] = markup(k, labels, anchors[k], frozenset(breaks[k]))
            used[k] = folio
            todo.append(k)
        if not todo:
            break
        again = _render_cached(ctx, [job(k, used[k]) for k in todo], lambda: None)
        _count_cpu(ctx, again)
        for k, piece in zip(todo, again):
            pieces[k] = piece
    folios = first_folios([p.pages for p in pieces])
    if any(numbers(k, folios) != (used[k], docs[k].xrefs) or pieces[k].probe for k in range(n)):
        # page numbers that keep moving each other (a label one digit longer that pushes its
        # chapter onto another leaf, and back): the book as one document numbers them right
        ctx.diagnostics.info("pdf-layout-whole", "page references between chapters did not"
                             " settle piece by piece; the book was laid out as one document",
                             None, None)
        edition = _whole(book, ctx)
        if want_pdf:
            advance()
            if not stamp_job:
                advance()
        return edition
    ctx.store.write_cache_file(FOLIOS, json.dumps(
        {cids[k]: folios[k] for k in range(n) if docs[k].has_pagerefs}, sort_keys=True).encode())
    ctx.store.write_cache_file(XREF_LABELS, json.dumps(
        {t: label for d in docs for t, label in d.xrefs.items()}, sort_keys=True).encode())

    extra: list[RenderedPiece] = []
    drawn: Piece | None = None
    if want_pdf:
        front = build_print_html(book, s, chapters=[], folios=folios, math_cache=math_cache)
        front_css = [*base, piece_css("front")]
        color = color_profile_css(s, front.resources)
        if color:
            front_css.append(color)
        counts = [p.pages for p in pieces]
        stamper = stamps.read(stamped.pdf, n) if stamped is not None else None
        if stamper is not None:  # the overlay composed from the stamps: no page laid out
            drawn = Piece("stamps", stamped.pdf, 0, streams=stamps.compose(stamper, counts, folios))
            drawn.pages = len(drawn.streams)
            overlays = []
        else:  # the overlay laid out page by page, in parts
            overlays = [PieceJob("overlay", overlay_html(book, s, counts[a:b], a),
                                 [*base, piece_css("overlay", folios[a])], s, {})
                        for a, b in overlay_parts(counts)]
        meanwhile = (lambda: chapters_done([p.pdf for p in pieces])) if chapters_done else None
        extra = _render_cached(ctx, [
            PieceJob("front", front.html, front_css, s, front.resources), *overlays],
            lambda: None, meanwhile)
        _count_cpu(ctx, extra)
        advance()  # the front matter and the overlay (or the stamps) are a step each
        if not stamp_job:
            advance()
    return _assemble(book, ctx, docs, cids, pieces, folios, extra, drawn)


FOLIOS = "layout/folios.json"
XREF_LABELS = "layout/xref-labels.json"
# passes beyond the note passes in which the page numbers printed across pieces settle: a
# number moves a chapter only when it pushes the chapter onto another leaf, which is rare
SETTLE_PASSES = 6


def _cached_dict(store, relative: str) -> dict:
    raw = store.read_cache_file(relative)
    try:
        data = json.loads(raw.decode("utf-8")) if raw is not None else {}
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _int(value, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


GUESS_CHARS_PER_PAGE = 2000  # print markup per page, before any chapter is laid out


def guess_folio(k: int, results: list, sizes: list[int]) -> int:
    """The first folio of chapter k as far as the chapters are laid out (results: a piece or
    None per chapter); those not done yet are estimated from their markup's size (sizes), at the
    pages per character of those done. A chapter that prints its own page numbers is started
    with it: a right guess (the chapters before it are mostly done by then) spares laying it out
    again."""
    done = [(sizes[j], r.pages) for j, r in enumerate(results) if r is not None]
    chars = sum(c for c, _ in done)
    per_char = sum(p for _, p in done) / chars if chars else 1 / GUESS_CHARS_PER_PAGE
    counts = [r.pages if r is not None else max(1, round(sizes[j] * per_char))
              for j, r in enumerate(results[:k])]
    return first_folios([*counts, 0])[k]


def _count_cpu(ctx: BuildContext, pieces: list[RenderedPiece]) -> None:
    """The CPU time the workers spent on these pieces, in the report's timings ("layout cpu")."""
    ctx.progress.count("layout cpu", sum(p.cpu for p in pieces))


OVERLAY_PART_PAGES = 120  # the overlay is laid out in parts of about this many pages


def overlay_parts(pages: list[int]) -> list[tuple[int, int]]:
    """The chapters (a, b) of each part of the overlay, laid out in parallel: whole chapters,
    about OVERLAY_PART_PAGES pages each. A part depends only on its own chapters' lengths and
    first folio, so a chapter that changes length lays out again only the parts from its own on."""
    parts, start, count = [], 0, 0
    for k, n in enumerate(pages):
        count += n + n % 2
        if count >= OVERLAY_PART_PAGES or k == len(pages) - 1:
            parts.append((start, k + 1))
            start, count = k + 1, 0
    return parts


def _assemble(book: Book, ctx: BuildContext, docs: list[PrintDocument], cids: list[str],
              chapters: list[RenderedPiece], folios: list[int], extra: list[RenderedPiece],
              drawn: Piece | None = None) -> PrintEdition:
    """The edition from its pieces: folios, where chapters open, page map, measures. drawn: the
    overlay as stamps (its first page is set here), else it is in extra after the front."""
    front = extra[0] if extra else None
    front_pages = front.pages - 1 if front else 0  # its last page is the recto marker
    labels = [roman(i + 1) for i in range(front_pages)]
    starts_at: list[int] = []
    for k, piece in enumerate(chapters):
        first = front_pages + folios[k] - 1
        while len(labels) < first:  # the blank verso before a chapter
            labels.append(str(len(labels) - front_pages + 1))
        labels += [str(folios[k] + j) for j in range(piece.pages)]
        starts_at.append(first)
    page_map = {}
    apart: list[tuple[int, int]] = []
    measures = Measures()
    images: dict[str, ImageFacts] = {}
    warnings: list[str] = []
    pieces: list[Piece] = []
    if front is not None:
        _shift(measures, front.measures, 0, front_pages)
        warnings += front.warnings
        pieces.append(Piece("front", front.pdf, front_pages, 0, -1,
                            [b for b in front.bookmarks if b.page < front_pages]))
    for k, piece in enumerate(chapters):
        folio = folios[k]
        for slug, entries in piece.starts.items():
            page_map[slug] = [PageStart(path, str(folio + j), *piece.words[j])
                              if j < len(piece.words) else PageStart(path, str(folio + j))
                              for path, j in entries]
        _shift(measures, piece.measures, starts_at[k], piece.pages)
        apart += [(c + starts_at[k], t + starts_at[k]) for c, t in notes_apart(piece.note_pos)]
        images.update(docs[k].images)
        warnings += piece.warnings
        pieces.append(Piece("chapter", piece.pdf, piece.pages, starts_at[k], k, piece.bookmarks))
    if len(extra) > 1:
        n = len(chapters)
        end = front_pages + folios[-1] - 1 + chapters[-1].pages
        for overlay, (a, b) in zip(extra[1:], overlay_parts([p.pages for p in chapters])):
            first = front_pages + folios[a] - 1
            last = front_pages + folios[b] - 1 if b < n else end  # its marker page left out
            pieces.append(Piece("overlay", overlay.pdf, last - first, first))
    if drawn is not None:
        drawn.first = front_pages
        pieces.append(drawn)
    return PrintEdition(pdf=None, settings=ctx.print, page_labels=labels,
                        chapter_pages={cid: starts_at[k] for k, cid in enumerate(cids)},
                        page_map=page_map, measures=measures, images=images, warnings=warnings,
                        notes_apart=sorted(apart), pieces=pieces)


def _shift(into: Measures, m: Measures, offset: int, pages: int) -> None:
    """Add a piece's measures with its page numbers moved to the book's (pages past the
    piece's own, such as the front matter's marker page, are left out)."""
    into.images += [PlacedImage(i.page + offset, i.src, i.width, i.height, i.alt)
                    for i in m.images if i.page < pages]
    into.outside_live += [(p + offset, t) for p, t in m.outside_live if p < pages]
    into.past_margin += [(p + offset, t) for p, t in m.past_margin if p < pages]


def _piece_key(job: PieceJob, fonts: str) -> str:
    h = hashlib.sha256(_tool_versions(fonts).encode())
    h.update(code_fingerprint())
    for part in (job.kind, str(job.chapter), job.html, *job.css, repr(job.settings),
                 _served(job.resources), repr(job.text_area)):
        h.update(part.encode())
        h.update(b"\0")
    return "p-" + h.hexdigest()[:32]


def _render_cached(ctx: BuildContext, jobs: list[PieceJob | Deferred], advance,
                   meanwhile: Callable[[], None] | None = None) -> list[RenderedPiece]:
    """The pieces, from the cache where they are there, the rest laid out in parallel. A
    deferred job (made when it is started, from the pieces laid out so far, all of them in
    jobs' order) is not looked up in the cache: it is made from a guess. Probes (laid out only
    to count pages) are neither looked up nor kept. meanwhile: called when some piece is to be
    laid out, just before (this process is free while the workers are busy)."""
    store, fonts = ctx.store, ctx.installed_fonts
    keys = [_piece_key(j, fonts) if isinstance(j, PieceJob) else "" for j in jobs]
    out: list[RenderedPiece | None] = [
        _load_piece(store, key) if key and not jobs[i].probe else None
        for i, key in enumerate(keys)]
    for piece in out:
        if piece is not None:
            advance()
    todo = [i for i, piece in enumerate(out) if piece is None]
    made: dict[int, PieceJob] = {}

    def deferred(i: int, later: Deferred) -> Deferred:
        def make(results: list) -> PieceJob:
            seen = list(out)
            for t, r in zip(todo, results):
                seen[t] = r if r is not None else seen[t]
            made[i] = later.make(seen)
            return made[i]
        return Deferred(make)

    pending = [deferred(i, j) if isinstance(j := jobs[i], Deferred) else j for i in todo]
    if todo and meanwhile is not None:
        meanwhile()
    for i, piece in zip(todo, render_pieces(pending, advance)):
        out[i] = piece
        job = made.get(i) or jobs[i]
        if not job.probe:
            _save_piece(store, keys[i] or _piece_key(job, fonts), piece)
    return [p for p in out if p is not None]


def _load_piece(store, key: str) -> RenderedPiece | None:
    """A cached piece, read through the store: regular files inside the cache, the PDF only with
    the hash recorded beside it (a swapped file is dropped and laid out again)."""
    raw = store.read_cache_file(f"layout/{key}.json")
    if raw is None:
        return None
    try:
        d = json.loads(raw.decode("utf-8"))
        pdf = store.read_cache_file(f"layout/{key}.pdf", str(d["pdf_sha256"]))
        if pdf is None:
            return None
        m = d["measures"]
        return RenderedPiece(
            d["kind"], d["chapter"], pdf, d["pages"],
            {k: [(tuple(p), j) for p, j in v] for k, v in d["starts"].items()},
            dict(d["anchors"]),
            Measures([PlacedImage(**i) for i in m["images"]],
                     [tuple(x) for x in m["outside_live"]], [tuple(x) for x in m["past_margin"]]),
            [Bookmark(**b) for b in d["bookmarks"]],
            [(tuple(w), tuple(lw)) for w, lw in d["words"]], list(d["warnings"]),
            {k: (int(p), float(y)) for k, (p, y) in d["note_pos"].items()})
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _save_piece(store, key: str, p: RenderedPiece) -> None:
    data = {"kind": p.kind, "chapter": p.chapter, "pages": p.pages,
            "starts": {k: [[list(path), j] for path, j in v] for k, v in p.starts.items()},
            "anchors": p.anchors,
            "measures": {"images": [asdict(i) for i in p.measures.images],
                         "outside_live": p.measures.outside_live,
                         "past_margin": p.measures.past_margin},
            "bookmarks": [asdict(b) for b in p.bookmarks],
            "words": [[list(w), list(lw)] for w, lw in p.words], "warnings": p.warnings,
            "note_pos": p.note_pos, "pdf_sha256": hashlib.sha256(p.pdf).hexdigest()}
    store.write_cache_file(f"layout/{key}.pdf", p.pdf)
    store.write_cache_file(f"layout/{key}.json", json.dumps(data).encode())
