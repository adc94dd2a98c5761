"""The one door for output files: atomic writes, so a failed build never leaves a half file."""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import BuildError
from ..util import atomic_write


def write_atomic(target: Path, data: bytes) -> None:
    """Write data to target via a temporary file in the same folder and an atomic rename."""
    target = Path(target)
    umask = os.umask(0)
    os.umask(umask)
    try:
        atomic_write(target, data, mode=0o666 & ~umask, sync=True)  # outputs are ordinary files
    except OSError as e:
        raise BuildError(f"cannot write {target}: {e.strerror or e}") from None
