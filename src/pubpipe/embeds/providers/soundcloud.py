"""SoundCloud: w.soundcloud.com player iframes (the track URL is in ``?url=``) and the attribution
line the embed code puts after them (artist · track), which gives title, artist and a readable URL."""

from __future__ import annotations

from ..base import Provider, split, text_of


class SoundCloud(Provider):
    name = "soundcloud"
    provider_name = "SoundCloud"
    kind = "audio"
    priority = 10
    oembed = "https://soundcloud.com/oembed?format=json&url={url}"
    shortcodes = ("soundcloud",)
    widget_scripts = (r"w\.soundcloud\.com/player/api\.js",)

    def from_url(self, url):
        host, path, q = split(url)
        if host == "w.soundcloud.com" and q.get("url"):
            return self.from_url(q["url"])
        if host in ("soundcloud.com", "api.soundcloud.com", "on.soundcloud.com") and path.strip("/"):
            clean = f"https://{'api.' if host == 'api.soundcloud.com' else ''}soundcloud.com{path}"
            return self.make(clean.rstrip("/"))
        return None

    def from_element(self, el):
        e = super().from_element(el)
        if e is None:
            return None
        nxt = el.getnext()
        if nxt is not None and nxt.tag == "div" and not (el.tail or "").strip():
            links = [a for a in nxt.iter("a") if split(a.get("href") or "")[0] == "soundcloud.com"]
            if 1 <= len(links) <= 3 and len(text_of(nxt)) < 300:
                if len(links) >= 2:
                    e.author, e.title = text_of(links[0]), text_of(links[-1])
                    e.url = links[-1].get("href").split("?")[0]
                else:
                    e.title = text_of(links[0])
                e.extra["consume"] = [nxt]  # shown on the card instead
        return e


PROVIDER = SoundCloud()
