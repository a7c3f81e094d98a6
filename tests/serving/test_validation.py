"""Validation errors are FastAPI's, byte for byte: proved against FastAPI itself.

The same raw request bytes go to a real FastAPI + pydantic v2 app with the
upstream signature (``upstream.py``) and to the mock, both over real sockets.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.datastructures import QueryParams

from prosper_mock import MockServer, World, WorldRecipe
from prosper_mock.serving.spec import load_spec
from prosper_mock.serving.validation import ParameterValidator, parse_query, schema_to_annotation
from tests.rawhttp import RawResponse, request
from tests.upstream import serve_upstream

PATH = b"/api/v1/live-calls"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def ports() -> Iterator[tuple[int, int]]:
    world = World.generate(WorldRecipe(seed=5, live_calls=5, call_logs=20))
    with serve_upstream() as upstream_port, MockServer(world) as mock:
        yield upstream_port, mock.port


def both(ports: tuple[int, int], target: bytes, method: bytes = b"GET") -> tuple[RawResponse, ...]:
    return tuple(request("127.0.0.1", port, target, method=method) for port in ports)


def assert_same_validation(fastapi: RawResponse, mock: RawResponse) -> None:
    """Where FastAPI answers 422 the mock answers the same bytes; where not, neither does."""
    if fastapi.status == 422:
        assert (mock.status, mock.headers["content-type"], mock.body) == (
            422,
            fastapi.headers["content-type"],
            fastapi.body,
        )
    elif fastapi.status == 400:
        # Not valid HTTP (raw non-ASCII in the request line): both parsers refuse it.
        assert mock.status == 400, mock.body
    else:
        assert fastapi.status == 200, fastapi
        assert mock.status != 422, mock.body


CALL_LOG_IDS = [
    "abc",
    "",
    "1.5",
    "1.0",
    "0x10",
    "5e2",
    "1_000",
    "1__0",
    "_1",
    " 7 ",
    "%207%20",
    "+5",
    "00012",
    "-0",
    "1.00",
    "1.",
    ".0",
    "1e3",
    "inf",
    "nan",
    "-",
    "\uff11",
    "\u0663",
    "%EF%BC%91",
    "%D9%A3",
    "1%00",
    "%FF",
    "%zz",
    "true",
    "null",
    "[1]",
    "9" * 4300,
    "9" * 4301,
    "-" + "9" * 4301,
    "123456789012345678901234567890",
]


@pytest.mark.parametrize("raw", CALL_LOG_IDS, ids=lambda r: r[:20] or "empty")
def test_call_log_id_parsing_matches_fastapi(ports: tuple[int, int], raw: str) -> None:
    target = PATH + b"?call_log_id=" + raw.replace(" ", "%20").encode()
    assert_same_validation(*both(ports, target))


QUERIES = [
    "call_log_id=1&call_log_id=abc",  # repeated: the last wins
    "call_log_id=abc&call_log_id=1",
    "call_log_id=x&key=&value=&user_phone_number=",
    "call_log_id=x&unknown=1",
    "call%5Flog%5Fid=zz",  # percent-encoded name
    "call_log_id=1+2",  # '+' is a space
    "call_log_id=%2B5",
    "key=%F0%9F%93%9E&call_log_id=%F0%9F%93%9E",  # emoji
    "call_log_id=%C3%A9t%C3%A9",
    "call_log_id;x=1",
    "call_log_id=1;call_log_id=x",
    "&&call_log_id=&&",
    "=x&call_log_id==",
    "call_log_id",  # no '=': an empty value
]


@pytest.mark.parametrize("query", QUERIES)
def test_query_string_forms_match_fastapi(ports: tuple[int, int], query: str) -> None:
    assert_same_validation(*both(ports, PATH + b"?" + query.encode()))


def test_every_error_is_reported_in_signature_order(ports: tuple[int, int]) -> None:
    # Only call_log_id can fail for this spec; several bad copies still give one error.
    fastapi, mock = both(ports, PATH + b"?call_log_id=a&key=b&call_log_id=c")
    assert_same_validation(fastapi, mock)
    assert [e["input"] for e in json.loads(mock.body)["detail"]] == ["c"]


@pytest.mark.parametrize(
    ("method", "target"),
    [
        (b"POST", PATH),
        (b"PUT", PATH),
        (b"DELETE", PATH),
        (b"PATCH", PATH),
        (b"OPTIONS", PATH),
        (b"HEAD", PATH),
        (b"TRACE", PATH),
        (b"GET", b"/api/v1/nothing-here"),
        (b"GET", b"/"),
        (b"GET", b"/API/v1/live-calls"),
        (b"POST", b"/nope?x=1"),
        (b"GET", PATH + b"/?call_log_id=1"),  # trailing slash: 307
        (b"GET", PATH + b"/?"),
        (b"POST", PATH + b"/"),
        (b"GET", b"/api/v1/live-calls//"),
        (b"GET", b"/api/v1/live-calls%2F?call_log_id=x"),  # Location has the decoded path
        (b"GET", b"/api/v1/live%2Dcalls/?call_log_id=x"),
        (b"GET", PATH + b'/?call_log_id="x"<>{}|^`'),  # Location quotes the query
        (b"GET", PATH + b"/?a=%zz&b=%C3%A9"),
        (b"GET", PATH + b"/%2F"),
        (b"GET", PATH + b"/;x"),
        (b"GET", b"/openapi.json/"),
        (b"POST", b"/openapi.json"),  # the docs route allows GET and HEAD
        (b"DELETE", b"/openapi.json?x=1"),
    ],
)
def test_framework_answers_match_fastapi(
    ports: tuple[int, int], method: bytes, target: bytes
) -> None:
    fastapi, mock = both(ports, target, method=method)
    assert (mock.status, mock.body) == (fastapi.status, fastapi.body)
    assert mock.headers.get("content-type") == fastapi.headers.get("content-type")
    # Starlette joins a set of methods, so its Allow order varies from run to run.
    assert allowed(mock) == allowed(fastapi)
    if fastapi.status == 307:
        # Same URL apart from the port each server listens on.
        assert without_port(mock.headers["location"], ports[1]) == without_port(
            fastapi.headers["location"], ports[0]
        )


def allowed(response: RawResponse) -> set[str] | None:
    allow = response.headers.get("allow")
    return None if allow is None else set(allow.split(", "))


def without_port(location: str, port: int) -> str:
    return location.replace(f"127.0.0.1:{port}", "127.0.0.1:PORT", 1)


def test_openapi_json_answers_head_like_fastapi(ports: tuple[int, int]) -> None:
    # The stand-in's document is FastAPI's own, so only the framework's answer is compared.
    fastapi, mock = both(ports, b"/openapi.json", method=b"HEAD")
    assert (mock.status, mock.body) == (fastapi.status, fastapi.body) == (200, b"")
    assert mock.headers["content-type"] == fastapi.headers["content-type"]


NAMES = st.sampled_from(["call_log_id", "key", "value", "user_phone_number", "other", ""])
PIECES = st.sampled_from(
    ["1", "0", "-", "+", "_", ".", "e", "x", " ", "%20", "%00", "%FF", "%C3%A9", "%zz", "٣", "9"]
)
VALUES = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.lists(PIECES, max_size=6).map("".join),
    st.text(max_size=8),
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(pairs=st.lists(st.tuples(NAMES, VALUES), max_size=5), sep=st.sampled_from(["&", ";"]))
def test_random_queries_validate_like_fastapi(
    ports: tuple[int, int], pairs: list[tuple[str, str]], sep: str
) -> None:
    query = sep.join(
        f"{name}={quote(value, safe='%+ ').replace(' ', '+')}" for name, value in pairs
    )
    assert_same_validation(*both(ports, PATH + b"?" + query.encode("ascii")))


@given(
    st.binary(max_size=40)
    | st.lists(st.sampled_from([b"&", b";", b"=", b"%", b"+", b"a", b"%C3", b"\xff", b"%zz"])).map(
        b"".join
    )
)
def test_query_splitting_is_starlettes(raw: bytes) -> None:
    assert parse_query(raw) == QueryParams(raw).multi_items()


RAW_QUERIES = [b"call_log_id=\xc3\xa9", b"call_log_id=\xff&key=\x80", b"call_log_id=%C3%A9\xc3"]
PYTHON_PARSER_PROBE = """
import sys
from prosper_mock import MockServer, World, WorldRecipe
from tests.rawhttp import request
with MockServer(World.generate(WorldRecipe(live_calls=1, call_logs=1))) as mock:
    for raw in map(bytes.fromhex, sys.argv[1:]):
        answer = request("127.0.0.1", mock.port, b"/api/v1/live-calls?" + raw)
        sys.stdout.buffer.write(answer.body + b"\\n")
"""


def test_raw_bytes_reach_validation_as_starlette_decodes_them() -> None:
    # aiohttp's C parser refuses raw non-ASCII (as h11 does), but its pure-Python
    # parser (AIOHTTP_NO_EXTENSIONS) and httptools-based uvicorn let them through:
    # then the mock must see the bytes Starlette would, latin-1 decoded.
    done = subprocess.run(
        [sys.executable, "-c", PYTHON_PARSER_PROBE, *(raw.hex() for raw in RAW_QUERIES)],
        env={**os.environ, "AIOHTTP_NO_EXTENSIONS": "1"},
        cwd=ROOT,
        capture_output=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    inputs = [json.loads(line)["detail"][0]["input"] for line in done.stdout.splitlines()]
    assert inputs == [QueryParams(raw)["call_log_id"] for raw in RAW_QUERIES]


def test_validator_keeps_absent_parameters_as_none() -> None:
    op = next(o for o in load_spec().operations() if o.path == "/api/v1/live-calls")
    values, errors = ParameterValidator(op).validate(parse_query(b"key=a"))
    assert errors == []
    assert values == {"key": "a", "value": None, "call_log_id": None, "user_phone_number": None}


@pytest.mark.parametrize(
    ("schema", "good", "bad"),
    [
        ({"type": "integer", "minimum": 1}, "5", "0"),
        ({"type": "string", "maxLength": 2}, "ab", "abc"),
        ({"type": "boolean"}, "true", "maybe"),
        ({"enum": ["a", "b"]}, "a", "c"),
        ({"type": "number"}, "1.5", "x"),
        ({"type": ["integer", "null"]}, "3", "x"),
    ],
)
def test_schema_annotations_follow_the_spec(schema: dict, good: str, bad: str) -> None:
    from pydantic import TypeAdapter, ValidationError

    adapter = TypeAdapter(schema_to_annotation(schema))
    adapter.validate_python(good)
    with pytest.raises(ValidationError):
        adapter.validate_python(bad)


def test_required_parameter_missing_is_fastapis_missing_error() -> None:
    from prosper_mock.serving.spec import Operation, Parameter

    op = Operation("GET", "/x", "x", (Parameter("n", "query", True, {"type": "integer"}),))
    _, errors = ParameterValidator(op).validate([])
    assert errors == [
        {"type": "missing", "loc": ["query", "n"], "msg": "Field required", "input": None}
    ]


def test_array_parameters_collect_every_value() -> None:
    from prosper_mock.serving.spec import Operation, Parameter

    schema = {"type": "array", "items": {"type": "integer"}}
    op = Operation("GET", "/x", "x", (Parameter("ids", "query", False, schema),))
    values, errors = ParameterValidator(op).validate(parse_query(b"ids=1&ids=2"))
    assert (values, errors) == ({"ids": [1, 2]}, [])


@pytest.mark.parametrize(
    ("method", "target", "fastapi_status", "mock_status"),
    [
        (b"GET", b"/docs", 200, 404),
        (b"GET", b"/redoc", 200, 404),
        (b"FOO", PATH, 405, 400),
        (b"get", PATH, 405, 400),
        (b"GET", b"http://127.0.0.1" + PATH + b"?call_log_id=x", 404, 422),
        (b"OPTIONS", b"*", 404, 404),
    ],
)
def test_the_documented_differences_from_fastapi(
    ports: tuple[int, int], method: bytes, target: bytes, fastapi_status: int, mock_status: int
) -> None:
    # README, Semantics: "Where the mock is not FastAPI". If one of these starts to
    # agree, the README row is out of date.
    fastapi, mock = both(ports, target, method=method)
    assert (fastapi.status, mock.status) == (fastapi_status, mock_status)
    if target == b"*":
        assert (fastapi.body, mock.body) == (b'{"detail":"Not Found"}', b"404: Not Found")
