"""One command timed in a child process: wall time and the peak RSS of its largest process.

Shared by the benchmarks; each build runs in a fresh process so its peak memory is its own.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

_MEASURE = r"""
import json, resource, subprocess, sys, time
t0 = time.monotonic()
r = subprocess.run(sys.argv[2:], capture_output=True, text=True)
elapsed = time.monotonic() - t0
peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"rc": r.returncode, "seconds": elapsed, "peak_mb": peak_kb / 1024,
                  "stderr": r.stderr[-int(sys.argv[1]):]}))
"""


def measure(cmd: list[str], *, env: dict | None = None, cwd: Path | None = None,
            stderr_tail: int = 3000) -> dict:
    """{"rc", "seconds", "peak_mb", "stderr" (its last stderr_tail characters)} of cmd."""
    r = subprocess.run([sys.executable, "-c", _MEASURE, str(stderr_tail), *cmd],
                       capture_output=True, text=True, check=True, env=env, cwd=cwd)
    return json.loads(r.stdout)
