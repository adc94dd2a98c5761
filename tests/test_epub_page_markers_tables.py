"""Print page numbers in the EPUB: a page that begins inside a long table gets its marker in the
table's body, never in the header that print repeats on every page."""

from __future__ import annotations

import zipfile

import pytest
from lxml import etree

from pubpipe import config
from pubpipe.pipeline import BuildOptions, build

pytestmark = pytest.mark.slow
X = "http://www.w3.org/1999/xhtml"
OPS = "http://www.idpf.org/2007/ops"


def test_no_marker_inside_a_repeated_table_header(tmp_path):
    rows = "\n".join(f"| {1800 + i} | Lamp number {i} | Colza oil | {i * 3} nmi |" for i in range(90))
    (tmp_path / "book.toml").write_text('[book]\ntitle = "Lights"\n[pdf]\npage-size = "6in 9in"\n')
    (tmp_path / "a.md").write_text("# Lighthouses\n\nSome words before the table.\n\n"
                                   "| Year | Lamp name | Fuel | Range |\n|---|---|---|---|\n"
                                   f"{rows}\n\nAnd words after it.\n")
    out = build(config.load(tmp_path), BuildOptions(formats=("epub",), out_dir=tmp_path / "out",
                                                     cache_dir=tmp_path / "cache", offline=True))
    with zipfile.ZipFile(out.outputs["epub"]) as z:
        docs = [etree.fromstring(z.read(n)) for n in z.namelist() if n.endswith(".xhtml")]
    markers = [el for d in docs for el in d.iter(f"{{{X}}}span")
               if el.get(f"{{{OPS}}}type") == "pagebreak"]
    assert len(markers) >= 3  # the table spans several printed pages
    for m in markers:
        assert not any(a.tag == f"{{{X}}}thead" for a in m.iterancestors()), m.get("aria-label")
