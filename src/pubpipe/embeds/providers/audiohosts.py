"""Audio hosts besides SoundCloud and Spotify: Apple Podcasts, Bandcamp (its iframe's fallback link
names album and artist), Mixcloud, Anchor/Podbean-style players fall back to the generic card."""

from __future__ import annotations

import re

from ...htmlmodel import parse_document
from ..base import Provider, fill_from_element, split, text_of


class AudioHosts(Provider):
    name = "audiohost"
    provider_name = "Audio"
    kind = "audio"
    priority = 30

    def from_url(self, url):
        host, path, q = split(url)
        if host == "embed.podcasts.apple.com":
            return self._make("applepodcasts", "Apple Podcasts", f"https://podcasts.apple.com{path}"
                              + (f"?i={q['i']}" if q.get("i") else ""))
        if host == "embed.music.apple.com":
            return self._make("applemusic", "Apple Music", f"https://music.apple.com{path}")
        if host == "mixcloud.com" and path.startswith("/widget/iframe") and q.get("feed"):
            feed = q["feed"]
            feed = feed if feed.startswith("http") else f"https://www.mixcloud.com{feed}"
            return self._make("mixcloud", "Mixcloud", feed)
        if host == "bandcamp.com" and path.startswith("/EmbeddedPlayer"):
            return self._make("bandcamp", "Bandcamp", url)
        return None

    def _make(self, name, pname, url):
        e = self.make(url, provider_name=pname)
        e.provider = name
        return e

    def from_element(self, el):
        e = super().from_element(el)
        if e is None or e.provider != "bandcamp":
            return e
        # Bandcamp puts "<a href=album page>Album by Artist</a>" inside the iframe as fallback.
        raw = el.text or ""
        if "<a" in raw:
            for a in parse_document(raw).iter("a"):
                href = a.get("href") or ""
                if re.match(r"^https?://[\w-]+\.bandcamp\.com/", href):
                    e.url = href
                    e.title = text_of(a)
                    if e.text == e.title:  # the fallback link is the title: not twice on the card
                        e.body, e.text = None, ""
                    break
        fill_from_element(e, el)
        return e


PROVIDER = AudioHosts()
