"""A site as a book: find the posts of a Hugo, Jekyll, Zola, Pelican or Eleventy site (by its config
file), or of any folder of Markdown files, and decide which become chapters.

Each generator module knows its config file, where its posts live, which files are not posts
(section index pages, drafts, pages) and how it builds a post's permalink. ``load(root)`` returns
a ``SiteInfo`` with every post found; ``select`` applies the site's rules and the ``[book]``
selection (``chapters``, globs, ``tags``, ``since``/``until``, ``order``) and says why each post
left out was left out. Configuration is read, never executed (Pelican's Python config with ``ast``).
"""

from __future__ import annotations

import datetime as dt
import fnmatch
from dataclasses import dataclass
from pathlib import Path

from ...document import SiteInfo, SitePost
from ..opening import parse_date
from . import common, eleventy, folder, hugo, jekyll, pelican, zola

GENERATORS = (zola, hugo, jekyll, pelican, eleventy)  # Zola first: both use config.toml


def detect(root: Path):
    """The generator module whose config file is in root, else the plain-folder reader."""
    for gen in GENERATORS:
        if gen.detect(root):
            return gen
    return folder


def load(root: Path) -> SiteInfo:
    gen = detect(root)
    site = gen.load(root)
    for path in common.markdown_files(site.content_dir, gen.SKIP_DIRS, site.refused):
        meta = common.read_meta(path)
        site.posts.append(gen.post(site, path, meta))
    return site


@dataclass
class Selection:
    """What [book] asks for (config.BookSection, passed field by field to keep the floors)."""

    chapters: list[str]
    tags: list[str]
    since: str
    until: str
    order: str
    drafts: bool
    exclude: list[str]


def _is_glob(pattern: str) -> bool:
    return any(c in pattern for c in "*?[")


def _sort_key(order: str, root: Path):
    def key(p: SitePost):
        rel = str(p.source.relative_to(root)) if p.source.is_relative_to(root) else str(p.source)
        if order == "name":
            return (rel,)
        if order == "date-desc":
            return (p.date != "", p.date, rel)
        return (p.date == "", p.date, rel)
    return key


def select(site: SiteInfo, sel: Selection, today: dt.date | None = None) -> list[SitePost]:
    """The posts in the book, in reading order; every other post gets its left_out reason.

    Raises ValueError (with a message naming the entry) for a chapter listed twice or a
    listed file that does not exist."""
    today = today or dt.date.today()
    root = site.root
    by_path = {p.source: p for p in site.posts}
    chosen: list[SitePost] = []
    explicit: set[Path] = set()
    if sel.chapters:
        seen: dict[Path, str] = {}
        for entry in sel.chapters:
            if _is_glob(entry):
                matches = sorted((p for p in site.posts if fnmatch.fnmatch(
                    p.source.relative_to(root).as_posix(), entry) or fnmatch.fnmatch(
                    p.source.relative_to(site.content_dir).as_posix(), entry)
                    if p.source.is_relative_to(site.content_dir)),
                    key=_sort_key("date", root))
                for p in matches:
                    if p.source in seen:
                        continue  # a glob may overlap a file named before it
                    _site_rules(p, sel, today, site)
                    if not p.left_out:
                        seen[p.source] = entry
                        chosen.append(p)
                continue
            path = (root / entry).resolve()
            if not path.is_relative_to(root):
                raise ValueError(f"chapter '{entry}' is outside the book folder")
            if not path.is_file():
                raise ValueError(f"chapter '{entry}' not found")
            if path in seen:
                raise ValueError(f"chapter '{entry}' is listed twice (also as '{seen[path]}')")
            seen[path] = entry
            post = by_path.get(path)
            if post is None:  # a file the site reader does not count as a post: the author asks
                post = common.plain_post(path, common.read_meta(path))
                site.posts.append(post)
            post.left_out = ""
            explicit.add(path)
            chosen.append(post)
        for p in site.posts:
            if p.source not in seen and not p.left_out:
                p.left_out = "not in [book] chapters"
    else:
        for p in site.posts:
            _site_rules(p, sel, today, site)
        chosen = [p for p in site.posts if not p.left_out]
    for p in chosen:
        if p.source in explicit:
            continue
        reason = _book_rules(p, sel, root)
        if reason:
            p.left_out = reason
    chosen = [p for p in chosen if not p.left_out]
    if sel.order:
        chosen.sort(key=_sort_key(sel.order, root), reverse=sel.order == "date-desc")
    elif not sel.chapters:
        chosen.sort(key=_sort_key("date", root))
    return chosen


def _site_rules(p: SitePost, sel: Selection, today: dt.date, site: SiteInfo) -> None:
    """Drafts, future posts, expired posts (unless [book] drafts / the site says otherwise)."""
    if p.left_out:
        if sel.drafts and p.left_out.startswith("draft"):
            p.left_out = ""
        return
    if p.meta.get("_future_ok"):
        return
    if p.date and len(p.date) == 10 and p.date > today.isoformat() and \
            not site.variables.get("_build_future"):
        p.left_out = f"dated in the future ({p.date})"
        return
    expiry = parse_date(p.meta.get("expirydate") or p.meta.get("expiry_date") or "")
    if expiry and len(expiry) == 10 and expiry <= today.isoformat():
        p.left_out = f"expired ({expiry})"


def _book_rules(p: SitePost, sel: Selection, root: Path) -> str:
    rel = p.source.relative_to(root).as_posix() if p.source.is_relative_to(root) else ""
    for pattern in sel.exclude:
        if fnmatch.fnmatch(rel, pattern):
            return f"excluded by [book] exclude ('{pattern}')"
    if sel.tags:
        wanted = {t.lower() for t in sel.tags}
        if not wanted & {t.lower() for t in p.tags}:
            return "no tag of [book] tags (" + ", ".join(sel.tags) + ")"
    if sel.since and (not p.date or p.date < sel.since):
        return f"dated before [book] since ({sel.since})" if p.date else "undated ([book] since)"
    if sel.until and (not p.date or p.date[:len(sel.until)] > sel.until):
        return f"dated after [book] until ({sel.until})" if p.date else "undated ([book] until)"
    return ""
