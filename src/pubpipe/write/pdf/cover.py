"""The full-wrap print cover a print-on-demand service asks for: back, spine and front on one page.

``write_cover(book, ctx, edition)`` reads the interior's page count from the print edition (the
same layout the PDF writer uses), sizes the wrap from the trim, the spine and the bleed, and draws
it with WeasyPrint::

    width  = bleed + back (trim width) + spine + front (trim width) + bleed
    height = bleed + trim height + bleed

The spine width comes from ``spine_width`` (the service's published rule for the preset, else the
paper's thickness per page) for the interior's page count rounded up to an even number (a leaf has
two pages). The front is the author's ``[book] cover`` image, scaled to cover the front panel and
its bleed (an image far from the panel's shape is set on a drawn front instead), or a drawn
typographic front in the EPUB cover's colours. The spine carries title and author only when the
service allows spine text for that page count. The back holds the description and a white area
for the barcode (2 x 1.2 in, lower right, 0.25 in from the trim and the spine). Text keeps 0.5 in
inside the trim. A right-to-left book opens the other way: its front is the left panel. The PDF's TrimBox is the wrap without the bleed; preflight checks the MediaBox
against the page count.
"""

from __future__ import annotations

import dataclasses
import html
import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ...assets import cover as cover_mod
from ...document import Book
from ...layout.edition import PrintEdition, Resource
from ...layout.render import SandboxFetcher
from ...layout.settings import PrintSettings
from ...layout.styles import ASSET_URL, color_profile_css
from . import preflight
from .postprocess import convert_colors, padded_page_count
from .preflight import SPINE_TEXT_MIN as SPINE_TEXT_MIN_PAGES  # fewest pages with spine text

PROFILES = ("print",)  # the ``cover`` format: the same image variants as the PDF

if TYPE_CHECKING:
    from ...context import BuildContext

PT_PER_IN = 72.0
COVER_BLEED_IN = 0.125  # every service asks for 1/8 in on the cover's four outer edges
SAFE_IN = 0.5  # text this far inside the trim (Lulu's and IngramSpark's safety margin)
BARCODE_IN = (2.0, 1.2)  # KDP's barcode area, lower right of the back cover
BARCODE_OFFSET_IN = 0.25
SPINE_TEXT_MARGIN_IN = 0.0625  # KDP: spine text this far from each fold
MIN_SPINE_TYPE_PT = 5.0  # smaller spine type is not worth printing
PRINT_PRESETS = ("kdp", "lulu", "ingramspark")


@dataclass(frozen=True)
class Wrap:
    """Sizes of a full-wrap cover, in points."""

    trim_w: float
    trim_h: float
    spine: float
    bleed: float
    pages: int  # interior pages the spine is sized for (even)
    spine_text: bool
    why: str  # how the spine width was found, for messages
    rtl: bool = False  # bound on the right: the front is the left panel

    @property
    def width(self) -> float:
        return 2 * self.trim_w + self.spine + 2 * self.bleed

    @property
    def height(self) -> float:
        return self.trim_h + 2 * self.bleed


def bound_pages(n_pages: int) -> int:
    """Pages as bound: an odd count gets the blank last page the printer adds."""
    return n_pages + (n_pages % 2)


def spine_width(preset: str, paper: str, n_pages: int) -> tuple[float | None, str]:
    """The spine width in inches for an interior of n_pages, and how it was found.

    Lulu publishes (pages / 444) + 0.06 in for paperbacks; KDP and IngramSpark size it from the
    paper's thickness per page (KDP: white 0.002252 in, cream 0.0025 in, colour 0.002347 in).
    """
    pages = bound_pages(n_pages)
    odd = f" ({n_pages} + 1 blank page the printer adds to make the count even)" \
        if pages != n_pages else ""
    if preset == "lulu":
        return pages / 444 + 0.06, f"{pages} pages{odd} / 444 + 0.06 in (Lulu's paperback rule)"
    thickness, name = preflight.spine_thickness(paper)
    if thickness is None:
        return None, f"paper '{paper}' unknown"
    return pages * thickness, f"{pages} pages{odd} x {thickness:g} in ({name} paper)"


def wrap_for(settings: PrintSettings, n_pages: int) -> Wrap | None:
    """The cover's geometry for print settings (pdf.PrintSettings) and an interior page count."""
    inches, why = spine_width(settings.preset, settings.paper, n_pages)
    if inches is None:
        return None
    bleed = COVER_BLEED_IN * PT_PER_IN
    if settings.preset not in PRINT_PRESETS and settings.bleed:
        bleed = settings.bleed
    spine = inches * PT_PER_IN
    minimum = SPINE_TEXT_MIN_PAGES.get(settings.preset, SPINE_TEXT_MIN_PAGES[""])
    # the service's page count, and room for type of at least 5 pt between the margins
    text = bound_pages(n_pages) >= minimum and \
        spine >= 2 * SPINE_TEXT_MARGIN_IN * PT_PER_IN + 1.0 + MIN_SPINE_TYPE_PT
    return Wrap(settings.trim_w, settings.trim_h, spine, bleed, bound_pages(n_pages), text, why,
                settings.rtl)


# ------------------------------------------------------------------------------ drawing

def _rgb(c) -> str:
    return f"rgb({c[0]}, {c[1]}, {c[2]})"


def _esc(text: str) -> str:
    return html.escape(text or "", quote=True)


FONTS = ('"Noto Serif", "Noto Serif CJK SC", "Noto Naskh Arabic", "Noto Serif Hebrew",'
         ' "DejaVu Serif", serif')
SANS = '"Noto Sans", "Noto Sans CJK SC", "Noto Sans Arabic", "Noto Sans Hebrew", "DejaVu Sans", sans-serif'


def cover_html(book: Book, wrap: Wrap, front_image: str | None, image_fits: bool,
               ground: tuple[int, int, int] | None = None) -> str:
    """The wrap as one HTML page: absolute panels in points from the top left of the bleed.
    ground: the colour of the back and spine (by default the EPUB cover's palette)."""
    meta = book.meta
    bg, ink, accent = cover_mod.palette(meta.title or "Untitled")
    if ground is not None:  # continue the front picture's edge round the spine and back
        bg = ground
        light = 0.2126 * bg[0] + 0.7152 * bg[1] + 0.0722 * bg[2] > 140
        ink = accent = (20, 20, 20) if light else (245, 245, 240)
    b, tw, th, sp = wrap.bleed, wrap.trim_w, wrap.trim_h, wrap.spine
    safe = SAFE_IN * PT_PER_IN
    back_x, spine_x, front_x = 0.0, b + tw, b + tw + sp
    fo, bo = 0.0, b  # where each panel's trimmed face starts: the bleed is on its outer side
    if wrap.rtl:  # a right-to-left book opens the other way: front left, back right
        back_x, front_x, fo, bo = b + tw + sp, 0.0, b, 0.0
    barcode_x = bo + BARCODE_OFFSET_IN * PT_PER_IN if wrap.rtl else \
        bo + tw - (BARCODE_IN[0] + BARCODE_OFFSET_IN) * PT_PER_IN
    authors = ", ".join(a for a in meta.authors if a.strip())
    title = meta.title or "Untitled"
    css = f"""
@page {{ size: {wrap.width:.3f}pt {wrap.height:.3f}pt; margin: 0; }}
html, body {{ margin: 0; padding: 0; }}
html {{ background: {_rgb(bg)}; }}
body {{ font-family: {FONTS}; color: {_rgb(ink)}; }}
.panel {{ position: absolute; top: 0; height: {wrap.height:.3f}pt; background: {_rgb(bg)};
  overflow: hidden; }}
#back {{ left: {back_x}pt; width: {b + tw:.3f}pt; }}
#spine {{ left: {spine_x:.3f}pt; width: {sp:.3f}pt; }}
#front {{ left: {front_x:.3f}pt; width: {tw + b:.3f}pt; }}
#front img.full {{ position: absolute; left: 0; top: 0; width: {tw + b:.3f}pt;
  height: {wrap.height:.3f}pt; object-fit: cover; }}
.frame {{ position: absolute; left: {fo + 0.3 * PT_PER_IN:.2f}pt; top: {b + 0.3 * PT_PER_IN:.2f}pt;
  width: {tw - 0.6 * PT_PER_IN:.2f}pt; height: {th - 0.6 * PT_PER_IN:.2f}pt;
  border: 1.2pt solid {_rgb(accent)}; }}
.front-text {{ position: absolute; left: {fo + safe:.2f}pt; width: {tw - 2 * safe:.2f}pt;
  text-align: center; hyphens: manual; }}
.title {{ top: {b + th * 0.24:.2f}pt; font-size: {min(40.0, tw / 9):.1f}pt; font-weight: 700;
  line-height: 1.15; }}
.rule {{ display: block; text-align: center; line-height: 0; margin: 0.3in 0 0.25in; }}
.rule span {{ display: inline-block; width: 1.6in; border-top: 1.5pt solid {_rgb(accent)}; }}
.subtitle {{ font-style: italic; font-size: {min(17.0, tw / 24):.1f}pt; font-weight: 400;
  color: {_rgb(accent)}; line-height: 1.3; }}
.authors {{ top: {b + th - safe - 0.9 * PT_PER_IN:.2f}pt; font-family: {SANS};
  font-size: {min(16.0, tw / 26):.1f}pt; letter-spacing: 0.04em; }}
.band {{ position: absolute; left: {fo + safe:.2f}pt; width: {tw - 2 * safe:.2f}pt;
  top: {b + th * 0.52:.2f}pt; height: {th * 0.25:.2f}pt; }}
.band img {{ width: 100%; height: 100%; object-fit: contain; }}
.spine-text {{ position: absolute; width: {th - 2 * safe:.2f}pt; height: {sp:.3f}pt;
  left: {(sp - (th - 2 * safe)) / 2:.3f}pt; top: {b + th / 2 - sp / 2:.3f}pt;
  transform: rotate(90deg); text-align: center; white-space: nowrap; overflow: hidden;
  font-size: {min(11.0, max(MIN_SPINE_TYPE_PT, sp - 2 * SPINE_TEXT_MARGIN_IN * PT_PER_IN - 1.0)):.2f}pt;
  line-height: {sp:.3f}pt; }}
.spine-text .by {{ font-family: {SANS}; margin-left: 1.2em; font-size: 0.85em; }}
.back-text {{ position: absolute; left: {bo + safe:.2f}pt; top: {b + safe:.2f}pt;
  width: {tw - 2 * safe:.2f}pt; height: {th - 2 * safe - (BARCODE_IN[1] + BARCODE_OFFSET_IN) * PT_PER_IN:.2f}pt;
  overflow: hidden; font-size: 10.5pt; line-height: 1.45; hyphens: auto; text-align: start; }}
.back-text h2 {{ font-size: 14pt; margin: 0 0 0.6em; font-weight: 700; }}
.back-text p {{ margin: 0 0 0.7em; }}
.back-text .who {{ font-family: {SANS}; font-size: 9.5pt; letter-spacing: 0.03em; }}
.barcode {{ position: absolute; background: #fff; width: {BARCODE_IN[0]}in; height: {BARCODE_IN[1]}in;
  left: {barcode_x:.2f}pt;
  top: {b + th - (BARCODE_IN[1] + BARCODE_OFFSET_IN) * PT_PER_IN:.2f}pt; }}
"""
    lang = _esc(meta.language or "en")
    front = []
    if front_image and image_fits:
        front.append(f'<img class="full" src="{_esc(front_image)}" alt="">')
    else:
        front.append('<div class="frame"></div>')
        sub = f'<div class="subtitle">{_esc(meta.subtitle)}</div>' if meta.subtitle else ""
        front.append(f'<div class="front-text title">{_esc(title)}<span class="rule"><span></span></span>'
                     f'{sub}</div>')
        if front_image:
            front.append(f'<div class="band"><img src="{_esc(front_image)}" alt=""></div>')
        if authors:
            front.append(f'<div class="front-text authors">{_esc(authors)}</div>')
    spine = ""
    if wrap.spine_text:
        by = f'<span class="by">{_esc(authors)}</span>' if authors else ""
        spine = f'<div class="spine-text">{_esc(title)}{by}</div>'
    paras = [p.strip() for p in re.split(r"\n\s*\n", meta.description or "") if p.strip()]
    back = [f"<h2>{_esc(title)}</h2>"] + [f"<p>{_esc(p)}</p>" for p in paras]
    if authors:
        back.append(f'<p class="who">{_esc(authors)}</p>')
    direction = ' dir="rtl"' if wrap.rtl else ""
    return (f'<!DOCTYPE html><html lang="{lang}"{direction}><head><meta charset="utf-8">'
            f"<title>{_esc(title)} (cover)</title><style>{css}</style></head><body>"
            f'<div class="panel" id="back"><div class="back-text">{"".join(back)}</div>'
            f'<div class="barcode"></div></div>'
            f'<div class="panel" id="spine">{spine}</div>'
            f'<div class="panel" id="front">{"".join(front)}</div>'
            "</body></html>")


@dataclass
class CoverResult:
    pdf: bytes
    wrap: Wrap
    notes: list[str]  # warnings: what the author should do about the cover


def _front_image(book: Book, ctx: BuildContext) -> tuple[Path | None, list[str]]:
    """The [book] cover image file (through the asset store), and what went wrong getting it."""
    raw = ctx.config.book.cover or ""
    if not raw:
        return None, []
    asset = ctx.store.register(raw.strip(), base=book.root, file=ctx.config_file)
    ctx.store.fetch_all()
    asset = ctx.store.canonical(asset)
    if not asset.ok or asset.source_path is None:
        return None, [f"cover image {raw}: {asset.reason or 'not available'}; the front is"
                      " drawn instead (give an image file in the book folder)"]
    return Path(asset.source_path), []


_MEDIA = {"jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp", "gif": "image/gif",
          "tiff": "image/tiff", "bmp": "image/bmp"}


def render_cover(book: Book, settings: PrintSettings, n_pages: int,
                 image: Path | None = None, name: str = "") -> CoverResult:
    """The full-wrap cover PDF for an interior of n_pages laid out with settings; image: the
    front's picture (name: as the author wrote it, for messages)."""
    import weasyprint
    from PIL import Image

    wrap = wrap_for(settings, n_pages)
    if wrap is None:
        raise ValueError(f"[pdf] paper '{settings.paper}' is unknown: the spine cannot be sized")
    notes: list[str] = []
    resources: dict[str, Resource] = {}
    url, fits, ground = None, False, None
    if image is not None:
        try:
            with Image.open(image) as im:
                w, h = im.size
                fmt = (im.format or "").lower()
                edge = im.convert("RGB").crop((0, 0, max(1, w // 40), h)).resize((1, 1))
                ground = edge.getpixel((0, 0))
        except Exception as e:  # unreadable: the front is drawn instead
            notes.append(f"cover image {name or image.name} cannot be read ({e}); the front"
                         " is drawn instead")
        else:
            if fmt in _MEDIA:
                url = f"{ASSET_URL}cover-front.{fmt}"
                resources[url] = Resource(image, _MEDIA[fmt])
                notes += _image_notes(name or image.name, w, h, wrap)
                fits = _fits(w, h, wrap)
    cover_settings = _cover_settings(settings)
    fetcher = SandboxFetcher(resources, cover_settings)
    css = color_profile_css(cover_settings, resources)
    profiles: dict = {}
    sheets = [weasyprint.CSS(string=css, url_fetcher=fetcher, color_profiles=profiles)] \
        if css else []
    html_text = cover_html(book, wrap, url, fits, ground if fits else None)
    document = weasyprint.HTML(string=html_text, base_url=ASSET_URL,
                               url_fetcher=fetcher).render(stylesheets=sheets,
                                                           color_profiles=profiles)
    pdf = document.write_pdf(pdf_variant=cover_settings.variant or None,
                             full_fonts=cover_settings.full_fonts, optimize_images=False, dpi=600)
    return CoverResult(_boxes(pdf, wrap, cover_settings), wrap, notes)


def _fits(w: int, h: int, wrap: Wrap) -> bool:
    """Whether an image of w x h px can fill the front panel (with its bleed) when trimmed a little."""
    panel_w, panel_h = wrap.trim_w + wrap.bleed, wrap.height
    return abs((h / w) / (panel_h / panel_w) - 1) <= 0.15


def _image_notes(name: str, w: int, h: int, wrap: Wrap) -> list[str]:
    panel_w, panel_h = wrap.trim_w + wrap.bleed, wrap.height
    need_w, need_h = round(panel_w / PT_PER_IN * 300), round(panel_h / PT_PER_IN * 300)
    size = f"{panel_w / PT_PER_IN:.3f}x{panel_h / PT_PER_IN:.3f} in with bleed"
    if not _fits(w, h, wrap):
        return [f"cover image {name} is {w}x{h} px, not the front's shape ({size}): it is set on"
                f" a drawn front; give a {need_w}x{need_h} px image to fill the front"]
    # object-fit: cover scales by the larger factor: the tighter side sets the resolution
    shown = min(w / (panel_w / PT_PER_IN), h / (panel_h / PT_PER_IN))
    if shown < 299.5:
        return [f"cover image {name} prints at {shown:.0f} ppi on the front ({w}x{h} px over"
                f" {size}): give a {need_w}x{need_h} px image for 300 ppi"]
    return []


def _cover_settings(settings: PrintSettings) -> PrintSettings:
    """The interior's settings for the cover, but in colour (CMYK where RGB is ruled out)."""
    color = "cmyk" if settings.variant in ("pdf/x-1a", "pdf/x-3") or \
        settings.preset == "ingramspark" else "rgb"
    return dataclasses.replace(settings, color=color, bleed_mode="none", marks=False,
                               links=False, bookmarks=False)


def _boxes(pdf: bytes, wrap: Wrap, s: PrintSettings) -> bytes:
    """TrimBox (the wrap without its bleed) and BleedBox; colours the settings rule out."""
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import ArrayObject, FloatObject, NameObject

    reader = PdfReader(io.BytesIO(pdf))
    writer = PdfWriter(clone_from=reader)
    writer.pdf_header = reader.pdf_header
    page = writer.pages[0]
    full = (0.0, 0.0, round(wrap.width, 3), round(wrap.height, 3))
    trim = (wrap.bleed, wrap.bleed, round(wrap.width - wrap.bleed, 3),
            round(wrap.height - wrap.bleed, 3))
    for name, box in (("MediaBox", full), ("BleedBox", full), ("TrimBox", trim)):
        page[NameObject(f"/{name}")] = ArrayObject(FloatObject(v) for v in box)
    convert_colors(writer, s)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def write_cover(book: Book, ctx: BuildContext, edition: PrintEdition) -> bytes:
    """The cover PDF for the book's print settings, sized by the edition's page count; problems
    go to the build's diagnostics."""
    ctx.publish_print_notes()
    n_pages = padded_page_count(edition.settings.preset, len(edition.page_labels))
    image, problems = _front_image(book, ctx)
    made = render_cover(book, edition.settings, n_pages, image, ctx.config.book.cover or "")
    for note in problems + made.notes:
        ctx.diagnostics.warn("pdf-cover", note, ctx.config_file)
    preflight.check_cover(made.pdf, edition.settings, n_pages, ctx.diagnostics, ctx.config_file)
    return made.pdf
