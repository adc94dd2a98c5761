"""Threads: ``blockquote.text-post-media`` (data-text-post-permalink) and threads.net links."""

from __future__ import annotations

import re

from ..base import (Provider, has_class, paragraphs_of, plain_text, safe_body, split, strip_query,
                    text_of, without)

_SKIP = re.compile(r"^(view on threads|post by @\S+)$", re.I)


class Threads(Provider):
    name = "threads"
    provider_name = "Threads"
    kind = "social"
    priority = 10
    tags = ("blockquote",)
    widget_scripts = (r"threads\.net/embed\.js",)

    def from_url(self, url):
        host, path, q = split(url)
        if host not in ("threads.net", "threads.com") or not re.match(r"^/@[\w.]+/post/\w+", path):
            return None
        return self.make(strip_query(url), handle=path.split("/")[1][1:])

    def from_element(self, el):
        if not has_class(el, "text-post-media"):
            return None
        e = self.from_attr_or_links(el, "data-text-post-permalink")
        if e is None:
            return None
        for c in el.iter():
            t = text_of(c) if isinstance(c.tag, str) else ""
            if re.match(r"^Post by @\S+$", t, re.I):
                e.extra["byline"] = t  # the widget's own words
            elif t.lower() == "view on threads":
                e.extra["link_label"] = t
        # Any other text the blockquote shows is the post itself: kept whole, however long.
        body = safe_body(paragraphs_of(without(el, lambda d: bool(_SKIP.match(text_of(d))))))
        if body is not None:
            e.body = body
            e.text = plain_text(body)
        return e


PROVIDER = Threads()
