"""The EPUB 3 writer's core: the book's documents in reading order.

Reading order: cover page, title page, contents (the nav document, visible), one XHTML file per
chapter. Chapter bodies come from ``prepare.prepare_body(profile="epub")`` (a copy: the Book
is never changed) and are then made EPUB-ready on that copy: a safety net against anything
executable or remote, a heading id for every contents entry, alt text for every image, links into
other chapters pointed at their files, and the print edition's page markers when a page map is
given. The other modules of this package each do one part: ``images`` (cover and images),
``accessibility``, ``pagelist``, ``nav``, ``package``; ``xhtml`` holds their shared helpers.
"""

from __future__ import annotations

import posixpath
import re
from pathlib import Path

from lxml import etree

from ... import resources
from ...context import BuildContext
from ...document import EPUB_TYPE, Asset, Book, Chapter, Variant
from ...htmlmodel import HEADINGS
from ...i18n import labels_for
from ...layout.edition import PageMap, PageStart
from ...layout.pagemap import mark_blocks
from ...util import ids_in, is_rtl, long_date, remove_keep_tail, slugify, unique_name, valid_url
from ...prepare import prepare_body
from ..common import xhtml_document
from . import accessibility, images, nav, pagelist
from .accessibility import Facts
from .nav import TocEntry
from .package import Doc, package
from .xhtml import (FORBIDDEN, MATHML_NS, MEDIA, SVG_NS, drop_keep_text, etype, local_css,
                    rel, repair_lists, unique_id, visible_text)


class EpubBuilder:
    """The state of one EPUB being written: its files, facts, contents and page-list."""

    def __init__(self, book: Book, ctx: BuildContext, page_map: PageMap | None = None):
        self.book = book
        self.ctx = ctx
        self.diagnostics = ctx.diagnostics
        self.page_map = page_map
        self.lang = (book.meta.language or "en").strip() or "en"
        self.words = labels_for(self.lang, ctx.config.labels)  # the words this writer adds
        self.title = book.meta.title or (book.chapters[0].title if book.chapters else "") \
            or "Untitled"
        self.files: dict[str, tuple[bytes, str]] = {}  # EPUB/ path -> (bytes, media type)
        self.images: dict[str, str] = {}  # variant sha/path -> EPUB/ path
        self.facts = Facts()
        self.chapter_docs: list[Doc] = []
        self.toc: list[TocEntry] = []
        self.pages: list[tuple[str, str]] = []  # (href, label) in reading order
        self.css = ["css/epub.css"]
        self.cover_href = ""

    def build(self) -> bytes:
        self._stylesheets()
        cover_doc = images.cover_document(self)
        title_doc = self._title_page()
        self._chapters()
        nav_doc = nav.nav_document(self)
        ncx = nav.ncx(self)
        order = [cover_doc, title_doc, nav_doc] + self.chapter_docs
        return package(self, order, ncx)

    def asset_for(self, src: str) -> Asset | None:
        return images.asset_for(self, src)

    # ---- styles and documents ----------------------------------------------------------------

    def _stylesheets(self) -> None:
        css = resources.stylesheet("epub.css")
        components = resources.component_styles()
        if components.strip():
            css += "\n\n/* components */\n" + components
        css += resources.author_css(self.ctx.config.epub.css)
        self.files["css/epub.css"] = (local_css(css).encode("utf-8"), "text/css")

    def _css_hrefs(self, doc_file: str) -> list[str]:
        return [rel(doc_file, c) for c in self.css]

    def document(self, title: str, lang: str, children, file: str, attrs: dict) -> bytes:
        """An XHTML document of the package: lang, title, our stylesheet, text direction."""
        if is_rtl(lang):
            attrs = {**attrs, "dir": "rtl"}
        return xhtml_document(title, lang, children, self._css_hrefs(file), attrs)

    # ---- cover and title page ----------------------------------------------------------------

    # ---- title page --------------------------------------------------------------------------

    def _title_page(self) -> Doc:
        meta = self.book.meta
        doc = Doc("text/titlepage.xhtml", "titlepage", self.title)
        section = etree.Element("section")
        section.set(EPUB_TYPE, "titlepage")
        section.set("class", "pp-titlepage")
        section.set("aria-label", self.words("title-page"))
        h1 = etree.SubElement(section, "h1", {"class": "pp-title"})
        h1.text = self.title
        if meta.subtitle:
            p = etree.SubElement(section, "p", {"class": "pp-subtitle"})
            p.text = meta.subtitle
        if meta.authors:
            p = etree.SubElement(section, "p", {"class": "pp-authors"})
            p.text = self.words.names(meta.authors)
        bottom = [t for t in (meta.publisher, long_date(meta.date, self.lang)) if t]
        if bottom:
            p = etree.SubElement(section, "p", {"class": "pp-publisher"})
            p.text = " · ".join(bottom)
        if meta.rights:
            p = etree.SubElement(section, "p", {"class": "pp-rights"})
            p.text = meta.rights
        for para in meta.description.split("\n\n") if meta.description else ():
            p = etree.SubElement(section, "p", {"class": "pp-description"})
            p.text = para
        doc.content = self.document(self.title, self.lang, [section], doc.file,
                                     {"epub:type": "frontmatter"})
        self.facts.landmarks.setdefault("titlepage", doc.file)
        return doc

    # ---- chapters ----------------------------------------------------------------------------

    def _chapter_files(self) -> list[str]:
        used = {"cover", "titlepage", "nav"}
        return [f"text/{unique_name(slugify(ch.slug or ch.title) or f'chapter-{i}', used)}.xhtml"
                for i, ch in enumerate(self.book.chapters, 1)]

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
            src_ch = mark_blocks(ch)

        def asset_src(asset: Asset, variant: Variant) -> str:
            return rel(file, images.add_image(self, asset, variant))

        body = prepare_body(src_ch, self.book, profile="epub", asset_src=asset_src)
        self._clean(ch, body, file)
        if markers is not None:
            self.pages.extend(pagelist.insert_markers(body, markers, file))
        accessibility.alt_text(self, ch, body)
        self._heading_ids(body, file)
        return body


    def _clean(self, ch: Chapter, body: etree._Element, file: str) -> None:
        """Safety net: nothing executable, nothing remote but links, proper namespaces."""
        for el in list(body.iter()):
            if not isinstance(el.tag, str):
                continue
            tag = el.tag
            if tag in FORBIDDEN:
                remove_keep_tail(el) if tag in ("script", "style", "noscript", "link", "meta",
                                       "base") else drop_keep_text(el)
                continue
            if tag in MEDIA:
                drop_keep_text(el)
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
                    images.image_to_link(self, ch, el)
            elif tag == "a":
                href = el.get("href") or ""
                if re.match(r"^\s*(javascript|vbscript|data|file):", href, re.I):
                    del el.attrib["href"]
                elif href:
                    fixed = valid_url(href)
                    if fixed is None:
                        del el.attrib["href"]
                    elif fixed != href:
                        el.set("href", fixed)

        repair_lists(body)

    def _heading_ids(self, body: etree._Element, file: str) -> None:
        """Every heading has an id (the ids transform gives them; hand-made books may not)."""
        taken = ids_in(body)
        for h in body.iter(*HEADINGS):
            if h.get("id"):
                continue
            base = slugify(visible_text(h)) or "section"
            h.set("id", unique_name(base if base[0].isalpha() else f"s-{base}", taken))

    def _fix_links(self, ch: Chapter, body: etree._Element, file: str,
                   where: dict[str, str]) -> None:
        local = ids_in(body)
        for a in body.iter("a"):
            a.attrib.pop("data-pp-xref", None)  # an in-book link: its file and id are enough
            href = a.get("href")
            if href is None:
                continue
            if href.startswith("#"):
                target = href[1:]
                if not target or target in local:
                    continue
                if target in where:
                    a.set("href", rel(file, where[target]) + href)
                else:
                    del a.attrib["href"]
                    self.diagnostics.warn("epub-broken-link", f"link to '{href}' points at"
                                               " nothing in the book; kept as text", ch.source,
                                               a.sourceline)
            elif not re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", href) and not href.startswith("//"):
                # a relative link to a file that is not part of the EPUB would be an error
                del a.attrib["href"]
                self.diagnostics.warn("epub-local-link", f"link to '{href}' leaves the book;"
                                           " kept as text", ch.source, a.sourceline)

    def _chapter_doc(self, i: int, ch: Chapter, body: etree._Element, file: str) -> Doc:
        title = ch.title or next((visible_text(h) for h in body.iter("h1")), "") \
            or self.words("chapter-n", n=i + 1)
        doc = Doc(file, f"ch{i + 1:03d}", title)
        section = body
        section.tag = "section"
        section.set(EPUB_TYPE, " ".join(sorted(etype(section) | {"chapter"})))
        section.set("role", "doc-chapter")
        section.set("class", " ".join([*(section.get("class") or "").split(), "pp-chapter"]))
        h1 = next(iter(body.iter("h1")), None)
        if h1 is None:
            h1 = etree.Element("h1", {"class": "pp-chapter-title"})
            h1.text = title
            h1.set("id", unique_id(body, f"{Path(file).stem}-title"))
            section.insert(0, h1)
            h1.tail, section.text = section.text, None
        section.set("aria-labelledby", h1.get("id"))
        if section.get("id") is None:
            section.set("id", unique_id(body, f"{Path(file).stem}-chapter"))

        accessibility.collect(self.facts, body, file, doc)
        if i == 0:
            self.facts.landmarks.setdefault("bodymatter", file)
        depth = self.ctx.config.epub.toc_depth
        self.toc.append(TocEntry(title, file, nav.sections(body, file, h1, depth,
                                                           self.words("notes"))))
        lang = ch.lang or self.lang
        doc.content = self.document(title, lang, [section], file, {"epub:type": "bodymatter"})
        return doc

    # ---- print page numbers ------------------------------------------------------------------


    def _page_markers(self) -> dict[int, list[PageStart]]:
        """Per chapter index, where each printed page begins ({} without a page map)."""
        if not self.page_map:
            return {}
        return {i: self.page_map[ch.slug] for i, ch in enumerate(self.book.chapters)
                if ch.slug in self.page_map}
