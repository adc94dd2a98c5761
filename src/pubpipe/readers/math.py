"""Mathematics as bloggers write it, found in the Markdown source and kept away from Markdown.

Blogs write TeX between delimiters and let MathJax or KaTeX draw it in the browser:
``$$…$$`` and ``\\[…\\]`` display math, ``\\(…\\)`` inline math, ``$…$`` inline math where the post
or site turns it on, ```` ```math ```` fences, and ``\\begin{align}…\\end{align}`` environments.
Markdown would eat the TeX (``_x_`` becomes emphasis, ``\\\\`` a backslash, ``*`` a list), so each
formula is replaced by a placeholder before Markdown runs, as code is, and put back into the parsed
tree afterwards as ``<code data-pp-math="inline|display">TeX</code>`` (the math transform turns it
into MathML; until then, and if it cannot, the reader sees the TeX as code). A placeholder that
lands in code, a ``<pre>``, a script or an attribute gets its source text back unchanged.

Which delimiters count:

* ``\\\\(…\\\\)`` and ``\\\\[…\\\\]`` (a doubled backslash, which Markdown turns into the single one
  MathJax reads) and ``$$…$$`` are always math.
* ``\\(…\\)`` and ``\\[…\\]`` with one backslash are Markdown escapes in most engines (``\\[1\\]`` is a
  literal ``[1]``); they count as math only when what they hold looks like TeX (a ``\\command``,
  ``^``, ``_``, ``=``, braces, or a single letter).
* ``$…$`` only where enabled (``dollars``), with pandoc's rules so that prices stay prices: no space
  after the opening ``$``, none before the closing one, and no digit right after it. Neither ``$…$``
  nor ``$$…$$`` closes inside a later code span (```$ ls```, ```echo $$```).
* ``$`…`$`` is GitHub's inline math, always on.
* ``$$…$$`` and ``\\[…\\]`` standing on their own lines are display math; ``$$…$$`` inside a line of
  text is inline (kramdown's rule).
* ``\\$`` is a literal dollar sign (Python-Markdown would print the backslash).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

OPEN, CLOSE = "\ue000", "\ue001"  # private-use characters: Markdown, smarty and slugs ignore them
_DIGIT0 = 0xE010  # the formula's index, written in private-use "digits"
PLACEHOLDER = re.compile(f"{OPEN}([\ue010-\ue019]+){CLOSE}")

# Environments MathJax and KaTeX's auto-render typeset without delimiters.
ENVIRONMENTS = ("equation", "equation*", "align", "align*", "gather", "gather*", "multline",
                "multline*", "eqnarray", "eqnarray*", "alignat", "alignat*", "flalign", "flalign*",
                "displaymath", "math")
_ENV_BEGIN = re.compile(r"\\begin\{(" + "|".join(re.escape(e) for e in ENVIRONMENTS) + r")\}")
_PLAIN = re.compile(r"[^`<\\$\n]+")  # text with nothing Scanner.run looks at
_FENCE = re.compile(r"^([ \t]*(?:>[ \t]?)*[ \t]*)(`{3,}|~{3,})[ \t]*\{?\.?([\w+-]*)[^\n]*$", re.M)
_RAW_VERBATIM = re.compile(r"<(pre|code|script|style|textarea|kbd|samp)\b[^>]*>", re.I)
_BLOCK_CLOSE = re.compile(r"(?<!\\)\$\$[ \t]*(?:\n|$)")
_BLANK_LINE = re.compile(r"\n[ \t]*(?:>[ \t]*)*\n")
_TEXLIKE = re.compile(r"\\[A-Za-z]+|[\^_=<>{}]|^\s*[A-Za-z\u0391-\u03c9]\s*$")
# "\\(" formulas pass through Markdown, so MathJax reads them with Markdown's escapes undone
# (Python-Markdown's and kramdown's escapable characters); other delimiters keep their TeX as
# written, except the escaped underscores and stars authors add to keep Markdown's emphasis away.
_GITHUB_INLINE = re.compile(r"\$(`+)(?!`)(.+?)(?<!`)\1\$", re.S)
_MD_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|<>:\"'$=])")
_EMPHASIS_ESCAPE = re.compile(r"\\([_*])")
_VERBATIM_TAGS = {"code", "pre", "kbd", "samp", "script", "style", "textarea", "title", "tt"}


@dataclass
class Formula:
    tex: str  # the TeX between the delimiters, as written
    display: bool
    source: str  # the whole formula as written, delimiters included
    line: int  # 1-based line in the file
    delimiter: str  # "$", "$$", "$`", "\\(", "\\[", "\\\\(", "\\\\[", "env", "fence"


def _placeholder(i: int) -> str:
    return OPEN + "".join(chr(_DIGIT0 + int(d)) for d in str(i)) + CLOSE


def _index(digits: str) -> int:
    return int("".join(str(ord(c) - _DIGIT0) for c in digits))


def looks_like_tex(text: str) -> bool:
    return bool(_TEXLIKE.search(text))


class _Scanner:
    def __init__(self, text: str, dollars: bool, first_line: int):
        self.text = text
        self.dollars = dollars
        self.first_line = first_line
        self.out: list[str] = []
        self.formulas: list[Formula] = []

    def line_of(self, pos: int) -> int:
        return self.first_line + self.text.count("\n", 0, pos)

    def paragraph_end(self, pos: int) -> int:
        """Where the paragraph holding pos ends (a blank line), or the end of the text."""
        m = _BLANK_LINE.search(self.text, pos)
        return m.start() if m else len(self.text)

    def starts_line(self, pos: int) -> bool:
        """Nothing but blockquote/list markers before pos on its line."""
        before = self.text[self.text.rfind("\n", 0, pos) + 1:pos]
        return not re.sub(r"^[ \t]*(?:(?:>|[-*+]|\d+[.)])[ \t]*)*", "", before)

    def alone_on_lines(self, start: int, end: int) -> bool:
        """Nothing but blockquote/list markers before start on its line, nothing after end."""
        before = self.text[self.text.rfind("\n", 0, start) + 1:start]
        nl = self.text.find("\n", end)
        after = self.text[end:nl if nl >= 0 else len(self.text)]
        return not re.sub(r"^[ \t]*(?:(?:>|[-*+]|\d+[.)])[ \t]*)*", "", before) and not after.strip()

    def add(self, start: int, end: int, tex: str, display: bool, delimiter: str) -> None:
        source = self.text[start:end]
        if delimiter in ("\\\\(", "\\\\["):
            tex = _MD_ESCAPE.sub(r"\1", tex)  # what the page shows after Markdown: "\_" is "_"
        elif delimiter != "$`":  # GitHub's form is a code span: verbatim
            tex = _EMPHASIS_ESCAPE.sub(r"\1", tex)
        prefix = self.text[self.text.rfind("\n", 0, start) + 1:start]
        quotes = prefix.count(">")
        if quotes and "\n" in tex:  # a formula inside a blockquote: its lines carry '>' markers
            tex = re.sub(r"\n[ \t]*" + r"[ \t]*".join([">"] * quotes) + r"[ \t]?", "\n", tex)
        self.formulas.append(Formula(tex.strip(), display, source, self.line_of(start), delimiter))
        self.out.append(_placeholder(len(self.formulas) - 1))

    def run(self) -> str:
        text, n, i = self.text, len(self.text), 0
        line_start = True
        while i < n:
            c = text[i]
            if line_start:
                m = _FENCE.match(text, i)
                if m and (m.group(2)[0] == "~" or "`" not in text[m.end(2):m.end()]):
                    i = self.fence(m)
                    line_start = True
                    continue
            line_start = c == "\n"
            if c == "`":
                i = self.code_span(i)
            elif c == "<":
                i = self.raw_html(i)
            elif c == "\\":
                i = self.backslash(i)
            elif c == "$":
                i = self.dollar(i)
            elif c == "\n":
                self.out.append(c)
                i += 1
            else:  # a run of ordinary text at once (one character at a time was most of reading)
                end = _PLAIN.match(text, i).end()
                self.out.append(text[i:end])
                i = end
            if i > 0 and text[i - 1] == "\n":
                line_start = True
        return "".join(self.out)

    def fence(self, m: re.Match) -> int:
        text = self.text
        indent, marks, info = m.group(1), m.group(2), m.group(3).lower()
        body_start = m.end() + 1
        close = re.compile(r"^[ \t]*(?:>[ \t]?)*[ \t]*" + re.escape(marks[0]) + "{" +
                           str(len(marks)) + r",}[ \t]*$", re.M)
        c = close.search(text, body_start) if body_start <= len(text) else None
        end = c.end() if c else len(text)
        if info == "math" and c:
            tex = text[body_start:c.start()]
            if indent.count(">"):
                tex = re.sub(r"^[ \t]*(?:>[ \t]?)+", "", tex, flags=re.M)
            # its own paragraph, inside the same blockquote or list item
            self.out.append(indent.rstrip() + "\n" + indent)
            self.add(m.start(), end, tex, True, "fence")
            self.out.append("\n" + indent.rstrip())
            return end
        self.out.append(text[m.start():end])
        return end

    def code_span(self, i: int) -> int:
        text = self.text
        j = i
        while j < len(text) and text[j] == "`":
            j += 1
        run = text[i:j]
        limit = self.paragraph_end(j)
        k = j
        while True:
            k = text.find(run, k, limit)
            if k < 0:
                self.out.append(run)
                return j
            end = k + len(run)
            if (end >= len(text) or text[end] != "`") and text[k - 1] != "`":
                self.out.append(text[i:end])
                return end
            while k < len(text) and text[k] == "`":
                k += 1

    def raw_html(self, i: int) -> int:
        text = self.text
        if text.startswith("<!--", i):
            end = text.find("-->", i + 4)
            end = len(text) if end < 0 else end + 3
            self.out.append(text[i:end])
            return end
        m = _RAW_VERBATIM.match(text, i)
        if m:
            close = re.compile(rf"</{m.group(1)}\s*>", re.I).search(text, m.end())
            end = close.end() if close else m.end()
            self.out.append(text[i:end])
            return end
        self.out.append("<")
        return i + 1

    def backslash(self, i: int) -> int:
        text = self.text
        nxt = text[i + 1:i + 2]
        if text.startswith("\\\\(", i) or text.startswith("\\\\[", i):
            # "\\(" in Markdown source: the page shows "\(", which MathJax reads as math
            closer = "\\\\)" if nxt == "\\" and text[i + 2] == "(" else "\\\\]"
            end = text.find(closer, i + 3, self.paragraph_end(i + 3))
            if end > i + 3 and text[i + 3:end].strip():
                display = text[i + 2] == "["
                self.add(i, end + 3, text[i + 3:end], display, "\\\\" + text[i + 2])
                return end + 3
            self.out.append("\\\\")
            return i + 2
        if nxt in ("(", "["):
            closer = "\\)" if nxt == "(" else "\\]"
            end = self._find_single_closer(closer, i + 2)
            if end is not None and looks_like_tex(text[i + 2:end]):
                self.add(i, end + 2, text[i + 2:end], nxt == "[", "\\" + nxt)
                return end + 2
        if nxt == "$":
            self.out.append("$")  # a literal dollar; Python-Markdown would keep the backslash
            return i + 2
        if text.startswith("\\begin{", i):
            m = _ENV_BEGIN.match(text, i)
            if m:
                end_tag = f"\\end{{{m.group(1)}}}"
                end = text.find(end_tag, m.end())
                if end >= 0:
                    end += len(end_tag)
                    self.add(i, end, text[i:end], True, "env")
                    return end
        self.out.append(text[i:i + 2])  # an escape pair stays one unit ("\\" then "$" is math)
        return i + 2

    def _find_single_closer(self, closer: str, start: int) -> int | None:
        text = self.text
        limit = self.paragraph_end(start)
        k = start
        while True:
            k = text.find(closer, k, limit)
            if k < 0:
                return None
            # "\\)" is an escaped backslash followed by ")", not the closer
            backslashes = len(text[:k]) - len(text[:k].rstrip("\\"))
            if backslashes % 2 == 0:
                return k
            k += 1

    def dollar(self, i: int) -> int:
        text = self.text
        if text.startswith("$$", i):
            end = self._find_dollars(i + 2, self.paragraph_end(i + 2))
            if end is None and self.starts_line(i):
                # kramdown's math block: "$$" opening a line, closed by "$$" ending one; blank
                # lines inside are part of it
                m = _BLOCK_CLOSE.search(text, i + 2, min(len(text), i + 20000))
                end = m.start() if m else None
            if end is not None and text[i + 2:end].strip():
                display = self.alone_on_lines(i, end + 2)
                self.add(i, end + 2, text[i + 2:end], display, "$$")
                return end + 2
            self.out.append("$$")
            return i + 2
        if text.startswith("$`", i):
            # GitHub's inline math: $`a^2`$, always on (GitHub needs no switch for it)
            m = _GITHUB_INLINE.match(text, i)
            if m and "\n\n" not in m.group(2):
                self.add(i, m.end(), m.group(2), False, "$`")
                return m.end()
        if self.dollars:
            end = self._inline_dollar_end(i)
            if end is not None:
                self.add(i, end + 1, text[i + 1:end], False, "$")
                return end + 1
        self.out.append("$")
        return i + 1

    def _find_dollars(self, start: int, limit: int) -> int | None:
        text = self.text
        k = start
        # a '$$' inside a later code span (`echo $$`) closes nothing: code wins over math
        tick = text.find("`", start, limit)
        if tick >= 0:
            limit = tick
        while True:
            k = text.find("$$", k, limit)
            if k < 0:
                return None
            if text[k - 1] != "\\":
                return k
            k += 1

    def _inline_dollar_end(self, i: int) -> int | None:
        """pandoc's tex_math_dollars: the closing '$' of an inline formula opened at i, if any."""
        text = self.text
        if i + 1 >= len(text) or text[i + 1].isspace() or text[i + 1] == "$":
            return None
        limit = self.paragraph_end(i + 1)
        k = i + 1
        while k < limit:
            c = text[k]
            if c == "\\":
                k += 2
                continue
            if c == "`":
                return None  # "$2 a beer; a prompt is `$ ls`": the code span keeps its '$'
            if c == "$":
                if text[k - 1].isspace():
                    return None  # "$5 and $10": a space before the second '$' closes nothing
                if k + 1 < len(text) and text[k + 1].isdigit():
                    return None
                return k
            k += 1
        return None


def protect(text: str, *, dollars: bool = False, first_line: int = 1) -> tuple[str, list[Formula]]:
    """Replace each formula in Markdown source by a placeholder; returns the text and formulas.

    first_line is the file line of the text's first line (after front matter), for diagnostics.
    """
    scanner = _Scanner(text, dollars, first_line)
    return scanner.run(), scanner.formulas


def _in_verbatim(el: etree._Element) -> bool:
    while el is not None:
        if isinstance(el.tag, str) and el.tag in _VERBATIM_TAGS:
            return True
        el = el.getparent()
    return False


def _restore_text(text: str, formulas: list[Formula]) -> str:
    return PLACEHOLDER.sub(lambda m: formulas[_index(m.group(1))].source, text)


def _math_element(f: Formula) -> etree._Element:
    code = etree.Element("code")
    code.set("data-pp-math", "display" if f.display else "inline")
    code.text = f.tex
    code.sourceline = f.line
    return code


def _split_into(parent: etree._Element, before: etree._Element | None, text: str,
                formulas: list[Formula]) -> None:
    """Put text into parent (as parent.text when before is None, else as before.tail), with each
    placeholder in it turned into a math element."""
    parts = PLACEHOLDER.split(text)
    first = parts[0] or None
    if before is None:
        parent.text = first
        pos = 0
    else:
        before.tail = first
        pos = parent.index(before) + 1
    for k in range(1, len(parts), 2):
        el = _math_element(formulas[_index(parts[k])])
        el.tail = parts[k + 1] or None
        parent.insert(pos, el)
        pos += 1


def script_math(root: etree._Element) -> None:
    """MathJax 2's own markup, ``<script type="math/tex">`` (``; mode=display`` for display), as
    Octopress, mmark and pandoc's MathJax output write it: math, not a script to drop."""
    for script in list(root.iter("script")):
        kind = (script.get("type") or "").replace(" ", "").lower()
        if not kind.startswith("math/tex") or script.getparent() is None:
            continue
        code = etree.Element("code")
        code.set("data-pp-math", "display" if "mode=display" in kind else "inline")
        code.text = (script.text or "").strip()
        code.sourceline = script.sourceline
        code.tail = script.tail
        script.getparent().replace(script, code)


def restore(root: etree._Element, formulas: list[Formula]) -> None:
    """Put the formulas back into a parsed tree: as math where text is shown, verbatim elsewhere."""
    script_math(root)
    if not formulas:
        return
    for el in list(root.iter()):
        if not isinstance(el.tag, str):  # comments, processing instructions
            if el.text and OPEN in el.text:
                el.text = _restore_text(el.text, formulas)
            if el.tail and OPEN in el.tail:
                parent = el.getparent()
                if parent is not None and not _in_verbatim(parent):
                    tail, el.tail = el.tail, None
                    _split_into(parent, el, tail, formulas)
                else:
                    el.tail = _restore_text(el.tail, formulas)
            continue
        for name, value in el.attrib.items():
            if OPEN in value:
                el.set(name, _restore_text(value, formulas))
        verbatim = _in_verbatim(el)
        if el.text and OPEN in el.text:
            if verbatim:
                el.text = _restore_text(el.text, formulas)
            else:
                _split_into(el, None, el.text, formulas)
        if el.tail and OPEN in el.tail:
            parent = el.getparent()
            if parent is None or _in_verbatim(parent):
                el.tail = _restore_text(el.tail, formulas)
            else:
                tail, el.tail = el.tail, None
                _split_into(parent, el, tail, formulas)


# -- where $…$ is turned on ---------------------------------------------------------------------

_TRUE = {"true", "yes", "on", "1", "katex", "mathjax"}
_META_KEYS = ("math", "katex", "mathjax", "usemathjax", "use_math", "usemath", "usekatex",
              "enable_math", "enablemath", "math_enabled", "hasmath", "has_math", "latex")
_MATH_SCRIPT = re.compile(r"<script\b[^>]*(?:mathjax|katex)|MathJax\s*=\s*\{|"
                          r"renderMathInElement\s*\(", re.I)


def _truthy(value) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return value != 0
    if isinstance(value, str):
        return value.strip().lower() in _TRUE
    if isinstance(value, dict):  # math: {enable: true} / katex: {enabled: true}
        flags = [v for k, v in value.items() if str(k).lower() in ("enable", "enabled", "on")]
        return _truthy(flags[0]) if flags else bool(value)
    return False


def enabled_by_post(meta: dict, body: str) -> bool:
    """Front matter (math/katex/mathjax: true, also under extra/params) or a MathJax/KaTeX script
    in the post itself turns $…$ on for that post."""
    for table in (meta, meta.get("extra"), meta.get("params")):
        if not isinstance(table, dict):
            continue
        for key, value in table.items():
            if str(key).lower() in _META_KEYS and _truthy(value):
                return True
    return bool(_MATH_SCRIPT.search(body))


_SITE_CONFIGS = ("hugo.toml", "hugo.yaml", "hugo.yml", "hugo.json", "config.toml", "config.yaml",
                 "config.yml", "config.json", "_config.yml", "_config.yaml", "pelicanconf.py",
                 "zola.toml", ".eleventy.js", "eleventy.config.js", "eleventy.config.mjs",
                 "mkdocs.yml", "_quarto.yml")
_TEMPLATE_DIRS = ("layouts", "_includes", "_layouts", "templates", "theme", "themes",
                  "config/_default", "_data")
_TEMPLATE_SUFFIXES = (".html", ".htm", ".liquid", ".njk", ".toml", ".yaml", ".yml", ".json", ".js",
                      ".mjs", ".tpl")
_SITE_MATH = re.compile(r"katex|mathjax|renderMathInElement|passthrough|math_engine", re.I)
_JS_MACROS = re.compile(r"\b[Mm]acros\s*:\s*\{")
_JS_STR = r"""(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')"""
_JS_ENTRY = re.compile(r"(?:" + _JS_STR + r"|([A-Za-z]+))\s*:\s*(?:" + _JS_STR + r"|\[\s*" +
                       _JS_STR + r"[^\]]*\])")


@dataclass
class SiteMath:
    loads_math: bool = False  # the site loads KaTeX or MathJax: $…$ is math in its posts
    macros: dict[str, str] | None = None  # macros its KaTeX/MathJax configuration declares
    files: list[Path] = field(default_factory=list)  # the files read to find that out


def _js_unescape(s: str) -> str:
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), s)


def _macros_in_js(text: str) -> dict[str, str]:
    """``macros: {"\\\\RR": "\\\\mathbb{R}"}`` (KaTeX) / ``Macros: {RR: "{\\\\bf R}"}`` (MathJax)."""
    out: dict[str, str] = {}
    for m in _JS_MACROS.finditer(text):
        depth, j = 0, m.end() - 1
        while j < len(text):
            depth += (text[j] == "{") - (text[j] == "}")
            if depth == 0:
                break
            j += 1
        for e in _JS_ENTRY.finditer(text[m.end():j]):
            name = _js_unescape(e.group(1) or e.group(2) or e.group(3) or "")
            body = _js_unescape(next(g for g in e.groups()[3:] if g is not None) or "")
            name = name if name.startswith("\\") else "\\" + name
            if re.fullmatch(r"\\[A-Za-z]+", name):
                out[name] = body
    return out


def _macros_in_data(data) -> dict[str, str]:
    """A ``macros`` table anywhere in a parsed TOML/YAML/JSON site config."""
    if isinstance(data, dict):
        for key, value in data.items():
            if str(key).lower() == "macros" and isinstance(value, dict):
                return {(k if str(k).startswith("\\") else "\\" + str(k)): str(v)
                        for k, v in value.items()
                        if isinstance(v, (str, list)) and re.fullmatch(r"\\?[A-Za-z]+", str(k))
                        for v in [v[0] if isinstance(v, list) and v else v]}
            found = _macros_in_data(value)
            if found:
                return found
    if isinstance(data, list):
        for value in data:
            found = _macros_in_data(value)
            if found:
                return found
    return {}


def _parse_config(path: Path, text: str):
    try:
        if path.suffix == ".toml":
            import tomllib
            return tomllib.loads(text)
        if path.suffix in (".yml", ".yaml"):
            import yaml
            return yaml.safe_load(text)
        if path.suffix == ".json":
            import json
            return json.loads(text)
    except Exception:  # a config we cannot parse says nothing about math; the build goes on
        return None
    return None


def site_math(root: Path, limit: int = 400) -> SiteMath:
    """What the site in the book folder says about math: its config and templates."""
    root = Path(root).resolve()
    files = [root / name for name in _SITE_CONFIGS]
    for d in _TEMPLATE_DIRS:
        base = root / d
        if base.is_dir():
            files.extend(p for p in sorted(base.rglob("*"))[:limit]
                         if p.suffix.lower() in _TEMPLATE_SUFFIXES)
    found = SiteMath(macros={})
    for path in files[:limit]:
        try:
            if not path.is_file() or path.stat().st_size > 512_000 or \
                    not path.resolve().is_relative_to(root):
                continue
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        found.files.append(path)
        data = _parse_config(path, text)
        if _SITE_MATH.search(text) or _math_key(data):
            found.loads_math = True
            found.macros.update(_macros_in_data(data) or _macros_in_js(text))
    return found


def _math_key(data, depth: int = 0) -> bool:
    """A config that turns math on: ``[params] math = true``, ``[extra] katex = true``…"""
    if not isinstance(data, dict) or depth > 4:
        return False
    for key, value in data.items():
        if str(key).lower() in _META_KEYS and _truthy(value):
            return True
        if _math_key(value, depth + 1):
            return True
    return False
