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


_CTRL_C = """
import os, signal, time
from pubpipe.layout import workers
workers.prestart()
time.sleep(0.3)  # the forkserver is importing its preload (WeasyPrint: a second or more)
me = str(os.getpid())
for pid in os.listdir("/proc"):
    try:
        stat = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        cmd = open(f"/proc/{pid}/cmdline", "rb").read()
    except OSError:
        continue
    if stat[1] == me and b"forkserver" in cmd:
        os.kill(int(pid), signal.SIGINT)  # Ctrl-C reaches the terminal's whole process group
time.sleep(1)
print(workers.run(abs, [-3]))
workers.stop()
"""


@pytest.mark.skipif(workers.in_process() or not Path("/proc/self/stat").exists(),
                    reason="needs worker processes and /proc")
def test_ctrl_c_while_the_forkserver_warms_up_prints_no_traceback():
    """The forkserver is started before reading, and imports WeasyPrint for a second or more:
    a Ctrl-C then (sent to the whole process group) must not print a traceback from it."""
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    env.pop("PUBPIPE_PDF_INPROCESS", None)
    run = subprocess.run([sys.executable, "-c", _CTRL_C], capture_output=True, text=True,
                         env=env, timeout=120)
    assert "KeyboardInterrupt" not in run.stderr and "Traceback" not in run.stderr, run.stderr
    assert run.stdout.strip() == "[3]", (run.stdout, run.stderr)


_STAT = __import__("pathlib").Path("/proc/self/stat")


def _stat_fields(text: str) -> list[str]:
    return text.rsplit(")", 1)[1].split()


@pytest.mark.skipif(workers.in_process() or not _STAT.exists(), reason="needs workers and /proc")
def test_background_workers_yield_to_the_build():
    """Images processed while the chapters are read run below the build's own priority (work
    goes on whenever a core is free), so that the reader, which the layout waits for, is not
    slowed to a share of a core."""
    import functools

    runner = workers.Background(1)
    got = []
    runner.submit(functools.partial(os.getpriority, os.PRIO_PROCESS), 0, got.append)
    runner.drain()
    assert got == [os.getpriority(os.PRIO_PROCESS, 0) + workers.BACKGROUND_NICE]


_FORK_NOW = """
import os, pathlib
from pubpipe.layout import workers
runner = workers.Background(2, fork_now=True)
got = []
for _ in range(3):
    runner.submit(pathlib.Path.read_text, pathlib.Path("/proc/self/stat"), got.append)
runner.drain()
ppids = {int(text.rsplit(")", 1)[1].split()[1]) for text in got}
print(ppids == {os.getpid()}, len(got), len(__import__("multiprocessing").active_children()))
"""


@pytest.mark.skipif(workers.in_process() or not _STAT.exists(), reason="needs workers and /proc")
def test_background_workers_are_forked_at_once_from_a_single_thread():
    """Started at once by forking the build (no wait for the forkserver's warm-up), and ended
    when the jobs are drained."""
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    env.pop("PUBPIPE_PDF_INPROCESS", None)
    out = subprocess.run([sys.executable, "-c", _FORK_NOW], capture_output=True, text=True,
                         env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["True", "3", "0"]


_TERM = """
import os, signal, sys, time
from pubpipe import cli
from pubpipe.layout import workers
signal.signal(signal.SIGTERM, cli._terminated)  # as `pubpipe build` has it
runner = workers.Background(1, fork_now=True)
got = []
runner.submit(os.getpgid, 0, got.append)  # a worker is up
while not got:
    time.sleep(0.01)
pid = [p for p in __import__("multiprocessing").active_children()][0].pid
os.kill(pid, signal.SIGTERM)
time.sleep(1)
runner.cancel()
"""


@pytest.mark.skipif(workers.in_process() or not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_background_worker_ends_quietly_on_sigterm():
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    env.pop("PUBPIPE_PDF_INPROCESS", None)
    out = subprocess.run([sys.executable, "-c", _TERM], capture_output=True, text=True, env=env,
                         timeout=120)
    assert out.returncode == 0 and "Traceback" not in out.stderr, out.stderr
