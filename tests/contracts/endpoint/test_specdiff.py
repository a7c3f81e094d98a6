"""Spec drift: changes are found and classed breaking or not; exit codes say which."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from prosper_contracts.endpoint.specdiff import diff, spec_from_document
from prosper_mock.serving.spec import load_spec
from tests.clirun import main_error, one_line_error, run

OP = ("paths", "/api/v1/live-calls", "get")


def changed(edit: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    document = copy.deepcopy(load_spec().document)
    edit(document)
    return document


def operation(document: dict[str, Any]) -> dict[str, Any]:
    return document["paths"]["/api/v1/live-calls"]["get"]


def param(name: str, required: bool = False, kind: str = "string") -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required, "schema": {"type": kind}}


CASES = [
    ("removed parameter", lambda d: operation(d)["parameters"].pop(0),
     "query key", "parameter removed", True),
    ("added optional parameter", lambda d: operation(d)["parameters"].append(param("limit")),
     "query limit", "optional parameter added", False),
    ("added required parameter",
     lambda d: operation(d)["parameters"].append(param("tenant", required=True)),
     "query tenant", "required parameter added", True),
    ("type narrowed", lambda d: operation(d)["parameters"][0].__setitem__(
        "schema", {"type": "string"}), "query key", "type narrowed", True),
    ("now required", lambda d: operation(d)["parameters"][2].__setitem__("required", True),
     "query call_log_id", "now required", True),
    ("description only", lambda d: operation(d)["parameters"][0]["schema"].__setitem__(
        "description", "reworded"), None, None, False),
    ("removed operation", lambda d: d["paths"].pop("/api/v1/live-calls"),
     "GET /api/v1/live-calls", "operation removed", True),
    ("added operation", lambda d: d["paths"].__setitem__("/api/v1/calls", {"get": {
        "operationId": "calls", "responses": {"200": {"description": "ok"}}}}),
     "GET /api/v1/calls", "operation added", False),
    ("removed 200", lambda d: operation(d)["responses"].pop("200"),
     "200", "response removed", True),
    ("response field removed", lambda d: d["components"]["schemas"]["HTTPValidationError"][
        "properties"].pop("detail"), "422", "field 'detail' removed", True),
]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "edit", "where", "what", "breaking"), CASES, ids=[c[0] for c in CASES]
)
def test_changes_are_classed(
    name: str, edit: Callable, where: str | None, what: str | None, breaking: bool
) -> None:
    old = load_spec()
    changes = diff(old, spec_from_document(changed(edit)))
    if where is None:
        assert changes == []
        return
    match = [c for c in changes if where in c.where and what in c.what]
    assert match, changes
    assert match[0].breaking is breaking
    assert any(c.breaking for c in changes) is breaking


def test_identical_specs_have_no_changes() -> None:
    assert diff(load_spec(), spec_from_document(copy.deepcopy(load_spec().document))) == []


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "prosper_mock", "spec", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_cli_exit_status_says_whether_anything_breaking_changed(tmp_path: Path) -> None:
    harmless = tmp_path / "harmless.json"
    harmless.write_text(
        json.dumps(changed(lambda d: operation(d)["parameters"].append(param("limit"))))
    )
    breaking = tmp_path / "breaking.json"
    breaking.write_text(json.dumps(changed(lambda d: operation(d)["parameters"].pop(0))))
    ok = cli("diff", "--file", str(harmless))
    assert ok.returncode == 0 and "optional parameter added" in ok.stdout
    bad = cli("diff", "--file", str(breaking))
    assert bad.returncode == 1 and "BREAKING" in bad.stdout and "parameter removed" in bad.stdout
    missing = cli("diff", "--file", str(tmp_path / "nope.json"))
    assert (
        missing.returncode == 2 and f"cannot read spec {tmp_path / 'nope.json'}" in missing.stderr
    )


def test_update_replaces_the_vendored_file_after_showing_the_diff(tmp_path: Path) -> None:
    vendored = tmp_path / "openapi.json"
    vendored.write_bytes(load_spec().raw)
    newer = tmp_path / "newer.json"
    newer_doc = changed(lambda d: operation(d)["parameters"].append(param("limit")))
    newer.write_text(json.dumps(newer_doc))
    refused = subprocess.run(
        [
            sys.executable,
            "-m",
            "prosper_mock",
            "spec",
            "update",
            "--file",
            str(newer),
            "--vendored",
            str(vendored),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert refused.returncode == 2 and "--yes" in refused.stderr
    assert vendored.read_bytes() == load_spec().raw
    done = cli("update", "--file", str(newer), "--vendored", str(vendored), "--yes")
    assert done.returncode == 0 and "optional parameter added" in done.stdout
    assert json.loads(vendored.read_text()) == newer_doc


@pytest.mark.parametrize(
    "content",
    [b"{}", b'{"openapi": "3.1.0"}', b"[]", b"{nope", b"\xff", b"[" * 100_000],
)
def test_spec_diff_and_update_with_a_bad_file_are_one_line(
    tmp_path: Path, content: bytes, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_bytes(content)
    good = tmp_path / "good.json"
    good.write_bytes(load_spec().raw)
    for action in ("diff", "update"):
        line = main_error(["spec", action, "--file", str(bad), "--vendored", str(good)], capsys)
        assert str(bad) in line
    line = main_error(["spec", "diff", "--file", str(good), "--vendored", str(bad)], capsys)
    assert str(bad) in line
    assert good.read_bytes() == load_spec().raw


def test_spec_diff_without_openapi_is_one_line_from_the_command_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    line = one_line_error(run(["spec", "diff", "--file", str(bad)]))
    assert f"spec {bad} is not an OpenAPI document" in line


def test_a_breaking_update_that_succeeded_exits_0_and_says_it_was_breaking(tmp_path: Path) -> None:
    vendored = tmp_path / "openapi.json"
    vendored.write_bytes(load_spec().raw)
    breaking = tmp_path / "breaking.json"
    breaking_doc = changed(lambda d: operation(d)["parameters"].pop(0))
    breaking.write_text(json.dumps(breaking_doc))
    done = cli("update", "--file", str(breaking), "--vendored", str(vendored), "--yes")
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(vendored.read_text()) == breaking_doc
    assert f"replaced {vendored.resolve()} (with a BREAKING change)" in done.stdout
    assert cli("diff", "--file", str(breaking)).returncode == 1  # diff stays the gate
