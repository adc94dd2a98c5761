"""LinkedIn post iframes (``/embed/feed/update/urn:li:share:ID``)."""

from __future__ import annotations

import re

from ..base import Provider, split


class LinkedIn(Provider):
    name = "linkedin"
    provider_name = "LinkedIn"
    kind = "social"
    priority = 10

    def from_url(self, url):
        host, path, q = split(url)
        if host != "linkedin.com":
            return None
        m = re.match(r"^/embed/feed/update/(urn:li:\w+:\d+)", path)
        if m:
            return self.make(f"https://www.linkedin.com/feed/update/{m.group(1)}/")
        return None


PROVIDER = LinkedIn()
