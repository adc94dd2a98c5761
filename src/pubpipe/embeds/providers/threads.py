"""Threads: ``blockquote.text-post-media`` (data-text-post-permalink) and threads.net links."""

from __future__ import annotations

import re

from ..base import Provider, has_class, split, strip_query, text_of


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
        e = self.from_url(el.get("data-text-post-permalink") or "")
        if e is None:
            for a in el.iter("a"):
                e = self.from_url(a.get("href") or "")
                if e is not None:
                    break
        if e is not None:
            t = text_of(el)
            if t and t.lower() not in ("view on threads",):
                e.extra["link_label"] = t[:120] if len(t) < 120 else "View on Threads"
        return e


PROVIDER = Threads()
