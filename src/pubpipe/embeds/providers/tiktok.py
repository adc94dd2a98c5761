"""TikTok: ``blockquote.tiktok-embed`` (cite URL, caption with hashtags, sound line) and links."""

from __future__ import annotations

import re

from ..base import Provider, has_class, paragraphs_of, plain_text, safe_body, split, text_of


class TikTok(Provider):
    name = "tiktok"
    provider_name = "TikTok"
    kind = "social"
    priority = 10
    oembed = "https://www.tiktok.com/oembed?url={url}"
    tags = ("blockquote", "iframe")
    shortcodes = ("tiktok",)
    widget_scripts = (r"tiktok\.com/embed\.js",)

    def from_url(self, url):
        host, path, q = split(url)
        if host != "tiktok.com":
            return None
        m = re.match(r"^/(@[\w.]+)/video/(\d+)", path)
        if m:
            return self.make(f"https://www.tiktok.com/{m.group(1)}/video/{m.group(2)}",
                             handle=m.group(1)[1:], kind="video")
        m = re.match(r"^/embed/(?:v2/)?(\d+)", path)
        if m:
            return self.make(f"https://www.tiktok.com/video/{m.group(1)}", kind="video")
        return None

    def from_element(self, el):
        if el.tag != "blockquote":
            return super().from_element(el)
        if not has_class(el, "tiktok-embed"):
            return None
        e = self.from_url(el.get("cite") or "")
        if e is None and el.get("data-video-id", "").isdigit():
            e = self.make(f"https://www.tiktok.com/video/{el.get('data-video-id')}")
        if e is None:
            return None
        e.kind = "social"
        root = el.find("section")
        root = root if root is not None else el
        # The caption is loose text between the links (the official code has no <p>): take the
        # section's whole content, less the leading @handle link (the byline shows it) and the
        # sound link (moved to a line of its own at the end).
        handle = sound = None
        for c in root:
            if c.tag == "a" and text_of(c).startswith("@") and handle is None and sound is None \
                    and not (root.text or "").strip() and c is root[0]:
                handle = c
                e.handle = e.handle or text_of(c)[1:]
            elif c.tag == "a" and text_of(c).startswith("\u266c") and sound is None:
                sound = c
        blocks = paragraphs_of(root, skip=[x for x in (handle, sound) if x is not None])
        if sound is not None:
            blocks.append(sound)
            e.extra["sound"] = text_of(sound)
        e.body = safe_body(blocks)
        e.text = plain_text(e.body)
        return e


PROVIDER = TikTok()
