"""The accessibility summary says which language it is in when that is not the book's."""

from __future__ import annotations

import zipfile
from pathlib import Path

from lxml import etree

from pubpipe import config
from pubpipe.pipeline import BuildOptions, build

OPF = {"o": "http://www.idpf.org/2007/opf"}
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


def _summary_meta(tmp_path: Path, language: str) -> etree._Element:
    book = tmp_path / language
    book.mkdir()
    (book / "book.toml").write_text(f'[book]\ntitle = "Kirja"\nauthors = ["A. Kirjailija"]\n'
                                    f'language = "{language}"\nchapters = ["k.md"]\n')
    (book / "k.md").write_text("# Luku\n\nTeksti.\n")
    out = build(config.load(book / "book.toml"),
                BuildOptions(formats=("epub",), out_dir=tmp_path / f"out-{language}",
                             cache_dir=tmp_path / "cache", offline=True)).outputs["epub"]
    with zipfile.ZipFile(out) as z:
        opf = etree.fromstring(z.read("EPUB/content.opf"))
    assert opf.get(XML_LANG) == language
    return opf.find("o:metadata/o:meta[@property='schema:accessibilitySummary']", OPF)


def test_an_untranslated_summary_is_marked_english(tmp_path):
    fi = _summary_meta(tmp_path, "fi")  # no translation of the summary in the catalogue
    assert fi.text.startswith("This publication has") and fi.get(XML_LANG) == "en"
    de = _summary_meta(tmp_path, "de")  # translated: in the package's language
    assert de.text.startswith("Diese Publikation") and de.get(XML_LANG) is None
    assert _summary_meta(tmp_path, "en-GB").get(XML_LANG) is None
