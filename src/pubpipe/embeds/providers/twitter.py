"""X (Twitter): ``blockquote.twitter-tweet`` (with or without widgets.js, twitter.com or x.com),
status links, platform.twitter.com iframes and tweet shortcodes. The post's full text, links and
hashtags are kept from the blockquote; the author line gives name, handle and date."""

from __future__ import annotations

import re

from ..base import (Args, Provider, has_class, plain_text, safe_body, split, strip_query,
                    text_of, valid_lang)

_STATUS = re.compile(r"^/(?:#!/)?(\w{1,30})/(?:web/)?status(?:es)?/(\d+)")
_HOSTS = ("twitter.com", "x.com")


def _clean_href(href: str) -> str:
    host, path, q = split(href)
    if host in _HOSTS:  # widget tracking parameters (ref_src, src=hash) say nothing to a reader
        return strip_query(href, keep=("q", "f"))
    return href


class Twitter(Provider):
    name = "twitter"
    provider_name = "X (Twitter)"
    kind = "social"
    priority = 10
    oembed = "https://publish.twitter.com/oembed?omit_script=1&dnt=true&url={url}"
    tags = ("blockquote", "iframe")
    shortcodes = ("tweet", "twitter", "x", "twitter_embed", "embed_tweet")
    widget_scripts = (r"platform\.twitter\.com/widgets\.js", r"platform\.x\.com/widgets\.js")

    def from_url(self, url):
        host, path, q = split(url)
        if host == "platform.twitter.com" and q.get("id", "").isdigit():
            return self.make(f"https://twitter.com/i/status/{q['id']}")
        if host not in _HOSTS:
            return None
        m = _STATUS.match(path)
        if not m:
            return None
        user, sid = m.groups()
        handle = "" if user == "i" else user
        return self.make(f"https://{host}/{user}/status/{sid}", handle=handle,
                         extra={"status_id": sid})

    def from_element(self, el):
        if el.tag != "blockquote":
            return super().from_element(el)
        if not (has_class(el, "twitter-tweet") or has_class(el, "twitter-video")):
            return None
        status = None
        for a in el.iter("a"):
            host, path, _ = split(a.get("href") or "")
            if host in _HOSTS and _STATUS.match(path):
                status = a
        if status is None:
            return None  # nothing to link to: the sanitizer keeps it as a plain quotation
        e = self.from_url(status.get("href"))
        e.date = text_of(status)
        paras = [c for c in el if c.tag == "p"] or [el]
        # The author line is what stands outside the paragraphs: "— Name (@handle) <a>date</a>".
        # (A linked author name counts; only the status link, the date, is left out.)
        outside = (el.text or "") + "".join(
            (text_of(c) if c.tag != "p" and c is not status else "") + (c.tail or "") for c in el)
        if paras == [el]:
            outside = ""
        outside = " ".join(outside.split())
        m = re.match(r"^[—–-]*\s*(.*?)\s*\(@(\w+)\)\s*$", outside)
        if m:
            e.author, e.handle = m.group(1), m.group(2)
        elif outside.strip(" —–-"):
            e.author = outside.strip(" —–-")
        # Without paragraphs the whole quotation is the text (author line included: nothing lost).
        body = safe_body(paras, clean_href=_clean_href)
        e.body = body
        e.text = plain_text(body)
        lang = valid_lang(el.get("data-lang") or (paras[0].get("lang") if paras else ""))
        if lang:
            e.extra["lang"] = lang
        return e

    def from_shortcode(self, name, args: Args):
        for url in args.urls():
            e = self.from_url(url)
            if e is not None:
                return e
        sid = args.get("id", "tweet", "tweet_id", "status", pos=0 if not args.named.get("user") else None)
        if not sid and args.named.get("user") and args.positional:
            sid = args.positional[0]
        if not sid or not sid.isdigit():
            return None
        user = args.get("user", "username", "handle") or "i"
        return self.from_url(f"https://twitter.com/{user.lstrip('@')}/status/{sid}")


PROVIDER = Twitter()
