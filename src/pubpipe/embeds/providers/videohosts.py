"""Video hosts whose embed URL maps to a page URL by a rule: Dailymotion, Twitch, Loom, TED,
Wistia, Streamable. (YouTube and Vimeo have their own modules.)"""

from __future__ import annotations

import re

from ..base import Provider, split

_NAMES = {"dailymotion": "Dailymotion", "twitch": "Twitch", "loom": "Loom", "ted": "TED",
          "wistia": "Wistia", "streamable": "Streamable"}


class VideoHosts(Provider):
    name = "videohost"
    provider_name = "Video"
    kind = "video"
    priority = 30

    def from_url(self, url):
        host, path, q = split(url)
        site, canonical = self._canonical(host, path, q)
        if not canonical:
            return None
        e = self.make(canonical, provider_name=_NAMES[site])
        e.provider = site
        return e

    @staticmethod
    def _canonical(host, path, q):
        m = re.match(r"^/embed/video/(\w+)", path)
        if host in ("dailymotion.com", "geo.dailymotion.com"):
            if m:
                return "dailymotion", f"https://www.dailymotion.com/video/{m.group(1)}"
            if q.get("video"):
                return "dailymotion", f"https://www.dailymotion.com/video/{q['video']}"
        if host == "dai.ly" and path.strip("/"):
            return "dailymotion", f"https://www.dailymotion.com/video/{path.strip('/')}"
        if host == "player.twitch.tv":
            if q.get("video"):
                return "twitch", f"https://www.twitch.tv/videos/{q['video'].lstrip('v')}"
            if q.get("channel"):
                return "twitch", f"https://www.twitch.tv/{q['channel']}"
            if q.get("collection"):
                return "twitch", f"https://www.twitch.tv/collections/{q['collection']}"
        if host == "clips.twitch.tv" and q.get("clip"):
            return "twitch", f"https://clips.twitch.tv/{q['clip']}"
        if host == "loom.com":
            m = re.match(r"^/(?:embed|share)/(\w+)", path)
            if m:
                return "loom", f"https://www.loom.com/share/{m.group(1)}"
        if host in ("embed.ted.com", "ted.com"):
            m = re.match(r"^/talks/([\w-]+)", path)
            if m:
                return "ted", f"https://www.ted.com/talks/{m.group(1)}"
        if host in ("fast.wistia.net", "fast.wistia.com"):
            m = re.match(r"^/embed/(?:iframe|medias)/(\w+)", path)
            if m:
                return "wistia", f"https://fast.wistia.net/embed/iframe/{m.group(1)}"
        if host == "streamable.com":
            m = re.match(r"^/(?:[eos]/)?(\w+)", path)
            if m:
                return "streamable", f"https://streamable.com/{m.group(1)}"
        return "", ""


PROVIDER = VideoHosts()
