"""The request matcher of stubs and verification: which parts differ, and JSON subsets."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from prosper_mock.serving.matching import NOT_JSON, Difference, RequestPattern, contains

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3)
    ),
    max_leaves=10,
)


@given(JSON)
def test_a_value_contains_itself(value: Any) -> None:
    assert contains(value, value)


@given(st.dictionaries(st.text(max_size=3), JSON, max_size=5), st.data())
def test_an_object_contains_any_of_its_sub_objects(
    value: dict[str, Any], data: st.DataObject
) -> None:
    keys = data.draw(
        st.lists(st.sampled_from(sorted(value)), unique=True) if value else st.just([])
    )
    assert contains(value, {k: value[k] for k in keys})
    assert not contains(value, {**{k: value[k] for k in keys}, "\x00missing": 1})


def test_one_is_not_true_and_arrays_match_element_by_element() -> None:
    assert not contains(True, 1) and not contains(1, True) and not contains(1.0, 1)
    assert contains([{"a": 1, "b": 2}], [{"a": 1}])
    assert not contains([1, 2], [1]) and not contains({"a": [1]}, {"a": 1})


def test_a_template_matches_any_segment_and_differences_name_the_parts() -> None:
    pattern = RequestPattern(
        "GET", "/api/v1/targets/{target_id}", {"x": "1"}, {"User-Agent": "me"}, body={"a": 1}
    )
    assert pattern.matches(
        "GET", "/api/v1/targets/abc", {"x": "1"}, {"a": 1, "b": 2}, [("user-agent", "me")]
    )
    assert not pattern.matches(
        "GET", "/api/v1/targets/a/b", {"x": "1"}, {"a": 1}, [("User-Agent", "me")]
    )
    found = pattern.differences("POST", "/api/v1/targets/t", {}, NOT_JSON, [("User-Agent", "you")])
    assert found == [
        Difference("method", "GET", "POST"),
        Difference("query.x", "1", None),
        Difference("header.User-Agent", "me", "you"),
        Difference("body", {"a": 1}, None),
    ]
    exact = RequestPattern(path="/api/v1/call-logs", body={"a": 1}, body_exact=True)
    assert exact.matches("PUT", "/api/v1/call-logs", {}, {"a": 1})
    assert not exact.matches("PUT", "/api/v1/call-logs", {}, {"a": 1, "b": 2})
    assert not RequestPattern(path="/api/v1/call-logs").matches("GET", "/api/v1/call-logsX", {})
