"""Facebook: ``div.fb-post``/``div.fb-video`` (with the quoted post text the SDK code carries) and
facebook.com/plugins/{post,video}.php iframes; the SDK script is dropped."""

from __future__ import annotations

from ..base import Provider, has_class, plain_text, safe_body, split, strip_query, text_of


class Facebook(Provider):
    name = "facebook"
    provider_name = "Facebook"
    kind = "social"
    priority = 20
    tags = ("div", "iframe")
    widget_scripts = (r"connect\.facebook\.net/.*/sdk\.js",)

    def from_url(self, url):
        host, path, q = split(url)
        if host not in ("facebook.com", "web.facebook.com"):
            return None
        if path.startswith("/plugins/") and q.get("href"):
            e = self.from_url(q["href"])
            if e is not None and "video" in path:
                e.kind = "video"
            return e
        if path.startswith("/plugins/") or path in ("", "/"):
            return None
        return self.make(strip_query(url, keep=("story_fbid", "id", "v")))

    def from_element(self, el):
        if el.tag == "iframe":
            return super().from_element(el)
        if not (has_class(el, "fb-post") or has_class(el, "fb-video")):
            return None
        e = self.from_url(el.get("data-href") or "")
        if e is None:
            return None
        if has_class(el, "fb-video"):
            e.kind = "video"
        quotes = list(el.iter("blockquote"))
        if quotes:
            q = quotes[0]
            # fb-video code opens with "<a>Video title</a>" before the description: the title.
            first = q[0] if len(q) else None
            title = first if first is not None and first.tag == "a" and \
                not (q.text or "").strip() and text_of(first) else None
            if title is not None:
                e.title = text_of(title)
            paras = [p for p in q.iter("p")] or [q]
            e.body = safe_body(paras)
            e.text = plain_text(e.body)
            # Pieces joined by spaces: an element edge is a word boundary ("...</a>Posted by").
            pieces = [q.text or ""]
            for c in q:
                if c.tag != "p" and c is not title:
                    pieces.append(text_of(c))
                pieces.append(c.tail or "")
            rest = " ".join(" ".join(pieces).split()) if paras != [q] else ""
            if rest:
                e.extra["byline"] = rest  # "Posted by Name on Monday, 1 May 2017"
        return e


PROVIDER = Facebook()
