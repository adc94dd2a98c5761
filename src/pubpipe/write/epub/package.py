"""The EPUB package: OPF metadata, manifest and spine through ebooklib, written reproducibly.

ebooklib assembles the package (OPF, EPUB 2 guide) through its public API; the XHTML documents,
the nav and the NCX are ours byte for byte (``_RawHtml``; the nav and the NCX are added as plain
items, so ebooklib generates neither). The zip is reproducible: a fixed
identifier, ``dcterms:modified`` from SOURCE_DATE_EPOCH, else the book's date, else the newest
source file, and fixed entry times and order.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import re
import uuid
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ebooklib import epub
from lxml import etree

from ...document import Book
from ...util import is_rtl
from .accessibility import SUMMARY
from .accessibility import metadata as accessibility_metadata
from .xhtml import file_as, item_id

if TYPE_CHECKING:
    from .builder import EpubBuilder

XML_NS = "http://www.w3.org/XML/1998/namespace"


@dataclass
class Doc:
    """One XHTML document of the package."""

    file: str  # path inside EPUB/, e.g. "text/intro.xhtml"
    uid: str
    title: str
    content: bytes = b""
    properties: list[str] = field(default_factory=list)
    linear: bool = True


def _parse_book_date(text: str) -> dt.datetime | None:
    m = re.match(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?", text or "")
    if not m:
        return None
    try:
        return dt.datetime(int(m[1]), int(m[2] or 1), int(m[3] or 1), tzinfo=dt.timezone.utc)
    except ValueError:
        return None


def modified_time(book: Book, config_file: Path | None = None) -> dt.datetime:
    """dcterms:modified: SOURCE_DATE_EPOCH, else the book's date, else the newest source's mtime."""
    sde = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if sde.isdigit():
        return dt.datetime.fromtimestamp(int(sde), dt.timezone.utc)
    when = _parse_book_date(book.meta.date)
    if when is not None:
        return when
    mtimes = []
    for p in [ch.source for ch in book.chapters] + [config_file, book.meta.cover]:
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


def package(b: EpubBuilder, order: list[Doc], ncx: bytes) -> bytes:
    """The EPUB file: metadata, manifest, spine and guide around the documents in order."""
    meta = b.book.meta
    modified = modified_time(b.book, b.ctx.config_file)
    eb = epub.EpubBook()
    eb.FOLDER_NAME = "EPUB"
    eb.metadata = {}  # drop ebooklib's generator line and random identifier
    eb.set_identifier(book_identifier(b.book))
    eb.title = b.title
    eb.language = b.lang
    if is_rtl(b.lang):  # pages turn right to left
        eb.set_direction("rtl")
    eb.add_metadata("DC", "title", b.title, {"id": "title"})
    eb.add_metadata(None, "meta", "main", {"refines": "#title", "property": "title-type"})
    if meta.subtitle:
        eb.add_metadata("DC", "title", meta.subtitle, {"id": "subtitle"})
        eb.add_metadata(None, "meta", "subtitle",
                        {"refines": "#subtitle", "property": "title-type"})
    eb.add_metadata("DC", "language", b.lang)
    for k, name in enumerate(meta.authors, 1):
        uid = f"creator-{k}"
        eb.add_metadata("DC", "creator", name, {"id": uid})
        eb.add_metadata(None, "meta", "aut", {"refines": f"#{uid}", "property": "role",
                                             "scheme": "marc:relators"})
        eb.add_metadata(None, "meta", file_as(name), {"refines": f"#{uid}",
                                                       "property": "file-as"})
    if meta.date:
        eb.add_metadata("DC", "date", meta.date)
    for dc_name, value in (("publisher", meta.publisher), ("rights", meta.rights),
                           ("description", meta.description)):
        if value:
            eb.add_metadata("DC", dc_name, value)
    if b.pages:  # EPUB 3.3 / Accessibility 1.1: the source of the page breaks
        size = b.ctx.config.pdf.page_size
        source = f"{b.title}, print edition (PDF{', ' + size if size else ''})"
        eb.add_metadata("DC", "source", source)
        eb.add_metadata(None, "meta", source, {"property": "pageBreakSource"})
    for kw in meta.keywords:
        if kw.strip():
            eb.add_metadata("DC", "subject", kw.strip())
    # a language without the summary in its catalogue gets it in English, and says so
    english = (b.lang.split("-")[0].lower() != "en"
               and b.words.gettext(SUMMARY["structure"]) == SUMMARY["structure"])
    for prop, value in accessibility_metadata(b.facts, b.toc, b.pages, b.words):
        attrs = {"property": prop}
        if prop == "schema:accessibilitySummary" and english:
            attrs[f"{{{XML_NS}}}lang"] = "en"
        eb.add_metadata(None, "meta", value, attrs)
    eb.add_metadata(None, "meta", "", {"name": "cover", "content": "cover-image"})
    eb.add_metadata(None, "meta", "", {"name": "generator", "content": "pubpipe"})

    items = {}
    for doc in order:
        # the nav too: an XHTML document like the others, its "nav" property in the manifest
        item = _RawHtml(uid=doc.uid, file_name=doc.file, title=doc.title)
        item.content = doc.content
        item.properties = list(doc.properties)
        eb.add_item(item)
        items[doc.file] = item
    # the NCX as a plain item: the spine names it by its id, "ncx" (ebooklib's default)
    eb.add_item(epub.EpubItem(uid="ncx", file_name="toc.ncx",
                              media_type="application/x-dtbncx+xml", content=ncx))
    for name, (data, mtype) in sorted(b.files.items()):
        if name == b.cover_href:
            item = epub.EpubCover(uid="cover-image", file_name=name)
            item.media_type = mtype
        else:
            item = epub.EpubItem(uid=item_id(name), file_name=name, media_type=mtype)
        item.content = data
        eb.add_item(item)
    eb.spine = [items[d.file] for d in order]
    eb.toc = []  # our own nav and NCX, added as documents: ebooklib generates neither
    w = b.words
    guide = [("cover", w("cover"), "cover"), ("titlepage", w("title-page"), "title-page"),
             ("bodymatter", w("start-of-content"), "text")]
    eb.guide = [{"href": b.facts.landmarks[k], "title": t, "type": g}
                for k, t, g in guide if k in b.facts.landmarks]
    eb.guide.insert(min(2, len(eb.guide)), {"href": "nav.xhtml", "title": w("contents"),
                                             "type": "toc"})
    buf = io.BytesIO()
    writer = epub.EpubWriter(buf, eb, {"epub3_pages": False, "epub3_landmark": False,
                                       "epub2_guide": True, "raise_exceptions": True,
                                       "mtime": modified.replace(tzinfo=None)})
    writer.process()
    writer.write()
    return _reproducible_zip(buf.getvalue(), modified, b.lang)


# --------------------------------------------------------------------------------------------
# ebooklib glue: our bytes, exactly


class _RawHtml(epub.EpubHtml):
    """A document whose bytes ebooklib writes as they are (it would re-parse and re-template)."""

    def get_content(self, default=None):
        return self.content


def _package_language(opf: bytes, lang: str) -> bytes:
    """The OPF with xml:lang on its package element (the language of its metadata, which
    reading systems and Ace by DAISY read there); ebooklib has no option to write it."""
    root = etree.fromstring(opf)
    root.set(f"{{{XML_NS}}}lang", lang)
    return etree.tostring(root, xml_declaration=True, encoding="utf-8")


def _reproducible_zip(data: bytes, when: dt.datetime, lang: str) -> bytes:
    """The same entries with fixed times, attributes and order: mimetype first and stored;
    the package's language set on the OPF."""
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
                body = src.read(name)
                if name == "EPUB/content.opf":
                    body = _package_language(body, lang)
                dst.writestr(info, body, compresslevel=9)
    return out.getvalue()
