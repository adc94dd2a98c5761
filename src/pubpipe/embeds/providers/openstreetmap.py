"""OpenStreetMap export iframes (``/export/embed.html?bbox=...&marker=lat,lon``)."""

from __future__ import annotations

from ..base import Provider, split


class OpenStreetMap(Provider):
    name = "openstreetmap"
    provider_name = "OpenStreetMap"
    kind = "map"
    priority = 10

    def from_url(self, url):
        host, path, q = split(url)
        if host != "openstreetmap.org" or "embed" not in path:
            return None
        if q.get("marker"):
            lat, _, lon = q["marker"].partition(",")
            canonical = f"https://www.openstreetmap.org/?mlat={lat}&mlon={lon}#map=15/{lat}/{lon}"
        elif q.get("bbox"):
            try:
                w, s, e_, n = (float(x) for x in q["bbox"].split(","))
                lat, lon = (s + n) / 2, (w + e_) / 2
                canonical = f"https://www.openstreetmap.org/#map=14/{lat:.5f}/{lon:.5f}"
            except ValueError:
                canonical = "https://www.openstreetmap.org/"
        else:
            canonical = "https://www.openstreetmap.org/"
        return self.make(canonical)


PROVIDER = OpenStreetMap()
