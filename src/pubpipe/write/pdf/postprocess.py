"""Post-processing the laid-out PDF with pypdf: exact page boxes, page labels, preset rules.

TrimBox/BleedBox/MediaBox per page (``layout.settings.page_boxes``); page labels that match the
printed folios (roman front matter, arabic from the first chapter); no links or bookmarks where
the preset forbids them; full font names when fonts are embedded in full; colour operators and
images rewritten as grayscale or CMYK; transparency flattened where PDF/X or the printer forbid it.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ...layout.settings import PrintSettings, page_boxes
from .objects import font_file, fonts

if TYPE_CHECKING:
    from pypdf import PdfWriter


def _gray(r: float, g: float, b: float) -> float:
    return round(0.2126 * r + 0.7152 * g + 0.0722 * b, 4)


def _cmyk(r: float, g: float, b: float) -> tuple[float, ...]:
    """Naive RGB -> CMYK with full black generation: black text becomes 100% K."""
    k = 1 - max(r, g, b)
    if k >= 0.999:
        return (0.0, 0.0, 0.0, 1.0)
    return tuple(round(v, 4) for v in ((1 - r - k) / (1 - k), (1 - g - k) / (1 - k),
                                       (1 - b - k) / (1 - k), k))


def _recolor(writer, color: str) -> None:
    """Rewrite RGB colour operators (rg/RG) as gray (g/G) or CMYK (k/K) in every content stream."""
    from pypdf.generic import ContentStream, FloatObject, StreamObject

    done = set()

    def fix_stream(obj):
        stream = obj.get_object()
        key = id(stream)
        if key in done or not isinstance(stream, StreamObject):
            return
        done.add(key)
        content = ContentStream(stream, writer)
        changed = False
        ops = []
        for operands, op in content.operations:
            if op in (b"rg", b"RG") and len(operands) == 3:
                rgb = [float(v) for v in operands]
                stroke = op == b"RG"
                if color == "grayscale":
                    operands, op = [FloatObject(_gray(*rgb))], b"G" if stroke else b"g"
                else:
                    operands, op = [FloatObject(v) for v in _cmyk(*rgb)], b"K" if stroke else b"k"
                changed = True
            ops.append((operands, op))
        if changed:
            content.operations = ops
            stream.set_data(content.get_data())
        res = stream.get("/Resources")
        if res is not None:
            fix_resources(res.get_object())

    def fix_resources(res):
        xobjects = res.get("/XObject")
        for ref in (xobjects.get_object().values() if xobjects is not None else ()):
            x = ref.get_object()
            if x.get("/Subtype") == "/Form":
                fix_stream(ref)
        patterns = res.get("/Pattern")
        for ref in (patterns.get_object().values() if patterns is not None else ()):
            p = ref.get_object()
            if isinstance(p, StreamObject):
                fix_stream(ref)

    for page in writer.pages:
        contents = page.get("/Contents")
        if contents is None:
            continue
        contents = contents.get_object()
        for ref in (contents if isinstance(contents, list) else [page["/Contents"]]):
            fix_stream(ref)
        res = page.get("/Resources")
        if res is not None:
            fix_resources(res.get_object())


def _convert_page_images(writer, s: PrintSettings) -> None:
    """Images WeasyPrint makes itself (colour emoji glyphs) in the asked colour, alpha flattened."""
    from PIL import Image

    done = set()
    for page in writer.pages:
        for img in page.images:
            x = img.indirect_reference
            key = (x.idnum, x.generation) if x is not None else id(img)
            if key in done:
                continue
            done.add(key)
            obj = x.get_object() if x is not None else None
            cs = str(obj.get("/ColorSpace")) if obj is not None else ""
            wants = (s.color != "rgb" and cs == "/DeviceRGB") or (
                s.flatten and obj is not None and "/SMask" in obj)
            if not wants:
                continue
            try:
                im = img.image
                if im.mode in ("RGBA", "LA", "P", "PA"):
                    im = im.convert("RGBA")
                    flat = Image.new("RGB", im.size, (255, 255, 255))
                    flat.paste(im, mask=im.getchannel("A"))
                    im = flat
                if s.color == "grayscale":
                    im = im.convert("L")
                elif s.color == "cmyk":
                    im = im.convert("CMYK")
                else:
                    im = im.convert("RGB")
                img.replace(im)
            except Exception:  # a form pypdf cannot decode stays as it is; preflight reports it
                continue


_SUBSET_PREFIX = re.compile(r"^/?[A-Z]{6}\+")


def _unsubset_names(writer) -> None:
    """With full fonts embedded, drop the 'ABCDEF+' subset tag WeasyPrint still writes."""
    from pypdf.generic import NameObject

    for font in fonts(writer.pages):
        targets = [font] + [d.get_object() for d in font.get("/DescendantFonts", [])]
        for f in targets:
            if "/BaseFont" in f:
                f[NameObject("/BaseFont")] = NameObject(
                    "/" + _SUBSET_PREFIX.sub("", str(f["/BaseFont"])))
            desc = f.get("/FontDescriptor")
            if desc is not None:
                desc = desc.get_object()
                if "/FontName" in desc:
                    desc[NameObject("/FontName")] = NameObject(
                        "/" + _SUBSET_PREFIX.sub("", str(desc["/FontName"])))


def _distinct_subset_tags(writer) -> None:
    """Each chapter is laid out on its own, so one font's subsets in the merged PDF hold other
    glyphs under the same 'ABCDEF+Name' (WeasyPrint's tag comes from the font file, not the
    subset). PDF wants a tag per subset, and a RIP or preflight that merges fonts by name
    would draw one chapter's glyphs from another's subset: a font whose name is shared by
    different subsets gets a tag made from each subset's bytes."""
    import hashlib

    from pypdf.generic import NameObject

    by_name: dict[str, list[tuple[object, bytes]]] = {}
    for font in fonts(writer.pages):
        name = str(font.get("/BaseFont", ""))
        program = font_file(font) if _SUBSET_PREFIX.match(name) else None
        if program is not None:
            by_name.setdefault(name, []).append((font, program.get_data()))
    for name, found in by_name.items():
        if len({data for _, data in found}) < 2:
            continue
        for font, data in found:
            digest = hashlib.sha256(data).digest()
            tag = "".join(chr(65 + b % 26) for b in digest[:6])
            for f in [font] + [d.get_object() for d in font.get("/DescendantFonts", [])]:
                if "/BaseFont" in f:
                    f[NameObject("/BaseFont")] = NameObject(
                        "/" + tag + "+" + _SUBSET_PREFIX.sub("", str(f["/BaseFont"])))
                desc = f.get("/FontDescriptor")
                if desc is not None and "/FontName" in desc.get_object():
                    desc = desc.get_object()
                    desc[NameObject("/FontName")] = NameObject(
                        "/" + tag + "+" + _SUBSET_PREFIX.sub("", str(desc["/FontName"])))


def convert_colors(writer: PdfWriter, s: PrintSettings) -> None:
    """The colours the settings ask for (gray or CMYK operators and images), transparency
    flattened where they forbid it: for the interior and the cover alike."""
    if s.color != "rgb":
        _recolor(writer, s.color)
    if s.color != "rgb" or s.flatten:
        _convert_page_images(writer, s)


# The fewest pages each service prints a paperback with.
MIN_PAGES = {"kdp": 24, "lulu": 32, "ingramspark": 18}


def padded_page_count(preset: str, n_pages: int) -> int:
    """Pages the interior PDF has: the layout's, or the service's minimum with blank pages."""
    return max(n_pages, MIN_PAGES.get(preset, 0))


def postprocess(writer: PdfWriter, s: PrintSettings, labels: list[str]) -> None:
    """Apply every rule of the print settings to the merged PDF, in memory (see the module
    docstring)."""
    from pypdf.generic import (ArrayObject, DictionaryObject, FloatObject, NameObject,
                               NumberObject)

    # a book shorter than the service prints gets blank pages at the end (preflight says so)
    for i in range(len(writer.pages), padded_page_count(s.preset, len(writer.pages))):
        box = page_boxes(s, i)["MediaBox"]
        writer.add_blank_page(box[2] - box[0], box[3] - box[1])
    for i, page in enumerate(writer.pages):
        for name, box in page_boxes(s, i).items():
            page[NameObject(f"/{name}")] = ArrayObject(FloatObject(round(v, 3)) for v in box)
        if not s.links and "/Annots" in page:
            del page[NameObject("/Annots")]
    if s.full_fonts:
        _unsubset_names(writer)
    else:
        _distinct_subset_tags(writer)
    convert_colors(writer, s)
    root = writer.root_object
    if not s.bookmarks:
        for key in ("/Outlines",):
            if key in root:
                del root[NameObject(key)]
        if root.get("/PageMode") == "/UseOutlines":
            del root[NameObject("/PageMode")]
    # page labels: roman front matter, arabic from the first chapter (what the folios print)
    first_arabic = next((i for i, lab in enumerate(labels) if lab.isdigit()), None)
    nums = ArrayObject()
    nums.append(NumberObject(0))
    nums.append(DictionaryObject({NameObject("/S"): NameObject("/r")}))
    if first_arabic is not None:
        nums.append(NumberObject(first_arabic))
        nums.append(DictionaryObject({NameObject("/S"): NameObject("/D")}))
    if first_arabic == 0:
        nums = ArrayObject([NumberObject(0),
                            DictionaryObject({NameObject("/S"): NameObject("/D")})])
    root[NameObject("/PageLabels")] = DictionaryObject({NameObject("/Nums"): nums})

