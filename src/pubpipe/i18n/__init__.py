"""The words pubpipe itself writes, in the book's language: labels, dates and quotation marks.

Labels come from gettext catalogues (``i18n/locale/<lang>/LC_MESSAGES/pubpipe.po``, the ecosystem's
convention, so a translator adds a language by copying ``pubpipe.pot``); they are read with Babel at
run time, so no compile step is needed. A language without a catalogue gets English. Any label can
be overridden in ``book.toml`` (``[labels]``, by the key names of ``LABELS``); longer sentences (the
EPUB accessibility summary) are messages of the same catalogues, looked up by their English text
(``gettext``/``ngettext``) where they are written. Dates are formatted
from CLDR through Babel; quotation marks come from one small table (CLDR data Babel does not carry).
"""

from __future__ import annotations

import datetime as dt
import functools
import gettext
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "pubpipe"

# The labels a book can override, by key, with their English text (the gettext msgid).
# ``%(x)s`` placeholders are filled by the writer.
LABELS: dict[str, str] = {
    "contents": "Contents",
    "cover": "Cover",
    "title-page": "Title page",
    "start-of-content": "Start of content",
    "notes": "Notes",
    "sources": "Sources",
    "glossary": "Glossary",
    "index": "Index",
    "pages": "Pages",
    "landmarks": "Guide",
    "see-page": "see p.\u00a0%(page)s",
    "page": "p.\u00a0%(page)s",
    "figure": "Figure",
    "table": "Table",
    "image": "Image",
    "image-not-available": "Image not available",
    "cover-alt": "Cover: %(title)s",
    "cover-alt-by": "Cover: %(title)s, by %(authors)s",
    "names-and": "%(names)s and %(last)s",
    "byline": "By %(names)s",
    "published": "Published %(date)s",
    "copyright": "Copyright \u00a9 %(rights)s",
    "chapter-n": "Chapter %(n)s",
}

# Quotation marks per language: (open, close, inner open, inner close). CLDR delimiters.
QUOTES: dict[str, tuple[str, str, str, str]] = {
    "en": ("\u201c", "\u201d", "\u2018", "\u2019"),
    "de": ("\u201e", "\u201c", "\u201a", "\u2018"),
    "de-ch": ("\u00ab", "\u00bb", "\u2039", "\u203a"),
    "fr": ("\u00ab\u00a0", "\u00a0\u00bb", "\u201c", "\u201d"),
    "fr-ch": ("\u00ab", "\u00bb", "\u2039", "\u203a"),
    "es": ("\u00ab", "\u00bb", "\u201c", "\u201d"),
    "it": ("\u00ab", "\u00bb", "\u201c", "\u201d"),
    "pt": ("\u00ab", "\u00bb", "\u201c", "\u201d"),
    "pt-br": ("\u201c", "\u201d", "\u2018", "\u2019"),
    "nl": ("\u201c", "\u201d", "\u2018", "\u2019"),
    "pl": ("\u201e", "\u201d", "\u00ab", "\u00bb"),
    "ru": ("\u00ab", "\u00bb", "\u201e", "\u201c"),
    "uk": ("\u00ab", "\u00bb", "\u201e", "\u201c"),
    "cs": ("\u201e", "\u201c", "\u201a", "\u2018"),
    "sk": ("\u201e", "\u201c", "\u201a", "\u2018"),
    "da": ("\u00bb", "\u00ab", "\u203a", "\u2039"),
    "sv": ("\u201d", "\u201d", "\u2019", "\u2019"),
    "fi": ("\u201d", "\u201d", "\u2019", "\u2019"),
    "nb": ("\u00ab", "\u00bb", "\u2018", "\u2019"),
    "no": ("\u00ab", "\u00bb", "\u2018", "\u2019"),
    "hu": ("\u201e", "\u201d", "\u00bb", "\u00ab"),
    "el": ("\u00ab", "\u00bb", "\u201c", "\u201d"),
    "tr": ("\u201c", "\u201d", "\u2018", "\u2019"),
    "zh": ("\u201c", "\u201d", "\u2018", "\u2019"),
    "zh-hant": ("\u300c", "\u300d", "\u300e", "\u300f"),
    "zh-tw": ("\u300c", "\u300d", "\u300e", "\u300f"),
    "zh-hk": ("\u300c", "\u300d", "\u300e", "\u300f"),
    "ja": ("\u300c", "\u300d", "\u300e", "\u300f"),
    "ko": ("\u201c", "\u201d", "\u2018", "\u2019"),
    "ar": ("\u201d", "\u201c", "\u2019", "\u2018"),
    "fa": ("\u00ab", "\u00bb", "\u2039", "\u203a"),
    "he": ("\u201d", "\u201d", "\u2019", "\u2019"),
}


def _candidates(lang: str) -> list[str]:
    """'de-AT' -> ['de-at', 'de']; 'zh-Hant-TW' -> ['zh-hant-tw', 'zh-hant', 'zh']."""
    parts = (lang or "en").replace("_", "-").lower().split("-")
    return ["-".join(parts[:i]) for i in range(len(parts), 0, -1)]


def quotes(lang: str) -> tuple[str, str, str, str]:
    for c in _candidates(lang):
        if c in QUOTES:
            return QUOTES[c]
    return QUOTES["en"]


def _babel_locale(lang: str):
    from babel import Locale, UnknownLocaleError

    for c in _candidates(lang):
        try:
            return Locale.parse(c.replace("-", "_"))
        except (UnknownLocaleError, ValueError):
            continue
    return Locale.parse("en")


_ISO = re.compile(r"^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?$")


def format_date(iso: str, lang: str) -> str:
    """An ISO date (YYYY, YYYY-MM or YYYY-MM-DD) written out in lang, from CLDR via Babel:
    '2024-05-01' -> 'May 1, 2024' (en), '1. Mai 2024' (de), '2024年5月1日' (ja); anything that
    is not such a date is returned as it is."""
    from babel import dates

    m = _ISO.match((iso or "").strip())
    if not m:
        return iso
    locale = _babel_locale(lang)
    try:
        if m[3]:
            return dates.format_date(dt.date(int(m[1]), int(m[2]), int(m[3])), format="long",
                                     locale=locale)
        if m[2]:
            return dates.format_skeleton("yMMMM", dt.date(int(m[1]), int(m[2]), 1),
                                         locale=locale)
    except ValueError:
        return iso
    return m[1]


@functools.lru_cache(maxsize=None)
def _catalogue(primary: str) -> gettext.NullTranslations:
    """The catalogue for a language, read from its .po file (compiled in memory)."""
    from babel.messages import mofile, pofile

    for c in _candidates(primary):
        path = LOCALE_DIR / c / "LC_MESSAGES" / f"{DOMAIN}.po"
        if path.is_file():
            with path.open("rb") as f:
                catalog = pofile.read_po(f, locale=c.replace("-", "_"))
            buf = io.BytesIO()
            mofile.write_mo(buf, catalog)
            buf.seek(0)
            return gettext.GNUTranslations(buf)
    return gettext.NullTranslations()


def available() -> list[str]:
    """Languages with a catalogue."""
    return sorted(p.parent.parent.name for p in LOCALE_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))


@dataclass
class Labels:
    """The words of one book: its language's catalogue, with the book's overrides on top."""

    lang: str = "en"
    overrides: dict[str, str] = field(default_factory=dict)

    @property
    def _t(self) -> gettext.NullTranslations:
        return _catalogue((self.lang or "en").lower())

    def __call__(self, key: str, **values) -> str:
        text = self.overrides.get(key) or self._t.gettext(LABELS[key])
        if values:
            try:
                return text % values
            except (KeyError, ValueError, TypeError):  # a bad override: the English pattern
                return LABELS[key] % values
        return text

    def split(self, key: str, placeholder: str) -> tuple[str, str]:
        """The text before and after one placeholder ('see p. %(page)s' -> ('see p. ', ''))."""
        text = self(key)
        mark = f"%({placeholder})s"
        if mark not in text:
            return text + " ", ""
        before, after = text.split(mark, 1)
        return before, after

    def gettext(self, message: str) -> str:
        """A sentence pubpipe writes (English source text) in the book's language."""
        return self._t.gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        """The form for n under the language's plural rule."""
        return self._t.ngettext(singular, plural, n)

    def names(self, names: list[str]) -> str:
        """'A', 'A and B', 'A, B and C' in the book's language."""
        if len(names) <= 1:
            return "".join(names)
        return self("names-and", names=", ".join(names[:-1]), last=names[-1])

    def date(self, iso: str) -> str:
        return format_date(iso, self.lang)

    def quotes(self) -> tuple[str, str, str, str]:
        return quotes(self.lang)


def labels_for(lang: str, overrides: dict[str, str] | None = None) -> Labels:
    return Labels(lang=lang or "en", overrides=dict(overrides or {}))
