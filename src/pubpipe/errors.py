"""Exceptions that end a build, each mapped to an exit code by the CLI.

An error carries the diagnostics collected up to the moment it was raised, so the CLI can print
(and a report can record) what led to it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .document import Diagnostics


class PubpipeError(Exception):
    exit_code = 1

    def __init__(self, message: str = "", diagnostics: Diagnostics | None = None):
        super().__init__(message)
        if diagnostics is None:
            from .document import Diagnostics

            diagnostics = Diagnostics()
        self.diagnostics: Diagnostics = diagnostics


class ConfigError(PubpipeError):
    """Bad usage or configuration: exit code 2."""

    exit_code = 2


class BuildError(PubpipeError):
    """The build failed: exit code 1. No output file is written."""

    exit_code = 1
