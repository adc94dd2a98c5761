"""Find embeds in freshly parsed chapters and put ``<pp-embed data-pp-embed="ID"/>`` in their place.

Runs before the sanitizer, on html5lib's un-namespaced tree: iframes, scripts, tweet blockquotes,
``<video>`` and ``<object>`` are still there. Every provider in the registry is asked in priority
order; an iframe nobody knows becomes a generic card with its URL, so no embed is silently lost.
Widget loader scripts (widgets.js, embed.js, ...) are removed; other scripts are left to the
sanitizer. Also handles ``pp-shortcode`` elements (Hugo/Liquid), bare video links alone in a
paragraph and embeds declared in front matter.
"""

from __future__ import annotations

import re

from lxml import etree

from ..document import Book, Chapter, Embed, Location
from ..htmlmodel import parse_fragment
from . import registry
from .base import Args, absolute, element_url, looks_like_url, text_of
from ..util import remove_keep_tail

# Front-matter keys that may declare embeds. Keys such as "twitter" or "instagram" usually hold the
# author's handle, so a value only counts when a provider recognizes it as a post.
_FM_ID_KEYS = {"youtube": "youtube", "youtube_id": "youtube", "youtubeid": "youtube",
               "vimeo": "vimeo", "vimeo_id": "vimeo", "gist": "gist", "tweet": "twitter"}
_FM_URL_KEYS = ("video", "videos", "tweet", "tweets", "twitter", "instagram", "audio", "podcast",
                "spotify", "soundcloud", "codepen", "map", "embed", "embeds", "mastodon", "toot",
                "tiktok", "youtube", "vimeo", "gist")
_FM_GENERIC_OK = {"embed", "embeds", "video", "videos", "audio", "podcast"}


class _Detector:
    def __init__(self, book: Book, chapter: Chapter):
        self.book = book
        self.chapter = chapter

    # --- bookkeeping -------------------------------------------------------------------------

    def register(self, e: Embed, el: etree._Element | None, needle: str = "") -> str:
        n = len(self.book.embeds) + 1
        while f"embed-{n}" in self.book.embeds:
            n += 1
        e.id = f"embed-{n}"
        hint = el.sourceline if el is not None and el.sourceline else None
        line = _nearest_line(self.chapter.source_text, needle, hint) or \
            _nearest_line(self.chapter.source_text, _needle(e.url), hint) or hint
        e.location = Location(self.chapter.source, line)
        self.book.embeds[e.id] = e
        return e.id

    def placeholder(self, e: Embed, el: etree._Element | None, needle: str = "") -> etree._Element:
        ph = etree.Element("pp-embed")
        ph.set("data-pp-embed", self.register(e, el, needle))
        if el is not None and el.sourceline:
            ph.sourceline = el.sourceline
        return ph

    def replace(self, el: etree._Element, e: Embed, needle: str = "") -> None:
        _safe_urls(e)
        ph = self.placeholder(e, el, needle)
        if e.provider in ("iframe", "plugin"):  # worth a look: maybe a provider we should know
            self.book.diagnostics.info(
                "embed-generic", f"<{el.tag}> {e.url or '(no address)'} is no known embed; shown"
                " as a card with its address", e.location.file, e.location.line)
        ph.tail = el.tail
        el.getparent().replace(el, ph)
        for extra in e.extra.pop("consume", []):  # e.g. SoundCloud's attribution line
            remove_keep_tail(extra)

    # --- passes ------------------------------------------------------------------------------

    def run(self) -> None:
        body = self.chapter.body
        self.walk(body)
        self.bare_links(body)
        self.front_matter(body)

    def walk(self, root: etree._Element) -> None:
        tags = registry.candidate_tags()
        widgets = registry.widget_script_pattern()
        for el in list(root.iter()):
            if not isinstance(el.tag, str) or not _attached(el, root):
                continue
            tag = el.tag
            if tag == "pp-shortcode":
                self.shortcode(el)
                continue
            if tag in tags:
                e = None
                for p in registry.providers():
                    if tag in p.tags:
                        e = p.from_element(el)
                        if e is not None:
                            break
                if e is not None:
                    self.replace(el, e, needle=_needle(element_url(el)))
                    continue
            if tag == "script" and el.get("src") and widgets is not None:
                if widgets.search(absolute(el.get("src"))):
                    remove_keep_tail(el)

    def shortcode(self, el: etree._Element) -> None:
        name = (el.get("data-name") or "").lower()
        args = Args.parse(el.get("data-args") or "")
        if name in ("include", "include_relative") and args.positional:
            name = _include_name(args.positional.pop(0))
        cands = registry.for_shortcode(name)
        if not cands:  # unknown shortcode: the sanitizer shows it as text
            return
        for p in cands:
            e = p.from_shortcode(name, args)
            if e is not None:
                self.replace(el, e, needle=(el.get("data-args") or "")[:60])
                return
        self.book.diagnostics.warn(
            "embed-unresolved",
            f"{name} embed with arguments {el.get('data-args')!r}: no URL or id to link to;"
            " kept as text", self.chapter.source,
            el.sourceline or self.chapter.find_line(el.get("data-args") or ""))

    def bare_links(self, root: etree._Element) -> None:
        # WordPress embed blocks: <figure class="wp-block-embed ..."><div class="wp-block-embed__
        # wrapper">URL</div><figcaption>...</figcaption></figure>; the author asked for an embed.
        for div in list(root.iter("div")):
            if "wp-block-embed__wrapper" in (div.get("class") or "").split() and \
                    not any(isinstance(c.tag, str) and c.tag not in ("a", "br") for c in div):
                url = text_of(div)
                if looks_like_url(url) and " " not in url:
                    e = resolve_url(absolute(url))
                    if e is not None:
                        self.replace(div, e, needle=_needle(url))
        bare = [p for p in registry.providers() if p.bare_links]
        for para in list(root.iter("p")):
            url = _bare_url(para)
            if not url:
                continue
            for p in bare:
                e = p.from_url(url)
                if e is not None:
                    self.replace(para, e, needle=_needle(url))
                    break

    def front_matter(self, body: etree._Element) -> None:
        meta = self.chapter.meta or {}
        found: list[etree._Element] = []
        for key, value in meta.items():
            k = str(key).lower().replace("-", "_")
            if k not in _FM_URL_KEYS and k not in _FM_ID_KEYS:
                continue
            for v in _values(value):
                found.extend(self.front_matter_value(k, v))
        if not found:
            return
        # After the chapter opening (title heading, byline header) if the reader left one.
        at = 0
        while at < len(body) and body[at].tag in ("h1", "header", "hgroup"):
            at += 1
        if at == 0 and found:
            found[-1].tail = (found[-1].tail or "") + (body.text or "")
            body.text = None
        for i, el in enumerate(found):
            body.insert(at + i, el)

    def front_matter_value(self, key: str, v: str) -> list[etree._Element]:
        v = v.strip()
        if not v:
            return []
        if v.startswith("<"):  # an HTML snippet: detect inside it, keep all it holds
            frag = parse_fragment(v)
            self.walk(frag)
            for el in frag.iter():
                if isinstance(el.tag, str) and el.tag != "pp-embed" and el is not frag:
                    el.sourceline = None
            out = []
            if frag.text and frag.text.strip():
                span = etree.Element("p")
                span.text = frag.text
                out.append(span)
            out.extend(frag)
            return [el for el in out if el.tag == "pp-embed" or text_of(el)]
        e = None
        if looks_like_url(v) or key in _FM_GENERIC_OK and not key.startswith("embed"):
            e = resolve_url(absolute(v), generic=key in _FM_GENERIC_OK)
        elif key in _FM_ID_KEYS:
            p = registry.get(_FM_ID_KEYS[key])
            e = p.from_shortcode(key, Args(positional=[v])) if p else None
        if e is None:
            return []
        _safe_urls(e)
        ph = self.placeholder(e, None, needle=v[:60])
        return [ph]


def resolve_url(url: str, generic: bool = True) -> Embed | None:
    """The Embed for a URL from the first provider that knows it (generic ones only if allowed)."""
    for p in registry.providers():
        if not generic and p.priority >= 90:
            continue
        e = p.from_url(url)
        if e is not None:
            return e
    return None


def detect(book: Book) -> None:
    for chapter in book.chapters:
        _Detector(book, chapter).run()


# --- helpers ---------------------------------------------------------------------------------

def _attached(el: etree._Element, root: etree._Element) -> bool:
    node = el
    while node is not None:
        if node is root:
            return True
        node = node.getparent()
    return False



def _safe_urls(e: Embed) -> None:
    """Only web addresses (or paths inside the book) are shown, linked or fetched: a
    ``javascript:`` or ``data:`` URL from an iframe is nothing a reader can open."""
    if e.url and re.match(r"^[a-z][a-z0-9+.-]*:", e.url, re.I) and \
            not re.match(r"^https?://", e.url, re.I):
        e.extra.setdefault("dropped_url", e.url[:80])
        e.url = ""
    if e.thumbnail and re.match(r"^[a-z][a-z0-9+.-]*:", e.thumbnail, re.I) and \
            not re.match(r"^(https?://|data:image/)", e.thumbnail, re.I):
        e.thumbnail = ""


def _nearest_line(text: str, needle: str, hint: int | None) -> int | None:
    """Line of the occurrence of needle nearest to hint (the reader's approximate line)."""
    if not needle or not text:
        return None
    lines, i = [], text.find(needle)
    while i >= 0 and len(lines) < 200:
        lines.append(text.count("\n", 0, i) + 1)
        i = text.find(needle, i + 1)
    if not lines:
        return None
    return min(lines, key=lambda n: abs(n - hint)) if hint else lines[0]


def _needle(url: str) -> str:
    """A piece of a URL likely to appear verbatim in the Markdown source."""
    url = re.sub(r"^(https?:)?//", "", url or "")
    return url.split("?")[0][:80]


def _include_name(file: str) -> str:
    """'youtube.html', '_includes/video/youtube-player.html' -> 'youtube' when a provider knows it."""
    stem = re.sub(r"\.(html?|liquid|md)$", "", file.rsplit("/", 1)[-1].lower())
    if registry.for_shortcode(stem):
        return stem
    for word in re.split(r"[^a-z0-9]+|(?<=[a-z])(?=[A-Z])", stem):
        if word and registry.for_shortcode(word):
            return word
    for p in registry.providers():
        for sc in p.shortcodes:
            if len(sc) > 3 and sc in stem:
                return sc
    return stem


def _bare_url(p: etree._Element) -> str:
    """The URL when a paragraph holds nothing but one link whose text is its URL, or a plain URL."""
    kids = [c for c in p if isinstance(c.tag, str) and c.tag != "br"]
    if len(kids) == 0:
        text = text_of(p)
        return text if looks_like_url(text) and " " not in text else ""
    if len(kids) != 1 or kids[0].tag != "a" or (p.text or "").strip() or (kids[0].tail or "").strip():
        return ""
    a = kids[0]
    href, text = (a.get("href") or "").strip(), text_of(a)

    def norm(u: str) -> str:
        return re.sub(r"^(https?:)?//", "", u).rstrip("/").lower()

    return absolute(href) if href and norm(text) == norm(href) else ""


def _values(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, int) and not isinstance(value, bool):  # YAML reads some ids as numbers
        return [str(value)]
    if isinstance(value, (list, tuple)):
        out = []
        for v in value:
            out.extend(_values(v))
        return out
    if isinstance(value, dict):  # {url: ...} / {src: ...} / {id: ...}
        for k in ("url", "src", "href", "id", "html"):
            if isinstance(value.get(k), str):
                return [value[k]]
    return []
