"""Exceptions that end a build, each mapped to an exit code by the CLI."""


class PubpipeError(Exception):
    exit_code = 1


class ConfigError(PubpipeError):
    """Bad usage or configuration: exit code 2."""

    exit_code = 2


class BuildError(PubpipeError):
    """The build failed: exit code 1. No output file is written."""

    exit_code = 1
