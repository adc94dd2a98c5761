"""Hugo shortcodes and Liquid tags, turned into elements before Markdown sees them.

``{{< youtube "id" >}}`` becomes ``<pp-shortcode data-name="youtube" data-args='"id"'
data-syntax="hugo"></pp-shortcode>`` so that the embeds stage can recognise it (Markdown would
otherwise mangle its quotes). ``ref``/``relref`` become the path they name, ``figure`` becomes a real
figure. Fenced code is left alone: shortcodes shown as code are text.
"""

from __future__ import annotations

import html
import re
import shlex

_HUGO = re.compile(r"\{\{([<%])\s*(/?)([A-Za-z][\w.-]*)(.*?)\s*[>%]\}\}", re.S)
_LIQUID = re.compile(r"\{%-?\s*([A-Za-z][\w.-]*)(.*?)\s*-?%\}", re.S)
_FENCE = re.compile(r"^([ \t]{0,3})(`{3,}|~{3,})")
# Liquid tags that are templating, not content: dropped only when they carry no text.
_LIQUID_EMBEDS = {"include", "youtube", "vimeo", "twitter", "tweet", "gist", "instagram", "video",
                  "include_relative", "embed", "codepen", "soundcloud", "spotify"}


def parse_args(args: str) -> dict[str, str]:
    """Shortcode arguments: positional ones under "0", "1"...; named ones by name."""
    out: dict[str, str] = {}
    try:
        parts = shlex.split(args.replace("“", '"').replace("”", '"'))
    except ValueError:
        parts = args.split()
    pos = 0
    for p in parts:
        if "=" in p and re.match(r"^[A-Za-z_][\w-]*=", p):
            k, v = p.split("=", 1)
            out[k] = v
        else:
            out[str(pos)] = p
            pos += 1
    return out


def _element(name: str, args: str, syntax: str) -> str:
    return (f'<pp-shortcode data-name="{html.escape(name)}" data-args="{html.escape(args.strip())}"'
            f' data-syntax="{syntax}"></pp-shortcode>')


def _figure(args: dict[str, str]) -> str:
    src = html.escape(args.get("src", ""))
    alt = html.escape(args.get("alt", "") or args.get("title", "") or args.get("caption", ""))
    parts = [f'<figure><img src="{src}" alt="{alt}" />']
    caption = args.get("caption") or args.get("title")
    if caption:
        parts.append(f"<figcaption>{html.escape(caption)}</figcaption>")
    parts.append("</figure>")
    return "".join(parts)


def _hugo(m: re.Match) -> str:
    closing, name, args = m.group(2), m.group(3), m.group(4)
    if closing:
        return ""  # paired shortcodes keep their inner content as Markdown
    if name in ("ref", "relref"):
        return parse_args(args).get("0", "")
    if name == "figure":
        return "\n\n" + _figure(parse_args(args)) + "\n\n"
    return _element(name, args, "hugo")


def _liquid(m: re.Match) -> str:
    name, args = m.group(1), m.group(2)
    if name in _LIQUID_EMBEDS:
        return _element(name, args, "liquid")
    return m.group(0)  # other Liquid ({% raw %}, {% highlight %}...) is kept as text


def convert(text: str) -> str:
    """Replace shortcodes outside fenced code blocks."""
    out: list[str] = []
    chunk: list[str] = []
    fence = None
    for line in text.splitlines(keepends=True):
        m = _FENCE.match(line)
        if fence is None and m:
            out.append(_convert_chunk("".join(chunk)))
            chunk = []
            fence = m.group(2)
            out.append(line)
        elif fence is not None:
            out.append(line)
            if line.strip().startswith(fence[0] * len(fence)) and not line.strip().strip(fence[0]):
                fence = None
        else:
            chunk.append(line)
    out.append(_convert_chunk("".join(chunk)))
    return "".join(out)


def _convert_chunk(text: str) -> str:
    if "{{" not in text and "{%" not in text:
        return text
    return _LIQUID.sub(_liquid, _HUGO.sub(_hugo, text))
