"""Flattening nested objects into dotted keys."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from prosper_mock.world.flatten import flatten, unflatten

KEYS = st.text(alphabet="abcxyz_", min_size=1, max_size=4)
LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.text(max_size=5),
    st.lists(st.integers(), max_size=3),
)
TREES = st.recursive(
    st.dictionaries(KEYS, LEAVES, max_size=4),
    lambda children: st.dictionaries(KEYS, st.one_of(LEAVES, children), max_size=4),
    max_leaves=12,
)


def leaves(tree: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in tree.items():
        if isinstance(v, dict):
            out |= leaves(v, f"{prefix}{k}.")
        else:
            out[f"{prefix}{k}"] = v
    return out


def test_nested_objects_become_dotted_keys() -> None:
    data = {"agent_data": {"voice": {"provider": "x"}, "name": "Riley"}, "a": [{"b": 1}], "n": None}
    assert flatten(data) == {
        "agent_data.voice.provider": "x",
        "agent_data.name": "Riley",
        "a": [{"b": 1}],  # arrays stay arrays, their items untouched
        "n": None,
    }


def test_empty_objects_leave_no_key() -> None:
    assert flatten({"post_call_data": {}, "x": 1}) == {"x": 1}


@given(TREES)
def test_flat_result_has_no_object_values_and_keeps_every_leaf(tree: dict[str, Any]) -> None:
    flat = flatten(tree)
    assert not any(isinstance(v, dict) for v in flat.values())
    assert flat == leaves(tree)


def without_empty_objects(tree: Any) -> Any:
    """What survives flattening: an empty object has no leaves, so it leaves no key."""
    if isinstance(tree, dict):
        kept = {k: without_empty_objects(v) for k, v in tree.items()}
        return {k: v for k, v in kept.items() if v != {}}
    return tree


@given(TREES)
def test_unflatten_inverts_flatten(tree: dict[str, Any]) -> None:
    assert unflatten(flatten(tree)) == without_empty_objects(tree)


def test_unflatten_keeps_a_dotted_key_that_cannot_nest() -> None:
    assert unflatten({"a": 1, "a.b": 2}) == {"a": 1, "a.b": 2}


def test_snapshot_of_a_live_call_leads_with_the_three_keys() -> None:
    from prosper_mock.world.flatten import snapshot
    from prosper_mock.world.records import LiveCall

    call = LiveCall(
        call_log_id=3,
        user_phone_number="+1",
        started_at="2026-01-01T00:00:00+00:00",
        variables={"a": {"b": 1}},
    )
    snap = snapshot("live_calls", call)
    assert list(snap)[:3] == ["source", "call_log_id", "user_phone_number"]
    assert snap["source"] == "live_calls" and snap["variables.a.b"] == 1
