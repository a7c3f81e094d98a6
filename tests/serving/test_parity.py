"""Every operation of the spec answers as FastAPI does: routing, 405, 307, 404, validation.

Hypothesis writes raw requests per operation (path segments, query strings,
bodies, content types); each goes to FastAPI with upstream's signatures and to
the mock. FastAPI's refusals must be the mock's byte for byte; what FastAPI
accepts the mock must accept (it answers ``501`` for operations it does not
implement).
"""

from __future__ import annotations

import gzip
import json
import os
import zlib
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, unquote

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from prosper_mock.serving.spec import Operation, load_spec, path_pattern
from tests.serving.parity import (
    JSON,
    Pair,
    assert_same_answer,
    assert_same_validation,
    echoing,
    serving,
)

OPERATIONS = list(load_spec().operations())
DOC = load_spec().document


@pytest.fixture(scope="module")
def pair() -> Iterator[Pair]:
    with serving() as p:
        yield p


@pytest.fixture(scope="module")
def echo_pair() -> Iterator[Pair]:
    with echoing() as p:
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
    # uvicorn decodes the path before Starlette routes it: a %2F is a "/" there
    (b"GET", b"/api/v1/api-keys/k%2F"),  # a trailing slash: 307, whatever the method
    (b"DELETE", b"/api/v1/call-logs/1%2f?x=1"),
    (b"GET", b"/api/v1/campaigns/c/targets/t%2Fstep%2Ff"),  # the step route: 405, Allow: POST
    (b"PUT", b"/api/v1/campaigns/c%2Ftargets%2F"),
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


# -- bytes FastAPI reads as they are: Content-Encoding, path escapes -----------------------


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    target: Any = schema
    while "$ref" in target:
        target = DOC
        for part in schema["$ref"][2:].split("/"):
            target = target[part]
        schema = target
    return schema


def minimal(schema: dict[str, Any]) -> Any:
    """The smallest JSON ``schema`` accepts: its required properties, each minimal."""
    schema = _resolve(schema)
    if "enum" in schema:
        return schema["enum"][0]
    if "anyOf" in schema:
        return minimal(schema["anyOf"][0])
    kind = schema.get("type")
    if kind == "object":
        required = schema.get("required", ())
        return {k: minimal(v) for k, v in schema.get("properties", {}).items() if k in required}
    if kind == "string":
        return "2024-01-01T00:00:00Z" if schema.get("format") == "date-time" else "x"
    return {"array": [], "integer": 0, "number": 0, "boolean": False}.get(kind)


def brotli_stored(data: bytes) -> bytes:
    """``data`` as a valid brotli stream: one uncompressed meta-block (RFC 7932, 9.1-9.2)."""
    bits = [0]  # WBITS: a window of 16
    for value, width in ((0, 1), (0, 2), (len(data) - 1, 16), (1, 1)):
        bits += [(value >> i) & 1 for i in range(width)]  # ISLAST, MNIBBLES 4, MLEN-1, raw
    bits += [0] * (-len(bits) % 8)
    head = bytes(sum(b << i for i, b in enumerate(bits[j : j + 8])) for j in range(0, len(bits), 8))
    return head + data + b"\x03"  # then ISLAST and ISLASTEMPTY


BODY_OPERATIONS = [op for op in OPERATIONS if op.request_body is not None]
COMPRESSED = {"gzip": gzip.compress, "deflate": zlib.compress, "br": brotli_stored}
# Starlette never decodes a request body: every label, known or not, leaves the bytes as sent.
LABELS = [*COMPRESSED, "identity", "x-unknown", "zstd", "GZIP", "gzip, br", ""]
BODY_TYPES = [JSON, b"", b"Content-Type: text/plain\r\n", b"Content-Type: application/x+json\r\n"]


@pytest.mark.parametrize(
    "op", BODY_OPERATIONS, ids=[f"{o.method} {o.path}" for o in BODY_OPERATIONS]
)
def test_encoded_bodies_are_read_as_sent_like_fastapi(echo_pair: Pair, op: Operation) -> None:
    """gzip, deflate and br bodies, and plain JSON labelled with any coding, with and
    without a JSON type: FastAPI's answer, byte for byte (none decoded, none a 500)."""
    target = op.path.replace("{", "").replace("}", "").encode()
    plain = json.dumps(minimal(_body_schema(op))).encode()
    statuses = set()
    for label in LABELS:
        bodies = [plain, b"", *([COMPRESSED[label](plain)] if label in COMPRESSED else [])]
        for body in bodies:
            for content_type in BODY_TYPES:
                headers = content_type + b"Content-Encoding: %s\r\n" % label.encode()
                fastapi, mock = echo_pair.both(op.method.encode(), target, headers, body)
                assert_same_answer(fastapi, mock)
                statuses.add(fastapi.status)
    assert {200, 400, 422} <= statuses  # accepted, unparsable (compressed JSON), refused


ESCAPES = st.one_of(
    st.binary(min_size=1, max_size=4).map(lambda b: "".join(f"%{x:02X}" for x in b)),
    st.binary(min_size=1, max_size=3).map(lambda b: "".join(f"%{x:02x}" for x in b)),
    st.sampled_from(["%E9", "%C0%AF", "%ED%A0%80", "%FF%FE", "%F0%9F%98", "%C3%A9", "%25E9"]),
    st.sampled_from(["%", "%G1", "%4", "%%", "%25", "%2e%2E", "."]),
    st.text("0123456789-_~.aZ", min_size=1, max_size=3),
)
PATH_OPERATIONS = [op for op in OPERATIONS if "{" in op.path]


@pytest.mark.parametrize(
    "op", PATH_OPERATIONS, ids=[f"{o.method} {o.path}" for o in PATH_OPERATIONS]
)
def test_path_escapes_decode_like_uvicorn(echo_pair: Pair, op: Operation) -> None:
    """Any percent-escapes in any path parameter, UTF-8 or not: FastAPI's answer, byte for
    byte (uvicorn decodes with ``unquote``: an escape that is not UTF-8 is U+FFFD)."""
    names = [p.name for p in op.parameters if p.location == "path"]
    body = json.dumps(minimal(_body_schema(op))).encode() if op.request_body else None

    @settings(
        max_examples=int(os.environ.get("PARITY_EXAMPLES", "40")),
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(segments=st.tuples(*(st.lists(ESCAPES, min_size=1, max_size=4) for _ in names)))
    # The last parameter ending in an escaped slash: Starlette's 307 to the path without it.
    @example(segments=(*(["c"] for _ in names[1:]), ["a", "%2F"]))
    @example(segments=(*(["%2e%2E"] for _ in names[1:]), ["%00", "%2f"]))
    def check(segments: tuple[list[str], ...]) -> None:
        path = op.path
        for name, parts in zip(names, segments, strict=True):
            path = path.replace("{" + name + "}", "".join(parts))
        headers = JSON if body is not None else b""
        assert_same_answer(*echo_pair.both(op.method.encode(), path.encode(), headers, body))

    check()


STEP = {"campaign_id": "c", "target_id": "t", "friendly_id": "f"}


@pytest.mark.parametrize(
    ("method", "target", "params"),
    [
        (b"GET", b"/api/v1/campaigns/c%2Ftargets", {"campaign_id": "c"}),
        (b"GET", b"/api/v1/campaigns/%E9%2Fvariables", {"campaign_id": "\ufffd"}),
        (b"POST", b"/api/v1/campaigns/c/targets/t%2Fstep%2Ff", STEP),
        (b"POST", b"/api/v1/campaigns/c%2Ftargets%2Ft/step/f", STEP),
        (b"GET", b"/api%2Fv1%2Ftargets%2F%2525", {"target_id": "%25"}),
        (b"GET", b"/api%2fv1/live-calls", {}),
    ],
)
def test_escaped_slashes_route_by_the_decoded_path_like_uvicorn(
    echo_pair: Pair, method: bytes, target: bytes, params: dict[str, str]
) -> None:
    """A ``%2F`` separates segments as a ``/`` does: the route the decoded path matches
    answers, with its parameters as decoded (FastAPI's answer, byte for byte)."""
    decoded = unquote(target.decode())
    op = next(
        o
        for o in OPERATIONS
        if o.method.upper() == method.decode() and path_pattern(o.path).fullmatch(decoded)
    )
    body = json.dumps(minimal(_body_schema(op))).encode() if op.request_body else None
    fastapi, mock = echo_pair.both(method, target, JSON if body else b"", body)
    assert_same_answer(fastapi, mock)
    assert (mock.status, json.loads(mock.body)) == (200, {"path": params})
