"""Where pubpipe's own files (stylesheets, ICC profiles, fonts lists) live."""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

_PKG = Path(__file__).resolve().parent


def styles_dir() -> Path:
    """styles/ at the top of the repository (editable install) or inside the installed package."""
    for candidate in (_PKG / "styles", _PKG.parents[1] / "styles"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError("pubpipe styles folder not found")


def stylesheet(name: str) -> str:
    return (styles_dir() / name).read_text(encoding="utf-8")


def component_styles() -> str:
    """Every stylesheet in styles/components/, in name order: shared by all writers."""
    folder = styles_dir() / "components"
    if not folder.is_dir():
        return ""
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.css")))


def author_css(path: str) -> str:
    """The stylesheet a book names in [epub] css or [pdf] css (config made it an absolute path
    inside the book), read now so an edit shows in the next build; '' when there is none."""
    if not path:
        return ""
    return "\n\n/* the book's own styles */\n" + Path(path).read_text(encoding="utf-8", errors="replace")


def author_rules(path: str) -> bool:
    """Whether the stylesheet at path holds anything but comments and white space (the one
    ``pubpipe new`` writes holds only commented-out examples: as good as none)."""
    import re

    try:
        text = author_css(path)
    except OSError:  # unreadable: the build says so elsewhere; here it is not known to be empty
        return True
    return bool(re.sub(r"/\*.*?(\*/|$)", "", text, flags=re.S).strip())


def installed_version(distribution: str) -> str:
    """The installed version of a distribution ('?' when it is not installed): part of the keys
    of caches whose entries that library draws."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(distribution)
    except PackageNotFoundError:
        return "?"


_fingerprint: list[str] = []


def code_fingerprint() -> str:
    """SHA-256 of pubpipe's own files (code, styles, catalogues) and of the names (with versions)
    of every installed distribution: what turns the same sources into different outputs."""
    if _fingerprint:
        return _fingerprint[0]
    h = hashlib.sha256()
    files = []
    for top in (_PKG, styles_dir()):
        for folder, dirs, names in os.walk(top):
            dirs[:] = [d for d in dirs if d != "__pycache__"]
            files.extend(os.path.join(folder, n) for n in names if not n.endswith((".pyc", ".mo")))
    for path in sorted(files):
        h.update(path.encode() + b"\0")
        with open(path, "rb") as f:
            h.update(hashlib.sha256(f.read()).digest())
    for entry in sys.path:  # the current folder (an entry too) holds no distributions
        try:
            names = sorted(n for n in os.listdir(entry or ".")
                           if n.endswith((".dist-info", ".egg-info", ".egg-link", ".pth")))
        except OSError:
            continue
        if names:
            h.update("\0".join(names).encode())
    _fingerprint.append(h.hexdigest())
    return _fingerprint[0]
