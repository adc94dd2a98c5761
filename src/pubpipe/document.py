"""The intermediate document: the one model every stage reads and writes.

Readers build it, transforms refine it in place, writers serialize it. No reader knows a writer.

Chapter content is an lxml element tree in *no namespace* with lowercase HTML tag names (a ``div``
root holding the chapter's blocks). Elements carry the Markdown source line in ``el.sourceline``
where it is known, so any stage can report ``file:line``.

Conventions shared across stages (kept here so that they are written down once):

* ``<img data-pp-asset="ID">`` — an image whose bytes come from ``Book.assets[ID]``; writers pick
  the processed variant for their profile (``"epub"`` or ``"print"``).
* ``<pp-embed data-pp-embed="ID"/>`` — where ``Book.embeds[ID]`` was found, until the embed
  renderer replaces it with a static card.
* ``<span class="pp-qr" data-pp-qr="URL"/>`` — a QR code of URL on paper; the PDF writer draws it,
  other writers drop it.
* class ``pp-print-only`` / ``pp-screen-only`` — content meant for one kind of output.
* ``<img data-pp-alt="caption|generic">`` — alt text pubpipe supplied (the author gave none): the
  figure's caption, or only where the image comes from (``Asset.generic_alt``), which names the
  image without describing it (the EPUB then claims no accessibility conformance).
* ``<a href="#ID" data-pp-xref="">`` — a link the author made to a place in the book (another
  chapter, a heading): ids are unique book-wide, so ``#ID`` names it in every output; on paper the
  PDF writer adds the target's page ("see p. 42"). Set by the links transform.
* ``epub:type`` is a namespaced attribute in the trees: ``el.set(EPUB_TYPE, "footnote")`` (lxml
  refuses a colon in a plain attribute name). ``write/common.to_xhtml`` keeps it as ``epub:type``;
  the print writer reads it from the same key.
"""

from __future__ import annotations

import enum
import hashlib
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lxml import etree

EPUB_NS = "http://www.idpf.org/2007/ops"
EPUB_TYPE = f"{{{EPUB_NS}}}type"  # the epub:type attribute, as lxml spells it
PROFILES = ("epub", "print")  # asset processing profiles, one per kind of output


class Severity(enum.IntEnum):
    INFO = 10
    WARNING = 20
    ERROR = 30


@dataclass(frozen=True)
class Diagnostic:
    """A problem found while building; never printed by the stage that finds it."""

    severity: Severity
    code: str  # short stable code, e.g. "asset-fetch", "config-unknown-key"
    message: str
    file: Path | None = None
    line: int | None = None

    def location(self) -> str:
        if self.file is None:
            return ""
        return f"{self.file}:{self.line}" if self.line else str(self.file)

    def format(self) -> str:
        where = self.location()
        prefix = f"{where}: " if where else ""
        return f"{prefix}{self.severity.name.lower()}: {self.message} [{self.code}]"


class Diagnostics(list):
    """Collected diagnostics of one build; stages append, the CLI prints."""

    def add(self, severity: Severity, code: str, message: str,
            file: Path | None = None, line: int | None = None) -> Diagnostic:
        d = Diagnostic(severity, code, message, file, line)
        self.append(d)
        return d

    def warn(self, code: str, message: str, file: Path | None = None, line: int | None = None):
        return self.add(Severity.WARNING, code, message, file, line)

    def error(self, code: str, message: str, file: Path | None = None, line: int | None = None):
        return self.add(Severity.ERROR, code, message, file, line)

    def info(self, code: str, message: str, file: Path | None = None, line: int | None = None):
        return self.add(Severity.INFO, code, message, file, line)

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self if d.severity == Severity.WARNING]

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self if d.severity >= Severity.ERROR]


def read_regular_file(path: Path) -> bytes:
    """Bytes of a regular file, never following a symlink in its last component (a device, FIFO
    or folder is a ValueError, so a read can neither hang nor leak)."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise ValueError("not a regular file")
        with os.fdopen(fd, "rb", closefd=False) as f:
            return f.read()
    finally:
        os.close(fd)


@dataclass
class Location:
    file: Path | None
    line: int | None = None


@dataclass
class Variant:
    """One processed form of an asset for one output profile."""

    path: Path  # file in the cache holding the processed bytes
    media_type: str  # e.g. "image/jpeg"
    width: int = 0
    height: int = 0
    sha256: str = ""

    @property
    def extension(self) -> str:
        return {"image/jpeg": "jpg", "image/png": "png", "image/gif": "gif",
                "image/svg+xml": "svg", "image/webp": "webp"}.get(self.media_type, "bin")

    def read_bytes(self) -> bytes:
        """The variant's bytes, if the cache file is still a regular file with its recorded hash
        (OSError otherwise: a cache can be changed by anyone who can write to it)."""
        data = read_regular_file(self.path)
        if self.sha256 and hashlib.sha256(data).hexdigest() != self.sha256:
            raise OSError(f"{self.path}: cached image changed since it was made")
        return data


@dataclass
class Asset:
    """An external resource the book refers to (today: images)."""

    id: str
    ref: str  # the reference as the author wrote it
    url: str = ""  # resolved absolute URL (http/https/data/file inside the book)
    final_url: str = ""  # after redirects
    status: str = "pending"  # pending | ok | failed | refused
    reason: str = ""  # why it failed or was refused
    sha256: str = ""  # of the original bytes
    media_type: str = ""  # sniffed from the bytes
    source_path: Path | None = None  # cached original bytes
    width: int = 0
    height: int = 0
    locations: list[Location] = field(default_factory=list)
    variants: dict[str, Variant] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def generic_alt(self) -> str:
        """Alt text that only says where the image comes from: its host, else its file name."""
        return generic_alt(self.final_url or self.url, self.ref)


ALT_SOURCE = "data-pp-alt"  # see the module docstring


def generic_alt(url: str, ref: str = "") -> str:
    """'Image from example.org' for a fetched image, else 'Image: photo.jpg', else 'Image'."""
    import urllib.parse

    host = ""
    if url.startswith(("http:", "https:", "//")):
        try:
            host = urllib.parse.urlsplit(url).hostname or ""
        except ValueError:
            pass
    host = host[4:] if host.startswith("www.") else host
    if host:
        return f"Image from {host}"
    ref = ref or url
    name = "" if ref.startswith("data:") else Path(urllib.parse.urlsplit(ref).path).name
    return f"Image: {name}" if name else "Image"


@dataclass
class Embed:
    """Something embedded from another site (video, social post, code, audio, map...)."""

    id: str
    provider: str  # machine name: "youtube", "twitter", "gist", "iframe", ...
    provider_name: str  # shown to readers: "YouTube", "X (Twitter)", ...
    kind: str  # video | social | code | audio | map | page | plugin
    url: str  # canonical URL a reader can open
    title: str = ""
    author: str = ""
    handle: str = ""
    date: str = ""
    text: str = ""  # plain text of a post, kept in full
    body: etree._Element | None = None  # the post's text with its links, already safe
    thumbnail: str = ""  # URL of a poster image, fetched through the asset store
    width: int = 0
    height: int = 0
    caption: str = ""
    location: Location = field(default_factory=lambda: Location(None))
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class SitePost:
    """A post of the site the book is made from, in the book or left out: what a link may name."""

    source: Path
    url: str = ""  # its permalink as a site path ('/2024/05/01/hello/'), '' when unknown
    aliases: list[str] = field(default_factory=list)  # other site paths that lead to it
    slug: str = ""
    date: str = ""  # ISO 8601
    title: str = ""
    tags: list[str] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)  # front matter as read
    left_out: str = ""  # why it is not in the book ('' when it is)


@dataclass
class SiteInfo:
    """The static site (Hugo, Jekyll, Zola, Pelican, Eleventy) or folder of posts a book comes from."""

    kind: str  # hugo | jekyll | zola | pelican | eleventy | folder
    root: Path
    content_dir: Path  # where posts live (Hugo/Zola content/, Pelican PATH, the root otherwise)
    config_file: Path | None = None
    title: str = ""
    authors: list[str] = field(default_factory=list)
    language: str = ""
    base_url: str = ""  # public address of the site, with any base path ('https://x.org/blog')
    static_dir: str = ""  # folder (relative to root) served from the site's '/'
    includes_dir: str = ""  # Jekyll/Eleventy includes, relative to root
    variables: dict[str, Any] = field(default_factory=dict)  # site.* (Liquid) / .Site.Params
    posts: list[SitePost] = field(default_factory=list)  # every post found, in the book or not
    refused: list[Path] = field(default_factory=list)  # links to files outside the folder


@dataclass
class Chapter:
    source: Path  # the Markdown file
    body: etree._Element  # <div> root, no namespace
    title: str = ""
    subtitle: str = ""
    authors: list[str] = field(default_factory=list)
    date: str = ""
    meta: dict[str, Any] = field(default_factory=dict)  # front matter as read
    slug: str = ""  # stable, unique within the book; used for file names and ids
    source_text: str = ""
    lang: str = ""
    post: SitePost | None = None  # the site post this chapter is (permalink, aliases)
    anchors: dict[str, str] = field(default_factory=dict)  # author's id -> id in the book (ids)

    def find_line(self, needle: str, default: int | None = None) -> int | None:
        """Line (1-based) of the first occurrence of needle in the source, for diagnostics."""
        if needle:
            i = self.source_text.find(needle)
            if i >= 0:
                return self.source_text.count("\n", 0, i) + 1
        return default


@dataclass
class BookMeta:
    title: str = ""
    subtitle: str = ""
    authors: list[str] = field(default_factory=list)
    language: str = "en"
    date: str = ""  # ISO 8601 (YYYY, YYYY-MM or YYYY-MM-DD)
    publisher: str = ""
    rights: str = ""
    identifier: str = ""
    description: str = ""
    keywords: list[str] = field(default_factory=list)
    cover: Path | None = None


@dataclass
class Book:
    meta: BookMeta
    root: Path  # the book folder: nothing outside it is read into an output
    chapters: list[Chapter] = field(default_factory=list)
    assets: dict[str, Asset] = field(default_factory=dict)
    embeds: dict[str, Embed] = field(default_factory=dict)
    diagnostics: Diagnostics = field(default_factory=Diagnostics)
    labels: dict[str, str] = field(default_factory=dict)  # [labels]: the words pubpipe writes
    site: SiteInfo | None = None  # the site or folder of posts the chapters come from
    files_read: list[Path] = field(default_factory=list)  # files besides chapters (includes)

    @property
    def slug(self) -> str:
        from .util import slugify

        return slugify(self.meta.title) or "book"
