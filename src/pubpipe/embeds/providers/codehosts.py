"""Code playgrounds besides CodePen and Gist: CodeSandbox, JSFiddle, StackBlitz, Replit,
Observable; embed URLs map to the page a reader can open."""

from __future__ import annotations

import re

from ..base import Provider, split

_NAMES = {"codesandbox": "CodeSandbox", "jsfiddle": "JSFiddle", "stackblitz": "StackBlitz",
          "replit": "Replit", "glitch": "Glitch", "observable": "Observable"}


class CodeHosts(Provider):
    name = "codehost"
    provider_name = "Code"
    kind = "code"
    priority = 30

    def from_url(self, url):
        host, path, q = split(url)
        site, canonical = "", ""
        if host == "codesandbox.io":
            m = re.match(r"^/(?:embed|s|p/sandbox)/([\w-]+)", path)
            if m:
                site, canonical = "codesandbox", f"https://codesandbox.io/s/{m.group(1)}"
        elif host == "jsfiddle.net":
            m = re.match(r"^/((?:[\w-]+/)?\w+(?:/\d+)?)/embedded", path)
            if m:
                site, canonical = "jsfiddle", f"https://jsfiddle.net/{m.group(1)}/"
        elif host == "stackblitz.com":
            m = re.match(r"^/(edit|github)/([\w./-]+)", path)
            if m:
                site, canonical = "stackblitz", f"https://stackblitz.com/{m.group(1)}/{m.group(2)}"
        elif host == "replit.com":
            m = re.match(r"^/(@[\w-]+/[\w-]+)", path)
            if m:
                site, canonical = "replit", f"https://replit.com/{m.group(1)}"
        elif host == "observablehq.com":
            m = re.match(r"^/embed/(@[\w-]+/[\w-]+)", path)
            if m:
                site, canonical = "observable", f"https://observablehq.com/{m.group(1)}"
        if not canonical:
            return None
        e = self.make(canonical, provider_name=_NAMES[site])
        e.provider = site
        return e


PROVIDER = CodeHosts()
