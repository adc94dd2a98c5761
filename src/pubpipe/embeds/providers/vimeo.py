"""Vimeo: player.vimeo.com iframes, vimeo.com links (bare links too) and shortcodes."""

from __future__ import annotations

import re

from ..base import Args, Provider, split


class Vimeo(Provider):
    name = "vimeo"
    provider_name = "Vimeo"
    kind = "video"
    priority = 10
    shortcodes = ("vimeo", "vimeo_video", "vimeoplayer")
    bare_links = True
    widget_scripts = (r"player\.vimeo\.com/api/player\.js",)

    def from_url(self, url):
        host, path, q = split(url)
        if host not in ("vimeo.com", "player.vimeo.com"):
            return None
        m = re.search(r"(?:^|/)(?:video/|videos/)?(\d{5,})(?:/([0-9a-f]{6,}))?(?:/|$)", path)
        if not m:
            return None
        vid, hash_ = m.group(1), m.group(2) or q.get("h", "")
        canonical = f"https://vimeo.com/{vid}" + (f"/{hash_}" if hash_ else "")
        return self.make(canonical, extra={"video_id": vid})

    def from_shortcode(self, name, args: Args):
        v = args.get("id", "video", "video_id", "vimeo_id", "src", "url", pos=0)
        if not v:
            return None
        e = self.from_url(v if "/" in v else f"https://vimeo.com/{v}")
        if e is not None:
            e.title = args.get("title", "caption")
        return e


PROVIDER = Vimeo()
