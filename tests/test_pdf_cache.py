"""The finished PDF kept in the cache is read like every cache entry: a regular file inside the
cache with its recorded hash. A link or a changed file is dropped, reported and made again, so a
poisoned cache cannot put a local file into the output."""

from __future__ import annotations

import json
from pathlib import Path

from pubpipe.cli import main


def _build(book: Path, cache: Path, report: Path) -> dict:
    # the finished outputs of the last build (buildcache) set aside: this build writes the PDF
    for p in (cache / "outputs").glob("*"):
        p.unlink()
    assert main(["build", str(book), "--format", "pdf", "--cache-dir", str(cache), "--offline",
                 "--report", str(report), "-q"]) == 0
    return json.loads(report.read_text())


def test_a_poisoned_or_damaged_pdf_cache_entry_is_made_again(tmp_path):
    book, cache, report = tmp_path / "book", tmp_path / "cache", tmp_path / "r.json"
    book.mkdir()
    (book / "book.toml").write_text('[book]\ntitle = "Poison"\n[pdf]\npage-size = "A5"\n')
    (book / "one.md").write_text("# One\n\nSome text.\n")
    secret = tmp_path / "secret.txt"
    secret.write_text("SECRET-KEY-MATERIAL")
    _build(book, cache, report)
    good = (book / "build" / "poison.pdf").read_bytes()
    [entry] = (cache / "pdf").glob("*.pdf")
    entry.unlink()
    entry.symlink_to(secret)
    r = _build(book, cache, report)
    out = (book / "build" / "poison.pdf").read_bytes()
    assert b"SECRET" not in out and out == good
    assert any(d["code"] == "cache-damaged" and "link" in d["message"] for d in r["diagnostics"])
    assert secret.read_text() == "SECRET-KEY-MATERIAL" and not entry.is_symlink()
    entry.write_bytes(good[:100])  # truncated
    r = _build(book, cache, report)
    assert (book / "build" / "poison.pdf").read_bytes() == good
    assert any(d["code"] == "cache-damaged" and "hash" in d["message"] for d in r["diagnostics"])
    r = _build(book, cache, report)  # healed: from the cache again, nothing reported
    assert (book / "build" / "poison.pdf").read_bytes() == good
    assert not any(d["code"] == "cache-damaged" for d in r["diagnostics"])
