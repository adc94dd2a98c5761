"""The one door for output files: atomic writes, so a failed build never leaves a half file."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from ..errors import BuildError


def write_atomic(target: Path, data: bytes) -> None:
    """Write data to target via a temporary file in the same folder and an atomic rename."""
    target = Path(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        try:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; outputs are ordinary files
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as e:
        raise BuildError(f"cannot write {target}: {e.strerror or e}") from None
