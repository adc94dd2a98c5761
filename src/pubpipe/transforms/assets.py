"""The assets stage: every ``<img>`` gets its bytes from the store, or a placeholder.

For each image in each chapter: register its ``src`` (relative to the chapter's folder), fetch all
of them at once, process each good one for every output profile asked for, record it in
``book.assets`` and mark the element with ``data-pp-asset``. An image that cannot be had is
replaced by a placeholder naming what is missing (alt text, caption, the URL as a link, and a QR
code marker for paper), and the author gets a warning with file:line, URL and reason. Optional
images (``data-pp-optional="1"``: embed posters, whose cards have a drawn fallback) are dropped
quietly with an INFO diagnostic instead.
"""

from __future__ import annotations

from lxml import etree

from ..assets.store import AssetStore
from ..document import Asset, Book, Chapter
from ..i18n import LABELS, labels_for
from ..htmlmodel import FLOW_PARENTS
from ..util import remove_keep_tail

_DATA_PREVIEW = 48


def prefetch(chapter: Chapter, store: AssetStore, profiles: tuple[str, ...]) -> None:
    """Start on the images chapter refers to, as it stands just after reading (``run`` takes
    what was made for the same bytes; an image the later stages drop was only processed)."""
    base = chapter.source.parent
    store.prefetch([(img.get("src") or "", base) for img in chapter.body.iter("img")
                    if img.get("src")], profiles)


def run(book: Book, store: AssetStore, profiles: tuple[str, ...]) -> None:
    found: list[tuple[Chapter, etree._Element, Asset, int | None]] = []
    for chapter in book.chapters:
        base = chapter.source.parent
        for img in list(chapter.body.iter("img")):
            if img.get("data-pp-asset") and img.get("data-pp-asset") in book.assets:
                continue  # already resolved by an earlier stage
            src = (img.get("src") or "").strip()
            line = img.sourceline or (chapter.find_line(src[:200]) if src else None)
            asset = store.register(src, base=base, file=chapter.source, line=line)
            found.append((chapter, img, asset, line))
    store.fetch_all()
    store.process_all([a for _, _, a, _ in found], profiles)

    reported_svg: set[str] = set()
    for chapter, img, asset, line in found:
        asset = store.canonical(asset)
        if asset.ok and all(p in asset.variants for p in profiles):
            book.assets[asset.id] = asset
            img.set("data-pp-asset", asset.id)
            for attr in ("srcset", "sizes", "data-src", "data-srcset"):
                img.attrib.pop(attr, None)  # would point outside the book
            _drop_picture_sources(img)
            removed = store.svg_removed(asset)
            if removed and asset.id not in reported_svg:
                reported_svg.add(asset.id)
                book.diagnostics.warn(
                    "asset-svg-sanitized",
                    f"image {_show(asset.ref)}: SVG cleaned before use (removed: "
                    f"{', '.join(removed)})", chapter.source, line)
            continue
        reason = asset.reason or "could not be processed"
        if img.get("data-pp-optional") == "1":
            book.diagnostics.info("asset-optional",
                                  f"optional image {_show(asset.ref)} left out: {reason}",
                                  chapter.source, line)
            remove_keep_tail(img)
            continue
        refused = asset.status == "refused"
        book.diagnostics.warn("asset-refused" if refused else "asset-missing",
                              f"image {_show(asset.ref)} {'refused' if refused else 'not available'}:"
                              f" {reason}; a placeholder stands in its place",
                              chapter.source, line)
        words = labels_for(chapter.lang or book.meta.language or "en", book.labels)
        _replace_with_placeholder(img, asset, words("image-not-available"))


def _show(ref: str) -> str:
    """A reference as it can be shown in a message (data: URIs shortened)."""
    if not ref:
        return "(no src)"
    if ref.lower().startswith("data:") and len(ref) > _DATA_PREVIEW:
        return f"{ref[:_DATA_PREVIEW]}… ({len(ref)} characters)"
    return ref


def _drop_picture_sources(img: etree._Element) -> None:
    parent = img.getparent()
    if parent is not None and parent.tag == "picture":
        for source in parent.findall("source"):
            remove_keep_tail(source)


def _caption_of(img: etree._Element) -> str:
    """Caption text shown with this image already (a figcaption), else the title attribute."""
    for anc in img.iterancestors():
        if anc.tag == "figure":
            cap = anc.find("figcaption")
            return "" if cap is not None else (img.get("title") or "")
        if anc.tag not in ("a", "picture", "span", "p"):
            break
    return img.get("title") or ""


def _replace_with_placeholder(img: etree._Element, asset: Asset,
                              label_text: str = LABELS["image-not-available"]) -> None:
    parent = img.getparent()
    ancestors = [a.tag for a in img.iterancestors()]
    in_link = "a" in ancestors
    # <picture> is phrasing content too; only a flow parent outside any <p>/<a> may hold a div.
    block = (parent is not None and parent.tag in FLOW_PARENTS
             and not any(t in ("p", "a", "span", "picture", "h1", "h2", "h3", "h4", "h5", "h6")
                         for t in ancestors))
    outer = etree.Element("div" if block else "span")
    outer.set("class", "pp-missing")
    outer.set("role", "note")
    label = etree.SubElement(outer, "span", {"class": "pp-missing-label"})
    label.text = label_text
    alt = " ".join((img.get("alt") or "").split())
    if alt:
        el = etree.SubElement(outer, "span", {"class": "pp-missing-alt"})
        el.text = alt
    caption = " ".join(_caption_of(img).split())
    if caption and caption != alt:
        el = etree.SubElement(outer, "span", {"class": "pp-missing-caption"})
        el.text = caption
    url = asset.ref
    if url and not url.lower().startswith("data:"):
        remote = asset.url.startswith(("http://", "https://"))
        if remote and not in_link:
            link = etree.SubElement(outer, "a", {"class": "pp-missing-url", "href": asset.url})
        else:
            # No nested links, and no links to local files that are not in the book.
            link = etree.SubElement(outer, "span", {"class": "pp-missing-url"})
        link.text = url
        if remote:
            etree.SubElement(outer, "span", {"class": "pp-qr", "data-pp-qr": asset.url})
    if img.get("id"):
        outer.set("id", img.get("id"))
    outer.tail = img.tail
    if parent is None:
        return
    parent.replace(img, outer)
    if parent.tag == "picture":
        # A <picture> must hold an <img>; put the placeholder in its place instead.
        for source in parent.findall("source"):
            parent.remove(source)
        grand = parent.getparent()
        if grand is not None:
            outer.tail = (outer.tail or "") + (parent.tail or "")
            grand.replace(parent, outer)
