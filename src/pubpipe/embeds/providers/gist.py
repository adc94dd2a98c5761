"""GitHub Gist: ``<script src="https://gist.github.com/user/id.js?file=x">`` is the embed itself;
also gist links/iframes and ``{{< gist user id [file] >}}`` / ``{% gist user/id [file] %}``."""

from __future__ import annotations

import re

from ..base import Args, Provider, absolute, split


class Gist(Provider):
    name = "gist"
    provider_name = "GitHub Gist"
    kind = "code"
    priority = 10
    tags = ("script", "iframe")
    shortcodes = ("gist", "github_gist")

    def from_url(self, url):
        host, path, q = split(url)
        if host != "gist.github.com":
            return None
        m = re.match(r"^/(?:([\w-]+)/)?([0-9a-f]{5,}|\d+)(?:\.js|\.git|/[0-9a-f]{40})?/?$", path)
        if not m:
            return None
        user, gid = m.groups()
        canonical = f"https://gist.github.com/{user + '/' if user else ''}{gid}"
        e = self.make(canonical, handle=user or "", extra={"gist_id": gid})
        if q.get("file"):
            e.title = q["file"]
            e.extra["file"] = q["file"]
        return e

    def from_element(self, el):
        if el.tag == "script":
            src = el.get("src") or ""
            return self.from_url(absolute(src)) if ".js" in src else None
        return super().from_element(el)

    def from_shortcode(self, name, args: Args):
        for url in args.urls():
            e = self.from_url(url)
            if e is not None:
                return e
        pos = list(args.positional)
        user, gid, file = args.get("user", "username"), args.get("id", "gist", "gist_id"), \
            args.get("file", "filename")
        if pos and "/" in pos[0]:  # Liquid: {% gist user/id file %}
            user, gid = pos.pop(0).split("/", 1)
        elif not gid and pos:
            if len(pos) >= 2 and not user and not re.match(r"^[0-9a-f]{5,}$", pos[0]):
                user = pos.pop(0)
            gid = pos.pop(0) if pos else ""
        if not file and pos:
            file = pos.pop(0)
        if not gid:
            return None
        e = self.from_url(f"https://gist.github.com/{user + '/' if user else ''}{gid}")
        if e is not None and file:
            e.title = file
            e.extra["file"] = file
        return e


PROVIDER = Gist()
