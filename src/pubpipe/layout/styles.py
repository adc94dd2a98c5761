"""The print stylesheets: print.css, the shared component styles, and the page geometry of
[pdf] as @page rules (size, margins from ``settings.margins``, bleed, marks, fonts)."""

from __future__ import annotations

from .. import resources
from .settings import PrintSettings, icc_profile, margins

ASSET_URL = "https://pubpipe.invalid/asset/"  # served by the render sandbox, never fetched

# After the body font, the families that draw every other script the content may use. Emoji come
# from fontconfig's fallback (Noto Color Emoji): naming the emoji font here makes Pango draw digits
# and spaces with it, since they can start emoji sequences.
FALLBACK_FONTS = ('"Noto Serif CJK SC", "Noto Naskh Arabic", "Noto Serif Hebrew", "Noto Sans Symbols",'
                  ' "Noto Sans Symbols2", "Noto Sans Math", "DejaVu Serif", "DejaVu Sans"')


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
        lines.append(f"html {{ font-family: {fams}, {FALLBACK_FONTS}, serif; }}")
        lines.append(f"@page {{ font-family: {fams}, {FALLBACK_FONTS}, serif; }}")
    return "\n".join(lines)


def stylesheets(s: PrintSettings) -> list[str]:
    """pubpipe's print styles, the page geometry, then the author's [pdf] css (which wins)."""
    return [resources.stylesheet("print.css"), resources.component_styles(), geometry_css(s),
            resources.author_css(s.css)]


def color_profile_css(s: PrintSettings, res: dict) -> str:
    """@color-profile for PDF/X: WeasyPrint writes an OutputIntent only when CSS names one."""
    if not s.variant.startswith("pdf/x"):
        return ""
    icc = icc_profile(s.color)
    if icc is None:
        return ""
    url = ASSET_URL + "output-intent.icc"
    res[url] = (icc, "application/vnd.iccprofile")
    return (f"@color-profile device-cmyk {{ src: url({url});"
            " components: cyan, magenta, yellow, black; }}")

