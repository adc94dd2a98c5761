"""The author's commands end to end: new, build, check, fetch, watch, preview; CLI ergonomics and
book.toml validation. Runs the real CLI in a subprocess; the only server is a loopback one."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image

from epubcheck_runner import assert_epubcheck_clean
from pubpipe import config

ENV = {**os.environ, "NO_COLOR": "1"}


def pubpipe(*args: str, cwd: Path | None = None, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pubpipe", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=timeout, env=ENV)


def _no_traceback(r: subprocess.CompletedProcess) -> None:
    assert "Traceback" not in r.stderr and "Traceback" not in r.stdout


# ---- help, version, ergonomics (fast) -----------------------------------------------------

COMMANDS = ("build", "new", "check", "fetch", "watch", "preview")


def test_version_and_help_for_authors():
    r = pubpipe("--version")
    assert r.returncode == 0 and re.match(r"pubpipe \d+\.\d+", r.stdout)
    r = pubpipe("--help")
    assert r.returncode == 0
    for cmd in COMMANDS:
        assert cmd in r.stdout
    for cmd in COMMANDS:
        r = pubpipe(cmd, "--help")
        assert r.returncode == 0, cmd
        text = r.stdout.lower()
        assert "usage: pubpipe " + cmd in text
        for dev_note in ("no logic", "parses arguments", "pipeline", "argparse", "todo"):
            assert dev_note not in text, (cmd, dev_note)


def test_help_does_not_import_the_heavy_libraries():
    code = ("import sys; from pubpipe import cli\n"
            "try:\n    cli.main(['--help'])\nexcept SystemExit: pass\n"
            "heavy = [m for m in ('weasyprint', 'ebooklib', 'PIL', 'httpx', 'lxml', 'markdown')"
            " if m in sys.modules]\nprint('HEAVY', heavy)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=ENV)
    assert "HEAVY []" in r.stdout, r.stdout + r.stderr


def test_no_book_here_says_how_to_make_one(tmp_path):
    r = pubpipe("build", cwd=tmp_path)
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "no book here" in lines[0] and "pubpipe new" in lines[0]
    _no_traceback(r)
    (tmp_path / "post.md").write_text("# A post\n\nText.\n")  # a folder of posts is a book
    r = pubpipe("build", "--format", "html", "--offline", cwd=tmp_path)
    assert r.returncode == 0 and (tmp_path / "build" / "a-post.html").is_file(), r.stderr


def test_new_where_no_folder_can_be_made_is_one_line_not_an_internal_error(tmp_path):
    (tmp_path / "a-file").write_text("not a folder")
    r = pubpipe("new", str(tmp_path / "a-file" / "mybook"))
    assert r.returncode == 1, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "cannot make" in lines[0] and "internal error" not in lines[0]
    _no_traceback(r)


def _tiny_book(root: Path, pdf: str = "") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "book.toml").write_text(f'[book]\ntitle = "Tiny"\n{pdf}', encoding="utf-8")
    (root / "a.md").write_text("# A\n\nSome text.\n", encoding="utf-8")
    return root


def test_source_may_be_book_toml_and_formats_take_commas(tmp_path):
    book = _tiny_book(tmp_path / "b")
    r = pubpipe("build", str(book / "book.toml"), "--format", "html,epub", "--offline")
    assert r.returncode == 0, r.stderr
    assert (book / "build" / "tiny.html").is_file() and (book / "build" / "tiny.epub").is_file()
    assert not (book / "build" / "tiny.pdf").exists()
    r = pubpipe("build", str(book), "--format", "epub,docx")
    assert r.returncode == 2 and "docx" in r.stderr
    _no_traceback(r)


def test_output_suffix_must_match_format(tmp_path):
    book = _tiny_book(tmp_path / "b")
    r = pubpipe("build", str(book), "--format", "pdf", "-o", str(tmp_path / "x.epub"))
    assert r.returncode == 2 and ".pdf" in r.stderr
    assert not (tmp_path / "x.epub").exists()
    # without --format, the name says what to make
    r = pubpipe("build", str(book), "-o", str(tmp_path / "named.html"), "--offline", "-q")
    assert r.returncode == 0 and (tmp_path / "named.html").is_file() and r.stdout == ""
    r = pubpipe("build", str(book), "-o", str(tmp_path / "x.docx"))
    assert r.returncode == 2
    _no_traceback(r)


def test_quiet_and_verbose(tmp_path):
    book = _tiny_book(tmp_path / "b")
    r = pubpipe("build", str(book), "--format", "html", "--offline", "--quiet")
    assert r.returncode == 0 and r.stdout == ""
    r = pubpipe("build", str(book), "--format", "html", "--offline", "--verbose")
    assert r.returncode == 0 and "wrote" in r.stdout and "built in" in r.stdout
    assert "\033[" not in r.stdout + r.stderr  # no colour when not on a terminal


def test_debug_shows_the_traceback_only_when_asked(tmp_path):
    book = _tiny_book(tmp_path / "b", '[pdf]\nbleed = "lots"\n')
    r = pubpipe("build", str(book))
    assert r.returncode == 2 and "bleed" in r.stderr
    _no_traceback(r)
    r = pubpipe("build", str(book), "--debug")
    assert r.returncode != 0 and "Traceback" in r.stderr


# ---- book.toml validation -----------------------------------------------------------------

@pytest.mark.parametrize("line,key,nearest", [
    ('font-size = "11"', "font-size", '"11pt"'),
    ("font-size = 11", "font-size", '"11pt"'),
    ('font-size = "huge"', "font-size", '"10.5pt"'),
    ('page-size = "6in"', "page-size", '"6in 9in"'),
    ('bleed = "0.125"', "bleed", '"0.125in"'),
    ('preset = "kpd"', "preset", '"kdp"'),
    ('color = "cmky"', "color", '"cmyk"'),
    ('page-size = "A55"', "page-size", '"A5"'),
    ('paper = "creme"', "paper", '"cream"'),
])
def test_bad_pdf_values_exit_2_naming_file_line_key_value(tmp_path, line, key, nearest):
    book = _tiny_book(tmp_path / "b", f'\n[pdf]\n# a comment\n{line}\n')
    r = pubpipe("build", str(book), "--format", "html")
    assert r.returncode == 2, r.stderr
    msg = r.stderr.strip()
    assert len(msg.splitlines()) == 1
    assert f"book.toml:6:" in msg and f"[pdf] {key} = " in msg  # file, line, key
    assert line.split(" = ")[1] in msg  # the value given
    assert "accepted:" in msg and f"nearest valid value: {key} = {nearest}" in msg
    _no_traceback(r)


@pytest.mark.parametrize("text,needle", [
    ('[epub]\ntoc-depth = "2"', "toc-depth = 2"),
    ("[epub]\npage-numbers = 1", "page-numbers = true"),
    ("[assets]\njpeg-quality = 120", "jpeg-quality = 100"),
    ('[assets]\nconcurency = 3', "did you mean 'concurrency'"),
    ('[pfd]\npage-size = "A5"', "did you mean [pdf]"),
    ('[book]\nlanguage = "english"', "language ="),
    ('[pdf]\ncss = "styles/nope.css"', "css"),
    ('[book]\ncover = "covr.jpg"', 'nearest valid value: cover = "cover.jpg"'),
])
def test_other_bad_values_name_line_and_nearest(tmp_path, text, needle):
    root = tmp_path / "b"
    root.mkdir()
    (root / "book.toml").write_text("# settings\n" + text + "\n")
    (root / "a.md").write_text("# A\n")
    Image.new("RGB", (16, 26)).save(root / "cover.jpg")
    with pytest.raises(config.ConfigError) as err:
        config.load(root)
    assert needle in str(err.value) and "book.toml:" in str(err.value)


def test_good_values_are_accepted_and_normalized(tmp_path):
    root = _tiny_book(tmp_path / "b", '[pdf]\npage-size = "A5 landscape"\nbleed = "3mm"\n'
                      'font-size = "11pt"\npreset = "KDP"\npaper = "0.0024in"\n'
                      '[epub]\ntoc-depth = 2\n')
    cfg = config.load(root)
    assert cfg.pdf.preset == "kdp" and cfg.pdf.bleed == "3mm" and cfg.epub.toc_depth == 2
    assert config.parse_page_size(cfg.pdf.page_size) == (595.28, 419.53)


def test_every_key_is_in_the_new_book_toml_and_the_readme():
    from pubpipe.commands.new import BOOK_TOML

    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    reference = readme[readme.index("## book.toml reference"):]
    for table, section in config.SECTIONS.items():
        assert f"[{table}]" in BOOK_TOML
        # the table's part of the reference: from its heading to the next one
        part = reference[reference.index(f"### `[{table}]`"):]
        part = part[:part.index("\n#", 1)]
        first_cells = [row.split("|")[1] for row in re.findall(r"^\|[^\n]*$", part, re.M)]
        for key, _type, _default in config.keys_of(section):
            assert re.search(rf"^#? ?{re.escape(key)} = ", BOOK_TOML, re.M), (table, key)
            assert any(f"`{key}`" in cell for cell in first_cells), \
                f"the README's [{table}] reference has no row for {key}"


# ---- new -> build -> check (slow: WeasyPrint, EPUBCheck) ------------------------------------

@pytest.mark.slow
def test_new_book_builds_at_once_and_check_finds_what_breaks_it(tmp_path):
    book = tmp_path / "mybook"
    r = pubpipe("new", str(book), "--author", "Ada Writer")
    assert r.returncode == 0, r.stderr
    for name in ("book.toml", "01-first-chapter.md", ".gitignore", "styles/print.css",
                 "styles/epub.css", "images/sample.jpg"):
        assert (book / name).is_file(), name
    assert "build/" in (book / ".gitignore").read_text()
    assert pubpipe("new", str(book)).returncode == 2  # never over an existing book

    # the author's print CSS is honoured
    (book / "styles" / "print.css").write_text("h2 { color: rgb(200, 0, 0); }\n")
    report = tmp_path / "r.json"
    r = pubpipe("build", str(book), "--format", "all", "--report", str(report), "--offline")
    assert r.returncode == 0, r.stderr
    _no_traceback(r)
    data = json.loads(report.read_text())
    assert set(data["outputs"]) == {"epub", "pdf", "html"}
    assert data["warnings"] == 0 and isinstance(data["diagnostics"], list)
    assert any(a["ref"] == "images/sample.jpg" and a["status"] == "ok" for a in data["assets"])
    assert data["timings"]["total"] > 0
    # counted from the process's start (the CLI's first build), so the startup is in it
    assert 0 < data["timings"]["layout starts at"] < data["timings"]["total"]
    assert data["timings"]["layout starts at"] > data["timings"]["read"]
    assert_epubcheck_clean(Path(data["outputs"]["epub"]))
    page = _page_png(Path(data["outputs"]["pdf"]), 5, tmp_path)
    assert _has_red(page), "the [pdf] css file did not reach the PDF"

    r = pubpipe("check", str(book), "--offline")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "EPUBCheck" in r.stdout and "nothing must be fixed" in r.stdout
    assert "up to date" in r.stdout  # nothing rebuilt

    # without Java, EPUBCheck is "not run" and says why, plainly (the rest still counts)
    no_java = subprocess.run([sys.executable, "-m", "pubpipe", "check", str(book), "--offline",
                              "--cache-dir", str(tmp_path / "other-cache")], capture_output=True,
                             text=True, env={**ENV, "PATH": ""}, timeout=300)
    assert no_java.returncode == 0, no_java.stdout + no_java.stderr
    assert re.search(r"EPUBCheck\s+not run\s+Java is not installed", no_java.stdout)

    Image.new("RGB", (300, 200), (40, 120, 40)).save(book / "images" / "small.jpg",
                                                     dpi=(72, 72))
    with (book / "01-first-chapter.md").open("a") as fh:
        fh.write("\n## Later\n\nA [broken link](#nowhere-at-all) and {{ site.title }}.\n\n"
                 "![A small green picture](images/small.jpg)\n\n![Gone](images/gone.png)\n")
    r = pubpipe("check", str(book), "--offline", "--report", str(tmp_path / "c.json"))
    out = r.stdout
    assert r.returncode == 1, out + r.stderr
    assert re.search(r"Links that go nowhere\s+FIX", out) and "#nowhere-at-all" in out
    assert re.search(r"Missing images\s+FIX", out) and "gone.png" in out
    assert re.search(r"Images below print resolution\s+FIX", out) and "small.jpg" in out
    assert "give a 1350 px wide image" in out and "(1.00 in)" in out
    assert re.search(r"on page \d+ \(PDF page \d+\)", out)
    assert re.search(r"Template syntax left in the text\s+FIX", out) and "site.title" in out
    assert re.search(r"EPUBCheck\s+ok", out)
    assert "01-first-chapter.md:" in out
    checks = json.loads((tmp_path / "c.json").read_text())["checks"]
    assert {c["name"] for c in checks if c["status"] == "fix"} >= {
        "Links that go nowhere", "Missing images", "Images below print resolution"}
    _no_traceback(r)

    r = pubpipe("preview", str(book), "--pages", "1-2,5", "--offline")
    assert r.returncode == 0, r.stderr
    pngs = sorted(p.name for p in (book / "build" / "preview").glob("page-*.png"))
    assert pngs == ["page-001.png", "page-002.png", "page-005.png"]
    with Image.open(book / "build" / "preview" / "contact-sheet.png") as sheet:
        assert sheet.width > 300 and sheet.height > 300
    assert pubpipe("preview", str(book), "--pages", "5-2").returncode == 2


def _page_png(pdf: Path, page: int, tmp: Path) -> Image.Image:
    subprocess.run(["pdftoppm", "-png", "-r", "40", "-f", str(page), "-l", str(page),
                    "-singlefile", str(pdf), str(tmp / "pg")], check=True)
    return Image.open(tmp / "pg.png").convert("RGB")


def _has_red(im: Image.Image) -> bool:
    return any(r > 150 and g < 60 and b < 60 for r, g, b in im.get_flattened_data())


# ---- fetch, then build --offline --------------------------------------------------------------

@pytest.mark.slow
def test_fetch_then_offline_build_makes_no_request(tmp_path):
    from assets_fixtures.server import ImageServer

    server = ImageServer().start()
    try:
        book = tmp_path / "b"
        book.mkdir()
        (book / "book.toml").write_text('[book]\ntitle = "Fetched"\n')
        (book / "a.md").write_text(
            f"# A\n\n![Big]({server.url('/big.jpg')})\n\n![Alpha]({server.url('/alpha.png')})\n\n"
            f"![Broken]({server.url('/404.png')})\n")
        r = pubpipe("fetch", str(book), "--allow-private-hosts")  # a loopback server
        assert r.returncode == 1, r.stdout + r.stderr  # one image could not be had
        assert "2 of 3 remote image(s) in the cache" in r.stdout
        assert "404.png" in r.stdout and "404" in r.stdout.split("404.png", 1)[1]
        hits = server.total_hits
        assert hits >= 3
        r = pubpipe("fetch", str(book), "--allow-private-hosts")  # only the missing one asked again
        assert server.total_hits == hits + 1, server.hits
        hits = server.total_hits
        r = pubpipe("fetch", str(book), "--refresh", "--allow-private-hosts")  # all asked again
        assert server.total_hits == hits + 3 and server.not_modified >= 2
        hits = server.total_hits
        r = pubpipe("build", str(book), "--offline", "--format", "epub,pdf")
        assert r.returncode == 0, r.stderr
        assert server.total_hits == hits, "an offline build made a request"
        assert "404.png" in r.stderr  # the one that failed is a placeholder, named
    finally:
        server.stop()


# ---- watch ------------------------------------------------------------------------------------

def _wait_for(proc_out: Path, pattern: str, timeout: float = 60.0) -> str:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        text = proc_out.read_text(errors="replace")
        if re.search(pattern, text):
            return text
        time.sleep(0.2)
    raise AssertionError(f"no {pattern!r} in:\n{proc_out.read_text(errors='replace')}")


def test_watch_rebuilds_and_survives_a_broken_save(tmp_path):
    book = _tiny_book(tmp_path / "w")
    log = tmp_path / "watch.log"
    with log.open("w") as fh:
        proc = subprocess.Popen([sys.executable, "-m", "pubpipe", "watch", str(book), "--format",
                                 "html", "--offline"], stdout=fh, stderr=subprocess.STDOUT,
                                env={**ENV, "WATCHFILES_FORCE_POLLING": ""})
    try:
        _wait_for(log, r"built tiny\.html")
        (book / "a.md").write_text("# A\n\nSome text and [a dead link](#gone).\n")
        _wait_for(log, r"changed: a\.md[\s\S]*#gone[\s\S]*1 new warning")
        (book / "book.toml").write_text('[book]\ntitle = "Tiny"\n[pdf]\nbleed = "0.125"\n')
        _wait_for(log, r"book\.toml:4: \[pdf\] bleed[\s\S]*still watching")
        (book / "book.toml").write_text('[book]\ntitle = "Tiny"\n')
        _wait_for(log, r"still watching[\s\S]*built tiny\.html")
        (book / "b.md").write_text("---\ntitle: [oops\n---\ntext\n")
        _wait_for(log, r"b\.md:\d+: error[\s\S]*build failed")
        (book / "b.md").unlink()
        (book / "a.md").write_text("# A\n\nFixed.\n")
        text = _wait_for(log, r"1 fixed")
        assert proc.poll() is None, "watch stopped"
        assert "Traceback" not in text
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    assert (book / "build" / "tiny.html").read_text().count("Fixed.") == 1


# ---- new --from SITE ----------------------------------------------------------------------------

def test_new_from_a_jekyll_site_lists_its_posts_and_builds(tmp_path):
    site = tmp_path / "blog"
    (site / "_posts").mkdir(parents=True)
    (site / "_drafts").mkdir()
    (site / "assets").mkdir()
    (site / "_config.yml").write_text('title: "Rhine Walks"\nurl: "https://rhine.example.org"\n')
    (site / "_posts" / "2021-06-02-koblenz.md").write_text("---\ntitle: Koblenz\n---\n\nEnd.\n")
    (site / "_posts" / "2021-05-01-basel.md").write_text(
        "---\ntitle: Basel\n---\n\nStart.\n\n![A green map](/assets/map.png)\n")
    (site / "_drafts" / "later.md").write_text("---\ntitle: Later\n---\n\nNot yet.\n")
    (site / "about.md").write_text("# About\n")
    Image.new("RGB", (1400, 900), (20, 90, 40)).save(site / "assets" / "map.png")
    book = tmp_path / "book"
    r = pubpipe("new", str(book), "--from", str(site))
    assert r.returncode == 0, r.stderr
    toml = (book / "book.toml").read_text()
    assert 'title = "Rhine Walks"' in toml and 'source = "../blog"' in toml
    assert toml.index("2021-05-01-basel.md") < toml.index("2021-06-02-koblenz.md")
    assert "later.md" not in toml and "about.md" not in toml
    assert 'static-dir = "."' in toml and 'site-url = "https://rhine.example.org"' in toml
    cfg = config.load(book)
    assert cfg.root == site.resolve() and cfg.book_dir == book.resolve()
    r = pubpipe("build", str(book), "--format", "html", "--offline")
    assert r.returncode == 0 and "warning" not in r.stderr, r.stderr
    html = (book / "build" / "rhine-walks.html").read_text()
    assert html.index("Basel") < html.index("Koblenz") and "data:image/" in html
    assert not (site / "build").exists()  # outputs next to book.toml, not in the blog
    r = pubpipe("new", str(tmp_path / "b2"), "--from", str(tmp_path / "nowhere"))
    assert r.returncode == 2 and "nowhere" in r.stderr
    _no_traceback(r)
