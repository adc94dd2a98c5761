"""``<object>``/``<embed>`` nobody else recognized (Flash, PDF, SVG...): the data URL, its type and
the fallback content the author nested inside."""

from __future__ import annotations

import re

from ..base import (Provider, element_url, fallback_content, fill_from_element, plain_text,
                    safe_body, split)


class Plugin(Provider):
    name = "plugin"
    provider_name = "Embedded object"
    kind = "plugin"
    priority = 95
    tags = ("object", "embed")

    def from_element(self, el):
        url = element_url(el)
        mime = (el.get("type") or "").lower()
        host = split(url)[0]
        e = self.make(url, provider_name=host or "Embedded object")
        fill_from_element(e, el)
        if mime.startswith("image/") or re.search(r"\.(svg|png|jpe?g|gif|webp)$", url, re.I):
            e.thumbnail = url  # an image in an <object>: show it when it can be had
            e.extra["label"] = "Image"
        elif "flash" in mime or url.lower().split("?")[0].endswith(".swf"):
            e.extra["label"] = "Flash content (no longer playable)"
        elif "pdf" in mime or url.lower().split("?")[0].endswith(".pdf"):
            e.extra["label"] = "PDF document"
        else:
            e.extra["label"] = "Embedded object"
        if host:
            e.extra["host"] = host
        holder = fallback_content(el, skip=("param", "embed"))
        e.body = safe_body([holder])
        e.text = plain_text(e.body)
        return e


PROVIDER = Plugin()
