"""The screen preset writes a tagged PDF (PDF/UA-1 through WeasyPrint's own variant); print
presets stay untagged with their PDF/X needs; preflight reads the tags back."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image
from pypdf import PdfReader

from pubpipe import config, pipeline
from pubpipe.config import PdfSection
from pubpipe.layout import settings as psettings
from pubpipe.write.pdf import preflight

CHAPTER = """---
title: Tagged
lang: de
---

Ein Absatz mit einem [Link](https://example.org/).

#### Ein Abschnitt

![Ein rotes Rechteck](red.png)

<figure><img src="blue.png"><figcaption>Ein blaues Rechteck, nur mit Bildunterschrift.</figcaption></figure>

![](green.png)

| Fluss | Länge |
|---|---|
| Rhein | 1230 km |
"""


def _book(folder: Path, pdf_toml: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, colour in (("red", (200, 30, 30)), ("blue", (30, 60, 200)), ("green", (30, 160, 60))):
        Image.new("RGB", (300, 200), colour).save(folder / f"{name}.png")
    (folder / "tagged.md").write_text(CHAPTER, encoding="utf-8")
    (folder / "book.toml").write_text('[book]\ntitle = "Getaggt"\nlanguage = "de"\n'
                                      'chapters = ["tagged.md"]\n\n[pdf]\n' + pdf_toml,
                                      encoding="utf-8")
    return folder


def _build(src: Path):
    cfg = config.load(src)
    result = pipeline.build(cfg, pipeline.BuildOptions(formats=("pdf",), out_dir=src / "build",
                                                       offline=True, cache_dir=src / ".cache"))
    return result, result.outputs["pdf"]


def test_screen_preset_settings():
    screen = psettings.resolve_settings(PdfSection(preset="screen"))
    assert screen.variant == "pdf/ua-1" and screen.tagged
    other = psettings.resolve_settings(PdfSection(preset="screen", variant="pdf/a-2b"))
    assert other.variant == "pdf/a-2b" and other.tagged  # another variant, still tagged
    for preset in ("", "kdp", "lulu", "proof", "ingramspark"):
        assert not psettings.resolve_settings(PdfSection(preset=preset)).tagged, preset
    assert psettings.resolve_settings(PdfSection(variant="pdf/ua-2")).tagged


@pytest.mark.slow
def test_screen_pdf_is_tagged_with_language_title_and_alt(tmp_path):
    result, out = _build(_book(tmp_path / "screen", 'preset = "screen"\n'))
    tags = preflight.tag_report(out.read_bytes())
    assert tags["tagged"] and tags["lang"] == "de" and tags["display_title"]
    assert tags["title"] == "Getaggt"
    assert tags["figures"] == 3 and tags["figures_without_alt"] == []
    assert tags["headings"] >= 2
    reader = PdfReader(out)
    alts = []
    stack = [reader.trailer["/Root"]["/StructTreeRoot"]["/K"]]
    while stack:
        node = stack.pop().get_object()
        if isinstance(node, list):
            stack.extend(node)
        elif hasattr(node, "get") and "/S" in node:
            if node["/S"] == "/Figure":
                alts.append(str(node["/Alt"]))
            if node.get("/K") is not None:
                stack.append(node["/K"])
    assert sorted(alts) == ["Ein blaues Rechteck, nur mit Bildunterschrift.",
                            "Ein rotes Rechteck", "Image: green.png"]
    xmp = reader.trailer["/Root"]["/Metadata"].get_object().get_data()
    assert b"pdfuaid:part" in xmp  # WeasyPrint's PDF/UA-1 identification
    notes = [d.message for d in result.diagnostics if d.code == "pdf-tags"]
    assert notes == ["tagged PDF (PDF/UA-1): %d structure elements, %d headings, 3 figures"
                     " (3 with alt text), language de" % (tags["elements"], tags["headings"])]
    if shutil.which("pdfinfo"):
        info = subprocess.run(["pdfinfo", str(out)], capture_output=True, text=True).stdout
        assert "Tagged:          yes" in info


@pytest.mark.slow
def test_print_preset_is_not_tagged_and_preflight_says_so(tmp_path):
    result, out = _build(_book(tmp_path / "kdp", 'preset = "kdp"\n'))
    tags = preflight.tag_report(out.read_bytes())
    assert not tags["tagged"] and tags["figures"] == 0
    assert not [d for d in result.diagnostics if d.code == "pdf-tags"]
