"""Where pubpipe's own files (stylesheets, ICC profiles, fonts lists) live."""

from __future__ import annotations

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
