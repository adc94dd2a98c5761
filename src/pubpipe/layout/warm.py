"""Loaded by the layout workers' forkserver (``workers.PRELOAD``): WeasyPrint readied once, before
any worker is forked from it, so no worker pays for it again: fontconfig and the print fonts,
English hyphenation patterns, and the PDF writer's own first-use costs (font subsetting, its C
type declarations, JPEG and PNG images). A paragraph with every one of these is laid out and
written. PDFium (``pdfwords``, which reads each written piece back) is loaded too."""

import base64
import io

from PIL import Image
from weasyprint import HTML
from weasyprint.text.fonts import FontConfiguration

from .. import resources


def _image(mode: str, fmt: str) -> str:
    out = io.BytesIO()
    Image.new(mode, (4, 4), "gray").save(out, fmt)
    return f"data:image/{fmt.lower()};base64," + base64.b64encode(out.getvalue()).decode()


def _warm() -> None:
    fonts = FontConfiguration()
    from weasyprint import CSS

    sheet = CSS(string=resources.stylesheet("print.css"), font_config=fonts)
    HTML(string=(
        '<html lang="en"><body><section data-ppw="chapter"><h1>Warm</h1>'
        '<p style="width: 6em">Readying <b>the</b> <i>fonts</i>, hyphenation and'
        ' internationalization <code>code</code></p>'
        f'<img src="{_image("RGB", "JPEG")}" alt=""><img src="{_image("RGBA", "PNG")}" alt="">'
        '</section></body></html>')).render(font_config=fonts, stylesheets=[sheet]).write_pdf()


_warm()
try:
    import pypdfium2  # noqa: F401  (about 85 ms to load: once here, not in every worker)
except ImportError:  # pdfwords reads with poppler or pypdf instead
    pass
