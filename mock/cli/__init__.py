"""The ``prosper-mock`` command line."""

from prosper_mock.cli.commands import main

__all__ = ["main"]
