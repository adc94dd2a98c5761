"""Small helpers shared by several stages."""

from __future__ import annotations

import re
import unicodedata


def slugify(text: str, max_len: int = 60) -> str:
    """ASCII slug for file names and ids: 'Blog post 2: China' -> 'blog-post-2-china'."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    text = re.sub(r"[^a-zA-Z0-9]+", "-", text).strip("-").lower()
    return text[:max_len].rstrip("-")


def text_of(el) -> str:
    """All text inside an lxml element, whitespace folded."""
    return " ".join("".join(el.itertext()).split())
