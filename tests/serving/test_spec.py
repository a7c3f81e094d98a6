"""Loading the vendored OpenAPI document and describing its operations."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest
from openapi_core import OpenAPI

from prosper_mock import SpecError, create_app, load_spec, vendored_spec_path
from prosper_mock.serving.spec import VENDORED_SHA256, Parameter, checked_spec

ROOT = Path(__file__).resolve().parents[2]


def test_the_vendored_spec_is_the_root_file_and_ships_in_the_package() -> None:
    assert vendored_spec_path().read_bytes() == (ROOT / "openapi.json").read_bytes()
    spec = load_spec()
    assert spec.raw == (ROOT / "openapi.json").read_bytes()
    assert spec.document == json.loads(spec.raw)


def test_the_vendored_spec_is_valid_openapi_and_its_digest_is_the_one_trusted() -> None:
    # A mock on the vendored bytes skips openapi-core's check: these are the bytes checked here.
    raw = vendored_spec_path().read_bytes()
    OpenAPI.from_dict(json.loads(raw))  # raises if it is not valid OpenAPI
    assert hashlib.sha256(raw).hexdigest() == VENDORED_SHA256, (
        "openapi.json changed: set VENDORED_SHA256 in mock/serving/spec.py to its sha256"
    )


def test_any_other_bytes_are_checked_even_when_they_parse_to_the_vendored_document() -> None:
    document = json.loads(vendored_spec_path().read_bytes())
    broken = {**document, "info": {"title": "no version"}}
    with pytest.raises(SpecError, match="is not valid OpenAPI"):
        checked_spec(broken, "edited.json")
    reformatted = json.dumps(document, indent=4).encode()  # other bytes: checked, and valid
    assert checked_spec(document, "copy.json", reformatted).document == document


def test_openapi_core_is_imported_only_when_asked_for() -> None:
    code = (
        "import sys; from prosper_mock import create_app, load_spec; create_app(); "
        "assert 'openapi_core' not in sys.modules, 'imported at start-up'; "
        "load_spec().openapi.spec; assert 'openapi_core' in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_openapi_core_validates_against_the_loaded_document() -> None:
    from openapi_core.testing import MockRequest

    api = load_spec().openapi
    api.validate_request(MockRequest("http://localhost", "get", "/api/v1/live-calls"))
    with pytest.raises(Exception, match="call_log_id"):
        api.validate_request(
            MockRequest("http://localhost", "get", "/api/v1/live-calls", args={"call_log_id": "x"})
        )


def test_operations_of_the_vendored_spec() -> None:
    ops = list(load_spec().operations())
    assert len(ops) == 16
    assert len({o.operation_id for o in ops}) == 16
    live = next(o for o in ops if o.path == "/api/v1/live-calls")
    assert (live.method, live.operation_id) == ("GET", "get_live_call_api_v1_live_calls_get")
    # The signature's order: FastAPI reports errors in it.
    assert [(p.name, p.location, p.required) for p in live.parameters] == [
        ("key", "query", False),
        ("value", "query", False),
        ("call_log_id", "query", False),
        ("user_phone_number", "query", False),
    ]
    assert live.parameters[2].schema["anyOf"] == [{"type": "integer"}, {"type": "null"}]
    assert live.documented_statuses == {"200", "422"}
    health = next(o for o in ops if o.path == "/api/v1/health")
    assert health.documented_statuses == {"200"}  # no parameter: nothing to refuse


def test_load_spec_is_cached_per_path() -> None:
    assert load_spec() is load_spec()
    assert load_spec(vendored_spec_path()) is load_spec(vendored_spec_path())


def write(tmp_path: Path, document: object) -> Path:
    path = tmp_path / "openapi.json"
    path.write_text(json.dumps(document))
    return path


def test_refs_are_resolved_and_operation_parameters_override_path_ones(tmp_path: Path) -> None:
    doc = {
        "openapi": "3.1.0",
        "info": {"title": "t", "version": "1"},
        "paths": {
            "/things/{thing_id}": {
                "parameters": [
                    {"$ref": "#/components/parameters/ThingId"},
                    {"name": "q", "in": "query", "schema": {"type": "string"}},
                ],
                "get": {
                    "parameters": [
                        {
                            "name": "q",
                            "in": "query",
                            "required": True,
                            "schema": {"$ref": "#/components/schemas/Q"},
                        }
                    ],
                    "responses": {"200": {"description": "ok"}},
                },
                "delete": {"responses": {"204": {"description": "gone"}}},
            }
        },
        "components": {
            "parameters": {
                "ThingId": {
                    "name": "thing_id",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "integer"},
                }
            },
            "schemas": {"Q": {"type": "string", "maxLength": 3}},
        },
    }
    get, delete = load_spec(write(tmp_path, doc)).operations()
    assert get.operation_id == "get_/things/{thing_id}"  # no operationId: a derived one
    assert get.parameters == (
        Parameter("thing_id", "path", True, {"type": "integer"}),
        Parameter("q", "query", True, {"type": "string", "maxLength": 3}),
    )
    assert delete.method == "DELETE"
    assert [p.name for p in delete.parameters] == ["thing_id", "q"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot read spec"),
        ("{nope", "is not JSON"),
        ("[]", "must be a JSON object"),
        ('{"openapi": "3.1.0"}', r"not valid OpenAPI: \"info\" is a required property \(at \$\)"),
        (
            json.dumps(
                {
                    "openapi": "3.1.0",
                    "info": {"title": "t", "version": "1"},
                    "paths": {
                        "/x": {
                            "get": {
                                "parameters": [
                                    {"name": "a", "in": "query", "schema": {"$ref": "#/nowhere"}}
                                ],
                                "responses": {"200": {"description": "ok"}},
                            }
                        }
                    },
                }
            ),
            "is not valid OpenAPI: unresolvable \\$ref '/nowhere'",
        ),
    ],
)
def test_bad_spec_files_are_clear_errors(tmp_path: Path, content: str | None, message: str) -> None:
    path = tmp_path / "openapi.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(SpecError, match=message) as info:
        create_app(spec_path=path)
    assert str(path) in str(info.value)


INFO = {"title": "t", "version": "1"}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"{}", "is not an OpenAPI document: it has no 'openapi' field"),
        (json.dumps({"swagger": "2.0"}).encode(), "no 'openapi' field"),
        (json.dumps({"openapi": 3, "info": INFO, "paths": {}}).encode(), "not valid OpenAPI"),
        (json.dumps({"openapi": "3.1.0", "info": INFO, "paths": []}).encode(), "not valid"),
        (json.dumps({"openapi": "9.9.9", "info": INFO, "paths": {}}).encode(), "not valid"),
        (b'{"openapi": "\xff"}', "is not UTF-8"),
        (b"[" * 100_000, "nested too deeply"),
        (b"", "is empty"),
    ],
)
def test_every_invalid_spec_file_is_a_spec_error_naming_it(
    tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "openapi.json"
    path.write_bytes(content)
    with pytest.raises(SpecError, match=message) as refused:
        load_spec(path)
    assert str(path) in str(refused.value) and "\n" not in str(refused.value)


def test_a_folder_or_a_missing_file_is_a_spec_error_naming_it(tmp_path: Path) -> None:
    for path in (tmp_path, tmp_path / "missing.json"):
        with pytest.raises(SpecError) as refused:
            load_spec(path)
        assert str(path) in str(refused.value)


def test_path_pattern_takes_one_segment_per_parameter() -> None:
    from prosper_mock.serving.spec import path_pattern

    by_id = path_pattern("/api/v1/call-logs/{call_log_id}")
    found = by_id.fullmatch("/api/v1/call-logs/12")
    assert found is not None and found["call_log_id"] == "12"
    assert by_id.fullmatch("/api/v1/call-logs/1/2") is None  # one segment, never two
    assert by_id.fullmatch("/api/v1/call-logs/") is None
    # The rest of the template is literal (the dot and dash are not regex syntax) ...
    assert path_pattern("/a.b-c").fullmatch("/aXb-c") is None
    # ... and a parameter whose name is no identifier still stands for one segment.
    assert path_pattern("/t/{target-id}/x").fullmatch("/t/7/x") is not None
