"""Accessibility: what the content holds, and the metadata and summary derived from it.

``Facts`` is filled while the chapters are written (images and how they are described, tables
and their headers, notes, MathML, SVG, empty links, landmarks); ``metadata`` turns it into the
schema.org accessibility properties, the summary and the conformance claim (made only when the
checks a build can make automatically pass).
"""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from lxml import etree

from ...document import Chapter
from ...util import text_of
from .xhtml import MATHML_NS, SVG_NS, etype, host, is_remote, n_of, unique_id, visible_text

if TYPE_CHECKING:
    from .builder import EpubBuilder
    from .nav import TocEntry
    from .package import Doc

CONFORMS_TO = "EPUB Accessibility 1.1 - WCAG 2.2 Level AA"


@dataclass
class Facts:
    """What the content holds: feeds the accessibility metadata and the landmarks."""

    images: int = 0
    images_generic_alt: int = 0  # alt made up by us ("Image from host"): not a real description
    animated: int = 0
    tables: int = 0
    tables_without_headers: int = 0
    footnotes: int = 0
    mathml: bool = False
    svg: bool = False
    empty_links: int = 0
    landmarks: dict[str, str] = field(default_factory=dict)  # epub:type -> href (first one)


def collect(facts: Facts, body: etree._Element, file: str, doc: Doc) -> None:
    """Count what the chapter holds; give notes and back matter the ids landmarks point at."""
    for el in body.iter():
        if not isinstance(el.tag, str):
            continue
        if el.tag.startswith(f"{{{SVG_NS}}}") and el.tag.endswith("}svg"):
            facts.svg = True
            if "svg" not in doc.properties:
                doc.properties.append("svg")
        elif el.tag.startswith(f"{{{MATHML_NS}}}") and el.tag.endswith("}math"):
            facts.mathml = True
            if "mathml" not in doc.properties:
                doc.properties.append("mathml")
        elif el.tag == "table":
            facts.tables += 1
            if el.find(".//th") is None:
                facts.tables_without_headers += 1
        elif el.tag == "a" and el.get("href") and not text_of(el) and \
                not el.get("aria-label") and el.find(".//img") is None:
            facts.empty_links += 1
        types = etype(el)
        if "footnote" in types or "endnote" in types:
            facts.footnotes += 1
        for t in ("bibliography", "endnotes", "footnotes", "glossary", "index"):
            if t in types and el.tag in ("section", "aside", "nav", "div", "ol", "ul"):
                if not el.get("id"):
                    el.set("id", unique_id(body, f"{Path(file).stem}-{t}"))
                kind = "endnotes" if t == "footnotes" else t
                facts.landmarks.setdefault(kind, f"{file}#{el.get('id')}")


def alt_text(b: EpubBuilder, ch: Chapter, body: etree._Element) -> None:
    """Every image gets alt text: the author's, else its caption, else where it comes from
    (counted as a generic description, and warned about)."""
    for img in body.iter("img"):
        b.facts.images += 1
        alt = " ".join((img.get("alt") or "").split())
        if alt:
            img.set("alt", alt)
            continue
        caption = ""
        for anc in img.iterancestors():
            if anc.tag == "figure":
                cap = anc.find(".//figcaption")
                caption = visible_text(cap) if cap is not None else ""
                break
        if caption:
            img.set("alt", caption)
            continue
        src = img.get("src") or ""
        asset = b.asset_for(src)
        url = (asset.final_url or asset.url) if asset else ""
        where = host(url) if is_remote(url) else ""
        shown = asset.ref if asset else src
        name = "" if shown.startswith("data:") else Path(urllib.parse.urlsplit(shown).path).name
        img.set("alt", f"Image from {where}" if where else f"Image: {name}" if name else "Image")
        b.facts.images_generic_alt += 1
        b.diagnostics.warn(
            "epub-alt-missing", f"image {shown[:100]} has no alt text and no caption; described"
            f" as '{img.get('alt')}': add a description", ch.source,
            img.sourceline or (ch.find_line(shown[:200]) if asset else None))


def metadata(facts: Facts, toc: list[TocEntry], pages: list[tuple[str, str]]
             ) -> list[tuple[str, str]]:
    """(property, value) pairs for the OPF: access modes, features, hazards, summary, claim."""
    f = facts
    described = f.images - f.images_generic_alt
    all_described = f.images_generic_alt == 0
    out = [("schema:accessMode", "textual")]
    if f.images:
        out.append(("schema:accessMode", "visual"))
    if all_described:
        out.append(("schema:accessModeSufficient", "textual"))
    if f.images:
        out.append(("schema:accessModeSufficient", "textual,visual"))
    features = ["structuralNavigation", "tableOfContents", "readingOrder",
                "displayTransformability"]
    if f.images and all_described:
        features.append("alternativeText")
    if pages:
        features += ["printPageNumbers", "pageBreakMarkers", "pageNavigation"]
    if f.mathml:
        features.append("MathML")
    out += [("schema:accessibilityFeature", x) for x in features]
    if f.animated:
        out.append(("schema:accessibilityHazard", "unknown"))
    else:
        out.append(("schema:accessibilityHazard", "none"))
    out.append(("schema:accessibilitySummary", summary(facts, toc, pages, described, all_described)))
    if conforms(facts, toc):
        out.append(("dcterms:conformsTo", CONFORMS_TO))
    return out


def conforms(facts: Facts, toc: list[TocEntry]) -> bool:
    """The checks behind the WCAG 2.2 AA claim that the content lets us make automatically."""
    f = facts
    return (f.images_generic_alt == 0 and f.empty_links == 0 and f.animated == 0
            and f.tables_without_headers == 0 and bool(toc))


def summary(facts: Facts, toc: list[TocEntry], pages: list[tuple[str, str]], described: int,
            all_described: bool) -> str:
    f = facts
    n = len(toc)
    sections = sum(count_entries(e.children) for e in toc)
    parts = [f"This publication has {n} chapter{'s' if n != 1 else ''}"
             + (f" and {sections} section{'s' if sections != 1 else ''}" if sections else "")
             + ", all reachable from a table of contents; headings mark its structure and the"
             " reading order follows the text."]
    if f.images:
        if all_described:
            parts.append("Its one image has a text description." if f.images == 1 else
                         f"Each of its {f.images} images has a text description.")
        else:
            bare = f.images_generic_alt
            parts.append(f"Of its {n_of(f.images, 'image')}, {described} "
                         f"{'has' if described == 1 else 'have'} a text description;"
                         f" {bare} only {'says' if bare == 1 else 'say'} where"
                         f" {'it comes' if bare == 1 else 'they come'} from.")
    else:
        parts.append("It has no images: all content is text.")
    if f.tables:
        if f.tables == 1:
            parts.append("Its table " + ("has header cells." if not f.tables_without_headers
                                         else "has no header cells."))
        else:
            parts.append(f"Its {f.tables} tables " + (
                "have header cells." if not f.tables_without_headers
                else f"include {n_of(f.tables_without_headers, 'table')} without header cells."))
    if f.footnotes:
        parts.append("Notes are linked from where they are referenced and back.")
    if pages:
        parts.append("Page numbers of the printed edition are marked in the text and listed"
                     " for navigation.")
    parts.append("Text size, fonts and colours follow the reader's settings.")
    if f.animated:
        parts.append("It contains animated images, which may flash.")
    else:
        parts.append("It has no known hazards: no sound, motion or flashing content.")
    if conforms(facts, toc):
        parts.append("It meets EPUB Accessibility 1.1 at WCAG 2.2 Level AA as far as the"
                     " automated checks of its build can tell.")
    return " ".join(parts)


def count_entries(entries: list[TocEntry]) -> int:
    return sum(1 + count_entries(e.children) for e in entries)
