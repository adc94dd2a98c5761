"""Values of book.toml keys: how each is checked, and how a refusal is worded.

A check takes a key's raw TOML value and returns the value to store, or raises ``Invalid`` (what
is accepted, the nearest valid value); ``bad_value`` turns that into the ``ConfigError`` that names
file, line, key and value. Lengths and page sizes are parsed here once, so later stages read points.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..util import normalize_lang


class Invalid(ValueError):
    """A value a key does not accept: what is accepted, and the nearest valid value if any."""

    def __init__(self, accepted: str, nearest: Any = None, problem: str = ""):
        super().__init__(problem or "not accepted")
        self.accepted, self.nearest, self.problem = accepted, nearest, problem


def rule(check: Callable[[Any], Any]) -> dict[str, Any]:
    """Field metadata: check(value) validates (and may normalize) a key's raw TOML value."""
    return {"check": check}


# ---------------------------------------------------------------------------------------------
# Lengths and page sizes: parsed here once, so writers read points.

PT_PER_IN = 72.0
UNITS = {"pt": 1.0, "in": 72.0, "mm": 72 / 25.4, "cm": 72 / 2.54, "px": 0.75, "pc": 12.0,
         "q": 72 / 101.6}
_LENGTH = re.compile(r"^\s*(\d+(?:\.\d+)?|\.\d+)\s*(pt|in|mm|cm|px|pc|q)\s*$", re.I)
_NUMBER = re.compile(r"^\s*(\d+(?:\.\d+)?|\.\d+)\s*$")
NAMED_SIZES = {  # CSS page-size keywords, in points (portrait)
    "a3": (841.89, 1190.55), "a4": (595.28, 841.89), "a5": (419.53, 595.28),
    "a6": (297.64, 419.53), "b4": (708.66, 1000.63), "b5": (498.9, 708.66),
    "jis-b4": (728.5, 1031.81), "jis-b5": (515.91, 728.5), "letter": (612.0, 792.0),
    "legal": (612.0, 1008.0), "ledger": (792.0, 1224.0),
}


def parse_length(text: str) -> float | None:
    """A CSS absolute length ('0.125in', '3mm', '10.5pt') as points, or None."""
    m = _LENGTH.match(text or "") if isinstance(text, str) else None
    return float(m[1]) * UNITS[m[2].lower()] if m else None


def parse_page_size(text: str) -> tuple[float, float] | None:
    """'6in 9in', '6in x 9in', 'A5', 'letter', 'A4 landscape' -> (width, height) in points."""
    words = (text or "").lower().replace(" x ", " ").replace("×", " ").split()
    landscape = "landscape" in words
    words = [w for w in words if w not in ("portrait", "landscape")]
    size = None
    if len(words) == 1 and words[0] in NAMED_SIZES:
        size = NAMED_SIZES[words[0]]
    elif len(words) == 2:
        w, h = parse_length(words[0]), parse_length(words[1])
        if w and h:
            size = (w, h)
    if size and landscape:
        size = (max(size), min(size))
    return size


def _bare_number(value: Any) -> str | None:
    """'11' or 11 -> '11': a number written without its unit."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return f"{value:g}"
    if isinstance(value, str) and _NUMBER.match(value):
        return value.strip()
    return None


def length(accepted: str, default_unit: str, example: str, lo_pt: float, hi_pt: float,
           allow_zero: bool = False) -> Callable[[Any], str]:
    """A length with a unit, between lo_pt and hi_pt points; a bare number is refused."""

    def check(value: Any) -> str:
        if allow_zero and (value == "" or _bare_number(value) in ("0", "0.0")):
            return ""
        bare = _bare_number(value)
        if bare is not None:
            raise Invalid(accepted, f"{bare}{default_unit}", "a length needs a unit")
        pt = parse_length(value)
        if pt is None:
            raise Invalid(accepted, example, "not a length")
        if not lo_pt <= pt <= hi_pt:
            raise Invalid(accepted, example, "out of range")
        return value.strip()

    return check


def choice(options: tuple[str, ...], also: str = "", other: Callable[[str], bool] | None = None,
           empty: bool = True) -> Callable[[Any], str]:
    """One of options (case-insensitive), or a value other() accepts; '' when empty is allowed."""

    def check(value: Any) -> str:
        accepted = ", ".join(options) + (f", {also}" if also else "")
        if not isinstance(value, str):
            raise Invalid(accepted, options[0], "not a string")
        v = value.strip().lower()
        if (empty and v == "") or v in options or (other and other(v)):
            return v
        raise Invalid(accepted, nearest(v, options) or options[0])

    return check


def number(lo: float | None = None, hi: float | None = None, whole: bool = False,
           positive: bool = False) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        kind = "a whole number" if whole else "a number"
        rng = (f" from {lo:g} to {hi:g}" if lo is not None and hi is not None
               else " above 0" if positive else f" of at least {lo:g}" if lo is not None else "")
        accepted = kind + rng
        if isinstance(value, bool) or not isinstance(value, (int, float)) or (
                whole and not isinstance(value, int)):
            bare = _bare_number(value) if isinstance(value, str) else None
            if bare is not None:
                raise Invalid(accepted, float(bare) if not whole else int(float(bare)),
                              "a number is written without quotes")
            if whole and isinstance(value, float) and not isinstance(value, bool):
                raise Invalid(accepted, round(value))
            raise Invalid(accepted, lo if lo is not None else 1)
        if positive and value <= 0:
            raise Invalid(accepted, hi if hi is not None and hi < 1 else 1, "must be above 0")
        if lo is not None and value < lo:
            raise Invalid(accepted, lo)
        if hi is not None and value > hi:
            raise Invalid(accepted, hi)
        return value if whole else float(value)

    return check


def nearest(given: str, options) -> str | None:
    found = difflib.get_close_matches(str(given).lower(), list(options), n=1, cutoff=0.5)
    return found[0] if found else None


# ---------------------------------------------------------------------------------------------
# Checks of single keys

def page_size_value(value: Any) -> str:
    accepted = ('two lengths with units, width then height ("6in 9in", "148mm 210mm"), or a name: '
                + ", ".join(k.upper() if k[0] in "abj" else k for k in NAMED_SIZES)
                + ' (add "landscape" to turn it)')
    if not isinstance(value, str):
        bare = _bare_number(value)
        raise Invalid(accepted, f"{bare}in {float(bare) * 1.5:g}in" if bare else "6in 9in",
                      "not a string")
    size = parse_page_size(value)
    if size is None:
        words = value.lower().replace(" x ", " ").split()
        if len(words) == 1 and (pt := parse_length(words[0])):  # one length: a square? no
            unit = re.sub(r"[\d.\s]", "", words[0])
            w = pt / UNITS[unit]
            raise Invalid(accepted, f"{w:g}{unit} {w * 1.5:g}{unit}", "one length is not a page size")
        if len(words) == 2 and all(_bare_number(w) for w in words):
            raise Invalid(accepted, f"{words[0]}in {words[1]}in", "lengths need units")
        named = nearest(value.strip(), NAMED_SIZES)
        raise Invalid(accepted, named.upper() if named and named[0] in "abj" else named or "6in 9in")
    if not all(72.0 <= s <= 40 * 72.0 for s in size):
        raise Invalid(accepted, "6in 9in", "each side must be from 1in to 40in")
    return value.strip()


def paper_value(value: Any) -> str:
    return choice(("white", "cream", "color"), also='or a thickness per page like "0.0024in"',
                  other=lambda v: parse_length(v) is not None and 0 < parse_length(v) < 7.2,
                  empty=False)(value)


# The PDF variants WeasyPrint 70 writes (weasyprint.pdf.VARIANTS; a test keeps them in step).
VARIANTS = frozenset({
    "pdf/a-1a", "pdf/a-1b", "pdf/a-2a", "pdf/a-2b", "pdf/a-2u", "pdf/a-3a", "pdf/a-3b",
    "pdf/a-3u", "pdf/a-4e", "pdf/a-4f", "pdf/a-4u", "pdf/ua-1", "pdf/ua-2", "pdf/x-1a", "pdf/x-3",
    "pdf/x-4", "pdf/x-5g", "debug"})


def variant_value(value: Any) -> str:
    return choice(tuple(sorted(v for v in VARIANTS if v != "debug")))(value)


def language_value(value: Any) -> str:
    if value == "":
        return ""
    lang = normalize_lang(value) if isinstance(value, str) else None
    if not lang:
        raise Invalid('a language tag like "en", "de-AT" or "pt-BR"', "en")
    return lang


def date_value(value: Any) -> str:
    if hasattr(value, "isoformat"):  # a TOML date
        value = value.isoformat()
    if value == "":
        return ""
    from ..readers.opening import parse_date  # the one date parser of the project

    iso = parse_date(value) if isinstance(value, str) else None
    if not iso:
        raise Invalid('a date like 2019-01-20 (or "January 20, 2019")', "2019-01-20")
    return iso


def site_url_value(value: Any) -> str:
    if value == "":
        return ""
    if not isinstance(value, str) or not re.match(r"^https?://[^/\s]+", value):
        raise Invalid('an http(s) address like "https://blog.example.com"',
                      "https://" + str(value).split("//")[-1].strip("/"))
    return value


def toc_depth_value(value: Any) -> int:
    return number(1, 6, whole=True)(value)


def positive(whole: bool = True, lo: float | None = None, hi: float | None = None):
    """Field metadata: a number from lo to hi (above 0 when lo is None)."""
    return rule(number(lo, hi, whole=whole, positive=lo is None))


def maybe_bool(value: Any) -> bool | None:
    if not isinstance(value, bool):
        raise Invalid("true or false (without quotes); leave the key out to let pubpipe find out",
                      str(value).strip().lower() in ("true", "yes", "1", "on"))
    return value


def macros_value(value: Any) -> dict[str, str]:
    accepted = 'a table of TeX macros, like { "\\RR" = "\\mathbb{R}" }'
    if not isinstance(value, dict):
        raise Invalid(accepted, {}, "not a table")
    for name, tex in value.items():
        if not re.fullmatch(r"\\?[A-Za-z]+", name) or not isinstance(tex, str):
            raise Invalid(accepted, None, f"'{name}' must name a TeX command (like \\RR) and its"
                          " value must be a string of TeX")
    return dict(value)


# ---------------------------------------------------------------------------------------------
# Refusals

def toml_value(value: Any) -> str:
    """A value as it is written in TOML, for messages."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, list)):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, dict):
        return "{…}"
    return str(value)


def check_type(value: Any, hint: Any) -> Any:
    """The value of a key without a rule of its own, checked against its field's type."""
    origin = getattr(hint, "__origin__", None)
    if hint is bool:
        if not isinstance(value, bool):
            word = str(value).strip().lower() if isinstance(value, (str, int)) else ""
            raise Invalid("true or false (without quotes)",
                          word in ("true", "yes", "1", "on"))
        return value
    if hint is int:
        return number(whole=True)(value)
    if hint is float:
        return number()(value)
    if hint is str:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return str(value)
        if hasattr(value, "isoformat"):  # TOML dates
            return value.isoformat()
        if not isinstance(value, str):
            raise Invalid("a string in quotes", str(value))
        return value
    if origin is list:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise Invalid('a list of strings, like ["a", "b"]',
                          [str(v) for v in value] if isinstance(value, list) else [str(value)])
        return list(value)
    return value


def bad_value(file: Path, line: int | None, table: str, key: str, value: Any,
              err: Invalid) -> ConfigError:
    """The error for a value a key refused: file, line, key, value, what is accepted, nearest."""
    where = f"{file}:{line}" if line else str(file)
    problem = f" ({err.problem})" if err.problem and err.problem != "not accepted" else ""
    hint = (f"; nearest valid value: {key} = {toml_value(err.nearest)}"
            if err.nearest is not None else "")
    return ConfigError(f"{where}: [{table}] {key} = {toml_value(value)} is not understood{problem};"
                       f" accepted: {err.accepted}{hint}")
