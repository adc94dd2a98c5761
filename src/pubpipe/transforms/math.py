"""TeX formulas to MathML, with the TeX kept as the accessible alternative.

The reader leaves each formula as ``<code data-pp-math="inline|display">TeX</code>``. Here the TeX
is converted with latex2mathml into presentation MathML::

    <math display="block" alttext="TeX">
      <semantics><mrow>…</mrow><annotation encoding="application/x-tex">TeX</annotation></semantics>
    </math>

Macros are honoured: ``[math] macros`` in book.toml and macros the site's KaTeX/MathJax
configuration declares (for every chapter), and ``\\newcommand``/``\\renewcommand``/``\\def``/
``\\DeclareMathOperator`` written in a post's own formulas (for that post, wherever they stand; a
formula that only defines macros shows nothing, as in the browser).

A formula that cannot be converted (an unknown command, unbalanced braces, a command missing its
arguments) stays as TeX in code style, with a ``math-unconverted`` warning naming file and line;
nothing is dropped. latex2mathml prints an unknown command as text, so the output is checked for
leftover backslashes and for elements missing children, and only allowlisted MathML elements and
attributes are kept (no ``href`` from ``\\href``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from xml.etree import ElementTree as ET

from lxml import etree

from ..document import Book, Chapter
from ..util import remove_keep_tail

MATHML_NS = "http://www.w3.org/1998/Math/MathML"
TEX_ENCODING = "application/x-tex"

# What latex2mathml writes, minus what a book must not carry (links, actions).
TAGS = {"math", "mrow", "mi", "mn", "mo", "mtext", "ms", "mspace", "msub", "msup", "msubsup",
        "mfrac", "msqrt", "mroot", "mover", "munder", "munderover", "mtable", "mtr", "mtd",
        "mlabeledtr", "mstyle", "menclose", "mpadded", "mphantom", "mmultiscripts", "mprescripts",
        "none", "merror", "semantics", "annotation"}
ATTRIBUTES = {"display", "alttext", "mathvariant", "mathsize", "mathcolor", "mathbackground",
              "stretchy", "fence", "separator", "form", "lspace", "rspace", "minsize", "maxsize",
              "symmetric", "largeop", "movablelimits", "accent", "accentunder", "linethickness",
              "displaystyle", "scriptlevel", "columnalign", "rowalign", "columnspacing",
              "rowspacing", "columnlines", "rowlines", "frame", "width", "height", "depth",
              "voffset", "notation", "linebreak", "encoding"}
# Elements with a fixed number of children; fewer means the TeX lacked an argument.
_ARITY = {"mfrac": 2, "msub": 2, "msup": 2, "msubsup": 3, "mroot": 2, "mover": 2, "munder": 2,
          "munderover": 3}
_ORDINARY = {"\u2207", "\u2202", "\u221e", "\u2205", "\u210f", "\u2113"}
_ENTITY = re.compile(r"&#[xX]([0-9A-Fa-f]+);|&#(\d+);")
_COMMAND = re.compile(r"\\([A-Za-z]+|.)", re.S)


class TexError(ValueError):
    """A formula latex2mathml cannot convert faithfully; the message says why, for the author."""


# -- macros ---------------------------------------------------------------------------------------

@dataclass
class Macro:
    body: str
    nargs: int = 0
    default: str | None = None  # the first argument's default, when it is optional


@dataclass
class Macros:
    table: dict[str, Macro] = field(default_factory=dict)

    @classmethod
    def from_mapping(cls, mapping: dict[str, str]) -> Macros:
        """KaTeX's ``macros`` option: ``{"\\\\RR": "\\\\mathbb{R}", "\\\\norm": "\\\\lVert #1 \\\\rVert"}``."""
        out = cls()
        for name, body in mapping.items():
            name = name if name.startswith("\\") else "\\" + name
            nargs = max((int(d) for d in re.findall(r"#([1-9])", body)), default=0)
            out.table[name[1:]] = Macro(body, nargs)
        return out

    def copy(self) -> Macros:
        return Macros(dict(self.table))


def read_group(tex: str, i: int) -> tuple[str, int]:
    """The argument at i (after spaces): a {braced group}'s content or one token; and its end."""
    n = len(tex)
    while i < n and tex[i].isspace():
        i += 1
    if i >= n:
        raise TexError("a command is missing its argument")
    if tex[i] == "{":
        depth, j = 0, i
        while j < n:
            c = tex[j]
            if c == "\\":
                j += 2
                continue
            if c == "{":
                depth += 1
            elif c == "}":
                depth -= 1
                if depth == 0:
                    return tex[i + 1:j], j + 1
            j += 1
        raise TexError("unbalanced braces: a '{' is never closed")
    m = _COMMAND.match(tex, i)
    if m:
        return m.group(0), m.end()
    return tex[i], i + 1


def _read_optional(tex: str, i: int) -> tuple[str | None, int]:
    j = i
    while j < len(tex) and tex[j].isspace():
        j += 1
    if j < len(tex) and tex[j] == "[":
        end = tex.find("]", j)
        if end < 0:
            raise TexError("a '[' is never closed")
        return tex[j + 1:end], end + 1
    return None, i


_DEFINITION = re.compile(r"\\(newcommand|renewcommand|providecommand|def|gdef|edef|"
                         r"DeclareMathOperator)(\*?)")


def take_definitions(tex: str, macros: Macros) -> str:
    """Record the macros tex defines in macros; return tex without the definitions."""
    out, i = [], 0
    while True:
        m = _DEFINITION.search(tex, i)
        if not m:
            out.append(tex[i:])
            return "".join(out)
        if m.end() < len(tex) and tex[m.end()].isalpha():  # \define, \newcommandx...
            out.append(tex[i:m.end()])
            i = m.end()
            continue
        out.append(tex[i:m.start()])
        kind, star, j = m.group(1), m.group(2), m.end()
        name, j = read_group(tex, j)
        name = name.strip()
        if not re.fullmatch(r"\\[A-Za-z]+|\\.", name):
            raise TexError(f"\\{kind} needs a command name, not '{name}'")
        if kind == "DeclareMathOperator":
            text, j = read_group(tex, j)
            op = "\\operatorname*" if star else "\\operatorname"
            macros.table[name[1:]] = Macro(f"{op}{{{text}}}")
        elif kind in ("def", "gdef", "edef"):
            params = re.match(r"(?:#[1-9])*", tex[j:]).group(0)
            j += len(params)
            body, j = read_group(tex, j)
            macros.table[name[1:]] = Macro(body, params.count("#"))
        else:
            count, j = _read_optional(tex, j)
            default, j = _read_optional(tex, j) if count else (None, j)
            body, j = read_group(tex, j)
            if not (count or "0").strip().isdigit():
                raise TexError(f"\\{kind}{{{name}}}: the number of arguments must be a digit")
            if kind != "providecommand" or name[1:] not in macros.table:
                macros.table[name[1:]] = Macro(body, int((count or "0").strip()), default)
        i = j


def expand(tex: str, macros: Macros, limit: int = 20000) -> str:
    """tex with every macro of macros expanded (nested ones too), like TeX would."""
    if not macros.table:
        return tex
    for _ in range(64):
        out, i, changed = [], 0, False
        while i < len(tex):
            m = _COMMAND.match(tex, i) if tex[i] == "\\" else None
            if not m:
                out.append(tex[i])
                i += 1
                continue
            macro = macros.table.get(m.group(1))
            if macro is None:
                out.append(m.group(0))
                i = m.end()
                continue
            j, args = m.end(), []
            if macro.default is not None:
                opt, j = _read_optional(tex, j)
                args.append(macro.default if opt is None else opt)
            while len(args) < macro.nargs:
                arg, j = read_group(tex, j)
                args.append(arg)
            body = re.sub(r"#([1-9])", lambda a: args[int(a.group(1)) - 1]
                          if int(a.group(1)) <= len(args) else a.group(0), macro.body)
            body = body.replace("##", "#")
            if re.search(r"\\[A-Za-z]+$", body):
                body += " "  # "\R x": the macro's last command must not swallow what follows
            out.append(body)
            i, changed = j, True
        tex = "".join(out)
        if not changed:
            return tex
        if len(tex) > limit:
            break
    raise TexError("macro expansion does not end (a macro that calls itself?)")


# -- conversion -----------------------------------------------------------------------------------

_ALIGN_ENVS = re.compile(r"\\(begin|end)\{(?:align|aligned|alignat|flalign)\*?\}(?:\{\d+\})?")
_STACKED_ENVS = re.compile(r"\\begin\{(gather\*?|gathered|multline\*?|eqnarray\*?)\}(.*?)"
                           r"\\end\{\1\}", re.S)


def _stacked(m: re.Match) -> str:
    """gather/multline as a centred column, eqnarray as its three columns (rcl), display style."""
    rows = re.split(r"\\\\(?:\[[^\]]*\])?", m.group(2))
    spec = "rcl" if m.group(1).startswith("eqnarray") else "c"
    body = " \\\\ ".join(" & ".join("\\displaystyle " + cell for cell in row.split("&"))
                          for row in rows)
    return f"\\begin{{array}}{{{spec}}}{body}\\end{{array}}"


_SWITCH_GROUP = re.compile(r"\\(color\s*\{[^{}]*\}|(?:display|text|script|scriptscript)style)\s*(?=\{)")


def _switch_groups(tex: str) -> str:
    """``\\color{red}{x}`` and ``\\scriptstyle{x}`` as bloggers mean them (KaTeX reads them so):
    the switch applies to the group after it. latex2mathml would let it swallow the rest of the
    formula, alignment ``&`` included."""
    out, i = [], 0
    for m in _SWITCH_GROUP.finditer(tex):
        if m.start() < i:
            continue
        try:
            group, end = read_group(tex, m.end())
        except TexError:
            continue
        out.append(tex[i:m.start()])
        if m.group(1).startswith("color"):
            color = m.group(1)[m.group(1).index("{"):]
            out.append(f"\\textcolor{color}{{{_switch_groups(group)}}}")
        else:
            out.append(f"{{\\{m.group(1)} {_switch_groups(group)}}}")
        i = end
    out.append(tex[i:])
    return "".join(out)


def _prepare(tex: str) -> str:
    """Work around what latex2mathml gets wrong or does not know."""
    tex = _switch_groups(tex)
    # an empty last cell ("a &= b & \\"): latex2mathml loses the row break, ziamath the table
    tex = re.sub(r"&\s*(?=\\\\|\\end\{)", "", tex)
    tex = re.sub(r"\\label\s*\{[^{}]*\}|\\(?:nonumber|notag)(?![A-Za-z])", "", tex)
    # MathJax and KaTeX number no equation unless configured to: neither do we
    tex = _ALIGN_ENVS.sub(lambda m: f"\\{m.group(1)}{{align*}}", tex)
    tex = re.sub(r"\\(begin|end)\{equation\}", r"\\\1{equation*}", tex)
    tex = _STACKED_ENVS.sub(_stacked, tex)
    tex = tex.replace("\\|", "\\Vert ")  # "\big\|" would otherwise stay as text
    tex = re.sub(r"\\arg(?![A-Za-z])", r"\\operatorname{arg}", tex)
    tex = re.sub(r"\\mathrm\{(\w)\}", r"\\mathrm {\1}", tex)  # one letter: upright, not italic
    # \operatorname takes plain letters only: "arg\,max" becomes "arg max" with a thin space
    tex = re.sub(r"(\\operatorname\*?\s*)\{([^{}]*)\}",
                 lambda m: m.group(1) + "{" + re.sub(r"\\[,:;! ]|~", "\u2009", m.group(2)) + "}",
                 tex)
    return tex


def _check_braces(tex: str) -> None:
    depth, i = 0, 0
    while i < len(tex):
        c = tex[i]
        if c == "\\":
            i += 2
            continue
        depth += (c == "{") - (c == "}")
        if depth < 0:
            raise TexError("unbalanced braces: a '}' closes nothing")
        i += 1
    if depth:
        raise TexError("unbalanced braces: a '{' is never closed")
    begins = re.findall(r"\\begin\{([^}]*)\}", tex)
    ends = re.findall(r"\\end\{([^}]*)\}", tex)
    if sorted(begins) != sorted(ends):
        raise TexError("\\begin and \\end do not match")


def _decode(text: str | None) -> str | None:
    if not text:
        return text
    return _ENTITY.sub(lambda m: chr(int(m.group(1), 16) if m.group(1) else int(m.group(2))), text)


def _color(value: str) -> str | None:
    """A colour as MathML in EPUB accepts it (#rrggbb), readable on white, or None."""
    from PIL import ImageColor

    try:
        rgb = ImageColor.getrgb(value.strip())[:3]
    except ValueError:
        return None
    # the author's hue, dark enough to read on white (WCAG AA: contrast 4.5:1), since "the red
    # parts" of a formula carry meaning but a light colour would fail readers
    while _contrast_on_white(rgb) < 4.5:
        rgb = tuple(int(c * 0.9) for c in rgb)
    return "#%02x%02x%02x" % rgb


def _contrast_on_white(rgb: tuple[int, ...]) -> float:
    def channel(c: int) -> float:
        c = c / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    lum = 0.2126 * channel(rgb[0]) + 0.7152 * channel(rgb[1]) + 0.0722 * channel(rgb[2])
    return 1.05 / (lum + 0.05)


def _copy(src: ET.Element, parent: etree._Element | None) -> etree._Element:
    tag = src.tag.split("}")[-1]
    if tag not in TAGS:
        tag = "mrow"  # keep what is inside, under a neutral element
    el = etree.Element(f"{{{MATHML_NS}}}{tag}") if parent is None else \
        etree.SubElement(parent, f"{{{MATHML_NS}}}{tag}")
    for k, v in src.attrib.items():
        if k in ("mathcolor", "mathbackground"):
            v = _color(v)
        if k in ATTRIBUTES and v:
            el.set(k, v)
    if tag == "mi" and src.text == "&":  # "\\&" comes as an entity; a bare "&" is misplaced
        raise TexError("'&' outside an alignment (align, matrix, cases…)")
    el.text = _decode(src.text)
    if el.text and re.fullmatch(r"\\([A-Za-z]+|\|)", el.text):
        # a delimiter after \big, \Bigl… is left as its command name: look its symbol up
        from latex2mathml.symbols_parser import convert_symbol

        code = convert_symbol(el.text)
        if code:
            el.text = chr(int(code, 16))
    if el.text and "\\" in el.text:
        cmd = re.search(r"\\([A-Za-z]+|.)", el.text)
        raise TexError(f"unknown command {cmd.group(0) if cmd else el.text}")
    for child in src:
        c = _copy(child, el)
        c.tail = _decode(child.tail)
    need = _ARITY.get(tag)
    if need and len(el) < need:
        raise TexError("a command is missing its argument (\\frac, ^, _ or \\sqrt[ ])")
    return el


_TOKENS = {"mi", "mn", "mo", "mtext", "ms"}
_FLAT = _TOKENS | {"mrow", "mspace", "mstyle"}


def _fix_tokens(root: etree._Element) -> None:
    """A token element (mi, mo…) may hold only text: latex2mathml nests rows in them for
    ``\\mathrel{+}`` or ``\\mathop{\\mathrm{…}}``. Plain content becomes the token's text; anything
    else turns the token into a row."""
    for el in list(root.iter()):
        if etree.QName(el).localname not in _TOKENS or not len(el):
            continue
        inside = list(el.iterdescendants())
        if all(etree.QName(d).localname in _FLAT for d in inside):
            text = "".join(("\u2009" if etree.QName(d).localname == "mspace" else (d.text or ""))
                           for d in inside)
            for child in list(el):
                el.remove(child)
            el.text = (el.text or "") + text
        else:
            el.tag = f"{{{MATHML_NS}}}mrow"
            for k in list(el.attrib):
                if k not in ("mathvariant", "mathcolor"):
                    del el.attrib[k]


def tex_to_mathml(tex: str, display: bool, macros: Macros | None = None,
                  alttext: str | None = None) -> etree._Element:
    """One formula to a ``<math>`` element (lxml, MathML namespace). Raises TexError."""
    import latex2mathml.converter

    expanded = expand(tex, macros) if macros else tex
    _check_braces(expanded)
    prepared = _prepare(expanded)
    if not prepared.strip():
        raise TexError("the formula is empty")
    try:
        converted = latex2mathml.converter.convert_to_element(
            prepared, display="block" if display else "inline")
    except Exception as e:  # latex2mathml signals bad TeX with many exception types
        words = re.sub(r"(?<!^)([A-Z])", r" \1", type(e).__name__).lower().replace(" error", "")
        raise TexError(f"TeX syntax error ({words}{': ' + str(e) if str(e) else ''})") from None
    inner = etree.Element(f"{{{MATHML_NS}}}mrow")
    for child in converted:
        c = _copy(child, inner)
        c.tail = None
    _fix_tokens(inner)
    for mo in inner.iter(f"{{{MATHML_NS}}}mo"):
        if mo.text in _ORDINARY and not mo.attrib:
            mo.tag = f"{{{MATHML_NS}}}mi"  # TeX's \nabla and \partial are letters, not operators
    if len(inner) == 1 and inner[0].tag == f"{{{MATHML_NS}}}mrow":
        inner = inner[0]
    if not len(inner) and not (inner.text or "").strip():
        raise TexError("the formula shows nothing")
    alt = " ".join((alttext if alttext is not None else tex).split())
    math = etree.Element(f"{{{MATHML_NS}}}math", nsmap={None: MATHML_NS})
    math.set("display", "block" if display else "inline")
    math.set("alttext", alt)
    sem = etree.SubElement(math, f"{{{MATHML_NS}}}semantics")
    sem.append(inner)
    ann = etree.SubElement(sem, f"{{{MATHML_NS}}}annotation", encoding=TEX_ENCODING)
    ann.text = alt
    return math


# -- the stage --------------------------------------------------------------------------------

def run(book: Book, macros: dict[str, str] | None = None) -> None:
    """Convert every formula of every chapter; macros: book-wide (book.toml, site config)."""
    shared = Macros.from_mapping(macros or {})
    for chapter in book.chapters:
        convert_chapter(chapter, book, shared)
        for math in chapter.body.iter(f"{{{MATHML_NS}}}math"):
            _give_alttext(math)


def _give_alttext(math: etree._Element) -> None:
    """MathML given in a post gets a text alternative too: its TeX annotation, else its text."""
    if (math.get("alttext") or "").strip():
        return
    tex = [a.text for a in math.iter(f"{{{MATHML_NS}}}annotation")
           if a.get("encoding") in ("application/x-tex", "TeX", "text/x-latex") and a.text]
    words = tex[0] if tex else "".join(
        el.text or "" for el in math.iter() if etree.QName(el).localname != "annotation")
    words = " ".join(words.split())
    if words:
        math.set("alttext", words)


def convert_chapter(chapter: Chapter, book: Book, shared: Macros) -> None:
    formulas = [el for el in chapter.body.iter("code") if el.get("data-pp-math")]
    if not formulas:
        return
    macros = shared.copy()
    bodies: dict[int, str] = {}
    problems: dict[int, str] = {}
    for k, el in enumerate(formulas):  # a post's macros hold for the whole post
        try:
            bodies[k] = take_definitions(el.text or "", macros)
        except TexError as e:
            problems[k] = str(e)
    for k, el in enumerate(formulas):
        display = el.get("data-pp-math") == "display"
        tex = el.text or ""
        if k in bodies and not bodies[k].strip():
            _remove_definition_only(el)
            continue
        try:
            if k in problems:
                raise TexError(problems[k])
            math = tex_to_mathml(bodies[k], display, macros)
        except TexError as e:
            _keep_as_code(el, display)
            short = " ".join(tex.split())
            short = short if len(short) <= 60 else short[:57] + "..."
            book.diagnostics.warn("math-unconverted", f"formula not converted ({e}); shown as"
                                  f" TeX: {short}", chapter.source, el.sourceline)
            continue
        math.tail = el.tail
        math.sourceline = el.sourceline
        el.getparent().replace(el, math)


def _keep_as_code(el: etree._Element, display: bool) -> None:
    del el.attrib["data-pp-math"]
    el.set("class", "pp-math-tex pp-math-display" if display else "pp-math-tex")


def _remove_definition_only(el: etree._Element) -> None:
    parent = el.getparent()
    remove_keep_tail(el)
    if parent.tag == "p" and not len(parent) and not (parent.text or "").strip():
        remove_keep_tail(parent)
