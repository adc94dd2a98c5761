"""Where a build finds things: the book a command works on, the posts of its site or folder
(``readers.sites``, selected as ``[book]`` says), ``[book] source``, and the asset cache.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import ConfigError
from ..util import inside
from .schema import Config
from .values import Invalid, bad_value


def find_book(source: Path | None) -> Path:
    """The book a command works on: SOURCE (folder, book.toml or .md), else the current folder
    when it has book.toml, else content/, else the current folder when it holds Markdown files.
    A ConfigError saying how to make one when there is none."""
    if source is not None:
        return Path(source)
    if Path("book.toml").is_file():
        return Path(".")
    if Path("content").is_dir():
        return Path("content")
    if any(p.is_file() and p.name.lower() != "readme.md" for p in Path(".").glob("*.md")):
        return Path(".")  # a folder of posts is a book too
    raise ConfigError(f"no book here: {Path.cwd()} has no book.toml. Make one with"
                      " 'pubpipe new mybook', or name a book folder, a book.toml or a .md file")


def read_site(cfg: Config) -> None:
    """The posts of the site or folder (readers.sites), selected as [book] says; the site's
    config fills in what book.toml does not say (static folder, address)."""
    from ..readers import sites  # imported late: lxml and the site readers, not for --help

    try:
        site = sites.load(cfg.root)
        chosen = sites.select(site, sites.Selection(
            chapters=cfg.book.chapters, tags=cfg.book.tags, since=cfg.book.since,
            until=cfg.book.until, order=cfg.book.order, drafts=cfg.book.drafts,
            exclude=cfg.book.exclude))
    except ValueError as e:
        msg = str(e)
        where = cfg.where("book", "chapters") if "chapter" in msg else str(cfg.config_file
                                                                           or cfg.root)
        raise ConfigError(msg if msg.startswith(str(cfg.root)) else
                          f"{where}: [book] {msg}" if "chapter" in msg else f"{where}: {msg}"
                          ) from None
    cfg.site = site
    cfg.chapter_files = []
    for post in chosen:
        real = inside(cfg.root, post.source)
        if real is None:  # a symlink out of the book would put any file into the outputs
            links = [q for q in cfg.root.rglob("*") if q.is_symlink()
                     and inside(q.resolve(), post.source) is not None]
            raise ConfigError(f"{links[0] if links else post.source}: a link to a file outside"
                              " the book folder; refused (copy the file into the book instead)")
        if real not in cfg.chapter_files:  # a link to a post inside the book: once
            cfg.chapter_files.append(real)
    if not cfg.assets.static_dir and site.static_dir and (cfg.root / site.static_dir).is_dir():
        cfg.assets.static_dir = site.static_dir
    if not cfg.assets.site_url and site.base_url.startswith(("http://", "https://")):
        cfg.assets.site_url = site.base_url
    elif not site.base_url and cfg.assets.site_url:
        site.base_url = cfg.assets.site_url.rstrip("/")  # where posts left out can be read


def use_source(cfg: Config) -> None:
    """[book] source: chapters (and everything they use) come from that folder, which becomes
    the book's root; build/, the cache and styles stay next to book.toml."""
    folder = (cfg.root / cfg.book.source).resolve()
    if not folder.is_dir():
        raise bad_value(cfg.config_file or cfg.root, cfg.lines.get(("book", "source")), "book",
                     "source", cfg.book.source,
                     Invalid("a folder of posts or a site's root, relative to book.toml", None,
                             "no such folder"))
    cfg.home, cfg.root = cfg.root, folder


def default_cache_dir() -> Path:
    """The user's cache folder for pubpipe: $XDG_CACHE_HOME/pubpipe, else ~/.cache/pubpipe.

    Outside every book folder on purpose: a cache inside a book travels with it (a repository, a
    zip from someone else), and a poisoned one would be trusted by whoever builds it next."""
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    base = Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".cache"
    return base / "pubpipe"


def cache_dir(cfg: Config, override: Path | None = None) -> Path:
    """The asset cache of a build: --cache-dir, else [assets] cache-dir (relative to the folder
    of book.toml), else the user's cache folder."""
    if override:
        return Path(override).absolute()
    if cfg.assets.cache_dir:
        return (cfg.book_dir / cfg.assets.cache_dir).absolute()
    return default_cache_dir()
