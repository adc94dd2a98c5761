"""Preflight: what a printer would check in the PDF just built, as diagnostics on the book.

Warnings for real problems (a raster image below 300 ppi at its printed size in a print preset,
SVG being vector is never warned about; a font not embedded, a character drawn with a missing
glyph, text outside the live area 0.25in inside the trim, text past the margins, too few pages
for the preset; in a tagged PDF, no language, no title shown or a figure without alt text); info
for the summary (page count, fonts, spine width for the cover designer, the tags),
attributed to book.toml only when the book has one. Measures come from the print edition
(``layout.measure``) and the finished PDF itself (fonts, colour, via pypdf); nothing is printed.
"""

from __future__ import annotations

import io
import re
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING, Union

from ...document import Book, Diagnostics
from ...layout.edition import ImageFacts, PrintEdition
from ...layout import markup, polish
from . import objects
from .postprocess import padded_page_count
from ...layout.settings import (PrintSettings, live_margin, margins, parse_length,
                               text_width)

if TYPE_CHECKING:
    from pypdf import PdfReader, PdfWriter

    PdfDocument = Union[PdfReader, PdfWriter]

MIN_PPI = 300
# paper thickness per page (inches): KDP's published figures, the de-facto standard for POD
PAPER_THICKNESS = {"white": 0.002252, "cream": 0.0025, "color": 0.002347}
SPINE_TEXT_MIN = {"kdp": 80, "lulu": 80, "ingramspark": 48, "": 80}
_NOTDEF = re.compile(r'\.notdef glyph rendered for Unicode string unsupported by fonts: "(.*)" '
                     r"\(U\+([0-9A-Fa-f]+)\)")


def run(book: Book, edition: PrintEdition, pdf: bytes | PdfDocument, diags: Diagnostics,
        cfg_file: Path | None) -> None:
    """Check the finished pdf made from edition (its bytes, or the writer before it writes
    them); add diagnostics (about book.toml: cfg_file)."""
    settings: PrintSettings = edition.settings
    labels = edition.page_labels
    m = edition.measures
    n_laid = len(labels)
    n_pages = padded_page_count(settings.preset, n_laid)

    # images: effective resolution at printed size
    seen = set()
    for placed in m.images:
        page, src, w_pt, h_pt, alt = (placed.page, placed.src, placed.width, placed.height,
                                      placed.alt)
        facts = edition.images.get(src)
        if not facts or w_pt <= 0 or not facts.width:
            continue
        if _is_vector(facts):
            continue  # SVG (or PDF) stays vector in the PDF: sharp at any size
        # object-fit: contain draws the image at the tighter of the two scales
        ppi = facts.width / (w_pt / 72.0)
        if facts.height and h_pt > 0:
            ppi = max(ppi, facts.height / (h_pt / 72.0))
        shown_w, shown_h = facts.width * 72.0 / ppi, (facts.height or 0) * 72.0 / ppi
        if settings.for_print and ppi < MIN_PPI - 0.5 and (src, page) not in seen:
            seen.add((src, page))
            need = round(facts.width * MIN_PPI / ppi)
            sharp_in = facts.width / MIN_PPI  # widest it prints sharp
            share = sharp_in * 72.0 / text_width(settings)
            width_px = max(1, int(share * polish.BLOG_COLUMN_PX))
            diags.warn("pdf-image-resolution",
                       f"image {image_name(facts, alt)} prints at {ppi:.0f} ppi"
                       f" on {page_name(labels, page)}"
                       f" ({facts.width}x{facts.height} px over {shown_w / 72:.2f}x"
                       f"{shown_h / 72:.2f} in); print wants {MIN_PPI} ppi: give a {need} px"
                       f" wide image or set width=\"{width_px}\" ({sharp_in:.2f} in)",
                       *_use_on_page(book, edition, facts, page))

    # characters no font could draw
    missing = {}
    for msg in edition.warnings:
        if mt := _NOTDEF.search(msg):
            missing.setdefault(mt[2].upper(), mt[1])
    for cp, text in sorted(missing.items()):
        file, line = _locate(book, text)
        diags.warn("pdf-missing-glyph",
                   f"no installed font draws U+{cp} ({text!r}); it prints as an empty box:"
                   f" install a font that has it (e.g. a Noto family) and name it in [pdf] fonts,"
                   f" or replace the character",
                   file, line)

    # notes the layout could not keep on their call's page (one too long for any page foot)
    for call, note in edition.notes_apart:
        diags.warn("pdf-note-page", f"a note called on {page_name(labels, call)} prints on"
                   f" {page_name(labels, note)}: shorten the note, or split it in two",
                   cfg_file)

    # text outside the live area, and past the margins
    live = live_margin(settings)
    _report_text(book, diags, m.outside_live, labels, "pdf-live-area",
                 f"text outside the live area ({live / 72:g} in inside the trim)",
                 "break the long word or address with spaces, or shorten it")
    _report_text(book, diags, m.past_margin, labels, "pdf-overflow",
                 "text runs past the margin",
                 "break the long word, address or code line with spaces, or shorten it")

    # fonts
    fonts = pdf_fonts(pdf)
    not_embedded = sorted(name for name, info in fonts.items() if not info["embedded"])
    if not_embedded:
        diags.warn("pdf-font-embedding", f"fonts not embedded: {', '.join(not_embedded)}:"
                   " install them as font files (fontconfig) or take them out of [pdf] fonts",
                   cfg_file)
    subset = sorted(n for n, i in fonts.items() if i["subset"])
    full = sorted(n for n, i in fonts.items() if not i["subset"])
    diags.info("pdf-fonts", f"{len(fonts)} fonts, all embedded" if not not_embedded else
               f"{len(fonts)} fonts", cfg_file)
    if subset:
        diags.info("pdf-fonts", f"subset: {', '.join(subset)}", cfg_file)
    if full:
        diags.info("pdf-fonts", f"embedded in full: {', '.join(full)}", cfg_file)

    # colour and transparency, where the preset or variant rules them out
    if settings.color != "rgb" or settings.flatten:
        found = colour_report(pdf)
        if settings.color != "rgb" and (found["rgb_ops"] or found["rgb_images"]):
            diags.warn("pdf-color", f"RGB left in a {settings.color} PDF: {found['rgb_ops']}"
                       f" colour operators, {found['rgb_images']} images: convert the images to"
                       f" {settings.color} before adding them, or print with color = \"rgb\"",
                       cfg_file)
        if settings.flatten and (found["alpha_states"] or found["soft_masks"]):
            diags.warn("pdf-transparency", f"transparency in a PDF that must have none"
                       f" ({settings.preset or settings.variant}): {found['alpha_states']}"
                       f" graphics states with alpha, {found['soft_masks']} soft masks: flatten"
                       f" the images with transparency (save them without alpha)", cfg_file)
        diags.info("pdf-color", f"colour: {settings.color}; output intent:"
                   f" {found['output_intent'] or 'none'}", cfg_file)

    # tags: what a screen reader gets from the PDF
    if settings.tagged:
        tags = tag_report(pdf)
        if not tags["tagged"]:
            diags.warn("pdf-tags", "the PDF is not tagged (no structure tree): a screen reader"
                       " gets no headings, lists or image descriptions", cfg_file)
        else:
            if not tags["lang"]:
                diags.warn("pdf-tags", "the tagged PDF names no document language", cfg_file)
            if not tags["title"] or not tags["display_title"]:
                diags.warn("pdf-tags", "the tagged PDF does not show its title (a reader shows"
                           " the file name instead)", cfg_file)
            bare = len(tags["figures_without_alt"])
            if bare:
                diags.warn("pdf-tags", f"{bare} figure(s) in the tagged PDF have no alt text",
                           cfg_file)
            variant = f" ({settings.variant.upper()})" if settings.variant else ""
            diags.info("pdf-tags", f"tagged PDF{variant}: {tags['elements']} structure elements,"
                       f" {tags['headings']} headings, {tags['figures']} figures"
                       f" ({tags['figures'] - bare} with alt text), language"
                       f" {tags['lang'] or 'not set'}", cfg_file)

    # pages and spine
    _check_page_count(settings, n_laid, n_pages, diags, cfg_file)
    _check_margins(settings, n_pages, diags, cfg_file)
    from .cover import spine_width

    spine, why = spine_width(settings.preset, settings.paper, n_pages)
    if spine is None:
        diags.warn("pdf-paper", f"[pdf] paper '{settings.paper}' is unknown: set white, cream,"
                   f" color, or a thickness per page such as '0.0025in' to size the spine",
                   cfg_file)
    else:
        diags.info("pdf-spine", f"spine width {spine:.3f} in ({spine * 25.4:.1f} mm) ="
                   f" {why}", cfg_file)


# Most blank pages in a row a service accepts at the end of an interior (KDP's print book
# distribution requirements: 10; more can be taken for missing text and the book rejected).
MAX_END_BLANKS = {"kdp": 10}


def _use_on_page(book: Book, edition: PrintEdition, facts: ImageFacts,
                 page: int) -> tuple[Path | None, int | None]:
    """Where the image printed on page is used: in the chapter that page belongs to (one image
    used in several posts is named where it is seen), else its first use."""
    opened = [(p, cid) for cid, p in edition.chapter_pages.items() if p <= page]
    idx = markup.chapter_index(max(opened)[1]) if opened else None
    if idx is not None and 0 <= idx < len(book.chapters):
        source = Path(book.chapters[idx].source).resolve()
        for file, line in facts.uses:
            if Path(file).resolve() == source:
                return Path(file), line
    return (Path(facts.file) if facts.file else None), facts.line


def _check_page_count(settings: PrintSettings, n_laid: int, n_pages: int, diags: Diagnostics,
                      cfg_file: Path | None) -> None:
    """The page count, the blank pages added to reach the service's minimum, and a warning when
    there are more of them than the service accepts."""
    blanks = n_pages - n_laid
    padding = (f" ({n_laid} laid out + {blanks} blank at the end: {settings.preset}"
               f" prints paperbacks of at least {n_pages} pages)" if blanks else "")
    diags.info("pdf-pages", f"{n_pages} pages{padding}, trim {settings.trim_w / 72:g}x"
               f"{settings.trim_h / 72:g} in, bleed {settings.bleed / 72:g} in"
               f" ({settings.bleed_mode}), media {settings.media_w:g}x{settings.media_h:g} pt",
               cfg_file)
    most = MAX_END_BLANKS.get(settings.preset)
    if most is not None and blanks > most:
        diags.warn("pdf-page-count",
                   f"{blanks} blank pages end the book ({n_laid} pages laid out, {settings.preset}"
                   f" prints at least {n_pages}), but {settings.preset} accepts at most {most} blank"
                   f" pages in a row at the end: add at least {blanks - most} pages of content"
                   f" (or pages headed \"Notes\"), or the book may be rejected in review",
                   cfg_file)


def check_cover(pdf: bytes, settings: PrintSettings, n_pages: int, diags: Diagnostics,
                cfg_file: Path | None) -> None:
    """The cover PDF's size against the interior's page count (and what the wrap should be)."""
    from pypdf import PdfReader

    from .cover import wrap_for

    wrap = wrap_for(settings, n_pages)
    box = PdfReader(io.BytesIO(pdf)).pages[0].mediabox
    w, h = float(box.width), float(box.height)
    if wrap is None:
        return
    if abs(w - wrap.width) > 0.72 or abs(h - wrap.height) > 0.72:  # 0.01 in
        diags.warn(
            "pdf-cover-size", f"the cover is {w / 72:.3f}x{h / 72:.3f} in but an interior of"
            f" {n_pages} pages needs {wrap.width / 72:.3f}x{wrap.height / 72:.3f} in (spine"
            f" {wrap.spine / 72:.3f} in = {wrap.why}): build the cover again with the interior",
            cfg_file)
    if settings.flatten:  # what the service rules out in the interior, it rules out here
        found = colour_report(pdf)
        if found["alpha_states"] or found["soft_masks"] or found["rgb_ops"] or \
                found["rgb_images"]:
            diags.warn("pdf-cover-color", f"the cover holds RGB or transparency"
                       f" ({found['rgb_ops']} RGB colour operators, {found['rgb_images']} RGB"
                       f" images, {found['alpha_states']} alpha states, {found['soft_masks']}"
                       f" soft masks): give a cover image without transparency", cfg_file)
    text = "with spine text" if wrap.spine_text else (
        "no spine text (the service prints it from"
        f" {SPINE_TEXT_MIN.get(settings.preset, SPINE_TEXT_MIN[''])} pages on)")
    diags.info(
        "pdf-cover", f"cover {w / 72:.3f}x{h / 72:.3f} in = 2 x {settings.trim_w / 72:g} in trim"
        f" + {wrap.spine / 72:.3f} in spine + 2 x {wrap.bleed / 72:g} in bleed wide,"
        f" {settings.trim_h / 72:g} + 2 x {wrap.bleed / 72:g} in high; {text}", cfg_file)


VECTOR_TYPES = {"image/svg+xml", "application/pdf", "application/postscript"}


def _is_vector(facts: ImageFacts) -> bool:
    mt = (facts.media_type or "").lower()
    ref = (facts.ref or "").lower()
    return mt in VECTOR_TYPES or (not mt and (ref.startswith("data:image/svg")
                                              or ref.split("?")[0].endswith((".svg", ".svgz"))))


def image_name(facts: ImageFacts, alt: str = "") -> str:
    """An image as a message names it: its reference, but a data: URI only by type and size."""
    ref = facts.ref or ""
    if not ref.lower().startswith("data:"):
        return f"'{ref}'"
    mt = ref[5:].split(",", 1)[0].split(";", 1)[0] or "image"
    size = facts.bytes or 0
    name = f"data:{mt} ({size} bytes)" if size else f"data:{mt}"
    alt = " ".join(alt.split())
    if alt:
        name += f" '{alt[:60]}{'…' if len(alt) > 60 else ''}'"
    return name


def spine_thickness(paper: str) -> tuple[float | None, str]:
    """Inches per page for a [pdf] paper value: a name, or a length per page."""
    key = (paper or "white").strip().lower()
    if key in PAPER_THICKNESS:
        return PAPER_THICKNESS[key], key
    pt = parse_length(key)
    if pt:
        return pt / 72.0, f"{key}-per-page"
    return None, key


def page_name(labels: list[str], index: int) -> str:
    """A page as the reader and the PDF viewer both find it: 'page 10 (PDF page 14)'."""
    folio = labels[index] if 0 <= index < len(labels) else str(index + 1)
    return f"page {folio}" if folio == str(index + 1) else f"page {folio} (PDF page {index + 1})"


# KDP's minimum inside margin (gutter) by page count: (up to pages, inches)
KDP_GUTTER = ((150, 0.375), (300, 0.5), (500, 0.625), (700, 0.75), (10**9, 0.875))


def _check_margins(settings: PrintSettings, n_pages: int, diags: Diagnostics,
                   cfg_file: Path | None) -> None:
    """The margins against the service's published minimums for this page count."""
    top, bottom, inside, outside = margins(settings)
    need_in = 0.0
    if settings.preset == "kdp":
        need_in = next(m for pages, m in KDP_GUTTER if n_pages <= pages) * 72.0
    elif settings.preset in ("lulu", "ingramspark"):
        need_in = 36.0
    if inside + 0.01 < need_in:
        diags.warn("pdf-margins", f"inside margin {inside / 72:.3f} in: {settings.preset} needs"
                   f" at least {need_in / 72:g} in for {n_pages} pages: choose a larger [pdf]"
                   f" page-size (the margins grow with it) or split the book", cfg_file)
    need_out = live_margin(settings)
    if min(top, bottom, outside) + 0.01 < need_out:
        diags.warn("pdf-margins", f"margins {min(top, bottom, outside) / 72:.3f} in:"
                   f" {settings.preset} needs at least {need_out / 72:g} in: choose a larger"
                   f" [pdf] page-size", cfg_file)


def _report_text(book, diags, items, labels, code, what, remedy) -> None:
    by_page = defaultdict(list)
    for page, text in items:
        by_page[page].append(text)
    for page, texts in sorted(by_page.items())[:20]:
        file, line = _locate(book, texts[0])
        diags.warn(code, f"{what} on {page_name(labels, page)}: '{texts[0]}'"
                   + (f" and {len(texts) - 1} more" if len(texts) > 1 else "") + f": {remedy}",
                   file, line)
    if len(by_page) > 20:
        diags.warn(code, f"{what} on {len(by_page) - 20} more pages: {remedy}")


def _locate(book, text: str):
    """The chapter file (and line) whose source holds text, for the diagnostic's location."""
    needle = text.strip()[:30] or text[:30]
    for ch in book.chapters:
        if needle and needle in (ch.source_text or ""):
            return ch.source, ch.find_line(needle)
    return None, None


def colour_report(pdf: bytes | PdfDocument) -> dict:
    """RGB colour operators and images, alpha graphics states and soft masks, output intent."""
    from pypdf.generic import ContentStream

    reader = _document(pdf)
    out = {"rgb_ops": 0, "rgb_images": 0, "alpha_states": 0, "soft_masks": 0,
           "output_intent": ""}
    intents = reader.root_object.get("/OutputIntents")
    if intents:
        out["output_intent"] = str(intents[0].get_object().get("/OutputConditionIdentifier", ""))
    seen = set()

    def walk_resources(res):
        res = res.get_object() if res is not None else {}
        for gs in (res.get("/ExtGState") or {}).values():
            gs = gs.get_object()
            if float(gs.get("/ca", 1)) < 1 or float(gs.get("/CA", 1)) < 1 or \
                    str(gs.get("/SMask", "/None")) != "/None":
                out["alpha_states"] += 1
        for ref in (res.get("/XObject") or {}).values():
            x = ref.get_object()
            key = getattr(ref, "idnum", None) or id(x)
            if key in seen:
                continue
            seen.add(key)
            if x.get("/Subtype") == "/Image":
                out["rgb_images"] += str(x.get("/ColorSpace")) == "/DeviceRGB"
                out["soft_masks"] += "/SMask" in x
            elif x.get("/Subtype") == "/Form":
                walk_stream(x)
                walk_resources(x.get("/Resources"))

    def walk_stream(stream):
        try:
            ops = ContentStream(stream, reader).operations
        except Exception:
            return
        out["rgb_ops"] += sum(1 for _, op in ops if op in (b"rg", b"RG"))

    for page in reader.pages:
        contents = page.get("/Contents")
        if contents is not None:
            contents = contents.get_object()
            for c in (contents if isinstance(contents, list) else [contents]):
                walk_stream(c.get_object())
        walk_resources(page.get("/Resources"))
    return out


def tag_report(pdf: bytes | PdfDocument) -> dict:
    """What the PDF's tags give a screen reader: marked and structured, the document language,
    a title shown as the window title, and each Figure's alt text (read with pypdf)."""
    from pypdf.generic import ArrayObject, DictionaryObject

    reader = _document(pdf)
    root = reader.root_object
    mark = root.get("/MarkInfo")
    tree = root.get("/StructTreeRoot")
    prefs = root.get("/ViewerPreferences")
    out = {"tagged": bool(mark and mark.get_object().get("/Marked")) and tree is not None,
           "lang": str(root.get("/Lang") or ""),
           "title": (reader.metadata.title if reader.metadata else None) or "",
           "display_title": bool(prefs and prefs.get_object().get("/DisplayDocTitle")),
           "elements": 0, "headings": 0, "figures": 0, "figures_without_alt": []}
    if tree is None:
        return out
    seen: set[int] = set()
    stack = [tree.get_object().get("/K")]
    while stack:
        node = stack.pop()
        if node is None:
            continue
        ref = getattr(node, "idnum", None)
        node = node.get_object()
        if isinstance(node, ArrayObject):
            stack.extend(reversed(list(node)))
            continue
        if not isinstance(node, DictionaryObject) or "/S" not in node:
            continue  # marked-content and object references: the leaves
        if ref is not None:
            if ref in seen:
                continue
            seen.add(ref)
        out["elements"] += 1
        kind = str(node["/S"])
        if re.fullmatch(r"/H\d?", kind):
            out["headings"] += 1
        elif kind == "/Figure":
            out["figures"] += 1
            if not str(node.get("/Alt") or "").strip():
                out["figures_without_alt"].append(ref)
        stack.append(node.get("/K"))
    return out


def pdf_fonts(pdf: bytes | PdfDocument) -> dict[str, dict]:
    """Every font the PDF uses (on its pages and in the forms they draw):
    {name: {embedded, subset, type}}."""
    out: dict[str, dict] = {}
    for font in objects.fonts(_document(pdf).pages):
        base = str(font.get("/BaseFont", "?")).lstrip("/")
        if base in out:
            continue
        desc_font = font
        if "/DescendantFonts" in font:
            desc_font = font["/DescendantFonts"][0].get_object()
        desc = desc_font.get("/FontDescriptor")
        desc = desc.get_object() if desc is not None else {}
        embedded = any(k in desc for k in ("/FontFile", "/FontFile2", "/FontFile3"))
        if str(font.get("/Subtype")) == "/Type3":
            embedded = True  # drawn by the PDF itself
        out[base] = {"embedded": embedded,
                     "subset": bool(re.match(r"^[A-Z]{6}\+", base)),
                     "type": str(font.get("/Subtype", ""))}
    return out


def _document(pdf: bytes | PdfDocument) -> PdfDocument:
    """A PDF to read: the writer still in memory as it is, bytes parsed."""
    if isinstance(pdf, (bytes, bytearray)):
        from pypdf import PdfReader

        return PdfReader(io.BytesIO(pdf))
    return pdf
