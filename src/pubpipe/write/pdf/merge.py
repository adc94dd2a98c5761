"""Merging a print edition laid out piece by piece into one PDF (pypdf).

The front matter's pages, then every body page: the chapter's page with the overlay's page (its
folio and running head; the overlay comes in parts of a few chapters) drawn over it, or, for a blank verso, the overlay's page alone. Named
destinations of all pieces are gathered into one name tree (anchors are unique in the book), a
link into another piece (``pp-xref:anchor``) becomes a link to that destination, and the outline
is written from every piece's bookmarks. Identical objects (fonts embedded in full, images used
twice) are stored once.
"""

from __future__ import annotations

import io

from ...layout.edition import Bookmark, Piece, PrintEdition
from ...layout.markup import XREF

PX = 0.75  # CSS px -> pt


def merge(edition: PrintEdition) -> bytes:
    """The book's PDF, before post-processing."""
    if edition.pdf is not None:
        return edition.pdf
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import (ArrayObject, DictionaryObject, FloatObject, NameObject,
                               NullObject, TextStringObject)

    front = next(p for p in edition.pieces if p.kind == "front")
    overlays = [p for p in edition.pieces if p.kind == "overlay"]  # in parts, in page order
    chapters = [p for p in edition.pieces if p.kind == "chapter"]
    readers = {id(p): PdfReader(io.BytesIO(p.pdf)) for p in edition.pieces}
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
    for overlay in overlays:
        over = readers[id(overlay)]
        for i in range(overlay.pages):
            ov_page = over.pages[i]
            book_index = overlay.first + i
            if book_index in owner:
                piece, j = owner[book_index]
                page = writer.add_page(readers[id(piece)].pages[j])
                page.merge_page(ov_page)
            else:  # a blank verso before a chapter
                writer.add_page(ov_page)

    # one name tree of every piece's anchors
    names: dict[str, ArrayObject] = {}
    for piece in [front, *chapters]:
        reader = readers[id(piece)]
        for name, dest in reader.named_destinations.items():
            local = reader.get_destination_page_number(dest)
            if local < 0 or local >= piece.pages:
                continue
            page = writer.pages[placed[id(piece)] + local]
            names[str(name)] = ArrayObject([
                page.indirect_reference, NameObject("/XYZ"),
                FloatObject(dest.left or 0), FloatObject(dest.top or 0), NullObject()])
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
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


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
