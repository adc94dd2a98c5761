"""YouTube: iframes (youtube.com, youtube-nocookie.com, protocol-relative), watch/youtu.be/shorts
links, old ``<object>``/``<embed>`` players, start times, playlists, Hugo/Liquid shortcodes."""

from __future__ import annotations

import re

from ..base import Args, Provider, split

_ID = re.compile(r"^[A-Za-z0-9_-]{11}$")
_HOSTS = ("youtube.com", "youtube-nocookie.com", "youtu.be", "youtube.googleapis.com",
          "music.youtube.com")


def _seconds(t: str) -> int:
    """'90', '90s', '1m30s', '1h2m3s' -> seconds (0 when unreadable)."""
    t = (t or "").strip()
    if t.isdigit():
        return int(t)
    m = re.fullmatch(r"(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?", t)
    if not m or not any(m.groups()):
        return 0
    h, mi, s = (int(x or 0) for x in m.groups())
    return h * 3600 + mi * 60 + s


class YouTube(Provider):
    name = "youtube"
    provider_name = "YouTube"
    kind = "video"
    priority = 10
    oembed = "https://www.youtube.com/oembed?format=json&url={url}"
    tags = ("iframe", "embed", "object", "lite-youtube")
    shortcodes = ("youtube", "yt", "youtube_video", "youtubeplayer", "youtube-embed")
    bare_links = True
    widget_scripts = (r"youtube\.com/iframe_api", r"youtube\.com/player_api",)

    def from_url(self, url):
        host, path, q = split(url)
        if host not in _HOSTS:
            return None
        frag = url.split("#", 1)[1] if "#" in url else ""
        vid = ""
        if host == "youtu.be":
            vid = path.strip("/").split("/")[0]
        elif q.get("v"):
            vid = q["v"]
        else:
            m = re.match(r"^/(?:embed|v|e|shorts|live)/([A-Za-z0-9_-]{11})(?:[/?&]|$)", path)
            if m:
                vid = m.group(1)
        if vid == "videoseries" or not _ID.match(vid or ""):  # "videoseries": an 11-letter word
            lst = q.get("list")
            if lst and re.match(r"^[\w-]+$", lst):
                return self.make(f"https://www.youtube.com/playlist?list={lst}",
                                 extra={"playlist": lst, "label": "YouTube playlist"})
            return None
        start = _seconds(q.get("start") or q.get("t") or re.sub(r"^t=", "", frag))
        canonical = f"https://www.youtube.com/watch?v={vid}" + (f"&t={start}s" if start else "")
        return self.make(canonical, thumbnail=f"https://i.ytimg.com/vi/{vid}/hqdefault.jpg",
                         extra={"video_id": vid, "start": start})

    def from_element(self, el):
        if el.tag == "lite-youtube":  # the lite-youtube-embed web component
            vid = el.get("videoid") or ""
            e = self.from_url(f"https://youtu.be/{vid}") if _ID.match(vid) else None
            if e is not None:
                params = el.get("params") or ""
                m = re.search(r"(?:^|&)start=(\d+)", params)
                if m:
                    e.extra["start"] = int(m.group(1))
                    e.url += f"&t={m.group(1)}s"
                e.title = el.get("videotitle") or el.get("playlabel") or ""
                if e.title.lower().startswith("play"):
                    e.title = ""
            return e
        return super().from_element(el)

    def from_shortcode(self, name, args: Args):
        v = args.get("id", "video", "video_id", "videoid", "youtube_id", "youtubeid", "vid", "src",
                     "url", pos=0)
        if not v:
            return None
        e = self.from_url(v if "/" in v else f"https://youtu.be/{v}")
        if e is None:
            return None
        start = _seconds(args.get("start", "t"))
        if start and not e.extra.get("start"):
            e.extra["start"] = start
            e.url += f"&t={start}s"
        e.title = args.get("title", "caption")
        return e


PROVIDER = YouTube()
