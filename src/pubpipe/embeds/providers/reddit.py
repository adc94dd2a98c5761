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
        e, title = None, None
        for a in el.iter("a"):
            e = self.from_url(a.get("href") or "")
            if e is not None:
                e.title, title = text_of(a), a
                break
        if e is None:
            return None
        # The rest is "by u/someone in sub" (new code: "by<a>u/x</a> in<a>sub</a>", no spaces) or
        # "from r/sub" (reddit-card): kept as the byline, an element edge read as a space.
        pieces = [el.text or ""]
        for c in el:
            if isinstance(c.tag, str) and c is not title and c.tag != "p":
                pieces.append(text_of(c))
            pieces.append(c.tail or "")
        rest = " ".join(" ".join(pieces).split())
        if rest:
            e.handle, e.extra["byline"] = "", rest
        paras = [p for p in el.iter("p")]
        if paras:
            e.body = safe_body(paras)
            e.text = plain_text(e.body)
        return e


PROVIDER = Reddit()
