"""Hostile books: nothing from outside the book folder in any output, no hang, no crash, a cache
that proves itself, no requests to internal addresses."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from assets_fixtures.server import ImageServer
from pubpipe import config
from pubpipe.assets import fetch, svg
from pubpipe.assets.store import AssetStore
from pubpipe.config import AssetsSection
from pubpipe.errors import BuildError, ConfigError
from pubpipe.pipeline import BuildOptions, build, prepare
from pubpipe.readers import frontmatter

SECRET = "TOPSECRET-5c1e"  # the content of a file outside every book
_EPUBS: list[Path] = []  # every EPUB these tests build: EPUBCheck runs once on all, at the end


@pytest.fixture
def secret(tmp_path) -> Path:
    p = tmp_path / "outside" / "secret.txt"
    p.parent.mkdir()
    p.write_text(f"root:x:0:0:{SECRET}\n")
    return p


def _cli(*args, cwd=None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1] / "src")}
    args = [*args[:1], "-q", *args[1:]]  # -q: no progress lines, only warnings and errors
    return subprocess.run([sys.executable, "-m", "pubpipe", *map(str, args)], capture_output=True,
                          text=True, env=env, cwd=cwd, timeout=300)


def _png(colour=(200, 30, 30), size=(64, 48)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, "PNG")
    return buf.getvalue()


def _jpeg(colour=(30, 30, 200), size=(80, 60)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, "JPEG")
    return buf.getvalue()


def _everything(paths: list[Path]) -> bytes:
    """Every byte of every output, EPUB entries unzipped."""
    out = b""
    for p in paths:
        data = p.read_bytes()
        out += data
        if p.suffix == ".epub":
            with zipfile.ZipFile(p) as z:
                out += b"".join(z.read(n) for n in z.namelist())
    return out


# ---- one rule for what may be read --------------------------------------------------------------

def test_symlinked_chapter_outside_the_book_is_refused(tmp_path, secret):
    book = tmp_path / "book"
    book.mkdir()
    (book / "a.md").write_text("# A\n\nHello.\n")
    (book / "z.md").symlink_to(secret)
    assert [p.name for p in config.load(book).chapter_files] == ["a.md"]
    r = _cli("build", book, "--format", "epub", "--offline", "--cache-dir", tmp_path / "c")
    assert r.returncode == 0 and "Traceback" not in r.stderr
    assert f"{book / 'z.md'}: warning: a link to a file outside the book folder" in r.stderr
    assert SECRET.encode() not in _everything(list((book / "build").glob("*.epub")))
    (book / "book.toml").write_text('[book]\nchapters = ["a.md", "z.md"]\n')  # named: an error
    r = _cli("build", book, "--format", "epub", "--offline", "--cache-dir", tmp_path / "c")
    assert r.returncode == 2 and "z.md" in r.stderr and "outside the book folder" in r.stderr
    (book / "book.toml").unlink()
    # one .md given on the command line that is a link out of its folder
    (book / "z.md").unlink()
    (tmp_path / "posts").mkdir()
    (tmp_path / "posts" / "post.md").symlink_to(secret)
    assert _cli("build", tmp_path / "posts" / "post.md", "--offline").returncode == 2
    # a link that stays inside the book is fine
    (book / "sub").mkdir()
    (book / "sub" / "real.md").write_text("# Real\n\nInside.\n")
    (book / "z.md").symlink_to(book / "sub" / "real.md")
    assert [p.name for p in config.load(book).chapter_files] == ["a.md", "real.md"]


def test_symlinked_image_and_static_dir_are_refused(tmp_path, secret):
    book = tmp_path / "book"
    book.mkdir()
    (book / "pic.png").symlink_to(secret)
    (book / "static").symlink_to(secret.parent, target_is_directory=True)
    (book / "book.toml").write_text('[assets]\nstatic-dir = "static"\n')
    with pytest.raises(ConfigError, match="static-dir"):
        config.load(book)
    (book / "book.toml").write_text("")
    (book / "a.md").write_text("# A\n\n![x](pic.png)\n")
    book_, _ = prepare(config.load(book), BuildOptions(formats=("epub",), offline=True,
                                                       cache_dir=tmp_path / "c"))
    assert any(d.code == "asset-refused" and "outside the book" in d.message
               for d in book_.diagnostics)


# ---- a cache that proves itself -----------------------------------------------------------------

def _cache_book(tmp_path: Path) -> Path:
    book = tmp_path / "book"
    book.mkdir()
    (book / "a.png").write_bytes(_png())
    (book / "b.jpg").write_bytes(_jpeg())
    (book / "post.md").write_text("# Cached\n\n![red](a.png)\n\n![blue](b.jpg)\n\nText.\n")
    return book


def _images_in_epub(epub: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(epub) as z:
        return {n: z.read(n) for n in z.namelist() if n.startswith("EPUB/images/")}


def test_poisoned_and_truncated_cache_entries_are_dropped_and_rebuilt(tmp_path, secret):
    book, cache = _cache_book(tmp_path), tmp_path / "cache"
    opts = dict(formats=("epub", "html"), offline=True, cache_dir=cache)
    build(config.load(book), BuildOptions(out_dir=tmp_path / "o1", **opts))
    variants = sorted(p for p in (cache / "variants").iterdir() if p.suffix != ".json")
    objects = sorted(p for p in (cache / "objects").rglob("*") if p.is_file())
    assert len(variants) == 2 and len(objects) == 2
    # a variant swapped for a link to a secret, another truncated, an original truncated
    variants[0].unlink()
    variants[0].symlink_to(secret)
    variants[1].write_bytes(variants[1].read_bytes()[:100])
    objects[0].write_bytes(objects[0].read_bytes()[:50])
    res = build(config.load(book), BuildOptions(out_dir=tmp_path / "o2", **opts))
    damaged = [d for d in res.diagnostics if d.code == "cache-damaged"]
    assert len(damaged) == 3, [d.format() for d in damaged]  # each bad entry reported once
    everything = _everything(list(res.outputs.values()))
    assert SECRET.encode() not in everything
    _EPUBS.append(res.outputs["epub"])
    for name, data in _images_in_epub(res.outputs["epub"]).items():
        if not name.endswith(".svg"):
            Image.open(io.BytesIO(data)).load()  # whole, decodable images
    # healed: the next build finds nothing wrong and does no image work
    res = build(config.load(book), BuildOptions(out_dir=tmp_path / "o3", **opts))
    assert not [d for d in res.diagnostics if d.code == "cache-damaged"]
    assert not any(p.is_symlink() for p in cache.rglob("*"))


def test_cache_links_below_the_cache_folder_are_not_followed(tmp_path, secret):
    store = AssetStore(tmp_path, tmp_path / "cache", AssetsSection(), offline=True)
    (tmp_path / "cache" / "oembed").symlink_to(secret.parent, target_is_directory=True)
    (secret.parent / "x.json").write_text('{"title": "%s"}' % SECRET)
    assert store.read_cache_file("oembed/x.json") is None
    assert store.read_cache_file("../outside/secret.txt") is None
    assert any(d.code == "cache-damaged" for d in store.diagnostics)


def test_layout_cache_swapped_for_another_file_is_laid_out_again(tmp_path, secret):
    book, cache = _cache_book(tmp_path), tmp_path / "cache"
    opts = dict(formats=("pdf",), offline=True, cache_dir=cache)
    first = build(config.load(book), BuildOptions(out_dir=tmp_path / "o1", **opts))
    pdfs = list((cache / "layout").glob("*.pdf"))
    assert pdfs
    for p in pdfs:
        p.unlink()
        p.symlink_to(secret)
    again = build(config.load(book), BuildOptions(out_dir=tmp_path / "o2", **opts))
    data = again.outputs["pdf"].read_bytes()
    assert data.startswith(b"%PDF") and SECRET.encode() not in data
    assert len(data) > 0.5 * first.outputs["pdf"].stat().st_size


@pytest.fixture(scope="module")
def server():
    s = ImageServer(trickle_seconds=30).start()
    yield s
    s.stop()


def test_damaged_remote_copy_heals_online_and_is_a_placeholder_offline(tmp_path, server):
    book = tmp_path / "book"
    book.mkdir()
    url = server.url("/big.jpg")
    (book / "post.md").write_text(f"# Remote\n\n![remote]({url})\n")
    cfg = config.load(book)
    cfg.assets.allow_private_hosts = True
    cache = tmp_path / "cache"
    opts = dict(formats=("epub",), cache_dir=cache)
    build(cfg, BuildOptions(out_dir=tmp_path / "o1", **opts))
    (obj,) = [p for p in (cache / "objects").rglob("*") if p.is_file()]
    obj.write_bytes(obj.read_bytes()[:200])
    for v in (cache / "variants").iterdir():
        v.unlink()
    off = build(cfg, BuildOptions(out_dir=tmp_path / "o2", offline=True, **opts))
    assert any(d.code == "cache-damaged" for d in off.diagnostics)
    assert any(d.code == "asset-missing" and "damaged" in d.message for d in off.diagnostics)
    on = build(cfg, BuildOptions(out_dir=tmp_path / "o3", **opts))
    assert not [d for d in on.diagnostics if d.severity >= 20], [d.format() for d in on.diagnostics]
    import hashlib
    assert hashlib.sha256(obj.read_bytes()).hexdigest() == obj.name  # healed
    assert len(_images_in_epub(on.outputs["epub"])) >= 1
    _EPUBS.extend([off.outputs["epub"], on.outputs["epub"]])


def test_default_cache_is_outside_the_book_and_unusable_cache_is_exit_2(tmp_path, monkeypatch):
    book = tmp_path / "book"
    book.mkdir()
    (book / "a.png").write_bytes(_png())
    (book / "post.md").write_text("# Where\n\n![red](a.png)\n")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert config.cache_dir(config.load(book)) == tmp_path / "xdg" / "pubpipe"
    r = _cli("build", book, "--format", "epub", "--offline", "--out-dir", tmp_path / "out")
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "xdg" / "pubpipe" / "variants").is_dir()
    assert not [p for p in book.rglob("*") if "cache" in p.name]
    (book / "book.toml").write_text('[assets]\ncache-dir = ".mycache"\n')  # inside, when asked
    assert config.cache_dir(config.load(book)) == book / ".mycache"
    (tmp_path / "afile").write_text("x")
    for bad in (tmp_path / "afile", tmp_path / "afile" / "sub"):
        r = _cli("build", book, "--format", "epub", "--offline", "--cache-dir", bad)
        assert r.returncode == 2, r.stderr
        assert "cache folder" in r.stderr and "Traceback" not in r.stderr
        assert len(r.stderr.strip().splitlines()) == 1


def test_a_file_in_the_way_of_the_output_folder_is_a_clear_error(tmp_path):
    book = tmp_path / "book"
    book.mkdir()
    (book / "post.md").write_text("# Out\n\nText.\n")
    (tmp_path / "out").write_text("in the way")
    r = _cli("build", book, "--format", "epub", "--offline", "--cache-dir", tmp_path / "c",
             "--out-dir", tmp_path / "out")
    assert r.returncode == 1 and "is a file, not a folder" in r.stderr, r.stderr
    assert "File exists" not in r.stderr and "Traceback" not in r.stderr


# ---- network: no internal addresses, budgets per host and per build -----------------------------

def _fetch(urls, **kw):
    settings = fetch.FetchSettings(**{"backoff": 0.05, "retries": 0, **kw})
    return fetch.fetch_many([fetch.FetchRequest(u) for u in urls], settings)


def test_loopback_and_private_addresses_are_refused_without_the_opt_in(server):
    port = server.server.port
    urls = [server.url("/icon.png"), f"http://localhost:{port}/icon.png",
            f"http://2130706433:{port}/icon.png", "http://169.254.169.254/latest/meta-data/",
            "http://[::1]/x.png", "http://10.0.0.1/x.png", "http://224.0.0.1/x.png",
            "http://0.0.0.0/x.png"]
    res = _fetch(urls)
    for u in urls:
        assert not res[u].ok and res[u].reason.startswith("refused:"), (u, res[u].reason)
        assert "--allow-private-hosts" in res[u].reason
    before = server.total_hits
    assert server.total_hits == before  # nothing was asked of the server
    ok = _fetch([server.url("/icon.png")], allow_private_hosts=True)
    assert ok[server.url("/icon.png")].ok


def test_requests_go_to_the_address_that_was_checked(monkeypatch):
    import asyncio
    import socket

    answers = {"images.example": ["93.184.216.34"], "mixed.example": ["93.184.216.34", "10.1.2.3"],
               "rebind.example": ["169.254.169.254"]}

    def fake_getaddrinfo(host, port, *args, **kwargs):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port)) for ip in answers[host]]

    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo)
    target, headers, ext = asyncio.run(fetch._pinned("https://u@images.example:8443/a.png?x=1",
                                                     {"If-None-Match": "e"},
                                                     fetch.FetchSettings()))
    assert target == "https://u@93.184.216.34:8443/a.png?x=1"
    assert headers == {"If-None-Match": "e", "Host": "images.example:8443", "Connection": "close"}
    assert ext == {"sni_hostname": "images.example"}
    for host in ("mixed.example", "rebind.example"):
        with pytest.raises(fetch._Failure, match=f"refused: {host} is a"):
            asyncio.run(fetch._pinned(f"http://{host}/x.png", {}, fetch.FetchSettings()))


def test_proxy_variables_do_not_route_requests_around_the_address_check(server, monkeypatch):
    import socket
    import threading

    proxy = socket.socket()
    proxy.bind(("127.0.0.1", 0))
    proxy.listen(8)
    proxy.settimeout(0.2)
    seen: list = []
    stop = threading.Event()

    def accept():
        while not stop.is_set():
            try:
                conn, _ = proxy.accept()
            except OSError:
                continue
            seen.append(conn.recv(200))
            conn.close()

    t = threading.Thread(target=accept, daemon=True)
    t.start()
    try:
        url = f"http://127.0.0.1:{proxy.getsockname()[1]}"
        for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "all_proxy"):
            monkeypatch.setenv(var, url)
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        refused = _fetch(["http://10.0.0.1/x.png"])["http://10.0.0.1/x.png"]
        assert refused.reason.startswith("refused:")  # checked, never handed to the proxy
        ok = _fetch([server.url("/icon.png")], allow_private_hosts=True)
        assert ok[server.url("/icon.png")].ok  # straight to the server, not through the proxy
        assert seen == []
    finally:
        stop.set()
        t.join(2)
        proxy.close()


def test_every_redirect_hop_is_checked(server, monkeypatch):
    """A 'public' first hop (this loopback server, let through by name) redirecting to another
    loopback port, to localhost and to a decimal IP: each refused at the hop."""
    port = server.server.port
    original = fetch._checked_address

    async def first_hop_public(url, settings):
        if url.path == "/redirect-to" and url.port == port:
            return "127.0.0.1"
        return await original(url, settings)

    monkeypatch.setattr(fetch, "_checked_address", first_hop_public)
    for target, host in ((f"http://127.0.0.1:{port + 1}/x.png", "127.0.0.1"),
                         (f"http://localhost:{port}/icon.png", "localhost"),
                         (f"http://2130706433:{port}/icon.png", "2130706433")):
        url = server.url("/redirect-to") + "?to=" + target
        before = server.hits["/redirect-to"]
        res = _fetch([url])[url]
        assert server.hits["/redirect-to"] == before + 1  # the first hop was fetched
        assert not res.ok and res.reason.startswith(f"refused: {host} is a"), (target, res.reason)


def test_user_names_do_not_make_distinct_hosts(server):
    """30 slow images under distinct user names cost one budget, not ten rounds of it."""
    port = server.server.port
    urls = [f"http://u{i}@127.0.0.1:{port}/trickle.jpg?n={i}" for i in range(30)]
    t0 = time.monotonic()
    res = _fetch(urls, total_timeout=1.0, concurrency=3, allow_private_hosts=True)
    elapsed = time.monotonic() - t0
    assert all(not r.ok for r in res.values())
    assert sum("not tried" in r.reason for r in res.values()) >= 27
    assert elapsed < 8, elapsed  # one by one it would take 10 s


def test_a_dead_redirect_target_is_charged_to_the_target(server):
    good = [server.url(f"/icon.png?n={i}") for i in range(10)]
    dead = server.url("/redirect-to") + "?to=http://127.0.0.1:9/x.png"  # discard port: refused
    res = _fetch([dead] + good, concurrency=2, allow_private_hosts=True)
    assert not res[dead].ok
    assert all(res[u].ok for u in good), [res[u].reason for u in good if not res[u].ok]
    # and a later image on the dead host fails at once, naming it
    res = _fetch([dead, "http://127.0.0.1:9/other.png"], concurrency=1, allow_private_hosts=True)
    assert "not tried" in res["http://127.0.0.1:9/other.png"].reason


def test_total_fetch_budget(server):
    urls = [server.url(f"/trickle.jpg?b={i}") for i in range(4)]
    t0 = time.monotonic()
    res = _fetch(urls, total_timeout=20, budget=1.0, concurrency=1, allow_private_hosts=True)
    assert time.monotonic() - t0 < 15  # without the budget: 80 s
    reasons = [r.reason for r in res.values()]
    assert all("fetch budget" in r or "not tried" in r for r in reasons), reasons


# ---- SVG ----------------------------------------------------------------------------------------

def _use_bomb(levels=12, fan=10) -> bytes:
    parts = ['<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"'
             ' width="10" height="10"><defs><rect id="a0" width="1" height="1"/>']
    for i in range(1, levels):
        parts.append(f'<g id="a{i}">' + f'<use xlink:href="#a{i - 1}"/>' * fan + "</g>")
    parts.append(f'</defs><use href="#a{levels - 1}"/></svg>')
    return "".join(parts).encode()


def test_svg_use_bomb_cycles_and_size_limits():
    t0 = time.process_time()
    with pytest.raises(svg.SvgRefused, match="use bomb"):
        svg.sanitize(_use_bomb())
    assert time.process_time() - t0 < 1
    cycle = (b'<svg xmlns="http://www.w3.org/2000/svg"><g id="a"><use href="#b"/></g>'
             b'<g id="b"><use href="#a"/></g></svg>')
    with pytest.raises(svg.SvgRefused, match="cycle"):
        svg.sanitize(cycle)
    deep = b'<svg xmlns="http://www.w3.org/2000/svg">' + b"<g>" * 500 + b"</g>" * 500 + b"</svg>"
    with pytest.raises(svg.SvgRefused, match="deeper"):
        svg.sanitize(deep)
    svg.sanitize(_use_bomb(levels=3, fan=5))  # modest reuse is fine


def test_svg_css_escapes_and_animated_links_are_cleaned():
    dirty = (b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">'
             b'<style>rect{fill:u\\72l(http://evil.example/a)} g{fill:\\75 rl("//evil.example/b")}'
             b' @import "http://evil.example/c.css"; p{background:image-set("http://evil.example/i")}'
             b'</style><rect style="fill:u\\rl(http://evil.example/d)" fill="u/**/rl(http://evil.example/e)"/>'
             b'<image width="1" height="1"><set attributeName="xlink:href" to="http://evil.example/f"/>'
             b'<animate attributeName="HREF" values="http://evil.example/g"/></image>'
             b'<rect><animate attributeName="fill" values="url(http://evil.example/h)"/></rect>'
             b'<rect fill="url(#ok)"/><linearGradient id="ok"/></svg>')
    clean = svg.sanitize(dirty)
    assert b"evil" not in clean.data, clean.data
    assert b"url(#ok)" in clean.data
    assert "<set> of a link" in clean.removed and "external CSS" in clean.removed


def test_svg_use_bomb_in_a_book_reaches_no_output(tmp_path):
    book = tmp_path / "book"
    book.mkdir()
    (book / "bomb.svg").write_bytes(_use_bomb())
    (book / "post.md").write_text("# Bomb\n\n![chart](bomb.svg)\n\nAfter.\n")
    t0 = time.monotonic()
    res = build(config.load(book), BuildOptions(formats=("epub", "pdf"), offline=True,
                                                out_dir=tmp_path / "out", cache_dir=tmp_path / "c"))
    assert time.monotonic() - t0 < 300  # it used to run past 10 minutes
    assert any(d.code == "asset-refused" and "use bomb" in d.message and d.line == 3
               for d in res.diagnostics)
    with zipfile.ZipFile(res.outputs["epub"]) as z:
        assert not [n for n in z.namelist() if n.endswith(".svg")]
    _EPUBS.append(res.outputs["epub"])


# ---- limits on what a post controls -------------------------------------------------------------

YAML_BOMB = """---
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
title: *g
---
Body.
"""


def test_yaml_alias_bomb_is_a_named_error(tmp_path):
    with pytest.raises(frontmatter.FrontMatterError, match="aliases"):
        frontmatter.split(YAML_BOMB)
    assert frontmatter.split("---\nx: &x {k: 1}\ny: *x\n---\n").meta["y"] == {"k": 1}
    post = tmp_path / "bomb.md"
    post.write_text(YAML_BOMB)
    t0 = time.monotonic()
    r = _cli("build", post, "--format", "epub", "--offline", "--cache-dir", tmp_path / "c")
    assert time.monotonic() - t0 < 180  # it used to take 5.7 GB and die
    assert r.returncode == 1 and f"{post}:" in r.stderr and "aliases" in r.stderr
    assert "Traceback" not in r.stderr


def _epub_text(epub: Path) -> str:
    with zipfile.ZipFile(epub) as z:
        return "".join(z.read(n).decode() for n in sorted(z.namelist())
                       if n.startswith("EPUB/text/") and "chapter" not in n and n.endswith("xhtml")
                       or n.startswith("EPUB/text/") and n.endswith(".xhtml"))


def test_pathological_markdown_is_bounded_and_loses_nothing(tmp_path):
    book = tmp_path / "book"
    book.mkdir()
    (book / "a-brackets.md").write_text("# Brackets\n\n" + "[" * 50_000 + "\n\nAfter brackets.\n")
    words = " ".join(f"w{i}" for i in range(120_000))  # one line of about 800 KB
    (book / "b-line.md").write_text("# Line\n\nStart " + words + " end.\n")
    (book / "c-long.md").write_text("# Long\n\n" + "".join(f"line {i}\n" for i in range(70_000))
                                    + "\n![gone](missing.png)\n")
    t0 = time.process_time()
    res = build(config.load(book), BuildOptions(formats=("epub",), offline=True,
                                                out_dir=tmp_path / "out", cache_dir=tmp_path / "c"))
    assert time.process_time() - t0 < 90  # CPU seconds; 50 KB of '[' alone took 10 minutes
    with zipfile.ZipFile(res.outputs["epub"]) as z:
        text = {n: z.read(n).decode() for n in z.namelist() if n.startswith("EPUB/text/")}
    brackets = next(v for k, v in text.items() if "brackets" in k)
    assert brackets.count("[") == 50_000 and "After brackets." in brackets
    line = next(v for k, v in text.items() if k.endswith("line.xhtml"))
    assert "w0 " in line and "w119999 end." in line
    codes = {(d.code, d.file.name if d.file else None) for d in res.diagnostics}
    assert ("markdown-bounded", "a-brackets.md") in codes
    assert ("markdown-bounded", "b-line.md") in codes
    assert ("long-chapter", "c-long.md") in codes  # 70,000 lines: built, no OverflowError
    missing = [d for d in res.diagnostics if d.code == "asset-missing"]
    assert missing and missing[0].line == 65535
    _EPUBS.append(res.outputs["epub"])


def test_deep_nesting_is_flattened_before_layout(tmp_path):
    post = tmp_path / "deep.md"
    post.write_text("# Deep\n\n" + "<div>" * 300 + "deep text" + "</div>" * 300 + "\n\n"
                    + ">" * 300 + " deep quote [link](https://example.org/q)\n\nAfter.\n")
    res = build(config.load(post), BuildOptions(formats=("epub", "pdf"), offline=True,
                                                out_dir=tmp_path / "out", cache_dir=tmp_path / "c"))
    assert any(d.code == "nesting-flattened" and d.line == 3 for d in res.diagnostics)
    text = _epub_text(res.outputs["epub"])
    assert "deep text" in text and "deep quote" in text and "https://example.org/q" in text
    assert res.outputs["pdf"].stat().st_size > 1000
    _EPUBS.append(res.outputs["epub"])


def test_a_long_image_url_gets_a_note_instead_of_a_qr_code(tmp_path):
    url = "https://example.org/" + "x" * 4096 + ".png"
    post = tmp_path / "long.md"
    post.write_text(f"# Long URL\n\n![far away]({url})\n")
    res = build(config.load(post), BuildOptions(formats=("pdf",), offline=True,
                                                out_dir=tmp_path / "out", cache_dir=tmp_path / "c"))
    assert res.outputs["pdf"].read_bytes().startswith(b"%PDF")
    out = subprocess.run(["pdftotext", str(res.outputs["pdf"]), "-"], capture_output=True,
                         text=True).stdout
    assert "no QR code" in " ".join(out.split())


def test_binary_files_and_refused_image_sources_are_named(tmp_path):
    book = tmp_path / "book"
    book.mkdir()
    (book / "a.md").write_text("# A\n\n![win](C:/x.png)\n\n![js](javascript:alert(1))\n")
    r = _cli("build", book, "--format", "epub", "--offline", "--cache-dir", tmp_path / "c",
             "--out-dir", tmp_path / "out")
    assert r.returncode == 0
    assert f"{book / 'a.md'}:3: warning: image C:/x.png refused" in r.stderr
    assert f"{book / 'a.md'}:5: warning: image javascript:alert(1) refused" in r.stderr
    import random
    rnd = random.Random(7)
    (book / "b.md").write_bytes(bytes(rnd.choice(range(1, 256)) for _ in range(4000)))
    r = _cli("build", book, "--format", "epub", "--offline", "--cache-dir", tmp_path / "c",
             "--out-dir", tmp_path / "out2")
    assert r.returncode == 1 and "b.md:" in r.stderr and "not a text file" in r.stderr
    assert not (tmp_path / "out2").exists()


# ---- processes, time budget, outputs all or none, reports ---------------------------------------

def _big_book(root: Path, paragraphs: int = 900) -> Path:
    import random

    r = random.Random(1)
    words = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod".split()
    root.mkdir(parents=True, exist_ok=True)
    post = root / "big.md"
    post.write_text("# Big\n\n" + "\n\n".join(" ".join(r.choice(words) for _ in range(120)) + "."
                                              for _ in range(paragraphs)) + "\n")
    return post


def _group(pgid: int) -> list[str]:
    out = subprocess.run(["ps", "-o", "pid=,stat=,cmd=", "-g", str(pgid)], capture_output=True,
                         text=True).stdout
    return [ln for ln in out.splitlines() if ln.split()[1][0] != "Z"]  # zombies are gone


def _wait_for_render_worker(proc: subprocess.Popen) -> None:
    """Until the build's process group holds a render worker (a grandchild) or the build ends;
    the build must still be running."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if len(_group(proc.pid)) >= 4 or proc.poll() is not None:
            break
        time.sleep(0.2)
    assert proc.poll() is None, "the build ended before its render worker was seen"


def _assert_group_ends(pgid: int, seconds: float) -> None:
    """Every process of the group gone within seconds."""
    end = time.monotonic() + seconds
    while _group(pgid) and time.monotonic() < end:
        time.sleep(0.3)
    assert not _group(pgid), _group(pgid)


@pytest.mark.skipif(sys.platform != "linux", reason="process groups and ps as on Linux")
def test_kill_9_during_the_pdf_leaves_no_process_behind(tmp_path):
    post = _big_book(tmp_path / "book")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1] / "src")}
    env.pop("PUBPIPE_PDF_INPROCESS", None)
    proc = subprocess.Popen([sys.executable, "-m", "pubpipe", "build", str(post), "--format",
                             "pdf", "--offline", "--cache-dir", str(tmp_path / "c"), "--out-dir",
                             str(tmp_path / "out")], env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_for_render_worker(proc)
        time.sleep(1)
        os.kill(proc.pid, 9)
        proc.wait()
        _assert_group_ends(proc.pid, 15)
        assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())
    finally:
        subprocess.run(["pkill", "-9", "-g", str(proc.pid)], capture_output=True)


def test_time_budget_fails_with_a_clear_message_and_a_report(tmp_path):
    post = _big_book(tmp_path / "book", paragraphs=200)
    report = tmp_path / "report.json"
    t0 = time.monotonic()
    r = _cli("build", post, "--format", "pdf", "--offline", "--cache-dir", tmp_path / "c",
             "--out-dir", tmp_path / "out", "--time-limit", "0.5", "--report", report)
    assert time.monotonic() - t0 < 180
    assert r.returncode == 1, r.stderr
    assert "time budget (0.5 s, --time-limit)" in r.stderr and "Traceback" not in r.stderr
    import json
    data = json.loads(report.read_text())
    assert data["exit_code"] == 1 and "time budget" in data["error"]
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


def test_report_path_that_cannot_be_written_is_a_usage_error(tmp_path):
    post = tmp_path / "p.md"
    post.write_text("# P\n\nText.\n")
    (tmp_path / "afile").write_text("x")
    r = _cli("build", post, "--format", "epub", "--offline", "--report",
             tmp_path / "afile" / "r.json")
    assert r.returncode == 2 and "--report" in r.stderr and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    bad = tmp_path / "bad.md"
    bad.write_text(YAML_BOMB)
    r = _cli("build", bad, "--format", "epub", "--offline", "--cache-dir", tmp_path / "c",
             "--report", tmp_path / "r.json")
    import json
    data = json.loads((tmp_path / "r.json").read_text())
    assert r.returncode == 1 and data["exit_code"] == 1
    assert any(d["code"] == "front-matter" and d["line"] for d in data["diagnostics"])


def test_outputs_are_written_all_or_none_and_stale_temp_files_go(tmp_path):
    post = tmp_path / "book" / "post.md"
    post.parent.mkdir()
    post.write_text("# Both\n\nText.\n")
    out = tmp_path / "out"
    out.mkdir()
    (out / "both.html").mkdir()  # a folder where the HTML should go
    with pytest.raises(BuildError, match="folder of that name is in the way"):
        build(config.load(post), BuildOptions(formats=("epub", "html"), offline=True,
                                              out_dir=out, cache_dir=tmp_path / "c"))
    assert not (out / "both.epub").exists()  # the EPUB was not written alone
    (out / "both.html").rmdir()
    dead = subprocess.Popen(["true"])
    dead.wait()
    stale = out / f".both.epub.{dead.pid}.abc123.tmp"
    stale.write_bytes(b"half an epub")
    live = out / f".both.pdf.{os.getpid()}.def456.tmp"  # a build still running
    live.write_bytes(b"in progress")
    res = build(config.load(post), BuildOptions(formats=("epub", "html"), offline=True,
                                                out_dir=out, cache_dir=tmp_path / "c"))
    assert set(res.outputs) == {"epub", "html"} and not stale.exists() and live.exists()
    assert sorted(p.name for p in out.iterdir()) == sorted(["both.epub", "both.html", live.name])


def test_internal_errors_name_what_the_build_was_doing(tmp_path, monkeypatch):
    from pubpipe.readers import markdown as md

    post = tmp_path / "p.md"
    post.write_text("# P\n\nText.\n")

    def broken(*a, **k):
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(md, "flatten_depth", broken)
    from pubpipe.readers import book as readers
    monkeypatch.setattr(readers, "flatten_depth", broken)
    monkeypatch.delenv("PUBPIPE_DEBUG", raising=False)
    with pytest.raises(BuildError, match=f"internal error while reading {post}: RecursionError"):
        build(config.load(post), BuildOptions(formats=("epub",), offline=True,
                                              cache_dir=tmp_path / "c", out_dir=tmp_path / "o"))


# ---- bounded layout: huge chapters, unbreakable runs, deep quotes ------------------------------

def test_a_chapter_too_long_to_print_fails_at_once_naming_it(tmp_path, monkeypatch):
    from lxml import etree

    from pubpipe.document import Chapter
    from pubpipe.layout import bounds
    from pubpipe.layout.settings import PrintSettings

    body = etree.fromstring("<div><ul>" + "<li>item 1234</li>" * 70_000 + "</ul></div>")
    est = bounds.estimate(Chapter(source=Path("x.md"), body=body), PrintSettings(432.0, 648.0))
    assert est.pages > bounds.MAX_CHAPTER_PAGES and est.blocks == 70_000  # about 2,200 printed
    normal = etree.fromstring("<div>" + "<p>" + "word " * 120 + "</p>" * 1 + "</div>")
    assert bounds.estimate(Chapter(source=Path("y.md"), body=normal),
                           PrintSettings(432.0, 648.0)).pages == 1

    monkeypatch.setattr(bounds, "MAX_CHAPTER_PAGES", 20)  # a small book proves the same
    book = tmp_path / "book"
    book.mkdir()
    (book / "book.toml").write_text('[book]\ntitle = "Lists"\n\n[pdf]\npage-size = "6in 9in"\n')
    (book / "a.md").write_text("# A\n\nShort.\n")
    (book / "b.md").write_text("# B\n\n" + "".join(f"- item {i}\n" for i in range(3000)))
    t0 = time.monotonic()
    with pytest.raises(BuildError) as e:
        build(config.load(book), BuildOptions(formats=("epub", "pdf"), offline=True,
                                              out_dir=tmp_path / "out", cache_dir=tmp_path / "c"))
    assert time.monotonic() - t0 < 60  # refused before any layout (which took minutes)
    [d] = [d for d in e.value.diagnostics if d.code == "print-too-long"]
    assert d.file == book / "b.md" and d.line == 1 and "split the post" in d.message
    assert not (tmp_path / "out").exists()
    # the EPUB alone is still made, without print page numbers (and says so)
    res = build(config.load(book), BuildOptions(formats=("epub",), offline=True,
                                                out_dir=tmp_path / "out", cache_dir=tmp_path / "c"))
    assert any(d.code == "epub-page-numbers" and d.file == book / "b.md" for d in res.diagnostics)
    assert "item 2999" in _epub_text(res.outputs["epub"])
    _EPUBS.append(res.outputs["epub"])


def test_long_unbreakable_runs_get_break_opportunities_in_print():
    from lxml import etree

    from pubpipe.layout.printfixes import LONG_RUN, break_long_runs

    root = etree.fromstring("<div><p>short words here " + "[x" * 100 + " end</p>"
                            "<p>" + "ab<em>cd</em>" * 40 + "</p><pre>" + "y" * 300 + "</pre>"
                            "<p>" + "z" * 60 + "</p><p>" + "z" * 60 + "</p></div>")
    break_long_runs(root)
    p1, p2, pre, p3, p4 = root
    runs = p1.text.split(" ")
    assert max(len(r) for t in runs for r in t.split("\u200b")) <= LONG_RUN
    assert p1.text.replace("\u200b", "") == "short words here " + "[x" * 100 + " end"
    text2 = "".join(p2.itertext())
    assert "\u200b" in text2 and text2.replace("\u200b", "") == "abcd" * 40  # across elements
    assert pre.text == "y" * 300  # code blocks wrap their own lines
    assert "\u200b" not in p3.text + p4.text  # blocks end a run


def test_addresses_beside_a_qr_code_break_often_and_never_anywhere_in_print():
    """A card's address line sits in a table cell: WeasyPrint measures its narrowest width, which
    with break-anywhere rules costs the square of the address's length (4,000 characters: 40 s
    of layout), so print breaks it at zero-width spaces every ADDRESS_RUN characters instead."""
    from lxml import etree

    from pubpipe.layout.printfixes import ADDRESS_RUN, LONG_RUN, break_long_runs

    url = "https://www.youtube.com/embed/" + "a" * 200
    root = etree.fromstring(f'<div><p class="pp-embed-link"><a href="{url}">{url}</a></p>'
                            f"<p>{url}</p></div>")
    break_long_runs(root)
    card, body = root
    link = card[0].text
    assert link.replace("\u200b", "") == url
    assert max(len(r) for r in link.split("\u200b")) <= ADDRESS_RUN
    assert max(len(r) for r in body.text.split("\u200b")) == LONG_RUN  # elsewhere as before
    css = (Path(__file__).resolve().parent.parent / "styles" / "print.css").read_text()
    rule = css[css.index("body .pp-embed-link,"):]
    rule = rule[:rule.index("}")]
    assert "overflow-wrap: break-word" in rule and "word-break: normal" in rule


def test_a_huge_unbreakable_paragraph_prints_in_seconds(tmp_path):
    post = tmp_path / "brackets.md"
    post.write_text("# Brackets\n\n" + "[x" * 25_600 + "\n\nAfter.\n")  # 50 KB, no space
    res = build(config.load(post), BuildOptions(formats=("pdf",), offline=True, time_limit=90,
                                                out_dir=tmp_path / "out", cache_dir=tmp_path / "c"))
    text = subprocess.run(["pdftotext", str(res.outputs["pdf"]), "-"], capture_output=True,
                          text=True).stdout
    # every character printed, nothing added (a cut between '\\' and the '[' it escaped
    # used to show the backslash)
    assert text.count("[") == 25_600 and text.count("x") == 25_600 and "\\" not in text
    assert "After." in text


def test_deep_quotes_leave_no_markers_and_print_in_a_readable_column(tmp_path):
    from lxml import etree

    from pubpipe.layout.printfixes import MAX_INDENTS, flatten_indents

    root = etree.fromstring("<div>" + "<blockquote><p>q</p>" * 12 + "</blockquote>" * 12 +
                            "<ul><li>" * 10 + "item" + "</li></ul>" * 10 + "</div>")
    flatten_indents(root)
    flat = [el for el in root.iter() if el.get("data-ppw-flat") is not None]
    assert [el.tag for el in flat] == ["blockquote"] * (12 - MAX_INDENTS) + ["ul"] * 2

    post = tmp_path / "quotes.md"
    post.write_text("# Quotes\n\n" + ">" * 300 + " deepest words\n\nAfter.\n\n"
                    + "".join(">" * i + f" quote level {i}\n\n" for i in range(1, 41)))
    res = build(config.load(post), BuildOptions(formats=("epub", "pdf"), offline=True,
                                                time_limit=90, out_dir=tmp_path / "out",
                                                cache_dir=tmp_path / "c"))
    assert any(d.code == "markdown-bounded" and d.line == 3 and "32 levels" in d.message
               for d in res.diagnostics)
    text = _epub_text(res.outputs["epub"])
    assert "deepest words" in text and "&gt;" not in text  # no '>' left as text
    printed = subprocess.run(["pdftotext", str(res.outputs["pdf"]), "-"], capture_output=True,
                             text=True).stdout
    assert ">" not in printed
    for i in (1, 8, 20, 31):  # each level's line whole: the column is never a letter wide
        assert f"quote level {i}" in printed, i
    _EPUBS.append(res.outputs["epub"])


@pytest.mark.skipif(not Path("/proc/self").exists(), reason="needs /proc")
def test_report_in_a_folder_that_cannot_be_made_is_refused_before_the_build(tmp_path):
    post = tmp_path / "p.md"
    post.write_text("# P\n\nText.\n")
    r = _cli("build", post, "--format", "epub", "--offline", "--out-dir", tmp_path / "out",
             "--cache-dir", tmp_path / "c", "--report", "/proc/nope/r.json")
    assert r.returncode == 2, r.stderr
    assert r.stderr.strip() == "pubpipe: error: --report: cannot write /proc/nope/r.json:" \
                               " No such file or directory"
    assert not (tmp_path / "out").exists()


@pytest.mark.skipif(sys.platform != "linux", reason="process groups and ps as on Linux")
def test_sigterm_during_layout_ends_the_build_quietly(tmp_path):
    post = _big_book(tmp_path / "book", paragraphs=600)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1] / "src")}
    env.pop("PUBPIPE_PDF_INPROCESS", None)
    proc = subprocess.Popen([sys.executable, "-m", "pubpipe", "build", "-q", str(post),
                             "--format", "pdf", "--offline", "--cache-dir", str(tmp_path / "c"),
                             "--out-dir", str(tmp_path / "out")], env=env,
                            start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    try:
        _wait_for_render_worker(proc)
        time.sleep(0.5)
        proc.terminate()
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 143 and err.strip() == "pubpipe: terminated", err
        _assert_group_ends(proc.pid, 10)
        assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())
    finally:
        subprocess.run(["pkill", "-9", "-g", str(proc.pid)], capture_output=True)


def test_cached_pdf_and_image_variants_are_checked_before_use(tmp_path, secret):
    from pubpipe.layout.edition import Resource
    from pubpipe.layout.render import SandboxFetcher

    img = tmp_path / "v.png"
    img.write_bytes(_png())
    good = __import__("hashlib").sha256(img.read_bytes()).hexdigest()
    fetcher = SandboxFetcher({"pp:ok.png": Resource(img, "image/png", good),
                               "pp:bad.png": Resource(img, "image/png", "0" * 64)})
    assert fetcher.fetch("pp:ok.png").read()[:4] == b"\x89PNG"
    with pytest.raises(ValueError, match="changed since it was made"):
        fetcher.fetch("pp:bad.png")

    post = tmp_path / "book" / "p.md"
    post.parent.mkdir()
    post.write_text("# P\n\nText.\n")
    opts = dict(formats=("pdf",), offline=True, out_dir=tmp_path / "out",
                cache_dir=tmp_path / "c")
    first = build(config.load(post), BuildOptions(**opts)).outputs["pdf"].read_bytes()
    [cached] = list((tmp_path / "c" / "pdf").glob("*.pdf"))
    cached.unlink()
    cached.symlink_to(secret)  # a poisoned cache: the finished PDF swapped for another file
    res = build(config.load(post), BuildOptions(**opts))
    assert res.outputs["pdf"].read_bytes() == first
    assert any(d.code == "cache-damaged" for d in res.diagnostics)


def test_an_old_in_book_cache_folder_is_never_read_nor_removed(tmp_path, secret, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    book = tmp_path / "book"
    book.mkdir()
    (book / "p.md").write_text("# P\n\nText with a formula $$x^2$$.\n\n![pic](pic.png)\n")
    (book / "pic.png").write_bytes(_png())
    old = book / ".pubpipe-cache"  # where earlier versions kept the cache by default
    opts = dict(formats=("epub", "pdf"), offline=True, out_dir=tmp_path / "out")
    build(config.load(book), BuildOptions(**opts, cache_dir=old))
    poisoned = {}
    for f in old.rglob("*"):
        if f.is_file():
            f.write_text(f"root:x:0:0:{SECRET}\n")  # every entry replaced
            poisoned[f] = f.read_bytes()
    res = build(config.load(book), BuildOptions(**opts))  # the default cache: outside the book
    assert SECRET.encode() not in _everything(list(res.outputs.values()))
    assert not any(d.code == "cache-damaged" for d in res.diagnostics)
    assert {f: f.read_bytes() for f in old.rglob("*") if f.is_file()} == poisoned  # untouched
    assert (tmp_path / "xdg" / "pubpipe").is_dir()
    _EPUBS.append(res.outputs["epub"])


# ---- a property: hostile fragments never hang or crash a build ----------------------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

HOSTILE = ["[", "![", "](", "[a](", "<b>", "</b>", "<div>", "</div>", "<span>", ">", "&amp;",
           "a < b ", "*", "_", "`", "```", "{{< ", "{% ", "<!--", "<svg>", "<table><tr><td>",
           "\\", "|", "- ", "1. ", "    ", "#", "<img src=x>", "<a href='javascript:x'>", "\u202e",
           "http://", "word ", "\n", "\n\n", "<iframe src=//127.0.0.1/>", "\ufeff", "$$", "^"]


@st.composite
def hostile_posts(draw) -> str:
    parts = draw(st.lists(st.tuples(st.sampled_from(HOSTILE),
                                    st.sampled_from([1, 3, 50, 400, 3000])),
                          min_size=1, max_size=6))
    body = "".join(piece * count for piece, count in parts)
    head = draw(st.sampled_from(["", "---\ntitle: T\n---\n", "+++\ntitle = 'T'\n+++\n"]))
    return head + "# Hostile\n\n" + body[:60_000] + "\n"


@settings(max_examples=int(os.environ.get("PUBPIPE_HOSTILE_EXAMPLES", "15")), deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.function_scoped_fixture])
@given(text=hostile_posts())
def test_hostile_fragments_build_in_bounded_time(tmp_path, text):
    post = tmp_path / "hostile.md"
    post.write_text(text, encoding="utf-8")
    t0 = time.process_time()  # CPU time: the build's own work, whatever else the machine runs
    try:
        res = build(config.load(post), BuildOptions(formats=("html",), offline=True,
                                                    out_dir=tmp_path / "out",
                                                    cache_dir=tmp_path / "c", time_limit=120))
        assert res.outputs["html"].stat().st_size > 0
    except (BuildError, ConfigError) as e:
        assert "internal error" not in str(e) and "time budget" not in str(e), str(e)
    assert time.process_time() - t0 < 20, (len(text), text[:200])


def test_every_epub_built_here_passes_epubcheck():
    from epubcheck_runner import assert_epubcheck_clean

    if not _EPUBS:
        pytest.skip("no EPUB was built by the tests selected")
    assert_epubcheck_clean(*_EPUBS)


@pytest.mark.skipif(sys.platform != "linux", reason="process groups and ps as on Linux")
def test_time_budget_during_layout_ends_the_build_at_once(tmp_path):
    """The budget running out while a piece is laid out: the worker is ended, not waited for
    (the interpreter's exit used to wait, a minute and more, after the error was printed)."""
    post = _big_book(tmp_path / "book", paragraphs=600)  # about 240 pages: a slow layout
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1] / "src")}
    env.pop("PUBPIPE_PDF_INPROCESS", None)
    t0 = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "pubpipe", "build", "-q", str(post),
                             "--format", "pdf", "--offline", "--cache-dir", str(tmp_path / "c"),
                             "--out-dir", str(tmp_path / "out"), "--time-limit", "4"],
                            env=env, start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    try:
        _, err = proc.communicate(timeout=120)
        assert time.monotonic() - t0 < 40, err
        assert proc.returncode == 1 and "time budget (4 s" in err, err
        _assert_group_ends(proc.pid, 10)
    finally:
        subprocess.run(["pkill", "-9", "-g", str(proc.pid)], capture_output=True)


def _break_long_runs_word_by_word(root, limit_of=lambda el, outer: outer) -> None:
    """The plain per-word definition of break_long_runs, to check its fast path against."""
    import re

    from pubpipe.layout.printfixes import (_ADDRESS_CLASSES, _BLOCKISH, _NO_RUN_BREAK,
                                           ADDRESS_RUN, LONG_RUN)
    state = {"run": 0, "limit": LONG_RUN}

    def feed(text):
        if not text:
            return text
        out = []
        for part in re.split(r"(\s+)", text):
            if not part:
                continue
            if part[0].isspace():
                state["run"] = 0
            else:
                while state["run"] + len(part) > state["limit"]:
                    cut = state["limit"] - state["run"]
                    out += [part[:cut], "\u200b"]
                    part, state["run"] = part[cut:], 0
                state["run"] += len(part)
            out.append(part)
        return "".join(out)

    def walk(el):
        tag = el.tag if isinstance(el.tag, str) else ""
        if tag in _BLOCKISH or tag == "br" or tag in _NO_RUN_BREAK:
            state["run"] = 0
        if tag and tag not in _NO_RUN_BREAK:
            outer = state["limit"]
            if _ADDRESS_CLASSES.intersection((el.get("class") or "").split()):
                state["limit"], state["run"] = ADDRESS_RUN, 0
            el.text = feed(el.text)
            for child in el:
                walk(child)
            state["limit"] = outer
            if tag in _BLOCKISH:
                state["run"] = 0
        el.tail = feed(el.tail)

    walk(root)


def test_long_run_breaks_are_those_of_the_per_word_rule():
    """break_long_runs skips its per-word loop for text with no run too long: the zero-width
    spaces must still be exactly where the per-word rule puts them (Unicode spaces included)."""
    from hypothesis import given, settings
    from hypothesis import strategies as st
    from lxml import etree

    from pubpipe.layout.printfixes import break_long_runs

    letters = "ab[x\u00e9-"
    words = st.text(alphabet=letters, max_size=45) | st.text(alphabet=letters, max_size=90)
    spaces = st.sampled_from([" ", "  ", "\n", "\u00a0", "\u2003", "\t", "\u3000"])
    texts = st.lists(st.tuples(words, spaces), max_size=12).map(
        lambda ps: "".join(w + s for w, s in ps)) | words
    tags = st.sampled_from(["em", "b", "p", "br", "pre", "span"])
    trees = st.lists(st.tuples(tags, texts, texts, st.booleans()), min_size=1, max_size=8)

    @settings(max_examples=600, deadline=None)
    @given(trees, texts)
    def check(children, head):
        def build():
            root = etree.Element("div")
            root.text = head
            for tag, text, tail, address in children:
                el = etree.SubElement(root, tag)
                el.text, el.tail = text, tail
                if address:
                    el.set("class", "pp-embed-link")
            return root
        fast, slow = build(), build()
        break_long_runs(fast)
        _break_long_runs_word_by_word(slow)
        assert etree.tostring(fast) == etree.tostring(slow)

    check()
