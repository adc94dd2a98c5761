"""What every site reader shares: walking folders, reading front matter, slugs and permalinks."""

from __future__ import annotations

import re
from pathlib import Path

from ...document import SitePost
from ...util import slugify
from .. import frontmatter
from ..opening import parse_date

MARKDOWN = (".md", ".markdown", ".mdown", ".mkd")
# Never posts, whatever the generator: output folders, dependencies, our own cache and builds.
ALWAYS_SKIP = {"node_modules", "build", "_site", "public", "output", "dist", "vendor",
               ".pubpipe-cache", "__pycache__"}
NOT_POSTS = {"readme", "license", "licence", "changelog", "contributing", "code_of_conduct"}


def config_file(root: Path, names) -> Path | None:
    """The first of a generator's config file names present in the site root."""
    return next((root / name for name in names if (root / name).is_file()), None)


def markdown_files(top: Path, skip_dirs: set[str] = frozenset(),
                   refused: list[Path] | None = None) -> list[Path]:
    """Markdown files under top, subfolders walked (hidden, output and skipped folders aside).

    A symlink that leads outside top is not a post: a book never takes in a file from outside
    its folder."""
    out = []
    if not top.is_dir():
        return out
    real_top = top.resolve()
    for path in sorted(top.rglob("*")):
        if path.suffix.lower() not in MARKDOWN or not path.is_file():
            continue
        rel = path.relative_to(top).parts
        if any(part.startswith(".") or part in ALWAYS_SKIP or part in skip_dirs
               for part in rel[:-1]):
            continue
        if path.stem.lower() in NOT_POSTS:
            continue
        real = path.resolve()
        if not real.is_relative_to(real_top):
            if refused is not None:
                refused.append(path)  # named by the reader (a warning), never read
            continue
        out.append(real)
    return out


def read_meta(path: Path) -> dict:
    """Front matter of a file, keys lowercased ({} when it has none or it cannot be read;
    the chapter reader reports broken front matter with its line)."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
        fm = frontmatter.split(text.replace("\r\n", "\n"))
    except (OSError, frontmatter.FrontMatterError):
        return {}
    meta = {str(k).lower(): v for k, v in fm.meta.items()}
    meta["_body_empty"] = not fm.body.strip()
    return meta


def as_list(value) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, (list, tuple)):
        return [str(v).strip() for v in value if str(v).strip()]
    return [v.strip() for v in re.split(r"[,;]", str(value)) if v.strip()]


def truthy(value) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("true", "yes", "1", "on")
    return bool(value)


_DATED = re.compile(r"^(\d{4})-(\d{2})-(\d{2})[-_](.+)$")


def date_from_name(stem: str) -> tuple[str, str]:
    """'2016-07-12-title' -> ('2016-07-12', 'title'); otherwise ('', stem)."""
    m = _DATED.match(stem)
    if m:
        d = parse_date(f"{m[1]}-{m[2]}-{m[3]}")
        if d:
            return d, m[4]
    return "", stem


def urlize(text: str) -> str:
    """A URL path segment as generators make it from a title: lowercase, dashes."""
    return slugify(text, max_len=200) or re.sub(r"\s+", "-", text.strip().lower())


def post_from_meta(path: Path, meta: dict, *, slug: str = "", date: str = "",
                   url: str = "", left_out: str = "") -> SitePost:
    tags = as_list(meta.get("tags")) + [c for c in as_list(meta.get("categories"))
                                        if c not in as_list(meta.get("tags"))]
    aliases = [a if a.startswith("/") else "/" + a for a in as_list(meta.get("aliases"))
               + as_list(meta.get("redirect_from"))]
    return SitePost(source=path, url=url, aliases=aliases, slug=slug, date=date,
                    title=str(meta.get("title") or "").strip(), tags=tags, meta=meta,
                    left_out=left_out)


def plain_post(path: Path, meta: dict) -> SitePost:
    stem_date, stem = date_from_name(path.stem)
    date = parse_date(meta.get("date")) or stem_date
    slug = str(meta.get("slug") or "") or urlize(stem)
    return post_from_meta(path, meta, slug=slug, date=date, url=str(meta.get("url") or ""))


def draft_reason(meta: dict) -> str:
    if truthy(meta.get("draft")):
        return "draft (draft: true)"
    if "published" in meta and not truthy(meta.get("published")):
        return "draft (published: false)"
    status = str(meta.get("status") or "").strip().lower()
    if status in ("draft", "hidden", "skip"):
        return f"draft (status: {status})"
    return ""


def fill_pattern(pattern: str, post: SitePost, *, section: str = "", categories=(),
                 extra: dict[str, str] | None = None) -> str:
    """A permalink pattern (':year/:month/:slug', '{slug}.html') filled from a post."""
    y, m, d = (post.date.split("-") + ["", "", ""])[:3] if post.date else ("", "", "")
    values = {"year": y, "month": m, "day": d, "i_month": str(int(m)) if m else "",
              "i_day": str(int(d)) if d else "", "short_year": y[2:], "slug": post.slug,
              "title": post.slug, "section": section, "sections": section,
              "categories": "/".join(urlize(c) for c in categories), "filename": post.slug,
              "contentbasename": post.slug, "name": post.slug, "output_ext": ".html",
              "date": post.date, "lang": ""}
    values.update(extra or {})
    out = re.sub(r":([a-z_]+)", lambda m_: values.get(m_[1], m_[0]), pattern)
    out = re.sub(r"\{([a-z_]+)\}", lambda m_: values.get(m_[1], m_[0]), out)
    out = "/" + out.lstrip("/")
    return re.sub(r"/{2,}", "/", out)
