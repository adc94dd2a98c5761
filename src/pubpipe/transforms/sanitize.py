"""Sanitize each chapter: an allowlist of HTML5 that is valid XHTML in an EPUB and safe to print.

nh3 (ammonia) applies the allowlist: no script, style or event handler, no ``javascript:`` URL;
unknown tags such as ``<font>``/``<center>`` are unwrapped with their content kept; inline ``style``
is dropped so the author's CSS never restyles the book. Around it, tree passes do what an allowlist
cannot: keep line numbers (carried through nh3 as ``data-pp-line``), turn task-list checkboxes and
old ``<a name>`` anchors into their modern forms, and repair content models (a block inside a
paragraph, a stray ``<li>``) so that the XHTML validates.
"""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit

import nh3
from lxml import etree

from ..document import Book, Chapter
from ..htmlmodel import FLOW_BLOCKS, PHRASING_ONLY, parse_fragment
from ..util import normalize_lang, remove_keep_tail, replace_with_text, valid_url

TAGS = {
    "a", "abbr", "address", "article", "aside", "b", "bdi", "bdo", "blockquote", "br", "caption",
    "cite", "code", "col", "colgroup", "dd", "del", "details", "dfn", "div", "dl", "dt", "em",
    "figcaption", "figure", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "i", "img",
    "ins", "kbd", "li", "mark", "ol", "p", "pre", "q", "rp", "rt", "ruby", "s", "samp", "section",
    "small", "span", "strong", "sub", "summary", "sup", "table", "tbody", "td", "tfoot", "th",
    "thead", "time", "tr", "u", "ul", "var", "wbr", "pp-embed",
} | set(MATHML_TAGS := (
    "math", "mi", "mn", "mo", "ms", "mtext", "mspace", "mrow", "mfrac", "msqrt", "mroot", "msub",
    "msup", "msubsup", "munder", "mover", "munderover", "mtable", "mtr", "mtd", "mstyle",
    "mpadded", "mphantom", "menclose", "semantics", "annotation"))
MATHML_NS = "http://www.w3.org/1998/Math/MathML"
ATTRIBUTES = {
    "*": {"id", "lang", "dir", "title", "class"},
    "a": {"href"},
    "img": {"src", "alt"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
    "col": {"span"},
    "colgroup": {"span"},
    "ol": {"start", "reversed", "type"},
    "li": {"value"},
    "time": {"datetime"},
    "blockquote": {"cite"},
    "q": {"cite"},
    "del": {"cite", "datetime"},
    "ins": {"cite", "datetime"},
    "details": {"open"},
    "math": {"display", "alttext"},
    "mi": {"mathvariant"},
    "mo": {"stretchy", "fence", "separator"},
    "mfrac": {"linethickness"},
    "annotation": {"encoding"},
}
# Classes that carry meaning for later stages; every other author class is dropped, pubpipe's own
# (pp-*, chapter-opening...) included, so that a post cannot borrow the book's styles.
_KEEP_CLASS = re.compile(r"^(language-[\w+#.-]+|footnote|footnote-ref|footnote-backref|"
                         r"task-list(-item)?|pp-align-(left|center|right))$")
_NUMERIC = {"colspan", "rowspan", "span", "start", "value"}
# HTML's valid date, month, year, time, local/global date-time and duration strings, roughly.
_DATETIME = re.compile(r"^(\d{4}(-\d{2}(-\d{2})?)?([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?"
                       r"(Z|[+-]\d{2}:?\d{2})?)?|\d{2}:\d{2}(:\d{2}(\.\d+)?)?|"
                       r"P(\d+D)?(T(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?)$")

_URL_ATTRS = {"href", "src", "cite"}

# Content models (what may hold what) for the repairs nh3 does not do.
# Content models (what may hold what) for the repairs nh3 does not do: see htmlmodel.


def _attribute_filter(tag: str, attr: str, value: str) -> str | None:
    if attr == "class":
        kept = [c for c in value.split() if _KEEP_CLASS.match(c)]
        return " ".join(kept) or None
    if attr in _NUMERIC:
        return value.strip() if value.strip().isdigit() and int(value.strip()) > 0 else None
    if attr == "id":
        return value if value.strip() else None
    if attr == "cite":  # a citation source is only worth keeping as a full web address
        value = value.strip()
        return _clean_url(value, tag) if re.match(r"^https?://\S+$", value, re.I) else None
    if attr in _URL_ATTRS:
        return _clean_url(value, tag)
    if attr == "lang":
        return normalize_lang(value)
    if attr == "datetime":
        return value.strip() if _DATETIME.match(value.strip()) else None
    if attr == "dir":
        return value.lower() if value.lower() in ("ltr", "rtl", "auto") else None
    if attr == "type":  # <ol type>
        return value if value in ("1", "a", "A", "i", "I") else None
    if attr == "scope":
        return value.lower() if value.lower() in ("row", "col", "rowgroup", "colgroup") else None
    return value


def _clean_url(value: str, tag: str) -> str | None:
    value = value.strip()
    if not value:
        return None
    scheme = urlsplit(value).scheme.lower() if ":" in value[:12] else ""
    if scheme == "data" and tag != "img":
        return None  # data: links are a phishing vector and useless in a book
    if scheme and scheme not in ("http", "https", "mailto", "data", "tel", "ftp", "file"):
        return None
    # Readers and EPUBCheck need a valid URL: encode spaces and other illegal characters, and a
    # '%' that starts no escape ('?q=50%').
    if scheme == "data":
        return value
    return quote(re.sub(r"%(?![0-9A-Fa-f]{2})", "%25", value), safe="/:?#[]@!$&'()*+,;=%~-._")


def run(book: Book) -> None:
    _report_unclaimed_shortcodes(book)
    _drop_invalid_links(book)
    for chapter in book.chapters:
        _report_refused_images(chapter, book.diagnostics)
        sanitize_chapter(chapter)


def _drop_invalid_links(book: Book) -> None:
    """A link whose address cannot be a URL (a bad port, an http: address without host) is kept
    as text with a warning; nh3 would drop its href without a word."""
    for chapter in book.chapters:
        for a in list(chapter.body.iter("a")):
            href = (a.get("href") or "").strip()
            if not href or href.startswith("#") or valid_url(href) is not None:
                continue
            a.tag = "span"
            a.attrib.pop("href")
            book.diagnostics.warn("link-invalid", f"link to '{href}' is not a valid address;"
                                  " kept as text", chapter.source,
                                  a.sourceline or chapter.find_line(href))


def _report_unclaimed_shortcodes(book: Book) -> None:
    """Shortcodes no embed claimed stay as written: one warning per kind, where it first stands.
    (Tags the reader itself kept, data-syntax="raw", were reported by the reader.)"""
    seen: dict[str, list] = {}
    for chapter in book.chapters:
        for el in chapter.body.iter("pp-shortcode"):
            if el.get("data-syntax") == "raw":
                continue
            name = el.get("data-name") or ""
            if name.startswith("/"):
                continue  # the closing half of a paired shortcode: reported with its opening
            seen.setdefault(name, []).append((chapter, el))
    for name, places in seen.items():
        chapter, el = places[0]
        raw = el.get("data-raw") or name
        more = f" ({len(places) - 1} more in the book)" if len(places) > 1 else ""
        book.diagnostics.warn("template-tag", f"shortcode '{name}' cannot be honoured in a book;"
                              f" kept as written: {raw[:60]}{more}", chapter.source,
                              chapter.find_line(raw, el.sourceline))


_WINDOWS_PATH = re.compile(r"^[A-Za-z]:[\\/]|^\\\\")


def _report_refused_images(chapter: Chapter, diags) -> None:
    """An image source the allowlist will drop (javascript:, C:/...) is said so, not lost."""
    for img in chapter.body.iter("img"):
        src = (img.get("src") or "").strip()
        if not src:
            continue
        if _WINDOWS_PATH.match(src):
            why = ("absolute paths are not allowed: put the file in the book folder and refer"
                   " to it relative to the post")
        elif _clean_url(src, "img") is None:
            why = f"unsupported URL scheme '{urlsplit(src).scheme}:'"
        else:
            continue
        shown = src if len(src) <= 80 else src[:77] + "..."
        diags.warn("asset-refused", f"image {shown} refused: {why}; its alt text stands in its"
                   " place", chapter.source, img.sourceline or chapter.find_line(src[:200]))


def sanitize_chapter(chapter: Chapter) -> None:
    body = chapter.body
    # The reader's chapter opening is built from plain text and keeps its classes; it is set
    # aside so that the allowlist (which drops pubpipe's class names from posts) leaves it alone.
    opening = body[0] if len(body) and body[0].tag == "header" and \
        body[0].get("class") == "chapter-opening" else None
    if opening is not None:
        body.text = (body.text or "") + (opening.tail or "")
        opening.tail = None
        body.remove(opening)
    _before(body)
    for el in body.iter(f"{{{MATHML_NS}}}*"):  # MathML travels through nh3 by its plain names
        el.tag = etree.QName(el).localname
    for el in body.iter():
        if isinstance(el.tag, str) and el.sourceline:
            el.set("data-pp-line", str(el.sourceline))
    html = _escape_text(body.text or "") + "".join(
        etree.tostring(child, encoding="unicode", method="html") for child in body)
    cleaned = nh3.clean(
        html, tags=TAGS, clean_content_tags={"script", "style", "template"},
        attributes=ATTRIBUTES, attribute_filter=_attribute_filter, strip_comments=True,
        link_rel=None, generic_attribute_prefixes={"data-pp-"},
        url_schemes={"http", "https", "mailto", "data", "tel", "ftp", "file"},
    )
    new = parse_fragment(cleaned)
    for el in new.iter():
        if not isinstance(el.tag, str):
            continue
        line = el.attrib.pop("data-pp-line", None)
        if line and line.isdigit():
            el.sourceline = int(line)
    new.tag = "div"
    if opening is not None:
        new.insert(0, opening)
        opening.tail, new.text = new.text, None
    _after(new)
    chapter.body = new


def _escape_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _style_align(style: str | None) -> str:
    m = re.search(r"text-align\s*:\s*(left|center|right)", style or "", re.I)
    return m.group(1) if m else ""


def _before(body: etree._Element) -> None:
    """Tree repairs before the allowlist: things whose meaning would otherwise be lost."""
    for el in list(body.iter()):
        if not isinstance(el.tag, str):
            continue
        tag = el.tag
        if tag == "pp-shortcode":  # a shortcode nobody claimed: show it as the author wrote it
            name, args = el.get("data-name", ""), el.get("data-args", "")
            text = el.get("data-raw") or (
                f"{{% {name} {args} %}}" if el.get("data-syntax") == "liquid"
                else f"{{{{< {name} {args} >}}}}").replace("  ", " ")
            replace_with_text(el, text)
        elif tag == "input" and el.get("type") == "checkbox":
            mark = "\u2611" if el.get("checked") is not None else "\u2610"
            replace_with_text(el, mark if (el.tail or "").startswith(" ") else mark + " ")
        elif el.get("hidden") is not None or tag == "template":
            remove_keep_tail(el)  # never shown by a browser: not part of what the reader sees
        elif tag == "textarea":
            el.tag = "pre"  # a form field's prefilled text is text the reader sees
        elif tag == "option":
            el.tag = "span"
            el.tail = " " + (el.tail or "")
        elif tag == "a" and el.get("name") and not el.get("id"):
            el.set("id", el.get("name"))
        elif tag in ("td", "th") and (el.get("align") or _style_align(el.get("style"))):
            # Column alignment is meaning (numbers to the right), not the author's styling:
            # Markdown tables say it with style="text-align: …", old HTML with align="…".
            align = (el.get("align") or _style_align(el.get("style"))).lower()
            if align in ("left", "center", "right"):
                el.set("class", f"pp-align-{align} {el.get('class', '')}".strip())
        elif tag in ("img",) and not el.get("src"):
            lazy = el.get("data-src") or el.get("data-original") or el.get("data-lazy-src")
            if lazy:
                el.set("src", lazy)
        elif tag == "picture":  # keep the <img>; its <source>s only choose among variants
            for s in el.findall("source"):
                el.remove(s)
        elif tag in ("iframe", "object", "embed", "video", "audio", "frame", "frameset", "applet"):
            # The embeds stage claims what it knows; whatever is left must not vanish silently.
            url = el.get("src") or el.get("data") or ""
            if url and el.getparent() is not None:
                a = etree.Element("a", href=url)
                a.text = url
                a.tail = el.tail
                el.addnext(a)
                el.tail = None
    for img in body.iter("img"):
        width = _image_width(img)
        if width:
            img.set("data-pp-width", width)  # the author's size: every writer honours it


_WIDTH = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(px|%)?\s*$", re.I)
_STYLE_WIDTH = re.compile(r"(?:^|;)\s*(?:max-)?width\s*:\s*(\d+(?:\.\d+)?)\s*(px|%)\s*(?:;|$)", re.I)


def _image_width(img: etree._Element) -> str | None:
    """The width the author gave an image ("300" CSS px or "50%"), or None.

    From its width attribute, a width in its style, or (kramdown's block attribute list on the
    line after an image alone in its paragraph) the width given to that paragraph.
    """
    candidates = [img.get("width")]
    m = _STYLE_WIDTH.search(img.get("style") or "")
    if m:
        candidates.append(m[1] + m[2])
    parent = img.getparent()
    if parent is not None and parent.tag == "p" and parent.get("width") and \
            len(parent) == 1 and not (parent.text or "").strip() and not (img.tail or "").strip():
        candidates.append(parent.get("width"))
    for value in candidates:
        m = _WIDTH.match(value or "")
        if m and 0 < float(m[1]) <= (100 if m[2] == "%" else 10000):
            return f"{float(m[1]):g}{'%' if m[2] == '%' else ''}"
    return None




def _after(body: etree._Element) -> None:
    """Content-model repairs and tidying after the allowlist."""
    for img in list(body.iter("img")):
        if not img.get("src"):
            replace_with_text(img, img.get("alt") or "")
    for a in body.iter("a"):
        href = a.get("href") or ""
        if href.lower().startswith("file:"):
            a.attrib.pop("href")  # a link to the author's disk means nothing to a reader
    _fix_content_models(body)
    for p in list(body.iter("p")):
        _trim_breaks(p)
        if not "".join(p.itertext()).strip() and not len(p.findall(".//img")) and \
                not len(p.findall(".//pp-embed")):
            remove_keep_tail(p, separate=True)


def _trim_breaks(p: etree._Element) -> None:
    """<br>s at the start or end of a paragraph only made spacing on the web."""
    while len(p) and p[-1].tag == "br" and not (p[-1].tail or "").strip():
        p.remove(p[-1])
    while len(p) and p[0].tag == "br" and not (p.text or "").strip():
        tail = p[0].tail
        p.remove(p[0])
        p.text = tail
    if len(p):
        p[-1].tail = (p[-1].tail or "").rstrip() or None
    elif p.text:
        p.text = p.text.rstrip()




def _fix_content_models(body: etree._Element) -> None:
    changed = True
    while changed:
        changed = False
        for el in list(body.iter()):
            if not isinstance(el.tag, str) or el.getparent() is None:
                continue
            parent = el.getparent()
            if el.tag in FLOW_BLOCKS and parent.tag in PHRASING_ONLY:
                if parent.tag == "p" and el.tag not in ("li", "dd", "dt", "tr", "td", "th"):
                    split_paragraph_at(parent, el)
                elif parent.tag == "a" and parent.getparent() is not None and \
                        parent.getparent().tag not in PHRASING_ONLY:
                    continue  # <a> is transparent: a block inside a block-level link is fine
                else:
                    el.tag = "span"
                    el.set("class", (el.get("class", "") + " pp-block").strip())
                    for k in list(el.attrib):
                        if k not in ("id", "lang", "dir", "title", "class"):
                            del el.attrib[k]
                changed = True
                break
            if el.tag == "li" and parent.tag not in ("ul", "ol"):
                wrapper = etree.Element("ul")
                el.addprevious(wrapper)
                wrapper.append(el)
                changed = True
                break
            if el.tag in ("dt", "dd") and parent.tag != "dl":
                wrapper = etree.Element("dl")
                el.addprevious(wrapper)
                wrapper.append(el)
                changed = True
                break


def split_paragraph_at(p: etree._Element, block: etree._Element) -> None:
    """Move a block child of <p> (at any depth under inline wrappers: only direct handled) out.

    The paragraph's content before the block stays in p, the block follows p, and the content after
    it goes into a new paragraph. Shared with the figures stage, which lifts images out the same way.
    """
    if block.getparent() is not p:
        p = block.getparent()
        if p.tag != "p":
            return
    after = etree.Element("p")
    after.sourceline = block.sourceline or p.sourceline
    after.text = block.tail
    block.tail = None
    for sib in list(block.itersiblings()):
        after.append(sib)
    p.remove(block)
    p.addnext(block)
    block.tail = None
    if (after.text or "").strip() or len(after):
        block.addnext(after)
        _trim_breaks(after)
    _trim_breaks(p)
    if not "".join(p.itertext()).strip() and not len(p):
        remove_keep_tail(p, separate=True)
