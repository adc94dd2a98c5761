"""Instagram: ``blockquote.instagram-media`` (old and new embed code), instagram.com/p|reel|tv
links and iframes, shortcodes. Caption text and the "A post shared by" line are kept."""

from __future__ import annotations

import re

from ..base import (Args, Provider, has_class, paragraphs_of, plain_text, safe_body, split, text_of,
                    without)

_POST = re.compile(r"^/(?:[\w.]+/)?(p|reel|reels|tv)/([\w-]+)")
_SHARED = re.compile(r"A (?:post|video|photo) shared by\s*(.*?)\s*(?:\(@([\w.]+)\))?\s*"
                     r"(?:on\s+(.*))?$", re.I | re.S)


class Instagram(Provider):
    name = "instagram"
    provider_name = "Instagram"
    kind = "social"
    priority = 10
    tags = ("blockquote", "iframe")
    shortcodes = ("instagram", "insta", "instagram_post")
    widget_scripts = (r"instagram\.com/embed\.js", r"platform\.instagram\.com/.*/embeds\.js")

    def from_url(self, url):
        host, path, q = split(url)
        if host not in ("instagram.com", "instagr.am"):
            return None
        m = _POST.match(path)
        if not m:
            return None
        kind, code = m.groups()
        kind = "reel" if kind == "reels" else kind
        return self.make(f"https://www.instagram.com/{kind}/{code}/", extra={"shortcode": code})

    def from_element(self, el):
        if el.tag != "blockquote":
            return super().from_element(el)
        if not has_class(el, "instagram-media"):
            return None
        e = self.from_attr_or_links(el, "data-instgrm-permalink")
        if e is None:
            return None
        labels = ("view this post on instagram", "view this video on instagram")
        for d in el.iter("div", "a"):
            if text_of(d).lower() in labels:
                e.extra["link_label"] = text_of(d)
        for p in el.iter("p"):
            t = text_of(p)
            m = _SHARED.match(t)
            if m:
                e.extra["byline"] = t  # the post's own words: "A post shared by X (@x) on ..."
                e.author = m.group(1).strip() if m.group(1) else ""
                e.handle = m.group(2) or ""
                if m.group(3):
                    e.date = m.group(3).strip()
                for time in p.iter("time"):
                    e.date = text_of(time) or e.date
            elif t.lower() in labels:
                e.extra["link_label"] = t
        # The caption is all other text (in <p>s or loose between the widget's divs and links).
        paras = paragraphs_of(without(el, lambda d: text_of(d).lower() in labels or (
            d.tag == "p" and bool(_SHARED.match(text_of(d))))))
        e.body = safe_body(paras)
        e.text = plain_text(e.body)
        return e

    def from_shortcode(self, name, args: Args):
        for url in args.urls():
            e = self.from_url(url)
            if e is not None:
                return e
        code = args.get("id", "code", "shortcode", "post", pos=0)
        if code and re.match(r"^[\w-]{5,}$", code):
            return self.from_url(f"https://www.instagram.com/p/{code}/")
        return None


PROVIDER = Instagram()
