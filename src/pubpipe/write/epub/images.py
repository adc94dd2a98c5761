"""Images in the EPUB: the cover (the author's, processed, or one drawn) and the book's images.

Every image in the package is one of the processed asset variants (named by content hash), or
the cover; an image the asset store did not resolve becomes a link to it, never a remote resource.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

from lxml import etree

from ...assets import cover as cover_mod
from ...document import EPUB_TYPE, Asset, Chapter, Variant
from .package import Doc
from .xhtml import host, is_remote, names, rel

if TYPE_CHECKING:
    from .builder import EpubBuilder


def cover_document(b: EpubBuilder) -> Doc:
    """The cover page (the first in reading order) and the cover image."""
    meta = b.book.meta
    made = None
    if meta.cover:
        made = author_cover(b, Path(meta.cover))
    if made is None:
        made = cover_mod.generate_cover(b.title, meta.subtitle, meta.authors)
    b.files["images/cover.jpg"] = (made.data, "image/jpeg")
    b.cover_href = "images/cover.jpg"
    doc = Doc("text/cover.xhtml", "cover", b.words("cover"))
    alt = (b.words("cover-alt-by", title=b.title, authors=b.words.names(meta.authors))
           if meta.authors else b.words("cover-alt", title=b.title))
    section = etree.Element("section")
    section.set(EPUB_TYPE, "cover")
    section.set("class", "pp-cover")
    img = etree.SubElement(section, "img", src=rel(doc.file, b.cover_href), alt=alt)
    img.set("role", "doc-cover")
    img.set("width", str(made.width))
    img.set("height", str(made.height))
    doc.content = b.document(b.words("cover"), b.lang, [section], doc.file,
                             {"epub:type": "frontmatter", "class": "pp-cover-page"})
    b.facts.landmarks.setdefault("cover", doc.file)
    b.facts.cover = True
    return doc


def author_cover(b: EpubBuilder, path: Path) -> cover_mod.Cover | None:
    """The [book] cover image, read through the asset store (so it follows the store's rules for
    what may be read), processed; None (with a warning) when it cannot be used."""
    meta = b.book.meta
    where = b.ctx.config_file
    src = path if path.is_absolute() else b.book.root / path
    raw = b.ctx.config.book.cover
    path = Path(raw) if raw and not re.match(r"^\s*[a-z][a-z0-9+.-]*:", raw, re.I) else path
    shown = raw or str(path)
    if re.match(r"^\s*((https?:)?//|data:)", raw, re.I):
        ref = raw.strip()  # a URL in book.toml: the store fetches it like any image
    else:
        try:
            ref = os.path.relpath(src, b.book.root)
        except ValueError:
            ref = str(src)
    store = b.ctx.store
    asset = store.canonical(store.register(ref, base=b.book.root, file=where))
    if asset.status == "pending":
        store.fetch_all()
        asset = store.canonical(asset)
    if not asset.ok or asset.source_path is None:
        reason = asset.reason or "not available"
        b.diagnostics.warn("epub-cover", f"cover image {shown}: {reason}; a generated cover is"
                           " used", where)
        return None
    data = store.original_bytes(asset)
    if data is None:
        b.diagnostics.warn("epub-cover", f"cover image {shown}: its cached copy was damaged; a"
                           " generated cover is used (build again to fetch it anew)", where)
        return None
    key = hashlib.sha256(data + json.dumps(
        [cover_mod.VERSION, b.title, meta.subtitle, meta.authors, path.name]).encode()
    ).hexdigest()[:32]
    cached = f"epub/covers/{key}"
    made = None
    raw = store.read_cache_file(cached + ".json")
    if raw is not None:  # the cache is read only through the store: files inside it, hash checked
        try:
            info = json.loads(raw.decode("utf-8"))
            jpeg = store.read_cache_file(cached + ".jpg", str(info["sha256"]))
            if jpeg is not None:
                made = cover_mod.Cover(jpeg, int(info["width"]), int(info["height"]), False,
                                       [str(n) for n in info["notes"]])
        except (ValueError, KeyError, TypeError):
            made = None
    if made is None:
        try:
            made = cover_mod.process_cover(io.BytesIO(data), b.title, meta.subtitle,
                                           meta.authors, name=path.name)
        except Exception as e:  # a damaged or hostile image: report it, draw a cover instead
            b.diagnostics.warn("epub-cover", f"cover image {shown} cannot be used"
                                       f" ({e}); a generated cover is used", where)
            return None
        store.write_cache_file(cached + ".jpg", made.data)
        store.write_cache_file(cached + ".json", json.dumps(
            {"width": made.width, "height": made.height, "notes": made.notes,
             "sha256": hashlib.sha256(made.data).hexdigest()}).encode())
    for note in made.notes:
        b.diagnostics.warn("epub-cover", note, where)
    return made


def add_image(b: EpubBuilder, asset: Asset, variant: Variant) -> str:
    """The package path of an asset variant (added to the package once)."""
    key = variant.sha256 or str(variant.path)
    if key not in b.images:
        stem = (variant.sha256 or hashlib.sha256(variant.read_bytes()).hexdigest())[:16]
        name = f"images/{stem}.{variant.extension}"
        data = variant.read_bytes()
        b.files[name] = (data, variant.media_type)
        b.images[key] = name
        if variant.media_type == "image/gif" and animated(data):
            b.facts.animated += 1
    return b.images[key]


def image_to_link(b: EpubBuilder, ch: Chapter, img: etree._Element) -> None:
    """An image the asset store did not resolve: a link to it (never a remote resource)."""
    src = img.get("src") or ""
    text = " ".join((img.get("alt") or "").split()) or b.words("image")
    span = etree.Element("span", {"class": "pp-missing"})
    in_link = any(a.tag == "a" for a in img.iterancestors())
    if is_remote(src) and not in_link:
        a = etree.SubElement(span, "a", href=src)
        a.text = f"{text} ({host(src) or 'link'})"
        done = "linked instead"
    else:
        span.text = text
        done = "its alt text stands in its place"
    span.tail = img.tail
    img.getparent().replace(img, span)
    shown = src[:80] if not src.startswith("data:") else "data:…"
    b.diagnostics.warn("epub-image-unresolved", f"image {shown or '(no src)'} is not"
                               f" in the book's images; {done}", ch.source, img.sourceline)


def asset_for(b: EpubBuilder, src: str) -> Asset | None:
    """The asset whose variant an EPUB image path names."""
    name = src.rsplit("/", 1)[-1]
    for asset in b.book.assets.values():
        for v in asset.variants.values():
            if v.sha256 and name.startswith(v.sha256[:16]):
                return asset
    return None


def animated(data: bytes) -> bool:
    try:
        from PIL import Image

        with Image.open(io.BytesIO(data)) as im:
            return bool(getattr(im, "is_animated", False))
    except Exception:
        return False
