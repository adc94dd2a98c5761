"""The words pubpipe writes, in the book's language: catalogues complete, dates from CLDR, quotes."""

from __future__ import annotations

import re

import pytest
from babel.messages import pofile

from pubpipe import i18n

REQUIRED = ["en", "de", "fr", "es", "it", "pt", "nl", "pl", "ru", "zh", "ja", "ko", "ar", "he"]


def test_every_required_language_has_a_complete_catalogue():
    have = set(i18n.available())
    assert set(REQUIRED) - {"en"} <= have
    from pubpipe.write.epub.accessibility import SUMMARY

    msgids = set(i18n.LABELS.values()) | {v if isinstance(v, str) else v[0]
                                          for v in SUMMARY.values()}
    for lang in have:
        path = i18n.LOCALE_DIR / lang / "LC_MESSAGES" / "pubpipe.po"
        with path.open("rb") as f:
            cat = pofile.read_po(f, locale=lang)
        ids = {m.id if isinstance(m.id, str) else m.id[0] for m in cat if m.id}
        # the required languages are complete; others may be partial (gettext falls back)
        assert ids == msgids if lang in REQUIRED else ids <= msgids, (lang, ids ^ msgids)
        for m in cat:
            if not m.id:
                continue
            strings = m.string if isinstance(m.string, tuple) else (m.string,)
            assert all(strings), (lang, m.id)
            source = m.id if isinstance(m.id, str) else m.id[1]
            names = re.compile(r"%\((\w+)\)[sd]|\{(\w+)\}")

            def found(text):
                return {a or b for a, b in names.findall(text)}
            wanted = found(source)
            optional = {"n", "have", "they", "described", "bare"}  # counts a language may word
            for s in strings:
                assert found(s) <= wanted, (lang, s)
                assert wanted - optional <= found(s), (lang, s)


@pytest.mark.parametrize("lang, contents, see", [
    ("en", "Contents", "see p.\u00a042"), ("de", "Inhalt", "siehe S.\u00a042"),
    ("fr", "Table des matières", "voir p.\u00a042"), ("ja", "目次", "42ページ参照"),
    ("ar", "المحتويات", "انظر ص.\u00a042"), ("de-AT", "Inhalt", "siehe S.\u00a042"),
    ("xx", "Contents", "see p.\u00a042"),  # no catalogue: English
])
def test_labels_in_the_books_language_with_english_fallback(lang, contents, see):
    words = i18n.labels_for(lang)
    assert words("contents") == contents
    assert words("see-page", page=42) == see


def test_labels_can_be_overridden():
    words = i18n.labels_for("de", {"contents": "Inhaltsverzeichnis"})
    assert words("contents") == "Inhaltsverzeichnis" and words("notes") == "Anmerkungen"


def test_plural_sentences_follow_each_language():
    one, many = "{n} chapter", "{n} chapters"
    assert i18n.labels_for("en").ngettext(one, many, 1) == "{n} chapter"
    assert i18n.labels_for("ru").ngettext(one, many, 5) == "{n} глав"
    assert i18n.labels_for("ru").ngettext(one, many, 2) == "{n} главы"
    assert i18n.labels_for("ru").ngettext(one, many, 21) == "{n} глава"
    assert i18n.labels_for("pl").ngettext(one, many, 22) == "{n} rozdziały"


@pytest.mark.parametrize("lang, iso, text", [
    ("en", "2024-05-01", "May 1, 2024"), ("de", "2024-05-01", "1. Mai 2024"),
    ("fr", "2024-05-01", "1 mai 2024"), ("ja", "2024-05-01", "2024年5月1日"),
    ("en", "2024-05", "May 2024"), ("de", "2024-05", "Mai 2024"), ("de", "2024", "2024"),
    ("en", "not a date", "not a date"), ("zz", "2024-05-01", "May 1, 2024"),
])
def test_dates_come_from_cldr(lang, iso, text):
    assert i18n.format_date(iso, lang) == text


def test_quotes_table():
    assert i18n.quotes("de")[:2] == ("\u201e", "\u201c")
    assert i18n.quotes("de-CH")[:2] == ("\u00ab", "\u00bb")
    assert i18n.quotes("fr")[0] == "\u00ab\u00a0"
    assert i18n.quotes("pt-BR")[:2] == ("\u201c", "\u201d")
    assert i18n.quotes("ja")[:2] == ("\u300c", "\u300d")
    assert i18n.quotes("qq") == i18n.quotes("en")


def _book(root, lang: str, extra: str = ""):
    root.mkdir(parents=True, exist_ok=True)
    (root / "book.toml").write_text(
        f'[book]\ntitle = "Notes {lang}"\nauthors = ["Jo Autor", "Kim Lee"]\nlanguage = "{lang}"\n'
        f'date = "2024-05-01"\nrights = "Jo Autor"\n{extra}', encoding="utf-8")
    (root / "a.md").write_text("---\ntitle: Eins\ndate: April 2, 2024\n---\nText mit Fußnote[^1]"
                               " und [Link](b.md).\n\n[^1]: Die Notiz.\n", encoding="utf-8")
    (root / "b.md").write_text("---\ntitle: Zwei\ndate: 2024-04-03\n---\nNoch \"mehr\".\n",
                               encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def language_books(tmp_path_factory):
    from epubcheck_runner import run_epubcheck
    from pubpipe import config
    from pubpipe.pipeline import BuildOptions, build

    out = tmp_path_factory.mktemp("lang-books")
    made = {}
    for name, lang, extra in (("de", "de", ""), ("ja", "ja", ""),
                              ("de-labels", "de", '[labels]\ncontents = "Inhaltsverzeichnis"\n')):
        root = _book(out / name, lang, extra)
        made[name] = build(config.load(root), BuildOptions(
            formats=("epub", "pdf"), out_dir=out / f"{name}-out", cache_dir=out / "cache",
            offline=True)).outputs
    checks = run_epubcheck([m["epub"] for m in made.values()])
    return made, checks


def _epub_texts(epub) -> dict[str, str]:
    import zipfile

    with zipfile.ZipFile(epub) as z:
        return {n.rsplit("/", 1)[-1]: z.read(n).decode() for n in z.namelist()
                if n.endswith((".xhtml", ".opf", ".ncx"))}


def _pdf_text(pdf) -> str:
    import subprocess

    return " ".join(subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True,
                                   text=True).stdout.split())


def test_language_books_pass_epubcheck(language_books):
    _, checks = language_books
    for result in checks.values():
        assert result.clean, result.report()


def test_a_german_book_speaks_german(language_books):
    made, _ = language_books
    files = _epub_texts(made["de"]["epub"])
    nav = files["nav.xhtml"]
    assert "<h1>Inhalt</h1>" in nav and ">Umschlag<" in nav and ">Titelseite<" in nav
    assert ">Textbeginn<" in nav and "Contents" not in nav and "Cover" not in nav
    assert "<title>Umschlag</title>" in files["cover.xhtml"]
    assert 'alt="Umschlag: Notes de, von Jo Autor und Kim Lee"' in files["cover.xhtml"]
    assert "Jo Autor und Kim Lee" in files["titlepage.xhtml"]
    assert "1. Mai 2024" in files["titlepage.xhtml"]
    assert "Diese Publikation hat 2 Kapitel" in files["content.opf"]
    assert ">2. April 2024</time>" in files["eins.xhtml"]  # written 'April 2, 2024' in the post
    assert ">3. April 2024</time>" in files["zwei.xhtml"]
    assert "\u201emehr\u201c" in files["zwei.xhtml"]
    text = _pdf_text(made["de"]["pdf"])
    assert "Inhalt" in text and "Erschienen am 1. Mai 2024" in text
    assert "Copyright \u00a9 Jo Autor" in text and "(siehe S." in text
    assert "Contents" not in text and "Published" not in text


def test_a_japanese_book_speaks_japanese(language_books):
    made, _ = language_books
    files = _epub_texts(made["ja"]["epub"])
    assert "<h1>目次</h1>" in files["nav.xhtml"] and ">表紙<" in files["nav.xhtml"]
    assert "2024年5月1日" in files["titlepage.xhtml"]
    assert "この出版物は2章" in files["content.opf"]
    text = _pdf_text(made["ja"]["pdf"])
    assert "目次" in text and "発行日：2024年5月1日" in text


def test_labels_are_overridden_from_book_toml(language_books):
    made, _ = language_books
    files = _epub_texts(made["de-labels"]["epub"])
    assert "<h1>Inhaltsverzeichnis</h1>" in files["nav.xhtml"]
    assert "Inhaltsverzeichnis" in _pdf_text(made["de-labels"]["pdf"])
