"""Table header cells, where the source says which cells are headers.

Markdown tables have a header row already. Raw HTML tables often do not, although the source
shows which cells head the table: cells inside ``<thead>``, or a first row (or column) whose
every cell is wholly bold text. Those cells become ``<th>`` (with ``scope``), so a screen reader
announces each data cell with its header. A header cell with no text becomes a data cell (an
empty header names nothing). Tables whose source gives no header are left as they are; the
EPUB's accessibility summary names them.
"""

from __future__ import annotations

from lxml import etree

from ..document import Book
from ..htmlmodel import has_header_cells as has_headers
from ..htmlmodel import is_data_table, row_cells as cells, table_rows as rows
from ..util import text_of

__all__ = ["fix_table", "has_headers", "is_data_table", "run"]

_EMPHASIS = ("strong", "b")
_SCOPES = ("row", "col", "rowgroup", "colgroup")


def _wholly_bold(cell: etree._Element) -> bool:
    """The cell's text is all inside one <strong>/<b> (nothing but whitespace around it)."""
    if (cell.text or "").strip():
        return False
    kids = [k for k in cell if isinstance(k.tag, str)]
    if len(kids) != 1 or kids[0].tag not in _EMPHASIS or (kids[0].tail or "").strip():
        return False
    return bool(text_of(kids[0]).strip())


def _to_header(cell: etree._Element, scope: str) -> None:
    cell.tag = "th"
    cell.set("scope", scope)
    kids = [k for k in cell if isinstance(k.tag, str)]
    if len(kids) == 1 and kids[0].tag in _EMPHASIS and not (cell.text or "").strip():
        # the header cell is bold already: the emphasis was only ever the header's look
        b = kids[0]
        cell.text = (cell.text or "") + (b.text or "")
        idx = cell.index(b)
        for k, child in enumerate(list(b)):
            cell.insert(idx + k, child)
        last = cell[idx + len(b) - 1] if len(b) else None
        if b.tail:
            if last is not None:
                last.tail = (last.tail or "") + b.tail
            else:
                cell.text += b.tail
        cell.remove(b)


def fix_table(table: etree._Element) -> str:
    """Give the table header cells where its source shows them; returns what was done ('')."""
    done = ""
    if not has_headers(table):
        rs = rows(table)
        thead = next((c for c in table if c.tag == "thead"), None)
        head_rows = [r for r in rs if r.getparent() is thead] if thead is not None else []
        if head_rows:
            for r in head_rows:
                for c in cells(r):
                    _to_header(c, "col")
            done = "cells in <thead> made header cells"
        elif len(rs) >= 2 and len(cells(rs[0])) >= 2 and all(_wholly_bold(c)
                                                              for c in cells(rs[0])):
            first = rs[0]
            for c in cells(first):
                _to_header(c, "col")
            thead = etree.Element("thead")
            parent = first.getparent()
            parent.remove(first)
            thead.append(first)
            at = next((i for i, c in enumerate(table) if c.tag in ("tbody", "tr", "tfoot")),
                      len(table))
            table.insert(at, thead)
            done = "bold first row made the header row"
        elif len(rs) >= 2 and all(cells(r) and _wholly_bold(cells(r)[0]) for r in rs) \
                and any(len(cells(r)) >= 2 for r in rs):
            for r in rs:
                _to_header(cells(r)[0], "row")
            done = "bold first column made row headers"
    for r in rows(table):
        for c in cells(r):
            if c.get("scope") not in (None, *_SCOPES):
                del c.attrib["scope"]  # "column", "both"...: a screen reader ignores it
            if c.tag == "th" and not text_of(c).strip() and c.find(".//img") is None:
                c.tag = "td"  # an empty header names nothing
                c.attrib.pop("scope", None)
            elif c.tag == "th" and not c.get("scope"):
                if r.getparent().tag == "thead" or all(x.tag == "th" for x in cells(r)):
                    c.set("scope", "col")
                elif c is cells(r)[0]:
                    c.set("scope", "row")
    return done


def run(book: Book) -> None:
    for ch in book.chapters:
        for table in list(ch.body.iter("table")):
            done = fix_table(table)
            if done:
                book.diagnostics.info("table-headers", f"table: {done}", ch.source,
                                      table.sourceline)
