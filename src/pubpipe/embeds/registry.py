"""The provider registry: every module in ``embeds/providers`` that defines ``PROVIDER`` is one provider.

Adding a provider means adding one module there; the registry finds it and asks providers in
``priority`` order (specific ones first, the generic iframe/object/media ones last).
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from functools import lru_cache

from .base import Provider


@lru_cache(maxsize=1)
def providers() -> tuple[Provider, ...]:
    from . import providers as pkg

    found: list[Provider] = []
    for info in pkgutil.iter_modules(pkg.__path__):
        if info.name.startswith("_"):
            continue
        mod = importlib.import_module(f"{pkg.__name__}.{info.name}")
        p = getattr(mod, "PROVIDER", None)
        if isinstance(p, Provider):
            found.append(p)
    return tuple(sorted(found, key=lambda p: (p.priority, p.name)))


def get(name: str) -> Provider | None:
    for p in providers():
        if p.name == name:
            return p
    return None


@lru_cache(maxsize=1)
def candidate_tags() -> frozenset[str]:
    return frozenset(t for p in providers() for t in p.tags)


@lru_cache(maxsize=1)
def widget_script_pattern() -> re.Pattern | None:
    pats = [w for p in providers() for w in p.widget_scripts]
    return re.compile("|".join(f"(?:{w})" for w in pats), re.I) if pats else None


def for_shortcode(name: str) -> list[Provider]:
    name = name.lower()
    return [p for p in providers() if name in p.shortcodes]
