"""The output cache: a rebuild with nothing changed writes the same bytes and says the same things
without reading a chapter; any change to what the build read makes it build in full; a poisoned or
damaged cache is never trusted; online builds still ask the servers."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from assets_fixtures import images as fx
from assets_fixtures.server import ImageServer
from epubcheck_runner import assert_epubcheck_clean
from fontnames import rename
from pubpipe import pipeline
from pubpipe.cli import main

HEAVY = ("markdown", "html5lib", "PIL", "weasyprint")


PREPARED: list[int] = []  # one entry per build that read its chapters (a reused one does not)


@pytest.fixture(autouse=True)
def _count_full_builds(monkeypatch):
    real = pipeline.prepare

    def counted(*args, **kw):
        PREPARED.append(1)
        return real(*args, **kw)

    monkeypatch.setattr(pipeline, "prepare", counted)


def _book(root: Path) -> Path:
    book = root / "book"
    (book / "img").mkdir(parents=True)
    (book / "book.toml").write_text('[book]\ntitle = "Cached"\nauthors = ["A. Writer"]\n'
                                    'language = "en"\nchapters = ["one.md", "two.md"]\n')
    (book / "img" / "pic.png").write_bytes(fx.graphic_png(320, 200))
    (book / "one.md").write_text("# One\n\nFirst words, and a picture:\n\n"
                                 "![A picture](img/pic.png)\n\nA lost one: ![Lost](gone.png)\n")
    (book / "two.md").write_text("# Two\n\nSecond chapter with *emphasis*.\n")
    return book


def _build(book: Path, out: Path, cache: Path, capsys, *extra: str) -> dict:
    """Build through the CLI (as `pubpipe build` does); the report, exit code and what was said."""
    report = out.parent / f"{out.name}.json"
    before = len(PREPARED)
    code = main(["build", str(book), "--out-dir", str(out), "--cache-dir", str(cache),
                 "--report", str(report), *extra])
    err = capsys.readouterr().err
    said = [line for line in err.splitlines()
            if not line.startswith("pubpipe: ") or " error" in line]  # progress lines aside
    rep = json.loads(report.read_text())
    return {"code": code, "said": said, "report": rep, "reused": len(PREPARED) == before}


def _same_report(a: dict, b: dict) -> None:
    ignore = {"timings", "outputs", "cache"}  # cache: what pruning did, housekeeping
    assert {k: v for k, v in a.items() if k not in ignore} == \
        {k: v for k, v in b.items() if k not in ignore}
    assert {k: Path(v).name for k, v in a["outputs"].items()} == \
        {k: Path(v).name for k, v in b["outputs"].items()}


def test_nothing_changed_gives_the_same_outputs_and_words(tmp_path, capsys):
    book = _book(tmp_path)
    cache = tmp_path / "cache"
    first = _build(book, tmp_path / "o1", cache, capsys, "--format", "epub,html")
    again = _build(book, tmp_path / "o2", cache, capsys, "--format", "epub,html")
    assert first["code"] == again["code"] == 0
    assert not first["reused"] and again["reused"]
    for name in ("cached.epub", "cached.html"):
        assert (tmp_path / "o1" / name).read_bytes() == (tmp_path / "o2" / name).read_bytes()
    _same_report(first["report"], again["report"])
    assert [s for s in first["said"] if "wrote" not in s] == \
        [s for s in again["said"] if "wrote" not in s]
    assert any("gone.png" in s for s in again["said"])  # the warning is said again
    assert again["report"]["assets"] and again["report"]["warnings"] == 1
    assert_epubcheck_clean(tmp_path / "o2" / "cached.epub")


def test_every_change_builds_in_full_and_matches_a_cold_build(tmp_path, capsys, monkeypatch):
    book = _book(tmp_path)
    cache = tmp_path / "cache"
    assert not _build(book, tmp_path / "warm", cache, capsys, "--format", "epub")["reused"]
    t = os.stat(book / "two.md").st_mtime

    def edit_chapter():
        (book / "two.md").write_text("# Two\n\nSecond chapter, edited.\n")

    def new_picture():
        (book / "img" / "pic.png").write_bytes(fx.graphic_png(300, 220))

    def settings():
        with open(book / "book.toml", "a") as f:
            f.write('subtitle = "Now with a subtitle"\n')

    def new_file():  # not a chapter of the list, but the listing of the book changed
        (book / "notes.txt").write_text("to do\n")

    def touched():  # dcterms:modified comes from the newest source when the book has no date
        os.utime(book / "two.md", (t + 3600, t + 3600))

    def epoch():
        monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")

    for i, change in enumerate([edit_chapter, new_picture, settings, new_file, touched, epoch]):
        change()
        inc = _build(book, tmp_path / f"inc{i}", cache, capsys, "--format", "epub")
        cold = _build(book, tmp_path / f"cold{i}", tmp_path / f"cache{i}", capsys,
                      "--format", "epub")
        assert not inc["reused"], change.__name__
        assert (tmp_path / f"inc{i}" / "cached.epub").read_bytes() == \
            (tmp_path / f"cold{i}" / "cached.epub").read_bytes(), change.__name__
        _same_report(inc["report"], cold["report"])
        # and now that it is stored, the same inputs are reused
        assert _build(book, tmp_path / f"re{i}", cache, capsys, "--format", "epub")["reused"]
    assert _build(book, tmp_path / "pdf", cache, capsys, "--format", "html")["reused"] is False


def test_a_stylesheet_or_include_edited_with_its_mtime_kept_is_seen(tmp_path, capsys):
    """`cp -p` / `touch -r` keep size and mtime: files the build reads are hashed, not listed."""
    book = _book(tmp_path)
    (book / "styles").mkdir()
    (book / "_includes").mkdir()
    with open(book / "book.toml", "a") as f:
        f.write('\n[epub]\ncss = "styles/epub.css"\n')
    (book / "styles" / "epub.css").write_text("p { color: #111111; }\n")
    (book / "_includes" / "box.html").write_text("<p>BOX-ONE</p>\n")
    (book / "snip.txt").write_text("SNIP-ONE\n")
    (book / "two.md").write_text("# Two\n\n{% include box.html %}\n\n"
                                 "{% include_relative snip.txt %}\n")
    cache = tmp_path / "cache"
    _build(book, tmp_path / "warm", cache, capsys, "--format", "html")
    assert _build(book, tmp_path / "again", cache, capsys, "--format", "html")["reused"]
    for i, (rel, old, new) in enumerate([("styles/epub.css", "111111", "222222"),
                                         ("_includes/box.html", "BOX-ONE", "BOX-TWO"),
                                         ("snip.txt", "SNIP-ONE", "SNIP-TWO")]):
        path = book / rel
        st = os.stat(path)
        path.write_text(path.read_text().replace(old, new))
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
        inc = _build(book, tmp_path / f"inc{i}", cache, capsys, "--format", "html")
        assert not inc["reused"], rel
        html = (tmp_path / f"inc{i}" / "cached.html").read_text()
        assert new in html and old not in html, rel


def test_a_template_that_turns_math_on_with_its_mtime_kept_is_seen(tmp_path, capsys):
    """The site's templates say whether $...$ is math: they are read, so they are hashed."""
    book = _book(tmp_path)
    (book / "_layouts").mkdir()
    layout = book / "_layouts" / "default.html"
    layout.write_text('<script src="nothing.js"></script>\n')
    (book / "two.md").write_text("# Two\n\nThe area is $x^2 + y$ here and $z$ there.\n")
    cache = tmp_path / "cache"
    _build(book, tmp_path / "warm", cache, capsys, "--format", "html")
    assert "<math" not in (tmp_path / "warm" / "cached.html").read_text()
    st = os.stat(layout)
    layout.write_text('<script src="mathjax.js"></script>\n')
    os.utime(layout, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert not _build(book, tmp_path / "inc", cache, capsys, "--format", "html")["reused"]
    assert "<math" in (tmp_path / "inc" / "cached.html").read_text()


def test_strict_fails_from_the_cache_as_a_full_build_does(tmp_path, capsys):
    book = _book(tmp_path)
    cache = tmp_path / "cache"
    _build(book, tmp_path / "o1", cache, capsys, "--format", "epub")
    strict = _build(book, tmp_path / "o2", cache, capsys, "--format", "epub", "--strict")
    full = _build(book, tmp_path / "o3", tmp_path / "fresh", capsys, "--format", "epub",
                  "--strict")
    assert strict["reused"] and strict["code"] == full["code"] == 1
    assert not (tmp_path / "o2" / "cached.epub").exists()
    _same_report(strict["report"], full["report"])
    assert strict["said"] == full["said"]


def _entries(cache: Path, suffix: str) -> list[Path]:
    return sorted((cache / "outputs").glob(f"*{suffix}"))


def test_a_damaged_or_poisoned_cache_is_never_trusted(tmp_path, capsys):
    book = _book(tmp_path)
    cache = tmp_path / "cache"
    _build(book, tmp_path / "o1", cache, capsys, "--format", "epub")
    good = (tmp_path / "o1" / "cached.epub").read_bytes()
    secret = tmp_path / "secret.txt"
    secret.write_text("not for the book\n")
    [epub] = _entries(cache, ".epub")

    def truncate():
        epub.write_bytes(good[:1000])

    def link():
        epub.unlink(missing_ok=True)
        epub.symlink_to(secret)

    def manifest():
        for m in _entries(cache, ".json"):
            m.write_text('{"version": 1, "files": [], "outputs": {"epub": ["../../x", "zz"]}}')

    for i, poison in enumerate([truncate, link, manifest]):
        poison()
        res = _build(book, tmp_path / f"p{i}", cache, capsys, "--format", "epub")
        assert res["code"] == 0 and not res["reused"], poison.__name__
        assert (tmp_path / f"p{i}" / "cached.epub").read_bytes() == good, poison.__name__
        if poison is not manifest:
            assert any("cache-damaged" in s for s in res["said"]), poison.__name__
        # healed: the build after next is reused again, with the book's own words only
        _build(book, tmp_path / f"h{i}", cache, capsys, "--format", "epub")
        healed = _build(book, tmp_path / f"r{i}", cache, capsys, "--format", "epub")
        assert healed["reused"] and not any("cache-damaged" in s for s in healed["said"])
        assert (tmp_path / f"r{i}" / "cached.epub").read_bytes() == good


def test_offline_builds_see_what_the_cache_learned_online_builds_ask_again(tmp_path, capsys):
    server = ImageServer().start()
    try:
        book = _book(tmp_path)
        (book / "two.md").write_text(f"# Two\n\n![Remote]({server.url('/icon.png')})\n")
        cache = tmp_path / "cache"
        first = _build(book, tmp_path / "o1", cache, capsys, "--format", "epub", "--offline")
        again = _build(book, tmp_path / "o2", cache, capsys, "--format", "epub", "--offline")
        assert again["reused"] and again["report"]["warnings"] == 2 == first["report"]["warnings"]
        assert server.total_hits == 0
        online = _build(book, tmp_path / "o3", cache, capsys, "--format", "epub",
                        "--allow-private-hosts")
        assert not online["reused"] and server.total_hits == 1
        online2 = _build(book, tmp_path / "o4", cache, capsys, "--format", "epub",
                         "--allow-private-hosts")
        assert not online2["reused"] and server.conditional_hits == 1  # revalidated, as before
        assert online2["report"]["requests"] == 1
        # offline now has the image: the earlier offline build's outputs are not reused
        offline = _build(book, tmp_path / "o5", cache, capsys, "--format", "epub", "--offline")
        assert not offline["reused"] and offline["report"]["warnings"] == 1
        assert (tmp_path / "o5" / "cached.epub").read_bytes() == \
            (tmp_path / "o4" / "cached.epub").read_bytes()
        assert _build(book, tmp_path / "o6", cache, capsys, "--format", "epub",
                      "--offline")["reused"]
        # the cached copy of the remote image changes under the cache: not reused
        [record] = (cache / "urls").glob("*.json")
        record.write_text(record.read_text().replace('"etag"', '"etag-x"'))
        assert not _build(book, tmp_path / "o7", cache, capsys, "--format", "epub",
                          "--offline")["reused"]
        assert server.total_hits == 2
    finally:
        server.stop()


def test_a_reused_build_imports_no_markdown_html5lib_pillow_or_weasyprint(tmp_path):
    book = _book(tmp_path)
    args = ["build", str(book), "--format", "epub,pdf", "--out-dir", str(tmp_path / "out"),
            "--cache-dir", str(tmp_path / "cache"), "-q"]
    # with what the output cache's slot holds beside the book: pubpipe's own files and the
    # installed distributions (code_fingerprint), and the fonts installed
    script = ("import json, sys\nfrom pubpipe.cli import main\n"
              f"code = main({args!r})\n"
              f"heavy = [m for m in {HEAVY!r} if m in sys.modules]\n"
              "from pubpipe import resources, systemfonts\n"
              "print(json.dumps([code, heavy, resources.code_fingerprint(),"
              " systemfonts.fingerprint()]))\n")
    for _ in range(3):
        runs = [json.loads(subprocess.run([sys.executable, "-c", script], capture_output=True,
                                          text=True, check=True, timeout=300).stdout)
                for _ in range(2)]
        # pubpipe's sources edited, a package or a font installed between the two builds (on a
        # machine others work on too, while the suite runs): the second one rightly builds in
        # full; try again rather than fail
        if runs[0][2:] == runs[1][2:]:
            break
        shutil.rmtree(tmp_path / "cache")
    assert runs[0][2:] == runs[1][2:], "pubpipe's code or the installed fonts kept changing"
    assert runs[0][0] == runs[1][0] == 0
    # the first build needed them (WeasyPrint runs in the layout's worker processes)
    assert {"markdown", "html5lib", "PIL"} <= set(runs[0][1])
    assert runs[1][1] == []


# ---- the chapter cache: an unchanged chapter is not read through Markdown again ------------------

def _read_twice(tmp_path, book: Path):
    from lxml import etree

    from pubpipe import config
    from pubpipe.assets.store import AssetStore
    from pubpipe.document import Diagnostics
    from pubpipe.readers import book as reader
    from pubpipe.readers.cache import ChapterCache

    cfg = config.load(book)
    results = []
    for _ in range(2):
        diags = Diagnostics()
        store = AssetStore(cfg.root, tmp_path / "rc", cfg.assets, diagnostics=diags)
        cache = ChapterCache(store, "test")
        b = reader.read_book(cfg, cache, diags)
        shape = [(ch.title, ch.subtitle, ch.authors, ch.date, ch.meta, ch.slug, ch.lang,
                  ch.source_text, etree.tostring(ch.body),
                  [(el.tag, el.sourceline) for el in ch.body.iter()]) for ch in b.chapters]
        results.append((cache.hits, shape, [d.format() for d in diags]))
    return results


def test_chapters_come_back_from_the_cache_as_they_were_read(tmp_path):
    book = _book(tmp_path)
    (book / "two.md").write_text(
        "---\ntitle: Two\ndate: 2021-03-04\ntags: [a, b]\nextra: {1: x, when: 2020-01-02T03:04:05}\n"
        "---\n\nSecond chapter with *emphasis* and \"quotes\".\n\n"
        "<div class='x'><span>raw</span><!-- a comment --></div>\n\n"
        "{% custom_tag %} kept.\n\n- a\n- b\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n"
        "Formula $x^2$ and a note.[^n]\n\n[^n]: The note.\n")
    (first_hits, first, said), (hits, again, said_again) = _read_twice(tmp_path, book)
    assert first_hits == 0 and hits == 2
    assert again == first and said_again == said
    assert any("custom_tag" in s for s in said)  # a template tag said again from the cache
    meta = first[1][4]
    assert meta["date"].isoformat() == "2021-03-04" and meta["extra"][1] == "x"


def test_a_hostile_chapter_cache_entry_reads_no_file_and_runs_nothing(tmp_path, capsys):
    book = _book(tmp_path)
    cache = tmp_path / "cache"
    _build(book, tmp_path / "o1", cache, capsys, "--format", "epub")
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-LINE\n")
    entries = sorted((cache / "read").glob("*.json"))
    assert len(entries) == 2
    for e in entries:
        d = json.loads(e.read_text())
        d["body"] = (f'<!DOCTYPE div [<!ENTITY e SYSTEM "file://{secret}">]>'
                     '<div><p>&e;</p></div>')
        e.write_text(json.dumps(d))
    (book / "book.toml").write_text((book / "book.toml").read_text() + 'subtitle = "x"\n')
    res = _build(book, tmp_path / "o2", cache, capsys, "--format", "epub")
    assert res["code"] == 0 and not res["reused"]
    import zipfile
    with zipfile.ZipFile(tmp_path / "o2" / "cached.epub") as z:
        assert not any(b"TOP-SECRET" in z.read(n) for n in z.namelist())
    for e in entries:  # garbage is read afresh
        e.write_text("{not json")
    (book / "book.toml").write_text((book / "book.toml").read_text() + 'publisher = "y"\n')
    res = _build(book, tmp_path / "o3", cache, capsys, "--format", "epub")
    assert res["code"] == 0
    cold = _build(book, tmp_path / "o4", tmp_path / "fresh", capsys, "--format", "epub")
    assert (tmp_path / "o3" / "cached.epub").read_bytes() == \
        (tmp_path / "o4" / "cached.epub").read_bytes()


def test_an_output_written_into_the_book_folder_is_no_input(tmp_path, capsys):
    book = _book(tmp_path)
    cache = tmp_path / "cache"
    target = book / "img" / "the-book.epub"  # -o into a folder the book reads from
    args = ("--format", "epub", "-o", str(target))
    first = _build(book, tmp_path / "o1", cache, capsys, *args)
    assert first["code"] == 0 and target.is_file()
    assert _build(book, tmp_path / "o2", cache, capsys, *args)["reused"]
    (book / "img" / "pic.png").write_bytes(fx.graphic_png(300, 220))  # beside it: still seen
    assert not _build(book, tmp_path / "o3", cache, capsys, *args)["reused"]


def test_a_forged_manifest_removes_and_reads_nothing_outside(tmp_path, capsys):
    book = _book(tmp_path)
    cache = tmp_path / "cache"
    _build(book, tmp_path / "o1", cache, capsys, "--format", "epub")
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me\n")
    [manifest] = _entries(cache, ".json")
    m = json.loads(manifest.read_text())
    (cache / "outputs" / f"{manifest.stem}.x").mkdir()  # a folder to climb out through
    m["outputs"] = {"x/../../../victim.txt": ["x.epub", "0" * 64]}
    manifest.write_text(json.dumps(m))
    res = _build(book, tmp_path / "o2", cache, capsys, "--format", "epub")
    assert res["code"] == 0 and not res["reused"] and victim.read_text() == "keep me\n"
    m = json.loads(manifest.read_text())
    m["read"] = {"/dev/zero": "special", str(victim): "0" * 64}
    manifest.write_text(json.dumps(m))
    res = _build(book, tmp_path / "o3", cache, capsys, "--format", "epub")
    assert res["code"] == 0 and not res["reused"] and victim.read_text() == "keep me\n"


MONO = Path("/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf")


@pytest.mark.slow
@pytest.mark.skipif(not MONO.is_file(), reason="DejaVu fonts not installed")
def test_a_font_installed_or_removed_is_seen(tmp_path):
    """The book names a family that is not installed; installing it (fontconfig finds it)
    prints the book in it, though no file of the book changed; removing it again gives the
    first PDF back. Each build is a pubpipe process of its own, with the fontconfig
    configuration in its environment (as its layout workers have)."""
    from fontTools.ttLib import TTFont

    fonts = tmp_path / "fonts"
    fonts.mkdir()
    conf = tmp_path / "fonts.conf"
    conf.write_text('<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n'
                    '<fontconfig><include ignore_missing="yes">/etc/fonts/fonts.conf</include>'
                    f'<dir>{fonts}</dir><cachedir>{tmp_path / "fc-cache"}</cachedir>'
                    '</fontconfig>\n')
    env = {**os.environ, "FONTCONFIG_FILE": str(conf)}
    book = _book(tmp_path)
    with open(book / "book.toml", "a") as f:
        f.write('\n[pdf]\npage-size = "A6"\nfonts = ["Pubpipe Test Mono"]\n')

    def pdf(name: str, cache: str = "cache") -> tuple[bytes, bool]:
        out, report = tmp_path / name, tmp_path / f"{name}.json"
        r = subprocess.run([sys.executable, "-m", "pubpipe", "build", str(book), "--format",
                            "pdf", "--offline", "--out-dir", str(out), "--cache-dir",
                            str(tmp_path / cache), "--report", str(report)],
                           env=env, capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        reused = "read" not in json.loads(report.read_text())["timings"]
        return (out / "cached.pdf").read_bytes(), reused

    def families(data: bytes) -> str:
        (tmp_path / "probe.pdf").write_bytes(data)
        return subprocess.run(["pdffonts", str(tmp_path / "probe.pdf")], capture_output=True,
                              text=True).stdout

    without, reused = pdf("without")
    assert not reused and pdf("again") == (without, True)  # nothing changed: reused
    face = TTFont(MONO)
    rename(face, "Pubpipe Test Mono")
    face.save(fonts / "PubpipeTestMono.ttf")
    installed, reused = pdf("installed")
    assert not reused and installed != without
    if __import__("shutil").which("pdffonts"):
        assert "Pubpipe-Test-Mono" in families(installed)
        assert "Pubpipe-Test-Mono" not in families(without)
    assert pdf("cold", "cold-cache") == (installed, False)  # the same as a cache of its own
    (fonts / "PubpipeTestMono.ttf").unlink()
    assert pdf("removed")[0] == without


def test_an_image_edited_while_the_build_runs_is_seen_by_the_next(tmp_path, capsys,
                                                                  monkeypatch):
    """The manifest keeps the hash of the bytes the build used (the store hashed them as it
    read them: not read again to be kept), not of the file as it is when the build ends: a
    picture saved again while the build wrote the book is built again."""
    from pubpipe import buildcache

    book = _book(tmp_path)
    cache = tmp_path / "cache"
    real = pipeline.prepare
    hashed: list[str] = []
    real_sha = buildcache._sha_file
    monkeypatch.setattr(buildcache, "_sha_file", lambda p: hashed.append(Path(p).name)
                        or real_sha(p))

    def edited_meanwhile(*args, **kw):
        out = real(*args, **kw)  # the picture is read and processed by now
        (book / "img" / "pic.png").write_bytes(fx.graphic_png(300, 220))
        return out

    monkeypatch.setattr(pipeline, "prepare", edited_meanwhile)
    first = _build(book, tmp_path / "o1", cache, capsys, "--format", "epub")
    monkeypatch.setattr(pipeline, "prepare", real)
    assert first["code"] == 0
    assert "one.md" in hashed and "pic.png" not in hashed  # chapters hashed, images known
    again = _build(book, tmp_path / "o2", cache, capsys, "--format", "epub")
    assert not again["reused"]
    cold = _build(book, tmp_path / "o3", tmp_path / "cold-cache", capsys, "--format", "epub")
    assert (tmp_path / "o2" / "cached.epub").read_bytes() == \
        (tmp_path / "o3" / "cached.epub").read_bytes() != \
        (tmp_path / "o1" / "cached.epub").read_bytes()


def test_an_epub_whose_print_layout_failed_is_not_replayed(tmp_path, capsys, monkeypatch):
    """A layout that failed (a worker killed, out of memory) leaves the EPUB without its page
    numbers, with a warning; the next build lays out again instead of replaying that."""
    from pubpipe.layout import stage

    book = _book(tmp_path)
    (book / "book.toml").write_text((book / "book.toml").read_text() + "\n[pdf]\n")
    cache = tmp_path / "cache"

    def killed(*args, **kw):
        raise RuntimeError("a layout worker died (exit code -9)")

    real = stage.lay_out
    monkeypatch.setattr(stage, "lay_out", killed)
    failed = _build(book, tmp_path / "o1", cache, capsys, "--format", "epub")
    monkeypatch.setattr(stage, "lay_out", real)
    assert failed["code"] == 0
    assert any("epub-page-numbers" in s for s in failed["said"])
    again = _build(book, tmp_path / "o2", cache, capsys, "--format", "epub")
    assert not again["reused"] and not any("epub-page-numbers" in s for s in again["said"])
    assert b"page-list" in _nav(tmp_path / "o2" / "cached.epub")
    assert _build(book, tmp_path / "o3", cache, capsys, "--format", "epub")["reused"]


def _nav(epub: Path) -> bytes:
    import zipfile
    with zipfile.ZipFile(epub) as z:
        return b"".join(z.read(n) for n in z.namelist() if n.endswith(".xhtml"))
