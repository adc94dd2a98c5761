"""Measuring a laid-out document (in the render worker): folios, where each page begins, and
what preflight checks (images at their printed size, text outside the live area or past the
margins). Reads WeasyPrint's page boxes, which never leave the worker process."""

from __future__ import annotations

from .edition import BlockPath, Bookmark, Measures, PlacedImage
from .settings import PrintSettings, live_margin, page_boxes


def read_layout(document, chapter_ids: list[str], block_ids: dict[str, tuple[str, BlockPath]],
                block_seq: dict[str, int], s: PrintSettings):
    """The whole book: per chapter the block each printed page begins with (and its folio);
    the folios; where each chapter opens; what preflight measures; where each anchor is."""
    labels = folio_labels(document, chapter_ids)
    starts = {slug: [(path, labels[i]) for path, i in entries]
              for slug, entries in page_starts(document, block_ids, block_seq).items()}
    opening = {}
    for i, page in enumerate(document.pages):
        for cid in chapter_ids:
            if cid in page.anchors:
                opening[cid] = i
    return (starts, labels, opening, measure(document, s), anchor_pages(document),
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


def page_starts(document, block_ids: dict[str, tuple[str, BlockPath]], block_seq: dict[str, int]
                ) -> dict[str, list[tuple[BlockPath, int]]]:
    """Per chapter slug, (block path, page index) for every page: the block it begins with."""
    layout: dict[str, list[tuple[BlockPath, int]]] = {}
    last: dict[str, BlockPath] = {}
    current = None
    seen: set[str] = set()
    for i, page in enumerate(document.pages):
        # A box split over pages lists its anchor on each of them: only a first showing begins.
        begins = [(a, pos) for a, pos in page.anchors.items() if a in block_ids and a not in seen]
        seen.update(page.anchors)
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


def measure(document, s: PrintSettings) -> Measures:
    """Placed images (printed size), text outside the live area, text past the margins."""
    from weasyprint.formatting_structure import boxes

    live = live_margin(s)  # 0.25in inside the trim, or the service's own minimum
    images, outside, past = [], [], []
    for i, page in enumerate(document.pages):
        pb = page._page_box
        x0, y0, x1, y1 = page_boxes(s, i)["TrimBox"]
        if s.bleed_mode != "outside":
            x0, y0, x1, y1 = 0.0, 0.0, s.trim_w, s.trim_h
        else:  # the TrimBox is in PDF coordinates (y up); layout y runs down from the top
            y0, y1 = s.bleed, s.bleed + s.trim_h
        cx0 = pb.content_box_x() * PX
        cx1 = (pb.content_box_x() + pb.width) * PX
        stack = [(pb, False)]
        while stack:
            box, in_margin = stack.pop()
            if isinstance(box, boxes.MarginBox):
                in_margin = True
            if isinstance(box, boxes.TextBox) and box.text.strip():
                bx0, by0 = box.position_x * PX, box.position_y * PX
                bx1, by1 = bx0 + box.width * PX, by0 + box.height * PX
                if (bx0 < x0 + live - 0.5 or bx1 > x1 - live + 0.5 or
                        by0 < y0 + live - 0.5 or by1 > y1 - live + 0.5):
                    outside.append((i, box.text.strip()[:60]))
                elif not in_margin and (bx1 > cx1 + 1.0 or bx0 < cx0 - 1.0):
                    past.append((i, box.text.strip()[:60]))
            elif isinstance(box, boxes.ReplacedBox):
                el = getattr(box, "element", None)
                src = el.get("src") if el is not None else None
                if src:
                    images.append(PlacedImage(i, src, box.width * PX, box.height * PX,
                                              el.get("alt") or ""))
            for child in getattr(box, "children", ()) or ():
                stack.append((child, in_margin))
            fa = getattr(box, "footnote_area", None)
            if fa is not None:
                stack.append((fa, in_margin))
    return Measures(images, outside, past)


def roman(n: int) -> str:
    out = ""
    for v, r in ((1000, "m"), (900, "cm"), (500, "d"), (400, "cd"), (100, "c"), (90, "xc"),
                 (50, "l"), (40, "xl"), (10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i")):
        while n >= v:
            out += r
            n -= v
    return out

