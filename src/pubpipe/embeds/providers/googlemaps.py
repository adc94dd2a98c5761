"""Google Maps iframes (``/maps/embed?pb=``, ``/maps/embed/v1/...``, ``maps?...&output=embed``):
place name and coordinates are read from the URL; API keys never reach the book."""

from __future__ import annotations

import re
from urllib.parse import quote, unquote_plus

from ..base import Provider, split, strip_query


class GoogleMaps(Provider):
    name = "googlemaps"
    provider_name = "Google Maps"
    kind = "map"
    priority = 10
    shortcodes = ("googlemaps", "gmaps", "google_map", "google_maps")

    def from_url(self, url):
        host, path, q = split(url)
        if not (host in ("google.com", "maps.google.com") or re.match(r"^(maps\.)?google\.[a-z.]+$", host)):
            return None
        if not (path.startswith("/maps") or host.startswith("maps.")):
            return None
        place = q.get("q") or ""
        pb = q.get("pb", "")
        lat = lng = ""
        if pb:
            m = re.search(r"!2d(-?[\d.]+)!3d(-?[\d.]+)", pb)
            if m:
                lng, lat = m.groups()
            names = [unquote_plus(n) for n in re.findall(r"!2s([^!]+)", pb)]
            names = [n for n in names if not re.match(r"^[a-z]{2}(-[A-Z]{2})?$", n)]  # language codes
            if names and not place:
                place = names[0]
        if q.get("center") and not (lat and lng):
            lat, _, lng = q["center"].partition(",")
        query = place or (f"{lat},{lng}" if lat and lng else "")
        if query:
            canonical = f"https://www.google.com/maps/search/?api=1&query={quote(query)}"
        else:
            canonical = strip_query(url, keep=("pb", "ll", "z", "t"))
        e = self.make(canonical, title=place)
        embed_url = strip_query(url, keep=("pb", "q", "ll", "z", "t", "center", "zoom", "output"))
        if embed_url != canonical and "key=" not in embed_url:
            e.extra["alternates"] = [embed_url]
            e.extra["alternates_label"] = "As embedded"
            e.extra["alternate_names"] = {embed_url: "the map in the post"}
        if lat and lng:
            e.extra["coordinates"] = (lat, lng)
        return e


PROVIDER = GoogleMaps()
