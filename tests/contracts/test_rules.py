"""The semantic rules (``contracts/rules.py``): each one shown kept and shown broken."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st

from prosper_contracts.rules import (
    KIT_STATUSES,
    RULES,
    SOURCES,
    Violation,
    check_answer,
    check_snapshot,
    check_validation_error,
    lookup_of,
    parse_int,
    query_params,
    variable_text,
)

JSON = "application/json"
GOOD = {"source": "live_calls", "call_log_id": 7, "user_phone_number": "+15550001111"}
VALIDATION_ERROR = {
    "detail": [{"type": "missing", "loc": ["query", "key"], "msg": "Field required"}]
}


def rules_of(
    params: dict[str, str], status: int, body: Any, content_type: str | None = JSON
) -> list[str]:
    raw = body if isinstance(body, bytes | str) else json.dumps(body)
    return [v.rule for v in check_answer(params, status, content_type, raw)]


def snapshot(**changes: Any) -> dict[str, Any]:
    return {**GOOD, **changes}


# -- one rule at a time: kept, then broken -------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "status", "kept", "broken"),
    [
        ("json-content-type", 200, JSON, "text/plain"),
        ("json-content-type", 422, "application/json; charset=utf-8", "text/html"),
        ("json-content-type", 404, "Application/JSON", None),
    ],
)
def test_json_content_type(rule: str, status: int, kept: str, broken: str | None) -> None:
    body = {200: GOOD, 422: VALIDATION_ERROR, 404: {"detail": "Call not found"}}[status]
    assert rules_of({"call_log_id": "7"}, status, body, kept) == []
    assert rules_of({"call_log_id": "7"}, status, body, broken) == [rule]


def test_json_body() -> None:
    assert rules_of({}, 400, {"detail": "x"}) == []
    assert rules_of({}, 400, b'{"detail": ') == ["json-body"]
    assert rules_of({}, 200, b"\xff\xfe") == ["json-body"]  # not even text
    assert rules_of({}, 500, b"<html>oops</html>", "text/html") == []  # not judged


def test_flat_snapshot() -> None:
    assert rules_of({}, 200, snapshot(**{"variables.a.b": 1})) == []
    assert rules_of({}, 200, snapshot(variables={"a": 1})) == ["flat-snapshot"]
    assert rules_of({}, 200, [GOOD]) == ["flat-snapshot"]
    assert rules_of({}, 200, b"") == ["flat-snapshot"]  # no body is no object


@pytest.mark.parametrize("source", SOURCES)
def test_source_valid_kept(source: str) -> None:
    assert rules_of({}, 200, snapshot(source=source)) == []


@pytest.mark.parametrize("source", ["live_call", None, "LIVE_CALLS", 1])
def test_source_valid_broken(source: Any) -> None:
    assert rules_of({}, 200, snapshot(source=source)) == ["source-valid"]
    assert rules_of({}, 200, {k: v for k, v in GOOD.items() if k != "source"}) == ["source-valid"]


@pytest.mark.parametrize("call_log_id", ["7", 7.0, True, None])
def test_call_log_id_integer(call_log_id: Any) -> None:
    assert rules_of({}, 200, snapshot(call_log_id=0)) == []
    assert rules_of({}, 200, snapshot(call_log_id=call_log_id)) == ["call-log-id-integer"]


@pytest.mark.parametrize("phone", [None, 15550001111, ["+1555"]])
def test_phone_present(phone: Any) -> None:
    assert rules_of({}, 200, snapshot(user_phone_number="")) == []  # a string, even empty
    assert rules_of({}, 200, snapshot(user_phone_number=phone)) == ["phone-present"]
    missing = {k: v for k, v in GOOD.items() if k != "user_phone_number"}
    assert rules_of({}, 200, missing) == ["phone-present"]


def test_matches_call_log_id() -> None:
    assert rules_of({"call_log_id": "7"}, 200, GOOD) == []
    assert rules_of({"call_log_id": "007"}, 200, GOOD) == []  # as FastAPI parses it
    assert rules_of({"call_log_id": "8"}, 200, GOOD) == ["matches-call-log-id"]
    # an id FastAPI would not parse is no lookup: the spec checks demand the 422
    assert rules_of({"call_log_id": "7.5"}, 200, GOOD) == []


def test_matches_phone() -> None:
    assert rules_of({"user_phone_number": "+15550001111"}, 200, GOOD) == []
    assert rules_of({"user_phone_number": "+15550002222"}, 200, GOOD) == ["matches-phone"]


@pytest.mark.parametrize(
    ("stored", "asked"),
    [
        ({"variables.payor_name": "Aetna"}, "Aetna"),
        ({"variables.member_id": 5}, "5"),
        ({"variables.flag": True}, "true"),
        ({"variables.plan.tier": 2, "variables.plan.name": "A"}, '{"name": "A", "tier": 2}'),
    ],
)
def test_matches_variable_kept_on_the_text_form(stored: dict[str, Any], asked: str) -> None:
    key = next(iter(stored)).split(".")[1]
    assert rules_of({"key": key, "value": asked}, 200, snapshot(**stored)) == []


@pytest.mark.parametrize(
    ("stored", "asked"),
    [
        ({"variables.payor_name": "Aetna"}, "aetna"),
        ({"variables.member_id": 5}, "5.0"),
        ({"variables.member_id": None}, "null"),  # null never matches
        ({}, ""),  # no such variable
    ],
)
def test_matches_variable_broken(stored: dict[str, Any], asked: str) -> None:
    key = next(iter(stored)).split(".")[1] if stored else "member_id"
    assert rules_of({"key": key, "value": asked}, 200, snapshot(**stored)) == ["matches-variable"]


@pytest.mark.parametrize(
    "body",
    [
        VALIDATION_ERROR,
        {"detail": [{"type": "int_parsing", "loc": ["query", 0], "msg": "x", "input": "a"}]},
    ],
)
def test_validation_error_shape_kept(body: Any) -> None:
    assert rules_of({}, 422, body) == []
    assert check_validation_error(body) == []


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"detail": "Field required"}, "body is not {'detail': [...]}"),
        ([], "body is not"),
        ({"detail": []}, "detail is an empty list"),
        ({"detail": ["x"]}, "detail[0] is not an object"),
        ({"detail": [{"type": "missing", "loc": ["query"]}]}, "detail[0] lacks ['msg']"),
        ({"detail": [{"type": "t", "loc": "query", "msg": "m"}]}, "detail[0].loc is 'query'"),
        ({"detail": [{"type": "t", "loc": [True], "msg": "m"}]}, "not a list of strings"),
        ({"detail": [{"type": 1, "loc": [], "msg": "m"}]}, "must be strings"),
    ],
)
def test_validation_error_shape_broken(body: Any, says: str) -> None:
    assert rules_of({}, 422, body) == ["validation-error-shape"]
    [found] = check_validation_error(body)
    assert says in found.message


@pytest.mark.parametrize("status", KIT_STATUSES)
def test_detail_shape(status: int) -> None:
    assert rules_of({}, status, {"detail": "Call not found"}) == []
    for body in ({"detail": ["x"]}, {"detail": "x", "extra": 1}, {}, b'"Call not found"'):
        assert rules_of({}, status, body) == ["detail-shape"], body


def test_several_broken_rules_are_all_named() -> None:
    body = {"source": "elsewhere", "call_log_id": "1", "nested": {"a": 1}}
    assert rules_of({"call_log_id": "2"}, 200, body, "text/plain") == [
        "json-content-type",
        "flat-snapshot",
        "source-valid",
        "call-log-id-integer",
        "phone-present",
        "matches-call-log-id",
    ]


# -- the functions the rules use ---------------------------------------------------------


def test_lookup_of_follows_the_precedence() -> None:
    every = {"call_log_id": "7", "user_phone_number": "+1", "key": "k", "value": "v"}
    assert lookup_of(every) == ("call_log_id", 7)
    assert lookup_of({k: v for k, v in every.items() if k != "call_log_id"}) == (
        "user_phone_number",
        "+1",
    )
    assert lookup_of({"key": "k", "value": "v"}) == ("key", ("k", "v"))
    assert lookup_of({"key": "k"}) is None and lookup_of({"value": "v"}) is None
    assert lookup_of({}) is None
    assert lookup_of({"call_log_id": "x", "user_phone_number": "+1"}) is None  # no fallback


@pytest.mark.parametrize(
    ("text", "parsed"), [("12", 12), ("-3", -3), ("007", 7), ("1.5", None), ("abc", None)]
)
def test_parse_int_as_fastapi_parses_a_query(text: str, parsed: int | None) -> None:
    assert parse_int(text) == parsed


def test_query_params_read_as_upstream_reads_them() -> None:
    assert query_params("?a=1&a=2&b=%2B1&c=") == {"a": "2", "b": "+1", "c": ""}
    assert query_params(b"k=\xe9") == {"k": "\xe9"}  # bytes: latin-1, as aiohttp hands them
    assert query_params({"a": [1, 2], "b": True, "c": None, "d": []}) == {
        "a": "2",
        "b": "true",
        "d": "",
    }
    assert query_params([("a", "1"), ("a", "3")]) == {"a": "3"}


def test_variable_text_rebuilds_nested_values() -> None:
    flat = {"variables.plan.tier": 2, "variables.plan.name": "A", "variables.x": None}
    assert variable_text(flat, "plan") == '{"name": "A", "tier": 2}'
    assert variable_text(flat, "x") is None
    assert variable_text(flat, "missing") is None


def test_check_snapshot_of_a_non_object_says_what_it_is() -> None:
    assert check_snapshot({}, [1]) == [
        Violation("flat-snapshot", "the snapshot is a list, not an object")
    ]
    assert str(Violation("r", "m")) == "[r] m"


# -- properties -----------------------------------------------------------------------------

texts = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=20)
scalars = st.none() | st.booleans() | st.integers() | texts
queries = st.lists(st.tuples(texts, texts), max_size=6)


@given(
    call_log_id=st.integers(-(2**63), 2**63),
    phone=texts,
    source=st.sampled_from(SOURCES),
    variables=st.dictionaries(st.from_regex(r"[a-z_]{1,8}", fullmatch=True), scalars, max_size=4),
    by=st.sampled_from(["call_log_id", "user_phone_number", "key", None]),
)
def test_a_well_formed_answer_to_its_own_lookup_keeps_every_rule(
    call_log_id: int, phone: str, source: str, variables: dict[str, Any], by: str | None
) -> None:
    body = {
        "source": source,
        "call_log_id": call_log_id,
        "user_phone_number": phone,
        **{f"variables.{k}": v for k, v in variables.items()},
    }
    params: dict[str, str] = {}
    if by == "call_log_id":
        params = {"call_log_id": str(call_log_id)}
    elif by == "user_phone_number":
        params = {"user_phone_number": phone}
    elif by == "key":
        key, value = next(((k, v) for k, v in variables.items() if v is not None), ("", None))
        if value is None:
            return
        params = {"key": key, "value": variable_text(body, key) or ""}
    assert check_answer(params, 200, JSON, json.dumps(body)) == []


@given(asked=st.integers(), got=st.integers())
def test_the_wrong_call_breaks_matches_call_log_id(asked: int, got: int) -> None:
    found = rules_of({"call_log_id": str(asked)}, 200, snapshot(call_log_id=got))
    assert found == ([] if asked == got else ["matches-call-log-id"])


@given(
    params=st.dictionaries(texts, texts, max_size=4),
    status=st.integers(100, 599),
    content_type=st.none() | texts,
    body=st.binary(max_size=200) | texts,
)
def test_any_answer_is_judged_without_raising_and_names_known_rules(
    params: dict[str, str], status: int, content_type: str | None, body: bytes | str
) -> None:
    found = check_answer(params, status, content_type, body)
    assert {v.rule for v in found} <= set(RULES)
    if status not in (200, 422, *KIT_STATUSES):
        assert found == []  # only the documented answers are judged


@given(pairs=queries)
def test_query_params_of_an_encoded_query_are_its_pairs_the_last_repeat_winning(
    pairs: list[tuple[str, str]],
) -> None:
    assert query_params(urlencode(pairs)) == dict(pairs)
    assert query_params(pairs) == dict(pairs)
