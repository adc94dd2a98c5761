"""Shared test fixtures: paths to the shared corpus and seed, and a loopback-only network."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
CORPUS = SHARED / "corpus"
SEED = SHARED / "seed" / "blog-post-2.md"
CONTENT = REPO / "content"


def corpus_files() -> list[Path]:
    return sorted(p for p in CORPUS.glob("*.md") if p.name != "README.md") if CORPUS.is_dir() else []


needs_shared = pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus is not present")


# Builds that name no cache use the user's cache folder: the tests' (and the pubpipe processes
# they start, whose environment is copied from this one) get a folder of their own.
os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="pubpipe-test-cache-")
atexit.register(shutil.rmtree, os.environ["XDG_CACHE_HOME"], True)
