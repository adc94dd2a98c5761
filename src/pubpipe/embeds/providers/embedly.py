"""Embedly/Medium wrapper iframes (``cdn.embedly.com/widgets/media.html?src=…&url=…``): unwrapped
and handed to the provider of the URL inside."""

from __future__ import annotations

from ..base import Provider, split


class Embedly(Provider):
    name = "embedly"
    provider_name = "Embedly"
    priority = 5  # before everything: the real provider is inside

    def from_url(self, url):
        host, path, q = split(url)
        if host not in ("cdn.embedly.com", "embed.ly", "cdn.iframe.ly", "iframe.ly"):
            return None
        from ..detect import resolve_url

        for key in ("url", "src"):
            inner = q.get(key, "")
            if inner.startswith(("http://", "https://", "//")):
                e = resolve_url(inner)
                if e is not None and e.provider != "embedly":
                    return e
        return None


PROVIDER = Embedly()
