"""Merging a print edition laid out piece by piece into one PDF (pypdf).

The front matter's pages, then every body page: the chapter's page with the overlay's page (its
folio and running head; the overlay comes in parts of a few chapters) drawn over it, or, for a
blank verso, the overlay's page alone. The overlay's page is drawn as a form XObject made of its
own content stream, so neither page's content is parsed, re-encoded or renamed (pypdf's ``merge_page`` parses both and stores the
result uncompressed: twice the time and 9 MB more for a 500-page book). Named destinations of
all pieces are gathered into one name tree (anchors are unique in the book), a link into another
piece (``pp-xref:anchor``) becomes a link to that destination, and the outline is written from
every piece's bookmarks. Identical objects (fonts embedded in full, images used twice) are
stored once.

The result is a ``PdfWriter`` still in memory: post-processing and preflight work on it, and it
is serialized once (``write``).

Parsing the pieces is most of a merge's time. ``ReadAhead`` parses the chapters' PDFs in a thread
of this process while the layout's workers still lay out the front matter and the overlay (the
main process only waits for them then), so that work shares the cores with the layout instead
of running alone after it; what it has not read when the merge starts is read then.
"""

from __future__ import annotations

import io
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ...layout.edition import Bookmark, Piece, PrintEdition
from ...layout.markup import XREF

if TYPE_CHECKING:
    from pypdf import PageObject, PdfReader, PdfWriter

PX = 0.75  # CSS px -> pt


@dataclass
class Parsed:
    """A piece's PDF as pypdf reads it: every object parsed, its pages and named destinations
    (name, page in the piece, left, top)."""

    reader: PdfReader
    anchors: list[tuple[str, int, float, float]]


def parse(pdf: bytes) -> Parsed:
    """Parse a piece's PDF through (pypdf reads lazily: the merge then finds it all read)."""
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(pdf))
    anchors = []
    for name, dest in reader.named_destinations.items():
        anchors.append((str(name), reader.get_destination_page_number(dest),
                        float(dest.left or 0), float(dest.top or 0)))
    for num in range(1, int(reader.trailer.get("/Size", 0))):  # every object, so the merge
        try:  # finds none left to parse (content streams, fonts, images)
            reader.get_object(num)
        except Exception:  # noqa: BLE001 - a free or odd entry: the merge meets it, or not
            continue
    return Parsed(reader, anchors)


class ReadAhead:
    """The chapters' PDFs parsed in a thread while the layout goes on (see the module
    docstring). ``start(pdfs)`` from the layout stage; ``take()`` from the merge, once."""

    def __init__(self) -> None:
        self._done: dict[bytes, Parsed] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, pdfs: list[bytes]) -> None:
        if self._thread is not None or self._stop.is_set():
            return
        thread = threading.Thread(target=self._run, args=(list(pdfs),),
                                  name="pubpipe-pdf-read-ahead", daemon=True)
        try:
            thread.start()
        except RuntimeError:  # no thread to be had: the merge reads every piece itself
            return
        self._thread = thread

    def _run(self, pdfs: list[bytes]) -> None:
        for pdf in pdfs:
            if self._stop.is_set():
                return
            try:
                parsed = parse(pdf)
            except Exception:  # noqa: BLE001 - the merge reads it again and reports it
                continue
            with self._lock:
                self._done[pdf] = parsed

    def take(self) -> dict[bytes, Parsed]:
        """What has been parsed (the thread stops after the piece it is reading)."""
        self.stop()
        with self._lock:
            done, self._done = self._done, {}
        return done

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()


def merge(edition: PrintEdition, ahead: ReadAhead | None = None) -> PdfWriter:
    """The book's PDF, before post-processing, as a writer to finish in memory. ahead: the
    chapters parsed while they were still being laid out, if any."""
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import (ArrayObject, DictionaryObject, FloatObject, NameObject,
                               NullObject, TextStringObject)

    if edition.pdf is not None:  # laid out as one document
        reader = PdfReader(io.BytesIO(edition.pdf))
        writer = PdfWriter(clone_from=reader)
        writer.pdf_header = reader.pdf_header  # the version the variant needs (PDF/A, PDF/X)
        return writer

    front = next(p for p in edition.pieces if p.kind == "front")
    overlays = [p for p in edition.pieces if p.kind == "overlay"]  # in parts, in page order
    # (or, in their place, the stamps: one PDF and a content stream per page)
    chapters = [p for p in edition.pieces if p.kind == "chapter"]
    done = ahead.take() if ahead is not None else {}
    parsed = {id(p): done.get(p.pdf) or parse(p.pdf) for p in edition.pieces}
    readers = {k: v.reader for k, v in parsed.items()}
    writer = PdfWriter()
    placed: dict[int, int] = {}  # id(piece) -> index of its first page in the book
    for i in range(front.pages):
        writer.add_page(readers[id(front)].pages[i])
    placed[id(front)] = 0
    owner: dict[int, tuple[Piece, int]] = {}
    for piece in chapters:
        placed[id(piece)] = piece.first
        for j in range(piece.pages):
            owner[piece.first + j] = (piece, j)
    stamp = _Stamp()
    for drawn in [p for p in edition.pieces if p.kind == "stamps"]:
        streams = _Streams(writer, readers[id(drawn)].pages[0])
        for i, data in enumerate(drawn.streams):
            book_index = drawn.first + i
            if book_index in owner:
                piece, j = owner[book_index]
                streams.draw(writer.add_page(readers[id(piece)].pages[j]), data)
            else:  # a blank verso before a chapter
                streams.page_of_its_own(writer.add_page(readers[id(drawn)].pages[0]), data)
    for overlay in overlays:
        over = readers[id(overlay)]
        for i in range(overlay.pages):
            ov_page = over.pages[i]
            book_index = overlay.first + i
            if book_index in owner:
                piece, j = owner[book_index]
                page = writer.add_page(readers[id(piece)].pages[j])
                stamp.draw(writer, page, ov_page)
            else:  # a blank verso before a chapter
                writer.add_page(ov_page)

    # one name tree of every piece's anchors
    names: dict[str, ArrayObject] = {}
    for piece in [front, *chapters]:
        for name, local, left, top in parsed[id(piece)].anchors:
            if local < 0 or local >= piece.pages:
                continue
            page = writer.pages[placed[id(piece)] + local]
            names[name] = ArrayObject([
                page.indirect_reference, NameObject("/XYZ"),
                FloatObject(left), FloatObject(top), NullObject()])
    tree = ArrayObject()
    for name in sorted(names):
        tree.append(TextStringObject(name))
        tree.append(names[name])
    root = writer.root_object
    root[NameObject("/Names")] = DictionaryObject({NameObject("/Dests"): DictionaryObject(
        {NameObject("/Names"): tree})})

    # links into other pieces
    for page in writer.pages:
        annots = page.get("/Annots")
        if annots is None:
            continue
        keep = ArrayObject()
        for ref in annots.get_object():
            annot = ref.get_object()
            action = annot.get("/A")
            uri = str(action.get_object().get("/URI", "")) if action is not None else ""
            if uri.startswith(XREF):
                target = uri[len(XREF):]
                if target not in names:
                    continue  # nothing to go to: no link
                del annot[NameObject("/A")]
                annot[NameObject("/Dest")] = TextStringObject(target)
            keep.append(ref)
        page[NameObject("/Annots")] = keep

    # the outline
    marks: list[tuple[Bookmark, int]] = [(b, placed[id(front)] + b.page) for b in front.bookmarks]
    for piece in chapters:
        marks += [(b, piece.first + b.page) for b in piece.bookmarks]
    _outline(writer, marks)

    meta = readers[id(front)].metadata
    if meta:
        writer.add_metadata({k: str(v) for k, v in meta.items()})
    lang = readers[id(front)].trailer["/Root"].get("/Lang")
    if lang is not None:
        root[NameObject("/Lang")] = TextStringObject(str(lang))
    writer.compress_identical_objects(remove_duplicates=True, remove_unreferenced=True)
    return writer


def write(writer: PdfWriter) -> bytes:
    """The finished writer's bytes."""
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


class _Stamp:
    """Draws an overlay page over a body page as a form XObject.

    The body page's content becomes ``[q] content [Q /name Do]``: its graphics state is
    isolated (WeasyPrint leaves its y-flip in force), then the overlay draws in the page's own
    coordinates, clipped to its box like ``merge_page``'s. The two small streams are shared by
    every page."""

    NAME = "/PPoverlay"

    def __init__(self) -> None:
        self._pre = self._post = None

    def draw(self, writer: PdfWriter, page: PageObject, overlay: PageObject) -> None:
        from pypdf.generic import (ArrayObject, DecodedStreamObject, DictionaryObject,
                                   FloatObject, NameObject, StreamObject)

        raw = overlay.get("/Contents")
        contents = raw.get_object() if raw is not None else None
        if contents is None:
            return  # nothing to draw
        res = page.get("/Resources")
        res = res.get_object() if res is not None else DictionaryObject()
        xobjects = res.get("/XObject")
        xobjects = xobjects.get_object() if xobjects is not None else DictionaryObject()
        if not isinstance(contents, StreamObject) or overlay.get("/Annots") \
                or self.NAME in xobjects:
            page.merge_page(overlay)  # what this way does not cover: pypdf's own merge
            return
        form = contents.clone(writer)
        form[NameObject("/Type")] = NameObject("/XObject")
        form[NameObject("/Subtype")] = NameObject("/Form")
        form[NameObject("/BBox")] = ArrayObject(FloatObject(v) for v in overlay.mediabox)
        ov_res = overlay.get("/Resources")
        if ov_res is not None:
            ov_res = ov_res.get_object().clone(writer)
            ref = getattr(ov_res, "indirect_reference", None)
            form[NameObject("/Resources")] = ref if ref is not None else ov_res
        if "/Group" in overlay:
            form[NameObject("/Group")] = overlay["/Group"].clone(writer)
        # the page's own resources dictionary: WeasyPrint shares one among a piece's pages
        mine = DictionaryObject(res)
        mine_x = DictionaryObject(xobjects)
        mine_x[NameObject(self.NAME)] = form.indirect_reference
        mine[NameObject("/XObject")] = mine_x
        page[NameObject("/Resources")] = mine
        if self._pre is None:
            self._pre, self._post = DecodedStreamObject(), DecodedStreamObject()
            self._pre.set_data(b"q\n")
            self._post.set_data(f"\nQ\n{self.NAME} Do\n".encode())
        old = page["/Contents"]
        streams = [s.get_object() for s in old] if isinstance(old, ArrayObject) else [old]
        del page[NameObject("/Contents")]
        page.replace_contents(ArrayObject([self._pre, *streams, self._post]))


class _Streams:
    """Draws content streams written against the resources of one page of another PDF (the
    stamps: see layout/stamps.py) over body pages.

    The stream goes last in the page's content, after the page's own content isolated in
    ``q``/``Q``. Its resource names are prefixed (a font of the stamps and a chapter's font of
    the same name are different subsets), and the prefixed entries are added to the page's own
    copy of its resources; the objects they name are the same for every page."""

    PREFIX = "PPs"

    def __init__(self, writer: PdfWriter, template: PageObject) -> None:
        import re

        from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

        res = template.get("/Resources")
        res = res.get_object() if res is not None else DictionaryObject()
        self.entries: dict[str, dict] = {}
        names: set[str] = set()
        for category, d in res.items():
            d = d.get_object()
            if not isinstance(d, DictionaryObject):
                continue  # /ProcSet
            self.entries[category] = {
                NameObject(f"/{self.PREFIX}{key[1:]}"): value.clone(writer)
                for key, value in d.items()}
            names.update(key[1:] for key in d)
        alternatives = b"|".join(re.escape(n.encode("latin-1"))
                                 for n in sorted(names, key=len, reverse=True))
        self._names = re.compile(rb"/(" + alternatives + rb")(?=[\s/\[\]<>(){}%]|$)") \
            if names else None
        self._open, self._close = DecodedStreamObject(), DecodedStreamObject()
        self._open.set_data(b"q\n")
        self._close.set_data(b"\nQ\n")

    def _stream(self, data: bytes):
        from pypdf.generic import DecodedStreamObject

        s = DecodedStreamObject()
        s.set_data(data)
        return s.flate_encode()

    def _renamed(self, data: bytes) -> tuple[bytes, set[str]]:
        """The stream with its resource names prefixed, and the prefixed names it uses."""
        used: set[str] = set()
        if self._names is None:
            return data, used
        prefix = self.PREFIX.encode()

        def rename(m):
            used.add(f"/{self.PREFIX}{m.group(1).decode('latin-1')}")
            return b"/" + prefix + m.group(1)
        return self._names.sub(rename, data), used

    def _resources(self, page: PageObject, used: set[str], keep: bool) -> None:
        """The page's resources: its own (keep) and the stamps' entries the stream uses."""
        from pypdf.generic import DictionaryObject, NameObject

        res = page.get("/Resources") if keep else None
        mine = DictionaryObject(res.get_object() if res is not None else {})
        for category, entries in self.entries.items():
            wanted = {k: v for k, v in entries.items() if k in used}
            if not wanted:
                continue
            have = mine.get(category)
            merged = DictionaryObject(have.get_object() if have is not None else {})
            merged.update(wanted)
            mine[NameObject(category)] = merged
        page[NameObject("/Resources")] = mine

    def draw(self, page: PageObject, data: bytes) -> None:
        from pypdf.generic import ArrayObject, NameObject

        data, used = self._renamed(data)
        self._resources(page, used, keep=True)
        old = page["/Contents"]
        streams = [s.get_object() for s in old] if isinstance(old, ArrayObject) else [old]
        del page[NameObject("/Contents")]
        page.replace_contents(ArrayObject([self._open, *streams, self._close,
                                           self._stream(data)]))

    def page_of_its_own(self, page: PageObject, data: bytes) -> None:
        """A copy of the template page (its boxes) drawing this stream, with only the resources
        the stream uses (the template's hold every running head's fonts: a blank verso would
        carry fonts no page prints)."""
        from pypdf.generic import NameObject

        data, used = self._renamed(data)
        self._resources(page, used, keep=False)
        del page[NameObject("/Contents")]
        page.replace_contents(self._stream(data))


def _outline(writer, marks: list[tuple[Bookmark, int]]) -> None:
    from pypdf.generic import Fit, NameObject

    parents: list[tuple[int, object]] = []  # (level, outline item)
    for b, index in marks:
        page = writer.pages[index]
        box = page.mediabox
        fit = Fit.xyz(left=float(box.left) + b.x * PX, top=float(box.top) - b.y * PX)
        while parents and parents[-1][0] >= b.level:
            parents.pop()
        parent = parents[-1][1] if parents else None
        item = writer.add_outline_item(title=b.label, page_number=index, parent=parent, fit=fit)
        parents.append((b.level, item))
    if marks:
        writer.root_object[NameObject("/PageMode")] = NameObject("/UseOutlines")
