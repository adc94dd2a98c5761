"""Reading a book: every chapter file to a ``Chapter``, the chapters to a ``Book``."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from .. import budget, i18n
from ..document import Book, BookMeta, Chapter, Diagnostics, SiteInfo
from ..util import normalize_lang, remove_keep_tail, slugify, text_of
from ..htmlmodel import parse_fragment
from . import frontmatter, math, opening, shortcodes
from .cache import ChapterCache
from .markdown import (MAX_DEPTH, MAX_SOURCELINE, annotate_lines, flatten_depth, pair_quotes,
                       pairs_quotes, render_html)

if TYPE_CHECKING:  # readers sit below config: the reader is handed one, never imports it
    from ..config import Config


def read_book(cfg: Config, cache: ChapterCache | None = None,
              diagnostics: Diagnostics | None = None,
              on_chapter: Callable[[Chapter], None] | None = None) -> Book:
    """Every chapter of cfg read (from cache, when given, for chapters read before with the same
    bytes and settings); diagnostics go to diagnostics (a new list by default). on_chapter is
    called with each chapter as soon as it is read (the build starts on its images then)."""
    diags = diagnostics if diagnostics is not None else Diagnostics()
    dollars = cfg.math.dollars
    if dollars is None and math.site_math(cfg.root).loads_math:
        dollars = True
    site = cfg.site
    for link in (site.refused if site else []):
        diags.warn("chapter-refused", "a link to a file outside the book folder: not a chapter"
                   " (copy the file into the book to use it)", link)
    posts = {p.source: p for p in site.posts} if site else {}
    default_lang = cfg.book.language or (site.language if site else "")
    unhonoured: dict[str, list[tuple[Path, int, str]]] = {}
    chapters = []
    files_read: list[Path] = []  # include files (a chapter that has one is never cached)
    for path in cfg.chapter_files:
        budget.doing(f"reading {path}")
        ch = _read_chapter(path, diags, cache, site=site, default_lang=default_lang,
                           unhonoured=unhonoured, labels=cfg.labels, dollars=dollars,
                           files_read=files_read)
        ch.post = posts.get(path)
        if ch.post and ch.post.slug and not slugify(ch.title) and not ch.meta.get("slug"):
            ch.slug = ch.post.slug  # a title in another script: the post's own slug names it
        chapters.append(ch)
        if on_chapter is not None:
            on_chapter(ch)
    _unique_slugs(chapters)
    book = Book(meta=_book_meta(cfg, chapters), root=cfg.root, chapters=chapters,
                diagnostics=diags, labels=cfg.labels, site=site, files_read=files_read)
    for ch in chapters:
        ch.lang = ch.lang or book.meta.language
    _report_template_tags(unhonoured, diags)
    if site is not None:
        _report_selection(site, len(chapters), diags, cfg.config_file)
    return book


def _read_chapter(path: Path, diags: Diagnostics, cache: ChapterCache | None, *,
                  site: SiteInfo | None, default_lang: str, unhonoured: dict,
                  labels: dict[str, str], dollars: bool | None,
                  files_read: list[Path]) -> Chapter:
    """read_chapter, through the chapter cache when there is one."""
    key = None
    if cache is not None:
        try:
            data = path.read_bytes()
        except OSError:
            data = None  # read_chapter says what is wrong with it
        if data is not None:
            context = (default_lang, sorted(labels.items()), dollars, site and (
                site.kind, str(site.root), site.includes_dir, repr(site.variables)))
            key = cache.key(path, data, context)
        hit = cache.load(key) if key else None
        if hit is not None:
            ch, found, tags = hit
            diags.extend(found)
            for line, kind, raw in tags:
                unhonoured.setdefault(kind, []).append((path, line, raw))
            return ch
    start = len(diags)
    mine: dict[str, list[tuple[Path, int, str]]] = {}
    ch = read_chapter(path, diags, site=site, default_lang=default_lang, unhonoured=mine,
                      labels=labels, dollars=dollars, files_read=files_read)
    for kind, places in mine.items():
        unhonoured.setdefault(kind, []).extend(places)
    if key:
        tags = [(line, kind, raw) for kind, places in mine.items() for _, line, raw in places]
        cache.save(key, ch, list(diags[start:]), tags)
    return ch


def _report_template_tags(found: dict[str, list[tuple[Path, int, str]]], diags: Diagnostics) -> None:
    """Each kind of tag pubpipe could not honour, once, where it first stands (and how often)."""
    for kind, places in found.items():
        path, line, raw = places[0]
        more = f" ({len(places) - 1} more in the book)" if len(places) > 1 else ""
        shown = raw if len(raw) <= 60 else raw[:57] + "..."
        diags.warn("template-tag", f"template tag '{kind}' cannot be honoured in a book; kept as"
                   f" written: {shown}{more}", path, line)


def _report_selection(site, n_chapters: int, diags: Diagnostics, config_file) -> None:
    """Every post left out, with its reason (report only), and one line of counts for the terminal."""
    reasons: dict[str, int] = {}
    for p in site.posts:
        if p.left_out:
            diags.info("post-left-out", f"left out: {p.left_out}", p.source)
            kind = re.sub(r"\s*\(.*$", "", p.left_out)
            reasons[kind] = reasons.get(kind, 0) + 1
    if not reasons:
        return
    left = sum(reasons.values())
    detail = ", ".join(f"{n} {k}" for k, n in sorted(reasons.items(), key=lambda kv: -kv[1]))
    what = {"folder": "folder"}.get(site.kind, f"{site.kind.capitalize()} site")
    diags.info("posts-selected", f"{what}: {n_chapters} post{'s' if n_chapters != 1 else ''} in"
               f" the book, {left} left out ({detail}); --report lists each",
               config_file or site.config_file)


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")


def _read_text(path: Path, diags: Diagnostics) -> str:
    data = path.read_bytes()
    if b"\x00" in data:
        diags.error("not-text", "not a text file (it contains NUL bytes)", path,
                    data[:data.index(b"\x00")].count(b"\n") + 1)
        return ""
    kind = _binary_kind(data)
    if kind:
        diags.error("not-text", f"not a text file ({kind})", path, 1)
        return ""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data[:e.start].count(b"\n") + 1
        diags.warn("encoding", "not valid UTF-8; read as Windows-1252", path, line)
        text = data.decode("cp1252", errors="replace")
        if _garbled(text):
            diags.error("not-text", "not a text file (binary data: it is neither UTF-8 nor"
                        " Windows-1252 text)", path, line)
            return ""
    m = _CONTROL.search(text)
    if m:  # XML (so EPUB) cannot carry these characters at all
        diags.warn("control-characters", "control characters removed (they cannot appear in an"
                   " e-book)", path, text.count("\n", 0, m.start()) + 1)
        text = _CONTROL.sub("", text)
    if not text.strip():
        diags.warn("empty-chapter", "the file is empty", path)
    return text


def _paragraphs(text: str) -> str:
    """White space collapsed within each paragraph; paragraphs (blank lines) kept, for the cover's
    back and the title page."""
    return "\n\n".join(" ".join(p.split()) for p in re.split(r"\n\s*\n", text) if p.strip())


_MAGIC = {b"\x89PNG": "a PNG image", b"\xff\xd8\xff": "a JPEG image", b"GIF8": "a GIF image",
          b"%PDF": "a PDF", b"PK\x03\x04": "a ZIP archive (an EPUB, DOCX...)",
          b"\x1f\x8b": "gzip data", b"\x7fELF": "a program", b"RIFF": "a RIFF file (WebP, WAV...)",
          b"BZh": "bzip2 data", b"\xfd7zXZ": "xz data", b"7z\xbc\xaf": "a 7-Zip archive"}


def _binary_kind(data: bytes) -> str:
    for magic, kind in _MAGIC.items():
        if data.startswith(magic):
            return kind
    return ""


def _garbled(text: str) -> bool:
    """Mostly characters no text has (C0/C1 controls, U+FFFD): binary read as Windows-1252."""
    sample = text[:65536]
    if not sample:
        return False
    odd = sum(1 for c in sample if (c < " " and c not in "\t\n\r") or c == "\ufffd"
              or "\x7f" <= c <= "\x9f")
    return odd > len(sample) * 0.05


def _as_list(value) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, (list, tuple)):
        out = []
        for v in value:
            if isinstance(v, dict):  # e.g. authors: [{name: X}]
                v = v.get("name") or next(iter(v.values()), "")
            if str(v).strip():
                out.append(str(v).strip())
        return out
    if isinstance(value, dict):
        return [str(value.get("name") or "")] if value.get("name") else []
    return [str(value).strip()]


def read_chapter(path: Path, diags: Diagnostics, *, site: SiteInfo | None = None,
                 default_lang: str = "", unhonoured: dict | None = None,
                 labels: dict[str, str] | None = None, dollars: bool | None = None,
                 files_read: list[Path] | None = None) -> Chapter:
    """One Markdown file to a chapter. dollars: $…$ is inline math (None: as the post says);
    site: the site it belongs to (its template variables); unhonoured collects, per kind, the
    template tags that stay as written; files_read gets the include files read."""
    text = _read_text(path, diags).replace("\r\n", "\n").replace("\r", "\n")
    try:
        fm = frontmatter.split(text)
    except frontmatter.FrontMatterError as e:
        diags.error("front-matter", str(e), path, e.line)
        fm = frontmatter.FrontMatter({}, text, 0)
    meta = {str(k).lower(): v for k, v in fm.meta.items()}
    raw_lang = str(meta.get("lang") or meta.get("language") or "").strip()
    lang = normalize_lang(raw_lang) or ""
    if raw_lang and not lang:
        diags.warn("front-matter", f"'{raw_lang}' is not a language tag (like en or de-AT);"
                   " ignored", path, 1)
    ctx = shortcodes.Context(
        kind=site.kind if site else "folder", root=site.root if site else path.parent,
        includes_dir=(site.includes_dir if site and site.includes_dir else "_includes"),
        source=path, site=dict(site.variables) if site else {}, page=dict(fm.meta),
        line_offset=fm.lines)
    tags: list = []
    text_lang = lang or default_lang or _guess_text(fm.body)
    words = i18n.labels_for(text_lang, labels)
    if dollars is None:
        dollars = math.enabled_by_post(meta, fm.body)
    # Formulas are set aside before Markdown runs (it would eat their underscores and backslashes)
    protected, formulas = math.protect(fm.body, dollars=dollars, first_line=fm.lines + 1)
    notes: list[tuple[int, str]] = []
    body = parse_fragment(render_html(protected, text_lang, ctx, tags, notes))
    if files_read is not None:
        files_read.extend(ctx.read)
    for line, message in notes:
        diags.warn("markdown-bounded", message, path, line + fm.lines)
    if pairs_quotes(text_lang):
        pair_quotes(body, text_lang)
    if unhonoured is not None:
        for kind, line, raw in tags:
            unhonoured.setdefault(kind, []).append((path, line, raw))
    annotate_lines(body, text)
    for line in flatten_depth(body):
        diags.warn("nesting-flattened", f"markup nested deeper than {MAX_DEPTH} levels was"
                   " flattened (its words and links are kept)", path, line)
    if text.count("\n") >= MAX_SOURCELINE:
        diags.info("long-chapter", f"more than {MAX_SOURCELINE:,} lines: problems past that line"
                   f" are reported at line {MAX_SOURCELINE}", path, MAX_SOURCELINE)
    math.restore(body, formulas)

    title = str(meta.get("title") or "").strip()
    found = opening.extract(body, meta)
    for el in found.get("remove", []):
        remove_keep_tail(el)
    if "title_el" in found:
        found["title_el"].getparent().remove(found["title_el"])
    title = title or found.get("title", "")
    if not title:
        title = path.stem.replace("-", " ").replace("_", " ").strip().capitalize()
    # The chapter title is the only h1: posts that use '#' for sections move down a level.
    if any(True for _ in body.iter("h1")):
        for h in body.iter("h1", "h2", "h3", "h4", "h5"):
            h.tag = f"h{int(h.tag[1]) + 1}"
    authors = _as_list(meta.get("authors")) or _as_list(meta.get("author"))
    if not authors and found.get("author"):
        authors = [found["author"]]
    date = opening.parse_date(meta.get("date")) or found.get("date", "") or _date_from_path(path, meta)
    subtitle = str(meta.get("subtitle") or "").strip() or found.get("subtitle", "")
    byline = found.get("byline") or (words("byline", names=words.names(authors)) if authors
                                     else "")
    # one date format in a book: the language's long form (CLDR), whatever the post wrote
    date_text = words.date(date) if date else ""
    header = opening.build_header(title, subtitle, byline, date, date_text,
                                  1 + fm.lines if fm.lines else 1)
    header.tail = body.text
    body.text = None
    body.insert(0, header)
    return Chapter(source=path, body=body, title=title, subtitle=subtitle, authors=authors,
                   date=date, meta=meta, slug=str(meta.get("slug") or "") or slugify(title)
                   or slugify(path.parent.name if path.stem.lower() == "index" else path.stem),
                   source_text=text, lang=lang)


def _date_from_path(path: Path, meta: dict) -> str:
    """Static-site conventions: '2016-07-12-title.md', or a Zola path '2024/10/31/title'."""
    m = re.search(r"(?:^|[_-])(\d{4})-(\d{2})-(\d{2})(?:-|$)", path.stem)
    if not m:
        m = re.search(r"(?:^|/)(\d{4})/(\d{2})/(\d{2})/", str(meta.get("path") or ""))
    return opening.parse_date("-".join(m.groups())) if m else ""


def _join(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]




def _unique_slugs(chapters: list[Chapter]) -> None:
    seen: set[str] = set()
    for i, ch in enumerate(chapters, 1):
        base = slugify(ch.slug) or f"chapter-{i}"
        slug, n = base, 2
        while slug in seen:
            slug, n = f"{base}-{n}", n + 1
        seen.add(slug)
        ch.slug = slug


_DE = re.compile(r"\b(der|die|das|und|ist|nicht|mit|für|wir|auch|eine|sich)\b", re.I)
_EN = re.compile(r"\b(the|and|is|of|to|with|for|we|also|this|that)\b", re.I)


def _guess_language(chapters: list[Chapter]) -> str:
    """en or de by common words; the book's language sets hyphenation and lang attributes."""
    return _guess_text(" ".join(text_of(ch.body)[:20000] for ch in chapters))


def _guess_text(sample: str) -> str:
    sample = sample[:20000]
    return "de" if len(_DE.findall(sample)) > 1.5 * len(_EN.findall(sample)) else "en"


def _book_meta(cfg: Config, chapters: list[Chapter]) -> BookMeta:
    b = cfg.book
    first = chapters[0]
    site = cfg.site
    authors = list(b.authors) or (list(site.authors) if site else [])
    if not authors:
        for ch in chapters:
            authors.extend(a for a in ch.authors if a not in authors)
    single = len(chapters) == 1
    title = b.title or (site.title if site and site.title and not single else "") or (
        first.title if single else cfg.root.name.replace("-", " ").title())
    description = b.description or (str(first.meta.get("description") or first.meta.get("summary")
                                         or first.meta.get("excerpt") or "") if single else "")
    keywords = list(b.keywords) or (_as_list(first.meta.get("tags")) if single else [])
    return BookMeta(
        title=title,
        subtitle=b.subtitle or (first.subtitle if single else ""),
        authors=authors,
        language=b.language or (site.language if site else "") or first.lang
        or _guess_language(chapters),
        date=opening.parse_date(b.date) if b.date else first.date,
        publisher=b.publisher,
        rights=b.rights,
        identifier=b.identifier,
        description=_paragraphs(description),
        keywords=keywords,
        cover=(cfg.root / b.cover) if b.cover else None,
    )
