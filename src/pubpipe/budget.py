"""The time budget of one build: a deadline, and what the build is doing when it runs out.

``with budget.limit(seconds):`` arms a timer (SIGALRM, on the main thread where there is one);
when the budget is spent, ``BuildTimeout`` is raised wherever the build is, naming what it was
doing (``budget.doing("reading post.md")``). Worker processes get the deadline (``deadline()``)
and end themselves at it. Nothing here imports the rest of pubpipe.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from contextlib import contextmanager

from .errors import BuildError

_state = {"deadline": 0.0, "limit": 0.0, "doing": "starting"}


class BuildTimeout(BuildError):
    """The build took longer than its time budget."""


def doing(what: str) -> None:
    """Say what the build does now (named if the budget runs out during it)."""
    _state["doing"] = what


def activity() -> str:
    return _state["doing"]


def deadline() -> float:
    """The budget's end as a time.time() value, or 0 when no budget is armed."""
    return _state["deadline"]


def _expired(*_args) -> None:
    raise BuildTimeout(f"the build took longer than its time budget ({_state['limit']:g} s,"
                       f" --time-limit) while {_state['doing']}; nothing written")


@contextmanager
def limit(seconds: float | None):
    usable = (seconds and seconds > 0 and hasattr(signal, "setitimer")
              and threading.current_thread() is threading.main_thread()
              and not _state["deadline"])
    if not usable:
        _state["doing"] = "starting"
        yield
        return
    old = signal.signal(signal.SIGALRM, _expired)
    _state.update(deadline=time.time() + seconds, limit=seconds, doing="starting")
    # then again every second: an exception raised where Python cannot pass it on (a garbage
    # collector callback, a __del__) is lost, and the next one ends the build all the same
    signal.setitimer(signal.ITIMER_REAL, seconds, 1.0)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
        _state["deadline"] = 0.0  # what it was doing stays, for the message of an error


def watch_from_worker(parent_pid: int, until: float = 0.0) -> None:
    """In a worker process: end it (exit status 3) when the build's process is gone or the
    budget's deadline has passed, so no worker outlives the build that started it."""
    try:  # Linux: the kernel kills this process when its parent (the forkserver) ends
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass

    def watch() -> None:
        while True:
            time.sleep(0.25)
            gone = False
            try:
                os.kill(parent_pid, 0)
            except ProcessLookupError:
                gone = True
            except PermissionError:
                pass
            if gone or os.getppid() == 1 or (until and time.time() > until):
                os._exit(3)

    threading.Thread(target=watch, name="pubpipe-watchdog", daemon=True).start()
