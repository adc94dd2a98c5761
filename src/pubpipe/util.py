"""Small helpers shared by several stages."""

from __future__ import annotations

import re
import threading
import unicodedata
from pathlib import Path


def slugify(text: str, max_len: int = 60) -> str:
    """ASCII slug for file names and ids: 'Blog post 2: China' -> 'blog-post-2-china'."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    text = re.sub(r"[^a-zA-Z0-9]+", "-", text).strip("-").lower()
    return text[:max_len].rstrip("-")


_LANG = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")
# ISO 639-1, the two-letter languages (and the withdrawn codes still in use: iw, in, ji, jw, mo,
# sh). A two-letter tag outside it ("jp", "cn", "xx") names no language: screen readers and Ace
# by DAISY (valid-lang) reject it. Three-letter tags (ISO 639-2/3) are taken as they are.
_ISO639_1 = frozenset("""
aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu cv cy da
de dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht hu hy hz
ia id ie ig ii ik in io is it iu iw ja ji jv jw ka kg ki kj kk kl km kn ko kr ks ku kv kw ky la
lb lg li ln lo lt lu lv mg mh mi mk ml mn mo mr ms mt my na nb nd ne ng nl nn no nr nv ny oc oj
om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg sh si sk sl sm sn so sq sr ss st su sv
sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve vi vo wa wo xh yi yo za zh zu
""".split())


def normalize_lang(value) -> str | None:
    """A BCP 47 language tag as EPUB requires ('en_US' -> 'en-US'), or None if it is not one
    (not the shape of a tag, or a two-letter language that does not exist)."""
    tag = str(value or "").strip().replace("_", "-")
    if not _LANG.match(tag):
        return None
    primary = tag.split("-")[0].lower()
    return tag if len(primary) == 3 or primary in _ISO639_1 else None


_HIDDEN = {"{http://www.w3.org/1998/Math/MathML}annotation",
           "{http://www.w3.org/1998/Math/MathML}annotation-xml", "annotation", "annotation-xml"}


def text_of(el) -> str:
    """All text a reader sees inside an lxml element, whitespace folded (a formula's TeX
    annotation is not shown)."""
    parts: list[str] = []

    def walk(node) -> None:
        if node.tag in _HIDDEN:
            return
        if isinstance(node.tag, str) and node.text:
            parts.append(node.text)
        for child in node:
            walk(child)
            if child.tail:
                parts.append(child.tail)

    walk(el)
    return " ".join("".join(parts).split())


def remove_keep_tail(el, separate: bool = False) -> None:
    """Remove an lxml element but keep the text that follows it (its tail) in place.
    separate: the element was a block, which kept the words on its two sides apart; they stay
    apart (a space between them when neither side has one)."""
    parent = el.getparent()
    if parent is None:
        return
    if el.tail:
        prev = el.getprevious()
        before = (prev.tail if prev is not None else parent.text) or ""
        tail = el.tail
        if separate and before and not before[-1].isspace() and not tail[0].isspace():
            tail = " " + tail
        if prev is not None:
            prev.tail = before + tail
        else:
            parent.text = before + tail
    parent.remove(el)


def replace_with_text(el, text: str) -> None:
    """Replace an lxml element by plain text (followed by its tail)."""
    el.tail = text + (el.tail or "")
    remove_keep_tail(el)


def unique_name(base: str, taken: set[str]) -> str:
    """base, or base-2, base-3 ... : the first not in taken (which then holds it too)."""
    new, n = base, 2
    while new in taken:
        new, n = f"{base}-{n}", n + 1
    taken.add(new)
    return new


def ids_in(tree) -> set[str]:
    """Every id used in an lxml tree."""
    return {el.get("id") for el in tree.iter() if isinstance(el.tag, str) and el.get("id")}


def atomic_write(path, data: bytes, mode: int | None = None, sync: bool = False) -> None:
    """Write data to path via a temporary file in the same folder and a rename, so a reader (or
    a killed build) never sees half a file. mode: permission bits (default: 0600 of mkstemp);
    sync: on disk before the rename (outputs). Raises OSError."""
    import os

    tmp = write_temp(path, data, mode, sync)
    try:
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_temp(path, data: bytes, mode: int | None = None, sync: bool = False) -> Path:
    """data in a new temporary file beside path (named after it and this process, so that
    remove_stale_temp_files can tell a killed build's leftovers); the caller renames it."""
    import os
    import tempfile

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp",
                               dir=path.parent)
    try:
        if mode is not None:
            os.chmod(tmp, mode)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            if sync:
                f.flush()
                os.fsync(f.fileno())
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return Path(tmp)


def remove_stale_temp_files(folder) -> int:
    """Delete temporary files a killed build left in folder (their process is gone); returns
    how many. Files of a build still running are left alone."""
    import os
    import time

    removed = 0
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return 0
    for entry in entries:
        name = entry.name
        if not (name.startswith(".") and name.endswith(".tmp")) or not entry.is_file(
                follow_symlinks=False):
            continue
        parts = name[:-4].rsplit(".", 2)
        pid = int(parts[1]) if len(parts) == 3 and parts[1].isdigit() else 0
        if pid:
            try:
                os.kill(pid, 0)
                continue  # that build is still running
            except ProcessLookupError:
                pass
            except PermissionError:
                continue
        else:
            try:  # an older name without the process: only when surely abandoned
                if time.time() - entry.stat(follow_symlinks=False).st_mtime < 3600:
                    continue
            except OSError:
                continue
        try:
            os.unlink(entry.path)
            removed += 1
        except OSError:
            pass
    return removed


# Languages written right to left (primary subtags).
RTL_LANGUAGES = frozenset({"ar", "he", "iw", "fa", "ur", "yi", "ps", "sd", "ug", "dv", "ckb",
                           "syr"})


# Languages written in Arabic script (primary subtags); others (ku, pa, az...) when tagged -Arab.
ARABIC_SCRIPT_LANGUAGES = ("ar", "fa", "ur", "ps", "sd", "ug", "ckb", "ks", "azb", "bal", "prs",
                           "glk", "mzn", "lrc", "bqi")


def is_rtl(lang: str | None) -> bool:
    """Whether a BCP 47 tag names a right-to-left language (Kurdish/Punjabi only in Arabic script)."""
    tag = (lang or "").lower()
    primary = tag.split("-")[0]
    return primary in RTL_LANGUAGES or ("-arab" in tag and primary in ("ku", "pa"))


def long_date(iso: str, lang: str = "en") -> str:
    """An ISO date written out in lang, from CLDR (Babel): '2019-01-20' -> 'January 20, 2019'
    (en), '20. Januar 2019' (de), '2019年1月20日' (ja); '2019-01' -> 'January 2019'; anything not
    an ISO date is returned as it is. The one date formatter of the project (i18n.format_date)."""
    from .i18n import format_date

    return format_date(iso, lang or "en")


_URL_SAFE = "/:?#[]@!$&'()*+,;=~-._"


def valid_url(href: str) -> str | None:
    """href as a valid URL (what EPUBCheck and PDF readers accept), or None if it cannot be one.

    Characters a URL may not hold raw (spaces, quotes, non-ASCII) are percent-encoded; a '%' that
    does not start an escape becomes '%25'; a bad port or an unparseable host gives None."""
    from urllib.parse import quote, urlsplit

    href = href.strip()
    if not href:
        return None
    try:
        parts = urlsplit(href)
        if parts.port is not None and not 0 < parts.port < 65536:
            return None
    except ValueError:
        return None
    if parts.scheme and not re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*", parts.scheme):
        return None
    if parts.scheme.lower() in ("http", "https") and not parts.hostname:
        return None
    href = re.sub(r"%(?![0-9A-Fa-f]{2})", "%25", href)
    if href.count("#") > 1:  # only one fragment: later '#' are data
        head, frag = href.split("#", 1)
        href = head + "#" + frag.replace("#", "%23")
    return quote(href, safe=_URL_SAFE + "%")


def inside(root, path) -> Path | None:
    """PATH with symlinks followed, if it stays inside ROOT (itself resolved); else None.

    The one rule for what a build may read: chapters, images, covers and static folders are
    opened only through a path this returns, so a symlink cannot lead out of the book folder."""
    try:
        real = Path(path).resolve()
        base = Path(root).resolve()
    except (OSError, RuntimeError, ValueError):  # symlink loops, NUL bytes, names too long
        return None
    return real if real == base or real.is_relative_to(base) else None


class Draining:
    """For a runner of background jobs (assets.variants.Runner): counts the jobs submitted whose
    callback has not returned (``_open``, changed under ``_changed``, which is notified; a job
    ends with ``_finished``), and ``drain()`` waits for none to be left, then ends the runner
    (``_end``)."""

    def __init__(self) -> None:
        self._open = 0
        self._changed = threading.Condition()
        self._dropping = False  # cancelled: results no longer go to their callbacks

    def drain(self) -> None:
        with self._changed:
            while self._open:
                self._changed.wait()
        self._end()

    def _finished(self, done, result, dropped: bool = False) -> None:
        """A job is over: its result goes to its callback (unless dropped, or the runner is
        dropping results), then it no longer counts as open, whatever the callback did."""
        try:
            if not (dropped or self._dropping):
                done(result)
        finally:
            with self._changed:
                self._open -= 1
                self._changed.notify_all()

    def _end(self) -> None:
        raise NotImplementedError
