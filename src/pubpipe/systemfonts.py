"""The fonts installed on this machine, as one fingerprint for the caches' keys.

The same book prints differently with a font installed or removed (the faces it names, and the
fallbacks that draw the characters they lack), and an EPUB's drawn cover takes its faces from
the system too. So the output cache and the layout caches key on what fontconfig, which
WeasyPrint (through Pango) asks, would find: the path, size and modification time of every font
file it lists and of every configuration file it read (an alias or a preference changes which
face is chosen). It costs a few milliseconds: fontconfig loads its own cache of the font folders
(checked against their modification times) and the files are looked at, never read.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import hashlib
import os

__all__ = ["fingerprint"]

_SET_SYSTEM = 0  # FcSetSystem
_MATCH = 0  # FcResultMatch


class _FontSet(ctypes.Structure):
    _fields_ = [("nfont", ctypes.c_int), ("sfont", ctypes.c_int),
                ("fonts", ctypes.POINTER(ctypes.c_void_p))]


_lib: list = []


def _fontconfig():
    """libfontconfig with the signatures used here (None when it cannot be loaded)."""
    if not _lib:
        try:
            fc = ctypes.CDLL(ctypes.util.find_library("fontconfig") or "libfontconfig.so.1")
            fc.FcInitLoadConfigAndFonts.restype = ctypes.c_void_p
            fc.FcConfigDestroy.argtypes = [ctypes.c_void_p]
            fc.FcConfigGetFonts.restype = ctypes.POINTER(_FontSet)
            fc.FcConfigGetFonts.argtypes = [ctypes.c_void_p, ctypes.c_int]
            fc.FcPatternGetString.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int,
                                              ctypes.POINTER(ctypes.c_char_p)]
            fc.FcConfigGetConfigFiles.restype = ctypes.c_void_p
            fc.FcConfigGetConfigFiles.argtypes = [ctypes.c_void_p]
            fc.FcStrListNext.restype = ctypes.c_char_p
            fc.FcStrListNext.argtypes = [ctypes.c_void_p]
            fc.FcStrListDone.argtypes = [ctypes.c_void_p]
        except (OSError, AttributeError):
            fc = None
        _lib.append(fc)
    return _lib[0]


def _files(fc) -> tuple[list[bytes], list[bytes]]:
    """The font files and the configuration files of a fresh fontconfig configuration (read
    from the environment now, as WeasyPrint's own is)."""
    config = fc.FcInitLoadConfigAndFonts()
    if not config:
        return [], []
    try:
        fonts: set[bytes] = set()
        found = fc.FcConfigGetFonts(config, _SET_SYSTEM)
        if found:
            fs = found.contents
            value = ctypes.c_char_p()
            for i in range(fs.nfont):
                if fc.FcPatternGetString(fs.fonts[i], b"file", 0, ctypes.byref(value)) == _MATCH \
                        and value.value:
                    fonts.add(value.value)
        configs: list[bytes] = []
        listing = fc.FcConfigGetConfigFiles(config)
        if listing:
            try:
                while (name := fc.FcStrListNext(listing)) is not None:
                    configs.append(name)
            finally:
                fc.FcStrListDone(listing)
        return sorted(fonts), sorted(set(configs))
    finally:
        fc.FcConfigDestroy(config)


def fingerprint() -> str:
    """SHA-256 of the installed fonts and fontconfig's configuration (see the module
    docstring); computed afresh on each call (a ``pubpipe watch`` sees a font installed)."""
    fc = _fontconfig()
    if fc is None:
        return "no fontconfig"
    fonts, configs = _files(fc)
    h = hashlib.sha256()
    for kind, paths in ((b"font", fonts), (b"config", configs)):
        for path in paths:
            try:
                st = os.stat(path)
                state = b"%d:%d" % (st.st_size, st.st_mtime_ns)
            except OSError:
                state = b"missing"
            h.update(kind + b"\0" + path + b"\0" + state + b"\n")
    return h.hexdigest()
