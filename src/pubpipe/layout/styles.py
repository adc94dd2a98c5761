"""The print stylesheets: print.css, the shared component styles, and the page geometry of
[pdf] as @page rules (size, margins from ``settings.margins``, bleed, marks, fonts)."""

from __future__ import annotations

from .. import resources
from ..util import ARABIC_SCRIPT_LANGUAGES
from .edition import Resource
from .settings import PrintSettings, icc_profile, margins

ASSET_URL = "https://pubpipe.invalid/asset/"  # served by the render sandbox, never fetched

# After the body font, the families that draw every other script the content may use. Emoji come
# from fontconfig's fallback (Noto Color Emoji): naming the emoji font here makes Pango draw digits
# and spaces with it, since they can start emoji sequences.
FALLBACK_FONTS = ('"Noto Serif CJK SC", "Noto Naskh Arabic", "Noto Serif Hebrew", "Noto Sans Symbols",'
                  ' "Noto Sans Symbols2", "Noto Sans Math", "DejaVu Serif", "DejaVu Sans"')

# Text in Arabic script takes its spaces from the Arabic font. With Noto Serif first, every space
# between two Arabic words is a font run of its own, and Pango spaces a justified line wider than
# WeasyPrint measured it (about 0.5pt per space: 6pt past the margin on a 6x9in page); Hebrew and
# Latin lines are not affected. Zero specificity (:where) so that an author's CSS still wins.
_ARABIC = ", ".join([f"[lang|={lang}]" for lang in ARABIC_SCRIPT_LANGUAGES]
                    + ['[lang*="-Arab"]', '[lang*="-arab"]'])


def script_fonts_css(s: PrintSettings) -> str:
    """Font order for Arabic-script text (the Arabic font before Noto Serif), and back to the
    usual order for text in another language inside it."""
    fams = "".join(f'"{f}", ' for f in s.fonts)
    first = fams + '"Noto Serif", '  # as geometry_css has it
    others = FALLBACK_FONTS.replace('"Noto Naskh Arabic", ', "")
    arabic = fams + '"Noto Naskh Arabic", "Noto Serif", '
    return (f"html:where({_ARABIC}), :where({_ARABIC}) {{ font-family: {arabic}{others}, serif; }}\n"
            f":where({_ARABIC}) :where([lang]:not({_ARABIC})) {{"
            f" font-family: {first}{FALLBACK_FONTS}, serif; }}")


def geometry_css(s: PrintSettings) -> str:
    """The @page rules that follow from [pdf]: size, margins, bleed and marks."""
    w, h = s.trim_w, s.trim_h
    top, bottom, inside, outside = margins(s)
    lines = []
    if s.bleed_mode == "outside":  # KDP: page = trim + bleed on the outside edge, top, bottom
        b = s.bleed
        lines.append(f"@page {{ size: {w + b}pt {h + 2 * b}pt; margin-top: {top + b}pt;"
                     f" margin-bottom: {bottom + b}pt; }}")
        lines.append(f"@page :right {{ margin-left: {inside}pt; margin-right: {outside + b}pt; }}")
        lines.append(f"@page :left {{ margin-left: {outside + b}pt; margin-right: {inside}pt; }}")
    else:
        css_bleed = s.bleed + (s.mark_room if s.marks else 0)
        extra = f" bleed: {css_bleed}pt;" if css_bleed else ""
        extra += " marks: crop;" if s.marks else ""
        lines.append(f"@page {{ size: {w}pt {h}pt; margin-top: {top}pt;"
                     f" margin-bottom: {bottom}pt;{extra} }}")
        lines.append(f"@page :right {{ margin-left: {inside}pt; margin-right: {outside}pt; }}")
        lines.append(f"@page :left {{ margin-left: {outside}pt; margin-right: {inside}pt; }}")
    if s.rtl:  # versos are right-hand pages: the book title goes there, chapter titles left
        lines.append("@page :left { @top-left { content: string(pp-chapter-title); } }")
        lines.append("@page :right { @top-right { content: string(pp-book-title); } }")
    lines.append(f":root {{ font-size: {s.font_size}; }}")
    # an image never taller than the text block (room left for a caption); it keeps its shape
    lines.append(f"img {{ max-height: {round((h - top - bottom) * 0.82, 1)}pt; }}")
    if s.fonts:
        fams = ", ".join(f'"{f}"' for f in s.fonts)
        # Noto Serif after them, as print.css has it: for a family not installed, and for the
        # letters theirs lack (else Noto Serif CJK, the first fallback, set the Latin text)
        lines.append(f'html {{ font-family: {fams}, "Noto Serif", {FALLBACK_FONTS}, serif; }}')
        lines.append(f'@page {{ font-family: {fams}, "Noto Serif", {FALLBACK_FONTS}, serif; }}')
    return "\n".join(lines)


def stylesheets(s: PrintSettings) -> list[str]:
    """pubpipe's print styles, the page geometry, then the author's [pdf] css (which wins)."""
    return [resources.stylesheet("print.css"), resources.component_styles(), geometry_css(s),
            script_fonts_css(s), resources.author_css(s.css)]


def color_profile_css(s: PrintSettings, res: dict) -> str:
    """@color-profile for PDF/X: WeasyPrint writes an OutputIntent only when CSS names one."""
    if not s.variant.startswith("pdf/x"):
        return ""
    icc = icc_profile(s.color)
    if icc is None:
        return ""
    url = ASSET_URL + "output-intent.icc"
    res[url] = Resource(icc, "application/vnd.iccprofile")
    return (f"@color-profile device-cmyk {{ src: url({url});"
            " components: cyan, magenta, yellow, black; }}")



_MARGIN_BOXES = "".join(f" @{b} {{ content: none; }}" for b in (
    "top-left", "top-center", "top-right", "bottom-left", "bottom-center", "bottom-right"))


def piece_css(kind: str, first_folio: int | None = None) -> str:
    """What a piece of the book adds to the print stylesheets.

    chapter: no margin boxes (the overlay draws folios and running heads on the merged pages),
    links into other chapters print the page label they carry, and, when the chapter prints
    its own page numbers ("p. 7"), its first folio. front: contents
    entries print the page number they are given, and a last marker page makes the front matter
    end on a verso (that page is left out). overlay (in parts of a few chapters, laid out in
    parallel): its pages are empty; its hidden headings only set the running heads; its folios
    start at first_folio; a marker page after the last recto is left out, as in the front.
    stamps: the stamp document's own rules (``stamp_css``).
    """
    if kind == "chapter":
        css = [f"@page{sel} {{{_MARGIN_BOXES} }}" for sel in (
            "", " :left", " :right", " :first", " :blank", " :nth(1 of pp-chapter)",
            " :nth(1 of pp-chapter-first)")]
        # a link into another chapter prints the label it was given (see markup.XREF)
        css.append("a[data-ppw-xref][data-ppw-page]::after { content: attr(data-ppw-open)"
                   " attr(data-ppw-before) attr(data-ppw-page) attr(data-ppw-after)"
                   " attr(data-ppw-close); }")
        if first_folio is not None:
            css.append(f"@page :nth(1 of pp-chapter), :nth(1 of pp-chapter-first)"
                       f" {{ counter-reset: page {first_folio}; }}")
        return "\n".join(css)
    if kind == "front":
        return ('nav[data-ppw=contents] a[data-ppw-page]::after {'
                ' content: "\\2002" leader(". ") "\\2002" attr(data-ppw-page); }\n'
                "div[data-ppw=end] { break-before: recto; page: pp-title; }")
    if kind == "overlay":
        reset = (f"@page :nth(1 of pp-chapter-first) {{ counter-reset: page {first_folio}; }}\n"
                 if first_folio is not None else "")
        return reset + ("div[data-ppw=end] { break-before: recto; page: pp-chapter; }\n"
                "[data-ppw=overlay-hidden] { visibility: hidden; height: 0; margin: 0;"
                " padding: 0; border: 0; font-size: 0; line-height: 0;"
                " bookmark-level: none; break-after: auto; }\n"
                "div[data-ppw=page] { break-before: page; height: 0; }\n"
                ".pp-book-title-string { string-set: pp-book-title attr(data-pp-running); }\n"
                ".pp-chapter-title-string { string-set: pp-chapter-title attr(data-pp-running); }")
    if kind == "stamps":
        return stamp_css()
    raise ValueError(f"unknown piece {kind!r}")


STAMP_FOLIOS = (1234567890, 908)  # every digit once, then other neighbours and a shorter width


def _digit_pairs(longest: int = 16) -> tuple[int, ...]:
    """Folios that together hold every ordered pair of digits ("11", "10"…: a de Bruijn sequence
    cut into pieces that overlap by a digit, none starting with 0), an even count of them: the
    stamp document draws each on a page of its own, so a font that kerns a pair the two samples
    above lack shows it there, and the stamps are not trusted."""
    a, seq = [0] * 20, []

    def db(t: int, p: int) -> None:
        if t > 2:
            if 2 % p == 0:
                seq.extend(a[1:p + 1])
        else:
            a[t] = a[t - p]
            db(t + 1, p)
            for j in range(a[t - p] + 1, 10):
                a[t] = j
                db(t + 1, t)

    db(1, 1)
    text = "".join(map(str, seq))
    text = text[text.index("1"):] + text[:text.index("1")]
    text += text[0]  # cyclic: its last pair wraps round
    pieces, start = [], 0
    while start < len(text) - 1:
        end = min(start + longest, len(text))
        pieces.append(int(text[start:end]))
        start = end - 1
        while start > 0 and text[start] == "0":
            start -= 1
    if len(pieces) % 2:
        pieces.append(STAMP_FOLIOS[0])
    return tuple(pieces)


STAMP_PAIRS = _digit_pairs()
_BOXES = ("top-left-corner", "top-left", "top-center", "top-right", "top-right-corner",
          "left-top", "left-middle", "left-bottom", "right-top", "right-middle", "right-bottom")
_FOOT = ("bottom-left-corner", "bottom-left", "bottom-center", "bottom-right",
         "bottom-right-corner")


def stamp_css() -> str:
    """The stamp document's page rules (see markup.stamp_html and stamps.py): the sample folios,
    each sample page drawing one thing (a folio and nothing else, or running heads and nothing
    else), crop marks on the blank verso only."""
    a, b = STAMP_FOLIOS
    m = len(STAMP_PAIRS)
    heads_off = "".join(f" @{box} {{ content: none; }}" for box in _BOXES)
    foot_off = "".join(f" @{box} {{ content: none; }}" for box in _FOOT)
    return "\n".join([
        f"@page :nth(1) {{ counter-reset: page {a}; marks: none; }}",  # an opening
        *(f"@page :nth({n}) {{ counter-reset: page {v}; marks: none;{heads_off} }}"
          for n, v in ((2, a), (3, a), (4, b), (5, b))),  # versos and rectos
        *(f"@page :nth({6 + i}) {{ counter-reset: page {v}; marks: none;{heads_off} }}"
          for i, v in enumerate(STAMP_PAIRS)),  # every pair of digits
        f"@page :nth({7 + m}) {{ counter-reset: page {b}; marks: none; }}",  # the next opening
        f"@page :nth(n+{8 + m}) {{ marks: none;{foot_off} }}",  # running heads
        "[data-ppw=overlay-hidden] { visibility: hidden; height: 0; margin: 0; padding: 0;"
        " border: 0; font-size: 0; line-height: 0; bookmark-level: none; break-after: auto; }",
        "div[data-ppw=page] { break-before: page; height: 0; }",
        ".pp-book-title-string { string-set: pp-book-title attr(data-pp-running); }",
        ".pp-chapter-title-string { string-set: pp-chapter-title attr(data-pp-running); }"])
