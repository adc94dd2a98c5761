"""What every embed recognizer shares: the Provider base class, shortcode arguments, URL and text helpers.

A provider recognizes its own markup (an element, a URL, a shortcode) and returns an ``Embed``
with ``id`` left empty; ``detect`` numbers it, records where it was found and puts the placeholder
in the tree. Recognizers never touch the tree: detection replaces the element they matched.
"""

from __future__ import annotations

import copy
import re
import shlex
from dataclasses import dataclass, field
from urllib.parse import parse_qs, parse_qsl, urlencode, urlsplit, urlunsplit

from lxml import etree

from ..document import Embed
from ..htmlmodel import BLOCK_TAGS, parse_body
from ..util import remove_keep_tail

# Elements whose URL (src / data / <param name=movie>) identifies what they show.
URL_ELEMENTS = ("iframe", "embed", "object")


@dataclass
class Args:
    """Arguments of a Hugo shortcode or Liquid tag: positional values and named ones."""

    positional: list[str] = field(default_factory=list)
    named: dict[str, str] = field(default_factory=dict)

    @classmethod
    def parse(cls, raw: str) -> "Args":
        raw = (raw or "").replace("\u201c", '"').replace("\u201d", '"')
        try:
            parts = shlex.split(raw)
        except ValueError:  # unbalanced quotes: whitespace split is the best guess
            parts = raw.split()
        out = cls()
        for p in parts:
            m = re.match(r"^([A-Za-z_][\w-]*)=(.*)$", p, re.S)
            if m and not p.startswith(("http:", "https:")):
                out.named[m.group(1).lower()] = m.group(2)
            else:
                out.positional.append(p)
        return out

    def get(self, *names: str, pos: int | None = None) -> str:
        for n in names:
            if self.named.get(n):
                return self.named[n]
        if pos is not None and pos < len(self.positional):
            return self.positional[pos]
        return ""

    def urls(self) -> list[str]:
        vals = list(self.positional) + list(self.named.values())
        return [absolute(v) for v in vals if looks_like_url(v)]


class Provider:
    """One kind of embed. Subclasses set the class attributes and override what they recognize."""

    name = ""  # machine name, Embed.provider
    provider_name = ""  # shown to readers
    kind = "page"  # video | social | code | audio | map | page | plugin
    priority = 50  # lower is asked first; generic fallbacks come last
    tags: tuple[str, ...] = URL_ELEMENTS  # elements from_element wants to see
    shortcodes: tuple[str, ...] = ()  # Hugo shortcode / Liquid tag / include-file names
    bare_links = False  # a URL alone in a paragraph becomes this embed
    widget_scripts: tuple[str, ...] = ()  # regexes of script URLs that only load widgets
    oembed = ""  # oEmbed endpoint template ({url}: the quoted canonical URL, {origin}: its site)

    def from_url(self, url: str) -> Embed | None:
        """An Embed for a URL of this provider (iframe src, bare link, front matter)."""
        return None

    def from_element(self, el: etree._Element) -> Embed | None:
        """An Embed for element el; by default: an iframe/embed/object whose URL this provider knows."""
        if el.tag in URL_ELEMENTS:
            url = element_url(el)
            if url:
                e = self.from_url(url)
                if e is not None:
                    fill_from_element(e, el)
                    if e.body is None:  # "See the Pen ... on CodePen", "Watch it on YouTube"
                        e.body = inner_fallback(el)
                        e.text = plain_text(e.body)
                return e
        return None

    def from_shortcode(self, name: str, args: Args) -> Embed | None:
        """An Embed for a shortcode this provider declared in ``shortcodes``; by default its URL."""
        for url in args.urls():
            e = self.from_url(url)
            if e is not None:
                return e
        return None

    def from_attr_or_links(self, el: etree._Element, attr: str) -> Embed | None:
        """The embed named by el's attribute attr (a permalink), else by its first link that
        this provider recognises: how the social embed codes point at their post."""
        e = self.from_url(el.get(attr) or "")
        if e is None:
            for a in el.iter("a"):
                e = self.from_url(a.get("href") or "")
                if e is not None:
                    break
        return e

    def make(self, url: str, **fields) -> Embed:
        fields.setdefault("provider_name", self.provider_name)
        return Embed(id="", provider=self.name, kind=fields.pop("kind", self.kind), url=url,
                     **fields)


# --- URLs -------------------------------------------------------------------------------------

def absolute(url: str) -> str:
    """Protocol-relative and scheme-less provider URLs as https; everything else unchanged."""
    url = (url or "").strip()
    if url.startswith("//"):
        return "https:" + url
    if re.match(r"^(www\.)?[a-z0-9-]+(\.[a-z0-9-]+)+/", url, re.I) and "://" not in url:
        return "https://" + url
    return url


def looks_like_url(v: str) -> bool:
    v = (v or "").strip()
    return bool(re.match(r"^(https?:)?//[^\s/]+", v, re.I)) or bool(
        re.match(r"^(www\.)?[a-z0-9-]+(\.[a-z0-9-]+)*\.[a-z]{2,}/\S*$", v, re.I))


def split(url: str):
    """(host without www./m./mobile., path, query dict) of a URL; host '' when it is not http(s)."""
    try:
        parts = urlsplit(absolute(url))
    except ValueError:
        return "", "", {}
    if parts.scheme not in ("http", "https"):
        return "", "", {}
    host = (parts.hostname or "").lower()
    host = re.sub(r"^(www|m|mobile)\.", "", host)
    return host, parts.path, {k: v[0] for k, v in parse_qs(parts.query).items()}


def strip_query(url: str, keep: tuple[str, ...] = ()) -> str:
    """url without tracking parameters (only the ``keep`` ones stay) and without a fragment."""
    parts = urlsplit(absolute(url))
    q = parse_qs(parts.query)
    query = urlencode([(k, v[0]) for k, v in q.items() if k in keep])
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))


_TRACKING = re.compile(r"^(utm_\w+|ref_src|ref_url|igshid|igsh|refer|embed_source|fbclid|si)$")


def drop_tracking(url: str) -> str:
    """url without widget/analytics parameters (utm_*, ref_src, refer=embed...)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if not parts.query:
        return url
    kept = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
            if not _TRACKING.match(k)]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(kept), parts.fragment))


def element_url(el: etree._Element) -> str:
    """What an iframe/embed/object/video/audio shows: src, data, <param name=movie>, <source src>."""
    for attr in ("src", "data-src", "data", "data-lazy-src"):
        v = (el.get(attr) or "").strip()
        if v and not v.startswith("about:"):
            return absolute(v)
    for p in el.iter("param"):
        if (p.get("name") or "").lower() in ("movie", "src", "url", "filename"):
            v = (p.get("value") or "").strip()
            if v:
                return absolute(v)
    for child in el.iter("embed", "source"):
        if child is not el and child.get("src"):
            return absolute(child.get("src"))
    return ""


def fill_from_element(e: Embed, el: etree._Element) -> None:
    """Size and a meaningful title from the element's attributes."""
    for attr in ("width", "height"):
        v = el.get(attr) or ""
        m = re.match(r"^\s*(\d+)\s*(px)?\s*$", v)
        if m and not getattr(e, attr):
            setattr(e, attr, int(m.group(1)))
    title = " ".join((el.get("title") or "").split())
    if title and not e.title and not GENERIC_TITLE.match(title):
        e.title = title


# Titles players give themselves, not the work they show.
GENERIC_TITLE = re.compile(
    r"^(youtube|vimeo|spotify|soundcloud)?\s*(video|embed|embedded|audio|music)?\s*(player|content|"
    r"video|iframe)?$|^(youtube video player|spotify embed|vimeo video player)$", re.I)


# --- text and post bodies --------------------------------------------------------------------

def text_of(el) -> str:
    if el is None:
        return ""
    return " ".join("".join(el.itertext()).split())


def plain_text(body) -> str:
    """A post body as plain text: <br> as a line break, paragraphs separated by a blank line."""
    if body is None:
        return ""

    def walk(el, parts):
        if el.tag == "br":
            parts.append("\n")
        elif el.text:
            parts.append(el.text)
        for c in el:
            if isinstance(c.tag, str):
                walk(c, parts)
            if c.tail:
                parts.append(c.tail)

    paras = []
    for p in body:
        parts: list[str] = []
        walk(p, parts)
        lines = [" ".join(line.split()) for line in "".join(parts).split("\n")]
        paras.append("\n".join(lines).strip())
    return "\n\n".join(x for x in paras if x)


def has_class(el: etree._Element, name: str) -> bool:
    return name in (el.get("class") or "").split()


_SAFE_INLINE = {"a", "br", "em", "strong", "b", "i", "u", "s", "code", "span", "sub", "sup",
                "small", "mark", "abbr", "cite", "q", "time"}
_DROP_WITH_CONTENT = {"script", "style", "svg", "noscript", "template", "iframe", "embed", "img",
                      "source", "track", "param", "math", "button"}
# <object>, <video>, <audio> and <picture> themselves are dropped (nothing remote on a card), but
# their content is fallback the author wrote for readers who cannot play them: it is kept as text.
_SAFE_HREF = re.compile(r"^(https?:|mailto:)", re.I)


def safe_body(paragraphs: list[etree._Element], clean_href=None) -> etree._Element | None:
    """A <div> of <p>s holding the post's text with its links, inline markup only, nothing remote.

    paragraphs are the source blocks (copied, never changed); any block inside them becomes its own
    paragraph; attributes other than href (http, https, mailto), lang and dir are dropped.
    """
    out = etree.Element("div")
    for src in paragraphs:
        if isinstance(src.tag, str) and src.tag in _SAFE_INLINE:  # a lone link or span: keep it
            wrapper = etree.Element("p")
            wrapper.append(copy.deepcopy(src))
            wrapper[0].tail = None
            src = wrapper
        p = etree.SubElement(out, "p")
        _copy_safe_attrs(src, p)
        _copy_inline(src, p, out, clean_href)
    for p in list(out):  # drop empty paragraphs
        if not text_of(p) and not len(p):
            out.remove(p)
    return out if len(out) else None


def _copy_inline(src, dst, out, clean_href) -> None:
    """Copy src's content into dst, keeping only safe inline elements."""
    _append_text(dst, src.text)
    for child in src:
        if not isinstance(child.tag, str):  # comments, processing instructions
            _append_text(dst, child.tail)
            continue
        tag = child.tag.lower()
        if tag in _DROP_WITH_CONTENT:
            alt = child.get("alt") if tag == "img" else ""
            _append_text(dst, alt)
            _append_text(dst, child.tail)
            continue
        if tag in _SAFE_INLINE:
            new = etree.SubElement(dst, tag)
            _copy_safe_attrs(child, new)
            if tag == "a":
                href = absolute(child.get("href") or "")
                if _SAFE_HREF.match(href):
                    href = drop_tracking(href)
                    new.set("href", clean_href(href) if clean_href else href)
                else:
                    new.tag = "span"
            if tag == "time" and child.get("datetime"):
                new.set("datetime", child.get("datetime"))
            _copy_inline(child, new, out, clean_href)
            new.tail = child.tail
        else:  # a block or unknown element: its inline content, separated by a space
            _append_text(dst, " ")
            _copy_inline(child, dst, out, clean_href)
            _append_text(dst, " ")
            _append_text(dst, child.tail)


_LANG = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")


def valid_lang(value: str | None) -> str:
    """value when it is a well-formed language tag ("en", "zh-Hant"), else "" (never "en_US")."""
    value = (value or "").strip().replace("_", "-")
    return value if _LANG.match(value) else ""


def _copy_safe_attrs(src, dst) -> None:
    lang = valid_lang(src.get("lang"))
    if lang:
        dst.set("lang", lang)
    if (src.get("dir") or "").lower() in ("ltr", "rtl", "auto"):
        dst.set("dir", src.get("dir").lower())


def _append_text(el, text) -> None:
    if not text:
        return
    if len(el):
        last = el[-1]
        last.tail = (last.tail or "") + text
    else:
        el.text = (el.text or "") + text


_BLOCKS = BLOCK_TAGS


_CONTAINERS = {"div", "section", "article", "header", "footer", "blockquote", "figure", "main",
               "aside", "nav"}


def paragraphs_of(el, skip=()) -> list[etree._Element]:
    """el's content as the paragraphs ``safe_body`` takes: each block child is one, and every run
    of loose text and inline children between blocks (text after a link included) is wrapped in
    a new <p>. Children in ``skip`` are left out, their tail text is kept. el is not changed."""
    out: list[etree._Element] = []
    run: list[etree._Element | None] = [None]

    def text(t):
        if not t:
            return
        if run[0] is None:
            if not t.strip():
                return
            run[0] = etree.Element("p")
            out.append(run[0])
        _append_text(run[0], t)

    text(el.text)
    for c in el:
        if isinstance(c.tag, str) and c not in skip:
            if c.tag in _CONTAINERS and any(isinstance(g.tag, str) and g.tag in _BLOCKS for g in c):
                run[0] = None  # a wrapper of blocks: its own paragraphs, not one run-on paragraph
                out.extend(paragraphs_of(c))
            elif c.tag in _BLOCKS:
                run[0] = None
                out.append(c)
            else:
                if run[0] is None:
                    run[0] = etree.Element("p")
                    out.append(run[0])
                new = copy.deepcopy(c)
                new.tail = None
                run[0].append(new)
        text(c.tail)
    return out


def without(el, drop) -> etree._Element:
    """A copy of el less the descendants for which drop(d) is true (their tail text is kept) and
    less the elements that are left without any text (icon-only links, SVG, spacer divs)."""
    holder = copy.deepcopy(el)
    for d in [d for d in holder.iter() if d is not holder and isinstance(d.tag, str) and drop(d)]:
        remove_keep_tail(d)
    for d in reversed(list(holder.iter())):  # deepest first, so emptied parents go too
        if d is not holder and d.getparent() is not None and (
                not isinstance(d.tag, str) or (d.tag not in ("br", "img") and not text_of(d)
                                                and not any(True for _ in d.iter("img")))):
            remove_keep_tail(d)
    return holder


def inner_fallback(el) -> etree._Element | None:
    """What an iframe/object/embed holds for readers who cannot show it, as a ``safe_body``.
    html5lib keeps an iframe's content as raw markup text (parsed here); an object's is parsed."""
    if el.tag == "iframe":
        raw = el.text or ""
        if not raw.strip():
            return None
        holder = parse_body(raw)
    else:
        holder = fallback_content(el, skip=("param", "embed", "source", "track"))
    if holder is None or not text_of(holder):
        return None
    return safe_body([holder])


def fallback_content(el, skip: tuple[str, ...]) -> etree._Element:
    """A <div> copy of el's content without the ``skip`` children (their tail text is kept)."""
    holder = etree.Element("div")
    holder.text = el.text
    for c in el:
        if isinstance(c.tag, str) and c.tag in skip:
            _append_text(holder, c.tail)
        elif isinstance(c.tag, str):
            holder.append(copy.deepcopy(c))
        else:
            _append_text(holder, c.tail)
    return holder
