"""The EPUB 3 writer: ``write_epub(book, store) -> bytes``.

Reading order: cover page, title page, contents (the nav document, visible), one XHTML file per
chapter. ebooklib assembles the package (OPF metadata, manifest, spine, EPUB 2 guide); every XHTML
document, the nav and the NCX are written here, so their markup is exactly ours. Chapter bodies
come from ``write.common.prepare_body(profile="epub")`` (a copy: the Book is never changed) and are
then made EPUB-ready on that copy: a heading id for every contents entry, alt text for every image,
links into other chapters pointed at their files, nothing remote but plain links.

Also here (issue 6): accessibility metadata derived from what the book contains, a reproducible
zip (fixed identifier, dates and entry order; ``dcterms:modified`` from SOURCE_DATE_EPOCH, else
the book's date, else the newest source file), and the print edition's page numbers — pagebreak
markers plus a ``page-list`` — from the PDF writer's layout of the same book, cached by content.
"""

from __future__ import annotations

import bisect
import dataclasses
import datetime as dt
import hashlib
import io
import json
import os
import posixpath
import re
import urllib.parse
import unicodedata
import uuid
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from ebooklib import epub
from lxml import etree

from .. import resources
from ..document import EPUB_TYPE, Asset, Book, Chapter, Variant
from ..util import remove_keep_tail, slugify, text_of
from . import cover as cover_mod
from .common import prepare_body, xhtml_document

SVG_NS = "http://www.w3.org/2000/svg"
MATHML_NS = "http://www.w3.org/1998/Math/MathML"
CONFORMS_TO = "EPUB Accessibility 1.1 - WCAG 2.2 Level AA"
PAGE_CACHE_VERSION = 5

# Elements that never reach an EPUB (the sanitizer removes them already; this is a safety net).
_FORBIDDEN = {"script", "noscript", "style", "iframe", "object", "embed", "applet", "frame",
              "frameset", "link", "meta", "base", "form", "input", "button", "select", "textarea"}
_MEDIA = {"video", "audio", "source", "track", "picture"}
_HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
# Containers whose headings are not part of the contents (notes, quotations, cards, figures).
_NOT_IN_TOC = {"aside", "blockquote", "figure", "table", "nav", "details", "header"}


# --------------------------------------------------------------------------------------------
# Small helpers


def _etype(el: etree._Element) -> set[str]:
    return set((el.get(EPUB_TYPE) or "").split())


def _visible_text(el: etree._Element) -> str:
    """Text a reader sees as a heading/caption, without note reference numbers or backlinks."""
    parts: list[str] = []

    def walk(node, skip: bool):
        if not isinstance(node.tag, str):
            return
        hide = skip or "noteref" in _etype(node) or node.get("role") in (
            "doc-noteref", "doc-backlink") or node.tag in ("sup",) and any(
            "noteref" in _etype(a) or a.get("role") == "doc-noteref" for a in node.iter("a"))
        if node.text and not hide:
            parts.append(node.text)
        for child in node:
            walk(child, hide)
            if child.tail and not hide:
                parts.append(child.tail)

    walk(el, False)
    return " ".join("".join(parts).split())


def _drop_keep_text(el: etree._Element) -> None:
    """Replace el by its children and text (unwrap)."""
    parent = el.getparent()
    if parent is None:
        return
    idx = parent.index(el)
    prev = el.getprevious()
    if el.text:
        if prev is not None:
            prev.tail = (prev.tail or "") + el.text
        else:
            parent.text = (parent.text or "") + el.text
    children = list(el)
    for k, child in enumerate(children):
        parent.insert(idx + k, child)
    last = children[-1] if children else el.getprevious()
    if el.tail:
        if last is not None and last is not el:
            last.tail = (last.tail or "") + el.tail
        else:
            parent.text = (parent.text or "") + el.tail
    parent.remove(el)


def _is_remote(url: str) -> bool:
    return bool(re.match(r"^\s*(https?:|//|ftp:)", url or "", re.I))


def _host(url: str) -> str:
    try:
        host = urllib.parse.urlsplit(url).hostname or ""
    except ValueError:
        host = ""
    return host[4:] if host.startswith("www.") else host


# --------------------------------------------------------------------------------------------
# Dates and identifiers (reproducible: never the clock)


def _parse_book_date(text: str) -> dt.datetime | None:
    m = re.match(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?", text or "")
    if not m:
        return None
    try:
        return dt.datetime(int(m[1]), int(m[2] or 1), int(m[3] or 1), tzinfo=dt.timezone.utc)
    except ValueError:
        return None


def modified_time(book: Book) -> dt.datetime:
    """dcterms:modified: SOURCE_DATE_EPOCH, else the book's date, else the newest source's mtime."""
    sde = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if sde.isdigit():
        return dt.datetime.fromtimestamp(int(sde), dt.timezone.utc)
    when = _parse_book_date(book.meta.date)
    if when is not None:
        return when
    mtimes = []
    for p in [ch.source for ch in book.chapters] + [getattr(book.config, "config_file", None),
                                                     book.meta.cover]:
        try:
            if p is not None:
                mtimes.append(Path(p).stat().st_mtime)
        except OSError:
            pass
    if mtimes:
        return dt.datetime.fromtimestamp(int(max(mtimes)), dt.timezone.utc)
    return dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)


def book_identifier(book: Book) -> str:
    """The given identifier, else a UUID derived from what names the book (stable across builds)."""
    if book.meta.identifier.strip():
        return book.meta.identifier.strip()
    m = book.meta
    key = json.dumps(["pubpipe-book", m.title, m.subtitle, m.authors, m.date, m.language,
                      m.publisher], ensure_ascii=False)
    return "urn:uuid:" + str(uuid.uuid5(uuid.NAMESPACE_URL, key))


# --------------------------------------------------------------------------------------------
# The package being assembled


@dataclass
class _Doc:
    """One XHTML document of the package."""

    file: str  # path inside EPUB/, e.g. "text/intro.xhtml"
    uid: str
    title: str
    content: bytes = b""
    properties: list[str] = field(default_factory=list)
    linear: bool = True


@dataclass
class _TocEntry:
    title: str
    href: str
    children: list["_TocEntry"] = field(default_factory=list)


@dataclass
class _PageStart:
    """Where a printed page begins: its first block (path into the chapter body) and words."""

    path: tuple[int, ...]
    label: str  # the folio printed on the page
    words: list[str] = field(default_factory=list)  # first words on the page, normalized
    loose: list[str] = field(default_factory=list)  # the same without print-only link URLs


@dataclass
class _Facts:
    """What the content holds: feeds the accessibility metadata and the landmarks."""

    images: int = 0
    images_generic_alt: int = 0  # alt made up by us ("Image from host"): not a real description
    animated: int = 0
    tables: int = 0
    tables_without_headers: int = 0
    footnotes: int = 0
    mathml: bool = False
    svg: bool = False
    empty_links: int = 0
    landmarks: dict[str, str] = field(default_factory=dict)  # epub:type -> href (first one)


class EpubBuilder:
    def __init__(self, book: Book, store=None):
        self.book = book
        self.store = store
        self.lang = (book.meta.language or "en").strip() or "en"
        self.title = book.meta.title or (book.chapters[0].title if book.chapters else "") \
            or "Untitled"
        self.files: dict[str, tuple[bytes, str]] = {}  # EPUB/ path -> (bytes, media type)
        self.images: dict[str, str] = {}  # variant sha/path -> EPUB/ path
        self.facts = _Facts()
        self.chapter_docs: list[_Doc] = []
        self.toc: list[_TocEntry] = []
        self.pages: list[tuple[str, str]] = []  # (href, label) in reading order
        self.css = ["css/epub.css"]
        self.cover_href = ""

    # ---- entry point -------------------------------------------------------------------------

    def build(self) -> bytes:
        self._stylesheets()
        cover_doc = self._cover()
        title_doc = self._title_page()
        self._chapters()
        nav_doc = self._nav()
        ncx = self._ncx()
        order = [d for d in (cover_doc, title_doc, nav_doc) if d is not None] + self.chapter_docs
        return self._package(order, ncx)

    # ---- styles ------------------------------------------------------------------------------

    def _stylesheets(self) -> None:
        css = resources.stylesheet("epub.css")
        components = resources.component_styles()
        if components.strip():
            css += "\n\n/* components */\n" + components
        self.files["css/epub.css"] = (_local_css(css).encode("utf-8"), "text/css")

    def _css_hrefs(self, doc_file: str) -> list[str]:
        return [_rel(doc_file, c) for c in self.css]

    def _document(self, title: str, lang: str, children, file: str, attrs: dict) -> bytes:
        """An XHTML document of the package: lang, title, our stylesheet, text direction."""
        if _rtl(lang):
            attrs = {**attrs, "dir": "rtl"}
        return xhtml_document(title, lang, children, self._css_hrefs(file), attrs)

    # ---- cover and title page ----------------------------------------------------------------

    def _cover(self) -> _Doc | None:
        meta = self.book.meta
        made = None
        if meta.cover:
            made = self._author_cover(Path(meta.cover))
        if made is None:
            made = cover_mod.generate_cover(self.title, meta.subtitle, meta.authors)
        self.files["images/cover.jpg"] = (made.data, "image/jpeg")
        self.cover_href = "images/cover.jpg"
        doc = _Doc("text/cover.xhtml", "cover", "Cover")
        alt = "Cover: " + self.title + (f", by {_names(meta.authors)}" if meta.authors else "")
        section = etree.Element("section")
        section.set(EPUB_TYPE, "cover")
        section.set("class", "pp-cover")
        img = etree.SubElement(section, "img", src=_rel(doc.file, self.cover_href), alt=alt)
        img.set("role", "doc-cover")
        img.set("width", str(made.width))
        img.set("height", str(made.height))
        doc.content = self._document("Cover", self.lang, [section], doc.file,
                                     {"epub:type": "frontmatter", "class": "pp-cover-page"})
        self.facts.landmarks.setdefault("cover", doc.file)
        return doc

    def _author_cover(self, path: Path) -> cover_mod.Cover | None:
        """The [book] cover image (through the asset store when there is one), processed."""
        meta = self.book.meta
        where = getattr(self.book.config, "config_file", None)
        data = None
        src = path if path.is_absolute() else self.book.root / path
        raw = getattr(getattr(self.book.config, "book", None), "cover", "") or ""
        path = Path(raw) if raw and not re.match(r"^\s*[a-z][a-z0-9+.-]*:", raw, re.I) else path
        shown = raw or str(path)
        if self.store is not None:
            if re.match(r"^\s*((https?:)?//|data:)", raw, re.I):
                rel = raw.strip()  # a URL in book.toml: the store fetches it like any image
            else:
                try:
                    rel = os.path.relpath(src, self.book.root)
                except ValueError:
                    rel = str(src)
            asset = self.store.register(rel, base=self.book.root, file=where)
            self.store.fetch_all()
            asset = self.store.canonical(asset)
            if asset.ok and asset.source_path is not None:
                data = asset.source_path.read_bytes()
            else:
                reason = asset.reason or "not available"
                self.book.diagnostics.warn("epub-cover", f"cover image {shown}: {reason};"
                                           " a generated cover is used", where)
                return None
        else:
            try:
                data = src.read_bytes()
            except OSError as e:
                self.book.diagnostics.warn("epub-cover", f"cover image {shown}: {e.strerror or e};"
                                           " a generated cover is used", where)
                return None
        key = hashlib.sha256(data + json.dumps(
            [cover_mod.VERSION, self.title, meta.subtitle, meta.authors, path.name]).encode()
        ).hexdigest()[:32]
        cached = self._cache_path("covers", key + ".json")
        made = None
        if cached is not None and cached.is_file():
            try:
                info = json.loads(cached.read_text("utf-8"))
                made = cover_mod.Cover(cached.with_suffix(".jpg").read_bytes(), info["width"],
                                       info["height"], False, info["notes"])
            except (OSError, ValueError, KeyError):
                made = None
        if made is None:
            try:
                made = cover_mod.process_cover(io.BytesIO(data), self.title, meta.subtitle,
                                               meta.authors, name=path.name)
            except Exception as e:  # a damaged or hostile image: report it, draw a cover instead
                self.book.diagnostics.warn("epub-cover", f"cover image {shown} cannot be used"
                                           f" ({e}); a generated cover is used", where)
                return None
            if cached is not None:
                _write_atomic(cached.with_suffix(".jpg"), made.data)
                _write_atomic(cached, json.dumps({"width": made.width, "height": made.height,
                                                  "notes": made.notes}).encode())
        for note in made.notes:
            self.book.diagnostics.warn("epub-cover", note, where)
        return made

    def _title_page(self) -> _Doc:
        meta = self.book.meta
        doc = _Doc("text/titlepage.xhtml", "titlepage", self.title)
        section = etree.Element("section")
        section.set(EPUB_TYPE, "titlepage")
        section.set("class", "pp-titlepage")
        section.set("aria-label", "Title page")
        h1 = etree.SubElement(section, "h1", {"class": "pp-title"})
        h1.text = self.title
        if meta.subtitle:
            p = etree.SubElement(section, "p", {"class": "pp-subtitle"})
            p.text = meta.subtitle
        if meta.authors:
            p = etree.SubElement(section, "p", {"class": "pp-authors"})
            p.text = _names(meta.authors)
        bottom = [t for t in (meta.publisher, _display_date(meta.date)) if t]
        if bottom:
            p = etree.SubElement(section, "p", {"class": "pp-publisher"})
            p.text = " · ".join(bottom)
        if meta.rights:
            p = etree.SubElement(section, "p", {"class": "pp-rights"})
            p.text = meta.rights
        if meta.description:
            p = etree.SubElement(section, "p", {"class": "pp-description"})
            p.text = meta.description
        doc.content = self._document(self.title, self.lang, [section], doc.file,
                                     {"epub:type": "frontmatter"})
        self.facts.landmarks.setdefault("titlepage", doc.file)
        return doc

    # ---- chapters ----------------------------------------------------------------------------

    def _chapter_files(self) -> list[str]:
        used = {"cover", "titlepage", "nav"}
        files = []
        for i, ch in enumerate(self.book.chapters, 1):
            base = slugify(ch.slug or ch.title) or f"chapter-{i}"
            name, n = base, 2
            while name in used:
                name, n = f"{base}-{n}", n + 1
            used.add(name)
            files.append(f"text/{name}.xhtml")
        return files

    def _chapters(self) -> None:
        files = self._chapter_files()
        markers = self._page_markers()
        bodies = []
        for i, ch in enumerate(self.book.chapters):
            body = self._prepare(ch, files[i], markers.get(i))
            bodies.append(body)
        # Book-wide id -> file, to send "#x" links into the chapter that holds x.
        where: dict[str, str] = {}
        for i, body in enumerate(bodies):
            for el in body.iter():
                if isinstance(el.tag, str) and el.get("id"):
                    where.setdefault(el.get("id"), files[i])
        for i, (ch, body) in enumerate(zip(self.book.chapters, bodies)):
            self._fix_links(ch, body, files[i], where)
            self.chapter_docs.append(self._chapter_doc(i, ch, body, files[i]))

    def _prepare(self, ch: Chapter, file: str, markers) -> etree._Element:
        src_ch = ch
        if markers is not None:
            from .pdf import mark_blocks

            src_ch = mark_blocks(ch)

        def asset_src(asset: Asset, variant: Variant) -> str:
            return _rel(file, self._image(asset, variant))

        body = prepare_body(src_ch, self.book, profile="epub", asset_src=asset_src)
        self._clean(ch, body, file)
        if markers is not None:
            self._insert_markers(body, markers, file)
        self._alt_text(ch, body)
        self._heading_ids(body, file)
        return body

    def _image(self, asset: Asset, variant: Variant) -> str:
        key = variant.sha256 or str(variant.path)
        if key not in self.images:
            stem = (variant.sha256 or hashlib.sha256(variant.read_bytes()).hexdigest())[:16]
            name = f"images/{stem}.{variant.extension}"
            data = variant.read_bytes()
            self.files[name] = (data, variant.media_type)
            self.images[key] = name
            if variant.media_type == "image/gif" and _animated(data):
                self.facts.animated += 1
        return self.images[key]

    def _clean(self, ch: Chapter, body: etree._Element, file: str) -> None:
        """Safety net: nothing executable, nothing remote but links, proper namespaces."""
        for el in list(body.iter()):
            if not isinstance(el.tag, str):
                continue
            tag = el.tag
            if tag in _FORBIDDEN:
                remove_keep_tail(el) if tag in ("script", "style", "noscript", "link", "meta",
                                       "base") else _drop_keep_text(el)
                continue
            if tag in _MEDIA:
                _drop_keep_text(el)
                continue
            if tag in ("svg", "math"):  # un-namespaced foreign content: give it its namespace
                ns = SVG_NS if tag == "svg" else MATHML_NS
                for node in el.iter():
                    if isinstance(node.tag, str) and not node.tag.startswith("{"):
                        node.tag = f"{{{ns}}}{node.tag}"
            for name in list(el.attrib):
                if name.startswith("on") or name in ("srcset", "sizes", "style", "data-src",
                                                     "data-srcset", "contenteditable"):
                    del el.attrib[name]
            if tag == "img":
                src = el.get("src") or ""
                inside = posixpath.normpath(posixpath.join(posixpath.dirname(file), src))
                if not src or inside not in self.files:  # not one of the package's images
                    self._image_to_link(ch, el)
            elif tag == "a":
                href = el.get("href") or ""
                if re.match(r"^\s*(javascript|vbscript|data|file):", href, re.I):
                    del el.attrib["href"]
                elif href:
                    fixed = _valid_url(href)
                    if fixed is None:
                        del el.attrib["href"]
                    elif fixed != href:
                        el.set("href", fixed)

        _repair_lists(body)

    def _image_to_link(self, ch: Chapter, img: etree._Element) -> None:
        """An image the asset store did not resolve: a link to it (never a remote resource)."""
        src = img.get("src") or ""
        text = " ".join((img.get("alt") or "").split()) or "Image"
        span = etree.Element("span", {"class": "pp-missing"})
        in_link = any(a.tag == "a" for a in img.iterancestors())
        if _is_remote(src) and not in_link:
            a = etree.SubElement(span, "a", href=src)
            a.text = f"{text} ({_host(src) or 'link'})"
            done = "linked instead"
        else:
            span.text = text
            done = "its alt text stands in its place"
        span.tail = img.tail
        img.getparent().replace(img, span)
        shown = src[:80] if not src.startswith("data:") else "data:…"
        self.book.diagnostics.warn("epub-image-unresolved", f"image {shown or '(no src)'} is not"
                                   f" in the book's images; {done}", ch.source, img.sourceline)

    def _alt_text(self, ch: Chapter, body: etree._Element) -> None:
        for img in body.iter("img"):
            self.facts.images += 1
            alt = " ".join((img.get("alt") or "").split())
            if alt:
                img.set("alt", alt)
                continue
            caption = ""
            for anc in img.iterancestors():
                if anc.tag == "figure":
                    cap = anc.find(".//figcaption")
                    caption = _visible_text(cap) if cap is not None else ""
                    break
            if caption:
                img.set("alt", caption)
                continue
            src = img.get("src") or ""
            asset = self._asset_for(src)
            url = (asset.final_url or asset.url) if asset else ""
            host = _host(url) if _is_remote(url) else ""
            shown = asset.ref if asset else src
            name = "" if shown.startswith("data:") else Path(urllib.parse.urlsplit(shown).path).name
            img.set("alt", f"Image from {host}" if host else f"Image: {name}" if name else "Image")
            self.facts.images_generic_alt += 1
            self.book.diagnostics.warn(
                "epub-alt-missing", f"image {shown[:100]} has no alt text and no caption; described"
                f" as '{img.get('alt')}': add a description", ch.source,
                img.sourceline or (ch.find_line(shown[:200]) if asset else None))

    def _asset_for(self, src: str) -> Asset | None:
        name = src.rsplit("/", 1)[-1]
        for asset in self.book.assets.values():
            for v in asset.variants.values():
                if v.sha256 and name.startswith(v.sha256[:16]):
                    return asset
        return None

    def _heading_ids(self, body: etree._Element, file: str) -> None:
        """Every heading has an id (the ids transform gives them; hand-made books may not)."""
        taken = {el.get("id") for el in body.iter() if isinstance(el.tag, str) and el.get("id")}
        for h in body.iter(*_HEADINGS):
            if h.get("id"):
                continue
            base = slugify(_visible_text(h)) or "section"
            base = base if base[0].isalpha() else f"s-{base}"
            new, n = base, 2
            while new in taken:
                new, n = f"{base}-{n}", n + 1
            taken.add(new)
            h.set("id", new)

    def _fix_links(self, ch: Chapter, body: etree._Element, file: str,
                   where: dict[str, str]) -> None:
        local = {el.get("id") for el in body.iter() if isinstance(el.tag, str) and el.get("id")}
        for a in body.iter("a"):
            href = a.get("href")
            if href is None:
                continue
            if href.startswith("#"):
                target = href[1:]
                if not target or target in local:
                    continue
                if target in where:
                    a.set("href", _rel(file, where[target]) + href)
                else:
                    del a.attrib["href"]
                    self.book.diagnostics.warn("epub-broken-link", f"link to '{href}' points at"
                                               " nothing in the book; kept as text", ch.source,
                                               a.sourceline)
            elif not re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", href) and not href.startswith("//"):
                # a relative link to a file that is not part of the EPUB would be an error
                del a.attrib["href"]
                self.book.diagnostics.warn("epub-local-link", f"link to '{href}' leaves the book;"
                                           " kept as text", ch.source, a.sourceline)

    def _chapter_doc(self, i: int, ch: Chapter, body: etree._Element, file: str) -> _Doc:
        title = ch.title or next((_visible_text(h) for h in body.iter("h1")), "") \
            or f"Chapter {i + 1}"
        doc = _Doc(file, f"ch{i + 1:03d}", title)
        section = body
        section.tag = "section"
        section.set(EPUB_TYPE, " ".join(sorted(_etype(section) | {"chapter"})))
        section.set("role", "doc-chapter")
        section.set("class", " ".join([*(section.get("class") or "").split(), "pp-chapter"]))
        h1 = next(iter(body.iter("h1")), None)
        if h1 is None:
            h1 = etree.Element("h1", {"class": "pp-chapter-title"})
            h1.text = title
            h1.set("id", _unique_id(body, f"{Path(file).stem}-title"))
            section.insert(0, h1)
            h1.tail, section.text = section.text, None
        section.set("aria-labelledby", h1.get("id"))
        if section.get("id") is None:
            section.set("id", _unique_id(body, f"{Path(file).stem}-chapter"))

        # facts for metadata and landmarks
        for el in body.iter():
            if not isinstance(el.tag, str):
                continue
            if el.tag.startswith(f"{{{SVG_NS}}}") and el.tag.endswith("}svg"):
                self.facts.svg = True
                if "svg" not in doc.properties:
                    doc.properties.append("svg")
            elif el.tag.startswith(f"{{{MATHML_NS}}}") and el.tag.endswith("}math"):
                self.facts.mathml = True
                if "mathml" not in doc.properties:
                    doc.properties.append("mathml")
            elif el.tag == "table":
                self.facts.tables += 1
                if el.find(".//th") is None:
                    self.facts.tables_without_headers += 1
            elif el.tag == "a" and el.get("href") and not text_of(el) and \
                    not el.get("aria-label") and el.find(".//img") is None:
                self.facts.empty_links += 1
            types = _etype(el)
            if "footnote" in types or "endnote" in types:
                self.facts.footnotes += 1
            for t in ("bibliography", "endnotes", "footnotes", "glossary", "index"):
                if t in types and el.tag in ("section", "aside", "nav", "div", "ol", "ul"):
                    if not el.get("id"):
                        el.set("id", _unique_id(body, f"{Path(file).stem}-{t}"))
                    kind = "endnotes" if t == "footnotes" else t
                    self.facts.landmarks.setdefault(kind, f"{file}#{el.get('id')}")
        if i == 0:
            self.facts.landmarks.setdefault("bodymatter", file)
        depth = getattr(getattr(self.book.config, "epub", None), "toc_depth", 3)
        self.toc.append(_TocEntry(title, file, _sections(body, file, h1, depth)))
        lang = ch.lang or self.lang
        doc.content = self._document(title, lang, [section], file, {"epub:type": "bodymatter"})
        return doc

    # ---- print page numbers ------------------------------------------------------------------

    def _page_markers(self) -> dict[int, list[_PageStart]]:
        """Per chapter index, where each printed page begins; {} when page numbers are not wanted.

        From the PDF writer's ``print_layout`` (the block each page begins with), refined by the
        first words printed on each page, so a page that begins mid-paragraph gets its marker at
        the right word. Cached in the build cache by a hash of all that shapes the layout, so a
        plain EPUB rebuild does no print layout at all.
        """
        cfg = self.book.config
        if cfg is None or not getattr(cfg, "has_pdf_section", False):
            return {}
        if not getattr(getattr(cfg, "epub", None), "page_numbers", True):
            return {}
        try:
            from . import pdf
        except ImportError:
            return {}
        if not hasattr(pdf, "print_layout"):
            return {}
        book = self._print_book()
        cached = self._cache_path("page-layout", self._layout_key(book) + ".json")
        layout = None
        if cached is not None and cached.is_file():
            try:
                layout = {k: [_PageStart(tuple(p), str(lab), list(w), list(lw))
                              for p, lab, w, lw in v]
                          for k, v in json.loads(cached.read_text("utf-8")).items()}
            except (OSError, ValueError, TypeError):
                layout = None
        if layout is None:
            try:
                raw = pdf.print_layout(book, self.store)
            except Exception as e:  # the EPUB is still good without page numbers
                self.book.diagnostics.warn("epub-page-numbers", f"print page numbers left out:"
                                           f" laying out the print edition failed ({e})")
                return {}
            words = _printed_words(pdf, book)
            layout = {slug: [_PageStart(tuple(p), str(lab), *words.get(str(lab), ([], [])))
                             for p, lab in entries] for slug, entries in raw.items()}
            if cached is not None:
                _write_atomic(cached, json.dumps(
                    {k: [[list(ps.path), ps.label, ps.words, ps.loose] for ps in v]
                     for k, v in layout.items()}).encode())
        return {i: layout[ch.slug] for i, ch in enumerate(self.book.chapters)
                if ch.slug in layout}

    def _print_book(self) -> Book:
        """The book as the PDF writer sees it: every image with its print variant.

        An EPUB-only build processes images for the screen only; the print layout needs the
        print variants (their sizes shape the pages). The store caches them on disk.
        """
        assets = {}
        for aid, asset in self.book.assets.items():
            if "print" not in asset.variants and self.store is not None and asset.ok:
                before = dict(asset.variants)
                variant = self.store.process(asset, "print")
                # the store records the variant on the book's own Asset: undo that, the
                # writer leaves the book as it found it (the store keeps it on disk)
                asset.variants.clear()
                asset.variants.update(before)
                if variant is not None:
                    asset = dataclasses.replace(asset, variants={**before, "print": variant})
            assets[aid] = asset
        return dataclasses.replace(self.book, assets=assets)

    def _layout_key(self, b: Book) -> str:
        """Hash of everything the print layout depends on: chapters, assets, settings, styles."""
        h = hashlib.sha256(f"v{PAGE_CACHE_VERSION}".encode())
        h.update(json.dumps([b.meta.title, b.meta.subtitle, b.meta.authors, b.meta.date,
                             b.meta.language, b.meta.publisher, b.meta.rights,
                             b.meta.description], ensure_ascii=False).encode())
        cfg = b.config
        for section in ("pdf", "assets"):
            obj = getattr(cfg, section, None)
            if obj is not None:
                h.update(repr(obj).encode())
        for ch in b.chapters:
            h.update(ch.slug.encode() + b"\0" + etree.tostring(ch.body))
        for aid in sorted(b.assets):
            v = b.assets[aid].variants.get("print")
            h.update(f"{aid}:{v.sha256 if v else ''}".encode())
        try:
            folder = resources.styles_dir()
            for p in sorted(folder.rglob("*")):
                if p.is_file():
                    h.update(p.name.encode() + p.read_bytes())
        except (OSError, FileNotFoundError):
            pass
        try:  # the print writer's own code (and WeasyPrint's) shapes the layout too
            from importlib.metadata import version  # not `import weasyprint`: that costs 1 s

            from . import common, pdf

            h.update(version("weasyprint").encode())
            for module in (pdf, common):
                h.update(Path(module.__file__).read_bytes())
        except (ImportError, OSError, AttributeError):
            pass
        h.update(str(PAGE_CACHE_VERSION).encode())
        return h.hexdigest()[:32]

    def _insert_markers(self, body: etree._Element, starts: list[_PageStart],
                        file: str) -> None:
        """A pagebreak span where each printed page begins, in reading order."""
        by_path: dict[str, etree._Element] = {}
        for el in body.iter():
            if isinstance(el.tag, str) and el.get("data-pp-block") is not None:
                by_path[el.attrib.pop("data-pp-block")] = el
        stream = _TextStream(body)
        lo = 0
        placements: list[tuple[int, int, _PageStart]] = []  # (token index, order, start)
        if any(ps.words for ps in starts):
            # a trailing page without a word is the blank verso before the next chapter:
            # it has no place in this chapter's text
            while starts and not starts[-1].words and len(starts) > 1:
                starts = starts[:-1]
        for k, ps in enumerate(starts):
            block = body if not ps.path else by_path.get(".".join(map(str, ps.path)))
            if block is None:  # the block is not in the EPUB (print-only): the next one
                block = _next_block(by_path, ps.path)
            hint = stream.first_token(block) if block is not None else None
            at = stream.find(ps.words, ps.loose, lo) if ps.words else None
            if at is None:
                at = hint if hint is not None and hint >= lo else lo
            if not ps.path and k == 0 and at == stream.first_token(body):
                at = -1  # the chapter's first page: before everything, the opening included
            placements.append((at, k, ps))
            lo = max(lo, at)
        taken = {el.get("id") for el in body.iter() if isinstance(el.tag, str) and el.get("id")}
        ids = []
        for _, _, ps in placements:
            base = f"page-{_safe_id(ps.label)}"
            new, n = base, 2
            while new in taken:
                new, n = f"{base}-{n}", n + 1
            taken.add(new)
            ids.append(new)
        # insert from the end, so earlier positions in the same text stay valid
        for at, k, ps in sorted(placements, key=lambda t: (t[0], t[1]), reverse=True):
            span = etree.Element("span", {"id": ids[k],
                                          "role": "doc-pagebreak", "aria-label": ps.label,
                                          "class": "pp-pagebreak"})
            span.set(EPUB_TYPE, "pagebreak")
            if at < 0 or at >= len(stream.tokens):
                if at < 0 or not len(body):
                    span.tail, body.text = body.text, None
                    body.insert(0, span)
                else:
                    body.append(span)
            else:
                stream.insert_before(at, span)
        for at, k, ps in placements:
            self.pages.append((f"{file}#{ids[k]}", ps.label))

    # ---- navigation --------------------------------------------------------------------------

    def _nav(self) -> _Doc:
        doc = _Doc("nav.xhtml", "nav", "Contents", properties=["nav"])
        children = []
        toc = etree.Element("nav", {"id": "toc", "role": "doc-toc", "class": "pp-toc"})
        toc.set(EPUB_TYPE, "toc")
        h = etree.SubElement(toc, "h1")
        h.text = "Contents"
        ol = etree.SubElement(toc, "ol")
        self.facts.landmarks.setdefault("toc", "nav.xhtml#toc")
        # the front matter is listed too, as in a printed book's contents
        for kind, label in (("cover", "Cover"), ("titlepage", self.title), ("toc", "Contents")):
            href = self.facts.landmarks.get(kind)
            if href:
                li = etree.SubElement(ol, "li")
                a = etree.SubElement(li, "a", href=href)
                a.text = label
        _toc_list(ol, self.toc)
        children.append(toc)

        lm = etree.Element("nav", {"id": "landmarks", "hidden": "hidden"})
        lm.set(EPUB_TYPE, "landmarks")
        h = etree.SubElement(lm, "h2")
        h.text = "Landmarks"
        ol = etree.SubElement(lm, "ol")
        names = {"cover": "Cover", "titlepage": "Title page", "toc": "Contents",
                 "bodymatter": "Start of content", "bibliography": "Sources",
                 "endnotes": "Notes", "glossary": "Glossary", "index": "Index"}
        self.facts.landmarks.setdefault("toc", "nav.xhtml#toc")
        for kind in ("cover", "titlepage", "toc", "bodymatter", "bibliography", "endnotes",
                     "glossary", "index"):
            href = self.facts.landmarks.get(kind)
            if href:
                li = etree.SubElement(ol, "li")
                a = etree.SubElement(li, "a", href=href)
                a.set(EPUB_TYPE, kind)
                a.text = names[kind]
        children.append(lm)

        if self.pages:
            pl = etree.Element("nav", {"id": "page-list", "hidden": "hidden"})
            pl.set(EPUB_TYPE, "page-list")
            h = etree.SubElement(pl, "h2")
            h.text = "Pages"
            ol = etree.SubElement(pl, "ol")
            for href, label in self.pages:
                li = etree.SubElement(ol, "li")
                a = etree.SubElement(li, "a", href=href)
                a.text = label
            children.append(pl)
        doc.content = self._document("Contents", self.lang, children, doc.file,
                                     {"epub:type": "frontmatter"})
        return doc

    def _ncx(self) -> bytes:
        ncx_ns = "http://www.daisy.org/z3986/2005/ncx/"
        root = etree.Element(f"{{{ncx_ns}}}ncx", nsmap={None: ncx_ns}, version="2005-1")
        root.set("{http://www.w3.org/XML/1998/namespace}lang", self.lang)
        head = etree.SubElement(root, f"{{{ncx_ns}}}head")

        def depth(entries, d=1):
            return max((depth(e.children, d + 1) for e in entries), default=d - 1)

        numeric = [int(lab) for _, lab in self.pages if lab.isdigit()]
        for name, content in (("dtb:uid", self.identifier), ("dtb:depth", str(max(1, depth(self.toc)))),
                              ("dtb:totalPageCount", str(len(self.pages))),
                              ("dtb:maxPageNumber", str(max(numeric, default=0)))):
            etree.SubElement(head, f"{{{ncx_ns}}}meta", name=name, content=content)
        t = etree.SubElement(etree.SubElement(root, f"{{{ncx_ns}}}docTitle"), f"{{{ncx_ns}}}text")
        t.text = self.title
        for author in self.book.meta.authors:
            a = etree.SubElement(etree.SubElement(root, f"{{{ncx_ns}}}docAuthor"),
                                 f"{{{ncx_ns}}}text")
            a.text = author
        nav_map = etree.SubElement(root, f"{{{ncx_ns}}}navMap")
        counter = [0]

        def point(parent, label, href):
            counter[0] += 1
            np_ = etree.SubElement(parent, f"{{{ncx_ns}}}navPoint", id=f"np-{counter[0]}",
                                   playOrder=str(counter[0]))
            lab = etree.SubElement(etree.SubElement(np_, f"{{{ncx_ns}}}navLabel"),
                                   f"{{{ncx_ns}}}text")
            lab.text = label
            etree.SubElement(np_, f"{{{ncx_ns}}}content", src=href)
            return np_

        def add(parent, entries):
            for e in entries:
                add(point(parent, e.title, e.href), e.children)

        if "cover" in self.facts.landmarks:
            point(nav_map, "Cover", self.facts.landmarks["cover"])
        if "titlepage" in self.facts.landmarks:
            point(nav_map, self.title, self.facts.landmarks["titlepage"])
        point(nav_map, "Contents", "nav.xhtml")
        add(nav_map, self.toc)
        if self.pages:
            pl = etree.SubElement(root, f"{{{ncx_ns}}}pageList")
            lab = etree.SubElement(etree.SubElement(pl, f"{{{ncx_ns}}}navLabel"),
                                   f"{{{ncx_ns}}}text")
            lab.text = "Pages"
            for k, (href, label) in enumerate(self.pages, 1):
                counter[0] += 1
                target = etree.SubElement(pl, f"{{{ncx_ns}}}pageTarget", id=f"pt-{k}",
                                          type="normal" if label.isdigit() else "front",
                                          playOrder=str(counter[0]))
                if label.isdigit():
                    target.set("value", label)
                t = etree.SubElement(etree.SubElement(target, f"{{{ncx_ns}}}navLabel"),
                                     f"{{{ncx_ns}}}text")
                t.text = label
                etree.SubElement(target, f"{{{ncx_ns}}}content", src=href)
        return etree.tostring(root, xml_declaration=True, encoding="utf-8", pretty_print=True)

    # ---- package -----------------------------------------------------------------------------

    @property
    def identifier(self) -> str:
        return book_identifier(self.book)

    def _package(self, order: list[_Doc], ncx: bytes) -> bytes:
        meta = self.book.meta
        eb = epub.EpubBook()
        eb.FOLDER_NAME = "EPUB"
        eb.metadata = {}  # drop ebooklib's generator line and random identifier
        eb.set_identifier(self.identifier)
        eb.title = self.title
        eb.language = self.lang
        if _rtl(self.lang):  # pages turn right to left
            eb.set_direction("rtl")
        eb.add_metadata("DC", "title", self.title, {"id": "title"})
        eb.add_metadata(None, "meta", "main", {"refines": "#title", "property": "title-type"})
        if meta.subtitle:
            eb.add_metadata("DC", "title", meta.subtitle, {"id": "subtitle"})
            eb.add_metadata(None, "meta", "subtitle",
                            {"refines": "#subtitle", "property": "title-type"})
        eb.add_metadata("DC", "language", self.lang)
        for k, name in enumerate(meta.authors, 1):
            uid = f"creator-{k}"
            eb.add_metadata("DC", "creator", name, {"id": uid})
            eb.add_metadata(None, "meta", "aut", {"refines": f"#{uid}", "property": "role",
                                                 "scheme": "marc:relators"})
            eb.add_metadata(None, "meta", _file_as(name), {"refines": f"#{uid}",
                                                           "property": "file-as"})
        if meta.date:
            eb.add_metadata("DC", "date", meta.date)
        for dc_name, value in (("publisher", meta.publisher), ("rights", meta.rights),
                               ("description", meta.description)):
            if value:
                eb.add_metadata("DC", dc_name, value)
        if self.pages:  # EPUB 3.3 / Accessibility 1.1: the source of the page breaks
            size = getattr(getattr(self.book.config, "pdf", None), "page_size", "") or ""
            eb.add_metadata("DC", "source",
                            f"{self.title}, print edition (PDF{', ' + size if size else ''})")
        for kw in meta.keywords:
            if kw.strip():
                eb.add_metadata("DC", "subject", kw.strip())
        for prop, value in self._accessibility():
            eb.add_metadata(None, "meta", value, {"property": prop})
        eb.add_metadata(None, "meta", "", {"name": "cover", "content": "cover-image"})
        eb.add_metadata(None, "meta", "", {"name": "generator", "content": "pubpipe"})

        items = {}
        for doc in order:
            cls = _RawNav if "nav" in doc.properties else _RawHtml
            item = cls(uid=doc.uid, file_name=doc.file, title=doc.title)
            item.content = doc.content
            item.properties = [p for p in doc.properties if p != "nav"]
            eb.add_item(item)
            items[doc.file] = item
        ncx_item = epub.EpubNcx()
        ncx_item.content = ncx
        eb.add_item(ncx_item)
        for k, (name, (data, mtype)) in enumerate(sorted(self.files.items())):
            if name == self.cover_href:
                item = epub.EpubCover(uid="cover-image", file_name=name)
                item.media_type = mtype
            else:
                item = epub.EpubItem(uid=_item_id(name), file_name=name, media_type=mtype)
            item.content = data
            eb.add_item(item)
        eb.spine = [items[d.file] for d in order]
        eb.toc = []  # our own nav and NCX; see _RawWriter
        guide = [("cover", "Cover", "cover"), ("titlepage", "Title page", "title-page"),
                 ("bodymatter", "Start", "text")]
        eb.guide = [{"href": self.facts.landmarks[k], "title": t, "type": g}
                    for k, t, g in guide if k in self.facts.landmarks]
        eb.guide.insert(min(2, len(eb.guide)), {"href": "nav.xhtml", "title": "Contents",
                                                 "type": "toc"})
        buf = io.BytesIO()
        writer = _RawWriter(buf, eb, {"epub3_pages": False, "epub3_landmark": False,
                                      "epub2_guide": True, "raise_exceptions": True,
                                      "mtime": self.modified.replace(tzinfo=None)})
        writer.ncx_bytes = ncx
        writer.process()
        writer.write()
        return _reproducible_zip(buf.getvalue(), self.modified)

    def _cache_path(self, kind: str, name: str) -> Path | None:
        """A file in the build cache (the asset store's folder), or None without a store."""
        d = getattr(self.store, "cache_dir", None)
        return Path(d) / "epub" / kind / name if d else None

    @property
    def modified(self) -> dt.datetime:
        return modified_time(self.book)

    # ---- accessibility -----------------------------------------------------------------------

    def _accessibility(self) -> list[tuple[str, str]]:
        f = self.facts
        described = f.images - f.images_generic_alt
        all_described = f.images_generic_alt == 0
        out = [("schema:accessMode", "textual")]
        if f.images:
            out.append(("schema:accessMode", "visual"))
        if all_described:
            out.append(("schema:accessModeSufficient", "textual"))
        if f.images:
            out.append(("schema:accessModeSufficient", "textual,visual"))
        features = ["structuralNavigation", "tableOfContents", "readingOrder",
                    "displayTransformability"]
        if f.images and all_described:
            features.append("alternativeText")
        if self.pages:
            features += ["printPageNumbers", "pageBreakMarkers", "pageNavigation"]
        if f.mathml:
            features.append("MathML")
        out += [("schema:accessibilityFeature", x) for x in features]
        if f.animated:
            out.append(("schema:accessibilityHazard", "unknown"))
        else:
            out.append(("schema:accessibilityHazard", "none"))
        out.append(("schema:accessibilitySummary", self._summary(described, all_described)))
        if self._conforms():
            out.append(("dcterms:conformsTo", CONFORMS_TO))
        return out

    def _conforms(self) -> bool:
        """The checks behind the WCAG 2.2 AA claim that the content lets us make automatically."""
        f = self.facts
        return (f.images_generic_alt == 0 and f.empty_links == 0 and f.animated == 0
                and f.tables_without_headers == 0 and bool(self.toc))

    def _summary(self, described: int, all_described: bool) -> str:
        f = self.facts
        n = len(self.toc)
        sections = sum(_count(e.children) for e in self.toc)
        parts = [f"This publication has {n} chapter{'s' if n != 1 else ''}"
                 + (f" and {sections} section{'s' if sections != 1 else ''}" if sections else "")
                 + ", all reachable from a table of contents; headings mark its structure and the"
                 " reading order follows the text."]
        if f.images:
            if all_described:
                parts.append("Its one image has a text description." if f.images == 1 else
                             f"Each of its {f.images} images has a text description.")
            else:
                bare = f.images_generic_alt
                parts.append(f"Of its {_n(f.images, 'image')}, {described} "
                             f"{'has' if described == 1 else 'have'} a text description;"
                             f" {bare} only {'says' if bare == 1 else 'say'} where"
                             f" {'it comes' if bare == 1 else 'they come'} from.")
        else:
            parts.append("It has no images: all content is text.")
        if f.tables:
            if f.tables == 1:
                parts.append("Its table " + ("has header cells." if not f.tables_without_headers
                                             else "has no header cells."))
            else:
                parts.append(f"Its {f.tables} tables " + (
                    "have header cells." if not f.tables_without_headers
                    else f"include {_n(f.tables_without_headers, 'table')} without header cells."))
        if f.footnotes:
            parts.append("Notes are linked from where they are referenced and back.")
        if self.pages:
            parts.append("Page numbers of the printed edition are marked in the text and listed"
                         " for navigation.")
        parts.append("Text size, fonts and colours follow the reader's settings.")
        if f.animated:
            parts.append("It contains animated images, which may flash.")
        else:
            parts.append("It has no known hazards: no sound, motion or flashing content.")
        if self._conforms():
            parts.append("It meets EPUB Accessibility 1.1 at WCAG 2.2 Level AA as far as the"
                         " automated checks of its build can tell.")
        return " ".join(parts)


# --------------------------------------------------------------------------------------------
# ebooklib glue: our bytes, exactly


class _RawHtml(epub.EpubHtml):
    """A document whose bytes ebooklib writes as they are (it would re-parse and re-template)."""

    def get_content(self, default=None):
        return self.content


class _RawNav(epub.EpubNav):
    def get_content(self, default=None):
        return self.content


class _RawWriter(epub.EpubWriter):
    """ebooklib's writer with our nav and NCX instead of the ones it generates."""

    ncx_bytes = b""

    def _get_nav(self, item):
        return item.content

    def _get_ncx(self):
        return self.ncx_bytes


def _reproducible_zip(data: bytes, when: dt.datetime) -> bytes:
    """The same entries with fixed times, attributes and order: mimetype first and stored."""
    stamp = max(when, dt.datetime(1980, 1, 1, tzinfo=dt.timezone.utc))
    date_time = (stamp.year, stamp.month, stamp.day, stamp.hour, stamp.minute, stamp.second)
    src = zipfile.ZipFile(io.BytesIO(data))
    names = src.namelist()
    first = ["mimetype", "META-INF/container.xml", "EPUB/content.opf"]
    order = [n for n in first if n in names] + sorted(n for n in names if n not in first)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        for name in order:
            info = zipfile.ZipInfo(name, date_time=date_time)
            info.create_system = 3
            info.external_attr = 0o644 << 16
            if name == "mimetype":
                info.compress_type = zipfile.ZIP_STORED
                dst.writestr(info, b"application/epub+zip")
            else:
                info.compress_type = zipfile.ZIP_DEFLATED
                dst.writestr(info, src.read(name), compresslevel=9)
    return out.getvalue()


# --------------------------------------------------------------------------------------------
# Helpers for the builder


def _rel(from_file: str, to_file: str) -> str:
    """Relative URL from one package file to another (both relative to EPUB/)."""
    target, _, frag = to_file.partition("#")
    rel = os.path.relpath(target, os.path.dirname(from_file) or ".").replace(os.sep, "/")
    return rel + (f"#{frag}" if frag else "")


def _item_id(name: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9_.-]", "-", name)
    return "i-" + stem


_RTL_LANGS = {"ar", "he", "iw", "fa", "ur", "yi", "ps", "dv", "ckb", "sd", "ug", "syr"}


def _rtl(lang: str) -> bool:
    primary = (lang or "").split("-")[0].lower()
    return primary in _RTL_LANGS or "-arab" in (lang or "").lower() and primary in ("ku", "pa")


def _valid_url(href: str) -> str | None:
    """href as a valid URL (EPUBCheck rejects spaces and other raw characters), None if hopeless."""
    href = href.strip()
    try:
        parts = urllib.parse.urlsplit(href)
        if parts.port is not None and not 0 < parts.port < 65536:
            return None
    except ValueError:
        return None
    return urllib.parse.quote(href, safe=":/?#[]@!$&'()*+,;=%~")


def _unique_id(body: etree._Element, base: str) -> str:
    taken = {el.get("id") for el in body.iter() if isinstance(el.tag, str) and el.get("id")}
    new, n = base, 2
    while new in taken:
        new, n = f"{base}-{n}", n + 1
    return new


def _safe_id(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "-", text) or "x"


def _names(authors: list[str]) -> str:
    if len(authors) <= 1:
        return "".join(authors)
    return ", ".join(authors[:-1]) + " and " + authors[-1]


def _file_as(name: str) -> str:
    """'Yves Wienecke' -> 'Wienecke, Yves' (single names and 'Last, First' stay as they are)."""
    parts = name.split()
    if "," in name or len(parts) < 2:
        return name
    return f"{parts[-1]}, {' '.join(parts[:-1])}"


def _display_date(iso: str) -> str:
    d = _parse_book_date(iso)
    if d is None:
        return iso
    if re.fullmatch(r"\d{4}", iso):
        return iso
    if re.fullmatch(r"\d{4}-\d{2}", iso):
        return d.strftime("%B %Y")
    return f"{d.strftime('%B')} {d.day}, {d.year}"


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _count(entries: list[_TocEntry]) -> int:
    return sum(1 + _count(e.children) for e in entries)


def _toc_list(ol: etree._Element, entries: list[_TocEntry]) -> None:
    for e in entries:
        li = etree.SubElement(ol, "li")
        a = etree.SubElement(li, "a", href=e.href)
        a.text = e.title
        if e.children:
            _toc_list(etree.SubElement(li, "ol"), e.children)


def _sections(body: etree._Element, file: str, title_h1, depth: int = 3) -> list[_TocEntry]:
    """Nested contents of a chapter: its headings down to level `depth` (h2, h3 by default)."""
    root: list[_TocEntry] = []
    stack: list[tuple[int, _TocEntry]] = []
    for h in body.iter(*_HEADINGS):
        if h is title_h1 or any(a.tag in _NOT_IN_TOC for a in h.iterancestors()):
            continue
        level = int(h.tag[1])
        if level > depth:
            continue
        text = _visible_text(h)
        if not text or not h.get("id"):
            continue
        entry = _TocEntry(text, f"{file}#{h.get('id')}")
        while stack and stack[-1][0] >= level:
            stack.pop()
        (stack[-1][1].children if stack else root).append(entry)
        stack.append((level, entry))
    # a chapter's notes (no heading of their own) are a place to go to as well
    for el in body.iter("section", "aside", "div", "ol"):
        if _etype(el) & {"footnotes", "endnotes", "rearnotes"} and el.get("id") \
                and not any(True for _ in el.iter(*_HEADINGS)):
            root.append(_TocEntry("Notes", f"{file}#{el.get('id')}"))
            break
    return root


_LIST_ITEMS = {"ul": ("li",), "ol": ("li",), "menu": ("li",), "dl": ("dt", "dd", "div"),
               "tr": ("td", "th")}


def _repair_lists(body: etree._Element) -> None:
    """Lists and rows may hold only their items: stray <br/>s go, other content joins an item.

    Old blog editors write ``<li>..</li><br/>``; an HTML parser keeps that, XHTML forbids it.
    """
    for parent in list(body.iter(*_LIST_ITEMS)):
        allowed = _LIST_ITEMS[parent.tag]
        item_tag = allowed[0] if parent.tag != "dl" else "dd"
        if parent.text and parent.text.strip():
            li = etree.Element(item_tag)
            li.text, parent.text = parent.text, None
            parent.insert(0, li)
        for child in list(parent):
            if not isinstance(child.tag, str):
                continue
            if child.tag in allowed or child.tag in ("script", "template"):
                if child.tail and child.tail.strip():  # text between items joins the item
                    child.append(etree.Element("br"))
                    child[-1].tail = child.tail
                    child.tail = None
                continue
            prev = child.getprevious()
            while prev is not None and not isinstance(prev.tag, str):
                prev = prev.getprevious()
            if child.tag == "br":
                tail = (child.tail or "").strip()
                if tail and prev is not None:
                    prev.append(child)  # keep the break and its text inside the item
                    continue
                remove_keep_tail(child)
                continue
            if prev is not None and prev.tag in allowed:
                prev.append(child)  # the tail travels with it
            else:
                item = etree.Element(item_tag)
                child.addprevious(item)
                item.append(child)


def _next_block(by_path: dict[str, etree._Element], path: tuple[int, ...]):
    """The first marked block after path in document order (for blocks the EPUB leaves out)."""
    later = [tuple(int(x) for x in k.split(".")) for k in by_path]
    later = sorted(p for p in later if p > tuple(path))
    return by_path[".".join(map(str, later[0]))] if later else None


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", unicodedata.normalize("NFKC", text).casefold())


_NO_SPAN_CHILD = {"ul", "ol", "dl", "menu", "table", "thead", "tbody", "tfoot", "tr", "colgroup",
                  "select", "optgroup", "datalist", "hgroup", "picture", "ruby"}
_DRAWN = {"img", "svg", f"{{{SVG_NS}}}svg", "video", "audio", "object", "canvas", "math",
          f"{{{MATHML_NS}}}math", "hr", "table"}


def _drawn_before(el: etree._Element, node: etree._Element, which: str) -> bool:
    """Whether el holds something drawn (an image, a rule...) before the text node."""
    for d in el.iter():
        if d is node and which == "text":
            return False
        if d.tag in _DRAWN:
            return True
        if d is node:  # a tail: everything inside node came before it
            return any(x.tag in _DRAWN for x in node.iter())
    return False


def _printed_words(pdf_mod, book: Book, limit: int = 40
                   ) -> dict[str, tuple[list[str], list[str]]]:
    """The first words printed on each page of the PDF edition, by folio ({} if unavailable):
    as printed, and without the URLs print shows after link texts."""
    try:
        result = pdf_mod.render(book, pdf_mod.settings_for(book))
        labels = list(result.page_labels)
        out = {}
        for i, text in enumerate(_page_texts(result.pdf)):
            if i < len(labels):
                # words broken at the line end by hyphenation are one word again
                text = re.sub(r"[\u2010\u00ad-]\s*\n\s*(?=\w)", "", text)
                # "<https://…>" after a link's text is print-only (the EPUB keeps it in href)
                loose = re.sub(r"<[a-z][a-z0-9+.-]*:[^<>]*>", " ", text, flags=re.I)
                out[labels[i]] = (_words(text)[:limit], _words(loose)[:limit])
        return out
    except Exception:  # block-level positions are still right at most pages
        return {}


def _page_texts(pdf: bytes) -> list[str]:
    """The text of every page: poppler's pdftotext (0.4 s for 100 pages) when installed, else
    pypdf (about 60 ms a page)."""
    import shutil
    import subprocess
    import tempfile

    tool = shutil.which("pdftotext")
    if tool:
        with tempfile.TemporaryDirectory() as d:
            path = Path(d) / "book.pdf"
            path.write_bytes(pdf)
            try:
                proc = subprocess.run([tool, "-enc", "UTF-8", str(path), "-"], capture_output=True,
                                      timeout=300)
                if proc.returncode == 0:
                    pages = proc.stdout.decode("utf-8", "replace").split("\f")
                    return pages[:-1] if pages and not pages[-1].strip() else pages
            except (OSError, subprocess.SubprocessError):
                pass
    from pypdf import PdfReader

    return [page.extract_text() or "" for page in PdfReader(io.BytesIO(pdf)).pages]


class _TextStream:
    """The words of a chapter body in reading order, each tied to the text node it sits in.

    Only text where a <span> may stand is included (not inside SVG or MathML).
    """

    def __init__(self, body: etree._Element):
        self.tokens: list[tuple[str, etree._Element, str, int]] = []  # word, node, which, offset
        self._enter: dict[int, int] = {}  # id(element) -> index of its first token
        # Print repeats a table's header on every page the table spans: a page never begins
        # inside a <thead>, so its words are no place to put a marker.
        self._in_head: set[int] = set()
        self._walk(body)
        self._words = [t[0] for t in self.tokens]
        self._where: dict[str, list[int]] = {}  # word -> its token indexes, ascending
        for i, w in enumerate(self._words):
            self._where.setdefault(w, []).append(i)

    def _from(self, word: str, lo: int) -> list[int]:
        """Token indexes of word at or after lo."""
        places = self._where.get(word, [])
        return places[bisect.bisect_left(places, lo):]

    def _walk(self, el: etree._Element) -> None:
        self._enter[id(el)] = len(self.tokens)
        if not isinstance(el.tag, str) or el.tag.startswith("{"):
            return  # comments, foreign content
        start = len(self.tokens)
        self._add(el, "text", el.text)
        for child in el:
            if isinstance(child.tag, str):
                self._walk(child)
            self._add(child, "tail", child.tail)
        if el.tag == "thead":
            self._in_head.update(range(start, len(self.tokens)))

    def _add(self, node, which: str, text: str | None) -> None:
        if not text:
            return
        norm = unicodedata.normalize("NFKC", text)
        if len(norm) != len(text):  # offsets must refer to the raw text: tokenise it as it is
            norm = text
        for m in re.finditer(r"\w+", norm):
            self.tokens.append((m.group().casefold(), node, which, m.start()))

    def first_token(self, el: etree._Element | None) -> int | None:
        return None if el is None else self._enter.get(id(el))

    def _hoist(self, index: int) -> etree._Element | None:
        """The outermost element that begins with this word (nothing drawn before it, or a
        figure: its image and caption share a page), if a span may stand before it."""
        _, node, which, _ = self.tokens[index]
        el = node if which == "text" else node.getparent()
        best = None
        while el is not None and el.getparent() is not None:
            if self._enter.get(id(el)) != index:
                break
            if el.tag != "figure" and _drawn_before(el, node, which):
                break
            if el.getparent().tag not in _NO_SPAN_CHILD:
                best = el
            el = el.getparent()
        return best

    def find(self, words: list[str], loose: list[str], lo: int) -> int | None:
        """Index of the first token at or after lo where a run of the page's words begins.

        First five words printed together (as printed, then without print-only URLs), a few
        words into the page at most; else the best in-order match of the page's words.
        """
        toks = self._words
        for seq in (words, loose):
            for j in range(min(15, len(seq))):
                run = seq[j:j + 5]
                if len(run) < 3:
                    break
                n = len(run)
                hits = [i for i in self._from(run[0], lo)
                        if toks[i:i + n] == run and i not in self._in_head]
                # repeated text (boilerplate, refrains): read on until one place is left
                while len(hits) > 1 and j + n < len(seq):
                    n += 1
                    longer = [i for i in hits if toks[i:i + n] == seq[j:j + n]]
                    if not longer:
                        break
                    hits = longer
                if hits:
                    return hits[0]
        words = loose or words
        # Print may show words the EPUB has not (link URLs after link text, QR captions):
        # accept a start where most of the following page words come in order.
        for j in range(min(20, len(words))):
            ahead = words[j:j + 10]
            if len(ahead) < 4:
                break
            for i in self._from(ahead[0], lo):
                if i in self._in_head:
                    continue
                k, hits = i + 1, 1
                for w in ahead[1:]:
                    for m in range(k, min(k + 4, len(toks))):
                        if toks[m] == w:
                            k, hits = m + 1, hits + 1
                            break
                if hits >= max(4, int(0.6 * len(ahead))):
                    return i
        return None

    def insert_before(self, index: int, span: etree._Element) -> None:
        host = self._hoist(index)
        if host is not None:  # a page that begins with a block: the marker goes before it
            host.addprevious(span)
            return
        _, node, which, offset = self.tokens[index]
        if which == "text":
            span.tail = node.text[offset:]
            node.text = node.text[:offset]
            node.insert(0, span)
        else:
            span.tail = node.tail[offset:]
            node.tail = node.tail[:offset]
            node.addnext(span)


def _animated(data: bytes) -> bool:
    try:
        from PIL import Image

        with Image.open(io.BytesIO(data)) as im:
            return bool(getattr(im, "is_animated", False))
    except Exception:
        return False


_REMOTE_CSS = re.compile(r"url\(\s*['\"]?\s*(?:https?:)?//[^)]*\)", re.I)
_IMPORT_CSS = re.compile(r"@import[^;]*;", re.I)


def _local_css(css: str) -> str:
    """No remote resources from stylesheets (EPUBCheck counts them; readers fetch them)."""
    return _IMPORT_CSS.sub("", _REMOTE_CSS.sub("none", css))


def _write_atomic(path: Path, data: bytes) -> None:
    import tempfile

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except OSError:
        pass  # a cache that cannot be written only costs time


def write_epub(book: Book, store=None) -> bytes:
    """The book as an EPUB 3 file (bytes); problems go to book.diagnostics."""
    return EpubBuilder(book, store).build()
