"""Measuring a laid-out document (in the render worker): folios, where each page begins, and
what preflight checks (images at their printed size, text outside the live area or past the
margins). Reads WeasyPrint's public page data (anchors: where each marked block and image is)
and the words printed on the written PDF's pages (``pdfwords``)."""

from __future__ import annotations

from .edition import BlockPath, Bookmark, Measures, PlacedImage
from .pagemap import BLOCK_MARK
from .pdfwords import Check, PrintedPage
from .settings import PrintSettings, live_margin, margins, page_boxes, parse_length


def read_layout(document, pages: list[PrintedPage], chapter_ids: list[str],
                block_ids: dict[str, tuple[str, BlockPath]], block_seq: dict[str, int],
                s: PrintSettings, image_ids: dict[str, tuple[str, str]]):
    """The whole book: per chapter the block each printed page begins with (and its folio);
    the folios; where each chapter opens; what preflight measures; where each anchor is.
    pages: what each page of the written PDF prints (``pdfwords.read_pages``)."""
    labels = folio_labels(document, chapter_ids)
    starts = {slug: [(path, labels[i]) for path, i in entries]
              for slug, entries in page_starts(document, block_ids, block_seq).items()}
    opening = {}
    for i, page in enumerate(document.pages):
        for cid in chapter_ids:
            if cid in page.anchors:
                opening[cid] = i
    return (starts, labels, opening, measure(document, pages, s, image_ids),
            anchor_pages(document),
            note_positions(document))


def folio_labels(document, chapter_ids: list[str]) -> list[str]:
    """The folio each page shows: roman before the first chapter, arabic from it on."""
    first_body = None
    for i, page in enumerate(document.pages):
        if chapter_ids and chapter_ids[0] in page.anchors:
            first_body = i
            break
    return [roman(i + 1) if first_body is None or i < first_body else str(i - first_body + 1)
            for i in range(len(document.pages))]


def block_marks(document) -> list[dict[str, tuple[float, float]]]:
    """Per page, where each block marked with a position bookmark (``pagemap.BLOCK_MARK``) begins
    on it, by block key; those bookmarks are taken out of the pages' (not the outline's)."""
    out: list[dict[str, tuple[float, float]]] = []
    for page in document.pages:
        found: dict[str, tuple[float, float]] = {}
        if any(label.startswith(BLOCK_MARK) for _, label, _, _ in page.bookmarks):
            kept = []
            for mark in page.bookmarks:
                if mark[1].startswith(BLOCK_MARK):
                    found.setdefault(mark[1][len(BLOCK_MARK):], mark[2])
                else:
                    kept.append(mark)
            page.bookmarks = kept
        out.append(found)
    return out


def page_starts(document, block_ids: dict[str, tuple[str, BlockPath]], block_seq: dict[str, int],
                marks: list[dict[str, tuple[float, float]]] | None = None
                ) -> dict[str, list[tuple[BlockPath, int]]]:
    """Per chapter slug, (block path, page index) for every page: the block it begins with.
    Blocks are found by their anchors and, in a piece, their position bookmarks (marks, from
    ``block_marks``: a block's shows on the page it begins on only)."""
    layout: dict[str, list[tuple[BlockPath, int]]] = {}
    last: dict[str, BlockPath] = {}
    current = None
    seen: set[str] = set()
    for i, page in enumerate(document.pages):
        where = {**page.anchors, **marks[i]} if marks and marks[i] else page.anchors
        # A box split over pages lists its anchor on each of them: only a first showing begins.
        begins = [(a, pos) for a, pos in where.items() if a in block_ids and a not in seen]
        seen.update(where)
        # the topmost anchor that begins on this page is where the page begins
        begins.sort(key=lambda item: (round(item[1][1], 2), block_seq[item[0]]))
        if begins:
            slug, path = block_ids[begins[0][0]]
            layout.setdefault(slug, []).append((path, i))
            # the block the *next* page may continue: the last to begin here, in document order
            order = sorted(begins, key=lambda item: block_seq[item[0]])
            slug_last, path_last = block_ids[order[-1][0]]
            last[slug_last] = path_last
            current = slug_last
        elif current is not None and current in last:
            layout.setdefault(current, []).append((last[current], i))
    return layout


def anchor_pages(document) -> dict[str, int]:
    """Every anchor (id) and the first page it is on (0-based)."""
    out: dict[str, int] = {}
    for i, page in enumerate(document.pages):
        for a in page.anchors:
            out.setdefault(a, i)
    return out


def note_positions(document) -> dict[str, tuple[int, float]]:
    """(page, y) of every footnote, its call and the words before it (notes.anchor_note_calls)."""
    from .notes import CALL_SUFFIX, WORD_INFIX

    found: dict[str, tuple[int, float]] = {}
    for i, page in enumerate(document.pages):
        for a, pos in page.anchors.items():
            if WORD_INFIX in a or a.endswith(CALL_SUFFIX):
                found.setdefault(a, (i, pos[1]))
    calls = {a[:-len(CALL_SUFFIX)] for a in found if a.endswith(CALL_SUFFIX)}
    for i, page in enumerate(document.pages):
        for a, pos in page.anchors.items():
            if a in calls:
                found.setdefault(a, (i, pos[1]))
    return found


def bookmarks(document) -> list[Bookmark]:
    """The document's outline, flattened in order: (level, label, page, x, y) in CSS px."""
    out: list[Bookmark] = []

    def walk(nodes, level):
        for label, (page, x, y), children, _state in nodes:
            out.append(Bookmark(level, label, page, x, y))
            walk(children, level + 1)

    walk(document.make_bookmark_tree(), 1)
    return out


PX = 0.75  # CSS px -> pt


def measure(document, pages: list[PrintedPage], s: PrintSettings,
            image_ids: dict[str, tuple[str, str]]) -> Measures:
    """Placed images (printed size), text outside the live area, text past the margins.

    Images from the layout's anchors (image_ids: the anchor of every image preflight knows ->
    its src and alt; an anchor is the image's box, in CSS px); text from the written PDF
    (pages: ``pdfwords.read_pages`` with ``text_check``)."""
    images = []
    for i, page in enumerate(document.pages):
        for anchor, box in page.anchors.items():
            if anchor in image_ids and len(box) >= 4:
                src, alt = image_ids[anchor]
                images.append(PlacedImage(i, src, abs(box[2] - box[0]) * PX,
                                          abs(box[3] - box[1]) * PX, alt))
    outside, past = text_measures(pages, s)
    return Measures(images, outside, past)


def text_check(s: PrintSettings) -> Check:
    """Whether a run of text with this box on page index is out: outside the live area
    (``live_margin`` inside the trim), or, in the page's body (running heads and folios above
    and below it are held to the live area only), past its left or right margin."""
    live = live_margin(s)
    memo: dict[int, tuple] = {}
    # a glyph's ink may stand out of its line by a fraction of an em (an italic f at the start
    # of a line, 0.14 em left of the margin in Noto Serif Italic): not text past the margin
    ink = max(1.0, 0.2 * (parse_length(s.font_size) or 10.5))

    def check(index: int, x0: float, y0: float, x1: float, y1: float) -> bool:
        key = index % 2
        if key not in memo:  # pages alternate right and left, the same two geometries
            tx0, ty0, tx1, ty1 = trim_area(s, index)
            memo[key] = ((tx0 + live - 0.5, ty0 + live - 0.5, tx1 - live + 0.5,
                          ty1 - live + 0.5), body_area(s, index))
        (lx0, ly0, lx1, ly1), (bx0, by0, bx1, by1) = memo[key]
        if x0 < lx0 or x1 > lx1 or y0 < ly0 or y1 > ly1:
            return True
        return by0 <= (y0 + y1) / 2 <= by1 and (x1 > bx1 + ink or x0 < bx0 - ink)
    return check


def text_measures(pages: list[PrintedPage], s: PrintSettings
                  ) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """(page, text) of the runs of text outside the live area, and of those past the margins
    (``text_check``; at most 60 characters of each)."""
    live = live_margin(s)
    outside: list[tuple[int, str]] = []
    past: list[tuple[int, str]] = []
    for i, page in enumerate(pages):
        tx0, ty0, tx1, ty1 = trim_area(s, i)
        for run in page.runs:
            text = run.text.strip()[:60]
            if not text:
                continue
            if (run.x0 < tx0 + live - 0.5 or run.x1 > tx1 - live + 0.5 or
                    run.y0 < ty0 + live - 0.5 or run.y1 > ty1 - live + 0.5):
                outside.append((i, text))
            else:
                past.append((i, text))
    return outside, past


def trim_area(s: PrintSettings, index: int) -> tuple[float, float, float, float]:
    """The trimmed page (x0, y0, x1, y1) in points from the media box's top left corner."""
    boxes = page_boxes(s, index)
    media, trim = boxes["MediaBox"], boxes["TrimBox"]
    x0, y0 = trim[0] - media[0], media[3] - trim[3]
    return x0, y0, x0 + s.trim_w, y0 + s.trim_h


def body_area(s: PrintSettings, index: int) -> tuple[float, float, float, float]:
    """The page's content box (x0, y0, x1, y1), where its body is laid out (``styles.geometry_css``:
    margins on the inside and outside edges; on a bled page the bleed outside the trim), in points
    from the media box's top left corner."""
    top, bottom, inside, outside = margins(s)
    tx0, ty0, tx1, ty1 = trim_area(s, index)
    right = (index % 2 == 0) != s.rtl  # page 1 is a right-hand page (left in RTL books)
    left_margin, right_margin = (inside, outside) if right else (outside, inside)
    return tx0 + left_margin, ty0 + top, tx1 - right_margin, ty1 - bottom


def roman(n: int) -> str:
    out = ""
    for v, r in ((1000, "m"), (900, "cm"), (500, "d"), (400, "cd"), (100, "c"), (90, "xc"),
                 (50, "l"), (40, "xl"), (10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i")):
        while n >= v:
            out += r
            n -= v
    return out

