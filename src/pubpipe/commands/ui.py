"""What the commands print: quiet/verbose levels, and colour only on a terminal."""

from __future__ import annotations

import os
import sys
from typing import TextIO

_COLORS = {"red": "31", "yellow": "33", "green": "32", "dim": "2", "bold": "1", "cyan": "36"}


def _wants_color(stream: TextIO) -> bool:
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    return bool(getattr(stream, "isatty", lambda: False)())


class UI:
    """quiet: only errors and warnings; verbose: also details (every note, each step)."""

    def __init__(self, quiet: bool = False, verbose: bool = False, debug: bool = False):
        self.quiet, self.verbose, self.debug = quiet, verbose, debug
        self.out, self.err = sys.stdout, sys.stderr
        self.color_out, self.color_err = _wants_color(self.out), _wants_color(self.err)

    def paint(self, text: str, color: str, stream: TextIO | None = None) -> str:
        on = self.color_err if stream is self.err else self.color_out
        return f"\033[{_COLORS[color]}m{text}\033[0m" if on else text

    def say(self, text: str = "") -> None:
        """Ordinary progress and results (stdout); nothing under --quiet."""
        if not self.quiet:
            print(text, file=self.out, flush=True)

    def detail(self, text: str) -> None:
        if self.verbose and not self.quiet:
            print(self.paint(text, "dim"), file=self.out, flush=True)

    def error(self, text: str) -> None:
        print(self.paint("pubpipe: error:", "red", self.err) + " " + text, file=self.err, flush=True)

    def diagnostic(self, d) -> None:
        """One diagnostic line on stderr, its severity word coloured."""
        line = d.format()
        word = d.severity.name.lower()
        color = {"error": "red", "warning": "yellow"}.get(word, "dim")
        print(line.replace(f"{word}:", self.paint(f"{word}:", color, self.err), 1), file=self.err,
              flush=True)

    @property
    def progress(self) -> bool:
        """Progress bars only on a terminal, and not under --quiet."""
        return not self.quiet and self.err.isatty()
