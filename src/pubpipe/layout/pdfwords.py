"""What a laid-out piece prints, read back from its PDF: the text in the text block of each page
(the page map's first words) and the runs of text that lie outside the live area or past the
margins (preflight), each with its box, in points from the top left corner of the media box.

Read in this process with pypdfium2 (a dependency: PDFium's text page, about 1.5 ms a page); where
it cannot be loaded, poppler's ``pdftotext -bbox-layout`` (about 3 ms a page, 5 ms to start);
where neither is installed, the PDF's content streams read with pypdf (``ContentStream``: the
text operators, the fonts' widths and ToUnicode maps; about 30 ms a page).
"""

from __future__ import annotations

import html
import io
import re
import shutil
import subprocess
import unicodedata
from collections.abc import Callable
from typing import NamedTuple

# page index, x0, y0, x1, y1 (points, y down) -> whether a run of text with this box is wanted
Check = Callable[[int, float, float, float, float], bool]
Area = tuple[float, float, float, float]  # x, y, width, height (points from the top left)


class Run(NamedTuple):
    """A stretch of text printed on one line."""

    x0: float
    y0: float
    x1: float
    y1: float
    text: str


class PrintedPage(NamedTuple):
    text: str  # what is printed in the text block, a line of text per printed line
    runs: list[Run]  # the runs the check asked for


def read_pages(pdf: bytes, area: Area | None, check: Check, reader: str = ""
               ) -> list[PrintedPage]:
    """Every page of pdf: its text in area (x, y, width, height; None: no text wanted) and the
    runs of text whose boxes check picks out. reader: "pdfium", "poppler" or "pypdf" (tests),
    else the first that works."""
    if reader in ("", "pdfium"):
        try:
            return _pdfium(pdf, area, check)
        except Exception:  # not installed (or failed to load): the others read the same
            if reader:
                raise
    lines = _poppler(pdf) if reader in ("", "poppler") else None
    if lines is None:
        if reader == "poppler":
            raise OSError("pdftotext failed or is not installed")
        lines = _pypdf(pdf)
    return [PrintedPage(page_text(ln, area) if area is not None else "",
                        _flagged(i, ln, check)) for i, ln in enumerate(lines)]


def _pdfium(pdf: bytes, area: Area | None, check: Check) -> list[PrintedPage]:
    import pypdfium2 as pdfium

    out = []
    doc = pdfium.PdfDocument(pdf)
    try:
        for i in range(len(doc)):
            page = doc[i]
            textpage = page.get_textpage()
            left, _, _, top = page.get_mediabox()
            text = ""
            if area is not None:
                x, y, w, h = area
                text = textpage.get_text_bounded(left + x, top - y - h, left + x + w, top - y)
                text = text.replace("\r\n", "\n").replace("\r", "\n")
                if _RTL.search(text):  # PDFium gives a line's runs left to right
                    text = "\n".join(" ".join(logical(ln.split(), visual=False))
                                     for ln in text.split("\n"))
            runs = []
            # a rectangle per run of text PDFium finds on a line (one text object's part of it)
            for k in range(textpage.count_rects()):
                l, b, r, t = textpage.get_rect(k)
                box = (l - left, top - t, r - left, top - b)
                if check(i, *box):
                    runs.append(Run(*box, " ".join(textpage.get_text_bounded(l, b, r, t).split())))
            out.append(PrintedPage(text, runs))
            textpage.close()
            page.close()
    finally:
        doc.close()
    return out


class Word(NamedTuple):
    x0: float
    y0: float
    x1: float
    y1: float
    text: str


class Line:
    """One printed line: its box and its words (read from the text only when asked for: most
    lines are only checked against the margins)."""

    __slots__ = ("x0", "y0", "x1", "y1", "_raw", "_words")

    def __init__(self, x0: float, y0: float, x1: float, y1: float, words: list[Word] | None = None,
                 raw: str = ""):
        self.x0, self.y0, self.x1, self.y1 = x0, y0, x1, y1
        self._words = words
        self._raw = raw

    @property
    def words(self) -> list[Word]:
        if self._words is None:
            self._words = [Word(float(a), float(b), float(c), float(d),
                                html.unescape(t) if "&" in t else t)
                           for a, b, c, d, t in _WORD.findall(self._raw)]
        return self._words


Page = list[Line]


def line_text(words: list[Word]) -> str:
    """Words of one line joined as printed: a space where there is a gap between them (poppler's
    rule: a tenth of the type size), none where one word was drawn in two runs."""
    out = ""
    prev = None
    for w in words:
        if prev is not None:
            gap = w.x0 - prev.x1
            out += " " if gap >= 0.1 * max(prev.y1 - prev.y0, 1.0) or gap < -1.0 else ""
        out += w.text
        prev = w
    return out


_RTL = re.compile("[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufeff]")


def _direction(word: str) -> str:
    """"r" for a word of a right-to-left script, "l" for one of letters or digits of another,
    "" for punctuation alone."""
    for ch in word:
        kind = unicodedata.bidirectional(ch)
        if kind in ("R", "AL"):
            return "r"
        if kind in ("L", "EN", "AN"):
            return "l"
    return ""


def logical(words: list[str], visual: bool) -> list[str]:
    """A printed line's words in reading order. PDF text is drawn left to right: a line of a
    right-to-left script (more of its letters right-to-left than not) reads its runs of
    right-to-left and left-to-right words from the right. visual: each word's letters and
    each right-to-left run's words are also as drawn (poppler's words, pypdf's glyphs), not
    already in reading order (PDFium)."""
    dirs = [_direction(w) for w in words]
    if "r" not in dirs:
        return words
    if visual:
        words = [w[::-1] if d == "r" else w for w, d in zip(words, dirs)]
    runs: list[tuple[str, list[str]]] = []
    for w, d in zip(words, dirs):
        d = d or (runs[-1][0] if runs else "l")  # punctuation goes with the words before it
        if runs and runs[-1][0] == d:
            runs[-1][1].append(w)
        else:
            runs.append((d, [w]))
    if visual:
        runs = [(d, ws[::-1] if d == "r" else ws) for d, ws in runs]
    rtl = sum(len(w) for w, d in zip(words, dirs) if d == "r")
    if rtl > sum(len(w) for w, d in zip(words, dirs) if d == "l"):
        runs.reverse()
    return [w for _, ws in runs for w in ws]


def _visual_text(words: list[Word]) -> str:
    """line_text, with a line holding right-to-left words put in reading order."""
    text = line_text(words)
    return " ".join(logical(text.split(), visual=True)) if _RTL.search(text) else text


def page_text(lines: Page, area: Area | None = None) -> str:
    """The text of a page's lines that lie in area (by the middle of each word), one line of
    text per printed line."""
    out: list[str] = []
    x0 = y0 = -1e9
    x1 = y1 = 1e9
    if area is not None:
        x0, y0 = area[0] - 0.5, area[1] - 0.5
        x1, y1 = area[0] + area[2] + 0.5, area[1] + area[3] + 0.5
    for ln in lines:
        if x0 <= ln.x0 and ln.x1 <= x1 and y0 <= ln.y0 and ln.y1 <= y1:
            kept = ln.words  # wholly inside (most lines)
        elif ln.y1 < y0 or ln.y0 > y1:
            continue
        else:
            kept = [w for w in ln.words
                    if x0 <= (w.x0 + w.x1) / 2 <= x1 and y0 <= (w.y0 + w.y1) / 2 <= y1]
        if kept:
            out.append(_visual_text(kept))
    return "\n".join(out)


def _flagged(index: int, lines: Page, check: Check) -> list[Run]:
    """The runs of words in lines whose boxes check picks out (a line is looked into only when
    its own box is picked)."""
    runs: list[Run] = []
    for ln in lines:
        if not check(index, ln.x0, ln.y0, ln.x1, ln.y1):
            continue
        run: list[Word] = []
        for w in [*ln.words, None]:
            if w is not None and check(index, w.x0, w.y0, w.x1, w.y1):
                run.append(w)
            elif run:
                runs.append(Run(min(x.x0 for x in run), min(x.y0 for x in run),
                                max(x.x1 for x in run), max(x.y1 for x in run),
                                _visual_text(run)))
                run = []
    return runs


# ---- poppler ---------------------------------------------------------------------------------

_BOX = r'xMin="([-\d.]+)" yMin="([-\d.]+)" xMax="([-\d.]+)" yMax="([-\d.]+)">'
_LINE = re.compile(r'<(page) |<line ' + _BOX)
_WORD = re.compile(r'<word ' + _BOX + r'([^<]*)</word>')


def _poppler(pdf: bytes) -> list[Page] | None:
    tool = shutil.which("pdftotext")
    if not tool:
        return None
    try:  # the PDF on stdin (poppler reads "fd://0")
        proc = subprocess.run([tool, "-bbox-layout", "-enc", "UTF-8", "fd://0", "-"], input=pdf,
                              capture_output=True, timeout=300)
    except (OSError, subprocess.SubprocessError):
        return None
    if proc.returncode != 0:
        return None
    return parse_bbox(proc.stdout.decode("utf-8", "replace"))


def parse_bbox(text: str) -> list[Page]:
    """Pages of lines from ``pdftotext -bbox-layout`` output."""
    pages: list[Page] = []
    marks = list(_LINE.finditer(text))
    for k, m in enumerate(marks):
        if m.group(1):
            pages.append([])
        elif pages:  # a line's words: its text up to the next line or page
            end = marks[k + 1].start() if k + 1 < len(marks) else len(text)
            pages[-1].append(Line(float(m.group(2)), float(m.group(3)), float(m.group(4)),
                                  float(m.group(5)), raw=text[m.end():end]))
    return pages


# ---- pypdf (no poppler) ------------------------------------------------------------------------


class _Font:
    """What drawing text with a font needs: glyph widths and the text each code stands for."""

    def __init__(self, font):
        from pypdf.generic import ArrayObject

        font = font.get_object()
        self.two_bytes = str(font.get("/Subtype")) == "/Type0"
        self.widths: dict[int, float] = {}
        self.default = 1000.0 if self.two_bytes else 500.0
        if self.two_bytes:
            desc = font["/DescendantFonts"][0].get_object()
            self.default = float(desc.get("/DW", 1000))
            w = desc.get("/W")
            w = list(w.get_object()) if w is not None else []
            i = 0
            while i < len(w):
                first = int(w[i])
                nxt = w[i + 1].get_object()
                if isinstance(nxt, ArrayObject):
                    for k, v in enumerate(nxt):
                        self.widths[first + k] = float(v)
                    i += 2
                else:
                    for c in range(first, int(nxt) + 1):
                        self.widths[c] = float(w[i + 2])
                    i += 3
        else:
            first = int(font.get("/FirstChar", 0))
            for k, v in enumerate(font.get("/Widths") or []):
                self.widths[first + k] = float(v)
        self.matrix = [float(v) for v in font.get("/FontMatrix", [0.001, 0, 0, 0.001, 0, 0])]
        self.to_text: dict[int, str] = {}
        cmap = font.get("/ToUnicode")
        if cmap is not None:
            self._read_cmap(cmap.get_object().get_data().decode("latin-1"))

    def _read_cmap(self, data: str) -> None:
        def uni(h: str) -> str:
            b = bytes.fromhex(h)
            return b.decode("utf-16-be", "replace") if len(b) % 2 == 0 else b.decode("latin-1")

        for block in re.findall(r"beginbfchar(.*?)endbfchar", data, re.S):
            for src, dst in re.findall(r"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]*)>", block):
                self.to_text[int(src, 16)] = uni(dst)
        for block in re.findall(r"beginbfrange(.*?)endbfrange", data, re.S):
            for lo, hi, dst in re.findall(
                    r"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*(<[0-9A-Fa-f]*>|\[[^\]]*\])", block):
                lo_i, hi_i = int(lo, 16), int(hi, 16)
                if dst.startswith("["):
                    for k, h in enumerate(re.findall(r"<([0-9A-Fa-f]*)>", dst)):
                        self.to_text[lo_i + k] = uni(h)
                else:
                    base = bytes.fromhex(dst[1:-1])
                    for k in range(hi_i - lo_i + 1):
                        last = int.from_bytes(base[-2:], "big") + k if len(base) >= 2 else k
                        self.to_text[lo_i + k] = (base[:-2] + last.to_bytes(2, "big")).decode(
                            "utf-16-be", "replace")

    def codes(self, data: bytes) -> list[int]:
        if self.two_bytes:
            return [int.from_bytes(data[i:i + 2], "big") for i in range(0, len(data) - 1, 2)]
        return list(data)


def _mul(a: list[float], b: list[float]) -> list[float]:
    return [a[0] * b[0] + a[1] * b[2], a[0] * b[1] + a[1] * b[3],
            a[2] * b[0] + a[3] * b[2], a[2] * b[1] + a[3] * b[3],
            a[4] * b[0] + a[5] * b[2] + b[4], a[4] * b[1] + a[5] * b[3] + b[5]]


def _pypdf(pdf: bytes) -> list[Page]:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(pdf))
    return [_page_words(reader, page) for page in reader.pages]


def _page_words(reader, page) -> Page:
    """The words a page's content stream draws (forms it draws are not entered)."""
    from pypdf.generic import ContentStream

    media = page.mediabox
    left, top = float(media.left), float(media.top)
    fonts_res = (page.get("/Resources") or {}).get("/Font") or {}
    fonts_res = fonts_res.get_object() if fonts_res else {}
    fonts: dict[str, _Font] = {}
    contents = page.get_contents()
    if contents is None:
        return []
    try:
        ops = ContentStream(contents, reader).operations
    except Exception:
        return []
    ctm = [1.0, 0.0, 0.0, 1.0, 0.0, 0.0]
    stack: list[list[float]] = []
    tm = lm = [1.0, 0.0, 0.0, 1.0, 0.0, 0.0]
    font: _Font | None = None
    size = leading = char_sp = word_sp = rise = 0.0
    scale = 1.0
    glyphs: list[tuple[float, float, float, float, str]] = []  # x0, y0, x1, y1, text (pt, y down)

    def show(items) -> None:
        nonlocal tm
        if font is None:
            return
        fx = font.matrix[0]
        for item in items:
            if isinstance(item, (int, float)):
                tm = _mul([1, 0, 0, 1, -float(item) / 1000.0 * size * scale, 0], tm)
                continue
            if isinstance(item, bytes):
                data = bytes(item)
            elif isinstance(item, str):  # pypdf decoded it: its bytes as written
                data = getattr(item, "original_bytes", None) or item.encode("latin-1", "replace")
            else:
                continue
            for code in font.codes(data):
                w0 = font.widths.get(code, font.default) * fx
                advance = (w0 * size + char_sp + (word_sp if code == 32 and not font.two_bytes
                                                  else 0.0)) * scale
                trm = _mul([size * scale, 0, 0, size, 0, rise], _mul(tm, ctm))
                x, y = trm[4], trm[5]
                end = _mul([1, 0, 0, 1, w0 * size * scale, 0], _mul(tm, ctm))[4]
                h = abs(trm[3]) or size
                glyphs.append((min(x, end) - left, top - (y + 0.8 * h),
                               max(x, end) - left, top - (y - 0.2 * h),
                               font.to_text.get(code, "")))
                tm = _mul([1, 0, 0, 1, advance, 0], tm)

    for operands, op in ops:
        if op == b"q":
            stack.append(ctm)
        elif op == b"Q":
            ctm = stack.pop() if stack else ctm
        elif op == b"cm":
            ctm = _mul([float(v) for v in operands], ctm)
        elif op == b"BT":
            tm = lm = [1.0, 0.0, 0.0, 1.0, 0.0, 0.0]
        elif op == b"Tm":
            tm = lm = [float(v) for v in operands]
        elif op in (b"Td", b"TD"):
            if op == b"TD":
                leading = -float(operands[1])
            tm = lm = _mul([1, 0, 0, 1, float(operands[0]), float(operands[1])], lm)
        elif op == b"T*":
            tm = lm = _mul([1, 0, 0, 1, 0, -leading], lm)
        elif op == b"TL":
            leading = float(operands[0])
        elif op == b"Tc":
            char_sp = float(operands[0])
        elif op == b"Tw":
            word_sp = float(operands[0])
        elif op == b"Tz":
            scale = float(operands[0]) / 100.0
        elif op == b"Ts":
            rise = float(operands[0])
        elif op == b"Tf":
            name = str(operands[0])
            size = float(operands[1])
            if name not in fonts and name in fonts_res:
                try:
                    fonts[name] = _Font(fonts_res[name])
                except Exception:
                    pass
            font = fonts.get(name)
        elif op == b"TJ":
            show(operands[0])
        elif op == b"Tj":
            show([operands[0]])
        elif op in (b"'", b'"'):
            if op == b'"':
                word_sp, char_sp = float(operands[0]), float(operands[1])
            tm = lm = _mul([1, 0, 0, 1, 0, -leading], lm)
            show([operands[-1]])
    return _lines(glyphs)


def _lines(glyphs: list[tuple[float, float, float, float, str]]) -> Page:
    """Glyphs grouped into words (split at spaces and gaps) and words into lines (by baseline),
    in the order they were drawn."""
    lines: list[list[Word]] = []
    word: list = []
    last = None

    def flush():
        if word:
            text = "".join(g[4] for g in word)
            w = Word(min(g[0] for g in word), min(g[1] for g in word),
                     max(g[2] for g in word), max(g[3] for g in word), text)
            if lines and abs(lines[-1][-1].y1 - w.y1) < 0.5 * (w.y1 - w.y0) \
                    and w.x0 >= lines[-1][-1].x0:
                lines[-1].append(w)
            else:
                lines.append([w])
            word.clear()

    for g in glyphs:
        if not g[4].strip():
            flush()
            last = g
            continue
        if last is not None and word and (abs(g[3] - last[3]) > 0.5 * (g[3] - g[1])
                                          or g[0] - last[2] > 0.1 * (g[3] - g[1])
                                          or g[0] < last[0] - 0.5):
            flush()
        word.append(g)
        last = g
    flush()
    return [Line(min(w.x0 for w in ws), min(w.y0 for w in ws), max(w.x1 for w in ws),
                 max(w.y1 for w in ws), ws) for ws in lines]
