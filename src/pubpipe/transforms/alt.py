"""Alt text: every image says what it shows, in every output (EPUB, tagged PDF, HTML).

The author's alt text wins. An image without one (or with an empty one) inside a figure takes its
caption (``data-pp-alt="caption"``). Otherwise it is named by where it comes from, "Image from
example.org" or "Image: photo.jpg" (``data-pp-alt="generic"``), with a warning: that names the
image but does not describe it, so the EPUB makes no accessibility conformance claim for it.
Writers read ``data-pp-alt`` to know which descriptions are the author's.
"""

from __future__ import annotations

from lxml import etree

from ..document import ALT_SOURCE, Book, generic_alt
from ..util import text_of


def _caption(img: etree._Element) -> str:
    """The words of the caption of the figure the image is in (note numbers left out)."""
    fig = next((a for a in img.iterancestors() if a.tag == "figure"), None)
    cap = fig.find(".//figcaption") if fig is not None else None
    if cap is None:
        return ""
    text = text_of(cap)
    for sup in cap.iter("sup"):
        text = text.replace(text_of(sup), " ")
    return " ".join(text.split())


def run(book: Book) -> None:
    for ch in book.chapters:
        for img in ch.body.iter("img"):
            alt = " ".join((img.get("alt") or "").split())
            if alt:
                img.set("alt", alt)
                continue
            caption = _caption(img)
            if caption:
                img.set("alt", caption)
                img.set(ALT_SOURCE, "caption")
                continue
            asset = book.assets.get(img.get("data-pp-asset") or "")
            img.set("alt", asset.generic_alt() if asset else generic_alt(img.get("src") or ""))
            img.set(ALT_SOURCE, "generic")
            shown = (asset.ref if asset else img.get("src") or "")[:100]
            if shown.startswith("data:"):
                shown = shown[:40] + "…"
            book.diagnostics.warn(
                "image-alt-missing", f"image {shown} has no alt text and no caption; described"
                f" as '{img.get('alt')}': add a description", ch.source,
                img.sourceline or (ch.find_line(shown[:200]) if shown else None))
