"""Eleventy: .eleventy.js / eleventy.config.*; every Markdown file in the input folder is a page."""

from __future__ import annotations

import json
import re
from pathlib import Path

from ...document import SiteInfo, SitePost
from ...util import normalize_lang
from ..opening import parse_date
from . import common

CONFIG_NAMES = (".eleventy.js", ".eleventy.cjs", "eleventy.config.js", "eleventy.config.cjs",
                "eleventy.config.mjs")
SKIP_DIRS = {"_includes", "_data", "_layouts"}


def _config_file(root: Path) -> Path | None:
    return common.config_file(root, CONFIG_NAMES)


def detect(root: Path) -> bool:
    return _config_file(root) is not None


def load(root: Path) -> SiteInfo:
    cfg = _config_file(root)
    text = cfg.read_text(encoding="utf-8", errors="replace")
    m = re.search(r"""\binput\s*:\s*["']([^"']+)["']""", text)  # read, never run
    content = (root / m[1]).resolve() if m and (root / m[1]).resolve().is_relative_to(root) \
        else root
    data: dict = {}
    for name in ("site.json", "metadata.json", "meta.json"):
        f = content / "_data" / name
        if f.is_file():
            try:
                loaded = json.loads(f.read_text(encoding="utf-8", errors="replace"))
            except json.JSONDecodeError:
                continue
            if isinstance(loaded, dict):
                data = loaded
                break
    author = data.get("author") or ""
    if isinstance(author, dict):
        author = author.get("name") or ""
    site = SiteInfo(kind="eleventy", root=root, content_dir=content, config_file=cfg,
                    title=str(data.get("title") or ""), authors=common.as_list(author),
                    language=normalize_lang(data.get("language") or data.get("lang") or "")
                    or "", base_url=str(data.get("url") or "").rstrip("/"),
                    static_dir=str(content.relative_to(root)) if content != root else ".",
                    includes_dir=str((content / "_includes").relative_to(root)))
    site.variables = dict(data)
    site.variables["_build_future"] = True
    return site


def post(site: SiteInfo, path: Path, meta: dict) -> SitePost:
    rel = path.relative_to(site.content_dir)
    name_date, name = common.date_from_name(path.stem)
    date = parse_date(meta.get("date")) or name_date
    bundle = path.stem.lower() == "index"
    slug = str(meta.get("slug") or "") or common.urlize(path.parent.name if bundle else name)
    p = common.post_from_meta(path, meta, slug=slug, date=date)
    permalink = meta.get("permalink")
    if isinstance(permalink, str) and "{" not in permalink:
        p.url = "/" + permalink.lstrip("/")
    else:
        folders = rel.parts[:-1]
        p.url = "/" + "/".join([*folders] + ([] if bundle else [path.stem])) + "/"
        p.url = p.url.replace("//", "/")
    if permalink is False:
        p.left_out = "not published (permalink: false)"
    elif common.truthy(meta.get("eleventyexcludefromcollections")):
        p.left_out = "excluded from collections (eleventyExcludeFromCollections)"
    else:
        p.left_out = common.draft_reason(meta)
    return p
