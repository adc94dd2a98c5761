"""Vimeo: player.vimeo.com iframes, vimeo.com links (bare links too) and shortcodes."""

from __future__ import annotations

import re

from ..base import Args, Provider, split, text_of


class Vimeo(Provider):
    name = "vimeo"
    provider_name = "Vimeo"
    kind = "video"
    priority = 10
    oembed = "https://vimeo.com/api/oembed.json?url={url}"
    tags = ("iframe", "embed", "object", "lite-vimeo")
    shortcodes = ("vimeo", "vimeo_video", "vimeoplayer")
    bare_links = True
    widget_scripts = (r"player\.vimeo\.com/api/player\.js",)

    def from_url(self, url):
        host, path, q = split(url)
        if host not in ("vimeo.com", "player.vimeo.com"):
            return None
        if re.match(r"^/(showcase|album|event)/\d+", path):  # collections keep their own address
            return self.make(f"https://vimeo.com{path.split('/embed')[0]}")
        m = re.search(r"(?:^|/)(?:video/|videos/)?(\d{5,})(?:/([0-9a-f]{6,}))?(?:/|$)", path)
        if not m:
            return None
        vid, hash_ = m.group(1), m.group(2) or q.get("h", "")
        canonical = f"https://vimeo.com/{vid}" + (f"/{hash_}" if hash_ else "")
        return self.make(canonical, extra={"video_id": vid})

    def from_element(self, el):
        if el.tag == "lite-vimeo":
            vid = el.get("videoid") or ""
            return self.from_url(f"https://vimeo.com/{vid}") if vid.isdigit() else None
        e = super().from_element(el)
        if e is None:
            return None
        # Vimeo's embed code adds "<p><a>Title</a> from <a>Author</a> on <a>Vimeo</a>.</p>":
        # the card shows title and author, so that line is taken in.
        nxt = el.getnext()
        if nxt is None and el.getparent() is not None and el.getparent().tag == "p" \
                and len(el.getparent()) == 1:
            nxt = el.getparent().getnext()
        if nxt is not None and nxt.tag == "p" and not (el.tail or "").strip():
            links = list(nxt.iter("a"))
            text = text_of(nxt)
            if links and self.from_url(links[0].get("href") or "") is not None \
                    and re.search(r"\bon Vimeo\.?$", text) and len(text) < 300:
                e.title = e.title or text_of(links[0])
                if len(links) >= 2:
                    e.author = text_of(links[1])
                    # the line's own words: "from Author on Vimeo"
                    rest = text[len(text_of(links[0])):].strip().rstrip(".")
                    if rest.startswith("from "):
                        e.extra["byline"] = rest
                e.extra["consume"] = [nxt]
        return e

    def from_shortcode(self, name, args: Args):
        v = args.get("id", "video", "video_id", "vimeo_id", "src", "url", pos=0)
        if not v:
            return None
        e = self.from_url(v if "/" in v else f"https://vimeo.com/{v}")
        if e is not None:
            e.title = args.get("title", "caption")
        return e


PROVIDER = Vimeo()
