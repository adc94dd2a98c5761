"""Folios and running heads stamped from a small sample document, instead of laying out every
body page a second time.

The overlay the merge draws over the body pages (folios, running heads, the blank versos
before chapters) used to be a WeasyPrint document of one empty page per body page: about 5 ms of
CPU a page, and it could only start once every chapter's length was known. Here WeasyPrint lays
out a *stamp document* instead (``markup.stamp_html``, ``styles.stamp_css``), which depends only
on the running heads' strings and the settings, so it is laid out beside the chapters and cached
like any piece: pages that each draw one thing, with the book's own page rules —

* folio samples: a chapter opening, a verso and a recto, each with the folio 1234567890 (every
  digit once: its glyph and what WeasyPrint writes after it) and 908 (other neighbours, another
  width), running heads left out on the verso and recto (an opening must draw its folio alone);
* folios that together hold every ordered pair of digits (``styles.STAMP_PAIRS``), one a page:
  each must be drawn exactly as the digits' chunks say, so a font that kerns a pair the two
  samples lack ("11", "10") is not trusted (its stamped folios would lose that kerning);
* the blank verso before a chapter (crop marks, when [pdf] asks for them);
* for every chapter a verso and a recto with its running heads, folios left out.

Every body page's overlay is then composed as content streams: the blank (when it draws
anything), the running heads of its chapter and side, and its folio: the sample's stream with the
glyphs of its own digits and its text moved by its width, as the samples' alignment says (start,
centre or end, read from where the two sample folios stand and how wide they are, with the
widths of the font's /W array and WeasyPrint's adjustments in the TJ array). All of it shares the
stamp document's resources. A stamp document that does not read as expected (a folio not drawn as
one glyph per digit, an alignment that is none of the three, two samples that differ elsewhere
than in the folio, an unexpected page count) is not trusted: the stage lays out the overlay page
by page as before. So is a book whose [pdf] css touches page rules, strings or counters
(``usable``), whose samples could not say how its pages look.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

from .settings import PrintSettings
from .styles import STAMP_FOLIOS, STAMP_PAIRS

# pages of the stamp document (0-based; see markup.stamp_html and styles.stamp_css)
OPENING, VERSO, RECTO = "opening", "verso", "recto"
PAIRS = 5  # the folios of STAMP_PAIRS, one a page, from here: every pair of digits drawn
BLANK = PAIRS + len(STAMP_PAIRS)
FOLIO_SAMPLES = {OPENING: (0, BLANK + 1), VERSO: (1, 3), RECTO: (2, 4)}  # (first, second value)
HEADS = BLANK + 2  # chapter k: verso at HEADS + 2k, recto at HEADS + 2k + 1

# author CSS that can change what a page draws in ways the samples do not show: page rules,
# running strings, counter styles, the page counter set by an element
_UNTRUSTED_CSS = re.compile(r"@page|string-set|string\(|@counter-style|"
                            r"counter-(?:reset|increment|set)\s*:[^;}]*\bpage\b", re.IGNORECASE)

_NUMBER = rb"(-?(?:\d+\.?\d*|\.\d+))"
_TM = re.compile(rb" ".join([_NUMBER] * 6) + rb"\s+Tm")
_TF = re.compile(rb"/(\S+)\s+" + _NUMBER + rb"\s+Tf")
_TJ = re.compile(rb"\[([^\]]*)\]\s*TJ")
_CHUNK = re.compile(rb"<([0-9A-Fa-f]+)>\s*" + _NUMBER + rb"?")
_OPERATOR = re.compile(rb"(?<![\w/.*'\"-])(BT|Tj|TJ|'|\"|S|s|f\*?|F|B\*?|b\*?|sh|Do|BI)(?![\w*])")


def usable(settings: PrintSettings, author_css: str) -> bool:
    """Whether stamps can stand for the overlay laid out page by page (see the module text)."""
    return not settings.variant and not settings.tagged and not _UNTRUSTED_CSS.search(
        author_css)


@dataclass(frozen=True)
class FolioSample:
    """A folio sample as a template: its stream before the text's x, between x and the TJ
    array, after it; the x and width of both samples; how much x moves per unit of width."""

    pre: bytes
    mid: bytes
    post: bytes
    samples: tuple[tuple[float, float], ...]  # (width, x) of each sample folio
    shift: float  # -alignment (0 start, 0.5 centre, 1 end) x the text matrix's scale


@dataclass
class Stamper:
    """What the stamp document draws, ready to compose body pages' overlays."""

    chunks: dict[str, bytes]  # digit -> its glyph and what follows it in the TJ array
    widths: dict[str, float]  # digit -> its advance, in text space units per font size
    folios: dict[str, FolioSample]
    blank: bytes  # the blank verso's stream
    blank_draws: bool
    heads: list[tuple[bytes, bytes]]  # per chapter: (verso, recto) running heads

    def folio(self, side: str, value: int) -> bytes:
        t = self.folios[side]
        digits = str(value)
        width = sum(self.widths[d] for d in digits)
        # from the sample of the nearest width: the least of the widths' rounding carried over
        w0, x0 = min(t.samples, key=lambda s: abs(s[0] - width))
        x = x0 + t.shift * (width - w0)
        return t.pre + _number(x) + t.mid + b"[" + b"".join(
            self.chunks[d] for d in digits) + b"]" + t.post

    def page(self, chapter: int, folio: int, opening: bool) -> bytes:
        """The overlay of the page of the given chapter that prints the folio."""
        parts = [self.blank] if self.blank_draws else []
        if opening:
            parts.append(self.folio(OPENING, folio))
        else:
            recto = folio % 2 == 1
            parts += [self.heads[chapter][1 if recto else 0],
                      self.folio(RECTO if recto else VERSO, folio)]
        return b"".join(b"q\n" + p + b"\nQ\n" for p in parts)


def compose(stamper: Stamper, pages: list[int], folios: list[int]) -> list[bytes]:
    """The overlay of every body page, from chapter 1's opening to the book's last page: for
    each chapter its pages, then the blank verso before the next one where there is one."""
    out: list[bytes] = []
    for k, (count, first) in enumerate(zip(pages, folios)):
        if k and len(out) < first - 1:
            out.append(stamper.blank)  # the blank verso before chapter k
        out += [stamper.page(k, first + j, j == 0) for j in range(count)]
    return out


def read(pdf: bytes, chapters: int) -> Stamper | None:
    """The stamp document read, or None when it cannot be trusted (see the module text)."""
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(pdf))
        if len(reader.pages) != HEADS + 2 * chapters:
            return None
        streams = [p.get_contents().get_data() if p.get_contents() is not None else b""
                   for p in reader.pages]
        boxes = {tuple(float(v) for v in p.mediabox) for p in reader.pages}
        if len(boxes) != 1:
            return None
        return _read(reader, streams)
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError,
            ZeroDivisionError):
        return None


def _read(reader, streams: list[bytes]) -> Stamper | None:
    digits = str(STAMP_FOLIOS[0])
    chunks: dict[str, bytes] = {}
    font: tuple[bytes, float] | None = None
    parsed = {}
    for side, (i, j) in FOLIO_SAMPLES.items():
        for page in (i, j):
            p = _parse_folio(streams[page])
            if p is None:
                return None
            parsed[page] = p
            if font is None:
                font = p["font"]
            elif p["font"] != font:
                return None
    # the glyph of every digit, from the first sample
    first = parsed[FOLIO_SAMPLES[OPENING][0]]["chunks"]
    if len(first) != len(digits):
        return None
    for d, chunk in zip(digits, first):
        chunks[d] = chunk[0]
    if len(set(chunks.values())) != len(chunks):
        return None
    for k, value in enumerate(STAMP_PAIRS):
        # every pair of digits drawn as the digits' chunks say (no kerning the samples lack)
        p = _parse_folio(streams[PAIRS + k])
        if p is None or p["font"] != font or p["tj"] != b"[" + b"".join(
                chunks[d] for d in str(value)) + b"]":
            return None
    widths_1000 = _glyph_widths(reader, font[0])
    if widths_1000 is None:
        return None
    size = font[1]
    widths = {}
    for d, (raw, glyph, after) in zip(digits, first):
        w = widths_1000.get(glyph)
        if w is None:
            return None
        widths[d] = (w - after) / 1000 * size
    stamper_folios = {}
    for side, (i, j) in FOLIO_SAMPLES.items():
        a, b = parsed[i], parsed[j]
        for value, p in ((STAMP_FOLIOS[0], a), (STAMP_FOLIOS[1], b)):
            # each sample draws its digits exactly as the digits' chunks say
            if p["tj"] != b"[" + b"".join(chunks[d] for d in str(value)) + b"]":
                return None
        if (a["pre"], a["mid"], a["post"]) != (b["pre"], b["mid"], b["post"]):
            return None
        wa = sum(widths[d] for d in str(STAMP_FOLIOS[0])) * a["scale"]
        wb = sum(widths[d] for d in str(STAMP_FOLIOS[1])) * a["scale"]
        align = (a["x"] - b["x"]) / (wb - wa)
        snapped = min((0.0, 0.5, 1.0), key=lambda v: abs(v - align))
        if abs(snapped - align) > 0.01:
            return None
        stamper_folios[side] = FolioSample(a["pre"], a["mid"], a["post"], (
            (wa / a["scale"], a["x"]), (wb / a["scale"], b["x"])), -snapped * a["scale"])
    blank = streams[BLANK]
    if b"BT" in _operators(blank):
        return None
    heads = []
    for k in range((len(streams) - HEADS) // 2):
        pair = (streams[HEADS + 2 * k], streams[HEADS + 2 * k + 1])
        if any(_operators(s).count(b"BT") > 1 for s in pair):
            return None  # a running head is one line: anything more is not what was asked
        heads.append(pair)
    return Stamper(chunks, widths, stamper_folios, blank, bool(_operators(blank)), heads)


def _operators(stream: bytes) -> list[bytes]:
    """The operators that draw something (and BT), in order: outside strings only roughly, which
    is enough for WeasyPrint's streams of folios and running heads (hex strings only)."""
    return [m.group(1) for m in _OPERATOR.finditer(stream)]


def _parse_folio(stream: bytes) -> dict | None:
    """A folio sample: one text object with one text matrix, one font and one TJ array of glyphs
    each followed by at most one number, and nothing else drawn."""
    ops = _operators(stream)
    if ops != [b"BT", b"TJ"]:
        return None
    tms, tfs, tjs = (list(r.finditer(stream)) for r in (_TM, _TF, _TJ))
    if len(tms) != 1 or len(tfs) != 1 or len(tjs) != 1:
        return None
    tm, tf, tj = tms[0], tfs[0], tjs[0]
    if not tm.end() <= tj.start():
        return None
    inner = tj.group(1)
    chunks = []
    at = 0
    for m in _CHUNK.finditer(inner):
        if inner[at:m.start()].strip():
            return None  # something else in the array (an empty string: letter spacing)
        chunks.append((m.group(0).strip(), int(m.group(1), 16), float(m.group(2) or 0)))
        at = m.end()
    if inner[at:].strip() or not chunks:
        return None
    return {"pre": stream[:tm.start(5)], "mid": stream[tm.end(5):tj.start()],
            "post": stream[tj.end(1) + 1:],  # from after the array: its operator
            "x": float(tm.group(5)), "scale": float(tm.group(1)),
            "tj": b"[" + b"".join(c[0] for c in chunks) + b"]",
            "chunks": chunks, "font": (tf.group(1), float(tf.group(2)))}


def _glyph_widths(reader, font_name: bytes) -> _Widths | None:
    """Glyph id -> width (thousandths of the font size) of the font the folios are set in, from
    its /W array (a Type 0 font's descendant), or None."""
    fonts = reader.pages[0]["/Resources"]["/Font"].get_object()
    font = fonts.get("/" + font_name.decode("latin-1"))
    if font is None:
        return None
    font = font.get_object()
    if font.get("/Subtype") != "/Type0":
        return None
    cid = font["/DescendantFonts"][0].get_object()
    default = float(cid.get("/DW", 1000))
    w = cid.get("/W")
    out: dict[int, float] = {}
    items = list(w.get_object()) if w is not None else []
    i = 0
    while i < len(items):
        start = int(items[i])
        nxt = items[i + 1].get_object() if i + 1 < len(items) else None
        if isinstance(nxt, list):
            for k, v in enumerate(nxt):
                out[start + k] = float(v)
            i += 2
        else:
            end, width = int(nxt), float(items[i + 2])
            for g in range(start, end + 1):
                out[g] = width
            i += 3
    return _Widths(out, default)


class _Widths(dict):
    """Glyph widths with the font's default width for glyphs the array leaves out."""

    def __init__(self, widths: dict[int, float], default: float):
        super().__init__(widths)
        self.default = default

    def get(self, glyph, fallback=None):
        return super().get(glyph, self.default)


def _number(x: float) -> bytes:
    """A number as WeasyPrint writes it (pydyf: six decimals, trailing zeros dropped)."""
    if float(x).is_integer():
        return str(int(x)).encode()
    return f"{x:f}".rstrip("0").encode()
