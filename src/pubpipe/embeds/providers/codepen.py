"""CodePen: ``p.codepen``/``div.codepen`` with data-slug-hash and data-user (ei.js embeds) and
codepen.io/user/embed iframes."""

from __future__ import annotations

import re

from ..base import Provider, has_class, plain_text, safe_body, split


class CodePen(Provider):
    name = "codepen"
    provider_name = "CodePen"
    kind = "code"
    priority = 10
    oembed = "https://codepen.io/api/oembed?format=json&url={url}"
    tags = ("p", "div", "iframe")
    shortcodes = ("codepen",)
    widget_scripts = (r"codepen\.io/assets/embed/ei\.js", r"codepen\.io/.*embed.*\.js")

    def from_url(self, url):
        host, path, q = split(url)
        if host != "codepen.io":
            return None
        m = re.match(r"^/([\w-]+)/(?:pen|embed|full|details|details/full)/(?:preview/)?([\w]+)", path)
        if not m:
            return None
        user, slug = m.groups()
        return self.make(f"https://codepen.io/{user}/pen/{slug}", handle=user)

    def from_element(self, el):
        if el.tag == "iframe":
            e = super().from_element(el)
            m = re.search(r"\bby (.+?) \(@", e.text) if e is not None else None
            if m:  # the official iframe code's fallback: "See the Pen X by Y (@y) on CodePen."
                e.author = m.group(1)
            return e
        if not has_class(el, "codepen"):
            return None
        slug, user = el.get("data-slug-hash"), el.get("data-user")
        if not slug:
            return None
        e = self.make(f"https://codepen.io/{user or 'anon'}/pen/{slug}", handle=user or "")
        e.title = el.get("data-pen-title") or ""
        # "See the Pen X by Y (@y) on CodePen." is what readers of the post saw: keep it.
        e.body = safe_body([el])
        e.text = plain_text(e.body)
        if e.text:
            m = re.search(r"\bby (.+?) \(@", e.text)
            if m:
                e.author = m.group(1)
        return e


PROVIDER = CodePen()
