"""The EPUB cover image: the author's `[book] cover` made a portrait JPEG, or one drawn with Pillow.

Both paths give a JPEG at least 1600 x 2560 (the size stores ask for) and are deterministic: the
same inputs give the same bytes, so EPUB builds stay reproducible. Text is set with installed Noto
fonts, choosing for each line the first face that has a glyph for every character (Latin, Greek,
Cyrillic, CJK, Arabic, Hebrew...); Pillow's raqm layout shapes and orders right-to-left scripts.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont, ImageOps

WIDTH, HEIGHT = 1600, 2560  # minimum cover size, ratio 1.6
JPEG_QUALITY = 90
VERSION = 2  # bump when the output of this module changes (cached covers are remade)

_FONT_DIRS = (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"), Path.home() / ".fonts")
# Preferred faces per role, best first; the first one covering a text's characters is used.
_TITLE_FACES = ("NotoSerifDisplay-Bold.ttf", "NotoSerif-Bold.ttf", "NotoSerifCJK-Bold.ttc",
                "NotoNaskhArabic-Bold.ttf", "NotoSerifHebrew-Bold.ttf", "NotoSans-Bold.ttf",
                "NotoSansCJK-Bold.ttc", "DejaVuSerif-Bold.ttf", "DejaVuSans-Bold.ttf")
_SUBTITLE_FACES = ("NotoSerifDisplay-Italic.ttf", "NotoSerif-Italic.ttf", "NotoSerifCJK-Regular.ttc",
                   "NotoNaskhArabic-Regular.ttf", "NotoSerifHebrew-Regular.ttf",
                   "NotoSans-Italic.ttf", "NotoSansCJK-Regular.ttc", "DejaVuSerif-Italic.ttf",
                   "DejaVuSans.ttf")
_AUTHOR_FACES = ("NotoSans-Regular.ttf", "NotoSansCJK-Regular.ttc", "NotoSansArabic-Regular.ttf",
                 "NotoSansHebrew-Regular.ttf", "NotoSerif-Regular.ttf", "DejaVuSans.ttf")

# A few calm background/ink pairs; the title picks one, so a book keeps its cover between builds.
_PALETTES = (((28, 43, 57), (236, 228, 212), (201, 162, 94)),
             ((52, 31, 41), (240, 232, 220), (196, 140, 106)),
             ((23, 50, 45), (233, 236, 226), (174, 196, 140)),
             ((40, 40, 48), (238, 236, 230), (150, 170, 205)))


@dataclass
class Cover:
    data: bytes  # JPEG
    width: int
    height: int
    generated: bool
    notes: list[str] = field(default_factory=list)  # problems worth a warning diagnostic


@lru_cache(maxsize=None)
def _font_path(name: str) -> Path | None:
    for d in _FONT_DIRS:
        if d.is_dir():
            for p in d.rglob(name):
                return p
    return None


@lru_cache(maxsize=None)
def _cmap(path: Path) -> frozenset[int]:
    from fontTools.ttLib import TTCollection, TTFont

    try:
        if path.suffix.lower() == ".ttc":
            font = TTCollection(str(path), lazy=True).fonts[0]
        else:
            font = TTFont(str(path), lazy=True)
        return frozenset(font.getBestCmap() or {})
    except Exception:  # an unreadable font is simply not a candidate
        return frozenset()


def _pick_face(text: str, faces: tuple[str, ...]) -> Path | None:
    """The first installed face with a glyph for every visible character, else the best covering."""
    needed = {ord(c) for c in text if not c.isspace()}
    best, best_missing = None, None
    for name in faces:
        path = _font_path(name)
        if path is None:
            continue
        missing = len(needed - _cmap(path))
        if missing == 0:
            return path
        if best_missing is None or missing < best_missing:
            best, best_missing = path, missing
    return best


def _covers(text: str, faces: tuple[str, ...]) -> bool:
    path = _pick_face(text, faces)
    return path is not None and not ({ord(c) for c in text if not c.isspace()} - _cmap(path))


def _font(text: str, faces: tuple[str, ...], size: int) -> ImageFont.FreeTypeFont:
    path = _pick_face(text, faces)
    if path is None:
        return ImageFont.load_default(size)
    return ImageFont.truetype(str(path), size, layout_engine=ImageFont.Layout.RAQM
                              if _raqm() else ImageFont.Layout.BASIC)


@lru_cache(maxsize=1)
def _raqm() -> bool:
    from PIL import features

    return bool(features.check("raqm"))


def _wrap(draw: ImageDraw.ImageDraw, text: str, font, max_width: int) -> list[str]:
    """Greedy line breaking on spaces; CJK text without spaces breaks between characters."""
    words = text.split()
    if len(words) <= 1 and draw.textlength(text, font=font) > max_width:
        words = list(text.replace(" ", ""))  # no spaces to break at: break anywhere
        joiner = ""
    else:
        joiner = " "
    lines: list[str] = []
    line = ""
    for w in words:
        trial = f"{line}{joiner}{w}" if line else w
        if draw.textlength(trial, font=font) <= max_width or not line:
            line = trial
        else:
            lines.append(line)
            line = w
    if line:
        lines.append(line)
    return lines


def _fit(draw, text: str, faces, start: int, min_size: int, max_width: int, max_lines: int):
    """The largest size (stepping down) at which text fits in max_lines lines."""
    size = start
    while True:
        font = _font(text, faces, size)
        lines = _wrap(draw, text, font, max_width)
        widest = max((draw.textlength(ln, font=font) for ln in lines), default=0)
        if (len(lines) <= max_lines and widest <= max_width) or size <= min_size:
            return font, lines
        size = int(size * 0.9)


def _direction(text: str) -> str | None:
    import unicodedata

    for c in text:
        bidi = unicodedata.bidirectional(c)
        if bidi in ("R", "AL"):
            return "rtl"
        if bidi == "L":
            return None
    return None


def _draw_lines(draw, lines, font, y: int, fill, line_gap: float = 1.18) -> int:
    """Centered lines from y down; returns the y below the last line."""
    size = font.size
    for ln in lines:
        kwargs = {}
        direction = _direction(ln)
        if direction and _raqm():
            kwargs["direction"] = direction
        w = draw.textlength(ln, font=font, **kwargs)
        draw.text(((WIDTH - w) / 2, y), ln, font=font, fill=fill, **kwargs)
        y += int(size * line_gap)
    return y


def palette(title: str) -> tuple[tuple[int, int, int], ...]:
    """(ground, ink, accent) for a book: the title picks one, so the colours stay put."""
    digest = hashlib.sha256(title.encode()).digest()
    return _PALETTES[digest[0] % len(_PALETTES)]


def generate_cover(title: str, subtitle: str = "", authors: list[str] | tuple = ()) -> Cover:
    """A typographic cover: title, subtitle and authors on a calm coloured ground."""
    bg, ink, accent = palette(title)
    im = Image.new("RGB", (WIDTH, HEIGHT), bg)
    draw = ImageDraw.Draw(im)
    margin = 170
    text_w = WIDTH - 2 * margin
    # a thin frame and rules, like a classic paperback
    draw.rectangle((70, 70, WIDTH - 70, HEIGHT - 70), outline=accent, width=4)

    title = " ".join((title or "Untitled").split())
    tfont, tlines = _fit(draw, title, _TITLE_FACES, 190, 70, text_w, 6)
    sfont, slines = None, []
    if subtitle:
        subtitle = " ".join(subtitle.split())
        sfont, slines = _fit(draw, subtitle, _SUBTITLE_FACES, 80, 44, text_w, 5)
    # the title block (title, rule, subtitle) centred on the upper 40% line of the page
    block = int(tfont.size * 1.15) * len(tlines) + 150
    if slines:
        block += int(sfont.size * 1.3) * len(slines)
    y = max(260, int(HEIGHT * 0.4) - block // 2)
    y = _draw_lines(draw, tlines, tfont, y, ink, 1.15)
    y += 60
    draw.line(((WIDTH / 2 - 160, y), (WIDTH / 2 + 160, y)), fill=accent, width=5)
    y += 90
    if slines:
        _draw_lines(draw, slines, sfont, y, accent, 1.3)
    authors = [" ".join(a.split()) for a in authors if a and a.strip()]
    names = ", ".join(authors)
    if names:
        if _covers(names, _AUTHOR_FACES):
            groups = [names]
        else:  # names in different scripts: one line each, each in a face that has its glyphs
            groups = authors[:4]
        step = 120 if len(groups) > 1 else 0
        y = HEIGHT - 330 - step * (len(groups) - 1)
        for group in groups:
            afont, alines = _fit(draw, group, _AUTHOR_FACES, 78 if step == 0 else 64, 40,
                                 text_w, 2 if step == 0 else 1)
            _draw_lines(draw, alines, afont, y, ink, 1.3)
            y += step
    return Cover(_jpeg(im), WIDTH, HEIGHT, generated=True)


def process_cover(source, title: str = "", subtitle: str = "",
                  authors: list[str] | tuple = (), name: str = "") -> Cover:
    """The author's cover image as a portrait JPEG of at least 1600 x 2560.

    A portrait image close to the 1:1.6 shape is scaled (never distorted, at most trimmed a little
    to the shape); any other shape is set into a generated cover so nothing of it is cut away.
    source: a path or a binary file object. Raises OSError/ValueError (or Pillow's errors) for
    images that cannot be read; the caller reports them.
    """
    notes: list[str] = []
    name = name or getattr(source, "name", "") or "cover"
    name = Path(str(name)).name
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        with Image.open(source, formats=["JPEG", "PNG", "WEBP", "GIF", "TIFF", "BMP"]) as src:
            src.load()
            im = ImageOps.exif_transpose(src)
    im = _flatten(im)
    w, h = im.size
    ratio = h / w
    if 1.4 <= ratio <= 1.8:
        # trim to exactly 1:1.6 (at most ~12% of one side), then scale to the minimum size
        if ratio > 1.6:
            nh = round(w * 1.6)
            top = (h - nh) // 2
            im = im.crop((0, top, w, top + nh))
        elif ratio < 1.6:
            nw = round(h / 1.6)
            left = (w - nw) // 2
            im = im.crop((left, 0, left + nw, h))
        w, h = im.size
        if w < WIDTH:
            if WIDTH / w > 1.5:
                notes.append(f"cover image {name} is small ({w}x{h}); upscaled to"
                             f" {WIDTH}x{HEIGHT}, which may look soft: supply at least"
                             f" {WIDTH}x{HEIGHT}")
            im = im.resize((WIDTH, HEIGHT), Image.Resampling.LANCZOS)
        elif w > 2 * WIDTH:  # keep the EPUB small; 2x the minimum is plenty for any screen
            im = im.resize((2 * WIDTH, 2 * HEIGHT), Image.Resampling.LANCZOS)
        return Cover(_jpeg(im), im.width, im.height, generated=False, notes=notes)

    notes.append(f"cover image {name} is {w}x{h}, not portrait (about 1:1.6); it was"
                 " placed on a generated cover")
    base = generate_cover(title, subtitle, authors)
    canvas = Image.open(io.BytesIO(base.data))
    canvas.load()
    box_w, box_h = WIDTH - 340, 860
    scale = min(box_w / w, box_h / h)
    fitted = im.resize((max(1, round(w * scale)), max(1, round(h * scale))),
                       Image.Resampling.LANCZOS)
    # the band between the title block and the authors
    canvas.paste(fitted, ((WIDTH - fitted.width) // 2, 1380 + (box_h - fitted.height) // 2))
    return Cover(_jpeg(canvas), WIDTH, HEIGHT, generated=False, notes=notes)


def _flatten(im: Image.Image) -> Image.Image:
    """RGB on white (transparency and palettes flattened), sRGB assumed."""
    if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
        im = im.convert("RGBA")
        ground = Image.new("RGB", im.size, (255, 255, 255))
        ground.paste(im, mask=im.getchannel("A"))
        return ground
    if im.mode == "CMYK":
        return im.convert("RGB")
    return im.convert("RGB") if im.mode != "RGB" else im


def _jpeg(im: Image.Image) -> bytes:
    out = io.BytesIO()
    im.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True, progressive=False)
    return out.getvalue()
