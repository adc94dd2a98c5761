"""Print settings: the [pdf] table plus its preset, resolved once per build into points.

Presets are data (``PRESETS``): each names the settings it overrides. ``resolve_settings`` turns
``[pdf]`` into a frozen ``PrintSettings``; ``text_width`` and ``margins`` are the one place the page
geometry is computed (the layout's @page rules and the asset stage's print image size both use
them). Nothing here imports WeasyPrint.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path

from .. import resources
from ..config import VARIANTS, PdfSection, parse_length, parse_page_size
from ..document import Diagnostics
from ..util import is_rtl

PT_PER_IN = 72.0
# Settings: [pdf] plus preset, resolved once


@dataclass(frozen=True)
class PrintSettings:
    """Everything the writer and preflight need to know about the printed book, in points."""

    trim_w: float
    trim_h: float
    bleed: float = 0.0  # per bled side
    bleed_mode: str = "none"  # none | all | outside (KDP: outside edge, top and bottom)
    marks: bool = False
    bookmarks: bool = True
    links: bool = True
    link_color: bool = False  # coloured links (screen)
    full_fonts: bool = False
    color: str = "rgb"
    variant: str = ""
    preset: str = ""
    paper: str = "white"
    for_print: bool = True  # image resolution matters (every preset but screen)
    font_size: str = "10.5pt"
    fonts: tuple[str, ...] = ()
    rtl: bool = False  # a right-to-left book: page 1 is a left-hand page, versos on the right
    mark_room: float = 18.0  # room outside the bleed for crop marks
    tags: bool = False  # a tagged PDF (structure tree) whatever the variant (screen)
    css: str = ""  # the author's stylesheet file ([pdf] css), added after pubpipe's

    @property
    def flatten(self) -> bool:
        """No transparency allowed: IngramSpark, and PDF/X-1a and X-3 forbid it."""
        return self.preset == "ingramspark" or self.variant in ("pdf/x-1a", "pdf/x-3")

    @property
    def tagged(self) -> bool:
        """A tagged PDF: asked for, or a variant that needs one (PDF/UA, PDF/A level a)."""
        return self.tags or self.variant.startswith("pdf/ua") or \
            bool(re.fullmatch(r"pdf/a-[123]a", self.variant))

    @property
    def media_w(self) -> float:
        return self.trim_w + {"none": 0, "all": 2, "outside": 1}[self.bleed_mode] * self.bleed \
            + (2 * self.mark_room if self.marks else 0)

    @property
    def media_h(self) -> float:
        return self.trim_h + (0 if self.bleed_mode == "none" else 2) * self.bleed \
            + (2 * self.mark_room if self.marks else 0)


# Lengths, page sizes and variants are parsed (and validated) by config, once.
__all__ = ["PT_PER_IN", "PRESETS", "VARIANTS", "PrintSettings", "parse_length",
           "parse_page_size", "resolve_settings", "margins", "text_width", "text_height",
           "page_boxes", "icc_profile", "installed_families"]


# What each preset changes. "bleed-default": the bleed used when [pdf] bleed is not set;
# "forbid-marks": a print service that rejects crop marks (asking for them is warned about).
PRESETS: dict[str, dict] = {
    "kdp": {"bleed_mode": "outside-if-bleed", "marks": False, "bookmarks": False, "links": False,
            "full_fonts": True, "forbid-marks": "KDP"},
    "lulu": {"bleed-default": 9.0, "bleed_mode": "all", "marks": False, "forbid-marks": "Lulu"},
    "ingramspark": {"color-allowed": ("grayscale", "cmyk"), "color-default": "grayscale",
                    "variant-default": "pdf/x-1a", "marks": False},
    "proof": {"bleed-default": 9.0, "bleed_mode": "all", "marks": True},
    # a PDF for reading on screen is one for screen readers too: tagged, PDF/UA-1 unless another
    # variant is asked for (then still tagged)
    "screen": {"bleed": 0.0, "bleed_mode": "none", "marks": False, "link_color": True,
               "for_print": False, "tags": True, "variant-default": "pdf/ua-1"},
}


def resolve_settings(pdf: PdfSection | None, diagnostics: Diagnostics | None = None,
                     where: Path | None = None, language: str = "") -> PrintSettings:
    """[pdf] keys plus the preset's rules. config has validated the keys of a book.toml; a
    PdfSection made in code with bad values falls back to defaults with a warning."""
    pdf = pdf or PdfSection()
    diags = diagnostics if diagnostics is not None else Diagnostics()
    size = parse_page_size(pdf.page_size)
    if size is None:
        diags.warn("pdf-page-size", f"[pdf] page-size '{pdf.page_size}' is not a size; using"
                   " 6in 9in", where)
        size = (432.0, 648.0)
    bleed = 0.0
    if pdf.bleed:
        b = parse_length(pdf.bleed)
        if b is None or b > 72:
            diags.warn("pdf-bleed", f"[pdf] bleed '{pdf.bleed}' is not a length up to 1in;"
                       " no bleed", where)
        else:
            bleed = b
    s = PrintSettings(
        trim_w=size[0], trim_h=size[1], bleed=bleed, bleed_mode="all" if bleed else "none",
        marks=bool(pdf.crop_marks), color=pdf.color, variant=pdf.variant.lower(),
        preset=pdf.preset, paper=pdf.paper, font_size=pdf.font_size or "10.5pt",
        fonts=tuple(pdf.fonts), rtl=is_rtl(language), css=pdf.css)
    rules = PRESETS.get(pdf.preset, {})
    if rules.get("forbid-marks") and pdf.crop_marks:
        diags.warn("pdf-preset", f"preset {pdf.preset} forbids crop marks ({rules['forbid-marks']}"
                   " rejects files with them): crop-marks = true ignored, no marks printed", where)
    changes = {k: v for k, v in rules.items() if "-" not in k}
    if changes.get("bleed_mode") == "outside-if-bleed":
        changes["bleed_mode"] = "outside" if bleed else "none"
    if "bleed-default" in rules:
        changes["bleed"] = bleed or rules["bleed-default"]
    if "color-allowed" in rules and s.color not in rules["color-allowed"]:
        changes["color"] = rules["color-default"]
    if "variant-default" in rules:
        changes["variant"] = s.variant or rules["variant-default"]
    s = replace(s, **changes)
    if pdf.fonts and diagnostics is not None:
        known = installed_families()
        for fam in pdf.fonts:
            if known and fam.lower() not in known:
                diags.warn("pdf-font", f"[pdf] fonts: '{fam}' is not an installed font family;"
                           f" the next one (or Noto Serif) is used", where)
    if s.variant in ("pdf/x-1a", "pdf/x-3") and s.color == "rgb":
        diags.info("pdf-color", f"[pdf] variant {s.variant} allows no RGB: printing in CMYK",
                   where)
        s = replace(s, color="cmyk")
    if s.variant and s.variant not in VARIANTS:
        diags.warn("pdf-variant", f"[pdf] variant '{pdf.variant}' is unknown (known: "
                   f"{', '.join(sorted(VARIANTS))}); writing a plain PDF", where)
        s = replace(s, variant="")
    return s


def installed_families() -> set[str]:
    """Font families fontconfig knows (lowercase); empty when fc-list is not there."""
    import shutil
    import subprocess

    if not shutil.which("fc-list"):
        return set()
    try:
        out = subprocess.run(["fc-list", ":", "family"], capture_output=True, text=True,
                             timeout=20).stdout
    except (OSError, subprocess.SubprocessError):
        return set()
    return {name.strip().lower() for line in out.splitlines() for name in line.split(",")}


# --------------------------------------------------------------------------------------------
# Page geometry: the one formula for margins and the text block


# How far inside the trim everything printed must stay, running heads and folios included: the
# services' published minimums (Lulu and IngramSpark 0.5 in on every side; KDP 0.25 in, 0.375 in
# on a bled page), else the usual 0.25 in.
SAFE_MARGIN = {"lulu": 36.0, "ingramspark": 36.0}
LULU_GUTTER = 14.4  # Lulu: a gutter of 0.2-0.3 in on top of its 0.5 in margin
HEAD_ROOM = 28.0  # a running head or folio: its 14 pt padding and its line, in the margin


def live_margin(s: PrintSettings) -> float:
    """Points from the trim within which nothing may print (preflight's live area)."""
    if s.preset == "kdp":
        return 27.0 if s.bleed_mode != "none" else 18.0
    return SAFE_MARGIN.get(s.preset, 18.0)


def margins(s: PrintSettings) -> tuple[float, float, float, float]:
    """(top, bottom, inside, outside) margins of the trimmed page in points.

    They scale with the trim (6x9: 0.75in top, 0.875in inside, 0.625in outside), with floors that
    keep running heads and folios inside the live area (``live_margin``: 0.25in, 0.5in for Lulu
    and IngramSpark) on small trims."""
    live = live_margin(s)
    top = round(max(s.trim_h * 0.0833, 50.0, live + HEAD_ROOM), 2)
    bottom = round(max(s.trim_h * 0.0972, 54.0, live + HEAD_ROOM), 2)
    gutter = LULU_GUTTER if s.preset == "lulu" else 0.0
    inside = round(max(s.trim_w * 0.1458, 45.0, live + gutter), 2)
    outside = round(max(s.trim_w * 0.1042, 32.0, live), 2)
    return top, bottom, inside, outside


def text_width(s: PrintSettings) -> float:
    """Width of the text block in points: the widest anything prints."""
    _, _, inside, outside = margins(s)
    return s.trim_w - inside - outside


def text_height(s: PrintSettings) -> float:
    top, bottom, _, _ = margins(s)
    return s.trim_h - top - bottom


def page_boxes(s: PrintSettings, index: int) -> dict[str, tuple[float, float, float, float]]:
    """TrimBox/BleedBox/MediaBox of page index (0-based), in the coordinates WeasyPrint uses."""
    w, h, b = s.trim_w, s.trim_h, s.bleed
    if s.bleed_mode == "outside":
        right = (index % 2 == 0) != s.rtl  # page 1 is a right-hand page (left in RTL books)
        x0 = 0.0 if right else b
        return {"MediaBox": (0.0, 0.0, w + b, h + 2 * b),
                "TrimBox": (x0, b, x0 + w, b + h),
                "BleedBox": (0.0, 0.0, w + b, h + 2 * b)}
    m = s.bleed + (s.mark_room if s.marks else 0) if s.bleed_mode == "all" or s.marks else 0.0
    bb = b if s.bleed_mode == "all" else 0.0
    return {"MediaBox": (-m, -m, w + m, h + m),
            "TrimBox": (0.0, 0.0, w, h),
            "BleedBox": (-bb, -bb, w + bb, h + bb)}


def icc_profile(color: str = "cmyk") -> Path | None:
    """The CMYK ICC profile used as the PDF/X output intent: ours, or Ghostscript's."""
    for p in (resources.styles_dir() / "icc" / "cmyk.icc",
              Path("/usr/share/color/icc/ghostscript/default_cmyk.icc"),
              Path("/usr/share/color/icc/ghostscript/ps_cmyk.icc")):
        if p.is_file():
            return p
    return None

