"""Every collected test is reported on its own (tests/nodeids.py), schemathesis' items too."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parent.parent

# schemathesis' parametrize over a document of three operations: three items, three results.
SCHEMA_TEST = """
import schemathesis
from schemathesis.config import SchemathesisConfig

SCHEMA = schemathesis.openapi.from_dict(
    {
        "openapi": "3.1.0",
        "info": {"title": "t", "version": "1"},
        "paths": {
            "/a": {"get": {"responses": {"200": {"description": "ok"}}}},
            "/b": {"get": {"responses": {"200": {"description": "ok"}}},
                   "delete": {"responses": {"204": {"description": "gone"}}}},
        },
    },
    config=SchemathesisConfig.from_dict({"generation": {"max-examples": 1}}),
)


@SCHEMA.parametrize()
def test_operation(case):
    assert case.path in ("/a", "/b")
"""


def run_schema_test(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makepyfile(test_schema=SCHEMA_TEST)
    pytester.syspathinsert(ROOT)  # where -p finds tests.nodeids
    return pytester.runpytest("-p", "no:cacheprovider", "-p", "no:randomly", *args)


def test_each_schemathesis_operation_gets_its_own_node_id(pytester: pytest.Pytester) -> None:
    done = run_schema_test(pytester, "-p", "tests.nodeids", "--collect-only", "-q")
    ids = [line for line in done.outlines if line.startswith("test_schema.py::")]
    assert ids == [
        "test_schema.py::test_operation[GET /a]",
        "test_schema.py::test_operation[GET /b]",
        "test_schema.py::test_operation[DELETE /b]",
    ]


def test_each_schemathesis_operation_is_reported_under_xdist(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTHONPATH", str(ROOT))  # the workers import tests.nodeids too
    done = run_schema_test(pytester, "-p", "tests.nodeids", "-n", "2", "-rA")
    done.assert_outcomes(passed=3)
    reported = {line.split(" ", 1)[1] for line in done.outlines if line.startswith("PASSED ")}
    assert reported == {
        "test_schema.py::test_operation[GET /a]",
        "test_schema.py::test_operation[GET /b]",
        "test_schema.py::test_operation[DELETE /b]",
    }


def item(nodeid: str) -> Any:
    return SimpleNamespace(nodeid=nodeid)


@given(st.lists(st.sampled_from(["a::t", "a::t[1]", "b::t", "b::u"]), max_size=8))
def test_repeated_node_ids_are_those_found_more_than_once(ids: list[str]) -> None:
    from tests.nodeids import repeated_node_ids

    repeated = repeated_node_ids([item(i) for i in ids])
    assert repeated == sorted({i for i in ids if ids.count(i) > 1})


def test_a_suite_whose_ids_repeat_stops_at_collection(quiet_pytester: pytest.Pytester) -> None:
    pytester = quiet_pytester
    pytester.makeconftest(
        """
import pytest

class Twin(pytest.Item):
    def runtest(self):
        pass

class Twins(pytest.File):
    def collect(self):
        # two items of one name: one node id, however they are named
        yield Twin.from_parent(self, name="twin")
        yield Twin.from_parent(self, name="twin")

def pytest_collect_file(file_path, parent):
    if file_path.suffix == ".twins":
        return Twins.from_parent(parent, path=file_path)
"""
    )
    pytester.makefile(".twins", "")
    pytester.syspathinsert(ROOT)
    done = pytester.runpytest("-p", "no:cacheprovider", "-p", "tests.nodeids")
    assert done.ret == pytest.ExitCode.USAGE_ERROR
    assert "tests collected under the same node id: [" in done.stderr.str()
    assert ".twins::twin']" in done.stderr.str()
