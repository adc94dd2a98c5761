"""Jekyll: _config.yml; posts are _posts/YYYY-MM-DD-title.md, drafts in _drafts/, other files pages."""

from __future__ import annotations

import tomllib
from pathlib import Path

import yaml

from ...document import SiteInfo, SitePost
from ...util import normalize_lang
from ..opening import parse_date
from . import common

SKIP_DIRS = {"_includes", "_layouts", "_sass", "_data", "_plugins", "assets"}
STYLES = {"date": "/:categories/:year/:month/:day/:title:output_ext",
          "pretty": "/:categories/:year/:month/:day/:title/",
          "ordinal": "/:categories/:year/:y_day/:title:output_ext",
          "weekdate": "/:categories/:year/W:week/:short_day/:title:output_ext",
          "none": "/:categories/:title:output_ext"}


def _config_file(root: Path) -> Path | None:
    return common.config_file(root, ("_config.yml", "_config.yaml", "_config.toml"))


def detect(root: Path) -> bool:
    return _config_file(root) is not None or (root / "_posts").is_dir()


def load(root: Path) -> SiteInfo:
    cfg_file = _config_file(root)
    data: dict = {}
    if cfg_file is not None:
        text = cfg_file.read_text(encoding="utf-8", errors="replace")
        try:
            data = (tomllib.loads(text) if cfg_file.suffix == ".toml"
                    else yaml.safe_load(text)) or {}
        except (yaml.YAMLError, tomllib.TOMLDecodeError) as e:
            raise ValueError(f"{cfg_file}: cannot read the site's configuration: {e}") from None
        if not isinstance(data, dict):
            data = {}
    author = data.get("author") or ""
    if isinstance(author, dict):
        author = author.get("name") or ""
    url = str(data.get("url") or "").rstrip("/")
    baseurl = str(data.get("baseurl") or "").strip("/")
    base = url + ("/" + baseurl if baseurl else "") if url else ""
    site = SiteInfo(kind="jekyll", root=root, content_dir=root, config_file=cfg_file,
                    title=str(data.get("title") or ""), authors=common.as_list(author),
                    language=normalize_lang(data.get("lang") or data.get("locale") or "") or "",
                    base_url=base, static_dir=".", includes_dir=str(
                        data.get("includes_dir") or "_includes"))
    # site.* for Liquid: scalars of _config.yml; url and baseurl make absolute links in the book
    site.variables = dict(data)
    site.variables.update(url=base, baseurl="", title=site.title, _strict=False)
    site.variables["_build_future"] = bool(data.get("future"))
    site.variables["_permalink"] = str(data.get("permalink") or "date")
    return site


def post(site: SiteInfo, path: Path, meta: dict) -> SitePost:
    rel = path.relative_to(site.root)
    parts = rel.parts
    in_posts = "_posts" in parts[:-1]
    in_drafts = "_drafts" in parts[:-1]
    name_date, name = common.date_from_name(path.stem)
    date = parse_date(meta.get("date")) or name_date
    slug = str(meta.get("slug") or "") or common.urlize(name)
    p = common.post_from_meta(path, meta, slug=slug, date=date)
    dirs = [d for d in parts[:parts.index("_posts")]] if in_posts else []
    categories = dirs + [c for c in common.as_list(meta.get("categories") or meta.get("category"))
                         if c not in dirs]
    pattern = str(meta.get("permalink") or site.variables.get("_permalink") or "date")
    pattern = STYLES.get(pattern, pattern)
    p.url = common.fill_pattern(pattern, p, categories=categories, extra={
        "title": common.urlize(name), "slug": slug, "y_day": "", "week": "", "short_day": ""})
    if not in_posts and not in_drafts:
        p.left_out = "a page, not a post (Jekyll posts are in _posts/)"
    elif in_drafts:
        p.left_out = "draft (in _drafts/)"
    else:
        p.left_out = common.draft_reason(meta)
    return p
