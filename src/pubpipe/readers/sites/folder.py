"""Any folder of Markdown posts (no generator's config file): every post in it, subfolders walked."""

from __future__ import annotations

from pathlib import Path

from ...document import SiteInfo, SitePost
from . import common

SKIP_DIRS: set[str] = set()


def detect(root: Path) -> bool:
    return True


def load(root: Path) -> SiteInfo:
    return SiteInfo(kind="folder", root=root, content_dir=root)


def post(site: SiteInfo, path: Path, meta: dict) -> SitePost:
    p = common.plain_post(path, meta)
    if path.stem == "_index":
        p.left_out = "section index page (_index.md)"
    else:
        p.left_out = common.draft_reason(meta)
    return p
