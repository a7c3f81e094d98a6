"""The ``prosper-mock`` command line."""

from prosper_mock.cli.program import main

__all__ = ["main"]
