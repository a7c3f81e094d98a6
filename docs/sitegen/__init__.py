"""The reference pages' generated parts, built from the code at every ``mkdocs build``.

A page under ``docs/`` holds a line ``<!-- generate: NAME -->``; ``docs/hooks.py``
replaces it with ``GENERATORS[NAME]()``, so the tables follow the parsers, the rule
registry, the control API's OpenAPI document, the pytest plugins and the ``prosper``
fixture's class without a copy to keep.
"""

from __future__ import annotations

from collections.abc import Callable

from sitegen.cli import cli_reference
from sitegen.control import control_reference
from sitegen.fixture import fixture_reference
from sitegen.pytest_options import pytest_options_reference
from sitegen.rules import rules_reference

GENERATORS: dict[str, Callable[[], str]] = {
    "cli": cli_reference,
    "control-api": control_reference,
    "pytest-fixture": fixture_reference,
    "pytest-options": pytest_options_reference,
    "rules": rules_reference,
}
