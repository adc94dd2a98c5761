"""Hugo: hugo.toml/config.toml (or .yaml/.json) and content/; _index.md pages are section lists."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import yaml

from ...document import SiteInfo, SitePost
from ...util import normalize_lang
from ..opening import parse_date
from . import common

CONFIG_NAMES = ("hugo.toml", "hugo.yaml", "hugo.yml", "hugo.json", "config.toml", "config.yaml",
                "config.yml", "config.json")
SKIP_DIRS: set[str] = set()


def _config_file(root: Path) -> Path | None:
    return common.config_file(root, CONFIG_NAMES)


def detect(root: Path) -> bool:
    return _config_file(root) is not None and (root / "content").is_dir()


def read_config(path: Path) -> dict:
    text = path.read_text(encoding="utf-8", errors="replace")
    try:
        if path.suffix == ".toml":
            data = tomllib.loads(text)
        elif path.suffix == ".json":
            data = json.loads(text)
        else:
            data = yaml.safe_load(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError, yaml.YAMLError) as e:
        raise ValueError(f"{path}: cannot read the site's configuration: {e}") from None
    return data if isinstance(data, dict) else {}


def _get(data: dict, key: str, default=None):
    """Hugo config keys are case-insensitive."""
    for k, v in data.items():
        if k.lower() == key.lower():
            return v
    return default


def load(root: Path) -> SiteInfo:
    cfg_file = _config_file(root)
    data = read_config(cfg_file)
    params = _get(data, "params", {}) or {}
    author = _get(data, "author") or _get(params, "author") or ""
    if isinstance(author, dict):
        author = author.get("name") or ""
    authors = common.as_list(author) if isinstance(author, (str, list)) else []
    lang = _get(data, "languageCode") or _get(data, "defaultContentLanguage") or ""
    content = _get(data, "contentDir") or "content"
    site = SiteInfo(kind="hugo", root=root, content_dir=(root / content).resolve(),
                    config_file=cfg_file, title=str(_get(data, "title") or ""),
                    authors=authors, language=normalize_lang(lang) or "",
                    base_url=str(_get(data, "baseURL") or "").rstrip("/"),
                    static_dir=str(_get(data, "staticDir") or "static"))
    site.variables = {"title": site.title, "baseurl": site.base_url,
                      "params": {str(k).lower(): v for k, v in params.items()},
                      "_build_future": bool(_get(data, "buildFuture")),
                      "_permalinks": {str(k): str(v) for k, v in
                                      (_get(data, "permalinks") or {}).items()
                                      if isinstance(v, str)},
                      "_main_sections": common.as_list(_get(params, "mainSections") or "")}
    return site


def post(site: SiteInfo, path: Path, meta: dict) -> SitePost:
    rel = path.relative_to(site.content_dir)
    parts = rel.parts
    section = parts[0] if len(parts) > 1 else ""
    bundle = path.stem.lower() == "index"
    if path.stem == "_index":
        p = common.post_from_meta(path, meta, left_out="section index page (_index.md)")
        return p
    stem = path.parent.name if bundle else path.stem
    date = parse_date(meta.get("date") or meta.get("publishdate") or meta.get("pubdate")) \
        or common.date_from_name(stem)[0]
    title = str(meta.get("title") or "").strip()
    slug = str(meta.get("slug") or "") or common.urlize(stem)
    p = common.post_from_meta(path, meta, slug=slug, date=date)
    if meta.get("url"):
        p.url = "/" + str(meta["url"]).strip("/") + ("/" if not str(meta["url"]).endswith(
            ".html") else "")
    else:
        pattern = site.variables.get("_permalinks", {}).get(section)
        if pattern:
            p.url = common.fill_pattern(pattern, p, section=section, extra={
                "title": common.urlize(title) if title else slug,
                "slug": str(meta.get("slug") or "") or (common.urlize(title) if title else slug),
                "filename": common.urlize(stem)})
        else:
            folders = parts[:-2] if bundle else parts[:-1]
            p.url = "/" + "/".join([*(common.urlize(f) for f in folders), slug]) + "/"
    p.url = p.url.replace("//", "/")
    reason = common.draft_reason(meta)
    if reason:
        p.left_out = reason
    elif common.truthy(meta.get("headless")):
        p.left_out = "headless bundle (headless: true)"
    else:
        mains = site.variables.get("_main_sections") or _default_sections(site)
        if mains and section not in mains:
            p.left_out = ("a page outside the site's main sections ("
                          + ", ".join(mains) + ")")
    return p


def _default_sections(site: SiteInfo) -> list[str]:
    """Hugo's default mainSections: the section with the most pages."""
    cached = site.variables.get("_default_sections")
    if cached is None:
        counts: dict[str, int] = {}
        for path in common.markdown_files(site.content_dir):
            parts = path.relative_to(site.content_dir).parts
            if len(parts) > 1 and path.stem != "_index":
                counts[parts[0]] = counts.get(parts[0], 0) + 1
        cached = [max(counts, key=counts.get)] if counts else []
        site.variables["_default_sections"] = cached
    return cached
