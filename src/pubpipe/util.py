"""Small helpers shared by several stages."""

from __future__ import annotations

import re
import unicodedata


def slugify(text: str, max_len: int = 60) -> str:
    """ASCII slug for file names and ids: 'Blog post 2: China' -> 'blog-post-2-china'."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    text = re.sub(r"[^a-zA-Z0-9]+", "-", text).strip("-").lower()
    return text[:max_len].rstrip("-")


_LANG = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")


def normalize_lang(value) -> str | None:
    """A BCP 47 language tag as EPUB requires ('en_US' -> 'en-US'), or None if it is not one."""
    tag = str(value or "").strip().replace("_", "-")
    return tag if _LANG.match(tag) else None


def text_of(el) -> str:
    """All text inside an lxml element, whitespace folded."""
    return " ".join("".join(el.itertext()).split())


def remove_keep_tail(el) -> None:
    """Remove an lxml element but keep the text that follows it (its tail) in place."""
    parent = el.getparent()
    if parent is None:
        return
    if el.tail:
        prev = el.getprevious()
        if prev is not None:
            prev.tail = (prev.tail or "") + el.tail
        else:
            parent.text = (parent.text or "") + el.tail
    parent.remove(el)


def replace_with_text(el, text: str) -> None:
    """Replace an lxml element by plain text (followed by its tail)."""
    el.tail = text + (el.tail or "")
    remove_keep_tail(el)
