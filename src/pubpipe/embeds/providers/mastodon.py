"""Mastodon (any instance): ``/@user/ID/embed`` iframes and ``blockquote.mastodon-embed``."""

from __future__ import annotations

import re

from ..base import (Provider, has_class, paragraphs_of, plain_text, safe_body, split, text_of,
                    without)

_STATUS = re.compile(r"^/(?:@([\w.]+)(?:@[\w.-]+)?|users/([\w.]+)/statuses)/(\d+)(/embed)?/?$")
_SKIP = re.compile(r"^(view on mastodon|post by @\S+)$", re.I)


class Mastodon(Provider):
    name = "mastodon"
    provider_name = "Mastodon"
    kind = "social"
    priority = 20
    oembed = "{origin}/api/oembed?url={url}"
    tags = ("blockquote", "iframe")
    shortcodes = ("mastodon", "toot")
    widget_scripts = (r"^https?://[^/]+/embed\.js(\?|$)",)

    def from_url(self, url, need_embed: bool = False):
        host, path, q = split(url)
        m = _STATUS.match(path) if host else None
        if not m or (need_embed and not m.group(4)):
            return None
        user = m.group(1) or m.group(2)
        sid = m.group(3)
        return self.make(f"https://{host}/@{user}/{sid}", handle=f"{user}@{host}",
                         extra={"status_id": sid})

    def from_element(self, el):
        if el.tag == "iframe":
            # Only /embed iframes: a plain /@user/123 path on an unknown host could be anything.
            return self.from_url(el.get("src") or "", need_embed=True)
        if el.tag != "blockquote" or not has_class(el, "mastodon-embed"):
            return None
        e = self.from_attr_or_links(el, "data-embed-url")
        if e is None:
            return None
        for c in el.iter("p", "div", "a"):
            t = text_of(c)
            m = re.match(r"^Post by @(\S+)$", t, re.I)
            if m:
                e.handle = m.group(1)
                e.extra["byline"] = t  # the post's own words
            if t.lower() == "view on mastodon":
                e.extra["link_label"] = t
        # Everything else the blockquote shows is the post (loose text and links included).
        blocks = paragraphs_of(without(el, lambda d: bool(_SKIP.match(text_of(d)))))
        e.body = safe_body(blocks)
        e.text = plain_text(e.body)
        return e


PROVIDER = Mastodon()
