"""Links between posts: every link to a post of the book lands on its chapter (and anchor).

A link may name a post by its Markdown file (``part-2.md#setup``, relative to the post), by its
permalink (``/2024/05/01/part-2/``, absolute with the site's base URL, or relative to the post's own
permalink), by an alias (``aliases``/``redirect_from``), by the generator's own reference (Hugo
``ref``/``relref``, Jekyll ``post_url``/``link`` — the reader turns those into ``.pubpipe-ref/…``
addresses — Zola ``@/path.md``, Pelican ``{filename}/path.md``), or by ``#id`` alone.

A link to a post in the book becomes ``href="#ID"`` (ids are unique book-wide after the ids stage)
marked ``data-pp-xref``: the EPUB writer points it at the chapter's file, the HTML page has the id,
the PDF links inside the document and prints the page. A link to a post or page of the site that is
not in the book goes to its public address when the site's base URL is known; otherwise it stays as
text with a warning that names file and line. Whatever remains, every ``href`` is a valid URL
(percent-encoded), or it is dropped with a warning.
"""

from __future__ import annotations

import posixpath
import re
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

from ..document import Book, Chapter, SitePost
from ..readers.shortcodes import REF_PREFIX
from ..util import valid_url

_MARKDOWN = (".md", ".markdown", ".mdown", ".mkd")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
# links pubpipe made (notes, citations, back links): already right, and no page number for them
# posts left out for these reasons have no public address either
_UNPUBLISHED = ("draft", "dated in the future", "expired", "section index", "not published")
_OWN_ROLES = {"doc-noteref", "doc-backlink", "doc-biblioref", "doc-glossref"}


class _Index:
    """Every post of the site by file, permalink, alias and name."""

    def __init__(self, book: Book):
        self.book = book
        site = book.site
        self.site = site
        self.base = (site.base_url if site else "").rstrip("/")
        base_path = urlsplit(self.base).path.rstrip("/") if self.base else ""
        self.base_path = base_path
        self.chapter_of: dict[Path, Chapter] = {ch.source: ch for ch in book.chapters}
        posts = list(site.posts) if site else []
        known = {p.source for p in posts}
        posts += [SitePost(source=ch.source, slug=ch.slug) for ch in book.chapters
                  if ch.source not in known]
        self.posts = posts
        self.by_path: dict[Path, SitePost] = {p.source: p for p in posts}
        self.by_url: dict[str, SitePost] = {}
        self.by_name: dict[str, list[SitePost]] = {}
        for p in posts:
            for u in [p.url, *p.aliases]:
                if u:
                    self.by_url.setdefault(_norm_path(u), p)
            names = {p.source.stem, p.slug}
            if p.source.stem.lower() in ("index", "_index"):
                names.add(p.source.parent.name)
            for n in names:
                if n:
                    self.by_name.setdefault(n.lower(), []).append(p)

    def content_dir(self) -> Path:
        return self.site.content_dir if self.site else self.book.root

    def file(self, path: Path) -> SitePost | None:
        """A post by its file, with or without extension, or a bundle folder's index."""
        path = Path(posixpath.normpath(str(path)))
        cands = [path] if path.suffix.lower() in _MARKDOWN else []
        cands += [path.with_name(path.name + ext) for ext in _MARKDOWN]
        cands += [path / "index.md", path / "_index.md", path / "index.markdown"]
        for c in cands:
            try:
                c = c.resolve()
            except OSError:
                continue
            if c in self.by_path:
                return self.by_path[c]
        return None

    def site_path(self, path: str) -> SitePost | None:
        key = _norm_path(path)
        if self.base_path and key.startswith(self.base_path + "/"):
            alt = key[len(self.base_path):]
        else:
            alt = None
        return self.by_url.get(key) or (self.by_url.get(alt) if alt else None)

    def name(self, name: str) -> SitePost | None:
        found = self.by_name.get(name.lower(), [])
        return found[0] if len(found) == 1 else None


def _norm_path(path: str) -> str:
    """'/2024/05/x/index.html' and '/2024/05/x' and '/2024/05/x.html' are one page."""
    p = unquote(path.split("#", 1)[0].split("?", 1)[0]).strip()
    p = re.sub(r"/index\.html?$", "/", p)
    p = re.sub(r"\.html?$", "", p)
    p = "/" + p.strip("/")
    return p.lower()


def run(book: Book) -> None:
    index = _Index(book)
    reported: set[tuple[Path, str]] = set()
    for chapter in book.chapters:
        for a in list(chapter.body.iter("a")):
            href = a.get("href")
            if href is None:
                continue
            if (a.get("role") or "") in _OWN_ROLES or a.get("class") in ("footnote-ref",
                                                                      "footnote-backref"):
                continue
            _resolve(book, index, chapter, a, href.strip(), reported)


def _warn(book: Book, chapter: Chapter, a, message: str, reported: set) -> None:
    key = (chapter.source, message)
    if key in reported:
        return
    reported.add(key)
    book.diagnostics.warn("link-outside-book", message, chapter.source,
                          a.sourceline or chapter.find_line(a.get("href") or ""))


def _resolve(book: Book, index: _Index, chapter: Chapter, a, href: str, reported: set) -> None:
    if href.startswith("#"):
        target = href[1:]
        if target and any(el.get("id") == target for el in chapter.body.iter() if
                          isinstance(el.tag, str)) or _elsewhere(book, target):
            a.set("data-pp-xref", "")
        return
    post, fragment, shown = _find_post(index, chapter, href)
    if post is not None:
        target_chapter = index.chapter_of.get(post.source)
        if target_chapter is not None:
            anchor = _anchor(target_chapter, fragment)
            if fragment and anchor is None:
                _warn(book, chapter, a, f"link to '{shown}': no '#{fragment}' in"
                      f" '{target_chapter.title}'; it points at the chapter", reported)
            a.set("href", "#" + (anchor or _top(target_chapter)))
            a.set("data-pp-xref", "")
            return
        if index.base and post.url and not post.left_out.startswith(_UNPUBLISHED):
            public = index.base + post.url + (f"#{fragment}" if fragment else "")
            _set_url(book, chapter, a, public, reported)
            return
        why = f" ({post.left_out})" if post.left_out and "(" not in post.left_out else (
            f": {post.left_out}" if post.left_out else "")
        online = (" and not published on the site" if post.left_out.startswith(_UNPUBLISHED)
                  else " and the site's address is unknown")
        _drop(book, chapter, a, f"link to '{shown}': that post is not in the book{why}{online};"
              " kept as text", reported)
        return
    kind = _kind(href)
    if kind == "ref" or (kind == "relative" and Path(href.split("#")[0].split("?")[0]).suffix
                         .lower() in _MARKDOWN):
        _drop(book, chapter, a, f"link to '{shown}': no such post; kept as text", reported)
        return
    if kind in ("site", "relative"):
        public = _public(index, chapter, href)
        if public:
            _set_url(book, chapter, a, public, reported)
        else:
            _drop(book, chapter, a, f"link to '{href}' leaves the book and the site's address is"
                  " unknown (set the site's base URL or [assets] site-url); kept as text",
                  reported)
        return
    _set_url(book, chapter, a, href, reported)


def _elsewhere(book: Book, target: str) -> bool:
    return any(el.get("id") == target for ch in book.chapters for el in ch.body.iter()
               if isinstance(el.tag, str))


def _kind(href: str) -> str:
    if REF_PREFIX in href or href.startswith(("@/", "{filename}", "|filename|")):
        return "ref"
    if href.startswith("//") or _SCHEME.match(href):
        return "absolute"
    if href.startswith("/"):
        return "site"
    return "relative"


def _find_post(index: _Index, chapter: Chapter, href: str) -> tuple[SitePost | None, str, str]:
    """The post a link names, its fragment, and the link as the author would recognise it."""
    raw = href
    if REF_PREFIX in href:
        rest = unquote(href.split(REF_PREFIX, 1)[1])
        kind, _, target = rest.partition("/")
        path, _, frag = target.partition("#")
        shown = f"{{% {kind} {target} %}}" if kind in ("post_url", "link") else \
            f'{{{{< {kind} "{target}" >}}}}'
        if kind == "post_url":
            name = path.rsplit("/", 1)[-1]
            for p in index.posts:
                if p.source.stem == name and (("/" not in path) or path.rsplit("/", 1)[0] in
                                              str(p.source.parent)):
                    return p, frag, shown
            return None, frag, shown
        if kind == "link":
            root = index.site.root if index.site else index.book.root
            return index.file(root / path), frag, shown
        return _by_ref(index, chapter, path), frag, shown
    path, _, frag = href.partition("#")
    path = unquote(path)
    if path.startswith("@/"):  # Zola
        return index.file(index.content_dir() / path[2:]), frag, raw
    m = re.match(r"^(?:\{filename\}|\|filename\|)(.*)$", path)  # Pelican
    if m:
        target = m[1]
        base = index.content_dir() if target.startswith("/") else chapter.source.parent
        return index.file(base / target.lstrip("/")), frag, raw
    kind = _kind(href)
    if kind == "absolute":
        if index.base and re.match(r"^https?:", href) and _same_site(href, index.base):
            return index.site_path(urlsplit(href).path), frag, raw
        return None, frag, raw
    if kind == "site":
        return index.site_path(path), frag, raw
    if not path:
        return None, frag, raw
    path = path.split("?", 1)[0]
    post = index.file(chapter.source.parent / path)
    if post is None and chapter.post and chapter.post.url:
        # a link relative to the post's own permalink ('../part-2/')
        post = index.site_path(urljoin(chapter.post.url, path))
    if post is None and Path(path).suffix.lower() in _MARKDOWN:
        post = index.name(Path(path).stem)  # a source file named from elsewhere in the site
    return post, frag, raw


def _by_ref(index: _Index, chapter: Chapter, path: str) -> SitePost | None:
    """Hugo ref/relref: relative to the page, then to content/, then by unique name."""
    if not path:
        return index.by_path.get(chapter.source)
    if path.startswith("/"):
        found = index.file(index.content_dir() / path.lstrip("/"))
    else:
        found = index.file(chapter.source.parent / path) or \
            index.file(index.content_dir() / path)
    if found is None:
        found = index.site_path(path) if path.startswith("/") else None
    if found is None:
        stem = Path(path.rstrip("/")).stem
        found = index.name(stem)
    return found


def _same_site(href: str, base: str) -> bool:
    a, b = urlsplit(href), urlsplit(base)
    return a.hostname == b.hostname and a.path.startswith(b.path.rstrip("/") + "/") or \
        (a.hostname == b.hostname and not b.path.strip("/"))


def _anchor(target: Chapter, fragment: str) -> str | None:
    if not fragment:
        return None
    fragment = unquote(fragment)
    if fragment in target.anchors:
        return target.anchors[fragment]
    for el in target.body.iter():
        if isinstance(el.tag, str) and el.get("id") == fragment:
            return fragment
    return None


def _top(target: Chapter) -> str:
    """The id of the chapter's title (the ids stage gives every heading one)."""
    h1 = next((h for h in target.body.iter("h1") if h.get("id")), None)
    if h1 is not None:
        return h1.get("id")
    first = next((el for el in target.body.iter() if isinstance(el.tag, str) and el.get("id")),
                 None)
    if first is not None:
        return first.get("id")
    target.body.set("id", f"chapter-{target.slug}")
    return target.body.get("id")


def _public(index: _Index, chapter: Chapter, href: str) -> str:
    """The public address of a site path or of a path relative to the post's page."""
    if not index.base:
        return ""
    if href.startswith("/"):
        path = href if not index.base_path or href.startswith(index.base_path + "/") else href
        origin = re.match(r"^(https?://[^/]+)", index.base)[1]
        return origin + (path if path.startswith(index.base_path) else index.base_path + path)
    if chapter.post and chapter.post.url:
        return urljoin(index.base + chapter.post.url, href)
    return ""


def _set_url(book: Book, chapter: Chapter, a, href: str, reported: set) -> None:
    fixed = valid_url(href)
    if fixed is None:
        _drop(book, chapter, a, f"link to '{href}' is not a valid address; kept as text",
              reported, code="link-invalid")
        return
    a.set("href", fixed)


_LINK_ONLY_ATTRS = ("href", "hreflang", "rel", "target", "type", "download", "ping",
                    "referrerpolicy")


def _drop(book: Book, chapter: Chapter, a, message: str, reported: set,
          code: str = "link-outside-book") -> None:
    # Text, not an <a> without a target: a reader should not see a link that goes nowhere.
    a.tag = "span"
    for attr in _LINK_ONLY_ATTRS:
        a.attrib.pop(attr, None)
    key = (chapter.source, message)
    if key in reported:
        return
    reported.add(key)
    book.diagnostics.warn(code, message, chapter.source,
                          a.sourceline or chapter.find_line(message.split("'")[1]
                                                            if "'" in message else ""))
