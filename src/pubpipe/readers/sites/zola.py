"""Zola: config.toml with base_url, content/ (+++ TOML front matter); _index.md pages are sections."""

from __future__ import annotations

import tomllib
from pathlib import Path

from ...document import SiteInfo, SitePost
from ...util import normalize_lang
from ..opening import parse_date
from . import common

SKIP_DIRS: set[str] = set()


def detect(root: Path) -> bool:
    cfg = root / "config.toml"
    if not cfg.is_file() or not (root / "content").is_dir():
        return False
    try:
        data = tomllib.loads(cfg.read_text(encoding="utf-8", errors="replace"))
    except tomllib.TOMLDecodeError:
        return False
    return "base_url" in data  # Hugo spells it baseURL


def load(root: Path) -> SiteInfo:
    cfg = root / "config.toml"
    data = tomllib.loads(cfg.read_text(encoding="utf-8", errors="replace"))
    extra = data.get("extra") or {}
    author = data.get("author") or extra.get("author") or ""
    if isinstance(author, dict):
        author = author.get("name") or ""
    site = SiteInfo(kind="zola", root=root, content_dir=(root / "content").resolve(),
                    config_file=cfg, title=str(data.get("title") or ""),
                    authors=common.as_list(author),
                    language=normalize_lang(data.get("default_language") or "") or "",
                    base_url=str(data.get("base_url") or "").rstrip("/"), static_dir="static")
    site.variables = {"title": site.title, "base_url": site.base_url,
                      "extra": extra, "_build_future": False}
    return site


def post(site: SiteInfo, path: Path, meta: dict) -> SitePost:
    if path.stem == "_index":
        return common.post_from_meta(path, meta, left_out="section index page (_index.md)")
    rel = path.relative_to(site.content_dir)
    bundle = path.stem.lower() == "index"
    stem = path.parent.name if bundle else path.stem
    name_date, name = common.date_from_name(stem)
    date = parse_date(meta.get("date")) or name_date
    slug = str(meta.get("slug") or "") or common.urlize(name)
    p = common.post_from_meta(path, meta, slug=slug, date=date)
    if meta.get("path"):
        p.url = "/" + str(meta["path"]).strip("/") + "/"
    else:
        folders = rel.parts[:-2] if bundle else rel.parts[:-1]
        p.url = "/" + "/".join([*folders, slug]) + "/"
    p.left_out = common.draft_reason(meta)
    return p
