"""Site-relative image paths ('/img/x.png'): static-dir in the book, else site-url, else refused."""

from __future__ import annotations

import io

from PIL import Image

from pubpipe import config
from pubpipe.pipeline import BuildOptions, prepare


def _png(colour: str = "blue") -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), colour).save(buf, "PNG")
    return buf.getvalue()


def _book(tmp_path, assets: str):
    (tmp_path / "static" / "img").mkdir(parents=True)
    (tmp_path / "static" / "img" / "local.png").write_bytes(_png())
    (tmp_path / "book.toml").write_text(f'[book]\ntitle = "S"\n[assets]\n{assets}')
    (tmp_path / "a.md").write_text("# S\n\n![l](/img/local.png)\n\n![r](/img/remote.png)\n")
    book, _ = prepare(config.load(tmp_path), BuildOptions(formats=("epub",),
                                                          cache_dir=tmp_path / "cache"))
    return {a.ref: a for a in book.assets.values()}, book.diagnostics


def test_static_dir_then_site_url(tmp_path, httpserver):
    httpserver.expect_request("/blog/img/remote.png").respond_with_data(_png("red"), content_type="image/png")
    assets, diags = _book(tmp_path, f'static-dir = "static"\nsite-url = "{httpserver.url_for("/blog/")}"\nallow-private-hosts = true\n')
    assert assets["/img/local.png"].ok and assets["/img/local.png"].url.startswith("file:")
    assert assets["/img/remote.png"].ok and assets["/img/remote.png"].url.endswith("/blog/img/remote.png")
    assert not diags.warnings


def test_without_keys_refused_naming_them(tmp_path):
    assets, diags = _book(tmp_path, "")
    assert not any(a.ok for a in assets.values())
    assert any("static-dir" in d.message and d.line == 3 for d in diags.warnings)


def test_static_dir_must_be_inside_the_book(tmp_path):
    (tmp_path / "book.toml").write_text('[assets]\nstatic-dir = "../elsewhere"\n')
    (tmp_path / "a.md").write_text("# A\n")
    try:
        config.load(tmp_path)
    except config.ConfigError as e:
        assert "static-dir" in str(e)
    else:
        raise AssertionError("no error")
