"""Which tests are ``slow``: those that start a process or an inner pytest run.

The fast tier (``make test-fast``: ``pytest -m "not slow"``) is everything else: the
in-process tests, mock servers on threads included. A test is slow when it requests
``pytester``, or when its code, the functions of the ``tests`` package it calls
(followed through, imported at the top or inside the function) or its fixtures
use ``subprocess``, ``venv`` or ``multiprocessing``, or fork (``tests.clirun.serve`` and
``tests.clirun.run`` among them). A test can also be marked ``@pytest.mark.slow`` by hand.
"""

from __future__ import annotations

import importlib
import inspect
import sys
import types
from collections.abc import Iterable, Iterator
from typing import Any

PROCESS_MODULES = frozenset({"subprocess", "venv", "multiprocessing"})
FORKS = frozenset({"fork", "forkpty"})  # os.fork, pty.fork, ...
INNER_RUN_FIXTURES = frozenset({"pytester", "testdir"})


def _codes(code: types.CodeType) -> Iterator[types.CodeType]:
    """``code`` and the code of the functions and lambdas defined inside it."""
    yield code
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _codes(const)


def reaches_a_process(function: Any, seen: set[int] | None = None) -> bool:
    """Whether ``function`` uses a process module, itself or through a function of ``tests``."""
    function = inspect.unwrap(function)
    code = getattr(function, "__code__", None)
    if code is None or id(function) in (seen := seen if seen is not None else set()):
        return False
    seen.add(id(function))
    module_namespace = getattr(function, "__globals__", {})
    for each in _codes(code):
        names = set(each.co_names)
        if names & (PROCESS_MODULES | FORKS):  # e.g. an import inside the function
            return True
        # a function imported inside the function: ``from tests.clirun import serve``
        namespaces = [module_namespace] + [
            vars(module) for name in sorted(names) if (module := _tests_module(name)) is not None
        ]
        for name in names:
            for namespace in namespaces:
                if _reaches(namespace.get(name), seen):
                    return True
    return False


def _tests_module(name: str) -> types.ModuleType | None:
    """The module of the ``tests`` package that ``name`` names, if it is one."""
    if not name.startswith("tests."):
        return None
    try:
        return sys.modules.get(name) or importlib.import_module(name)
    except ImportError:
        return None


def _reaches(found: Any, seen: set[int]) -> bool:
    if isinstance(found, types.ModuleType):
        return found.__name__ in PROCESS_MODULES
    if getattr(found, "__module__", None) in PROCESS_MODULES:  # from subprocess import run
        return True
    return (
        inspect.isfunction(found)
        and str(found.__module__).startswith("tests")
        and reaches_a_process(found, seen)
    )


def _fixture_functions(item: Any) -> Iterable[Any]:
    info = getattr(item, "_fixtureinfo", None)
    for definitions in getattr(info, "name2fixturedefs", {}).values():
        for definition in definitions:
            yield definition.func


def is_slow(item: Any) -> bool:
    """Whether the collected test ``item`` belongs to the slow tier."""
    if INNER_RUN_FIXTURES & set(getattr(item, "fixturenames", ())):
        return True
    functions = [getattr(item, "function", None), *_fixture_functions(item)]
    return any(f is not None and reaches_a_process(f) for f in functions)
