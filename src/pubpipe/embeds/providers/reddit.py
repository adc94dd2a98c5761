"""Reddit: ``blockquote.reddit-embed-bq`` / ``blockquote.reddit-card`` (title link, author and
subreddit line) and redditmedia/embed.reddit.com iframes."""

from __future__ import annotations

import re

from ..base import Provider, has_class, plain_text, safe_body, split, text_of

_POST = re.compile(r"^/r/\w+/comments/\w+")


class Reddit(Provider):
    name = "reddit"
    provider_name = "Reddit"
    kind = "social"
    priority = 10
    tags = ("blockquote", "iframe")
    widget_scripts = (r"embed\.reddit\.com/widgets\.js", r"embed\.redditmedia\.com/widgets/platform\.js")

    def from_url(self, url):
        host, path, q = split(url)
        if not re.match(r"^((old|new|embed)\.)?reddit(media)?\.com$", host):
            return None
        m = _POST.match(path)
        if not m:
            return None
        parts = path.strip("/").split("/")[:5]  # r/sub/comments/id/slug
        return self.make("https://www.reddit.com/" + "/".join(parts) + "/")

    def from_element(self, el):
        if el.tag != "blockquote":
            return super().from_element(el)
        if not (has_class(el, "reddit-embed-bq") or has_class(el, "reddit-card")):
            return None
        e = None
        for a in el.iter("a"):
            e = self.from_url(a.get("href") or "")
            if e is not None:
                e.title = text_of(a)
                break
        if e is None:
            return None
        m = re.search(r"\bby\s+(?:u/)?(\S+)\s+in\s+(r/\S+)", text_of(el))
        if m:
            e.handle, e.extra["byline"] = "", f"by u/{m.group(1)} in {m.group(2)}"
        paras = [p for p in el.iter("p")]
        if paras:
            e.body = safe_body(paras)
            e.text = plain_text(e.body)
        return e


PROVIDER = Reddit()
