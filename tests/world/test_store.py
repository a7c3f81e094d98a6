"""A store: the seeded base layer merged with the overlay of changes."""

from __future__ import annotations

import dataclasses

import pytest

from prosper_mock.world.records import LiveCall
from prosper_mock.world.store import BaseTable, Store, variable_keys


def call(
    i: int, phone: str = "+1555", at: str = "2026-01-01T00:00:00+00:00", **variables
) -> LiveCall:
    return LiveCall(call_log_id=i, user_phone_number=phone, started_at=at, variables=variables)


def store() -> Store[LiveCall]:
    base = BaseTable.from_records(
        [
            call(1, at="2026-01-01T00:00:01+00:00", k="a"),
            call(2, at="2026-01-01T00:00:03+00:00", k="a"),
            call(3, phone="+1666", at="2026-01-01T00:00:02+00:00", k=1, n=None),
        ]
    )
    return Store("live_calls", base)


def test_most_recent_wins_within_the_base() -> None:
    s = store()
    assert s.latest_by_phone("+1555").call_log_id == 2
    assert s.latest_by_variable("k", "a").call_log_id == 2
    assert s.latest_by_variable("k", "1").call_log_id == 3  # text form of 1


def test_null_variables_are_not_indexed() -> None:
    assert ("n", "null") not in dict(variable_keys({"n": None}))
    assert store().latest_by_variable("n", "null") is None


def test_overlay_row_newer_than_base_wins_and_reset_drops_it() -> None:
    s = store()
    s.put(call(9, at="2026-01-02T00:00:00+00:00", k="a"))
    assert s.latest_by_phone("+1555").call_log_id == 9
    assert s.latest_by_variable("k", "a").call_log_id == 9
    assert len(s) == 4
    s.reset()
    assert s.latest_by_phone("+1555").call_log_id == 2
    assert s.get(9) is None
    assert len(s) == 3


def test_replacing_a_base_row_reindexes_it() -> None:
    s = store()
    old = s.get(2)
    s.put(dataclasses.replace(old, variables={"k": "b"}))
    assert s.latest_by_variable("k", "a").call_log_id == 1  # 2 no longer matches
    assert s.latest_by_variable("k", "b").call_log_id == 2
    assert len(s) == 3


def test_deleting_falls_back_to_the_next_most_recent() -> None:
    s = store()
    assert s.delete(2)
    assert s.get(2) is None
    assert s.latest_by_phone("+1555").call_log_id == 1
    assert not s.delete(2)
    assert [r.call_log_id for r in s] == [1, 3]


def test_added_then_deleted_row_is_gone() -> None:
    s = store()
    s.put(call(7))
    assert s.delete(7)
    assert 7 not in s
    assert len(s) == 3
    assert s.max_id() == 7  # ids are never reused


def test_ties_on_time_go_to_the_larger_id() -> None:
    s = Store("live_calls", BaseTable.from_records([call(1), call(2)]))
    assert s.latest_by_phone("+1555").call_log_id == 2


def test_derived_base_fetches_rows_on_demand() -> None:
    fetched: list[int] = []

    def fetch(i: int) -> LiveCall:
        fetched.append(i)
        return call(i, at=f"2026-01-01T00:00:{i:02d}+00:00")

    base = BaseTable.derived(range(10, 20), fetch, lambda i: ("+1555", {"k": i % 2}))
    s = Store("live_calls", base)
    assert fetched == []
    assert s.latest_by_variable("k", "0").call_log_id == 18
    assert s.get(12).call_log_id == 12
    assert s.get(99) is None
    assert fetched == [18, 12]


def test_a_row_whose_keys_cannot_be_worked_out_changes_nothing() -> None:
    """``put`` works out the text forms first: a row it cannot index leaves the store as it was
    (its row and its indexes agree), rather than half-replaced."""
    s = store()
    s.put(call(7, k="before"))
    deep: object = "x"
    for _ in range(5000):  # rows from JSON are refused long before this (records.MAX_DEPTH)
        deep = [deep]
    with pytest.raises(RecursionError):
        s.put(call(7, k="after", deep=deep))
    assert s.get(7).variables == {"k": "before"}
    assert s.latest_by_variable("k", "before").call_log_id == 7
    assert s.latest_by_variable("k", "after") is None
    s.put(call(7, k="after"))  # and the next change works
    assert s.latest_by_variable("k", "after").call_log_id == 7
    assert s.latest_by_variable("k", "before") is None
