"""The cache does not grow forever: pruning after each build, `pubpipe clean`, and never a file
outside the cache folder (links inside it lead nowhere they could do harm)."""

from __future__ import annotations

import io
import json
import os
import time
from pathlib import Path

from PIL import Image

from epubcheck_runner import assert_epubcheck_clean
from pubpipe.assets.cache import (BUILD_LOG, TAG, Policy, cache_size, claim, empty, mark_used,
                                  prune, record_build)
from pubpipe.cli import main

DAY = 86400.0


def _entry(cache: Path, rel: str, size: int = 10, age: float = 0.0, now: float | None = None,
           ) -> Path:
    path = cache / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x" * size)
    t = (now or time.time()) - age
    os.utime(path, (t, t))
    return path


def _files(cache: Path) -> set[str]:
    return {p.relative_to(cache).as_posix() for p in cache.rglob("*")
            if p.is_file() and p.name not in (BUILD_LOG, TAG)}


def test_derived_entries_no_recent_build_used_are_removed(tmp_path):
    cache, now = tmp_path / "cache", time.time()
    # five earlier builds, an hour apart; this one starts now
    for k in range(5, 0, -1):
        record_build(cache, now - k * 3600)
    _entry(cache, "layout/old.pdf", age=4.5 * 3600, now=now)  # used before the 4th-last build
    _entry(cache, "layout/old.json", age=4.5 * 3600, now=now)
    _entry(cache, "layout/recent.pdf", age=1.5 * 3600, now=now)  # used by the 2nd-last build
    _entry(cache, "variants/v1.jpg", age=4.5 * 3600, now=now)
    _entry(cache, "epub/covers/c1.jpg", age=4.5 * 3600, now=now)
    _entry(cache, "objects/ab/abcdef", age=4.5 * 3600, now=now)  # a download: kept
    _entry(cache, "urls/u1.json", age=4.5 * 3600, now=now)
    _entry(cache, "layout/mine.pdf", now=now + 1)  # this build's
    done = prune(cache, now, Policy(keep_builds=3, max_age_days=0, max_bytes=0), now=now + 2)
    assert _files(cache) == {"layout/recent.pdf", "objects/ab/abcdef", "urls/u1.json",
                             "layout/mine.pdf"}
    assert done.removed_files == 4 and done.removed_bytes == 40
    assert done.kept_files == 4 and not done.over_bound
    log = json.loads((cache / BUILD_LOG).read_text())["builds"]
    assert log[-1] == now and len(log) == 6


def test_builds_answered_from_finished_outputs_do_not_age_the_layout(tmp_path):
    """Nothing changed, the outputs came from the output cache: the layout the next edit needs
    was not used, but such builds are not counted among the last builds."""
    cache, now = tmp_path / "cache", time.time()
    record_build(cache, now - 2 * 3600)  # the last build that did work
    _entry(cache, "layout/piece.pdf", age=2 * 3600 - 60, now=now)
    for k in range(5):  # five builds with nothing changed
        _entry(cache, "outputs/slot.epub", now=now + k)
        prune(cache, now + k, Policy(keep_builds=1, max_age_days=0, max_bytes=0), now=now + k)
    assert (cache / "layout" / "piece.pdf").exists()
    assert len(json.loads((cache / BUILD_LOG).read_text())["builds"]) == 1
    _entry(cache, "layout/other.pdf", now=now + 10)  # a build that laid something out
    prune(cache, now + 10, Policy(keep_builds=1, max_age_days=0, max_bytes=0), now=now + 10)
    assert not (cache / "layout" / "piece.pdf").exists()


def test_a_piece_and_its_record_go_together_and_age_counts_too(tmp_path):
    cache, now = tmp_path / "cache", time.time()
    _entry(cache, "pdf/k.pdf", age=40 * DAY, now=now)
    _entry(cache, "pdf/k.json", age=1 * DAY, now=now)  # read yesterday: the entry was used
    _entry(cache, "math/m.json", age=31 * DAY, now=now)
    _entry(cache, "math/n.json", age=29 * DAY, now=now)
    _entry(cache, "objects/cd/cdef", age=400 * DAY, now=now)
    prune(cache, now, Policy(keep_builds=0, max_age_days=30, max_bytes=0), now=now)
    assert _files(cache) == {"pdf/k.pdf", "pdf/k.json", "math/n.json", "objects/cd/cdef"}


def test_size_bound_removes_least_recently_used_but_never_this_builds(tmp_path):
    cache, now = tmp_path / "cache", time.time()
    _entry(cache, "objects/aa/old", size=400, age=5 * DAY, now=now)
    _entry(cache, "variants/a.jpg", size=300, age=3 * DAY, now=now)
    _entry(cache, "variants/b.jpg", size=300, age=1 * DAY, now=now)
    _entry(cache, "layout/now.pdf", size=500, now=now + 1)
    done = prune(cache, now, Policy(keep_builds=0, max_age_days=0, max_bytes=900), now=now + 2)
    assert _files(cache) == {"variants/b.jpg", "layout/now.pdf"}
    assert done.kept_bytes == 800 and not done.over_bound
    done = prune(cache, now, Policy(keep_builds=0, max_age_days=0, max_bytes=100), now=now + 2)
    assert _files(cache) == {"layout/now.pdf"} and done.over_bound  # this build's alone is more


def test_nothing_outside_the_cache_is_removed_through_links(tmp_path):
    outside = tmp_path / "precious"
    outside.mkdir()
    (outside / "keep.txt").write_text("mine")
    (outside / "ab").mkdir()
    (outside / "ab" / "deep.txt").write_text("mine too")
    target = tmp_path / "passwd"
    target.write_text("root:x:0:0")
    cache, now = tmp_path / "cache", time.time()
    _entry(cache, "layout/x.pdf", age=100 * DAY, now=now)
    (cache / "layout" / "evil.pdf").symlink_to(target)  # a link posing as an entry
    (cache / "variants").symlink_to(outside)  # a kind's folder swapped for a link
    (cache / "objects").mkdir()
    (cache / "objects" / "ab").symlink_to(outside / "ab")  # a link one level down
    os.utime(target, (now - 100 * DAY, now - 100 * DAY))
    prune(cache, now, Policy(keep_builds=1, max_age_days=1, max_bytes=1), now=now)
    assert target.read_text() == "root:x:0:0"
    assert (outside / "keep.txt").read_text() == "mine"
    assert (outside / "ab" / "deep.txt").read_text() == "mine too"
    assert not (cache / "layout" / "x.pdf").exists()
    assert not os.path.lexists(cache / "layout" / "evil.pdf")  # the link itself is gone
    assert not os.path.lexists(cache / "variants")
    (cache / "pdf").mkdir()
    (cache / "pdf" / "link").symlink_to(outside)
    empty(cache)
    assert target.read_text() == "root:x:0:0"
    assert sorted(p.name for p in outside.rglob("*")) == ["ab", "deep.txt", "keep.txt"]
    assert [p.name for p in cache.iterdir()] == [TAG]


def test_a_folder_of_ones_own_is_never_emptied_or_pruned(tmp_path, capsys):
    """--cache-dir given a folder of one's own by mistake (one with a pdf/ folder of papers):
    without pubpipe's CACHEDIR.TAG nothing in it is touched."""
    folder = tmp_path / "home"
    (folder / "notes").mkdir(parents=True)
    (folder / "notes" / "todo.txt").write_text("buy milk")
    old = _entry(folder, "pdf/paper.pdf", age=400 * DAY)
    before = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))
    assert main(["clean", "--cache-dir", str(folder), "-q"]) == 2
    assert "not pubpipe's cache" in capsys.readouterr().err
    done = prune(folder, time.time(), Policy(keep_builds=1, max_age_days=1, max_bytes=1))
    assert done.not_ours and old.exists()
    assert sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")) == before
    assert not claim(folder) and not (folder / TAG).exists()


def test_clean_empties_only_pubpipes_folders_of_a_tagged_cache(tmp_path):
    cache = tmp_path / "cache"
    _entry(cache, "objects/ab/abcd")
    _entry(cache, "layout/p.pdf")
    record_build(cache, time.time())
    assert claim(cache)  # only pubpipe's folders: tagged
    (cache / "README").write_text("put here by someone")
    assert main(["clean", "--cache-dir", str(cache), "-q"]) == 0
    assert sorted(p.name for p in cache.rglob("*")) == [TAG, "README"]


def test_a_cache_read_marks_the_entry_used(tmp_path):
    from pubpipe.assets.store import AssetStore
    from pubpipe.config import AssetsSection

    store = AssetStore(tmp_path, tmp_path / "cache", AssetsSection())
    assert (tmp_path / "cache" / TAG).read_bytes().startswith(b"Signature: 8a477f597d28d1727")
    store.write_cache_file("layout/k.json", b"{}")
    path = tmp_path / "cache" / "layout" / "k.json"
    os.utime(path, (1000, 1000))
    assert store.read_cache_file("layout/k.json") == b"{}"
    assert path.stat().st_mtime > time.time() - 60
    os.utime(path, (1000, 1000))
    mark_used(path)
    assert path.stat().st_mtime > time.time() - 60


def _jpeg(color) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), color).save(buf, "JPEG")
    return buf.getvalue()


def _book(root: Path, keep_builds: int) -> None:
    root.mkdir()
    (root / "book.toml").write_text(
        f'[book]\ntitle = "Cache"\nauthors = ["A. Writer"]\nlanguage = "en"\n'
        f'[assets]\ncache-keep-builds = {keep_builds}\ncache-max-age = 0\n')
    (root / "one.md").write_text("# One\n\nA photo:\n\n![A red square](pic.jpg)\n")
    (root / "pic.jpg").write_bytes(_jpeg((200, 0, 0)))


def _earlier(cache: Path, seconds: float = 10.0) -> None:
    """Every entry's last use moved back, as if the builds had been that far apart (file times
    within a few seconds of a build's start count as its use)."""
    for p in cache.rglob("*"):
        if p.is_file() and p.name != BUILD_LOG:
            st = p.stat()
            os.utime(p, (st.st_atime - seconds, st.st_mtime - seconds))


def _build(root: Path, cache: Path, report: Path, *formats: str) -> dict:
    code = main(["build", str(root), "--format", ",".join(formats or ("epub",)), "--cache-dir",
                 str(cache), "--offline", "--report", str(report), "-q"])
    assert code == 0
    return json.loads(report.read_text())


def _set_aside_outputs(cache: Path) -> None:
    """Without the finished outputs (buildcache) a build with nothing changed runs in full, using
    every other entry again."""
    for p in (cache / "outputs").iterdir():
        p.unlink()


def test_builds_prune_what_they_no_longer_use_and_clean_empties(tmp_path):
    root, cache, report = tmp_path / "book", tmp_path / "cache", tmp_path / "r.json"
    _book(root, keep_builds=1)
    _build(root, cache, report)
    first = _files(cache)
    assert any(f.startswith("variants/") for f in first)
    assert any(f.startswith("objects/") for f in first)
    # nothing changed, built in full: everything the book needs was used again, nothing removed
    _earlier(cache)
    _set_aside_outputs(cache)
    r = _build(root, cache, report)
    assert r["cache"]["removed_files"] == 0 and _files(cache) == first
    # a new picture: the old one's processed variant is stale, its original (a source) stays
    (root / "pic.jpg").write_bytes(_jpeg((0, 0, 200)))
    _earlier(cache)
    r = _build(root, cache, report)
    second = _files(cache)
    old_variants = {f for f in first if f.startswith("variants/")}
    assert old_variants and not old_variants & second
    assert {f for f in first if f.startswith("objects/")} <= second
    assert r["cache"]["removed_files"] == len(old_variants)
    assert "prune cache" in r["timings"]
    assert_epubcheck_clean(root / "build" / "cache.epub")
    # pubpipe clean: the book's cache (as build finds it) is emptied
    (root / "book.toml").write_text((root / "book.toml").read_text().replace(
        "[assets]\n", f'[assets]\ncache-dir = "{cache}"\n'))
    assert main(["clean", str(root), "-q"]) == 0
    assert cache_size(cache) == (0, 0) and _files(cache) == set()


def test_a_print_rebuild_after_pruning_still_comes_from_the_cache(tmp_path):
    """With keep-builds = 1, every entry a no-change PDF build needs is marked as used: a third
    build removes nothing and finds what it needs (the same PDF, no layout work)."""
    root, cache, report = tmp_path / "book", tmp_path / "cache", tmp_path / "r.json"
    _book(root, keep_builds=1)
    (root / "book.toml").write_text((root / "book.toml").read_text() + '[pdf]\npage-size = "A5"\n')
    (root / "two.md").write_text("# Two\n\nMore text, and $x^2$ as a formula.\n")
    _build(root, cache, report, "pdf")
    pdf = (root / "build" / "cache.pdf").read_bytes()
    _earlier(cache)
    _set_aside_outputs(cache)
    _build(root, cache, report, "pdf")
    kept = _files(cache)
    _earlier(cache)
    _set_aside_outputs(cache)
    r = _build(root, cache, report, "pdf")
    assert r["cache"]["removed_files"] == 0 and _files(cache) == kept
    assert any(f.startswith("layout/") for f in kept) and any(f.startswith("pdf/") for f in kept)
    assert (root / "build" / "cache.pdf").read_bytes() == pdf


def test_the_policy_defaults_are_the_documented_book_toml_defaults():
    from pubpipe.config import AssetsSection

    assert Policy.of(AssetsSection()) == Policy() == Policy(20, 30.0, 2048 * 1024 * 1024)
    assert Policy.of(AssetsSection(cache_keep_builds=0, cache_max_mb=1)).max_bytes == 1048576
