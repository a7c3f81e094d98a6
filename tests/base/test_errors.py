"""One error root: every error the kit defines is a ProsperMockError."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import prosper_contracts
import prosper_mock
from prosper_mock import ProsperMockError

# Signals that stay inside one function's reach and never reach a caller of the kit.
INTERNAL = {"prosper_mock.control.guard.BodyError"}


def kit_errors() -> set[type[BaseException]]:
    found: set[type[BaseException]] = set()
    for package in (prosper_mock, prosper_contracts):
        for info in pkgutil.walk_packages(package.__path__, f"{package.__name__}."):
            leaf = info.name.rsplit(".", 1)[-1]
            if leaf.startswith("test_") or leaf == "__main__":
                continue  # the contract suites (pytest modules) and the command's entry
            module = importlib.import_module(info.name)
            for _, value in inspect.getmembers(module, inspect.isclass):
                if issubclass(value, BaseException) and value.__module__ == info.name:
                    found.add(value)
    return found


def test_every_error_the_kit_defines_derives_from_the_root() -> None:
    errors = kit_errors()
    assert ProsperMockError in errors and len(errors) > 10  # the walk really found them
    strays = {
        f"{e.__module__}.{e.__qualname__}"
        for e in errors
        if not issubclass(e, ProsperMockError)
        and f"{e.__module__}.{e.__qualname__}" not in INTERNAL
    }
    assert strays == set()
