"""A post's opening lines, read as metadata and made into a proper chapter opening.

Posts without front matter write their metadata as text: the first ``#`` heading is the title, an
italic line under it the subtitle, a ``**By Name**`` line the author, a line like ``January 20, 2019``
the date. Those blocks leave the body and come back as one ``<header class="chapter-opening">``
that both writers show, so no word is lost and none stands as a stray paragraph.
"""

from __future__ import annotations

import datetime as dt
import re

from lxml import etree

from ..util import text_of

_DATE_FORMATS = ("%B %d, %Y", "%b %d, %Y", "%b. %d, %Y", "%d %B %Y", "%d %b %Y", "%B %d %Y",
                 "%Y-%m-%d", "%d.%m.%Y", "%B %Y", "%Y/%m/%d")
_BY = re.compile(r"^(?:by|von|par|por|door|di)\s+(.+)$", re.I)


def parse_date(value) -> str:
    """Any date a post may carry (datetime, date, string) as ISO 8601, or '' if not a date."""
    if value is None or value == "":
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    text = " ".join(str(value).split()).strip()
    m = re.match(r"^(\d{4})-(\d{2})-(\d{2})(?:[T ].*)?$", text)
    if m:
        try:
            return dt.date(int(m[1]), int(m[2]), int(m[3])).isoformat()
        except ValueError:
            return ""
    cleaned = re.sub(r"(\d)(st|nd|rd|th)\b", r"\1", text)
    for fmt in _DATE_FORMATS:
        try:
            d = dt.datetime.strptime(cleaned, fmt).date()
        except ValueError:
            continue
        return d.isoformat()[:7] if fmt == "%B %Y" else d.isoformat()
    if re.fullmatch(r"\d{4}", text):
        return text
    return ""


def _only_child_text(p: etree._Element, tag: str) -> str | None:
    """Text of p when p holds nothing but one <tag> (and line breaks), else None."""
    kids = [k for k in p if isinstance(k.tag, str) and k.tag != "br"]
    if len(kids) != 1 or kids[0].tag != tag or (p.text or "").strip():
        return None
    if any((k.tail or "").strip() for k in p if k is not kids[0] and isinstance(k.tag, str)):
        return None
    if (kids[0].tail or "").strip():
        return None
    return text_of(kids[0])


def extract(body: etree._Element, meta: dict) -> dict:
    """Take title/subtitle/author/date blocks from the start of body; return what was found."""
    found: dict = {}
    blocks = [el for el in body if isinstance(el.tag, str)][:6]
    if not blocks:
        return found
    first = blocks[0]
    title_meta = str(meta.get("title") or "").strip()
    if first.tag == "h1" and (not title_meta or _same(text_of(first), title_meta)):
        found["title"] = text_of(first)
        found["title_el"] = first
        rest = blocks[1:]
    elif not title_meta:
        return found
    else:
        rest = blocks
    for el in rest[:3]:
        if el.tag != "p":
            break
        sub = _only_child_text(el, "em") or _only_child_text(el, "i")
        if sub and "subtitle" not in found and "author" not in found:
            found["subtitle"] = sub
            found.setdefault("remove", []).append(el)
            continue
        strong = [k for k in el if k.tag in ("strong", "b")]
        if strong and not (el.text or "").strip() and el[0] is strong[0]:
            m = _BY.match(text_of(strong[0]))
            if m:
                found["author"] = m.group(1).strip()
                found["byline"] = text_of(strong[0])
                after = " ".join("".join([strong[0].tail or ""] + [
                    (k.tail or "") + (text_of(k) if k.tag != "br" else "") for k in el
                    if k is not strong[0]]).split())
                date = parse_date(after) if after else ""
                if after and not date:
                    break  # more prose in the same paragraph: leave it as it is
                if date:
                    found["date"], found["date_text"] = date, after
                found.setdefault("remove", []).append(el)
                continue
        if not [k for k in el if k.tag != "br"]:
            date = parse_date(text_of(el))
            if date and "date" not in found:
                found["date"], found["date_text"] = date, text_of(el)
                found.setdefault("remove", []).append(el)
                continue
        break
    return found


def _same(a: str, b: str) -> bool:
    norm = lambda s: re.sub(r"\W+", "", s).lower()  # noqa: E731
    return norm(a) == norm(b)


def build_header(title: str, subtitle: str, byline: str, date_iso: str, date_text: str,
                 line: int | None) -> etree._Element:
    """<header class="chapter-opening"> with h1, subtitle, byline and date."""
    header = etree.Element("header")
    header.set("class", "chapter-opening")
    h1 = etree.SubElement(header, "h1")
    h1.text = title
    if subtitle:
        p = etree.SubElement(header, "p")
        p.set("class", "subtitle")
        p.text = subtitle
    if byline:
        p = etree.SubElement(header, "p")
        p.set("class", "byline")
        p.text = byline
    if date_iso:
        p = etree.SubElement(header, "p")
        p.set("class", "date")
        t = etree.SubElement(p, "time")
        t.set("datetime", date_iso)
        t.text = date_text or date_iso
    for el in header.iter():
        el.sourceline = line or 1
    return header
