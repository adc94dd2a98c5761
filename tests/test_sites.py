"""A site as a book: generators found by their config, posts chosen and ordered, every post left out
reported with its reason, [book] selection keys validated."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from pubpipe import config
from pubpipe.readers import read_book, sites

FIXTURES = Path(__file__).parent / "fixtures" / "sites"


def _names(cfg) -> list[str]:
    return [p.name if p.stem != "index" else p.parent.name for p in cfg.chapter_files]


def test_hugo_site_posts_in_date_order_and_every_left_out_post_has_a_reason():
    cfg = config.load(FIXTURES / "hugo")
    assert cfg.site.kind == "hugo"
    assert _names(cfg) == ["first-steps.md", "part-two.md", "bundle-post", "deutsch.md",
                           "nihongo.md"]
    left = {p.source.relative_to(cfg.site.content_dir).as_posix(): p.left_out
            for p in cfg.site.posts if p.left_out}
    assert left == {
        "_index.md": "section index page (_index.md)",
        "posts/_index.md": "section index page (_index.md)",
        "about/index.md": "a page outside the site's main sections (posts)",
        "posts/draft-post.md": "draft (draft: true)",
        "posts/future-post.md": "dated in the future (2099-01-01)",
    }
    # the site's config gives what book.toml does not
    assert cfg.assets.static_dir == "static"
    assert cfg.assets.site_url == "https://hugo.example.org"
    book = read_book(cfg)
    assert book.meta.title == "Field Notes" and book.meta.authors == ["Hana Hugo"]
    assert book.meta.language == "en-us"
    reported = {d.file.name if d.file.stem != "index" else d.file.parent.name: d.message
                for d in book.diagnostics if d.code == "post-left-out"}
    assert len(reported) == 4 and reported["draft-post.md"] == "left out: draft (draft: true)"
    summary = [d for d in book.diagnostics if d.code == "posts-selected"]
    assert len(summary) == 1 and "5 posts in the book, 5 left out" in summary[0].message


def test_hugo_permalinks_follow_the_site_pattern_bundles_and_aliases():
    site = sites.load((FIXTURES / "hugo").resolve())
    urls = {p.source.stem if p.source.stem != "index" else p.source.parent.name: p.url
            for p in site.posts}
    assert urls["first-steps"] == "/2024/01/first-steps/"
    assert urls["part-two"] == "/2024/02/part-two/"
    assert urls["bundle-post"] == "/2024/03/bundled/"
    first = next(p for p in site.posts if p.source.stem == "first-steps")
    assert first.aliases == ["/old/first/"]


def test_jekyll_site_posts_drafts_pages_and_permalinks():
    cfg = config.load(FIXTURES / "jekyll")
    assert cfg.site.kind == "jekyll"
    assert _names(cfg) == ["2023-11-20-opening-night.md", "2024-01-15-second-wind.md",
                           "2024-02-01-zweiter-anlauf.md", "2024-03-03-nihongo.md"]
    left = {p.source.name: p.left_out for p in cfg.site.posts if p.left_out}
    assert left["secret-plans.md"] == "draft (in _drafts/)"
    assert left["2099-01-01-future.md"] == "dated in the future (2099-01-01)"
    assert left["about.md"].startswith("a page, not a post")
    second = next(p for p in cfg.site.posts if "second-wind" in p.source.name)
    assert second.url == "/2024/01/15/second-wind/"
    assert cfg.site.base_url == "https://jekyll.example.net/blog"
    assert cfg.assets.static_dir == "."


def _write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        p = root / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, encoding="utf-8")
    return root


def test_zola_pelican_and_eleventy_are_found_by_their_config(tmp_path):
    zola = _write(tmp_path / "zola", {
        "config.toml": 'base_url = "https://z.example"\ntitle = "Z"\ndefault_language = "fr"\n',
        "content/_index.md": "+++\ntitle = 'home'\n+++\n",
        "content/blog/_index.md": "+++\ntitle = 'blog'\n+++\n",
        "content/blog/2024-01-02-hello.md": "+++\ntitle = 'Hello'\n+++\nSee [b](@/blog/b.md).\n",
        "content/blog/b.md": "+++\ntitle = 'B'\ndate = 2024-02-01\ndraft = true\n+++\nB\n",
    })
    cfg = config.load(zola)
    assert cfg.site.kind == "zola" and cfg.site.language == "fr"
    assert _names(cfg) == ["2024-01-02-hello.md"]
    hello = next(p for p in cfg.site.posts if p.source.name == "2024-01-02-hello.md")
    assert hello.url == "/blog/hello/" and hello.date == "2024-01-02"

    pelican = _write(tmp_path / "pelican", {
        "pelicanconf.py": "import os\nAUTHOR = 'Pel'\nSITENAME = 'Pelican book'\n"
                          "SITEURL = ''\nPATH = 'content'\nDEFAULT_LANG = 'es'\n"
                          "ARTICLE_URL = 'posts/{slug}/'\nTIMEZONE = os.environ['X']\n",
        "content/a.md": "Title: Uno\nDate: 2020-01-01\n\nUno.\n",
        "content/b.md": "Title: Dos\nDate: 2019-01-01\nStatus: draft\n\nDos.\n",
        "content/pages/about.md": "Title: About\n\nAbout.\n",
    })
    cfg = config.load(pelican)  # the config is read, never run: os.environ['X'] is not evaluated
    assert cfg.site.kind == "pelican" and cfg.site.authors == ["Pel"]
    assert _names(cfg) == ["a.md"]
    left = {p.source.name: p.left_out for p in cfg.site.posts if p.left_out}
    assert left == {"b.md": "draft (status: draft)",
                    "about.md": "a page, not an article (PAGE_PATHS)"}
    uno = next(p for p in cfg.site.posts if p.source.name == "a.md")
    assert uno.url == "/posts/uno/"

    eleventy = _write(tmp_path / "eleventy", {
        "eleventy.config.js": 'module.exports = () => ({ dir: { input: "src" } });\n',
        "src/_data/metadata.json": '{"title": "Eleven", "url": "https://e.example",'
                                   ' "language": "it", "author": {"name": "Ele"}}',
        "src/posts/one.md": "---\ntitle: One\ndate: 2021-05-05\n---\nOne.\n",
        "src/posts/two.md": "---\ntitle: Two\ndate: 2021-04-04\n"
                            "eleventyExcludeFromCollections: true\n---\nTwo.\n",
        "src/posts/three.md": "---\ntitle: Three\npermalink: false\n---\nThree.\n",
        "src/_includes/x.md": "not a post",
    })
    cfg = config.load(eleventy)
    assert cfg.site.kind == "eleventy" and cfg.site.title == "Eleven"
    assert _names(cfg) == ["one.md"]
    left = {p.source.name: p.left_out for p in cfg.site.posts if p.left_out}
    assert set(left) == {"two.md", "three.md"}


def test_a_plain_folder_walks_subfolders_orders_by_date_and_skips_drafts(tmp_path):
    root = _write(tmp_path / "book", {
        "z-first.md": "---\ntitle: Z\ndate: 2020-01-01\n---\nz\n",
        "a-later.md": "---\ntitle: A\ndate: 2021-01-01\n---\na\n",
        "sub/m-middle.md": "---\ntitle: M\ndate: 2020-06-01\n---\nm\n",
        "sub/draft.md": "---\ntitle: D\ndraft: true\n---\nd\n",
        "README.md": "not a chapter",
        "build/old.md": "output, not a source",
    })
    cfg = config.load(root)
    assert cfg.site.kind == "folder"
    assert _names(cfg) == ["z-first.md", "m-middle.md", "a-later.md"]
    left = {p.source.name: p.left_out for p in cfg.site.posts if p.left_out}
    assert left == {"draft.md": "draft (draft: true)"}


def test_a_symlinked_post_leading_outside_the_folder_is_not_a_chapter(tmp_path):
    secret = tmp_path / "secret.md"
    secret.write_text("---\ntitle: Secret\n---\nnot for the book\n", encoding="utf-8")
    root = _write(tmp_path / "book", {
        "one.md": "---\ntitle: One\ndate: 2020-01-01\n---\none\n",
        "sub/inside.md": "---\ntitle: In\ndate: 2020-02-01\n---\nin\n",
    })
    (root / "two.md").symlink_to(secret)
    (root / "alias.md").symlink_to(root / "sub" / "inside.md")
    cfg = config.load(root)
    assert "secret.md" not in _names(cfg)
    assert all(p.source.is_relative_to(root.resolve()) for p in cfg.site.posts)


def test_book_selection_chapters_globs_tags_dates_order_exclude(tmp_path):
    root = _write(tmp_path / "book", {
        "posts/2020-01-01-a.md": "---\ntitle: A\ntags: [x]\n---\na\n",
        "posts/2021-01-01-b.md": "---\ntitle: B\ntags: [y]\n---\nb\n",
        "posts/2022-01-01-c.md": "---\ntitle: C\ntags: [x, y]\n---\nc\n",
        "intro.md": "# Intro\n",
    })
    (root / "book.toml").write_text('[book]\nchapters = ["intro.md", "posts/*.md"]\n'
                                    'tags = ["x"]\n')
    cfg = config.load(root)
    assert _names(cfg) == ["intro.md", "2020-01-01-a.md", "2022-01-01-c.md"]
    left = {p.source.name: p.left_out for p in cfg.site.posts if p.left_out}
    assert left == {"2021-01-01-b.md": "no tag of [book] tags (x)"}

    (root / "book.toml").write_text('[book]\nsince = "2021-01-01"\norder = "date-desc"\n'
                                    'exclude = ["intro.md"]\n')
    cfg = config.load(root)
    assert _names(cfg) == ["2022-01-01-c.md", "2021-01-01-b.md"]
    left = {p.source.name: p.left_out for p in cfg.site.posts if p.left_out}
    assert left["2020-01-01-a.md"] == "dated before [book] since (2021-01-01)"
    assert left["intro.md"].startswith("excluded by [book] exclude")

    (root / "book.toml").write_text('[book]\nchapters = ["posts/2022-01-01-c.md"]\n')
    cfg = config.load(root)
    assert _names(cfg) == ["2022-01-01-c.md"]
    left = {p.source.name: p.left_out for p in cfg.site.posts if p.left_out}
    assert left["intro.md"] == "not in [book] chapters"


def test_a_chapter_listed_twice_is_an_error(tmp_path):
    root = _write(tmp_path / "book", {"a.md": "# A\n", "b.md": "# B\n"})
    (root / "book.toml").write_text('[book]\nchapters = ["a.md", "b.md", "./a.md"]\n')
    with pytest.raises(config.ConfigError, match=r"chapter './a.md' is listed twice"):
        config.load(root)


@pytest.mark.parametrize("toml, message", [
    ('[book]\norder = "random"\n', r'book.toml:2: \[book\] order = "random" is not understood;'
     r' accepted: date, date-desc, name'),
    ('[book]\nsince = "last year"\n', r'\[book\] since = "last year" is not understood;'
     r" accepted: a date"),
    ('[book]\ntags = [1]\n', r"\[book\] tags = \[1\] is not understood; accepted: a list of"
     r" strings"),
    ('[book]\ndrafts = "yes"\n', r'\[book\] drafts = "yes" is not understood; accepted: true'
     r" or false"),
    ('[labels]\ncontent = "x"\n', r"book.toml:2: unknown key 'content' in \[labels\] \(did"
     r" you mean 'contents'\?"),
    ('[labels]\nsee-page = "siehe Seite"\n', r"\[labels\] see-page = \"siehe Seite\" is not"
     r" understood \(%\(page\)s is missing\)"),
    ('[labels]\ncontents = 3\n', r"\[labels\] contents = 3 is not understood; accepted: a"
     r" non-empty string"),
    ('[lables]\ncontents = "x"\n', r"unknown table \[lables\] \(did you mean \[labels\]\?"),
])
def test_new_book_keys_are_validated(tmp_path, toml, message):
    root = _write(tmp_path / "book", {"a.md": "# A\n"})
    (root / "book.toml").write_text(toml)
    with pytest.raises(config.ConfigError, match=message):
        config.load(root)


def test_future_posts_are_judged_by_todays_date(tmp_path):
    tomorrow = (dt.date.today() + dt.timedelta(days=1)).isoformat()
    root = _write(tmp_path / "book", {
        "a.md": "---\ntitle: A\ndate: 2020-01-01\n---\na\n",
        "b.md": f"---\ntitle: B\ndate: {tomorrow}\n---\nb\n",
    })
    cfg = config.load(root)
    assert _names(cfg) == ["a.md"]
