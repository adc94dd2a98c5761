"""The command-line contract: exit codes, one-line messages naming file:line, nothing half-written."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path



def pubpipe(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pubpipe", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=300)


def _no_traceback(r: subprocess.CompletedProcess) -> None:
    assert "Traceback" not in r.stderr and "Traceback" not in r.stdout


def test_missing_source_is_a_usage_error(tmp_path):
    r = pubpipe("build", str(tmp_path / "nope"))
    assert r.returncode == 2
    assert "nope" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    _no_traceback(r)


def test_unknown_format_and_output_with_many_formats(tmp_path):
    assert pubpipe("build", "--format", "docx").returncode == 2
    post = tmp_path / "p.md"
    post.write_text("# P\n\ntext\n")
    r = pubpipe("build", str(post), "--format", "all", "-o", str(tmp_path / "x.epub"))
    assert r.returncode == 2 and "single --format" in r.stderr
    assert not (tmp_path / "x.epub").exists()


def test_unknown_book_toml_key_is_named(tmp_path):
    (tmp_path / "book.toml").write_text('[book]\ntitle = "X"\nsubtitel = "typo"\n')
    (tmp_path / "a.md").write_text("# A\n")
    r = pubpipe("build", str(tmp_path))
    assert r.returncode == 2 and "subtitel" in r.stderr and "book.toml" in r.stderr
    _no_traceback(r)


def test_invalid_toml_names_the_line(tmp_path):
    (tmp_path / "book.toml").write_text('[book]\ntitle = "X\n')
    (tmp_path / "a.md").write_text("# A\n")
    r = pubpipe("build", str(tmp_path))
    assert r.returncode == 2 and "line 2" in r.stderr
    _no_traceback(r)


def test_broken_front_matter_fails_the_build_with_file_and_line(tmp_path):
    post = tmp_path / "bad.md"
    post.write_text("---\ntitle: [oops\n---\ntext\n")
    r = pubpipe("build", str(post), "--format", "html", "--out-dir", str(tmp_path / "out"))
    assert r.returncode == 1
    assert "bad.md:" in r.stderr
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
    _no_traceback(r)


def test_warnings_pass_but_strict_fails_and_writes_nothing(tmp_path):
    post = tmp_path / "w.md"
    post.write_text("# W\n\n[dangling](#nowhere)\n")
    out = tmp_path / "out"
    r = pubpipe("build", str(post), "--format", "html", "--out-dir", str(out), "--offline",
                "--report", str(tmp_path / "report.json"))
    assert r.returncode == 0, r.stderr
    assert "w.md:3" in r.stderr and "warning" in r.stderr
    assert (out / "w.html").is_file()
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["exit_code"] == 0 and report["diagnostics"][0]["line"] == 3
    out2 = tmp_path / "out2"
    r = pubpipe("build", str(post), "--format", "html", "--out-dir", str(out2), "--strict", "--offline")
    assert r.returncode == 1 and "--strict" in r.stderr
    assert not out2.exists() or not any(out2.iterdir())
    _no_traceback(r)


def test_output_file_is_exactly_that_file(tmp_path):
    post = tmp_path / "p.md"
    post.write_text("# P\n\ntext\n")
    target = tmp_path / "deep" / "named.html"
    r = pubpipe("build", str(post), "--format", "html", "-o", str(target), "--offline")
    assert r.returncode == 0, r.stderr
    assert target.is_file() and target.read_bytes().startswith(b"<!DOCTYPE html>")
    assert not list(target.parent.glob(".*.tmp"))
