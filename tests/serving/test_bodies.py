"""Request bodies are read and refused as FastAPI does: proved against FastAPI itself."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest
from aiohttp import web

from prosper_mock import MockServer, World, WorldRecipe
from prosper_mock.serving.spec import load_spec
from tests.rawhttp import request
from tests.serving.parity import JSON, Pair, assert_same_validation, serving
from tests.serving.upstream_api import upstream_api

TARGETS = b"/api/v1/campaigns/c/targets"
EHR = b"/api/v1/campaigns/c/ehr-event/f"
STEP = b"/api/v1/campaigns/c/targets/t/step/f"
RERUN = b"/api/v1/campaigns/c/webhooks/rerun-failed"


@pytest.fixture(scope="module")
def pair() -> Iterator[Pair]:
    with serving() as p:
        yield p


def _normalised(node: Any, doc: dict[str, Any]) -> Any:
    # $refs followed; prose and FastAPI's generated Body_<operationId> title left out
    if isinstance(node, dict):
        if "$ref" in node:
            target: Any = doc
            for part in node["$ref"][2:].split("/"):
                target = target[part]
            return _normalised(target, doc)
        return {
            k: _normalised(v, doc)
            for k, v in node.items()
            if k not in ("description", "examples")
            and not (k == "title" and str(v).startswith("Body_"))
        }
    if isinstance(node, list):
        return [_normalised(v, doc) for v in node]
    return node


def test_the_stand_in_has_the_signatures_the_spec_was_generated_from() -> None:
    spec = load_spec().document
    ours = upstream_api().openapi()
    for path, item in spec["paths"].items():
        assert list(ours["paths"][path]) == list(item)  # the methods, in route order
        for method, op in item.items():
            for key in ("parameters", "requestBody"):
                mine = _normalised(ours["paths"][path][method].get(key), ours)
                assert _normalised(op.get(key), spec) == mine, (method, path, key)


BAD_TARGET = {"phone_number": {"value": 1}}
CASES = [
    (b"POST", TARGETS, JSON, json.dumps({"targets": [BAD_TARGET, {"phone_number": 3}]})),
    (b"POST", TARGETS, JSON, '{"targets":[{"phone_number":"1","patient":{"extra_data":[]}}]}'),
    (b"POST", TARGETS, JSON, '{"launch":"x","allow_duplicates":"yes"}'),
    (b"POST", TARGETS, JSON, ""),  # an empty body is no body
    (b"POST", TARGETS, JSON, None),
    (b"POST", TARGETS, JSON, "null"),
    (b"POST", TARGETS, JSON, "[1]"),
    (b"POST", TARGETS, b"", "{}"),  # no Content-Type: the bytes are validated
    (b"POST", TARGETS, b"Content-Type: text/plain\r\n", "{}"),
    (b"POST", TARGETS, b"Content-Type: application/vnd.x+json; charset=utf-8\r\n", "[]"),
    (b"POST", TARGETS, b"Content-Type: application/json; charset=utf-16\r\n", "{"),
    (b"POST", TARGETS, JSON, '{"a":'),
    (b"POST", TARGETS, JSON, "\ufeff{}"),
    (b"POST", TARGETS, JSON, b"\xff\xfe\x00"),  # undecodable: 400
    (b"POST", TARGETS + b"x", JSON, "{"),  # no route: 404 before any body is read
    (b"POST", b"/api/v1/campaigns/a%2Fb/targets", JSON, "{"),
    (b"POST", EHR, JSON, "[]"),  # not an object: every embedded field is missing
    (b"POST", EHR, JSON, "null"),
    (b"POST", EHR, JSON, ""),
    (b"POST", EHR, b"", '{"event_type":"x"}'),
    (b"POST", EHR, JSON, '{"event_type":"x","event_data":1,"target_id":2}'),
    (b"POST", STEP, JSON, "null"),
    (b"POST", STEP, JSON, "[]"),
    (b"POST", STEP, b"", "{}"),
    (b"POST", RERUN, JSON, '{"from_date":"2024-01-01","to_date":"x"}'),
    (b"POST", RERUN, JSON, '{"from_date":1e30,"to_date":NaN}'),  # FastAPI: 500
    (b"POST", b"/api/v1/campaigns/c/calls", JSON, '{"target_ids":[1],"count":"1.5"}'),
    (b"PATCH", b"/api/v1/targets/t", JSON, '{"input_data":[],"only_if_not_started":"no"}'),
    (b"DELETE", TARGETS, JSON, '{"target_ids":"a"}'),
    (b"GET", TARGETS + b"?limit=0", JSON, "{"),  # a GET has no body to read
    # Lone surrogates ("\ud800" escapes): FastAPI reads them as strings; where its 422 echoes
    # one it answers 500 (the mock: the 422 meant), elsewhere its 422 is byte for byte the same.
    (b"POST", b"/api/v1/campaigns/c/calls", JSON, r'{"count":{"\ud800":1}}'),
    (b"POST", b"/api/v1/campaigns/c/calls", JSON, r'{"count":"\ud800","target_ids":["\udfff"]}'),
    (b"POST", EHR, JSON, r'{"event_type":"nope","target_id":"\ud800","event_data":{"\ud800":1}}'),
    (
        b"POST",
        TARGETS,
        JSON,
        r'{"targets":[{"phone_number":"1","input_data":{"\ud800":1}}],"launch":[]}',
    ),
    (b"PATCH", b"/api/v1/targets/t", JSON, r'{"input_data":{"\ud800":1}}'),
    (b"POST", STEP, JSON, r'{"\ud800":{"\udc00":"\ud800"}}'),
]


@pytest.mark.parametrize(("method", "target", "headers", "body"), CASES)
def test_bodies_are_refused_as_fastapi_refuses_them(
    pair: Pair, method: bytes, target: bytes, headers: bytes, body: str | bytes | None
) -> None:
    raw = body.encode() if isinstance(body, str) else body
    assert_same_validation(*pair.both(method, target, headers, raw))


def test_a_refusal_echoing_a_lone_surrogate_key_is_the_422_fastapi_meant(pair: Pair) -> None:
    fastapi, mock = pair.both(
        b"POST", b"/api/v1/campaigns/c/calls", JSON, rb'{"count":{"\ud800":1}}'
    )
    assert fastapi.status == 500  # FastAPI cannot encode the input it echoes
    assert (mock.status, mock.body) == (
        422,
        b'{"detail":[{"type":"int_type","loc":["body","count"],'
        b'"msg":"Input should be a valid integer","input":{"?":1}}]}',
    )


def test_a_json_error_is_alone_and_names_its_offset(pair: Pair) -> None:
    fastapi, mock = pair.both(b"POST", b"/api/v1/campaigns/c/calls?x=1", JSON, b'{"count": }')
    assert mock.status == fastapi.status == 422
    assert json.loads(mock.body)["detail"] == [
        {
            "type": "json_invalid",
            "loc": ["body", 10],
            "msg": "JSON decode error",
            "input": {},
            "ctx": {"error": "Expecting value"},
        }
    ]


def test_a_query_the_operation_does_not_take_is_ignored_with_a_body(pair: Pair) -> None:
    fastapi, mock = pair.both(b"DELETE", TARGETS + b"?page=-1", JSON, b"{}")
    assert (mock.status, mock.body) == (fastapi.status, fastapi.body)
    assert json.loads(mock.body)["detail"][0]["loc"] == ["body", "target_ids"]


def test_a_body_over_the_size_limit_is_starlettes_413() -> None:
    with MockServer(World.generate(WorldRecipe(seed=1, live_calls=1, call_logs=1))) as mock:
        big = b'{"target_ids":["' + b"x" * (1024**2) + b'"]}'
        answer = request("127.0.0.1", mock.port, TARGETS, b"DELETE", JSON, body=big)
        assert (answer.status, answer.body) == (413, b'{"detail":"Content Too Large"}')
        assert len(mock.state.journal) == 1  # answered by the operation's steps, so journalled


async def _capture(request: web.Request, values: dict[str, Any], state: Any) -> Any:
    _seen.append(values)
    return web.json_response({})


_seen: list[dict[str, Any]] = []


def test_the_operation_gets_plain_values_with_the_body() -> None:
    ops = {op.operation_id: _capture for op in load_spec().operations()}
    world = World.generate(WorldRecipe(seed=1, live_calls=1, call_logs=1))
    with MockServer(world, operations=ops) as mock:  # type: ignore[arg-type]
        body = b'{"targets":[{"phone_number":{"value":"+1"}}]}'
        assert request("127.0.0.1", mock.port, TARGETS, b"POST", JSON, body=body).status == 200
        assert request("127.0.0.1", mock.port, STEP, b"POST").status == 200
        when = b'{"from_date":"2024-01-01","to_date":"2024-01-02T00:00:00Z"}'
        assert request("127.0.0.1", mock.port, RERUN, b"POST", JSON, body=when).status == 200
        target = TARGETS + b"?status=Pending"
        assert request("127.0.0.1", mock.port, target).status == 200
    added, step, rerun, listed = _seen[-4:]
    assert added == {
        "campaign_id": "c",
        "body": {
            "targets": [
                {
                    "id": None,
                    "external_id": None,
                    "phone_number": {"value": "+1", "operating_hours": None},
                    "fallback_phone_number": None,
                    "input_data": {},
                    "patient": None,
                    "pre_call_data": None,
                }
            ],
            "launch": False,
            "allow_duplicates": True,
        },
    }
    assert step == {"target_id": "t", "campaign_id": "c", "friendly_id": "f", "body": None}
    assert rerun["body"]["from_date"].isoformat() == "2024-01-01T00:00:00"
    assert listed["status"] == "Pending" and type(listed["status"]) is str
    assert (listed["page"], listed["limit"], listed["from_date"]) == (0, 10, None)


@pytest.mark.parametrize(
    "body",
    [
        {"launch": True, "targets": [{"phone_number": f"+1555{i:07d}"} for i in range(2500)]},
        {"targets": [{"phone_number": "+15550000000"}] * 1500 + [{"phone_number": 5}]},
        {"targets": [{"phone_number": "+15550000000"}] * 1500, "launch": "not a boolean"},
        {"targets": [{"phone_number": "+15550000000"}] * 10},
        ["not", "an", "object"],
    ],
    ids=["valid", "a bad target", "a bad flag", "short", "not an object"],
)
def test_a_large_body_s_long_list_is_validated_in_slices_to_the_same_value_and_errors(
    body: Any,
) -> None:
    from prosper_mock.serving import bodies

    spec = load_spec()
    operation = next(o for o in spec.operations() if o.operation_id.startswith("add_targets"))
    validator = bodies.BodyValidator(operation)
    whole = validator.validate(body)
    name, adapter = validator.lists["targets"]
    slices: list[int] = []

    class Counted:  # what reaches pydantic at once: a slice, never the whole list
        def validate_python(self, value: list[Any]) -> Any:
            slices.append(len(value))
            return adapter.validate_python(value)

        def dump_python(self, value: Any, **options: Any) -> Any:
            return adapter.dump_python(value, **options)

    validator.lists["targets"] = (name, Counted())  # type: ignore[assignment]
    sliced = asyncio.run(validator.validated(body, bodies.OFF_LOOP_BYTES + 1))
    assert sliced == whole
    long = isinstance(body, dict) and len(body["targets"]) > bodies.SLICE_ITEMS
    assert bool(slices) == long and max(slices, default=0) <= bodies.SLICE_ITEMS
    assert json.dumps(sliced) == json.dumps(whole)  # the same keys in the same order
