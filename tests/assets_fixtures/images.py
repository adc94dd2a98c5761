"""Images in every format, colour mode and failure mode the asset tests need, made with Pillow.

Everything is generated (deterministically) so no binary files live in the repository.
"""

from __future__ import annotations

import io
from functools import lru_cache

from PIL import Image, ImageCms, ImageDraw

from pubpipe.assets.images import cmyk_profile


def _save(im: Image.Image, fmt: str, **kw) -> bytes:
    out = io.BytesIO()
    im.save(out, fmt, **kw)
    return out.getvalue()


def photo(w: int, h: int, seed: int = 0) -> Image.Image:
    """Photo-like RGB content: smooth gradients plus noise (thousands of colours)."""
    r = Image.linear_gradient("L").resize((w, h))
    g = Image.linear_gradient("L").rotate(90).resize((w, h))
    b = Image.effect_noise((w, h), 40 + seed).point(lambda v: max(0, min(255, v)))
    return Image.merge("RGB", (r, g, b))


@lru_cache(maxsize=None)
def big_jpeg() -> bytes:
    return _save(photo(4000, 3000), "JPEG", quality=80)


@lru_cache(maxsize=None)
def rotated_jpeg() -> bytes:
    """Stored 1200x800, left half red and right half blue, EXIF orientation 6 (rotate 90° CW):
    shown upright it is 800x1200 with red on top."""
    im = Image.new("RGB", (1200, 800), (0, 0, 255))
    ImageDraw.Draw(im).rectangle((0, 0, 599, 799), fill=(255, 0, 0))
    exif = Image.Exif()
    exif[0x0112] = 6
    return _save(im, "JPEG", quality=90, exif=exif.tobytes())


@lru_cache(maxsize=None)
def cmyk_jpeg(embed_profile: bool = False) -> bytes:
    """A CMYK JPEG of pure cyan (C=100%)."""
    im = Image.new("CMYK", (400, 300), (255, 0, 0, 0))
    kw = {}
    prof = cmyk_profile()
    if embed_profile and prof is not None:
        kw["icc_profile"] = prof.tobytes()
    return _save(im, "JPEG", quality=90, **kw)


@lru_cache(maxsize=None)
def alpha_png() -> bytes:
    im = Image.new("RGBA", (300, 200), (0, 0, 0, 0))
    ImageDraw.Draw(im).ellipse((20, 20, 280, 180), fill=(0, 128, 0, 255))
    return _save(im, "PNG")


@lru_cache(maxsize=None)
def animated_gif() -> bytes:
    frames = [Image.new("P", (120, 90), i) for i in (10, 20, 30)]
    for i, f in enumerate(frames):
        f.putpalette([v for c in range(256) for v in ((c * 7) % 256, (c * 3) % 256, c)])
        ImageDraw.Draw(f).rectangle((i * 30, 10, i * 30 + 20, 40), fill=200)
    return _save(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)


@lru_cache(maxsize=None)
def webp() -> bytes:
    return _save(photo(800, 600, 3), "WEBP", quality=80)


@lru_cache(maxsize=None)
def gray16_png() -> bytes:
    """A 16-bit grayscale horizontal ramp from 0 to 65535."""
    w, h = 256, 64
    im = Image.new("I;16", (w, h))
    im.putdata([(x * 65535) // (w - 1) for _ in range(h) for x in range(w)])
    return _save(im, "PNG")


@lru_cache(maxsize=None)
def graphic_png(w: int = 500, h: int = 300) -> bytes:
    """A flat-colour diagram (few colours): stays PNG."""
    im = Image.new("RGB", (w, h), "white")
    d = ImageDraw.Draw(im)
    d.rectangle((20, 20, w // 2, h // 2), fill=(30, 90, 200))
    d.line((0, h - 1, w - 1, 0), fill="black", width=3)
    return _save(im, "PNG")


@lru_cache(maxsize=None)
def icon_png() -> bytes:
    im = Image.new("RGB", (16, 16), (250, 200, 0))
    ImageDraw.Draw(im).rectangle((4, 4, 11, 11), fill=(0, 0, 0))
    return _save(im, "PNG")


@lru_cache(maxsize=None)
def small_png(color=(200, 30, 30)) -> bytes:
    return _save(Image.new("RGB", (40, 30), color), "PNG")


@lru_cache(maxsize=None)
def bomb_png() -> bytes:
    """10000x10000 (100 M pixels, above Pillow's 89.5 M warning limit) in about 12 kB."""
    return _save(Image.new("1", (10000, 10000), 0), "PNG")


def truncated_jpeg() -> bytes:
    data = _save(photo(600, 400, 5), "JPEG", quality=90)
    return data[: len(data) // 2]


FAKE_JPEG = b"<!DOCTYPE html><html><head><title>Not found</title></head><body>Oops</body></html>"

SVG_WITH_SCRIPT = b"""<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"
     width="200" height="100" viewBox="0 0 200 100" onload="alert(1)">
  <script>alert(document.cookie)</script>
  <style>@import url(http://evil.invalid/x.css); rect { fill: url(#g); }</style>
  <defs><linearGradient id="g"><stop offset="0" stop-color="red"/><stop offset="1" stop-color="blue"/></linearGradient></defs>
  <rect x="0" y="0" width="200" height="100" onclick="steal()"/>
  <image xlink:href="http://evil.invalid/track.png" width="10" height="10"/>
  <foreignObject width="10" height="10"><div xmlns="http://www.w3.org/1999/xhtml">x</div></foreignObject>
  <a xlink:href="javascript:alert(2)"><circle cx="150" cy="50" r="20" fill="green"/></a>
</svg>
"""

SVG_CLEAN = b"""<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 120 60">
  <rect width="120" height="60" fill="#eee"/><circle cx="60" cy="30" r="20" fill="#36c"/>
</svg>
"""

SVG_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE svg [ <!ENTITY a "aaaaaaaaaa"> <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;"> ]>
<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><text>&b;</text></svg>
"""


def srgb_of_cmyk_cyan() -> tuple[int, int, int] | None:
    """What pure cyan becomes through the system CMYK profile (None without a profile)."""
    prof = cmyk_profile()
    if prof is None:
        return None
    im = ImageCms.profileToProfile(Image.new("CMYK", (1, 1), (255, 0, 0, 0)), prof,
                                   ImageCms.createProfile("sRGB"), outputMode="RGB")
    return im.getpixel((0, 0))
