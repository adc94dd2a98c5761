"""``pubpipe new DIR``: a book folder that builds at once.

It holds book.toml (every key present or commented out, each explained), a first chapter that
shows what a chapter may contain, a picture for it, styles/ for the author's own CSS and a
.gitignore for build output and the cache.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from ..errors import BuildError, ConfigError
from .ui import UI

BOOK_TOML = '''\
# book.toml: the settings of this book. Lines starting with # are comments; remove the # in
# front of a setting to use it. Every setting is optional. Full reference: the pubpipe README.
# Lengths always need a unit: "6in", "152mm", "10.5pt".

[book]
title = "{title}"
# subtitle = "A subtitle"
authors = [{authors}]              # one or more names: ["Ada Lovelace", "Charles Babbage"]
language = "en"                  # a language tag: "en", "de", "fr-CA", ...
date = "{today}"               # publication date; default: the chapter's date
# publisher = "Self-published"
# rights = "© {year} {rights_holder}. All rights reserved."   # or "CC BY 4.0"
# identifier = "urn:isbn:9780000000000"   # default: an id made from title and authors
# description = "What the book is about, in a sentence or two (shown by e-book stores)."
# keywords = ["essays", "travel"]
# cover = "cover.jpg"            # an image in this folder, about 1600 x 2560 px;
#                                # default: a cover is drawn from title and authors
# chapters = ["01-first-chapter.md", "02-second-chapter.md"]
#                                # reading order (globs too: "posts/2024-*.md");
#                                # default: every post here, subfolders too, oldest first
# source = "../my-blog"          # take the chapters from another folder (a blog, a site)
# order = "date"                 # date (oldest first), date-desc or name
# tags = ["travel"]              # only posts with one of these tags
# since = "2023-01-01"           # only posts dated from ...
# until = "2024-12-31"           # ... to
# exclude = ["drafts/*"]         # files to leave out
# drafts = false                 # true: drafts too
{book_extra}
[epub]
# page-list = true               # the EPUB shows the printed book's page numbers
# page-numbers = true            # the older name of page-list
# toc-depth = 3                  # headings in the contents: 1 chapters, 2 + sections, 3 + subsections
css = "styles/epub.css"          # your own CSS for the e-book, added after pubpipe's

[pdf]
page-size = "6in 9in"            # the trim size: "5in 8in", "5.5in 8.5in", "A5", "148mm 210mm", "letter"
# bleed = "0.125in"              # only when pictures run to the paper's edge
# crop-marks = false             # crop marks for a local printer (print shops usually refuse them)
# preset = "kdp"                 # rules of a print service: kdp, lulu, ingramspark; or proof, screen
# variant = "pdf/x-4"            # a PDF standard: pdf/x-1a, pdf/x-4, pdf/a-3b, pdf/ua-1, ...
# color = "rgb"                  # rgb, grayscale or cmyk
# paper = "white"                # white, cream or color: used for the spine width
font-size = "10.5pt"             # body text size, with a unit: "10pt", "11pt", "11.5pt"
# fonts = ["EB Garamond"]        # installed font families to prefer over Noto Serif
css = "styles/print.css"         # your own CSS for the printed book, added after pubpipe's
{pdf_extra}
[assets]
# cache-dir = ".pubpipe-cache"   # where downloaded images are kept (default: ~/.cache/pubpipe)
# static-dir = "static"          # where /images/x.png paths from a blog are found
# site-url = "https://blog.example.com"   # where /images/x.png paths are downloaded from
# epub-max-size = 1600           # longest side of images in the e-book, in pixels
# jpeg-quality = 85              # JPEG quality of e-book images (1-100)
# print-dpi = 300                # resolution of printed images
# print-width = 0                # widest a picture prints, in inches; 0: the text width
# print-height = 6.5             # tallest a picture prints, in inches
# print-jpeg-quality = 90        # JPEG quality of printed images (1-100)
# connect-timeout = 5            # seconds to reach a server
# read-timeout = 10              # seconds to wait for more bytes
# total-timeout = 20             # seconds one download may take in all
# max-bytes = 52428800           # largest download accepted (50 MiB)
# max-redirects = 5
# retries = 2                    # extra attempts after a failed download
# concurrency = 8                # downloads at once
# fetch-budget = 300             # seconds all downloads of a build may take
# allow-private-hosts = false    # true: images may come from localhost and private networks
# cache-keep-builds = 20         # what none of the last 20 builds used is removed from the cache
# cache-max-age = 30             # ... or what no build used for 30 days
# cache-max-mb = 2048            # the cache's size bound (0: none)
{assets_extra}
[math]
# dollars = true                 # $…$ marks math; default: found out for each post
# macros = {{ "\\\\RR" = "\\\\mathbb{{R}}" }}   # TeX macros for every formula
'''

CHAPTER = '''\
---
title: "{title}: the first chapter"
date: {today}
author: {author_yaml}
---

This is the first chapter of your book. Each chapter is a Markdown file in this folder, like a
blog post; the chapters are read in the order of their file names (`01-…`, `02-…`), or in the
order `chapters` lists in `book.toml`. The lines between the `---` at the top are the chapter's
title, date and author.

## What a chapter may contain

Write *emphasis*, **strong words**, `code`, [links](https://example.org) and footnotes.[^1]
Quotes, lists and tables work as in any blog:

> A quotation stays a quotation, in the e-book and on paper.

- a list item
- another, with a [link to the next heading](#pictures-and-captions)

| Format | For |
|--------|-----|
| EPUB   | e-readers, phones, stores |
| PDF    | a printer or a print-on-demand service |

```python
print("Code keeps its lines and never gets curly quotes")
```

## Pictures and captions

A picture with a description (the alt text, read aloud to people who cannot see it) and a caption
in italics on the line after it. Pictures may also be on the web (`https://…`): pubpipe downloads
them once.

![A calm blue and orange picture standing in for your own](images/sample.jpg)
_A caption under the picture._

## Videos and other embeds

Paste the code a site gives you to embed a video or a post. The e-book and the printed book show
a card with its title and link (and a QR code on paper), because paper cannot play videos:

<iframe width="560" height="315" src="https://www.youtube.com/embed/aqz-KE-bpKQ" title="Big Buck Bunny" allowfullscreen></iframe>

## Sources

Numbers in brackets, like this one [1], link to the list under a heading called "Sources".

1. The Markdown Guide, https://www.markdownguide.org

[^1]: Footnotes sit at the foot of the page in print and pop up in the e-book.
'''

EPUB_CSS = '''\
/* Your CSS for the e-book, added after pubpipe's own. Keep it light: readers choose their own
   font and size. Example (remove the comment marks to try it):

h2 { font-variant: small-caps; }
blockquote { font-style: italic; }
*/
'''

PRINT_CSS = '''\
/* Your CSS for the printed book, added after pubpipe's own. Lengths need units. Examples:

:root { --pp-text-color: #111; }
h2 { font-variant: small-caps; letter-spacing: 0.05em; }
blockquote { font-style: italic; }
*/
'''

GITIGNORE = '''\
# pubpipe: the books it makes, and the images it downloaded (both can be made again)
build/
.pubpipe-cache/
'''


def run(args, ui: UI) -> int:
    folder: Path = args.folder
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise ConfigError(f"{folder} already exists and is not empty; choose a new folder name")
    title = args.title or _title_from(folder)
    author = args.author or ""
    book_extra = assets_extra = ""
    chapter = True
    if args.site is not None:
        book_extra, assets_extra, title = _from_site(args.site, folder, args.title, title)
        chapter = False
    files = {
        "book.toml": _book_toml(title, author, book_extra=book_extra,
                                assets_extra=assets_extra),
        "styles/epub.css": EPUB_CSS,
        "styles/print.css": PRINT_CSS,
        ".gitignore": GITIGNORE,
    }
    if chapter:
        files["01-first-chapter.md"] = CHAPTER.format(
            title=title, today=date.today().isoformat(), author_yaml=_yaml(author or "Your Name"))
    try:
        _write(folder, files)
        if chapter:
            (folder / "images").mkdir(exist_ok=True)
            (folder / "images" / "sample.jpg").write_bytes(sample_picture())
    except OSError as e:  # a read-only place, a parent that is a file, a full disk
        raise BuildError(f"cannot make {folder}: {e.strerror or e}") from None
    if chapter:
        ui.say(f"made {folder}/ with book.toml, 01-first-chapter.md, images/, styles/ and"
               " .gitignore")
    else:
        ui.say(f"made {folder}/ with book.toml (the posts of {args.site}), styles/ and .gitignore")
    ui.say("next:")
    ui.say(f"  pubpipe build {folder}        # writes {folder}/build/*.epub, .pdf and .html")
    ui.say(f"  pubpipe watch {folder}        # rebuilds while you write")
    return 0


def _title_from(folder: Path) -> str:
    name = folder.resolve().name
    return re.sub(r"[-_]+", " ", name).strip().title() or "My Book"


def _toml_str(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def _yaml(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _book_toml(title: str, author: str, book_extra: str = "", pdf_extra: str = "",
               assets_extra: str = "") -> str:
    today = date.today()
    return BOOK_TOML.format(
        title=_toml_str(title), authors=f'"{_toml_str(author)}"' if author else '"Your Name"',
        today=today.isoformat(), year=today.year, rights_holder=_toml_str(author or "Your Name"),
        book_extra=book_extra, pdf_extra=pdf_extra, assets_extra=assets_extra)


def _write(folder: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def sample_picture(width: int = 1500, height: int = 1000) -> bytes:
    """A calm landscape-like picture, large enough to print 4.5 in wide at 300 ppi."""
    import io

    from PIL import Image, ImageDraw

    img = Image.new("RGB", (width, height))
    draw = ImageDraw.Draw(img)
    for y in range(height):  # a sky that fades from blue to a warm horizon
        t = y / height
        draw.line([(0, y), (width, y)], fill=(int(40 + 200 * t), int(90 + 100 * t), int(160 - 60 * t)))
    draw.ellipse([width * 0.62, height * 0.18, width * 0.78, height * 0.42], fill=(250, 210, 120))
    draw.polygon([(0, height), (width * 0.3, height * 0.55), (width * 0.55, height * 0.8),
                  (width * 0.8, height * 0.5), (width, height * 0.75), (width, height)],
                 fill=(30, 60, 70))
    out = io.BytesIO()
    img.save(out, "JPEG", quality=85, dpi=(300, 300))
    return out.getvalue()


# ---------------------------------------------------------------------------------------------
# --from SITE: a book of a site's posts

def find_posts(info, exclude: Path | None = None) -> list[Path]:
    """The posts of a site or folder (a readers.sites.SiteInfo), as a build of the site would
    take them: the generator's rules, drafts and section pages left out, oldest first."""
    from ..readers import sites

    chosen = sites.select(info, sites.Selection(chapters=[], tags=[], since="", until="",
                                                 order="", drafts=False, exclude=[]))
    return [p.source for p in chosen
            if not (exclude and p.source.is_relative_to(exclude))]


def _from_site(site_arg: Path, folder: Path, title_arg: str | None,
               title: str) -> tuple[str, str, str]:
    """The [book] lines for a site's posts: source (relative to the new book folder) and the
    chapters, in order; the [assets] lines for its static files; and the book's title (the
    site's, when its config names one)."""
    import os

    site = site_arg.resolve()
    if not site.is_dir():
        raise ConfigError(f"{site_arg}: no such folder (--from names a site or a folder of posts)")
    from ..readers import sites

    try:
        info = sites.load(site)
    except ValueError as e:  # a site config that cannot be read
        raise ConfigError(str(e)) from None
    posts = find_posts(info, exclude=folder.resolve())
    if not posts:
        raise ConfigError(f"{site_arg}: no Markdown posts found (looked in _posts/, content/,"
                          " posts/ and the folder itself)")
    source = Path(os.path.relpath(site, folder.resolve())).as_posix()
    chapters = "\n".join(f'    "{_toml_str(p.relative_to(site).as_posix())}",' for p in posts)
    lines = (f'source = "{_toml_str(source)}"        # the site the posts come from; the paths'
             " below are inside it\n"
             f"chapters = [                   # the posts, in reading order: reorder or remove"
             f" lines\n{chapters}\n]\n")
    if not title_arg:
        title = info.title.strip() or site.name.replace("-", " ").title()
    # where the site's /images/x.png paths are: Hugo and Zola serve static/, Jekyll its root
    static = info.static_dir if info.static_dir and (site / info.static_dir).is_dir() else ""
    url = info.base_url if info.base_url.startswith(("http://", "https://")) else ""
    assets = "".join([f'static-dir = "{static}"            # the site\'s static files (in source)\n'
                      if static else "",
                      f'site-url = "{_toml_str(url)}"\n' if url else ""])
    return lines, assets, title
