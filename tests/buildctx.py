"""A build context for tests that call a writer on a hand-made Book."""

from __future__ import annotations

from pubpipe.assets.store import AssetStore
from pubpipe.config import Config
from pubpipe.context import BuildContext, BuildOptions
from pubpipe.document import Book


def context_for(book: Book, store: AssetStore | None = None, cache_dir=None,
                cfg: Config | None = None) -> BuildContext:
    """The context a build of book would have (cfg, or the defaults); diagnostics go to
    book.diagnostics. store: use this asset store instead of a new one."""
    cfg = cfg or Config(root=book.root, labels=dict(book.labels))
    opts = BuildOptions(formats=("epub",), cache_dir=cache_dir or (store.cache_dir if store else None))
    ctx = BuildContext.create(cfg, opts, book.meta.language, book.diagnostics)
    if store is not None:
        ctx.store = store
    return ctx


def epub_of(book: Book, store: AssetStore | None = None, page_map=None,
            cfg: Config | None = None) -> bytes:
    from pubpipe.write.epub import write_epub

    return write_epub(book, context_for(book, store, cfg=cfg), page_map)
