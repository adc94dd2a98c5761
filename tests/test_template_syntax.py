"""Site generators' template syntax: what can be honoured is, the rest stays exactly as written and is
reported once per kind with file and line."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from pubpipe import config
from pubpipe.readers import read_book
from pubpipe.htmlmodel import parse_fragment
from pubpipe.readers.markdown import render_html
from pubpipe.readers.shortcodes import Context, convert
from pubpipe.transforms import sanitize
from pubpipe.util import text_of


def _html(md: str, lang: str = "en", **ctx) -> str:
    found: list = []
    out = render_html(md, lang, Context(**ctx), found)
    return out


def test_liquid_and_hugo_highlight_become_code_blocks_with_their_language_and_no_smart_quotes():
    md = ('{% highlight ruby linenos %}\nputs "it\'s" # "q"\n{% endhighlight %}\n\n'
          '{{< highlight go "linenos=table" >}}\nfmt.Println("x")\n{{< /highlight >}}\n\n'
          '{% highlight "js" %}\nlet s = "```";\n{% endhighlight %}\n')
    root = parse_fragment(_html(md))
    codes = root.findall(".//pre/code")
    assert [c.get("class") for c in codes] == ["language-ruby", "language-go", "language-js"]
    assert codes[0].text == "puts \"it's\" # \"q\"\n"
    assert codes[2].text == 'let s = "```";\n'
    assert not any(q in etree.tostring(root, encoding="unicode") for q in "\u201c\u201d\u2019")


def test_raw_comment_and_kramdown_extensions():
    md = ("{% raw %}{{ page.title }} {% if x %}{% endraw %}\n\n{% comment %}gone{% endcomment %}"
          "\n\n{::comment}\nalso gone\n{:/comment}\n{::options parse_block_html=\"true\" /}\n"
          "\n# Heading\n{: #custom-id .cls}\n\n* TOC\n{:toc}\n\n```\ncode\n```\n{: .x}\n")
    html = _html(md)
    root = parse_fragment(html)
    text = text_of(root)
    assert "{{ page.title }} {% if x %}" in text
    assert "gone" not in text and "options" not in text and "{:" not in text
    assert root.find(".//h1").get("id") == "custom-id"
    toc = root.find(".//div/ul/li/a")
    assert toc is not None and toc.get("href") == "#custom-id"
    assert "TOC" not in text


def test_liquid_variables_filters_and_conditions_are_evaluated():
    ctx = dict(kind="jekyll", site={"title": "Site", "url": "https://x.org/blog", "baseurl": ""},
               page={"title": "Post", "tags": ["a", "b"], "show": True})
    html = _html('{{ site.title }} / {{ page.title | upcase | prepend: "> " }} / '
                 '{{ "/img/a.png" | absolute_url }} / {{ page.tags | join: ", " }} / '
                 '{% assign n = "three" %}{{ n }} / {% if page.show and page.title == "Post" %}yes'
                 '{% else %}no{% endif %}{% unless page.show %}hidden{% endunless %}', **ctx)
    text = text_of(parse_fragment(html))
    assert text == "Site / > POST / https://x.org/blog/img/a.png / a, b / three / yes"


def test_hugo_param_ref_and_escaped_shortcodes():
    ctx = dict(kind="hugo", site={"params": {"mood": "calm"}}, page={"mood": "keen"})
    out = convert('{{< param "mood" >}} [x]({{< ref "a.md#s" >}}) {{</* youtube abc */>}}'
                  ' `{{< inline >}}`', Context(**ctx))
    assert out.text.startswith("keen [x](.pubpipe-ref/ref/a.md#s) {{< youtube abc >}}")
    assert "`{{< inline >}}`" in out.text
    assert out.unhonoured == []


def _sanitized(md: str, **ctx) -> tuple[str, list]:
    """Render and sanitize as the pipeline does; return visible text and the reader's tags."""
    from pubpipe.document import Book, BookMeta, Chapter

    found: list = []
    body = parse_fragment(render_html(md, "en", Context(**ctx), found))
    ch = Chapter(source=Path("post.md"), body=body, source_text=md)
    book = Book(meta=BookMeta(), root=Path("."), chapters=[ch])
    sanitize.run(book)
    return text_of(ch.body), found + [(d.message, d.line) for d in book.diagnostics]


@pytest.mark.parametrize("tag", [
    '{{% notice info %}}\n**Inner** text\n{{% /notice %}}',
    '{{< callout type="warn" >}}\nInner "text"\n{{< /callout >}}',
    '{% for p in site.posts %}* {{ p.title }}\n{% endfor %}',
    '{% case x %}{% when 1 %}one{% endcase %}',
    '{{ unknown_root.key | weird_filter }}',
])
def test_a_tag_that_cannot_be_honoured_is_kept_exactly_and_reported(tag):
    text, found = _sanitized("Before.\n\n" + tag + "\n\nAfter.\n", kind="folder")
    import re

    for piece in re.findall(r"\{\{.*?\}\}|\{%.*?%\}", tag):
        assert piece in text, (piece, text)  # both halves, same delimiters, no smart quotes
    assert found, "nothing reported"


def test_unhonoured_tags_are_reported_once_per_kind_with_file_and_line(tmp_path):
    (tmp_path / "a.md").write_text("---\ntitle: A\n---\nx\n\n{% for a in b %}{% endfor %}\n\n"
                                   "{% for c in d %}{% endfor %}\n\n{{% notice %}}x{{% /notice %}}\n")
    (tmp_path / "b.md").write_text("---\ntitle: B\n---\n{{% notice %}}y{{% /notice %}}\n")
    cfg = config.load(tmp_path)
    book = read_book(cfg)
    from pubpipe.transforms import sanitize as s

    s.run(book)
    tags = [d for d in book.diagnostics if d.code == "template-tag"]
    kinds = sorted(d.message.split("'")[1] for d in tags)
    assert kinds == ["for", "notice"]
    fors = next(d for d in tags if "'for'" in d.message)
    assert fors.file.name == "a.md" and fors.line == 6 and "3 more" in fors.message
    notice = next(d for d in tags if "'notice'" in d.message)
    assert notice.file.name == "a.md" and notice.line == 10 and "1 more" in notice.message


def test_an_include_file_of_the_site_is_inlined_with_its_parameters(tmp_path):
    (tmp_path / "_includes").mkdir()
    (tmp_path / "_includes" / "box.html").write_text('<div class="box">{{ include.msg }}</div>\n')
    out = convert('{% include box.html msg="Hi there" %}\n\n{% include missing.html %}\n',
                  Context(kind="jekyll", root=tmp_path, source=tmp_path / "p.md"))
    assert '<div class="box">Hi there</div>' in out.text
    assert 'data-name="include"' in out.text  # an include the site lacks: maybe an embed


def test_german_and_french_quotes_and_cjk_quotes_are_paired():
    assert "\u201eHallo\u201c" in _html('Er sagte "Hallo".', "de")
    assert "\u00ab\u00a0Bonjour\u00a0\u00bb" in _html('Il dit "Bonjour".', "fr").replace(
        "&nbsp;", "\u00a0").replace("&#160;", "\u00a0").replace("&laquo;", "\u00ab").replace(
        "&raquo;", "\u00bb")
    from pubpipe.readers.markdown import pair_quotes

    root = parse_fragment(_html('彼は"こんにちは"と言った。`"code"`', "ja"))
    pair_quotes(root, "ja")
    text = text_of(root)
    assert "彼は\u300cこんにちは\u300dと言った。" in text and '"code"' in text
