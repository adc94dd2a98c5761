"""Spotify: open.spotify.com/embed/{episode,track,album,playlist,show,artist}/ID iframes (also
embed-podcast and spotify: URIs), linked as open.spotify.com/TYPE/ID."""

from __future__ import annotations

import re

from ..base import Provider, split

_TYPES = ("episode", "track", "album", "playlist", "show", "artist")


class Spotify(Provider):
    name = "spotify"
    provider_name = "Spotify"
    kind = "audio"
    priority = 10
    oembed = "https://open.spotify.com/oembed?url={url}"
    shortcodes = ("spotify",)

    def from_url(self, url):
        m = re.match(r"^spotify:(\w+):(\w+)$", url)
        if m:
            typ, sid = m.groups()
        else:
            host, path, q = split(url)
            if host == "embed.spotify.com" and q.get("uri"):
                return self.from_url(q["uri"])
            if host != "open.spotify.com":
                return None
            m = re.match(r"^/(?:embed(?:-podcast)?/)?(?:intl-[\w-]+/)?(\w+)/(\w+)", path)
            if not m:
                return None
            typ, sid = m.groups()
        if typ not in _TYPES:
            return None
        return self.make(f"https://open.spotify.com/{typ}/{sid}",
                         extra={"label": f"Spotify {'podcast' if typ == 'show' else typ}"})


PROVIDER = Spotify()
