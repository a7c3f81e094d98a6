"""Rendering is Starlette's, byte for byte; snapshots are flat and start with the three keys."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from starlette.responses import JSONResponse

from prosper_mock.serving.render import SnapshotCache, render_json, render_json_in_slices
from prosper_mock.world.flatten import snapshot
from prosper_mock.world.records import CallLog, LiveCall

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4)
    ),
    max_leaves=15,
)


@given(JSON)
def test_render_json_is_starlettes_json_response(content: object) -> None:
    assert render_json(content) == JSONResponse(content).body


def test_snapshot_of_a_call_log() -> None:
    log = CallLog(
        id=7,
        user_phone_number="+1",
        created_at="2026-01-01T00:00:00+00:00",
        qa={"score": 0.9},
        post_call_data={},
    )
    snap = snapshot("call_logs", log)
    assert list(snap)[:4] == ["source", "call_log_id", "user_phone_number", "id"]
    assert snap["qa.score"] == 0.9 and "post_call_data" not in snap


def test_cache_serves_the_same_row_and_rerenders_a_replaced_one() -> None:
    cache = SnapshotCache(size=2)
    row = LiveCall(call_log_id=1, user_phone_number="+1", started_at="2026-01-01T00:00:00+00:00")
    first = cache.body("live_calls", row)
    assert cache.body("live_calls", row) is first
    changed = LiveCall(call_log_id=1, user_phone_number="+2", started_at=row.started_at)
    assert b'"+2"' in cache.body("live_calls", changed)
    for i in range(5):  # bounded: it never grows past its size
        cache.body(
            "live_calls",
            LiveCall(call_log_id=10 + i, user_phone_number="+1", started_at=row.started_at),
        )
    assert len(cache._bodies) <= 2


@pytest.mark.parametrize(
    "content",
    [
        {"targets": [{"id": f"t{i}", "é": [i, None, 1.5]} for i in range(2500)], "none": []},
        {"launched": [], "skipped": list(range(1001)), "scheduled": [{"a": "b"}]},
        {1: "a key that is not text"},
        [1, 2, 3],
        "text",
    ],
)
def test_render_json_in_slices_is_render_json(content: object) -> None:
    assert render_json_in_slices(content, items=1000) == render_json(content)


@given(st.dictionaries(st.text(max_size=5), st.lists(JSON, max_size=7), max_size=4))
def test_any_object_of_lists_renders_the_same_in_slices(content: dict[str, object]) -> None:
    assert render_json_in_slices(content, items=2) == render_json(content)
