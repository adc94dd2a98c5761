"""The print edition: what the layout stage hands to the writers.

The PDF writer merges, post-processes and preflights it; the EPUB writer reads only its
``page_map``. Everything here is plain data, so an edition can be cached and sent between
processes.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import NamedTuple

from .settings import PrintSettings

BlockPath = tuple[int, ...]


class Resource(NamedTuple):
    """A file the print sandbox may serve: path, media type and, for a cache file, the sha256
    its bytes must still have when a render worker reads it."""

    path: Path
    media_type: str
    sha256: str = ""


@dataclass(frozen=True)
class PageStart:
    """Where a printed page begins in a chapter.

    ``path``: indexes among *element* children only (comments and processing instructions
    skipped) leading from ``chapter.body`` to a block element (``htmlmodel.BLOCK_TAGS``); ``()``
    is the body itself (the page the chapter opens on). A page on which no block begins (one long
    paragraph or table running over it) is attributed to the block it continues, so two entries
    can share a path. ``label``: the folio printed on the page. ``words``: the first words printed
    on it (normalized), ``loose``: the same without the URLs print adds after link texts.
    """

    path: BlockPath
    label: str
    words: tuple[str, ...] = ()
    loose: tuple[str, ...] = ()


# chapter slug -> one entry per printed page of the chapter, in page order
PageMap = dict[str, list[PageStart]]


@dataclass(frozen=True)
class ImageFacts:
    """What preflight needs to know about an image the print edition uses."""

    id: str
    ref: str
    width: int
    height: int
    media_type: str
    bytes: int = 0
    file: str | None = None
    line: int | None = None
    uses: tuple[tuple[str, int | None], ...] = ()  # (file, line) of every use, first one first


@dataclass(frozen=True)
class PlacedImage:
    page: int  # 0-based
    src: str
    width: float  # printed size in points
    height: float
    alt: str = ""


@dataclass
class Measures:
    """What preflight measures on the laid-out pages (0-based page indexes)."""

    images: list[PlacedImage] = field(default_factory=list)
    outside_live: list[tuple[int, str]] = field(default_factory=list)  # text outside the live area
    past_margin: list[tuple[int, str]] = field(default_factory=list)  # text past the margins


@dataclass(frozen=True)
class Bookmark:
    level: int  # 1: chapter
    label: str
    page: int  # 0-based, in the piece (or book) it was read from
    x: float  # CSS px from the page's top left
    y: float


@dataclass
class Piece:
    """A part of the book laid out on its own: the front matter, a chapter, or what draws folios
    and running heads on the body pages (a part of the overlay, or the stamps). Page numbers in
    it are its own (0-based)."""

    kind: str  # front | chapter | overlay | stamps
    pdf: bytes
    pages: int  # pages to use (a last marker page on a recto, of the front matter or an overlay
    # part, is left out)
    first: int = 0  # index of its first page in the book
    chapter: int = -1  # the chapter's index, for kind "chapter"
    bookmarks: list[Bookmark] = field(default_factory=list)
    # kind "stamps" (the overlay as content streams, see layout/stamps.py): what to draw over
    # each page from first on, written against the resources of the pdf's first page; a page
    # with no chapter page under it (a blank verso) is a copy of that first page drawing it
    streams: list[bytes] = field(default_factory=list)


@dataclass
class PrintEdition:
    """The book laid out for print: the PDF as WeasyPrint wrote it (before post-processing),
    its folios, where each chapter opens and each page begins, and what preflight measures."""

    pdf: bytes | None  # the whole book as one PDF, when it was laid out as one document
    settings: PrintSettings
    page_labels: list[str]
    chapter_pages: dict[str, int]  # chapter section id -> index of its opening page (0-based)
    page_map: PageMap
    measures: Measures
    images: dict[str, ImageFacts]  # image URL in the print document -> its facts
    warnings: list[str] = field(default_factory=list)  # WeasyPrint's own (.notdef glyphs drawn)
    # (call page, note page), 0-based, of notes the layout could not keep on their call's page
    notes_apart: list[tuple[int, int]] = field(default_factory=list)
    # laid out piece by piece (chapters in parallel): the merge makes the PDF from these
    pieces: list[Piece] = field(default_factory=list)

    # ---- plain JSON for the stage cache (the PDF bytes are stored beside it) ----------------

    def to_json(self) -> dict:
        return {"settings": asdict(self.settings), "page_labels": self.page_labels,
                "chapter_pages": self.chapter_pages,
                "page_map": {k: [[list(p.path), p.label, list(p.words), list(p.loose)] for p in v]
                             for k, v in self.page_map.items()},
                "measures": {"images": [asdict(i) for i in self.measures.images],
                             "outside_live": self.measures.outside_live,
                             "past_margin": self.measures.past_margin},
                "images": {k: asdict(v) for k, v in self.images.items()},
                "warnings": self.warnings, "notes_apart": self.notes_apart}  # pieces: cached on their own

    @classmethod
    def from_json(cls, data: dict, pdf: bytes | None) -> PrintEdition:
        s = data["settings"]
        s["fonts"] = tuple(s["fonts"])
        m = data["measures"]
        return cls(
            pdf=pdf, settings=PrintSettings(**s), page_labels=list(data["page_labels"]),
            chapter_pages=dict(data["chapter_pages"]),
            page_map={k: [PageStart(tuple(p), str(lab), tuple(w), tuple(lw))
                          for p, lab, w, lw in v] for k, v in data["page_map"].items()},
            measures=Measures([PlacedImage(**i) for i in m["images"]],
                              [tuple(x) for x in m["outside_live"]],
                              [tuple(x) for x in m["past_margin"]]),
            images={k: ImageFacts(**{**v, "uses": tuple(tuple(u) for u in v.get("uses", ()))})
                    for k, v in data["images"].items()},
            warnings=list(data["warnings"]),
            notes_apart=[tuple(x) for x in data.get("notes_apart", [])])
