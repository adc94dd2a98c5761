"""The streams of a PDF that WeasyPrint wrote uncompressed, compressed at zlib's default level.

WeasyPrint compresses at level 9, the slowest: about 12 ms of CPU for the page contents of a
12-page chapter (3 % of laying it out), against 3 ms at level 6 for contents 2 % larger. Pieces are
written with ``uncompressed_pdf=True`` (read back by ``pdfwords`` before anything else, which
saves PDFium inflating them) and their streams compressed here.

pydyf writes such a PDF as numbered objects, a cross-reference table and a trailer; every stream
has a direct ``/Length``. Anything else (an xref stream, a length given by reference, a stream
that does not end where its length says) is left as it is: the PDF stays valid, only larger.
"""

from __future__ import annotations

import re
import zlib

LEVEL = 6

_STARTXREF = re.compile(rb"startxref\s+(\d+)\s+%%EOF\s*$")
_SECTION = re.compile(rb"(\d+) (\d+)\s*\n")
_ENTRY = re.compile(rb"(\d{10}) (\d{5}) ([nf])\s*\n")
_LENGTH = re.compile(rb"/Length (\d+)(?![\d.])(?! \d+ R)")


def deflate_streams(pdf: bytes, level: int = LEVEL) -> bytes:
    """pdf with every stream that has no filter compressed (FlateDecode at level), or pdf
    itself when it is not laid out as pydyf writes an uncompressed PDF."""
    end = _STARTXREF.search(pdf, max(0, len(pdf) - 64))
    if end is None:
        return pdf
    xref_at = int(end.group(1))
    if not pdf.startswith(b"xref", xref_at):
        return pdf
    entries: list[list] = []  # [object number, offset, generation, kind]
    pos = xref_at + 4
    while True:
        while pdf[pos:pos + 1] in (b"\n", b"\r", b" "):
            pos += 1
        section = _SECTION.match(pdf, pos)
        if section is None:
            break
        first, count = int(section.group(1)), int(section.group(2))
        pos = section.end()
        for n in range(first, first + count):
            entry = _ENTRY.match(pdf, pos)
            if entry is None:
                return pdf
            entries.append([n, int(entry.group(1)), entry.group(2), entry.group(3)])
            pos = entry.end()
    if not pdf.startswith(b"trailer", pos):
        return pdf
    trailer = pdf[pos:end.start()]
    used = sorted((e for e in entries if e[3] == b"n"), key=lambda e: e[1])
    if not used:
        return pdf
    out = [pdf[:used[0][1]]]
    size = len(out[0])
    for k, entry in enumerate(used):
        start = entry[1]
        stop = used[k + 1][1] if k + 1 < len(used) else xref_at
        obj = _deflated(pdf[start:stop], level)
        if obj is None:
            return pdf
        entry[1] = size
        out.append(obj)
        size += len(obj)
    table = [b"xref\n"]
    k = 0
    while k < len(entries):  # one subsection per run of consecutive numbers
        j = k
        while j + 1 < len(entries) and entries[j + 1][0] == entries[j][0] + 1:
            j += 1
        table.append(b"%d %d\n" % (entries[k][0], j - k + 1))
        table.extend(b"%010d %s %s \n" % (e[1], e[2], e[3]) for e in entries[k:j + 1])
        k = j + 1
    out.extend(table)
    out.append(trailer)
    out.append(b"startxref\n%d\n%%%%EOF\n" % size)
    return b"".join(out)


def _deflated(obj: bytes, level: int) -> bytes | None:
    """One object (``n g obj ... endobj``) with its stream compressed; None when it cannot
    be read as pydyf writes one."""
    head = obj.find(b">>\nstream\n")
    if head == -1:  # no stream
        return None if b"\nendstream" in obj else obj
    start = head + len(b">>\nstream\n")
    dictionary = obj[:head + 2]
    length = _LENGTH.findall(dictionary)
    if len(length) != 1:
        return None
    n = int(length[0])
    if not obj.startswith(b"\nendstream", start + n):
        return None
    if b"/Filter" in dictionary:
        return obj
    data = zlib.compress(obj[start:start + n], level)
    dictionary = _LENGTH.sub(b"/Length %d/Filter /FlateDecode" % len(data), dictionary)
    return dictionary + b"\nstream\n" + data + obj[start + n:]
