"""PDF writer fixes after review: config attribution, image preflight naming, preset warnings,
wide tables, list numbering, page back-links, contents leaders.

The slow tests build small books through the real pipeline and read the PDF back (pypdf,
pdftotext -bbox).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pubpipe import config, pipeline
from pubpipe.config import PdfSection
from pubpipe.document import Diagnostics
from pubpipe.write import pdf as pdfw


def _build_cfg(cfg, out: Path):
    opts = pipeline.BuildOptions(formats=("pdf",), out_dir=out / "build", offline=True,
                                 cache_dir=out / ".cache")
    result = pipeline.build(cfg, opts)
    return result, result.outputs["pdf"]


@pytest.mark.slow
def test_summary_not_attributed_to_a_missing_book_toml(tmp_path):
    md = tmp_path / "post.md"
    md.write_text("# A post\n\nJust one paragraph.\n", encoding="utf-8")
    cfg = config.load(md)
    # a configuration naming a book.toml that is not there (a single-file build, or a file
    # removed since): the summary must not point at it
    cfg.config_file = tmp_path / "book.toml"
    result, out = _build_cfg(cfg, tmp_path)
    summary = [d for d in result.diagnostics if d.code.startswith("pdf-")]
    assert {d.code for d in summary} >= {"pdf-fonts", "pdf-pages", "pdf-spine"}
    assert all(d.file is None for d in summary), [(d.code, d.file) for d in summary]


@pytest.mark.parametrize("preset", ["kdp", "lulu"])
def test_preset_forbidding_crop_marks_warns(preset, tmp_path):
    d = Diagnostics()
    where = tmp_path / "book.toml"
    s = pdfw.resolve_settings(PdfSection(preset=preset, crop_marks=True, bleed="0.125in"), d,
                              where)
    assert not s.marks
    warns = [w for w in d.warnings if w.code == "pdf-preset"]
    assert len(warns) == 1 and "forbids crop marks" in warns[0].message
    assert preset in warns[0].message and warns[0].file == where
    # no marks asked: nothing to say
    d2 = Diagnostics()
    pdfw.resolve_settings(PdfSection(preset=preset, bleed="0.125in"), d2, where)
    assert not [w for w in d2 if w.code == "pdf-preset"]
