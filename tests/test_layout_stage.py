"""The print layout stage: chapters laid out as pieces, merged, cached, and left out when no
output needs them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from pubpipe import config, pipeline
from pubpipe.layout.stage import first_folios

LOREM = ("Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor "
         "incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud "
         "exercitation ullamco laboris nisi ut aliquip ex ea commodo consequat. ")


def test_chapters_open_on_rectos():
    assert first_folios([3, 4, 1, 2]) == [1, 5, 9, 11]
    assert first_folios([]) == []


def _book(folder: Path, extra_toml: str = "", link: bool = False) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "book.toml").write_text(
        '[book]\ntitle = "Pieces"\nauthors = ["A. Writer"]\nlanguage = "en"\n'
        'chapters = ["one.md", "two.md", "three.md"]\n\n[pdf]\npage-size = "A6"\n' + extra_toml,
        encoding="utf-8")
    (folder / "one.md").write_text(
        "# First chapter\n\n" + "\n\n".join([LOREM * 3] * 6) +
        ("\n\nSee [the far section](#far-section) in the last chapter.\n" if link else "\n"),
        encoding="utf-8")
    (folder / "two.md").write_text(
        "# Second chapter\n\nAs one study shows [1], and another [2].\n\n" +
        "\n\n".join([LOREM * 2] * 5) + "\n\n## Sources\n\n1. First source, 2019.\n"
        "2. Second source, 2020.\n", encoding="utf-8")
    (folder / "three.md").write_text(
        "# Third chapter\n\n" + "\n\n".join([LOREM * 2] * 4) + "\n\n## Far section\n\nHere.\n",
        encoding="utf-8")
    return folder


def _build(src: Path, cache: Path, out: Path, fmt: str = "pdf"):
    cfg = config.load(src)
    return pipeline.build(cfg, pipeline.BuildOptions(formats=(fmt,), out_dir=out,
                                                     cache_dir=cache, offline=True))


def test_epub_without_page_list_never_lays_out(tmp_path):
    src = _book(tmp_path / "b", "\n[epub]\npage-list = false\n")
    code = (
        "import sys\nfrom pubpipe import config, pipeline\n"
        f"cfg = config.load({str(src)!r})\n"
        "r = pipeline.build(cfg, pipeline.BuildOptions(formats=('epub',), offline=True,"
        f" out_dir={str(tmp_path / 'out')!r}, cache_dir={str(tmp_path / 'c')!r}))\n"
        "assert 'weasyprint' not in sys.modules, 'WeasyPrint imported'\n"
        "assert 'pubpipe.layout.stage' not in sys.modules, 'laid out'\n"
        "print(sorted(r.timings))\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "layout" not in r.stdout and "write epub" in r.stdout
    import zipfile

    nav = zipfile.ZipFile(next((tmp_path / "out").glob("*.epub"))).read("EPUB/nav.xhtml")
    assert b"page-list" not in nav


@pytest.mark.slow
def test_pieces_merge_into_the_book_and_rebuild_alone(tmp_path, monkeypatch):
    from pypdf import PdfReader

    from pubpipe.layout import render

    src = _book(tmp_path / "book")
    calls: list[str] = []
    real = render.render_piece_here

    def counting(job):
        calls.append(f"{job.kind}{job.chapter}")
        return real(job)

    monkeypatch.setenv("PUBPIPE_PDF_INPROCESS", "1")  # so the counter sees every piece
    monkeypatch.setattr(render, "render_piece_here", counting)
    r1 = _build(src, tmp_path / "cache", tmp_path / "out1")
    # chapter two prints page numbers ("p. 5" back-links): its first folio is guessed when it
    # is started, from chapter one (laid out by then, here in one process): right, so every
    # chapter is laid out once
    assert sorted(calls) == ["chapter0", "chapter1", "chapter2", "front-1", "stamps-1"]
    pdf = r1.outputs["pdf"]
    reader = PdfReader(pdf)
    labels = reader.page_labels
    # folios: roman front matter, arabic from chapter 1; chapters open on odd folios
    assert labels[:4] == ["i", "ii", "iii", "iv"] and labels[4] == "1"
    outline = [o for o in reader.outline if not isinstance(o, list)]
    titles = [o.title for o in outline]
    assert titles[0] == "Contents" and titles[1:] == ["First chapter", "Second chapter",
                                                      "Third chapter"]
    opening = {o.title: labels[reader.get_destination_page_number(o)] for o in outline[1:]}
    assert all(int(f) % 2 == 1 for f in opening.values())
    # the contents print those folios
    import re

    contents = reader.pages[2].extract_text()
    for title, folio in opening.items():
        assert re.search(rf"{title}[\s.]*{folio}\b", contents), (title, folio, contents)
    # the contents link (front matter piece) to each chapter (its own piece)
    dests = reader.named_destinations
    links = [(i, str(a.get_object()["/Dest"])) for i, p in enumerate(reader.pages)
             for a in (p.get("/Annots") or []) if "/Dest" in a.get_object()]
    to_three = [d for i, d in links if i == 2 and "third" in d]
    assert to_three, links
    target = reader.get_destination_page_number(dests[to_three[0]])
    assert labels[target] == opening["Third chapter"]
    # running heads and folios are on the body pages (stamped)
    body = reader.pages[5].extract_text()
    assert "Pieces" in body or "First chapter" in body

    # nothing changed: nothing laid out, the same bytes
    calls.clear()
    r2 = _build(src, tmp_path / "cache", tmp_path / "out2")
    assert calls == []
    assert r2.outputs["pdf"].read_bytes() == pdf.read_bytes()

    # one chapter changed (same length): that chapter alone, and the same bytes as a cold build
    text = (src / "three.md").read_text()
    (src / "three.md").write_text(text.replace("Here.", "Here it is."))
    calls.clear()
    r3 = _build(src, tmp_path / "cache", tmp_path / "out3")
    assert calls == ["chapter2"]
    calls.clear()
    cold = _build(src, tmp_path / "cold-cache", tmp_path / "out4")
    assert len(calls) == 5  # the guessed folio is right: nothing laid out twice
    assert r3.outputs["pdf"].read_bytes() == cold.outputs["pdf"].read_bytes()


def _linked_book(folder: Path, paragraphs: int = 5) -> Path:
    """Four chapters that link into each other (forwards, backwards, to a chapter, to a
    section) and within one chapter; paragraphs: the second chapter's length."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "book.toml").write_text(
        '[book]\ntitle = "Links"\nauthors = ["A. Writer"]\nlanguage = "en"\n'
        'chapters = ["one.md", "two.md", "three.md", "four.md"]\n\n[pdf]\npage-size = "A6"\n',
        encoding="utf-8")
    (folder / "one.md").write_text(
        "# First chapter\n\n" + "\n\n".join([LOREM * 3] * 6) +
        "\n\nSee [the far section](three.md#far-section) and [the last one](four.md).\n",
        encoding="utf-8")
    (folder / "two.md").write_text(
        "# Second chapter\n\nAs one study shows [1], and another [2]. Below, [the method]"
        "(#method).\n\n" + "\n\n".join([LOREM * 2] * paragraphs) + "\n\n## Method {#method}"
        "\n\n" + LOREM + "\n\n## Sources\n\n1. First source, 2019.\n2. Second source, 2020.\n",
        encoding="utf-8")
    (folder / "three.md").write_text(
        "# Third chapter\n\nBack to [the first](one.md).\n\n" +
        "\n\n".join([LOREM * 2] * 12) + "\n\n## Far section\n\nHere.\n", encoding="utf-8")
    (folder / "four.md").write_text(
        "# Fourth chapter\n\nAs [the method](two.md#method) says; [more](#closing).\n\n" +
        "\n\n".join([LOREM * 2] * 3) + "\n\n## Closing {#closing}\n\nDone.\n",
        encoding="utf-8")
    return folder


def _page_refs(pdf: Path) -> list[str]:
    """Every "(see p. N)" printed, in order (pdftotext)."""
    import re

    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    return re.findall(r"\(see p\.\s(\d+)\)", " ".join(text.split()))


def _internal_links(pdf: Path) -> list[tuple[str, str, str]]:
    """(label of the page, destination, label of the page it lands on) of every link inside."""
    from pypdf import PdfReader

    reader = PdfReader(pdf)
    names, labels = reader.named_destinations, reader.page_labels
    out = []
    for i, page in enumerate(reader.pages):
        for a in page.get("/Annots") or []:
            a = a.get_object()
            if "/Dest" in a:
                dest = str(a["/Dest"])
                out.append((labels[i], dest,
                            labels[reader.get_destination_page_number(names[dest])]))
    return out


@pytest.mark.slow
def test_links_that_print_pages_across_chapters_lay_out_piece_by_piece(tmp_path, monkeypatch):
    from pubpipe.layout import render

    if not __import__("shutil").which("pdftotext"):
        pytest.skip("poppler not installed")
    src = _linked_book(tmp_path / "book")
    calls: list[str] = []
    real = render.render_piece_here

    def counting(job):
        calls.append(f"{job.kind}{job.chapter}" + ("?" if job.probe else ""))
        return real(job)

    monkeypatch.setenv("PUBPIPE_PDF_INPROCESS", "1")  # so the counter sees every piece
    monkeypatch.setattr(render, "render_piece_here", counting)
    pieces = _build(src, tmp_path / "cache", tmp_path / "pieces").outputs["pdf"]
    # piece by piece: chapters 1, 3 and 4 link into other chapters: on a cold build each is laid
    # out first only to count its pages ("?": no PDF written), then in full with the right
    # numbers; chapter 2 prints its own pages (a source's back-links, "see p." within it): its
    # first folio, guessed from chapter 1 when it starts, is right, so it is laid out once
    assert sorted(calls) == ["chapter0", "chapter0?", "chapter1", "chapter2",
                             "chapter2?", "chapter3", "chapter3?", "front-1", "stamps-1"]
    calls.clear()
    monkeypatch.setenv("PUBPIPE_LAYOUT", "whole")
    whole = _build(src, tmp_path / "whole-cache", tmp_path / "whole").outputs["pdf"]
    assert calls == []
    monkeypatch.delenv("PUBPIPE_LAYOUT")
    # the same numbers as the book laid out as one document, and the links land where they say
    refs = _page_refs(pieces)
    assert len(refs) == 6 and refs == _page_refs(whole)
    links = _internal_links(pieces)
    assert links == _internal_links(whole)
    by_target = {dest.split("--")[-1]: to for _, dest, to in links}
    assert refs == [by_target["far-section"], by_target["fourth-chapter"], by_target["method"],
                    "1", by_target["method"], by_target["closing"]]
    assert int(by_target["closing"]) > int(by_target["fourth-chapter"])

    # nothing changed: nothing laid out; the EPUB's page-list comes from the same pieces
    calls.clear()
    _build(src, tmp_path / "cache", tmp_path / "again")
    epub = _build(src, tmp_path / "cache", tmp_path / "epub", fmt="epub").outputs["epub"]
    assert calls == []
    import zipfile

    from epubcheck_runner import assert_epubcheck_clean

    nav = zipfile.ZipFile(epub).read("EPUB/nav.xhtml").decode()
    assert 'epub:type="page-list"' in nav
    assert_epubcheck_clean(epub)

    # the second chapter grows by a leaf or more: it is laid out again, and so are the chapters
    # whose references now lead to other pages (1 and 4); chapter 3 (to p. 1) is not
    _linked_book(src, paragraphs=9)
    calls.clear()
    incremental = _build(src, tmp_path / "cache", tmp_path / "inc").outputs["pdf"]
    assert "chapter2" not in calls and {"chapter0", "chapter1", "chapter3"} <= set(calls)
    assert not any(c.endswith("?") for c in calls)  # the numbers of the last build: no probe
    moved = _page_refs(incremental)
    assert int(moved[0]) >= int(refs[0]) + 2 and moved[3] == "1"
    cold = _build(src, tmp_path / "cold-cache", tmp_path / "cold").outputs["pdf"]
    assert incremental.read_bytes() == cold.read_bytes()
    monkeypatch.setenv("PUBPIPE_LAYOUT", "whole")
    assert moved == _page_refs(_build(src, tmp_path / "whole-cache", tmp_path / "w2")
                               .outputs["pdf"])


@pytest.mark.slow
@pytest.mark.parametrize("stamped", [True, False])
def test_pieces_look_like_the_book_laid_out_whole(tmp_path, monkeypatch, stamped):
    from pubpipe.layout import stage, stamps

    if not stamped:
        # the overlay (folios, running heads) laid out page by page, in one part per chapter,
        # blank versos after odd chapters included
        monkeypatch.setattr(stamps, "usable", lambda *a: False)
        monkeypatch.setattr(stage, "OVERLAY_PART_PAGES", 1)
    src = _book(tmp_path / "book")
    with (src / "one.md").open("a") as f:  # 7 pages: a blank verso before chapter two
        f.write("\n" + LOREM * 4 + "\n")
    pieces = _build(src, tmp_path / "cache", tmp_path / "pieces").outputs["pdf"]
    monkeypatch.setenv("PUBPIPE_LAYOUT", "whole")
    whole = _build(src, tmp_path / "cache", tmp_path / "whole").outputs["pdf"]
    if not __import__("shutil").which("pdftoppm"):
        pytest.skip("poppler not installed")
    from PIL import Image, ImageChops

    for name, pdf in (("p", pieces), ("w", whole)):
        subprocess.run(["pdftoppm", "-png", "-r", "30", str(pdf), str(tmp_path / name)],
                       check=True)
    a, b = sorted(tmp_path.glob("p-*.png")), sorted(tmp_path.glob("w-*.png"))
    assert len(a) == len(b) > 8
    for x, y in zip(a, b):
        diff = ImageChops.difference(Image.open(x).convert("RGB"), Image.open(y).convert("RGB"))
        assert diff.getbbox() is None, x.name


@pytest.mark.slow
def test_page_numbers_that_do_not_settle_lay_the_book_out_whole(tmp_path, monkeypatch):
    from pubpipe.layout import render, stage

    # no pass allowed after the first layout: the placeholders printed never become the pages
    monkeypatch.setattr(stage, "SETTLE_PASSES", -stage.NOTE_PASSES)
    calls: list[str] = []
    monkeypatch.setenv("PUBPIPE_PDF_INPROCESS", "1")
    real = render.render_piece_here
    monkeypatch.setattr(render, "render_piece_here",
                        lambda job: calls.append(job.kind) or real(job))
    src = _linked_book(tmp_path / "book")
    r = _build(src, tmp_path / "cache", tmp_path / "out")
    # the stamps beside the chapters, probed piece by piece, then laid out whole
    assert calls == ["stamps"] + ["chapter"] * 4
    assert any(d.code == "pdf-layout-whole" for d in r.diagnostics)
    refs = _page_refs(r.outputs["pdf"])
    assert len(refs) == 6 and "000" not in refs and refs[3] == "1"


def test_overlay_parts_are_whole_chapters_of_about_the_part_size():
    from pubpipe.layout.stage import overlay_parts

    assert overlay_parts([12] * 40) == [(0, 10), (10, 20), (20, 30), (30, 40)]
    assert overlay_parts([3, 1, 2]) == [(0, 3)]
    assert overlay_parts([300, 5, 7]) == [(0, 1), (1, 3)]
    assert overlay_parts([]) == []


def test_first_folio_guessed_from_the_chapters_laid_out_so_far():
    from types import SimpleNamespace as Done

    from pubpipe.layout.stage import GUESS_CHARS_PER_PAGE, guess_folio

    sizes = [3000, 6000, 3000, 1000]
    # nothing laid out yet: the default size of a page
    assert guess_folio(0, [None] * 4, sizes) == 1
    assert GUESS_CHARS_PER_PAGE == 2000 and guess_folio(2, [None] * 4, sizes) == 1 + 2 + 4
    # chapter one laid out (3 pages: 1000 characters a page), chapter two estimated at 6 pages
    assert guess_folio(2, [Done(pages=3), None, None, None], sizes) == 1 + 4 + 6
    # every chapter before it laid out: exact (odd lengths are followed by a blank verso)
    assert guess_folio(3, [Done(pages=3), Done(pages=5), Done(pages=2), None], sizes) == 13


@pytest.mark.slow
def test_pieces_are_found_by_image_content_in_a_moved_cache(tmp_path, monkeypatch):
    import shutil

    from PIL import Image

    from pubpipe.layout import render

    src = _book(tmp_path / "book")
    Image.new("RGB", (300, 200), (200, 40, 40)).save(src / "red.png")
    with (src / "three.md").open("a") as f:
        f.write("\n![A red box](red.png)\n")
    calls: list[str] = []
    real = render.render_piece_here
    monkeypatch.setenv("PUBPIPE_PDF_INPROCESS", "1")
    monkeypatch.setattr(render, "render_piece_here",
                        lambda job: calls.append(f"{job.kind}{job.chapter}") or real(job))
    first = _build(src, tmp_path / "cache", tmp_path / "out1").outputs["pdf"].read_bytes()
    assert "chapter2" in calls
    # the cache moved (or a build with another --cache-dir fed from it): nothing laid out again
    shutil.move(tmp_path / "cache", tmp_path / "moved")
    shutil.rmtree(tmp_path / "moved" / "outputs", ignore_errors=True)
    calls.clear()
    again = _build(src, tmp_path / "moved", tmp_path / "out2").outputs["pdf"].read_bytes()
    assert calls == [] and again == first
    # the image's bytes are in the key: another picture under the same name lays out its
    # chapter again, and only that one
    Image.new("RGB", (300, 200), (40, 40, 200)).save(src / "red.png")
    shutil.rmtree(tmp_path / "moved" / "outputs", ignore_errors=True)
    _build(src, tmp_path / "moved", tmp_path / "out3")
    assert calls == ["chapter2"]


def test_a_piece_with_an_emoji_is_the_same_bytes_at_another_time(monkeypatch):
    """WeasyPrint saves colour emoji fonts again with fontTools, which stamps them with the time
    of day: a piece laid out later (an incremental build) must still be the same bytes."""
    import time

    from pubpipe.layout.render import PieceJob, render_piece_here
    from pubpipe.layout.settings import resolve_settings
    from pubpipe.layout.styles import piece_css, stylesheets

    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    s = resolve_settings(None)
    html = ('<html lang="en"><body><section data-ppw="chapter"><h1>Fun</h1>'
            "<p>Sounds fun \U0001F389 and \U0001F600, said no one.</p></section></body></html>")
    job = PieceJob("chapter", html, [*stylesheets(s), piece_css("chapter")], s, {})
    first = render_piece_here(job).pdf
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + 86_400 * 400)  # a year and more later
    assert render_piece_here(job).pdf == first
    assert "SOURCE_DATE_EPOCH" not in __import__("os").environ  # left as it was
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")  # a caller's own date: the same bytes
    assert render_piece_here(job).pdf == first
    assert __import__("os").environ["SOURCE_DATE_EPOCH"] == "1700000000"
