"""Image processing with Pillow: sniffing, safety checks and one variant per output profile.

Every image is judged by its bytes, never by its name or Content-Type. Only the decoders in
``RASTER_FORMATS`` are ever used; an image with more pixels than ``Image.MAX_IMAGE_PIXELS`` (where
Pillow would merely warn) is refused as a decompression bomb before anything is decoded.

A variant is: EXIF orientation applied, then all metadata dropped; colour converted to sRGB through
ICC profiles (an embedded one, else a real CMYK profile for CMYK, never a naive channel formula
when a profile exists); 16-bit scaled (not clipped) to 8-bit; the first frame of an animation;
downscaled (never upscaled) to the profile's box; photos saved as JPEG, graphics (alpha, few
colours) as PNG. JPEGs are decoded in draft mode at the smallest scale still larger than the box.
A profile may allow some slack: an image decoded at most that much larger than its box (print:
1.25x, 300-375 ppi) is kept at its decoded size instead of resampled (for a 3000x2000 photo and a
1350 px print box the half-scale draft, 1500x1000, is the variant: half the CPU of a resize).
"""

from __future__ import annotations

import io
import math
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageCms, ImageFile, ImageOps

# Pillow format name -> media type, for the decoders we allow.
RASTER_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "GIF": "image/gif",
                  "WEBP": "image/webp", "BMP": "image/bmp", "TIFF": "image/tiff"}
SVG = "image/svg+xml"
# Raise the bar for a "photo": a lossless image with at most this many colours is a graphic.
GRAPHIC_MAX_COLORS = 4096

_SRGB = ImageCms.createProfile("sRGB")
_CMYK_PROFILE_CANDIDATES = (
    # No CMYK profile ships with Pillow; use a real one from the system when there is one.
    "/usr/share/color/icc/ghostscript/default_cmyk.icc",
    "/usr/share/color/icc/ghostscript/ps_cmyk.icc",
    "/usr/share/color/icc/colord/FOGRA39L_coated.icc",
    "/usr/share/color/icc/colord/SWOP-Coated-20-16.icc",
)


class ImageRefused(Exception):
    """The bytes are not an image we accept (reason in str(e))."""


def sniff(data: bytes) -> str:
    """Media type from the first bytes, or "" for anything that is not a supported image."""
    head = data[:64]
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[:2] == b"BM":
        return "image/bmp"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "image/tiff"
    if _looks_like_svg(data):
        return SVG
    return ""


def _looks_like_svg(data: bytes) -> bool:
    text = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if not text.startswith(b"<"):
        return False
    # Skip the XML declaration, comments and a doctype; the first element must be <svg.
    text = re.sub(rb"^(\s*(<\?.*?\?>|<!--.*?-->))*\s*", b"", text, flags=re.S)
    if text.startswith(b"<!doctype svg"):
        return True  # the sanitizer refuses it with a reason that names the DTD
    text = re.sub(rb"^<!doctype[^>\[]*>\s*", b"", text)
    return text.startswith(b"<svg") or text.startswith(b"<svg:svg")


def describe(data: bytes) -> str:
    """A short human description of bytes that are not an image, for a diagnostic."""
    head = data[:512].lstrip().lower()
    if not data:
        return "empty response"
    if head.startswith((b"<!doctype html", b"<html")) or b"<html" in head:
        return "an HTML page, not an image"
    if head.startswith((b"{", b"[")):
        return "JSON, not an image"
    if head.startswith(b"<"):
        return "XML/markup, not an image"
    return "not a supported image format"


def _open(data: bytes, warnings_as_errors: bool = False) -> Image.Image:
    # WeasyPrint turns this process-wide switch on when it is imported (the cover is drawn in this
    # process): a damaged image must still be refused here, not embedded half-grey.
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        if warnings_as_errors:
            # Pillow's bomb *warning* becomes an error (the filter is process-global, so this is
            # only done on the main thread, in probe(); process() relies on the check below).
            with warnings.catch_warnings():
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                im = Image.open(io.BytesIO(data), formats=list(RASTER_FORMATS))
        else:
            im = Image.open(io.BytesIO(data), formats=list(RASTER_FORMATS))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        raise ImageRefused(f"decompression bomb refused ({e})") from None
    except Exception as e:  # noqa: BLE001 - Pillow raises many types for bad input
        raise ImageRefused(f"cannot be read as an image ({e})") from None
    w, h = im.size
    # Pillow only warns between MAX_IMAGE_PIXELS and twice that; we refuse (a warning filter
    # would be process-global and not thread-safe, so check it here).
    if Image.MAX_IMAGE_PIXELS and w * h > Image.MAX_IMAGE_PIXELS:
        raise ImageRefused(f"decompression bomb refused ({w}x{h} = {w * h} pixels, more than"
                           f" the limit of {Image.MAX_IMAGE_PIXELS})")
    if w <= 0 or h <= 0:
        raise ImageRefused("image has no pixels")
    return im


def load_decoders() -> None:
    """Import Pillow's image plugins now (about 50 ms; a worker forked later has them)."""
    Image.init()


def quietly_openable(data: bytes) -> bool:
    """Whether an allowed decoder reads data's header and its pixels are within
    ``Image.MAX_IMAGE_PIXELS``, found out without ``Image.open``: its decompression-bomb warning
    is printed once to stderr, and the filter that would silence it is process-wide, which a
    background thread (prefetching) must neither print nor change."""
    Image.init()
    for fmt in RASTER_FORMATS:
        factory, accept = Image.OPEN.get(fmt, (None, None))
        if factory is None or (accept is not None and not accept(data[:16])):
            continue
        try:
            w, h = factory(io.BytesIO(data)).size
        except Exception:  # noqa: BLE001 - not this format after all, or damaged
            continue
        return 0 < w * h <= (Image.MAX_IMAGE_PIXELS or w * h)
    return False


def probe(data: bytes) -> tuple[int, int]:
    """(width, height) of a raster image after EXIF orientation, checking only the header."""
    im = _open(data, warnings_as_errors=True)
    w, h = im.size
    if _orientation(im) in (5, 6, 7, 8):
        w, h = h, w
    return w, h


def _orientation(im: Image.Image) -> int:
    try:
        return int(im.getexif().get(0x0112, 1) or 1)
    except Exception:  # noqa: BLE001 - broken EXIF is common and harmless
        return 1


@dataclass(frozen=True)
class Box:
    """The largest size (pixels) a variant may have; 0 means no limit on that side."""

    longest: int = 0
    width: int = 0
    height: int = 0

    def fit(self, w: int, h: int) -> tuple[int, int]:
        scale = 1.0
        if self.longest:
            scale = min(scale, self.longest / max(w, h))
        if self.width:
            scale = min(scale, self.width / w)
        if self.height:
            scale = min(scale, self.height / h)
        if scale >= 1.0:
            return w, h  # never upscale
        return max(1, math.floor(w * scale + 0.5)), max(1, math.floor(h * scale + 0.5))


@dataclass(frozen=True)
class Output:
    data: bytes
    media_type: str
    width: int
    height: int


def process(data: bytes, box: Box, jpeg_quality: int, slack: float = 1.0) -> Output:
    """One processed variant of a raster image (see the module docstring).
    slack: a decoded image at most this many times the box's size (linear) is kept as it is, not
    resampled (a JPEG's draft decoding already gives the smallest DCT scale at least as large
    as the box: within the slack that is the variant, sharper and without a resampling pass)."""
    im = _open(data)
    fmt = im.format
    orientation = _orientation(im)
    w, h = im.size
    upright = (h, w) if orientation in (5, 6, 7, 8) else (w, h)
    target = box.fit(*upright)
    if fmt == "JPEG" and target != upright:
        # Draft size is in stored orientation; draft keeps at least the requested size.
        want = (target[1], target[0]) if orientation in (5, 6, 7, 8) else target
        im.draft(im.mode, want)
    if getattr(im, "is_animated", False):
        im.seek(0)  # the first frame stands for the animation
    # the bytes are in memory: decode them in one call, not 64 kB at a time (each call gives up
    # and takes back the GIL, which the reader's thread then waits for when images are prefetched)
    im.decodermaxblock = max(im.decodermaxblock, len(data))
    try:
        im.load()
    except Exception as e:  # noqa: BLE001 - truncated or corrupt data
        raise ImageRefused(f"damaged image data ({e})") from None
    icc = im.info.get("icc_profile")
    im = ImageOps.exif_transpose(im) if orientation != 1 else im
    im = _to_srgb(im, icc)
    if im.size != target and not _within(im.size, target, slack):
        im = im.resize(target, Image.Resampling.LANCZOS, reducing_gap=2.0)
    has_alpha = im.mode == "RGBA" and im.getextrema()[3][0] < 255
    if im.mode == "RGBA" and not has_alpha:
        im = im.convert("RGB")
    photo = not has_alpha and (fmt == "JPEG" or (fmt == "WEBP" and not _webp_lossless(data))
                               or _many_colors(im))
    # Pillow copies .info (ICC profile, EXIF, text chunks) from image to image and the PNG
    # encoder writes it: start clean, or a P3 profile would be stamped on sRGB pixels.
    im.info = {}
    out = io.BytesIO()
    if photo:
        rgb = im if im.mode == "RGB" else im.convert("RGB")  # converting RGB to RGB: a copy
        rgb.save(out, "JPEG", quality=jpeg_quality, optimize=True, progressive=False,
                 subsampling="4:2:0" if jpeg_quality < 90 else 0)
        media = "image/jpeg"
    else:
        im.save(out, "PNG", optimize=im.width * im.height < 4_000_000)
        media = "image/png"
    return Output(out.getvalue(), media, im.width, im.height)


def _within(size: tuple[int, int], target: tuple[int, int], slack: float) -> bool:
    """Whether size is at most slack times target on both sides (and never smaller)."""
    return all(t <= s <= t * slack for s, t in zip(size, target))


def _to_srgb(im: Image.Image, icc: bytes | None) -> Image.Image:
    """RGB or RGBA in sRGB, 8 bits a channel."""
    mode = im.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        # Scale 16-bit samples down; a plain convert("L") would clip everything above 255.
        im = im.convert("I").point(lambda v: v * (1 / 256)).convert("L")
    elif mode == "F":
        im = im.point(lambda v: v * 255 if v <= 1.0 else v).convert("L")
    elif mode == "1":
        im = im.convert("L")
    elif mode in ("P", "PA"):
        im = im.convert("RGBA")
    elif mode in ("LA", "La"):
        im = im.convert("RGBA")
    elif mode == "RGBa":
        im = im.convert("RGBA")
    elif mode in ("YCbCr", "LAB", "HSV"):
        im = im.convert("RGB")
    alpha = im.getchannel("A") if im.mode == "RGBA" else None
    base = im.convert("RGB") if alpha is not None else im
    src_profile = None
    if icc:
        try:
            src_profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        except Exception:  # noqa: BLE001 - a broken embedded profile: fall back below
            src_profile = None
    if src_profile is None and base.mode == "CMYK":
        src_profile = cmyk_profile()
    if src_profile is not None and base.mode in ("RGB", "CMYK", "L"):
        try:
            if base.mode == "L" and _profile_space(src_profile) != "GRAY":
                raise ValueError("profile does not match a grayscale image")
            base = ImageCms.profileToProfile(base, src_profile, _SRGB, outputMode="RGB",
                                             renderingIntent=ImageCms.Intent.PERCEPTUAL)
        except Exception:  # noqa: BLE001 - profile/colour-space mismatch: plain conversion
            base = base.convert("RGB")
    elif base.mode != "RGB":
        base = base.convert("RGB")
    if alpha is not None:
        base = base.convert("RGBA")
        base.putalpha(alpha)
    return base


def _profile_space(profile) -> str:
    try:
        return profile.profile.xcolor_space.strip().upper()
    except Exception:  # noqa: BLE001
        return ""


_cmyk_cache: list = []


def cmyk_profile():
    """A real CMYK ICC profile for CMYK images that carry none (None if the system has none)."""
    if not _cmyk_cache:
        found = None
        for candidate in _CMYK_PROFILE_CANDIDATES:
            if Path(candidate).is_file():
                try:
                    found = ImageCms.ImageCmsProfile(candidate)
                    break
                except Exception:  # noqa: BLE001
                    continue
        _cmyk_cache.append(found)
    return _cmyk_cache[0]


def _webp_lossless(data: bytes) -> bool:
    # VP8L chunk = lossless; VP8X may wrap either: look for the chunk tag in the header area.
    return b"VP8L" in data[12:64] and b"VP8 " not in data[12:64]


def _many_colors(im: Image.Image) -> bool:
    """True for photographic content: many distinct colours on a nearest-neighbour sample."""
    sample = im.convert("RGB")
    if sample.width * sample.height > 65536:
        sample = sample.resize((min(256, sample.width), min(256, sample.height)),
                               Image.Resampling.NEAREST)
    return sample.getcolors(GRAPHIC_MAX_COLORS) is None
