"""The layout's worker pool (layout/workers.py): a stuck worker is noticed and replaced, and the
workers start with no signal held, whoever started their forkserver."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pubpipe import budget
from pubpipe.layout import workers

REPO = Path(__file__).resolve().parents[1]


def _stuck_once(marker: str) -> str:
    """Blocks without using CPU the first time (as a worker deadlocked in a C library does)."""
    if not os.path.exists(marker):
        Path(marker).touch()
        time.sleep(3600)
    return "laid out"


@pytest.mark.skipif(workers.in_process() or not Path("/proc/self/stat").exists(),
                    reason="needs worker processes and /proc")
def test_a_stuck_worker_is_replaced_not_waited_for(tmp_path, monkeypatch):
    monkeypatch.setattr(workers, "STALL_SECONDS", 1.0, raising=False)
    marker = str(tmp_path / "stuck")
    started = time.monotonic()
    try:
        # the budget only bounds this test where the pool waits for the stuck worker
        with budget.limit(30):
            got = workers.run(_stuck_once, [marker])
    finally:
        workers.stop()
    assert got == ["laid out"]
    assert time.monotonic() - started < 25


_MASK = """
import functools, signal, sys
from pubpipe.layout import workers
workers.PRELOAD = []  # no forkserver yet: the first worker starts it
got = workers.run(functools.partial(signal.pthread_sigmask, signal.SIG_BLOCK), [[], []])
workers.stop()
print(sorted(int(s) for mask in got for s in mask))
"""


@pytest.mark.skipif(workers.in_process() or not hasattr(__import__("signal"), "pthread_sigmask"),
                    reason="needs worker processes and signal masks")
def test_workers_start_with_no_signal_held():
    """A forkserver started while a worker starts (no prestart) must not pass the held budget
    signal on to every worker."""
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    env.pop("PUBPIPE_PDF_INPROCESS", None)
    out = subprocess.run([sys.executable, "-c", _MASK], capture_output=True, text=True,
                         env=env, timeout=120, check=True).stdout
    assert out.strip() == "[]", out
