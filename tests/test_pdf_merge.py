"""The PDF writer's merge of a book laid out piece by piece: one pass in memory, the chapters'
content left as WeasyPrint compressed it, the folios and running heads drawn after it (stamps,
or the overlay laid out page by page, drawn as a form), and everything that reads fonts finding
theirs."""

from __future__ import annotations

import importlib
import shutil
import subprocess
from pathlib import Path

import pytest

from pubpipe import config, pipeline

TEXT = ("Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor "
        "incididunt ut labore et dolore magna aliqua. ") * 4


def _book(folder: Path, extra: str = "") -> Path:
    folder.mkdir(parents=True)
    (folder / "book.toml").write_text(
        '[book]\ntitle = "Merged"\nauthors = ["A. Writer"]\nlanguage = "en"\n'
        'chapters = ["one.md", "two.md"]\n\n[pdf]\npage-size = "A6"\n' + extra,
        encoding="utf-8")
    (folder / "one.md").write_text("# One\n\n" + "\n\n".join([TEXT] * 8) + "\n",
                                   encoding="utf-8")
    (folder / "two.md").write_text("# Two\n\n*" + TEXT + "*\n\n" + "\n\n".join([TEXT] * 3)
                                   + "\n", encoding="utf-8")
    return folder


def _build(src: Path, tmp: Path, name: str):
    cfg = config.load(src)
    return pipeline.build(cfg, pipeline.BuildOptions(formats=("pdf",), out_dir=tmp / name,
                                                     cache_dir=tmp / "cache", offline=True))


@pytest.mark.slow
def test_merge_is_one_pass_and_keeps_content_compressed(tmp_path, monkeypatch):
    import pypdf
    from pypdf import PdfReader
    from pypdf.generic import ArrayObject

    preflight = importlib.import_module("pubpipe.write.pdf.preflight")
    src = _book(tmp_path / "book")
    opened: list[int] = []
    real = pypdf.PdfReader

    class Counting(real):
        def __init__(self, stream, *a, **k):
            opened.append(len(stream.getvalue()) if hasattr(stream, "getvalue") else -1)
            super().__init__(stream, *a, **k)

    monkeypatch.setattr(pypdf, "PdfReader", Counting)
    out = _build(src, tmp_path, "out").outputs["pdf"]
    monkeypatch.setattr(pypdf, "PdfReader", real)
    data = out.read_bytes()
    # the pieces are read once each; the finished PDF is never parsed again (no second pass)
    pieces = sorted(f.stat().st_size for f in (tmp_path / "cache" / "layout").glob("p-*.pdf"))
    assert len(data) not in opened
    # front matter, two chapters, the stamps: every reader opened is a piece
    assert len(opened) >= 4 and set(opened) <= set(pieces)

    reader = PdfReader(out)
    labels = reader.page_labels
    body = [i for i, lab in enumerate(labels) if lab.isdigit()]
    drawn = 0
    for i in body:
        page = reader.pages[i]
        contents = page["/Contents"]
        streams = [s.get_object() for s in contents] if isinstance(contents, ArrayObject) \
            else [contents.get_object()]
        # WeasyPrint's compressed content is kept as it is (merge_page stored it uncompressed)
        for s in streams:
            assert "/Filter" in s or len(s.get_data()) < 100, (i, len(s.get_data()))
        # the stamps' fonts under names of their own, beside the chapter's
        drawn += any(str(name).startswith("/PPs")
                     for name in page["/Resources"].get("/Font") or {})  # a blank verso: none
    assert drawn >= len(body) - 1  # every body page but a blank verso gets its folio
    # the folios and running heads are there, and their fonts are found
    assert "Merged" in reader.pages[body[1]].extract_text() \
        or "One" in reader.pages[body[1]].extract_text()
    ours = set(preflight.pdf_fonts(data))
    if shutil.which("pdffonts"):
        listed = subprocess.run(["pdffonts", str(out)], capture_output=True, text=True,
                                check=True).stdout.splitlines()[2:]
        assert ours == {line.split()[0] for line in listed}
    assert any("Italic" in name for name in ours)


@pytest.mark.slow
def test_merged_book_with_full_fonts_and_grayscale(tmp_path):
    """A print-on-demand preset: fonts in full (their subset tags dropped, inside the overlay's
    form too), every colour converted, each font file stored once."""
    from pypdf import PdfReader

    preflight = importlib.import_module("pubpipe.write.pdf.preflight")
    src = _book(tmp_path / "book", 'preset = "kdp"\ncolor = "grayscale"\n')
    out = _build(src, tmp_path, "out").outputs["pdf"]
    data = out.read_bytes()
    fonts = preflight.pdf_fonts(data)
    assert fonts and all(f["embedded"] and not f["subset"] for f in fonts.values()), fonts
    found = preflight.colour_report(data)
    assert found["rgb_ops"] == 0 and found["rgb_images"] == 0
    reader = PdfReader(out)
    files = {}
    for page in reader.pages:
        for font in _fonts(page):
            desc = font.get("/FontDescriptor") or font["/DescendantFonts"][0].get_object()[
                "/FontDescriptor"]
            ref = desc.get_object()["/FontFile2"].indirect_reference
            files.setdefault(str(font["/BaseFont"]), set()).add(ref.idnum)
    # one font file per font, however many pieces embedded it
    assert files and all(len(ids) == 1 for ids in files.values()), files


def _fonts(page):
    stack = [page["/Resources"]]
    while stack:
        res = stack.pop().get_object()
        for f in (res.get("/Font") or {}).values():
            yield f.get_object()
        for x in (res.get("/XObject") or {}).values():
            x = x.get_object()
            if x.get("/Subtype") == "/Form" and "/Resources" in x:
                stack.append(x["/Resources"])


@pytest.mark.slow
def test_chapters_are_read_while_the_rest_is_laid_out(tmp_path, monkeypatch):
    """The chapters' PDFs are parsed by the read-ahead thread while the front matter and the
    overlay are laid out; the merge reads only those, and the PDF is the same bytes as one
    merged from pieces all read by the merge itself."""
    import threading

    merge = importlib.import_module("pubpipe.write.pdf.merge")
    src = _book(tmp_path / "book")
    who: list[str] = []
    real = merge.parse

    def parse(pdf: bytes):
        who.append(threading.current_thread().name)
        return real(pdf)

    monkeypatch.setattr(merge, "parse", parse)
    ahead = _build(src, tmp_path, "ahead").outputs["pdf"].read_bytes()
    by_thread = who.count("pubpipe-pdf-read-ahead")
    assert by_thread == 2, who  # the two chapters; the front matter and the overlay in the merge
    assert len(who) >= 4 and not any(t.startswith("pubpipe-pdf") for t in who[by_thread:])
    # without the read-ahead: the same bytes (the layout from a cache of its own)
    who.clear()
    monkeypatch.setattr(merge.ReadAhead, "start", lambda self, pdfs: None)
    cfg = config.load(src)
    alone = pipeline.build(cfg, pipeline.BuildOptions(
        formats=("pdf",), out_dir=tmp_path / "alone", cache_dir=tmp_path / "cache2",
        offline=True)).outputs["pdf"].read_bytes()
    assert "pubpipe-pdf-read-ahead" not in who and len(who) >= 4
    assert alone == ahead


def test_a_read_ahead_gives_what_it_read_once_and_then_stops():
    merge = importlib.import_module("pubpipe.write.pdf.merge")
    ahead = merge.ReadAhead()
    ahead.start([b"not a pdf"])  # read in vain: the merge reads it again (and says what is wrong)
    thread = ahead._thread
    assert ahead.take() == {} and not thread.is_alive()
    ahead.start([b"%PDF-1.7"])  # once taken, nothing more is started
    assert ahead._thread is thread
    late = merge.ReadAhead()
    assert late.take() == {}  # never started (nothing was laid out): nothing to give
    late.start([b"x"])
    assert late._thread is None
