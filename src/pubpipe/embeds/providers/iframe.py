"""Any other iframe: a generic card with the host and the URL, so no embed is silently lost.
``srcdoc`` iframes keep their text."""

from __future__ import annotations

from ...htmlmodel import parse_body
from ..base import Provider, absolute, fill_from_element, plain_text, safe_body, split, text_of


class Iframe(Provider):
    name = "iframe"
    provider_name = "Embedded page"
    kind = "page"
    priority = 99
    tags = ("iframe",)

    def from_url(self, url):
        host = split(url)[0]
        if not host:
            return None
        e = self.make(absolute(url), provider_name=_site(host),
                      extra={"label": f"Embedded content from {_site(host)}", "host": host})
        return e

    def from_element(self, el):
        url = absolute(el.get("src") or el.get("data-src") or "")
        e = self.from_url(url) if url else None
        if e is None:
            e = self.make(url, extra={"label": "Embedded content"})
        fill_from_element(e, el)
        if el.get("srcdoc"):
            body = parse_body(el.get("srcdoc"))
            if body is not None:
                e.body = safe_body([body])
                e.text = plain_text(e.body)
        # html5lib keeps an iframe's fallback markup as raw text; plain words count as much as links
        raw = el.text or ""
        if raw.strip() and e.body is None:
            body = parse_body(raw)
            if body is not None and text_of(body):
                e.body = safe_body([body])
                e.text = plain_text(e.body)
        if not e.url and not e.text and not e.title:
            e.extra["label"] = "Embedded content (no address given)"
        return e


def _site(host: str) -> str:
    return host[4:] if host.startswith("www.") else host


PROVIDER = Iframe()
