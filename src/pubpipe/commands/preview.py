"""``pubpipe preview``: PNG pictures of the PDF's pages and a contact sheet of them.

Pages are rendered with pypdfium2 (a dependency), else poppler's ``pdftoppm``; the contact sheet
is drawn with Pillow. Pictures go to ``<out-dir>/preview/``; old ones there are replaced.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from .. import config
from ..errors import BuildError, ConfigError
from .buildrun import build_once, fresh_state
from .ui import UI


def parse_pages(text: str | None, count: int) -> list[int]:
    """'1-4' / '1,3,10-12' / '5-' -> page numbers (1-based) within count; None -> all."""
    if not text:
        return list(range(1, count + 1))
    pages: list[int] = []
    for part in text.split(","):
        m = re.fullmatch(r"\s*(\d+)?\s*(-)?\s*(\d+)?\s*", part)
        if not m or not (m[1] or m[3]) or (not m[2] and not m[1]):
            raise ConfigError(f"--pages {text}: write page numbers and ranges, like 1-4 or 1,3,10-12")
        lo = int(m[1]) if m[1] else 1
        hi = (int(m[3]) if m[3] else count) if m[2] else lo
        if lo < 1 or hi < lo:
            raise ConfigError(f"--pages {text}: '{part.strip()}' is not a range of pages")
        pages.extend(range(lo, min(hi, count) + 1))
    pages = list(dict.fromkeys(pages))
    if not pages:
        raise ConfigError(f"--pages {text}: the PDF has only {count} page(s)")
    return pages


def run(args, ui: UI) -> int:
    cfg = config.load(config.find_book(args.source))
    cfg.assets.allow_private_hosts |= args.allow_private_hosts
    out_dir = Path(args.out_dir) if args.out_dir else cfg.book_dir / "build"
    if not 10 <= args.dpi <= 600:
        raise ConfigError(f"--dpi {args.dpi}: choose from 10 to 600")
    state = fresh_state(cfg, out_dir, ("pdf",))
    if state is None:
        ui.say(f"building the PDF of {cfg.book_dir.name}…")
        built = build_once(ui, cfg, ("pdf",), out_dir=out_dir, cache_dir=args.cache_dir,
                           offline=args.offline, quiet_outputs=True, notes=False)
        if built.code:
            return built.code
        pdf = Path(built.outputs["pdf"])
    else:
        pdf = Path(state["outputs"]["pdf"])
    folder = out_dir / "preview"
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("page-*.png"):
        old.unlink()
    images = render(pdf, args.pages, args.dpi)
    paths = []
    for number, image in images:
        path = folder / f"page-{number:03d}.png"
        image.save(path)
        paths.append(path)
    sheet = folder / "contact-sheet.png"
    contact_sheet(images).save(sheet)
    ui.say(f"wrote {len(paths)} page picture(s) to {folder}/ (page-{images[0][0]:03d}.png"
           f"{f' … page-{images[-1][0]:03d}.png' if len(images) > 1 else ''})")
    ui.say(f"wrote {sheet}")
    return 0


def render(pdf: Path, pages_text: str | None, dpi: int):
    """[(page number, PIL image)] for the pages asked for."""
    try:
        import pypdfium2 as pdfium
    except ImportError:
        pdfium = None
    if pdfium is not None:
        doc = pdfium.PdfDocument(str(pdf))
        try:
            pages = parse_pages(pages_text, len(doc))
            out = []
            for n in pages:
                page = doc[n - 1]
                out.append((n, page.render(scale=dpi / 72).to_pil().convert("RGB")))
                page.close()
            return out
        finally:
            doc.close()
    return _render_pdftoppm(pdf, pages_text, dpi)


def _render_pdftoppm(pdf: Path, pages_text: str | None, dpi: int):
    from PIL import Image

    tool = shutil.which("pdftoppm")
    if not tool:
        raise BuildError("cannot draw PDF pages: install pypdfium2 (pip install pypdfium2) or"
                         " poppler (Debian/Ubuntu: sudo apt install poppler-utils)")
    from pypdf import PdfReader

    pages = parse_pages(pages_text, len(PdfReader(str(pdf)).pages))
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in pages:
            stem = Path(tmp) / f"p{n}"
            subprocess.run([tool, "-png", "-r", str(dpi), "-f", str(n), "-l", str(n),
                            "-singlefile", str(pdf), str(stem)], check=True, capture_output=True,
                           timeout=300)
            with Image.open(f"{stem}.png") as im:
                out.append((n, im.convert("RGB")))
    return out


def contact_sheet(images, columns: int = 4, thumb_height: int = 300):
    """The pages in rows of `columns`, each with its PDF page number under it."""
    from PIL import Image, ImageDraw

    thumbs = []
    for n, im in images:
        w = max(1, round(im.width * thumb_height / im.height))
        thumbs.append((n, im.resize((w, thumb_height))))
    cell_w = max(t.width for _, t in thumbs)
    gap, label = 16, 22
    rows = (len(thumbs) + columns - 1) // columns
    sheet = Image.new("RGB", (columns * (cell_w + gap) + gap,
                              rows * (thumb_height + label + gap) + gap), (200, 200, 200))
    draw = ImageDraw.Draw(sheet)
    for i, (n, t) in enumerate(thumbs):
        x = gap + (i % columns) * (cell_w + gap)
        y = gap + (i // columns) * (thumb_height + label + gap)
        sheet.paste(t, (x, y))
        draw.rectangle([x - 1, y - 1, x + t.width, y + thumb_height], outline=(120, 120, 120))
        draw.text((x + t.width // 2, y + thumb_height + 4), f"page {n}", fill=(20, 20, 20),
                  anchor="mt")
    return sheet
