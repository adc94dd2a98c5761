"""Assets: the store (content-addressed cache), the fetcher (the only network code), image
processing per output profile (``images``) and SVG sanitizing (``svg``). See ``store.py``."""

from .store import AssetStore

__all__ = ["AssetStore"]
