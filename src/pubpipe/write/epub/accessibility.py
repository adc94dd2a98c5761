"""Accessibility: what the content holds, and the metadata and summary derived from it.

``Facts`` is filled while the book is written (the cover, images and how they are described,
images that could not be had, data tables and their headers, notes, MathML, SVG, links without
text, landmarks); ``metadata`` turns it into the schema.org accessibility properties, the summary
and the conformance claim. One list of gaps (``gaps``) decides both the claim and what the summary
says is missing, so the two never disagree: ``dcterms:conformsTo`` is written only when there is
no gap. The summary's sentences are all in ``SUMMARY``.
"""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from lxml import etree

from ...document import ALT_SOURCE, Chapter, generic_alt
from ...i18n import Labels, labels_for
from ...htmlmodel import has_header_cells, is_data_table
from ...util import text_of
from .xhtml import MATHML_NS, SVG_NS, etype, host, is_remote, unique_id, visible_text

if TYPE_CHECKING:
    from .builder import EpubBuilder
    from .nav import TocEntry
    from .package import Doc

CONFORMS_TO = "EPUB Accessibility 1.1 - WCAG 2.2 Level AA"

# Every sentence of the accessibility summary, in one place: the English source of the gettext
# messages (i18n catalogues) that give it in the book's language. A pair is (singular, plural),
# chosen by the count it is formatted with (``{n}``) under the language's plural rule.
SUMMARY = {
    "structure": "This publication has {chapters}{sections}, all reachable from a table of"
                 " contents; headings mark its structure, one level at a time, and the reading"
                 " order follows the text.",
    "chapters": ("{n} chapter", "{n} chapters"),
    "sections": (" and {n} section", " and {n} sections"),
    "cover": "The cover is an image with a text description.",
    "images-none": "It has no other images.",
    "images-all": ("Its one image has a text description.",
                   "Each of its {n} images has a text description."),
    "images-some": ("Of its {n} images, {described} {have} a text description; for {bare} the"
                    " source gives none, and {they} named only by file or address."),
    "images-missing": ("One image could not be included: its description and address stand in"
                       " its place.",
                       "{n} images could not be included: their descriptions and addresses stand"
                       " in their place."),
    "tables-all": ("Its table has header cells.", "Its {n} tables have header cells."),
    "tables-some": ("Its table has no header cells: the source marks none.",
                    "{bare} of its {n} tables have no header cells: the source marks none."),
    "notes": "Notes are linked from where they are referenced and back.",
    "mathml": "Mathematics is written in MathML.",
    "pages": "Page numbers of the printed edition are marked in the text and listed for"
             " navigation.",
    "display": "Text size, fonts and colours follow the reader's settings; links are underlined.",
    "hazards-none": "It has no known hazards: no sound, motion or flashing content.",
    "hazards-animated": "It contains animated images, which may flash and cannot be paused.",
    "conforms": "It meets EPUB Accessibility 1.1 at WCAG 2.2 Level AA as far as the automated"
                " checks of its build (and Ace by DAISY, in pubpipe's tests) can tell.",
    "not-conforms": "It makes no claim to meet WCAG 2.2 Level AA, because {reasons}.",
    "why-images": ("an image has no text description", "{n} images have no text description"),
    "why-tables": ("a data table has no header cells", "{n} data tables have no header cells"),
    "why-links": ("a link has no text", "{n} links have no text"),
    "why-animated": ("an animated image cannot be paused", "{n} animated images cannot be paused"),
    "why-toc": ("the book has no table of contents", "the book has no table of contents"),
    "and": " and ",
}


def _say(words: Labels, key: str, n: int | None = None, **values) -> str:
    text = SUMMARY[key]
    if isinstance(text, tuple):
        text = words.ngettext(text[0], text[1], n if n is not None else 1)
    else:
        text = words.gettext(text)
    return text.format(n=n, **values)


@dataclass
class Facts:
    """What the content holds: feeds the accessibility metadata and the landmarks."""

    cover: bool = False  # the cover page's image (always described: title and authors)
    images: int = 0  # images in the chapters
    images_generic_alt: int = 0  # alt made up by us ("Image from host"): not a real description
    images_missing: int = 0  # placeholders where an image could not be had
    animated: int = 0
    tables: int = 0  # data tables: two rows and two columns at least
    tables_without_headers: int = 0  # data tables without a single header cell
    footnotes: int = 0
    mathml: bool = False
    svg: bool = False
    empty_links: int = 0  # links with no text and no name
    landmarks: dict[str, str] = field(default_factory=dict)  # epub:type -> href (first one)


def collect(facts: Facts, body: etree._Element, file: str, doc: Doc) -> None:
    """Count what the chapter holds; give notes and back matter the ids landmarks point at;
    name links that have no text (by where they go), so a screen reader can say them."""
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
        elif el.tag == "table" and is_data_table(el):
            facts.tables += 1
            if not has_header_cells(el):
                facts.tables_without_headers += 1
        elif el.tag == "a" and el.get("href") and not text_of(el).strip() and \
                not el.get("aria-label") and not any(i.get("alt") for i in el.iter("img")):
            name = link_name(el.get("href"), body)
            if name:
                el.set("aria-label", name)
            else:
                facts.empty_links += 1
        elif "pp-missing" in (el.get("class") or "").split():
            facts.images_missing += 1
        types = etype(el)
        if "footnote" in types or "endnote" in types:
            facts.footnotes += 1
        for t in ("bibliography", "endnotes", "footnotes", "glossary", "index"):
            if t in types and el.tag in ("section", "aside", "nav", "div", "ol", "ul"):
                if not el.get("id"):
                    el.set("id", unique_id(body, f"{Path(file).stem}-{t}"))
                kind = "endnotes" if t == "footnotes" else t
                facts.landmarks.setdefault(kind, f"{file}#{el.get('id')}")


def link_name(href: str, body: etree._Element | None = None) -> str:
    """What a link with no text is called: where it goes ("example.org/page", an address, the
    words of its target in the chapter); '' when nothing names it."""
    if href.lower().startswith("mailto:"):
        return urllib.parse.unquote(href[7:].split("?")[0])
    if href.startswith("#") and body is not None:
        target = next((el for el in body.iter() if isinstance(el.tag, str)
                       and el.get("id") == href[1:]), None)
        words = visible_text(target) if target is not None else ""
        return words if len(words) <= 60 else words[:59] + "…"
    if not is_remote(href):
        return ""
    parts = urllib.parse.urlsplit(href.strip())
    path = parts.path.rstrip("/")
    return (host(href) + (path if len(path) <= 40 else path[:39] + "…")) or ""


def alt_text(b: EpubBuilder, ch: Chapter, body: etree._Element) -> None:
    """Every image has alt text: the author's, else its caption, else where it comes from
    (counted as a generic description). The alt transform gave them already (``data-pp-alt``
    says which it supplied); books made without the transforms get the same here, warned."""
    for img in body.iter("img"):
        b.facts.images += 1
        supplied = img.attrib.pop(ALT_SOURCE, "")
        alt = " ".join((img.get("alt") or "").split())
        if supplied == "generic":
            b.facts.images_generic_alt += 1
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
        img.set("alt", asset.generic_alt() if asset else generic_alt(src))
        b.facts.images_generic_alt += 1
        shown = asset.ref if asset else src
        b.diagnostics.warn(
            "image-alt-missing", f"image {shown[:100]} has no alt text and no caption; described"
            f" as '{img.get('alt')}': add a description", ch.source,
            img.sourceline or (ch.find_line(shown[:200]) if asset else None))


def metadata(facts: Facts, toc: list[TocEntry], pages: list[tuple[str, str]],
             words: Labels | None = None) -> list[tuple[str, str]]:
    """(property, value) pairs for the OPF: access modes, features, hazards, summary, claim."""
    f = facts
    visual = f.images > 0 or f.cover
    all_described = f.images_generic_alt == 0
    out = [("schema:accessMode", "textual")]
    if visual:
        out.append(("schema:accessMode", "visual"))
    if all_described:
        out.append(("schema:accessModeSufficient", "textual"))
    if visual:
        out.append(("schema:accessModeSufficient", "textual,visual"))
    features = ["structuralNavigation", "tableOfContents", "readingOrder",
                "displayTransformability", "ARIA"]
    if visual and all_described:
        features.append("alternativeText")
    if pages:
        features += ["pageBreakMarkers", "pageNavigation"]
    if f.mathml:
        features.append("MathML")
    out += [("schema:accessibilityFeature", x) for x in features]
    if f.animated:
        out += [("schema:accessibilityHazard", x) for x in ("unknownFlashingHazard",
                                                             "unknownMotionSimulationHazard",
                                                             "noSoundHazard")]
    else:
        out.append(("schema:accessibilityHazard", "none"))
    out.append(("schema:accessibilitySummary", summary(facts, toc, pages, words)))
    if not gaps(facts, toc):
        out.append(("dcterms:conformsTo", CONFORMS_TO))
    return out


def gaps(facts: Facts, toc: list[TocEntry], words: Labels | None = None) -> list[str]:
    """Why the book cannot claim WCAG 2.2 AA, as summary phrases ([] when it can): the checks
    the content lets a build make (the rest is proven by Ace by DAISY in the tests)."""
    w = words or labels_for("en")
    f = facts
    out = []
    if f.images_generic_alt:
        out.append(_say(w, "why-images", f.images_generic_alt))
    if f.tables_without_headers:
        out.append(_say(w, "why-tables", f.tables_without_headers))
    if f.empty_links:
        out.append(_say(w, "why-links", f.empty_links))
    if f.animated:
        out.append(_say(w, "why-animated", f.animated))
    if not toc:
        out.append(_say(w, "why-toc", 1))
    return out


def conforms(facts: Facts, toc: list[TocEntry]) -> bool:
    return not gaps(facts, toc)


def summary(facts: Facts, toc: list[TocEntry], pages: list[tuple[str, str]],
            words: Labels | None = None) -> str:
    """The accessibilitySummary: what the book offers and lacks, from the same facts as the
    metadata and the conformance claim."""
    w = words or labels_for("en")
    f = facts
    sections = sum(count_entries(e.children) for e in toc)
    parts = [_say(w, "structure", chapters=_say(w, "chapters", len(toc)),
                  sections=_say(w, "sections", sections) if sections else "")]
    if f.cover:
        parts.append(_say(w, "cover"))
    if not f.images:
        parts.append(_say(w, "images-none"))
    elif not f.images_generic_alt:
        parts.append(_say(w, "images-all", f.images))
    else:
        described, bare = f.images - f.images_generic_alt, f.images_generic_alt
        parts.append(_say(w, "images-some", f.images, described=described, bare=bare,
                          have="has" if described == 1 else "have",
                          they="it is" if bare == 1 else "they are"))
    if f.images_missing:
        parts.append(_say(w, "images-missing", f.images_missing))
    if f.tables:
        if f.tables_without_headers:
            parts.append(_say(w, "tables-some", f.tables, bare=f.tables_without_headers))
        else:
            parts.append(_say(w, "tables-all", f.tables))
    if f.footnotes:
        parts.append(_say(w, "notes"))
    if f.mathml:
        parts.append(_say(w, "mathml"))
    if pages:
        parts.append(_say(w, "pages"))
    parts.append(_say(w, "display"))
    parts.append(_say(w, "hazards-animated" if f.animated else "hazards-none"))
    why = gaps(facts, toc, w)
    if why:
        last = w.gettext(SUMMARY["and"]) if len(why) > 1 else ""
        reasons = ", ".join(why[:-1]) + last + why[-1]
        parts.append(_say(w, "not-conforms", reasons=reasons))
    else:
        parts.append(_say(w, "conforms"))
    return " ".join(parts)


def count_entries(entries: list[TocEntry]) -> int:
    return sum(1 + count_entries(e.children) for e in entries)
