"""Bluesky: ``blockquote.bluesky-embed`` (post text, author line, bsky.app post link) and
embed.bsky.app iframes."""

from __future__ import annotations

import re

from ..base import Provider, has_class, plain_text, safe_body, split, strip_query, text_of

_POST = re.compile(r"^/profile/([^/]+)/post/(\w+)")


class Bluesky(Provider):
    name = "bluesky"
    provider_name = "Bluesky"
    kind = "social"
    priority = 10
    tags = ("blockquote", "iframe")
    shortcodes = ("bluesky", "bsky")
    widget_scripts = (r"embed\.bsky\.app/static/embed\.js",)

    def from_url(self, url):
        host, path, q = split(url)
        if host == "embed.bsky.app":
            m = re.match(r"^/embed/([^/]+)/app\.bsky\.feed\.post/(\w+)", path)
            return self.make(f"https://bsky.app/profile/{m.group(1)}/post/{m.group(2)}") if m else None
        if host != "bsky.app" or not _POST.match(path):
            return None
        return self.make(strip_query(url))

    def from_element(self, el):
        if el.tag != "blockquote":
            return super().from_element(el)
        if not has_class(el, "bluesky-embed"):
            return None
        e, status = None, None
        for a in el.iter("a"):
            got = self.from_url(a.get("href") or "")
            if got is not None:
                e, status = got, a
        if e is None:
            m = re.match(r"^at://([^/]+)/app\.bsky\.feed\.post/(\w+)$", el.get("data-bluesky-uri") or "")
            if not m:
                return None
            e = self.make(f"https://bsky.app/profile/{m.group(1)}/post/{m.group(2)}")
        if status is not None:
            e.date = text_of(status)
        paras = [c for c in el if c.tag == "p"]
        outside = " ".join(((el.text or "") + "".join(
            (text_of(c) if c.tag != "p" and c is not status else "") + (c.tail or "")
            for c in el)).split())
        m = re.match(r"^[—–-]*\s*(.*?)\s*\(@?([\w.:-]+)\)", outside)
        if m:
            e.author, e.handle = m.group(1), m.group(2)
        elif outside.strip(" —–-"):  # no "(@handle)": the line as written is the author
            e.author = outside.strip(" —–-")
        e.body = safe_body(paras)
        e.text = plain_text(e.body)
        return e


PROVIDER = Bluesky()
