"""The rule that puts a test in the slow tier (tests/tiers.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from types import SimpleNamespace
from typing import Any

import pytest

from tests.clirun import run
from tests.tiers import is_slow, reaches_a_process


def starts_a_process() -> None:
    subprocess.run([sys.executable, "-c", "pass"], check=True)


def calls_a_function_that_does() -> None:
    starts_a_process()


def calls_clirun_run() -> None:
    run(["--version"])


def imports_clirun_serve_inside() -> None:
    from tests.clirun import serve

    with serve():
        pass


def forks() -> None:
    if os.fork() == 0:
        os._exit(0)


def in_process() -> None:
    assert sorted([2, 1]) == [1, 2]


def one_of_two(again: bool = True) -> None:  # calls itself: the search ends
    if again:
        one_of_two(False)


def sample(name: str) -> Any:
    # By name: a test that named them in its code would itself reach a process.
    return globals()[name]


def test_a_process_is_found_through_the_functions_called_and_imports() -> None:
    for name in (
        "starts_a_process",
        "calls_a_function_that_does",
        "calls_clirun_run",
        "imports_clirun_serve_inside",
        "forks",
    ):
        assert reaches_a_process(sample(name)), name
    assert not reaches_a_process(sample("in_process"))
    assert not reaches_a_process(sample("one_of_two"))


def item(function: Any, fixturenames: tuple[str, ...] = (), fixtures: tuple[Any, ...] = ()) -> Any:
    definitions = {f.__name__: [SimpleNamespace(func=f)] for f in fixtures}
    return SimpleNamespace(
        function=function,
        fixturenames=fixturenames,
        _fixtureinfo=SimpleNamespace(name2fixturedefs=definitions),
    )


def test_a_test_is_slow_by_its_code_its_fixtures_or_pytester() -> None:
    fast = sample("in_process")
    assert is_slow(item(sample("starts_a_process")))
    assert is_slow(item(fast, fixtures=(sample("calls_clirun_run"),)))
    assert is_slow(item(fast, fixturenames=("quiet_pytester", "pytester")))
    assert not is_slow(item(fast, fixturenames=("tmp_path",), fixtures=(fast,)))


def test_the_suite_s_own_tests_fall_in_the_expected_tier() -> None:
    from tests.cli import test_cli
    from tests.contracts import test_rules

    assert reaches_a_process(test_cli.test_version_and_help)  # through run_cli
    assert reaches_a_process(test_cli.test_serve_binds_loopback_and_logs_one_line_per_request)
    assert not reaches_a_process(test_cli.test_bad_values_are_refused_when_parsed_in_one_line)
    assert not reaches_a_process(test_rules.test_json_body)


def test_the_slow_tier_is_run_first(request: pytest.FixtureRequest) -> None:
    slow = [item.get_closest_marker("slow") is not None for item in request.session.items]
    assert slow == sorted(slow, reverse=True)  # every slow test before every other
