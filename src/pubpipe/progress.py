"""Progress of a build's stages, and how long each took.

Three modes: ``tty`` (transient rich bars on stderr, for a terminal), ``lines`` (one line per
finished stage on stderr, for logs and pipes), ``off`` (tests, library use). Whatever the mode,
``timings`` records each stage's wall time for the JSON report (and ``count`` other seconds,
such as the layout workers' CPU time).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO

Advance = Callable[[], None]


class Progress:
    def __init__(self, mode: str = "off", stream: TextIO | None = None):
        if mode not in ("tty", "lines", "off"):
            raise ValueError(f"unknown progress mode {mode!r}")
        self.mode = mode
        self.stream = stream or sys.stderr
        self.timings: dict[str, float] = {}
        self._rich = None  # one rich Progress shared by the bars of a build

    @classmethod
    def of(cls, mode: bool | str) -> Progress:
        """From BuildOptions.progress: True (a terminal) is "tty", False is "off"."""
        if isinstance(mode, bool):
            mode = "tty" if mode else "off"
        return cls(mode)

    @contextmanager
    def stage(self, name: str, total: int = 0, unit: str = "") -> Iterator[Advance]:
        """Time a stage; the advance() it yields counts one of its total steps."""
        t0 = time.perf_counter()
        done = [0]
        bar = None
        if self.mode == "tty" and total:
            bar = self._bar(name, total)

        def advance() -> None:
            done[0] += 1
            if bar is not None:
                bar()

        try:
            yield advance
        finally:
            if bar is not None:
                self._finish_bar()
            seconds = time.perf_counter() - t0
            self.timings[name] = round(self.timings.get(name, 0.0) + seconds, 3)
            if self.mode == "lines" or (self.mode == "tty" and seconds >= 1.0):
                count = f" ({done[0]} {unit})" if unit and done[0] else ""
                print(f"pubpipe: {name}{count}: {seconds:.1f} s", file=self.stream, flush=True)

    def count(self, name: str, seconds: float) -> None:
        """Add to a timing that is not a stage's wall time (the CPU time of the layout's
        worker processes: "layout cpu")."""
        self.timings[name] = round(self.timings.get(name, 0.0) + seconds, 3)

    def _bar(self, name: str, total: int) -> Advance:
        from rich.console import Console
        from rich.progress import (BarColumn, MofNCompleteColumn, Progress as RichProgress,
                                   TextColumn, TimeElapsedColumn)

        self._rich = RichProgress(TextColumn("{task.description}"), BarColumn(),
                                  MofNCompleteColumn(), TimeElapsedColumn(), transient=True,
                                  console=Console(file=self.stream))
        task = self._rich.add_task(name, total=total)
        self._rich.start()
        rich = self._rich
        return lambda: rich.advance(task)

    def _finish_bar(self) -> None:
        if self._rich is not None:
            self._rich.stop()
            self._rich = None
