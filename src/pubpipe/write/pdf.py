"""The PDF writer: the Book as one print HTML document, laid out by WeasyPrint.

``write_pdf(book, store) -> bytes`` is what the pipeline calls. It builds a title page, a contents
page (page numbers through ``target-counter`` with dotted leaders) and every chapter (via
``write.common.prepare_body(profile="print")``), styled by ``styles/print.css`` plus the shared
component styles plus a small generated stylesheet for the page geometry of ``[pdf]`` (trim size,
bleed, marks, preset). WeasyPrint may read nothing but the resolved asset files and ``data:`` URIs
(``_SandboxFetcher``). After rendering, the page boxes (TrimBox/BleedBox/MediaBox) are set exactly
with pypdf, and ``preflight.run`` reports on the result as diagnostics on ``book.diagnostics``.

Presets (``[pdf] preset``) set geometry and rules; see ``resolve_settings`` and the README.

Print page numbers for the EPUB (issue 6): ``print_layout(book, store)`` returns::

    {chapter_slug: [(path, label), ...], ...}

``path`` is a tuple of ints: the indexes, among *element* children only (comments and processing
instructions skipped), leading from ``chapter.body`` as the Book holds it to a block-level
element (``BLOCK_TAGS``); ``()`` is the body itself. ``label`` is the printed folio (``"7"``). One
entry per printed page of the chapter, in page order: the first block that begins on that page;
a page on which no block begins (one long paragraph or table running over it) is attributed to
the block it continues, so two entries can share a path. The page a chapter opens on has path
``()``. ``mark_blocks(chapter)`` and ``block_at(body, path)`` help to map paths onto a copy.
Layout and PDF come from the same render, cached, so calling both costs one layout.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import io
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lxml import etree
from lxml import html as lxml_html

from .. import resources
from ..config import PdfSection
from ..document import Book, Chapter
from ..util import remove_keep_tail, slugify, text_of
from .common import EPUB_NS, prepare_body

try:  # the QR renderer of the embeds stage; the PDF still builds without it
    from .qr import qr_element as _qr_element
except Exception:  # pragma: no cover - until write/qr.py lands
    _qr_element = None

PT_PER_IN = 72.0
BLOCK_TAGS = frozenset({
    "p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "dt", "dd", "blockquote", "figure", "figcaption",
    "pre", "table", "tr", "ul", "ol", "dl", "div", "section", "aside", "header", "footer", "hr",
    "details", "summary", "address", "nav", "article"})
# After the body font, the families that draw every other script the content may use. Emoji come
# from fontconfig's fallback (Noto Color Emoji): naming the emoji font here makes Pango draw digits
# and spaces with it, since they can start emoji sequences.
FALLBACK_FONTS = ('"Noto Serif CJK SC", "Noto Naskh Arabic", "Noto Serif Hebrew", "Noto Sans Symbols",'
                  ' "Noto Sans Symbols2", "Noto Sans Math", "DejaVu Serif", "DejaVu Sans"')
ASSET_URL = "https://pubpipe.invalid/asset/"  # never fetched from the network: served by the fetcher

# --------------------------------------------------------------------------------------------
# Settings: [pdf] plus preset, resolved once


@dataclass(frozen=True)
class PrintSettings:
    """Everything the writer and preflight need to know about the printed book, in points."""

    trim_w: float
    trim_h: float
    bleed: float = 0.0  # per bled side
    bleed_mode: str = "none"  # none | all | outside (KDP: outside edge, top and bottom)
    marks: bool = False
    bookmarks: bool = True
    links: bool = True
    link_color: bool = False  # coloured links (screen)
    full_fonts: bool = False
    color: str = "rgb"
    variant: str = ""
    preset: str = ""
    paper: str = "white"
    for_print: bool = True  # image resolution matters (every preset but screen)
    font_size: str = "10.5pt"
    fonts: tuple[str, ...] = ()
    rtl: bool = False  # a right-to-left book: page 1 is a left-hand page, versos on the right
    mark_room: float = 18.0  # room outside the bleed for crop marks

    @property
    def flatten(self) -> bool:
        """No transparency allowed: IngramSpark, and PDF/X-1a and X-3 forbid it."""
        return self.preset == "ingramspark" or self.variant in ("pdf/x-1a", "pdf/x-3")

    @property
    def media_w(self) -> float:
        return self.trim_w + {"none": 0, "all": 2, "outside": 1}[self.bleed_mode] * self.bleed \
            + (2 * self.mark_room if self.marks else 0)

    @property
    def media_h(self) -> float:
        return self.trim_h + (0 if self.bleed_mode == "none" else 2) * self.bleed \
            + (2 * self.mark_room if self.marks else 0)


_NAMED_SIZES = {  # CSS page-size keywords, in points (portrait)
    "a3": (841.89, 1190.55), "a4": (595.28, 841.89), "a5": (419.53, 595.28),
    "a6": (297.64, 419.53), "b4": (708.66, 1000.63), "b5": (498.9, 708.66),
    "jis-b4": (728.5, 1031.81), "jis-b5": (515.91, 728.5), "letter": (612.0, 792.0),
    "legal": (612.0, 1008.0), "ledger": (792.0, 1224.0),
}
_UNITS = {"pt": 1.0, "in": 72.0, "mm": 72 / 25.4, "cm": 72 / 2.54, "px": 0.75, "pc": 12.0,
          "q": 72 / 101.6}
_LENGTH = re.compile(r"^\s*(\d+(?:\.\d+)?|\.\d+)\s*(pt|in|mm|cm|px|pc|q)\s*$", re.I)


def parse_length(text: str) -> float | None:
    """A CSS absolute length as points, or None."""
    m = _LENGTH.match(text or "")
    return float(m[1]) * _UNITS[m[2].lower()] if m else None


def parse_page_size(text: str) -> tuple[float, float] | None:
    """'6in 9in', '6in x 9in', 'A5', 'letter', 'A4 landscape' -> (width, height) in points."""
    words = (text or "").lower().replace(" x ", " ").replace("×", " ").split()
    landscape = "landscape" in words
    words = [w for w in words if w not in ("portrait", "landscape")]
    size = None
    if len(words) == 1 and words[0] in _NAMED_SIZES:
        size = _NAMED_SIZES[words[0]]
    elif len(words) == 2:
        w, h = parse_length(words[0]), parse_length(words[1])
        if w and h:
            size = (w, h)
    elif len(words) == 1 and (v := parse_length(words[0])):
        size = (v, v)
    if size and landscape:
        size = (max(size), min(size))
    return size


PRESETS = ("kdp", "lulu", "ingramspark", "proof", "screen")


RTL_LANGUAGES = {"ar", "he", "iw", "fa", "ur", "yi", "ps", "sd", "ug", "dv", "ckb", "syr"}


def resolve_settings(pdf: PdfSection | None, diagnostics=None, where: Path | None = None,
                     language: str = "") -> PrintSettings:
    """[pdf] keys plus the preset's rules. Bad values fall back to defaults with a warning."""
    pdf = pdf or PdfSection()

    def warn(code, msg):
        if diagnostics is not None:
            diagnostics.warn(code, msg, where)

    def info(code, msg):
        if diagnostics is not None:
            diagnostics.info(code, msg, where)

    size = parse_page_size(pdf.page_size)
    if size is None:
        warn("pdf-page-size", f"[pdf] page-size '{pdf.page_size}' is not a size; using 6in 9in")
        size = (432.0, 648.0)
    bleed = 0.0
    if pdf.bleed:
        b = parse_length(pdf.bleed)
        if b is None or b > 72:
            warn("pdf-bleed", f"[pdf] bleed '{pdf.bleed}' is not a length up to 1in; no bleed")
        else:
            bleed = b
    preset = pdf.preset
    s: dict[str, Any] = dict(
        trim_w=size[0], trim_h=size[1], bleed=bleed, bleed_mode="all" if bleed else "none",
        marks=bool(pdf.crop_marks), color=pdf.color, variant=pdf.variant.lower(), preset=preset,
        paper=pdf.paper, font_size=pdf.font_size or "10.5pt", fonts=tuple(pdf.fonts),
        rtl=(language or "").lower().split("-")[0] in RTL_LANGUAGES)
    if preset == "kdp":
        if pdf.crop_marks:
            warn("pdf-preset", "preset kdp forbids crop marks (KDP rejects files with them):"
                 " crop-marks = true ignored, no marks printed")
        s.update(bleed_mode="outside" if bleed else "none", marks=False, bookmarks=False,
                 links=False, full_fonts=True)
    elif preset == "lulu":
        if pdf.crop_marks:
            warn("pdf-preset", "preset lulu forbids crop marks (Lulu rejects files with them):"
                 " crop-marks = true ignored, no marks printed")
        s.update(bleed=bleed or 9.0, bleed_mode="all", marks=False)
    elif preset == "ingramspark":
        s.update(color=pdf.color if pdf.color in ("grayscale", "cmyk") else "grayscale",
                 variant=s["variant"] or "pdf/x-1a", marks=False)
    elif preset == "proof":
        s.update(bleed=bleed or 9.0, bleed_mode="all", marks=True)
    elif preset == "screen":
        s.update(bleed=0.0, bleed_mode="none", marks=False, link_color=True, for_print=False)
    if pdf.fonts and diagnostics is not None:
        known = installed_families()
        for fam in pdf.fonts:
            if known and fam.lower() not in known:
                warn("pdf-font", f"[pdf] fonts: '{fam}' is not an installed font family;"
                     f" the next one (or Noto Serif) is used")
    if s["variant"] in ("pdf/x-1a", "pdf/x-3") and s["color"] == "rgb":
        info("pdf-color", f"[pdf] variant {s['variant']} allows no RGB: printing in CMYK")
        s["color"] = "cmyk"
    if s["variant"]:
        from weasyprint.pdf import VARIANTS
        if s["variant"] not in VARIANTS:
            warn("pdf-variant", f"[pdf] variant '{pdf.variant}' is unknown (known: "
                 f"{', '.join(sorted(VARIANTS))}); writing a plain PDF")
            s["variant"] = ""
    return PrintSettings(**s)


def installed_families() -> set[str]:
    """Font families fontconfig knows (lowercase); empty when fc-list is not there."""
    import shutil
    import subprocess

    if not shutil.which("fc-list"):
        return set()
    try:
        out = subprocess.run(["fc-list", ":", "family"], capture_output=True, text=True,
                             timeout=20).stdout
    except (OSError, subprocess.SubprocessError):
        return set()
    return {name.strip().lower() for line in out.splitlines() for name in line.split(",")}


# --------------------------------------------------------------------------------------------
# Print HTML


def _epub_type(el) -> str:
    return el.get("epub:type") or el.get(f"{{{EPUB_NS}}}type") or ""


def mark_blocks(chapter: Chapter) -> Chapter:
    """A copy of chapter whose block elements carry ``data-pp-block="i.j.k"`` (their path)."""
    body = copy.deepcopy(chapter.body)

    def walk(el, path):
        kids = [c for c in el if isinstance(c.tag, str)]
        for i, c in enumerate(kids):
            p = (*path, i)
            if c.tag in BLOCK_TAGS:
                c.set("data-pp-block", ".".join(map(str, p)))
            walk(c, p)

    walk(body, ())
    return dataclasses.replace(chapter, body=body)


def block_at(body: etree._Element, path: tuple[int, ...]) -> etree._Element | None:
    """The element at path (see the module docstring) under body, or None."""
    el = body
    for i in path:
        kids = [c for c in el if isinstance(c.tag, str)]
        if i >= len(kids):
            return None
        el = kids[i]
    return el


@dataclass
class PrintDocument:
    html: str
    resources: dict[str, tuple[Path, str]]  # URL -> (file, media type) the fetcher may serve
    chapter_ids: list[str]  # section id per chapter, in order
    block_ids: dict[str, tuple[str, tuple[int, ...]]] = field(default_factory=dict)
    block_seq: dict[str, int] = field(default_factory=dict)  # anchor -> document order
    images: dict[str, dict] = field(default_factory=dict)  # URL -> asset facts for preflight
    # per source entry, the anchors its page back-links point to (see _print_fixes)
    pageref_groups: list[list[str]] = field(default_factory=list)


def _file_size(path) -> int:
    try:
        return Path(path).stat().st_size
    except (OSError, TypeError):
        return 0


def _chapter_id(i: int, ch: Chapter) -> str:
    return f"ch-{slugify(ch.slug or ch.title) or i}-{i}"


def build_print_html(book: Book, settings: PrintSettings,
                     anchor_pages: dict[str, int] | None = None) -> PrintDocument:
    """The whole book as one HTML document for WeasyPrint.

    With anchor_pages (from a first layout), a source's back-links that lead to a page already
    linked from the same entry are left out: "p. 7" once, not "p. 7 p. 7".
    """
    meta = book.meta
    lang = meta.language or "en"
    res: dict[str, tuple[Path, str]] = {}
    images: dict[str, dict] = {}

    def asset_src(asset, variant):
        url = f"{ASSET_URL}{asset.id}.{variant.extension}"
        res[url] = (Path(variant.path), variant.media_type)
        images[url] = {"id": asset.id, "ref": asset.ref, "width": variant.width,
                       "height": variant.height, "media_type": variant.media_type,
                       "bytes": _file_size(variant.path),
                       "file": asset.locations[0].file if asset.locations else None,
                       "line": asset.locations[0].line if asset.locations else None}
        return url

    E = etree.Element
    root = E("html", lang=lang)
    if settings.rtl:
        root.set("dir", "rtl")
    head = etree.SubElement(root, "head")
    etree.SubElement(head, "meta", charset="utf-8")
    etree.SubElement(head, "title").text = meta.title or "Untitled"
    if meta.authors:
        etree.SubElement(head, "meta", name="author", content=", ".join(meta.authors))
    subject = meta.description or meta.subtitle
    if subject:
        etree.SubElement(head, "meta", name="description", content=subject)
    if meta.keywords:
        etree.SubElement(head, "meta", name="keywords", content=", ".join(meta.keywords))
    etree.SubElement(head, "meta", name="generator", content="pubpipe")
    if meta.date:
        etree.SubElement(head, "meta", name="dcterms.created", content=meta.date)
    body = etree.SubElement(root, "body")
    # The writer's own styling hooks are data-ppw attributes: the sanitizer lets no author
    # markup carry data-* attributes, so no post can restyle the book by borrowing a class.
    body.set("class", " ".join(c for c in (
        "pp-book", f"pp-preset-{settings.preset}" if settings.preset else "") if c))
    if settings.link_color:
        body.set("data-ppw-links", "")

    # Title page
    tp = etree.SubElement(body, "section", {"class": "pp-titlepage", "data-ppw": "titlepage"})
    h = etree.SubElement(tp, "h1", {"class": "pp-book-title", "data-ppw": "book-title"})
    h.text = meta.title or "Untitled"
    # running heads are one line of 8.5pt italic across the text block (3/4 of the trim width)
    head_chars = max(24, int(settings.trim_w * 0.75 / 4.6))
    h.set("data-pp-running", _shorten(h.text, head_chars))
    if meta.subtitle:
        etree.SubElement(tp, "p", {"data-ppw": "book-subtitle"}).text = meta.subtitle
    if meta.authors:
        etree.SubElement(tp, "p", {"data-ppw": "book-authors"}).text = ", ".join(meta.authors)
    if meta.date:
        etree.SubElement(tp, "p", {"data-ppw": "book-date"}).text = _long_date(meta.date, lang)
    if meta.publisher:
        etree.SubElement(tp, "p", {"data-ppw": "book-publisher"}).text = meta.publisher

    # Verso of the title page: rights, publisher, date, identifier
    cp = etree.SubElement(body, "section", {"class": "pp-copyright", "data-ppw": "copyright"})
    for text in (f"Copyright \u00a9 {meta.rights}" if meta.rights and "\u00a9" not in meta.rights
                 and not meta.rights.lower().startswith(("copyright", "cc", "public")) else
                 meta.rights, meta.publisher,
                 meta.date and (f"Published {_long_date(meta.date, lang)}"
                                if lang.lower().startswith("en") else meta.date),
                 meta.identifier):
        if text:
            etree.SubElement(cp, "p").text = text
    if not len(cp):
        etree.SubElement(cp, "p").text = "\u00a0"  # keeps the verso blank but present

    chapter_ids = [_chapter_id(i, ch) for i, ch in enumerate(book.chapters, 1)]
    # Contents
    toc = etree.SubElement(body, "nav", {"class": "pp-contents", "data-ppw": "contents"})
    th = etree.SubElement(toc, "h2", {"data-ppw": "contents-title"})
    th.text = CONTENTS_LABEL.get(lang.lower().split("-")[0], "Contents")
    ol = etree.SubElement(toc, "ol")
    for cid, ch in zip(chapter_ids, book.chapters):
        li = etree.SubElement(ol, "li")
        a = etree.SubElement(li, "a", href=f"#{cid}")
        etree.SubElement(a, "span", {"class": "pp-toc-text"}).text = _chapter_title(ch)
        if ch.authors and list(ch.authors) != list(meta.authors):  # an anthology: who wrote it
            etree.SubElement(li, "span", {"data-ppw": "toc-author"}).text = ", ".join(ch.authors)

    matter = etree.SubElement(body, "div", {"class": "pp-bodymatter", "data-ppw": "bodymatter"})
    doc = PrintDocument(html="", resources=res, chapter_ids=chapter_ids, images=images)
    slugs = {ch.slug: cid for cid, ch in zip(chapter_ids, book.chapters) if ch.slug}
    for n, (cid, ch) in enumerate(zip(chapter_ids, book.chapters)):
        marked = mark_blocks(ch)
        cbody = prepare_body(marked, book, profile="print", asset_src=asset_src, qr=_qr_element)
        sec = etree.SubElement(matter, "section", {
            "class": "pp-chapter", "id": cid, "data-ppw": "chapter"})
        if n == 0:
            sec.set("data-ppw-first", "")
        sec.set("data-pp-slug", ch.slug or cid)
        if ch.lang and ch.lang != lang:
            sec.set("lang", ch.lang)
            rtl = ch.lang.lower().split("-")[0] in RTL_LANGUAGES
            if rtl != settings.rtl:
                sec.set("dir", "rtl" if rtl else "ltr")
        _chapter_opening(sec, cbody, ch, head_chars)
        _namespace_ids(cbody, cid, slugs)
        _footnotes(cbody)
        doc.pageref_groups.extend(_print_fixes(cbody, settings, anchor_pages))
        # block ids: one anchor per block so the layout tells where each page begins
        doc.block_ids[cid] = (ch.slug or cid, ())
        doc.block_seq[cid] = len(doc.block_seq)  # before its blocks: it wins ties on a page
        k = 0
        for el in cbody.iter():
            if not isinstance(el.tag, str):
                continue
            p = el.attrib.pop("data-pp-block", None)
            if p is None:
                continue
            path = tuple(int(x) for x in p.split(".")) if p else ()
            if not el.get("id"):
                el.set("id", f"ppb-{n}-{k}")
                k += 1
            doc.block_ids[el.get("id")] = (ch.slug or cid, path)
            doc.block_seq[el.get("id")] = len(doc.block_seq)
        for child in list(cbody):
            sec.append(child)
        if cbody.text and cbody.text.strip():
            # stray text directly in the body root: keep it
            span = etree.Element("p")
            span.text = cbody.text
            sec.insert(1, span)
    for el in root.iter():
        # namespaced attributes (epub:type) mean nothing to the HTML parser: leave them out
        if isinstance(el.tag, str):
            for name in [n for n in el.attrib if n.startswith("{") or ":" in n]:
                del el.attrib[name]
    etree.cleanup_namespaces(root)
    doc.html = "<!DOCTYPE html>\n" + lxml_html.tostring(root, encoding="unicode", method="html")
    return doc


CONTENTS_LABEL = {
    "en": "Contents", "de": "Inhalt", "fr": "Table des matières", "es": "Índice", "it": "Indice",
    "pt": "Sumário", "nl": "Inhoud", "sv": "Innehåll", "da": "Indhold", "nb": "Innhold",
    "no": "Innhold", "fi": "Sisällys", "pl": "Spis treści", "cs": "Obsah", "ru": "Содержание",
    "uk": "Зміст", "el": "Περιεχόμενα", "tr": "İçindekiler", "ar": "المحتويات",
    "he": "תוכן העניינים", "fa": "فهرست", "zh": "目录", "ja": "目次", "ko": "목차",
}

_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")


def _long_date(iso: str, lang: str) -> str:
    """'2019-01-20' -> 'January 20, 2019' in English books; other languages keep ISO dates."""
    m = re.match(r"^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?$", iso or "")
    if not m or not lang.lower().startswith("en") or not m[2] or not 1 <= int(m[2]) <= 12:
        return iso
    month = _MONTHS[int(m[2]) - 1]
    return f"{month} {int(m[3])}, {m[1]}" if m[3] else f"{month} {m[1]}"


def _chapter_title(ch: Chapter) -> str:
    if ch.title:
        return ch.title
    h = ch.body.find(".//h1")
    return text_of(h) if h is not None else (ch.slug or "Untitled")


def _shorten(text: str, limit: int) -> str:
    """text cut at a word to at most limit characters (with an ellipsis) for a running head."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit - 1].rsplit(" ", 1)[0].rstrip(" ,;:.-\u2013\u2014")
    return cut + "\u2026"


def _chapter_opening(sec, cbody, ch: Chapter, limit: int = 60) -> None:
    """The chapter's opening header: the reader's one if there, else made from the metadata."""
    title = _chapter_title(ch)
    header = None
    for el in cbody:
        if isinstance(el.tag, str):
            if el.tag == "header" and "chapter-opening" in (el.get("class") or ""):
                header = el
            break
    if header is None:
        header = etree.Element("header", {"class": "chapter-opening"})
        etree.SubElement(header, "h1").text = title
        if ch.subtitle:
            etree.SubElement(header, "p", {"class": "subtitle"}).text = ch.subtitle
        if ch.authors:
            etree.SubElement(header, "p", {"class": "byline"}).text = ", ".join(ch.authors)
        cbody.insert(0, header)
    header.set("data-ppw", "opening")
    h1 = header.find("h1")
    if h1 is not None:
        h1.set("data-ppw", "chapter-title")
        h1.set("data-pp-running", _shorten(title, limit))
        h1.set("data-pp-title", title)  # string-set reads the plain title (no markup, no notes)


def _namespace_ids(cbody, cid: str, slugs: dict[str, str]) -> None:
    """Chapters share one HTML document here: make their ids unique and links follow."""
    prefix = f"{cid}--"
    for el in cbody.iter():
        if not isinstance(el.tag, str):
            continue
        if el.get("id"):
            el.set("id", prefix + el.get("id"))
        if el.tag == "a" and (href := el.get("href")):
            if href.startswith("#") and len(href) > 1:
                el.set("href", f"#{prefix}{href[1:]}")
            else:
                m = re.match(r"^([^/#:?]+?)(?:\.x?html?)?(?:#(.*))?$", href)
                if m and m[1] in slugs:
                    target = slugs[m[1]]
                    el.set("href", f"#{target}--{m[2]}" if m[2] else f"#{target}")


_BLOCKISH = BLOCK_TAGS | {"img"}


def _footnotes(cbody) -> None:
    """EPUB notes (noteref + aside footnote) become WeasyPrint footnotes at the foot of the page.

    The note's content moves to where it is called, inside a span with ``float: footnote``; its
    blocks become spans (display: block) because the HTML parser would not keep a <p> inside a <p>.
    """
    notes = {}
    for aside in list(cbody.iter("aside", "div", "li", "section")):
        t = _epub_type(aside)
        if any(x in t.split() for x in ("footnote", "endnote", "rearnote", "note")) \
                and aside.get("id"):
            notes[aside.get("id")] = aside
    if not notes:
        return
    used = set()
    for a in list(cbody.iter("a")):
        if "noteref" not in _epub_type(a).split():
            continue
        target = (a.get("href") or "")[1:]
        note = notes.get(target)
        if note is None or target in used:
            continue
        used.add(target)
        fn = etree.Element("span", {"data-ppw": "footnote", "id": target})
        inner = copy.deepcopy(note)
        # back links make no sense on paper
        for back in list(inner.iter("a")):
            t = _epub_type(back)
            cls = back.get("class") or ""
            if "backlink" in t or "footnote-back" in cls or "backref" in cls or \
                    "pp-note-label" in cls or back.get(
                    "role") == "doc-backlink":
                remove_keep_tail(back)
        for label in [e for e in inner.iter("span") if "pp-note-label" in (e.get("class") or "")]:
            remove_keep_tail(label)
        # leading white space would put the footnote marker on a line of its own
        fn.text = (inner.text or "").lstrip() or None
        for child in inner:
            fn.append(child)
        first = fn[0] if len(fn) and not fn.text else None
        while first is not None and isinstance(first.tag, str) and not first.text:
            first = first[0] if len(first) else None
        if first is not None and first.text:
            first.text = first.text.lstrip()
        for el in fn.iter():
            if el is not fn and isinstance(el.tag, str) and el.tag in _BLOCKISH - {"img"}:
                el.set("data-ppw-fn", el.tag)
                el.tag = "span"
            if el is not fn and isinstance(el.tag, str):
                el.attrib.pop("id", None)
                el.attrib.pop("data-pp-block", None)
        # the call: the generated ::footnote-call replaces the author's number
        parent = a.getparent()
        if parent is not None and parent.tag == "sup" and len(parent) == 1 \
                and not (parent.text or "").strip():
            a = parent  # <sup><a>1</a></sup>: replace the sup
        fn.tail = a.tail
        a.addprevious(fn)
        a.getparent().remove(a)
    for nid, note in notes.items():
        if nid in used:
            parent = note.getparent()
            remove_keep_tail(note)
            # an emptied notes container (section/div/ol) goes too
            while parent is not None and parent.getparent() is not None and \
                    not [c for c in parent if isinstance(c.tag, str)] and \
                    not "".join(parent.itertext()).strip() and parent.tag in BLOCK_TAGS:
                gp = parent.getparent()
                remove_keep_tail(parent)
                parent = gp



# Table type sizes (print.css table[data-ppw-size]): em of the body size, cell padding (pt) per side
TABLE_SIZES = (("", 0.88, 5.0), ("s1", 0.8, 3.5), ("s2", 0.72, 2.5), ("s3", 0.65, 2.0))
# average advance of a character of the longest words, in em (Noto Serif; bold headers wider)
_CHAR_EM, _HEAD_CHAR_EM = 0.56, 0.62
LONG_TOKEN = 18  # characters: longer words (identifiers, hashes) may break anywhere in a cell
SHORT_TABLE_ROWS = 8  # a table of at most this many rows is never split over pages
_TOKEN = re.compile(r"\S+")


def _cells(table) -> list[list]:
    """The rows of table (own rows only, not those of nested tables) as lists of cells."""
    rows = []
    for tr in table.iter("tr"):
        if next((a for a in tr.iterancestors("table")), None) is table:
            rows.append([c for c in tr if isinstance(c.tag, str) and c.tag in ("td", "th")])
    return rows


def _classify_table(table, text_width: float, font_pt: float) -> None:
    """Smaller type and padding for tables whose words would not fit whole at the body size.

    A column can be no narrower than its longest word (cells never break words, print.css), so
    the table's narrowest width is about the sum over columns of the longest word plus padding.
    The first size at which that fits the text block is chosen; where none does, the table is
    marked "tight" and its words may break anywhere, so it never runs past the margin.
    """
    rows = _cells(table)
    cols = max((sum(int(c.get("colspan") or 1) if (c.get("colspan") or "1").isdigit() else 1
                    for c in r) for r in rows), default=0)
    widest: dict[int, float] = {}
    for r in rows:
        col = 0
        for c in r:
            words = [w for w in _TOKEN.findall(text_of(c)) if len(w) <= LONG_TOKEN]
            longest = max((len(w) for w in words), default=1)
            em = longest * (_HEAD_CHAR_EM if c.tag == "th" else _CHAR_EM)
            span = int(c.get("colspan")) if (c.get("colspan") or "").isdigit() else 1
            if span == 1:
                widest[col] = max(widest.get(col, 0.0), em)
            col += max(span, 1)
    body_rows = len([r for r in rows if r and not all(c.tag == "th" for c in r)])
    chosen = None
    for name, scale, pad in TABLE_SIZES:
        need = sum(widest.values()) * font_pt * scale + cols * 2 * pad + 2
        if need <= text_width:
            chosen = name
            break
    if chosen is None:
        chosen = "tight"
    elif chosen == "" and cols >= 5:
        chosen = "s1"  # many columns read better a size down even when they would fit
    if chosen:
        table.set("data-ppw-size", chosen)
    table.set("data-ppw-cols", str(cols))
    if body_rows <= SHORT_TABLE_ROWS:
        table.set("data-ppw-short", "")
    # long tokens (hashes, identifiers, paths) are the only words a cell may break
    for c in (c for r in rows for c in r):
        _mark_long_tokens(c)


def _mark_long_tokens(cell) -> None:
    for el in [cell, *[e for e in cell.iterdescendants() if isinstance(e.tag, str)]]:
        if el.tag in ("a", "pre", "code") or el.get("data-ppw") in ("url", "long"):
            continue
        _spans_for_matches(el, _TOKEN, "long", lambda t: len(t) > LONG_TOKEN,
                           keep=lambda m: len(m.group(0)) > LONG_TOKEN)


_LIST_TYPES = {"1": "decimal", "a": "lower-alpha", "A": "upper-alpha", "i": "lower-roman",
               "I": "upper-roman"}


def _add_style(el, decl: str) -> None:
    old = (el.get("style") or "").strip().rstrip(";")
    el.set("style", f"{old}; {decl}" if old else decl)


def _int_attr(el, name: str) -> int | None:
    try:
        return int((el.get(name) or "").strip())
    except ValueError:
        return None


def _list_numbering(ol) -> None:
    """<ol type start reversed> and <li value> as CSS: WeasyPrint ignores these attributes.

    WeasyPrint applies counter-set before the li's own increment of list-item, hence the -1.
    """
    kind = _LIST_TYPES.get((ol.get("type") or "").strip())
    if kind:
        _add_style(ol, f"list-style-type: {kind}")
    items = [li for li in ol if isinstance(li.tag, str) and li.tag == "li"]
    reverse = ol.get("reversed") is not None
    step = -1 if reverse else 1
    start = _int_attr(ol, "start")
    if reverse:
        first = start if start is not None else len(items)
        _add_style(ol, f"counter-reset: list-item {first + 1}")
    elif start is not None and start != 1:
        _add_style(ol, f"counter-reset: list-item {start - 1}")
    for li in items:
        if reverse:
            _add_style(li, "counter-increment: list-item -1")
        value = _int_attr(li, "value")
        if value is not None:
            _add_style(li, f"counter-set: list-item {value - step}")
        li_kind = _LIST_TYPES.get((li.get("type") or "").strip())
        if li_kind:
            _add_style(li, f"list-style-type: {li_kind}")


def text_width(s: PrintSettings) -> float:
    """Width of the text block in points (see geometry_css for the margins)."""
    inside, outside = _side_margins(s)
    return s.trim_w - inside - outside


def _side_margins(s: PrintSettings) -> tuple[float, float]:
    return round(max(s.trim_w * 0.1458, 45.0), 2), round(max(s.trim_w * 0.1042, 32.0), 2)


def _print_fixes(cbody, settings: PrintSettings | None = None,
                 anchor_pages: dict[str, int] | None = None) -> list[list[str]]:
    """Small markup adjustments for paper. Returns the page back-link targets per parent."""
    settings = settings or PrintSettings(trim_w=432.0, trim_h=648.0)
    font_pt = parse_length(settings.font_size) or 10.5
    _wrap_bare_urls(cbody)
    for el in list(cbody.iter("table")):
        _classify_table(el, text_width(settings), font_pt)
    for ol in cbody.iter("ol"):
        _list_numbering(ol)
    for el in cbody.iter():
        # line and paragraph separators: no font draws them; they are white space in HTML terms
        if isinstance(el.tag, str):
            for attr in ("text", "tail"):
                v = getattr(el, attr)
                if v and ("\u2028" in v or "\u2029" in v):
                    setattr(el, attr, v.replace("\u2028", " ").replace("\u2029", " "))
    for img in cbody.iter("img"):
        # block images of some size print at column width (what a reader expects of a figure)
        try:
            w = int(img.get("width") or 0)
        except ValueError:
            w = 0
        parent = img.getparent()
        alone = parent is not None and (parent.tag in ("figure", "a", "div") or (
            parent.tag == "p" and not text_of(parent) and len(parent) == 1))
        if alone and w >= 240:
            img.set("data-ppw", "full")
    groups: dict = {}  # parent element -> [(target anchor, page or None)]
    for a in list(cbody.iter("a")):
        if a.get("role") == "doc-backlink" and (a.get("href") or "").startswith("#"):
            # "back to the citation" becomes the page it is on (print.css draws the number)
            target = a.get("href")[1:]
            page = anchor_pages.get(target) if anchor_pages is not None else None
            group = groups.setdefault(a.getparent(), [])
            if page is not None and any(p == page for _, p in group):
                remove_keep_tail(a)  # that page is already listed for this entry
                continue
            group.append((target, page))
            for child in list(a):
                a.remove(child)
            a.text = None
            a.set("data-ppw", "pageref")
            continue
        href = a.get("href") or ""
        if href.startswith(("http://", "https://")) and text_of(a) != href and \
                "pp-no-url" not in (a.get("class") or ""):
            a.set("data-pp-href", href)
    return [[t for t, _ in g] for g in groups.values() if len(g) > 1]


_URL = re.compile(r"https?://[^\s<>\"]+[^\s<>\".,;:!?)\]]")
_NO_URL_WRAP = {"a", "pre", "code", "kbd", "samp", "script", "style", "svg", "math"}


def _wrap_bare_urls(root) -> None:
    """URLs written as plain text go in <span class="pp-url">: never hyphenated, broken anywhere."""
    for el in list(root.iter()):
        if not isinstance(el.tag, str) or el.tag in _NO_URL_WRAP or any(
                a.tag in _NO_URL_WRAP for a in el.iterancestors()):
            continue
        _spans_for_matches(el, _URL, "url", lambda t: "://" in t)


def _spans_for_matches(el, pattern, marker: str, worth, keep=lambda m: True) -> None:
    """Put each match of pattern (that keep accepts) in el's own text and in its children's
    tails into a <span data-ppw=marker>; worth(text) is a cheap test that a text may hold one."""

    def split(text):
        parts, pos = [], 0
        for m in pattern.finditer(text):
            if keep(m):
                parts += [text[pos:m.start()], m.group(0)]
                pos = m.end()
        parts.append(text[pos:])
        return parts

    if el.text and worth(el.text):
        parts = split(el.text)
        if len(parts) > 1:
            el.text = parts[0]
            for k in range(1, len(parts), 2):
                span = etree.Element("span", {"data-ppw": marker})
                span.text, span.tail = parts[k], parts[k + 1]
                el.insert((k - 1) // 2, span)
    for child in list(el):
        # spans made just above hold their text's last pieces already
        if isinstance(child.tag, str) and child.tail and worth(child.tail) and \
                child.get("data-ppw") != marker:
            parts = split(child.tail)
            if len(parts) > 1:
                child.tail = parts[0]
                anchor = child
                for k in range(1, len(parts), 2):
                    span = etree.Element("span", {"data-ppw": marker})
                    span.text, span.tail = parts[k], parts[k + 1]
                    anchor.addnext(span)
                    anchor = span


# --------------------------------------------------------------------------------------------
# Geometry stylesheet


def geometry_css(s: PrintSettings) -> str:
    """The @page rules that follow from [pdf]: size, margins, bleed and marks."""
    w, h = s.trim_w, s.trim_h
    # margins scale with the trim (6x9: 0.75in top, 0.875in inside, 0.625in outside), with floors
    # that keep running heads and folios inside the live area (0.25in) on small trims
    top, bottom = round(max(h * 0.0833, 50.0), 2), round(max(h * 0.0972, 54.0), 2)
    inside, outside = _side_margins(s)
    lines = []
    if s.bleed_mode == "outside":  # KDP: page = trim + bleed on the outside edge, top, bottom
        b = s.bleed
        lines.append(f"@page {{ size: {w + b}pt {h + 2 * b}pt; margin-top: {top + b}pt;"
                     f" margin-bottom: {bottom + b}pt; }}")
        lines.append(f"@page :right {{ margin-left: {inside}pt; margin-right: {outside + b}pt; }}")
        lines.append(f"@page :left {{ margin-left: {outside + b}pt; margin-right: {inside}pt; }}")
    else:
        css_bleed = s.bleed + (s.mark_room if s.marks else 0)
        extra = f" bleed: {css_bleed}pt;" if css_bleed else ""
        extra += " marks: crop;" if s.marks else ""
        lines.append(f"@page {{ size: {w}pt {h}pt; margin-top: {top}pt;"
                     f" margin-bottom: {bottom}pt;{extra} }}")
        lines.append(f"@page :right {{ margin-left: {inside}pt; margin-right: {outside}pt; }}")
        lines.append(f"@page :left {{ margin-left: {outside}pt; margin-right: {inside}pt; }}")
    if s.rtl:  # versos are right-hand pages: the book title goes there, chapter titles left
        lines.append("@page :left { @top-left { content: string(pp-chapter-title); } }")
        lines.append("@page :right { @top-right { content: string(pp-book-title); } }")
    lines.append(f":root {{ font-size: {s.font_size}; }}")
    # an image never taller than the text block (room left for a caption); it keeps its shape
    lines.append(f"img {{ max-height: {round((h - top - bottom) * 0.82, 1)}pt; }}")
    if s.fonts:
        fams = ", ".join(f'"{f}"' for f in s.fonts)
        lines.append(f"html {{ font-family: {fams}, {FALLBACK_FONTS}, serif; }}")
        lines.append(f"@page {{ font-family: {fams}, {FALLBACK_FONTS}, serif; }}")
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# Rendering


class _SandboxFetcher:
    """Serves the resolved asset files and data: URIs; everything else is refused.

    With settings asking for grayscale, CMYK or no transparency, raster images are converted on
    the way in (the cached assets stay as they are).
    """

    def __new__(cls, allowed: dict[str, tuple[Path, str]], settings: PrintSettings | None = None):
        from weasyprint.urls import URLFetcher, URLFetcherResponse

        class Fetcher(URLFetcher):
            def fetch(self, url, headers=None):
                if url in allowed:
                    path, media_type = allowed[url]
                    data = Path(path).read_bytes()
                elif url.startswith("data:"):
                    response = super().fetch(url, headers)
                    data, media_type = response.read(), response.content_type
                else:
                    raise ValueError(f"pubpipe: refused to fetch {url[:80]!r}")
                if settings is not None and media_type.startswith("image/"):
                    data, media_type = convert_image(data, media_type, settings)
                return URLFetcherResponse(url, body=data, headers={"Content-Type": media_type})

        return Fetcher(allowed_protocols={"data"}, allow_redirects=False)


def convert_image(data: bytes, media_type: str, s: PrintSettings) -> tuple[bytes, str]:
    """A raster image in the colour the print settings ask for, alpha flattened when needed."""
    if media_type in ("image/svg+xml",) or (s.color == "rgb" and not s.flatten):
        return data, media_type
    from PIL import Image, ImageCms

    try:
        im = Image.open(io.BytesIO(data))
        im.load()
    except Exception:
        return data, media_type
    if im.mode in ("RGBA", "LA", "PA", "P", "1", "I;16", "I", "F") or "transparency" in im.info:
        im = im.convert("RGBA")
        flat = Image.new("RGB", im.size, (255, 255, 255))
        flat.paste(im, mask=im.getchannel("A"))
        im = flat
    out = io.BytesIO()
    if s.color == "grayscale":
        im.convert("L").save(out, "PNG", optimize=False)
        return out.getvalue(), "image/png"
    if s.color == "cmyk":
        im = im.convert("RGB")
        icc = icc_profile("cmyk")
        try:
            if icc is None:
                raise OSError("no CMYK profile")
            im = ImageCms.profileToProfile(im, ImageCms.createProfile("sRGB"), str(icc),
                                           outputMode="CMYK")
        except Exception:
            im = im.convert("CMYK")
        im.save(out, "JPEG", quality=92)
        return out.getvalue(), "image/jpeg"
    if im.mode not in ("RGB", "L", "CMYK"):
        im = im.convert("RGB")
    im.save(out, "PNG")
    return out.getvalue(), "image/png"


@dataclass
class RenderResult:
    pdf: bytes
    layout: dict[str, list[tuple[tuple[int, ...], str]]]
    page_labels: list[str]
    chapter_pages: dict[str, int]  # chapter section id -> index of its opening page (0-based)
    measures: dict  # see _measure: images placed, text outside the live area / past the margin
    images: dict[str, dict]  # image URL -> asset facts (id, ref, pixels, source file and line)
    warnings: list[str]  # WeasyPrint's own warnings (e.g. .notdef glyphs drawn)
    chapter_ids: list[str]
    anchor_pages: dict[str, int] = field(default_factory=dict)  # anchor -> first page (0-based)


_CACHE: dict[str, RenderResult] = {}


def _cache_key(doc: PrintDocument, css: list[str], s: PrintSettings) -> str:
    hsh = hashlib.sha256()
    for part in (doc.html, *css, repr(s), repr(sorted((k, str(v)) for k, v in doc.resources.items()))):
        hsh.update(part.encode())
        hsh.update(b"\0")
    return hsh.hexdigest()


def stylesheets(s: PrintSettings) -> list[str]:
    return [resources.stylesheet("print.css"), resources.component_styles(), geometry_css(s)]


def _color_profile_css(s: PrintSettings, res: dict) -> str:
    """@color-profile for PDF/X: WeasyPrint writes an OutputIntent only when CSS names one."""
    if not s.variant.startswith("pdf/x"):
        return ""
    icc = icc_profile(s.color)
    if icc is None:
        return ""
    url = ASSET_URL + "output-intent.icc"
    res[url] = (icc, "application/vnd.iccprofile")
    return (f"@color-profile device-cmyk {{ src: url({url});"
            " components: cyan, magenta, yellow, black; }}")


def icc_profile(color: str) -> Path | None:
    """The CMYK ICC profile used as the PDF/X output intent: ours, or Ghostscript's."""
    for p in (resources.styles_dir() / "icc" / "cmyk.icc",
              Path("/usr/share/color/icc/ghostscript/default_cmyk.icc"),
              Path("/usr/share/color/icc/ghostscript/ps_cmyk.icc")):
        if p.is_file():
            return p
    return None


def render(book: Book, settings: PrintSettings) -> RenderResult:
    """Lay out and write the book (cached on the exact input)."""
    doc = build_print_html(book, settings)
    css = stylesheets(settings)
    extra = _color_profile_css(settings, doc.resources)
    if extra:
        css.append(extra)
    key = _cache_key(doc, css, settings)
    if key in _CACHE:
        return _CACHE[key]
    result = _render_isolated(doc, css, settings)
    if _repeated_pages(doc.pageref_groups, result.anchor_pages):
        # a source cited twice on one page: lay out again without the repeated back-links
        # (removing them only shortens source entries, so the cited pages stay where they are)
        doc2 = build_print_html(book, settings, result.anchor_pages)
        result = _render_isolated(doc2, css, settings)
    if len(_CACHE) > 4:
        _CACHE.pop(next(iter(_CACHE)))
    _CACHE[key] = result
    return result


def _repeated_pages(groups: list[list[str]], anchor_pages: dict[str, int]) -> bool:
    for targets in groups:
        pages = [anchor_pages.get(t) for t in targets]
        pages = [p for p in pages if p is not None]
        if len(pages) != len(set(pages)):
            return True
    return False


_POOL = None


def _render_isolated(doc: PrintDocument, css: list[str], s: PrintSettings) -> RenderResult:
    """Render in a child process: WeasyPrint's memory is not given back to the OS otherwise.

    A forkserver (with WeasyPrint preloaded) starts each render from a clean, small process; set
    PUBPIPE_PDF_INPROCESS=1 to render in this process (debugging, platforms without fork).
    """
    import os

    if os.environ.get("PUBPIPE_PDF_INPROCESS") or os.name != "posix":
        return _render_doc(doc, css, s)
    import atexit
    import concurrent.futures
    import multiprocessing

    global _POOL
    try:
        if _POOL is None:
            ctx = multiprocessing.get_context("forkserver")
            ctx.set_forkserver_preload(["weasyprint", "pubpipe.write.pdf"])
            # one task per worker: each render gets a fresh process, freed when it ends
            _POOL = concurrent.futures.ProcessPoolExecutor(
                max_workers=1, mp_context=ctx, max_tasks_per_child=1)
            # shut down before interpreter teardown, or the executor's callbacks fail noisily
            atexit.register(_POOL.shutdown, wait=True)
        future = _POOL.submit(_render_doc, doc, css, s)
    except (OSError, RuntimeError, ValueError):
        _POOL = None
        return _render_doc(doc, css, s)
    try:
        return future.result()
    except concurrent.futures.process.BrokenProcessPool:
        _POOL = None  # the child died (out of memory, a crash in a C library): try here once
        return _render_doc(doc, css, s)


class _LogCapture(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def _render_doc(doc: PrintDocument, css: list[str], s: PrintSettings) -> RenderResult:
    import weasyprint
    from weasyprint.text.fonts import FontConfiguration

    fetcher = _SandboxFetcher(doc.resources, s)
    fonts = FontConfiguration()
    profiles: dict = {}  # shared by every stylesheet: @color-profile (PDF/X output intent)
    logger = logging.getLogger("weasyprint")
    cap = _LogCapture()
    logger.addHandler(cap)
    try:
        sheets = [weasyprint.CSS(string=c, url_fetcher=fetcher, font_config=fonts,
                                 color_profiles=profiles) for c in css if c]
        html = weasyprint.HTML(string=doc.html, base_url=ASSET_URL, url_fetcher=fetcher)
        document = html.render(font_config=fonts, stylesheets=sheets, color_profiles=profiles)
        layout, labels, chapter_pages, measures, anchor_pages = _read_layout(document, doc, s)
        # images denser than needed are scaled down (never up): 600 ppi keeps print sharp
        options = dict(full_fonts=s.full_fonts, pdf_variant=s.variant or None,
                       optimize_images=False, dpi=600 if s.for_print else 200)
        if not s.bookmarks:
            for page in document.pages:
                page.bookmarks = []
        pdf = document.write_pdf(**options)
    finally:
        logger.removeHandler(cap)
    pdf = postprocess(pdf, s, labels)
    return RenderResult(pdf=pdf, layout=layout, page_labels=labels, chapter_pages=chapter_pages,
                        measures=measures, images=doc.images, warnings=cap.messages,
                        chapter_ids=doc.chapter_ids, anchor_pages=anchor_pages)


def _read_layout(document, doc: PrintDocument, s: PrintSettings):
    """Per chapter, the block each printed page begins with; folios; what preflight measures."""
    labels = []
    # the folio a page shows: arabic from the first chapter on, roman before it
    first_body = None
    for i, page in enumerate(document.pages):
        if doc.chapter_ids and doc.chapter_ids[0] in page.anchors:
            first_body = i
            break
    for i in range(len(document.pages)):
        if first_body is None or i < first_body:
            labels.append(_roman(i + 1))
        else:
            labels.append(str(i - first_body + 1))
    chapter_pages = {}
    layout: dict[str, list] = {}
    last: dict[str, tuple] = {}
    current = None
    seen: set[str] = set()
    for i, page in enumerate(document.pages):
        # A box split over pages lists its anchor on each of them: only a first showing begins.
        begins = [(a, pos) for a, pos in page.anchors.items() if a in doc.block_ids and a not in seen]
        seen.update(page.anchors)
        # the topmost anchor that begins on this page is where the page begins
        begins.sort(key=lambda item: (round(item[1][1], 2), doc.block_seq[item[0]]))
        for cid in doc.chapter_ids:
            if cid in page.anchors:
                chapter_pages[cid] = i
        if begins:
            slug, path = doc.block_ids[begins[0][0]]
            layout.setdefault(slug, []).append((path, labels[i]))
            # the block the *next* page may continue: the last to begin here, in document order
            order = sorted(begins, key=lambda item: doc.block_seq[item[0]])
            slug_last, path_last = doc.block_ids[order[-1][0]]
            last[slug_last] = path_last
            current = slug_last
        elif current is not None and current in last:
            layout.setdefault(current, []).append((last[current], labels[i]))
    measures = _measure(document, s, labels)
    anchor_pages: dict[str, int] = {}
    for i, page in enumerate(document.pages):
        for a in page.anchors:
            anchor_pages.setdefault(a, i)
    return layout, labels, chapter_pages, measures, anchor_pages


PX = 0.75  # CSS px -> pt


def _measure(document, s: PrintSettings, labels: list[str]) -> dict:
    """Placed images (printed size), text outside the live area, text past the margins."""
    from weasyprint.formatting_structure import boxes

    live = 18.0  # 0.25in inside the trim
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
                    images.append((i, src, box.width * PX, box.height * PX, el.get("alt") or ""))
            for child in getattr(box, "children", ()) or ():
                stack.append((child, in_margin))
            fa = getattr(box, "footnote_area", None)
            if fa is not None:
                stack.append((fa, in_margin))
    return {"images": images, "outside_live": outside, "past_margin": past}


def _roman(n: int) -> str:
    out = ""
    for v, r in ((1000, "m"), (900, "cm"), (500, "d"), (400, "cd"), (100, "c"), (90, "xc"),
                 (50, "l"), (40, "xl"), (10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i")):
        while n >= v:
            out += r
            n -= v
    return out


# --------------------------------------------------------------------------------------------
# Post-processing with pypdf: exact page boxes, page labels, preset rules


def page_boxes(s: PrintSettings, index: int) -> dict[str, tuple[float, float, float, float]]:
    """TrimBox/BleedBox/MediaBox of page index (0-based), in the coordinates WeasyPrint uses."""
    w, h, b = s.trim_w, s.trim_h, s.bleed
    if s.bleed_mode == "outside":
        right = (index % 2 == 0) != s.rtl  # page 1 is a right-hand page (left in RTL books)
        x0 = 0.0 if right else b
        return {"MediaBox": (0.0, 0.0, w + b, h + 2 * b),
                "TrimBox": (x0, b, x0 + w, b + h),
                "BleedBox": (0.0, 0.0, w + b, h + 2 * b)}
    m = s.bleed + (s.mark_room if s.marks else 0) if s.bleed_mode == "all" or s.marks else 0.0
    bb = b if s.bleed_mode == "all" else 0.0
    return {"MediaBox": (-m, -m, w + m, h + m),
            "TrimBox": (0.0, 0.0, w, h),
            "BleedBox": (-bb, -bb, w + bb, h + bb)}


def _gray(r: float, g: float, b: float) -> float:
    return round(0.2126 * r + 0.7152 * g + 0.0722 * b, 4)


def _cmyk(r: float, g: float, b: float) -> tuple[float, ...]:
    """Naive RGB -> CMYK with full black generation: black text becomes 100% K."""
    k = 1 - max(r, g, b)
    if k >= 0.999:
        return (0.0, 0.0, 0.0, 1.0)
    return tuple(round(v, 4) for v in ((1 - r - k) / (1 - k), (1 - g - k) / (1 - k),
                                       (1 - b - k) / (1 - k), k))


def _recolor(writer, color: str) -> None:
    """Rewrite RGB colour operators (rg/RG) as gray (g/G) or CMYK (k/K) in every content stream."""
    from pypdf.generic import ContentStream, FloatObject, NameObject, StreamObject

    done = set()

    def fix_stream(obj):
        stream = obj.get_object()
        key = id(stream)
        if key in done or not isinstance(stream, StreamObject):
            return
        done.add(key)
        content = ContentStream(stream, writer)
        changed = False
        ops = []
        for operands, op in content.operations:
            if op in (b"rg", b"RG") and len(operands) == 3:
                rgb = [float(v) for v in operands]
                stroke = op == b"RG"
                if color == "grayscale":
                    operands, op = [FloatObject(_gray(*rgb))], b"G" if stroke else b"g"
                else:
                    operands, op = [FloatObject(v) for v in _cmyk(*rgb)], b"K" if stroke else b"k"
                changed = True
            ops.append((operands, op))
        if changed:
            content.operations = ops
            stream.set_data(content.get_data())
        res = stream.get("/Resources")
        if res is not None:
            fix_resources(res.get_object())

    def fix_resources(res):
        xobjects = res.get("/XObject")
        for ref in (xobjects.get_object().values() if xobjects is not None else ()):
            x = ref.get_object()
            if x.get("/Subtype") == "/Form":
                fix_stream(ref)
        patterns = res.get("/Pattern")
        for ref in (patterns.get_object().values() if patterns is not None else ()):
            p = ref.get_object()
            if isinstance(p, StreamObject):
                fix_stream(ref)

    for page in writer.pages:
        contents = page.get("/Contents")
        if contents is None:
            continue
        contents = contents.get_object()
        for ref in (contents if isinstance(contents, list) else [page["/Contents"]]):
            fix_stream(ref)
        res = page.get("/Resources")
        if res is not None:
            fix_resources(res.get_object())
    _ = NameObject


def _convert_page_images(writer, s: PrintSettings) -> None:
    """Images WeasyPrint makes itself (colour emoji glyphs) in the asked colour, alpha flattened."""
    from PIL import Image

    done = set()
    for page in writer.pages:
        for img in page.images:
            x = img.indirect_reference
            key = (x.idnum, x.generation) if x is not None else id(img)
            if key in done:
                continue
            done.add(key)
            obj = x.get_object() if x is not None else None
            cs = str(obj.get("/ColorSpace")) if obj is not None else ""
            wants = (s.color != "rgb" and cs == "/DeviceRGB") or (
                s.flatten and obj is not None and "/SMask" in obj)
            if not wants:
                continue
            try:
                im = img.image
                if im.mode in ("RGBA", "LA", "P", "PA"):
                    im = im.convert("RGBA")
                    flat = Image.new("RGB", im.size, (255, 255, 255))
                    flat.paste(im, mask=im.getchannel("A"))
                    im = flat
                if s.color == "grayscale":
                    im = im.convert("L")
                elif s.color == "cmyk":
                    im = im.convert("CMYK")
                else:
                    im = im.convert("RGB")
                img.replace(im)
            except Exception:  # a form pypdf cannot decode stays as it is; preflight reports it
                continue


_SUBSET_PREFIX = re.compile(r"^/?[A-Z]{6}\+")


def _unsubset_names(writer) -> None:
    """With full fonts embedded, drop the 'ABCDEF+' subset tag WeasyPrint still writes."""
    from pypdf.generic import NameObject

    seen = set()
    for page in writer.pages:
        fonts = (page.get("/Resources") or {}).get("/Font") or {}
        fonts = fonts.get_object() if hasattr(fonts, "get_object") else fonts
        for ref in fonts.values():
            font = ref.get_object()
            if id(font) in seen:
                continue
            seen.add(id(font))
            targets = [font] + [d.get_object() for d in font.get("/DescendantFonts", [])]
            for f in targets:
                if "/BaseFont" in f:
                    f[NameObject("/BaseFont")] = NameObject(
                        "/" + _SUBSET_PREFIX.sub("", str(f["/BaseFont"])))
                desc = f.get("/FontDescriptor")
                if desc is not None:
                    desc = desc.get_object()
                    if "/FontName" in desc:
                        desc[NameObject("/FontName")] = NameObject(
                            "/" + _SUBSET_PREFIX.sub("", str(desc["/FontName"])))


def postprocess(pdf: bytes, s: PrintSettings, labels: list[str]) -> bytes:
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import (ArrayObject, DictionaryObject, FloatObject, NameObject,
                               NumberObject)

    reader = PdfReader(io.BytesIO(pdf))
    writer = PdfWriter(clone_from=reader)
    writer.pdf_header = reader.pdf_header  # keep the version the variant needs (PDF/A, PDF/X)
    for i, page in enumerate(writer.pages):
        for name, box in page_boxes(s, i).items():
            page[NameObject(f"/{name}")] = ArrayObject(FloatObject(round(v, 3)) for v in box)
        if not s.links and "/Annots" in page:
            del page[NameObject("/Annots")]
    if s.full_fonts:
        _unsubset_names(writer)
    if s.color != "rgb":
        _recolor(writer, s.color)
    if s.color != "rgb" or s.flatten:
        _convert_page_images(writer, s)
    root = writer._root_object
    if not s.bookmarks:
        for key in ("/Outlines",):
            if key in root:
                del root[NameObject(key)]
        if root.get("/PageMode") == "/UseOutlines":
            del root[NameObject("/PageMode")]
    # page labels: roman front matter, arabic from the first chapter (what the folios print)
    first_arabic = next((i for i, lab in enumerate(labels) if lab.isdigit()), None)
    nums = ArrayObject()
    nums.append(NumberObject(0))
    nums.append(DictionaryObject({NameObject("/S"): NameObject("/r")}))
    if first_arabic is not None:
        nums.append(NumberObject(first_arabic))
        nums.append(DictionaryObject({NameObject("/S"): NameObject("/D")}))
    if first_arabic == 0:
        nums = ArrayObject([NumberObject(0),
                            DictionaryObject({NameObject("/S"): NameObject("/D")})])
    root[NameObject("/PageLabels")] = DictionaryObject({NameObject("/Nums"): nums})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


# --------------------------------------------------------------------------------------------
# Public entry points


def settings_for(book: Book) -> PrintSettings:
    cfg = book.config
    return resolve_settings(getattr(cfg, "pdf", None), None, None, book.meta.language)


def write_pdf(book: Book, store=None) -> bytes:
    """The book as a PDF (bytes); preflight findings go to book.diagnostics."""
    from . import preflight

    cfg = book.config
    where = preflight.config_file(book)
    settings = resolve_settings(getattr(cfg, "pdf", None), book.diagnostics, where,
                                book.meta.language)
    if settings.variant.startswith("pdf/x") and icc_profile(settings.color) is None:
        book.diagnostics.warn("pdf-output-intent", f"{settings.variant} without an output"
                              " intent: no CMYK ICC profile found (install libgs-common or put"
                              " one in styles/icc/cmyk.icc)", where)
    result = render(book, settings)
    preflight.run(book, result, settings)
    return result.pdf


def print_layout(book: Book, store=None) -> dict[str, list[tuple[tuple[int, ...], str]]]:
    """Where each printed page begins, per chapter slug (shape: see the module docstring)."""
    return render(book, settings_for(book)).layout
