"""Print markup: the whole book as one HTML document for WeasyPrint.

Title page, its verso (rights), a contents page (page numbers through ``target-counter`` with
dotted leaders) and every chapter (via ``prepare.prepare_body(profile="print")``, blocks
marked for the page map), with the adjustments paper needs (``printfixes``). Styled by
``styles.stylesheets``. The writer's own styling hooks are ``data-ppw`` attributes: the sanitizer
lets no author markup carry data-* attributes, so no post can restyle the book by borrowing a class.
"""

from __future__ import annotations

import re
import weakref
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree
from lxml import html as lxml_html

from ..document import Book, Chapter
from ..i18n import Labels, labels_for
from ..resources import author_rules
from ..util import ids_in, is_rtl, long_date, slugify, text_of
from ..prepare import prepare_body
from ..qr import qr_element
from .edition import ImageFacts, Resource
from .mathsvg import DrawingCache
from .mathsvg import Note as FormulaNote
from .mathsvg import place_all as place_formulas
from .pagemap import BLOCK_MARK, mark_blocks
from . import notes
from .printfixes import footnotes, mark_fitting_blocks, print_fixes
from .settings import PrintSettings, parse_length, text_height, text_width
from .styles import ASSET_URL, STAMP_PAIRS


@dataclass
class PrintDocument:
    html: str
    resources: dict[str, Resource]  # URL -> (file, media type) the fetcher may serve
    chapter_ids: list[str]  # section id per chapter, in order
    block_ids: dict[str, tuple[str, tuple[int, ...]]] = field(default_factory=dict)
    block_seq: dict[str, int] = field(default_factory=dict)  # anchor -> document order
    images: dict[str, ImageFacts] = field(default_factory=dict)  # URL -> facts for preflight
    image_ids: dict[str, tuple[str, str]] = field(default_factory=dict)  # anchor -> (src, alt)
    # per source entry, the anchors its page back-links point to (see printfixes.print_fixes)
    pageref_groups: list[list[str]] = field(default_factory=list)
    # formulas that had to be broken or scaled to fit the measure, or could not be drawn
    formulas: list[tuple[Path, FormulaNote]] = field(default_factory=list)
    note_ids: set[str] = field(default_factory=set)  # ids of the footnotes
    has_pagerefs: bool = False  # prints page numbers of its own pages ("p. 7" back-links)
    # links that print the page of a place in another piece ("see p. 42"): target anchor ->
    # the label printed, given by the caller (a piece cannot count another piece's pages)
    xrefs: dict[str, str] = field(default_factory=dict)

    @property
    def has_xrefs(self) -> bool:
        return bool(self.xrefs)


def _file_size(path) -> int:
    try:
        return Path(path).stat().st_size
    except (OSError, TypeError):
        return 0


def chapter_id(i: int, ch: Chapter) -> str:
    return f"ch-{slugify(ch.slug or ch.title) or i}-{i}"


XREF = "pp-xref:"  # a link to an anchor in another piece of the book (resolved when merging)
# printed for a page not known yet (a cold build): as wide as a typical folio, so the first layout
# is usually the right length
XREF_PLACEHOLDER = "000"


def chapter_index(section_id: str) -> int | None:
    """The index in book.chapters of the chapter whose section has this id (``chapter_id``)."""
    tail = section_id.rsplit("-", 1)[-1]
    return int(tail) - 1 if tail.isdigit() else None


def build_print_html(book: Book, settings: PrintSettings,
                     anchor_pages: dict[str, int] | None = None,
                     breaks: frozenset[str] = frozenset(),
                     math_cache: DrawingCache | None = None, *,
                     front: bool = True, chapters: list[int] | None = None,
                     folios: list[int] | None = None,
                     xref_labels: dict[str, str] | None = None) -> PrintDocument:
    """The book, or a piece of it, as one HTML document for WeasyPrint.

    By default the whole book. A piece: the front matter only (``chapters=[]``) or one chapter
    (``front=False, chapters=[n]``); links to anchors in other pieces become ``pp-xref:`` URIs that
    the merge turns into links within the PDF. folios: the first folio of every chapter, printed
    in the contents as numbers (a piece cannot count pages in other pieces). With anchor_pages
    (from a first layout), a source's back-links that lead to a page already linked from the
    same entry are left out: "p. 7" once, not "p. 7 p. 7". breaks: anchors at which a block is
    split so that a note's call goes to the page of its note (see notes.anchor_note_calls).
    math_cache: where formula drawings are kept between builds. xref_labels: in a piece, the
    page label a link into another piece prints ("see p. 42"), by target anchor
    (``XREF_PLACEHOLDER`` where not given); what was printed is in ``PrintDocument.xrefs``.
    """
    whole = front and chapters is None
    wanted = range(len(book.chapters)) if chapters is None else chapters
    meta = book.meta
    lang = meta.language or "en"
    words = labels_for(lang, book.labels)
    res: dict[str, Resource] = {}
    images: dict[str, ImageFacts] = {}

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

    # running heads are one line of 8.5pt italic across the text block (3/4 of the trim width)
    head_chars = running_head_chars(settings)
    chapter_ids = [chapter_id(i, ch) for i, ch in enumerate(book.chapters, 1)]
    doc = PrintDocument(html="", resources=res, chapter_ids=chapter_ids, images=images)
    if front:
        _front_matter(body, book, settings, chapter_ids, folios, words)
        if not wanted and not whole:  # see styles.piece_css
            etree.SubElement(body, "div", {"data-ppw": "end"})
    if wanted:
        # position bookmarks in pieces only: a book laid out whole may have thousands of blocks,
        # and WeasyPrint's check of one bookmark per box is quadratic in their number
        _chapters(body, book, settings, doc, wanted, anchor_pages, head_chars, breaks, math_cache,
                  words, marks=not whole and not author_rules(settings.css))
    for el in root.iter():
        # namespaced attributes (epub:type) mean nothing to the HTML parser: leave them out
        if isinstance(el.tag, str):
            for name in [n for n in el.attrib if n.startswith("{") or ":" in n]:
                del el.attrib[name]
    etree.cleanup_namespaces(root)
    if not whole:
        ids = ids_in(root)
        for a in root.iter("a"):
            href = a.get("href") or ""
            if href.startswith("#") and href[1:] not in ids:
                a.set("href", XREF + href[1:])
                if a.get("data-ppw-xref") is not None:  # its page as text: see styles.piece_css
                    label = (xref_labels or {}).get(href[1:], XREF_PLACEHOLDER)
                    a.set("data-ppw-page", label)
                    doc.xrefs[href[1:]] = label
    # pages of its own that a piece prints (target-counter): source back-links "p. 7", and
    # "see p. 7" into the same chapter; their numbers depend on the piece's first folio
    doc.has_pagerefs = any(a.get("data-ppw") == "pageref" or (
        a.get("data-ppw-xref") is not None and (a.get("href") or "").startswith("#"))
        for a in root.iter("a"))
    doc.html = "<!DOCTYPE html>\n" + lxml_html.tostring(root, encoding="unicode", method="html")
    return doc


def running_head_chars(settings: PrintSettings) -> int:
    """How many characters of a title fit in a running head (8.5pt italic, 3/4 of the trim)."""
    return max(24, int(settings.trim_w * 0.75 / 4.6))


def _front_matter(body, book: Book, settings: PrintSettings, chapter_ids: list[str],
                  folios: list[int] | None, words: Labels) -> None:
    """Title page, its verso and the contents."""
    meta = book.meta
    lang = meta.language or "en"
    tp = etree.SubElement(body, "section", {"class": "pp-titlepage", "data-ppw": "titlepage"})
    h = etree.SubElement(tp, "h1", {"class": "pp-book-title", "data-ppw": "book-title"})
    h.text = meta.title or "Untitled"
    h.set("data-pp-running", _shorten(h.text, running_head_chars(settings)))
    if meta.subtitle:
        etree.SubElement(tp, "p", {"data-ppw": "book-subtitle"}).text = meta.subtitle
    if meta.authors:
        etree.SubElement(tp, "p", {"data-ppw": "book-authors"}).text = words.names(meta.authors)
    if meta.date:
        etree.SubElement(tp, "p", {"data-ppw": "book-date"}).text = long_date(meta.date, lang)
    if meta.publisher:
        etree.SubElement(tp, "p", {"data-ppw": "book-publisher"}).text = meta.publisher

    # Verso of the title page: rights, publisher, date, identifier
    cp = etree.SubElement(body, "section", {"class": "pp-copyright", "data-ppw": "copyright"})
    for text in (words("copyright", rights=meta.rights) if meta.rights and "\u00a9" not in
                 meta.rights and not meta.rights.lower().startswith(("copyright", "cc", "public"))
                 else meta.rights, meta.publisher,
                 meta.date and words("published", date=long_date(meta.date, lang)),
                 meta.identifier):
        if text:
            etree.SubElement(cp, "p").text = text
    if not len(cp):
        etree.SubElement(cp, "p").text = "\u00a0"  # keeps the verso blank but present

    # Contents
    toc = etree.SubElement(body, "nav", {"class": "pp-contents", "data-ppw": "contents"})
    th = etree.SubElement(toc, "h2", {"data-ppw": "contents-title"})
    th.text = words("contents")
    ol = etree.SubElement(toc, "ol")
    for n, (cid, ch) in enumerate(zip(chapter_ids, book.chapters)):
        li = etree.SubElement(ol, "li")
        a = etree.SubElement(li, "a", href=f"#{cid}")
        if folios is not None:  # the page number as text: see styles.piece_css
            a.set("data-ppw-page", str(folios[n]))
        etree.SubElement(a, "span", {"class": "pp-toc-text"}).text = _chapter_title(ch)
        if ch.authors and list(ch.authors) != list(meta.authors):  # an anthology: who wrote it
            etree.SubElement(li, "span", {"data-ppw": "toc-author"}).text = ", ".join(ch.authors)


def _chapters(body, book: Book, settings: PrintSettings, doc: PrintDocument, wanted,
              anchor_pages: dict[str, int] | None, head_chars: int,
              breaks: frozenset[str], math_cache: DrawingCache | None, words: Labels,
              marks: bool = False) -> None:
    """The chapters numbered in wanted, each in its section, blocks marked for the page map."""
    lang = book.meta.language or "en"
    chapter_ids = doc.chapter_ids
    res, images = doc.resources, doc.images

    def asset_src(asset, variant):
        url = f"{ASSET_URL}{asset.id}.{variant.extension}"
        res[url] = Resource(Path(variant.path), variant.media_type, variant.sha256)
        loc = asset.locations[0] if asset.locations else None
        images[url] = ImageFacts(asset.id, asset.ref, variant.width, variant.height,
                                 variant.media_type, _file_size(variant.path),
                                 str(loc.file) if loc and loc.file else None,
                                 loc.line if loc else None,
                                 tuple((str(u.file), u.line) for u in asset.locations if u.file))
        return url

    matter = etree.SubElement(body, "div", {"class": "pp-bodymatter", "data-ppw": "bodymatter"})
    slugs = {ch.slug: cid for cid, ch in zip(chapter_ids, book.chapters) if ch.slug}
    # ids are unique book-wide (the ids stage): which chapter holds each, for links across them
    owner = _IdOwners(book, chapter_ids)
    for n in wanted:
        cid, ch = chapter_ids[n], book.chapters[n]
        marked = mark_blocks(ch)
        cbody = prepare_body(marked, book, profile="print", asset_src=asset_src, qr=qr_element)
        # WeasyPrint lays out no MathML: formulas become vector drawings fitted to the measure
        measure_em = text_width(settings) / (parse_length(settings.font_size) or 10.5)
        doc.formulas.extend((ch.source, n)
                            for n in place_formulas(cbody, measure_em, math_cache))
        sec = etree.SubElement(matter, "section", {
            "class": "pp-chapter", "id": cid, "data-ppw": "chapter"})
        if n == 0:
            sec.set("data-ppw-first", "")
        sec.set("data-pp-slug", ch.slug or cid)
        if ch.lang and ch.lang != lang:
            sec.set("lang", ch.lang)
            rtl = is_rtl(ch.lang)
            if rtl != settings.rtl:
                sec.set("dir", "rtl" if rtl else "ltr")
        _chapter_opening(sec, cbody, ch, head_chars)
        _namespace_ids(cbody, cid, slugs, owner)
        footnotes(cbody)
        notes.long_notes_in_text(cbody, text_width(settings), text_height(settings),
                                  parse_length(settings.font_size) or 10.5)
        notes.anchor_note_calls(cbody, breaks)
        doc.note_ids.update(el.get("id") for el in cbody.iter("span")
                            if el.get("data-ppw") == "footnote" and el.get("id"))
        doc.pageref_groups.extend(print_fixes(cbody, settings, anchor_pages))
        mark_fitting_blocks(cbody, settings)
        # references sit in the chapter's text: its language's words
        _page_references(cbody, words if not ch.lang or ch.lang == lang else
                         labels_for(ch.lang, book.labels))
        # one anchor per block so the layout tells where each page begins: in a piece, a
        # position bookmark (pagemap.BLOCK_MARK) where the block has no id, since an id of its
        # own keeps WeasyPrint from sharing one computed style between sibling paragraphs
        doc.block_ids[cid] = (ch.slug or cid, ())
        doc.block_seq[cid] = len(doc.block_seq)  # before its blocks: it wins ties on a page
        k = j = 0
        for el in cbody.iter():
            if not isinstance(el.tag, str):
                continue
            if el.tag == "img" and el.get("src") in images:
                # an anchor per image: the layout says on which page it prints, at what size
                if not el.get("id"):
                    el.set("id", f"ppi-{n}-{j}")
                    j += 1
                doc.image_ids[el.get("id")] = (el.get("src"), el.get("alt") or "")
            p = el.attrib.pop("data-pp-block", None)
            if p is None:
                continue
            path = tuple(int(x) for x in p.split(".")) if p else ()
            key = el.get("id")
            if not key:
                key = f"ppb-{n}-{k}"
                k += 1
                if marks and el.tag not in _HEADINGS:  # headings' bookmarks are the outline's
                    el.set("data-ppw-b", BLOCK_MARK + key)
                else:
                    el.set("id", key)
            doc.block_ids[key] = (ch.slug or cid, path)
            doc.block_seq[key] = len(doc.block_seq)
        for child in list(cbody):
            sec.append(child)
        if cbody.text and cbody.text.strip():
            # stray text directly in the body root: keep it
            span = etree.Element("p")
            span.text = cbody.text
            sec.insert(1, span)



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


class _IdOwners:
    """Which chapter (section id) holds each id, book-wide, looked up only for a link to an id
    its own chapter lacks, and gathered once per book: a piece is one chapter, and walking every
    chapter for each made the markup of a 40-chapter book quadratic."""

    _last: tuple = ()  # (the book, its chapter bodies, chapter ids, the mapping)

    def __init__(self, book: Book, chapter_ids: list[str]):
        self.book, self.chapter_ids = book, chapter_ids

    def get(self, target: str, default: str) -> str:
        book, ids = self.book, self.chapter_ids
        bodies = [ch.body for ch in book.chapters]
        last = _IdOwners._last
        if not (last and last[0]() is book and len(last[1]) == len(bodies)
                and all(a is b for a, b in zip(last[1], bodies)) and last[2] == ids):
            owner = {el.get("id"): cid for cid, body in zip(ids, bodies)
                     for el in body.iter() if isinstance(el.tag, str) and el.get("id")}
            last = _IdOwners._last = (weakref.ref(book), bodies, list(ids), owner)
        return last[3].get(target, default)


def _namespace_ids(cbody, cid: str, slugs: dict[str, str], owner: _IdOwners) -> None:
    """Chapters share one HTML document here: make their ids unique and links follow (into
    the chapter that holds the id). A relative address that is not in the book loses its href:
    the renderer would resolve it against an address made up for the sandbox."""
    prefix = f"{cid}--"
    local = {el.get("id") for el in cbody.iter() if isinstance(el.tag, str) and el.get("id")}
    for el in cbody.iter():
        if not isinstance(el.tag, str):
            continue
        if el.get("id"):
            el.set("id", prefix + el.get("id"))
        if el.tag == "a" and (href := el.get("href")):
            if href.startswith("#") and len(href) > 1:
                target = href[1:]
                home = cid if target in local else owner.get(target, cid)
                el.set("href", f"#{home}--{target}")
            else:
                m = re.match(r"^([^/#:?]+?)(?:\.x?html?)?(?:#(.*))?$", href)
                if m and m[1] in slugs:
                    target = slugs[m[1]]
                    el.set("href", f"#{target}--{m[2]}" if m[2] else f"#{target}")
                elif not re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", href):
                    del el.attrib["href"]


def _page_references(cbody, words: Labels) -> None:
    """Links within the book print the page they lead to ("see p. 42", in the language of the
    text they sit in), once per target in a paragraph; back-links of sources print theirs
    ("↑ p. 7"). print.css draws the numbers (target-counter) between the words kept in the
    data-ppw-* attributes."""
    cjk = words.lang.split("-")[0].lower() in ("zh", "ja", "ko")
    seen: set[tuple[int, str]] = set()
    for a in cbody.iter("a"):
        href = a.get("href") or ""
        if a.attrib.pop("data-pp-xref", None) is not None and href.startswith("#"):
            block = next((p for p in a.iterancestors() if p.tag in _REF_BLOCKS), cbody)
            if (id(block), href) in seen:
                continue  # the same place named twice in one paragraph: its page once
            seen.add((id(block), href))
            before, after = words.split("see-page", "page")
            a.set("data-ppw-xref", "")
            a.set("data-ppw-open", "\uff08" if cjk else " (")
            a.set("data-ppw-close", "\uff09" if cjk else ")")
        elif a.get("data-ppw") == "pageref":
            before, after = words.split("page", "page")
        else:
            continue
        a.set("data-ppw-before", before)
        a.set("data-ppw-after", after)


_HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
_REF_BLOCKS = {"p", "li", "td", "th", "dd", "dt", "figcaption", "blockquote", "h1", "h2", "h3",
               "h4", "h5", "h6"}


def _page_rules_document(book: Book, settings: PrintSettings):
    """An empty body-matter document of the book (its language, direction and preset), for what
    only the page rules draw: (root, body, the body matter's element)."""
    root = etree.Element("html", lang=book.meta.language or "en")
    if settings.rtl:
        root.set("dir", "rtl")
    head = etree.SubElement(root, "head")
    etree.SubElement(head, "meta", charset="utf-8")
    body = etree.SubElement(root, "body")
    body.set("class", " ".join(c for c in (
        "pp-book", f"pp-preset-{settings.preset}" if settings.preset else "") if c))
    matter = etree.SubElement(body, "div", {"class": "pp-bodymatter", "data-ppw": "bodymatter"})
    return root, body, matter


def overlay_html(book: Book, settings: PrintSettings, pages: list[int], first: int = 0) -> str:
    """Body pages of the book with nothing on them but what the page rules draw: folios and
    running heads, for the chapters first, first + 1, ... (pages: how many pages each has). Each
    chapter opens on a recto, as in the book, so the blank versos between chapters fall where
    they fall there. Unless it ends the book, a part ends with a marker page on the next recto
    (left out: see styles.piece_css), so the blank verso after an odd chapter is in it."""
    meta = book.meta
    root, body, matter = _page_rules_document(book, settings)
    chars = running_head_chars(settings)
    hidden = {"data-ppw": "overlay-hidden"}
    chapters = book.chapters[first:first + len(pages)]
    for n, (ch, count) in enumerate(zip(chapters, pages)):
        sec = etree.SubElement(matter, "section", {"class": "pp-chapter", "data-ppw": "chapter"})
        if n == 0:  # the part's folios start here (see styles.piece_css)
            sec.set("data-ppw-first", "")
            book_title = meta.title or "Untitled"
            etree.SubElement(sec, "p", {**hidden, "data-pp-running": _shorten(book_title, chars),
                                        "class": "pp-book-title-string"})
        title = _chapter_title(ch)
        etree.SubElement(sec, "h1", {**hidden, "data-pp-running": _shorten(title, chars),
                                     "class": "pp-chapter-title-string"})
        for _ in range(max(count, 1) - 1):
            etree.SubElement(sec, "div", {"data-ppw": "page"})
    if first + len(pages) < len(book.chapters):
        etree.SubElement(body, "div", {"data-ppw": "end"})
    return "<!DOCTYPE html>\n" + lxml_html.tostring(root, encoding="unicode", method="html")



def stamp_html(book: Book, settings: PrintSettings) -> str:
    """The stamp document (see stamps.py), laid out with the book's page rules: a chapter of five
    pages (its opening, then a verso, a recto, a verso and a recto) whose folios are the samples,
    then the next chapter (the blank verso before it, its opening), whose pages after the opening
    are a verso and a recto for every chapter of the book, carrying its running heads (its
    strings set at the page's start, as a chapter's pages carry them from its opening)."""
    meta = book.meta
    root, _, matter = _page_rules_document(book, settings)
    chars = running_head_chars(settings)
    hidden = {"data-ppw": "overlay-hidden"}
    titles = [_shorten(_chapter_title(ch), chars) for ch in book.chapters]
    folios = etree.SubElement(matter, "section", {"class": "pp-chapter", "data-ppw": "chapter"})
    etree.SubElement(folios, "p", {**hidden, "data-pp-running": _shorten(
        meta.title or "Untitled", chars), "class": "pp-book-title-string"})
    for _ in range(4 + len(STAMP_PAIRS)):  # the samples, then every pair of digits
        etree.SubElement(folios, "div", {"data-ppw": "page"})
    heads = etree.SubElement(matter, "section", {"class": "pp-chapter", "data-ppw": "chapter"})
    etree.SubElement(heads, "p", {**hidden})
    for title in titles:
        for _ in range(2):
            page = etree.SubElement(heads, "div", {"data-ppw": "page"})
            etree.SubElement(page, "p", {**hidden, "data-pp-running": title,
                                         "class": "pp-chapter-title-string"})
    return "<!DOCTYPE html>\n" + lxml_html.tostring(root, encoding="unicode", method="html")
