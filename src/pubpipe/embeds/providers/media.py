"""HTML5 ``<video>``/``<audio>`` (and stray ``<source>``): the file URL, the poster, the title and
the fallback text the author wrote for browsers that cannot play it; also links to media files."""

from __future__ import annotations

import re

from ..base import (Args, Provider, absolute, fallback_content, fill_from_element, plain_text,
                    safe_body, split)

_VIDEO = re.compile(r"\.(mp4|m4v|webm|ogv|mov|mkv|avi|m3u8|mpd)$", re.I)
_AUDIO = re.compile(r"\.(mp3|m4a|aac|oga|ogg|opus|wav|flac|weba)$", re.I)


class Media(Provider):
    name = "media"
    provider_name = "Video"
    kind = "video"
    priority = 80
    tags = ("video", "audio", "source")
    shortcodes = ("video", "audio")

    def from_url(self, url):
        path = re.sub(r"[?#].*$", "", url or "")
        if _VIDEO.search(path):
            return self._make("video", url)
        if _AUDIO.search(path):
            return self._make("audio", url)
        return None

    def _make(self, kind: str, url: str):
        host = split(url)[0]
        e = self.make(url, kind=kind, provider_name="Video" if kind == "video" else "Audio",
                      extra={"label": "Video" if kind == "video" else "Audio recording"})
        e.provider = kind
        if host:
            e.extra["host"] = host
        return e

    def from_element(self, el):
        tag = el.tag
        if tag == "source":
            parent = el.getparent()
            if parent is not None and parent.tag in ("video", "audio", "picture"):
                return None
            tag = "audio" if _AUDIO.search(el.get("src") or "") or \
                (el.get("type") or "").startswith("audio") else "video"
        url = absolute(el.get("src") or "")
        srcs = [absolute(s.get("src")) for s in el.iter("source") if s.get("src")]
        if not url:  # the first source, preferring MP4/MP3 (what most readers can open)
            common = [u for u in srcs if re.search(r"\.(mp4|mp3)([?#]|$)", u, re.I)]
            url = (common or srcs or [""])[0]
        e = self._make(tag, url)
        others = [u for u in dict.fromkeys(srcs) if u != url]
        if others:
            e.extra["alternates"] = others
            e.extra["alternates_label"] = "Other formats"
        fill_from_element(e, el)
        if not e.title:
            e.title = " ".join((el.get("aria-label") or "").split())
        if el.get("poster"):
            e.thumbnail = absolute(el.get("poster"))
        # Fallback content is the author's own words for readers who cannot play the file.
        holder = fallback_content(el, skip=("source", "track"))
        e.body = safe_body([holder])
        e.text = plain_text(e.body)
        tracks = [t.get("label") or t.get("srclang") for t in el.iter("track")]
        if any(tracks):
            e.extra["tracks"] = [t for t in tracks if t]
        if not url:
            e.extra["label"] = e.extra["label"] + " (no file given)"
        return e

    def from_shortcode(self, name, args: Args):
        url = args.get("src", "url", "file", pos=0)
        if not url:
            return None
        e = self.from_url(absolute(url)) or self._make("audio" if name == "audio" else "video",
                                                       absolute(url))
        e.title = args.get("title", "caption")
        if args.get("poster"):
            e.thumbnail = absolute(args.get("poster"))
        return e


PROVIDER = Media()
