"""Shared test fixtures: paths to the shared corpus and seed, and a loopback-only network."""

from __future__ import annotations

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


@pytest.fixture(autouse=True, scope="session")
def _private_cache_home(tmp_path_factory):
    """Builds that name no cache use the user's cache folder: keep the tests' apart from it."""
    import os

    old = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("xdg-cache"))
    yield
    if old is None:
        os.environ.pop("XDG_CACHE_HOME", None)
    else:
        os.environ["XDG_CACHE_HOME"] = old
