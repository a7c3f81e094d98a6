"""Every operation of the spec answers as FastAPI does: routing, 405, 307, 404, validation.

Hypothesis writes raw requests per operation (path segments, query strings,
bodies, content types); each goes to FastAPI with upstream's signatures and to
the mock. FastAPI's refusals must be the mock's byte for byte; what FastAPI
accepts the mock must accept (it answers ``501`` for operations it does not
implement).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from prosper_mock.serving.spec import Operation, load_spec
from tests.serving.parity import Pair, assert_same_validation, serving

OPERATIONS = list(load_spec().operations())
DOC = load_spec().document


@pytest.fixture(scope="module")
def pair() -> Iterator[Pair]:
    with serving() as p:
        yield p


FRAMEWORK = [
    (b"PUT", b"/api/v1/campaigns/c/targets"),  # GET, POST and DELETE there: Allow names POST
    (b"OPTIONS", b"/api/v1/targets/t"),
    (b"GET", b"/api/v1/campaigns/c/targets/t/step/f"),
    (b"HEAD", b"/api/v1/call-logs/1"),
    (b"GET", b"/api/v1/call-logs/1/"),
    (b"POST", b"/api/v1/campaigns/c/targets/?x=1"),
    (b"GET", b"/api/v1/campaigns//targets"),
    (b"GET", b"/api/v1/campaigns/a%2Fb/targets"),
    (b"PUT", b"/api/v1/campaigns/a%2fb/targets"),
    (b"GET", b"/api/v1/campaigns/c/targets/t/step/"),
    (b"DELETE", b"/api/v1/api-keys/"),
    (b"GET", b"/api/v1/campaigns/c"),
]


@pytest.mark.parametrize(("method", "target"), FRAMEWORK)
def test_routing_answers_match_fastapi(pair: Pair, method: bytes, target: bytes) -> None:
    fastapi, mock = pair.both(method, target)
    assert (mock.status, mock.body) == (fastapi.status, fastapi.body)
    assert mock.headers.get("allow") == fastapi.headers.get("allow")
    if fastapi.status == 307:
        port = f":{pair.upstream}"
        assert (
            mock.headers["location"].replace(f":{pair.mock}", port) == (fastapi.headers["location"])
        )


# -- generated requests --------------------------------------------------------------

SEGMENTS = st.one_of(
    st.sampled_from(["c", "0", "-1", "007", "1.0", "abc", " 7", "99999999999999999999", "é"]),
    st.text(st.characters(codec="utf-8", exclude_characters="/"), min_size=1, max_size=6),
)
VALUES = st.one_of(
    st.sampled_from(
        [
            *["", "0", "1", "-1", "101", "1000", "1001", "true", "no", "off", "maybe", "1.5"],
            *["Pending", "In Progress", "pending", "2024-01-01", "2024-01-01T10:00:00+05:00"],
            *["1700000000", "2024-13-01", "2024-01-01T25:00", "now", "1e3", " 5 "],
        ]
    ),
    st.text(max_size=8),
)
LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=6),
)
ANY_JSON = st.recursive(
    LEAVES,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=6,
)
CONTENT_TYPES = st.sampled_from(
    [
        *[b"application/json", b"application/json; charset=utf-8", b"application/x+json", b""],
        *[b"text/plain", b"application/jsonx", b"application/json;"],
    ]
)
BROKEN = st.sampled_from(["", "{", '{"a":}', "[1,]", "nul", "{'a': 1}", "NaN", "\ufeff{}", "1 2"])


def from_schema(schema: dict[str, Any], depth: int = 0) -> st.SearchStrategy[Any]:
    """JSON close to ``schema``: mostly of its shape, with wrong leaves mixed in."""
    if "$ref" in schema:
        target: Any = DOC
        for part in schema["$ref"][2:].split("/"):
            target = target[part]
        return from_schema(target, depth)
    if "anyOf" in schema:
        return st.one_of(*(from_schema(s, depth) for s in schema["anyOf"]))
    kind = schema.get("type")
    if depth > 4:
        return LEAVES
    if "enum" in schema:
        shaped: st.SearchStrategy[Any] = st.sampled_from(schema["enum"])
    elif kind == "string" and schema.get("format") == "date-time":
        shaped = st.sampled_from(["2024-01-01", "2024-01-01T00:00:00Z", "x", 1700000000, 1e20])
    elif kind == "string":
        shaped = st.text(max_size=5)
    elif kind == "integer":
        shaped = st.integers(-5, 5) | st.sampled_from(["3", 1.0, 1.5, True])
    elif kind == "boolean":
        shaped = st.booleans() | st.sampled_from(["yes", "off", 0, 2, "x"])
    elif kind == "array":
        shaped = st.lists(from_schema(schema.get("items", {}), depth + 1), max_size=2)
    elif kind == "object" and schema.get("properties"):
        props = schema["properties"]
        required = set(schema.get("required", ()))
        shaped = st.fixed_dictionaries(
            {k: from_schema(v, depth + 1) for k, v in props.items() if k in required},
            optional={k: from_schema(v, depth + 1) for k, v in props.items() if k not in required},
        )
    elif kind == "object":
        shaped = st.dictionaries(st.text(max_size=4), LEAVES, max_size=3)
    else:
        shaped = LEAVES
    return st.one_of(shaped, shaped, shaped, LEAVES)


def _body_schema(op: Operation) -> dict[str, Any]:
    return dict((op.request_body or {})["content"]["application/json"]["schema"])


@st.composite
def requests(draw: st.DrawFn, index: int) -> tuple[bytes, bytes, bytes | None]:
    """``(target, headers, body)`` for ``OPERATIONS[index]``: path, query and body, any shape."""
    op = OPERATIONS[index]
    path = op.path
    for p in op.parameters:
        if p.location == "path":
            path = path.replace("{" + p.name + "}", quote(draw(SEGMENTS), safe=""))
    names = [p.name for p in op.parameters if p.location == "query"] + ["other"]
    pairs = draw(st.lists(st.tuples(st.sampled_from(names), VALUES), max_size=4))
    query = "&".join(f"{quote(k)}={quote(v, safe='')}" for k, v in pairs)
    target = (path + ("?" + query if query else "")).encode()
    if op.request_body is None:
        return target, b"", None
    content_type = draw(CONTENT_TYPES)
    headers = b"Content-Type: " + content_type + b"\r\n" if content_type else b""
    text = draw(
        st.one_of(
            from_schema(_body_schema(op)).map(json.dumps),
            ANY_JSON.map(json.dumps),
            BROKEN,
            st.none(),
        )
    )
    return target, headers, text.encode() if text is not None else None


@pytest.mark.parametrize(
    "index", range(len(OPERATIONS)), ids=[f"{o.method} {o.path}" for o in OPERATIONS]
)
def test_generated_requests_validate_like_fastapi(pair: Pair, index: int) -> None:
    op = OPERATIONS[index]

    @settings(
        max_examples=int(os.environ.get("PARITY_EXAMPLES", "40")),
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(req=requests(index))
    def check(req: tuple[bytes, bytes, bytes | None]) -> None:
        target, headers, body = req
        assert_same_validation(*pair.both(op.method.encode(), target, headers, body))

    check()
