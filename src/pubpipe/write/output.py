"""The one door for output files: atomic writes, so a failed build never leaves a half file."""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import BuildError
from ..util import atomic_write, remove_stale_temp_files, write_temp

__all__ = ["write_atomic", "write_all", "check_target", "remove_stale_temp_files"]


def write_atomic(target: Path, data: bytes) -> None:
    """Write data to target via a temporary file in the same folder and an atomic rename."""
    target = Path(target)
    umask = os.umask(0)
    os.umask(umask)
    check_target(target)
    try:
        atomic_write(target, data, mode=0o666 & ~umask, sync=True)  # outputs are ordinary files
    except OSError as e:
        raise BuildError(f"cannot write {target}: {e.strerror or e}") from None


def check_target(target: Path) -> None:
    """Fail early, and in plain words, when an output cannot go where it is asked to."""
    target = Path(target).absolute()
    if target.is_dir():
        raise BuildError(f"cannot write {target}: a folder of that name is in the way")
    for folder in target.parents:
        if folder.exists():
            if not folder.is_dir():
                raise BuildError(f"cannot write {target}: {folder} is a file, not a folder")
            break


def check_writable(target: Path) -> None:
    """check_target, and a file can really be made in target's folder (made if missing): a
    report path in a read-only or virtual folder (/proc) fails before a build, not after."""
    check_target(target)
    try:
        write_temp(target, b"").unlink()
    except OSError as e:
        raise BuildError(f"cannot write {Path(target).absolute()}: {e.strerror or e}") from None


def write_all(files: dict[Path, bytes]) -> None:
    """Write several outputs all or none: every file goes to a temporary file first (on disk),
    and only when all are written are they renamed into place, one right after the other."""
    umask = os.umask(0)
    os.umask(umask)
    temps: list[tuple[Path, Path]] = []
    try:
        for target, data in files.items():
            check_target(target)
            try:
                temps.append((write_temp(target, data, mode=0o666 & ~umask, sync=True),
                              Path(target)))
            except OSError as e:
                raise BuildError(f"cannot write {target}: {e.strerror or e}") from None
        for tmp, target in temps:
            try:
                os.replace(tmp, target)
            except OSError as e:
                raise BuildError(f"cannot write {target}: {e.strerror or e}") from None
    finally:
        for tmp, _ in temps:
            tmp.unlink(missing_ok=True)
