"""Pelican: pelicanconf.py (simple assignments read with ast, never executed); articles under PATH."""

from __future__ import annotations

import ast
from pathlib import Path

from ...document import SiteInfo, SitePost
from ...util import normalize_lang
from ..opening import parse_date
from . import common

SKIP_DIRS: set[str] = set()


def detect(root: Path) -> bool:
    return (root / "pelicanconf.py").is_file()


def read_settings(path: Path) -> dict:
    """Module-level NAME = literal assignments; anything computed is ignored."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8", errors="replace"), str(path))
    except SyntaxError as e:
        raise ValueError(f"{path}:{e.lineno}: cannot read the site's configuration: {e.msg}") \
            from None
    out: dict = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and \
                isinstance(node.targets[0], ast.Name):
            try:
                out[node.targets[0].id] = ast.literal_eval(node.value)
            except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                continue
    return out


def load(root: Path) -> SiteInfo:
    cfg = root / "pelicanconf.py"
    s = read_settings(cfg)
    content = str(s.get("PATH") or "content")
    site = SiteInfo(kind="pelican", root=root, content_dir=(root / content).resolve(),
                    config_file=cfg, title=str(s.get("SITENAME") or ""),
                    authors=common.as_list(s.get("AUTHOR") or ""),
                    language=normalize_lang(s.get("DEFAULT_LANG") or "") or "",
                    base_url=str(s.get("SITEURL") or "").rstrip("/"), static_dir=content)
    site.variables = {"_article_url": str(s.get("ARTICLE_URL") or "{slug}.html"),
                      "_page_url": str(s.get("PAGE_URL") or "pages/{slug}.html"),
                      "_page_paths": list(s.get("PAGE_PATHS") or ["pages"]),
                      "_build_future": True}
    return site


def post(site: SiteInfo, path: Path, meta: dict) -> SitePost:
    rel = path.relative_to(site.content_dir).as_posix()
    name_date, name = common.date_from_name(path.stem)
    date = parse_date(meta.get("date")) or name_date
    title = str(meta.get("title") or "")
    slug = str(meta.get("slug") or "") or common.urlize(title or name)
    p = common.post_from_meta(path, meta, slug=slug, date=date)
    page = any(rel.startswith(str(d).strip("/") + "/") for d in site.variables["_page_paths"])
    pattern = site.variables["_page_url" if page else "_article_url"]
    p.url = common.fill_pattern(pattern, p, extra={
        "category": common.urlize(str(meta.get("category") or "misc"))})
    p.left_out = "a page, not an article (PAGE_PATHS)" if page else common.draft_reason(meta)
    return p
