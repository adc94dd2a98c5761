"""Site generators' template syntax, handled before Markdown sees the text.

What a book can honour is done here: Liquid/Jekyll ``highlight`` and Hugo ``highlight`` blocks become
fenced code with their language; ``raw`` keeps its content literal; ``comment``, kramdown
``{::comment}`` and ``{::options}`` go; ``include`` inlines the site's include file (or, for embed
includes, becomes a ``pp-shortcode`` the embeds stage recognises); ``post_url``, ``link``, ``ref`` and
``relref`` in a link's address become ``.pubpipe-ref/KIND/TARGET`` addresses that the links transform
resolves; Liquid variables (``site.*``, ``page.*``, ``include.*``, ``assign``) with common filters and
``if``/``unless`` on them are evaluated; Hugo ``param`` reads front matter, then the site's params;
kramdown block IALs on their own line are attached to the block above and ``* TOC`` + ``{:toc}``
becomes a table of contents. Other shortcodes become ``<pp-shortcode data-raw="…">`` elements: the
embeds stage may claim them, else the sanitizer puts back exactly what the author wrote.

Everything else is left as written, protected from Markdown (no smart quotes, no emphasis), and
listed in ``Result.unhonoured`` (kind, line) so the reader can report it once per kind.
Fenced code and inline code are left alone (except ``raw`` tags and escaped Hugo shortcodes).
"""

from __future__ import annotations

import datetime as dt
import html
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

REF_PREFIX = ".pubpipe-ref/"  # a link address the links transform resolves; never in an output

_HUGO = re.compile(r"\{\{([<%])\s*(/?)\s*([A-Za-z][\w.-]*)(.*?)\s*[>%]\}\}", re.S)
_LIQUID_TAG = re.compile(r"\{%-?\s*([A-Za-z][\w.-]*)(.*?)\s*-?%\}", re.S)
_LIQUID_VAR = re.compile(r"\{\{-?\s*(?![<%])(.*?)\s*-?\}\}", re.S)
_FENCE = re.compile(r"^([ \t]{0,3})(`{3,}|~{3,})")
_RAW = re.compile(r"\{%-?\s*raw\s*-?%\}(.*?)\{%-?\s*endraw\s*-?%\}", re.S)
_HUGO_ESCAPED = re.compile(r"\{\{([<%])/\*(.*?)\*/([>%])\}\}", re.S)
_COMMENT = re.compile(r"\{%-?\s*comment\s*-?%\}.*?\{%-?\s*endcomment\s*-?%\}", re.S)
_KRAMDOWN_COMMENT = re.compile(r"\{::comment\}.*?\{:/(?:comment)?\}", re.S)
_KRAMDOWN_OPTIONS = re.compile(r"\{::options\b[^}]*/\}[ \t]*\n?")
_KRAMDOWN_NOMD = re.compile(r"\{::nomarkdown\}(.*?)\{:/(?:nomarkdown)?\}", re.S)
_LIQUID_HL = re.compile(
    r"^([ \t]*)\{%-?\s*highlight\s+[\"']?([\w+#.-]+)[\"']?([^%]*?)-?%\}[ \t]*\n?(.*?)"
    r"\n?[ \t]*\{%-?\s*endhighlight\s*-?%\}[ \t]*$", re.S | re.M)
_HUGO_HL = re.compile(
    r"^([ \t]*)\{\{([<%])\s*highlight\s+[\"']?([\w+#.-]+)[\"']?([^>%]*?)\s*[>%]\}\}[ \t]*\n?(.*?)"
    r"\n?[ \t]*\{\{[<%]\s*/\s*highlight\s*[>%]\}\}[ \t]*$", re.S | re.M)
_TOC = re.compile(r"^[ \t]*(?:[*+-]|\d+\.)[ \t]+.*\n[ \t]*\{:\s*toc\s*\}[ \t]*$", re.M)
_IAL_LINE = re.compile(r"^[ \t]*\{:\s*((?:[#.][\w-]+|[\w-]+=(?:\"[^\"]*\"|'[^']*'|\S+))"
                       r"(?:\s+(?:[#.][\w-]+|[\w-]+=(?:\"[^\"]*\"|'[^']*'|\S+)))*)\s*\}[ \t]*$")
_ALD_LINE = re.compile(r"^[ \t]*\{:[\w-]+:[^}]*\}[ \t]*$")
_ATX = re.compile(r"^#{1,6}[ \t]+\S")
_LINK_CONTEXT = re.compile(r"(\]\(\s*<?|\]:[ \t]*|(?:href|src)\s*=\s*[\"']?)[^\s()\"'<>]*$")
# Liquid tags that are embeds when no include file of that name exists (the embeds stage knows them)
_LIQUID_EMBEDS = {"include", "youtube", "vimeo", "twitter", "tweet", "gist", "instagram", "video",
                  "include_relative", "embed", "codepen", "soundcloud", "spotify"}
_HUGO_LEAVE_INNER = {"highlight"}


@dataclass
class Context:
    """What the template syntax of one post may refer to."""

    kind: str = "folder"  # the site generator (hugo, jekyll, zola, pelican, eleventy, folder)
    root: Path | None = None  # site root: include files are read only from inside it
    includes_dir: str = "_includes"
    source: Path | None = None  # the post
    site: dict = field(default_factory=dict)  # site.* values
    page: dict = field(default_factory=dict)  # front matter
    line_offset: int = 0  # front matter lines before the body
    read: list[Path] = field(default_factory=list)  # the include files read, for the output cache


@dataclass
class Result:
    text: str
    unhonoured: list[tuple[str, int, str]] = field(default_factory=list)  # (kind, line, raw)


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


def _element(name: str, args: str, syntax: str, raw: str) -> str:
    return (f'<pp-shortcode data-name="{html.escape(name)}" data-args="{html.escape(args.strip())}"'
            f' data-syntax="{syntax}" data-raw="{html.escape(raw)}"></pp-shortcode>')


def _figure(args: dict[str, str]) -> str:
    src = html.escape(args.get("src", ""))
    alt = html.escape(args.get("alt", "") or args.get("title", "") or args.get("caption", ""))
    parts = [f'<figure><img src="{src}" alt="{alt}" />']
    caption = args.get("caption") or args.get("title")
    if caption:
        parts.append(f"<figcaption>{html.escape(caption)}</figcaption>")
    parts.append("</figure>")
    return "".join(parts)


class _Converter:
    def __init__(self, ctx: Context):
        self.ctx = ctx
        self.vars: dict = {}
        self.unhonoured: list[tuple[str, int, str]] = []
        self.stash: list[str] = []
        self.seen: dict[str, int] = {}
        self.text = ""  # the body being converted, for line numbers
        self.liquid = ctx.kind in ("jekyll", "eleventy", "folder")
        self.zola = ctx.kind == "zola"

    # --- protected text -------------------------------------------------------------------
    def protect(self, value: str) -> str:
        """A token standing for value until restore(): no later step (or Markdown) sees value."""
        self.stash.append(value)
        return f"\x02{len(self.stash) - 1}\x03"

    def restore(self, text: str) -> str:
        for _ in range(4):  # stashed values may hold tokens themselves
            if "\x02" not in text:
                break
            text = re.sub(r"\x02(\d+)\x03", lambda m: self.stash[int(m[1])], text)
        return text

    def keep(self, raw: str, kind: str, pos: int) -> str:
        """A tag left exactly as written: reported, and shielded from Markdown."""
        kind = kind[3:] if kind.startswith("end") and len(kind) > 3 else kind
        self.unhonoured.append((kind, self.line(raw, pos), raw))
        return self.protect(_element(kind, "", "raw", raw))

    def line(self, raw: str, pos: int) -> int:
        """Line of raw in the post (earlier steps shifted positions: look it up again)."""
        i = self.text.find(raw, self.seen.get(raw, 0))
        if i < 0:
            i = self.text.find(raw)
        if i >= 0:
            self.seen[raw] = i + 1
            pos = i
        return self.text.count("\n", 0, max(0, pos)) + 1 + self.ctx.line_offset

    # --- the passes ---------------------------------------------------------------------------
    def run(self, text: str) -> str:
        self.text = text
        text = _RAW.sub(lambda m: self.protect(m[1]), text)
        text = _HUGO_ESCAPED.sub(lambda m: self.protect(f"{{{{{m[1]}{m[2]}{m[3]}}}}}"), text)
        text = _COMMENT.sub("", text)
        text = _KRAMDOWN_COMMENT.sub("", text)
        text = _KRAMDOWN_OPTIONS.sub("", text)
        text = _KRAMDOWN_NOMD.sub(lambda m: m[1], text)
        text = _LIQUID_HL.sub(lambda m: self.fence(m[1], m[2], m[4]), text)
        text = _HUGO_HL.sub(lambda m: self.fence(m[1], m[3], m[5]), text)
        text = _TOC.sub("[TOC]", text)
        text = self.block_ials(text)
        return self.restore(self.outside_code(text))

    def fence(self, indent: str, lang: str, code: str) -> str:
        longest = max((len(r) for r in re.findall(r"`{3,}", code)), default=2)
        ticks = "`" * max(3, longest + 1)
        lines = [f"{indent}{ticks}{lang}"] + code.split("\n") + [f"{indent}{ticks}"]
        return "\n" + self.protect("\n".join(lines)) + "\n"

    def block_ials(self, text: str) -> str:
        """kramdown block IALs on their own line: onto the heading or code block above."""
        lines = text.split("\n")
        out: list[str] = []
        for line in lines:
            if _ALD_LINE.match(line):
                continue  # an attribute list definition: styling only
            m = _IAL_LINE.match(line)
            if not m or not out or not out[-1].strip():
                out.append(line)
                continue
            prev = out[-1]
            attrs = m[1]
            if _ATX.match(prev.lstrip()):
                out[-1] = prev.rstrip().rstrip("#").rstrip() + " {: " + attrs + " }"
            elif re.match(r"^[ \t]*(=+|-+)[ \t]*$", prev) and len(out) > 1 and out[-2].strip():
                out[-2] = out[-2].rstrip() + " {: " + attrs + " }"
            elif re.match(r"^\x02\d+\x03$", prev.strip()) or _FENCE.match(prev):
                out.append("")  # a code block: its language came with it; drop the IAL
                out.pop()
            else:
                out.append(line)  # paragraphs and list items: Markdown's attr_list applies it
        return "\n".join(out)

    def outside_code(self, text: str) -> str:
        """Convert the text outside fenced code and inline code spans."""
        out: list[str] = []
        chunk: list[str] = []
        fence = None
        pos = 0
        start = 0
        for line in text.splitlines(keepends=True):
            m = _FENCE.match(line)
            if fence is None and m:
                out.append(self.convert_chunk("".join(chunk), start))
                chunk = []
                fence = m.group(2)
                out.append(line)
            elif fence is not None:
                out.append(line)
                s = line.strip()
                if s.startswith(fence[0] * len(fence)) and not s.strip(fence[0]):
                    fence = None
                    start = pos + len(line)
            else:
                chunk.append(line)
            pos += len(line)
        out.append(self.convert_chunk("".join(chunk), start))
        return "".join(out)

    def convert_chunk(self, text: str, offset: int) -> str:
        if "{{" not in text and "{%" not in text:
            return text
        # inline code spans are text
        text = re.sub(r"(`+)(?!`)(.+?)(?<!`)\1(?!`)", lambda m: self.protect(m[0]), text, flags=re.S)
        self.offset = offset
        text = _HUGO.sub(self.hugo, text) if "{{<" in text or "{{%" in text else text
        if self.liquid:
            text = self.liquid_blocks(text)
            text = _LIQUID_VAR.sub(self.variable, text)
            text = _LIQUID_TAG.sub(self.liquid_tag, text)
        elif self.zola:
            text = _LIQUID_VAR.sub(self.zola_shortcode, text)
            text = _LIQUID_TAG.sub(lambda m: self.keep(m[0], m[1], self.offset + m.start()), text)
        return text

    # --- Hugo ----------------------------------------------------------------------------------
    def hugo(self, m: re.Match) -> str:
        delim, closing, name, args = m.group(1), m.group(2), m.group(3), m.group(4)
        raw = m.group(0)
        pos = self.offset + m.start()
        if closing:
            return self.protect(_element("/" + name, "", "hugo", raw))
        if name in ("ref", "relref"):
            target = parse_args(args).get("0", "")
            if target and _LINK_CONTEXT.search(m.string[:m.start()]):
                return REF_PREFIX + "ref/" + quote(target, safe="/#.-_~")
            return self.keep(raw, name, pos)
        if name == "param":
            key = parse_args(args).get("0", "")
            value = _lookup(self.ctx.page, key) if key else None
            if value is None:
                value = _lookup(self.ctx.site.get("params", {}), key)
            if isinstance(value, (str, int, float)) and not isinstance(value, bool):
                return str(value)
            return self.keep(raw, name, pos)
        if name == "figure":
            return "\n\n" + _figure(parse_args(args)) + "\n\n"
        return self.protect(_element(name, args, "hugo", raw))

    # --- Zola ------------------------------------------------------------------------------------
    def zola_shortcode(self, m: re.Match) -> str:
        call = re.match(r"^([A-Za-z][\w]*)\((.*)\)$", m[1].strip(), re.S)
        if not call:
            return m[0]  # Zola does not template Markdown: '{{ x }}' is text
        args = re.sub(r"\b(\w+)\s*=\s*", r"\1=", call[2].replace(",", " "))
        return self.protect(_element(call[1], args, "zola", m[0]))

    # --- Liquid ----------------------------------------------------------------------------------
    def liquid_blocks(self, text: str) -> str:
        """assign / capture / if / unless, innermost first."""
        for _ in range(50):
            m = re.search(r"\{%-?\s*assign\s+(\w+)\s*=\s*(.*?)\s*-?%\}", text)
            if m:
                value = self.evaluate(m[2])
                if value is _UNKNOWN:
                    text = text[:m.start()] + self.keep(m[0], "assign", self.offset + m.start()) \
                        + text[m.end():]
                else:
                    self.vars[m[1]] = value
                    text = text[:m.start()] + text[m.end():]
                continue
            m = re.search(r"\{%-?\s*capture\s+(\w+)\s*-?%\}(.*?)\{%-?\s*endcapture\s*-?%\}",
                          text, re.S)
            if m:
                self.vars[m[1]] = self.restore(m[2]).strip()
                text = text[:m.start()] + text[m.end():]
                continue
            m = _innermost_if(text)
            if m:
                text = text[:m[0]] + self.conditional(text[m[0]:m[1]], m[0]) + text[m[1]:]
                continue
            break
        return text

    def conditional(self, block: str, start: int) -> str:
        parts = re.split(r"(\{%-?\s*(?:if|unless|elsif|else|endif|endunless)\b.*?-?%\})", block,
                         flags=re.S)
        branches: list[tuple[str, str]] = []  # (tag, content)
        for i in range(1, len(parts) - 1, 2):
            branches.append((parts[i], parts[i + 1]))
        for tag, content in branches:
            t = re.match(r"\{%-?\s*(\w+)\s*(.*?)\s*-?%\}", tag, re.S)
            kind, cond = t[1], t[2]
            if kind in ("endif", "endunless"):
                return ""
            if kind == "else":
                return content
            value = self.condition(cond)
            if value is _UNKNOWN:
                # cannot be decided: every tag stays as written, the content between stays too
                return "".join(self.keep(p, "if", self.offset + start) if i % 2 else p
                               for i, p in enumerate(parts))
            if (not value) if kind == "unless" else value:
                return content
        return ""

    def condition(self, cond: str):
        ors = re.split(r"\s+or\s+", cond)
        result = False
        for part in ors:
            ands = re.split(r"\s+and\s+", part)
            value = True
            for a in ands:
                v = self.comparison(a.strip())
                if v is _UNKNOWN:
                    return _UNKNOWN
                value = value and v
            result = result or value
        return result

    def comparison(self, expr: str):
        m = re.match(r"^(.+?)\s*(==|!=|>=|<=|>|<|contains)\s*(.+)$", expr)
        if not m:
            v = self.evaluate(expr)
            return v if v is _UNKNOWN else (v is not None and v is not False)
        left, op, right = self.evaluate(m[1]), m[2], self.evaluate(m[3])
        if left is _UNKNOWN or right is _UNKNOWN:
            return _UNKNOWN
        try:
            return {"==": lambda: left == right, "!=": lambda: left != right,
                    ">": lambda: left > right, "<": lambda: left < right,
                    ">=": lambda: left >= right, "<=": lambda: left <= right,
                    "contains": lambda: right in left}[op]()
        except TypeError:
            return _UNKNOWN

    def evaluate(self, expr: str):
        parts = _split_filters(expr)
        value = self.value(parts[0].strip())
        for f in parts[1:]:
            if value is _UNKNOWN:
                return _UNKNOWN
            value = self.filter(value, f.strip())
        return value

    def value(self, token: str):
        if re.fullmatch(r"'[^']*'|\"[^\"]*\"", token):
            return token[1:-1]
        if re.fullmatch(r"-?\d+(\.\d+)?", token):
            return float(token) if "." in token else int(token)
        if token in ("true", "false"):
            return token == "true"
        if token in ("nil", "null", "empty", "blank"):
            return None
        if token in self.vars:
            return self.vars[token]
        root, _, rest = token.partition(".")
        scope = {"site": self.ctx.site, "page": self.ctx.page, "include": self.vars.get(
            "__include__", {})}.get(root)
        if scope is None or not rest:
            return _UNKNOWN
        if root == "page" and rest == "content":
            return _UNKNOWN
        v = _lookup(scope, rest)
        if v is None:
            # Liquid renders what a known site's config lacks as nil, as Jekyll would; without
            # a site config we cannot know what the author meant
            known = root == "page" or (root == "site" and self.ctx.kind in ("jekyll", "eleventy"))
            return None if known else _UNKNOWN
        return v

    def filter(self, value, spec: str):
        name, _, arg = spec.partition(":")
        name = name.strip()
        args = [self.value(a.strip()) for a in _split_args(arg)] if arg.strip() else []
        if any(a is _UNKNOWN for a in args):
            return _UNKNOWN
        s = "" if value is None else _to_text(value)
        if name == "url":  # Eleventy: the path (its pathPrefix is the site's business)
            return s
        if name in ("relative_url", "absolute_url"):
            base = _to_text(self.ctx.site.get("url") or "") if name == "absolute_url" else ""
            return (base.rstrip("/") + "/" + s.lstrip("/")) if base else s
        simple = {"upcase": str.upper, "downcase": str.lower, "capitalize": str.capitalize,
                  "strip": str.strip, "lstrip": str.lstrip, "rstrip": str.rstrip,
                  "escape": html.escape, "xml_escape": html.escape, "markdownify": str,
                  "url_encode": lambda x: quote(x, safe=""), "cgi_escape": lambda x: quote(x, safe=""),
                  "uri_escape": lambda x: quote(x, safe="/:?#[]@!$&'()*+,;=%"),
                  "slugify": lambda x: re.sub(r"[^\w]+", "-", x.lower()).strip("-"),
                  "strip_html": lambda x: re.sub(r"<[^>]+>", "", x),
                  "normalize_whitespace": lambda x: " ".join(x.split()),
                  "number_of_words": lambda x: str(len(x.split()))}
        if name in simple:
            return simple[name](s)
        if name == "size":
            return len(value) if hasattr(value, "__len__") else 0
        if name == "default":
            return value if value not in (None, "", False, []) else (args[0] if args else "")
        if name in ("prepend", "append") and args:
            return _to_text(args[0]) + s if name == "prepend" else s + _to_text(args[0])
        if name in ("replace", "remove") and args:
            return s.replace(_to_text(args[0]), _to_text(args[1]) if len(args) > 1 else "")
        if name in ("date", "date_to_string", "date_to_long_string", "date_to_xmlschema"):
            d = _as_date(value)
            if d is None:
                return _UNKNOWN
            fmt = {"date_to_string": "%d %b %Y", "date_to_long_string": "%d %B %Y",
                   "date_to_xmlschema": "%Y-%m-%dT00:00:00+00:00"}.get(name) or (
                _to_text(args[0]) if args else "%Y-%m-%d")
            try:
                return d.strftime(fmt.replace("%-d", str(d.day)).replace("%-m", str(d.month))
                                  .replace("%e", str(d.day)))
            except ValueError:
                return _UNKNOWN
        if name == "join" and isinstance(value, list):
            return (_to_text(args[0]) if args else " ").join(_to_text(v) for v in value)
        if name in ("first", "last") and isinstance(value, list) and value:
            return value[0] if name == "first" else value[-1]
        return _UNKNOWN

    def variable(self, m: re.Match) -> str:
        value = self.evaluate(m[1])
        if value is _UNKNOWN or isinstance(value, (dict,)):
            return self.keep(m[0], "variable", self.offset + m.start())
        return "" if value is None else _to_text(value)

    def liquid_tag(self, m: re.Match) -> str:
        name, args, raw = m.group(1), m.group(2), m.group(0)
        pos = self.offset + m.start()
        if name in ("post_url", "link"):
            target = args.strip().strip("'\"")
            if target and _LINK_CONTEXT.search(m.string[:m.start()]):
                return REF_PREFIX + name + "/" + quote(target, safe="/#.-_~")
            return self.keep(raw, name, pos)
        if name in ("include", "include_relative"):
            inlined = self.include(name, args)
            if inlined is not None:
                return inlined
        if name in _LIQUID_EMBEDS:
            return self.protect(_element(name, args, "liquid", raw))
        return self.keep(raw, name, pos)

    def include(self, name: str, args: str) -> str | None:
        """An include file of the site, with include.* filled in (depth-limited)."""
        root = self.ctx.root
        if root is None or self.vars.get("__depth__", 0) >= 4:
            return None
        m = re.match(r"\s*([^\s{}]+)(.*)$", args, re.S)
        if not m:
            return None
        base = (self.ctx.source.parent if name == "include_relative" and self.ctx.source
                else root / self.ctx.includes_dir)
        path = (base / m[1]).resolve()
        if not path.is_file() or not path.is_relative_to(root):
            return None
        try:
            body = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None
        params = {}
        for k, v in re.findall(r"([\w-]+)\s*=\s*(\"[^\"]*\"|'[^']*'|\S+)", m[2]):
            val = self.value(v)
            params[k] = "" if val is _UNKNOWN or val is None else val
        self.ctx.read.append(path)
        sub = _Converter(Context(kind=self.ctx.kind, root=root, includes_dir=self.ctx.includes_dir,
                                 source=path, site=self.ctx.site, page=self.ctx.page,
                                 read=self.ctx.read))
        sub.vars = dict(self.vars, __include__=params,
                        __depth__=self.vars.get("__depth__", 0) + 1)
        out = sub.run(body)
        self.unhonoured.extend(sub.unhonoured)
        return out.strip("\n")


class _Unknown:
    def __repr__(self) -> str:
        return "UNKNOWN"


_UNKNOWN = _Unknown()


def _innermost_if(text: str) -> tuple[int, int] | None:
    """Span of an if/unless block holding no other if/unless."""
    opens = list(re.finditer(r"\{%-?\s*(if|unless)\b.*?-?%\}", text, re.S))
    for m in reversed(opens):
        end_tag = "endif" if m[1] == "if" else "endunless"
        rest = text[m.end():]
        e = re.search(r"\{%-?\s*" + end_tag + r"\s*-?%\}", rest)
        if not e:
            continue
        inner = rest[:e.start()]
        if re.search(r"\{%-?\s*(if|unless)\b", inner):
            continue
        return m.start(), m.end() + e.end()
    return None


def _split_filters(expr: str) -> list[str]:
    return re.findall(r"(?:[^|\"']|\"[^\"]*\"|'[^']*')+", expr) or [expr]


def _split_args(arg: str) -> list[str]:
    return [a for a in re.findall(r"(?:[^,\"']|\"[^\"]*\"|'[^']*')+", arg) if a.strip()]


def _lookup(scope, dotted: str):
    cur = scope
    for key in dotted.split("."):
        if isinstance(cur, dict):
            found = None
            for k, v in cur.items():
                if str(k).lower() == key.lower():
                    found = v
                    break
            cur = found
        else:
            return None
        if cur is None:
            return None
    return cur


def _to_text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, list):
        return "".join(_to_text(v) for v in value)
    return str(value)


def _as_date(value) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    m = re.match(r"^(\d{4})-(\d{2})-(\d{2})", str(value or ""))
    if m:
        try:
            return dt.date(int(m[1]), int(m[2]), int(m[3]))
        except ValueError:
            return None
    return None


def convert(text: str, ctx: Context | None = None) -> Result:
    """Handle the template syntax of one post's Markdown body."""
    conv = _Converter(ctx or Context())
    out = conv.run(text)
    return Result(out, conv.unhonoured)
