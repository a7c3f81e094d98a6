"""A store: the seeded base layer merged with the overlay of changes."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from prosper_mock.world.records import LiveCall
from prosper_mock.world.store import BaseTable, Store, recency, variable_keys


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


# --- the store against a plain dict of rows -------------------------------------------

_PHONES = ("+1555", "+1666", "+1777")
_TIMES = tuple(f"2026-01-01T00:00:0{s}+00:00" for s in range(4))  # few: ties on time happen
_NAMES = ("k", "m")
# 1, "1" and True share or differ in text form: the index must agree with variable_keys.
_VALUES = st.sampled_from(["a", "b", 1, "1", True, None, 2.5])
_IDS = st.integers(1, 9)  # the base holds 1..5: puts replace base rows and add new ones
_BASE = (
    call(1, "+1555", _TIMES[0], k="a"),
    call(2, "+1666", _TIMES[0], k="a", m=1),
    call(3, "+1555", _TIMES[1], k=None, m="1"),
    call(4, "+1777", _TIMES[2], m=True),
    call(5, "+1555", _TIMES[2]),
)

_rows = st.builds(
    call,
    _IDS,
    st.sampled_from(_PHONES),
    st.sampled_from(_TIMES),
).flatmap(
    lambda row: st.dictionaries(st.sampled_from(_NAMES), _VALUES, max_size=2).map(
        lambda variables: dataclasses.replace(row, variables=variables)
    )
)


def _latest(rows: Iterable[LiveCall]) -> LiveCall | None:
    return max(rows, key=recency, default=None)


class StoreAgainstADict(RuleBasedStateMachine):
    """Every change goes to the store and to a dict of rows; every lookup must agree."""

    def __init__(self) -> None:
        super().__init__()
        self.base_rows = {r.call_log_id: r for r in _BASE}
        self.model: dict[int, LiveCall] = dict(self.base_rows)
        self.high = 0  # the largest id put since the base (Store.max_id counts it)
        self.store: Store[LiveCall] = Store("live_calls", BaseTable.from_records(_BASE))

    @initialize(derived=st.booleans())
    def choose_base(self, derived: bool) -> None:
        if derived:  # rows built on demand from their ids, as a generated world's are
            rows = self.base_rows
            base = BaseTable.derived(
                range(1, 6),
                lambda i: dataclasses.replace(rows[i]),
                lambda i: (rows[i].user_phone_number, rows[i].variables),
            )
            self.store = Store("live_calls", base, cache_size=2)  # the cache refills often

    @rule(row=_rows)
    def put(self, row: LiveCall) -> None:
        self.store.put(row)
        self.model[row.call_log_id] = row
        self.high = max(self.high, row.call_log_id)

    @rule(call_log_id=_IDS)
    def delete(self, call_log_id: int) -> None:
        assert self.store.delete(call_log_id) == (call_log_id in self.model)
        self.model.pop(call_log_id, None)

    @rule()
    def reset(self) -> None:
        self.store.reset()
        self.model = dict(self.base_rows)
        self.high = 0

    @rule()
    def apply_changes(self) -> None:
        """The overlay replayed onto a fresh store over the same base, as a restart does."""
        replayed: Store[LiveCall] = Store("live_calls", self.store.base)
        for call_log_id, row in sorted(self.store.changed.items()):
            if row is None:
                assert replayed.delete(call_log_id)
            else:
                replayed.put(row)
        self.store = replayed
        self.high = max((i for i, r in replayed.changed.items() if r is not None), default=0)

    @rule(row=_rows)
    def copy_then_change_the_copy(self, row: LiveCall) -> None:
        twin = self.store.copy()
        twin.put(row)  # the original must not see it
        twin.delete(1)

    @invariant()
    def rows_by_id_agree(self) -> None:
        for call_log_id in range(0, 11):
            assert self.store.get(call_log_id) == self.model.get(call_log_id)
            assert (call_log_id in self.store) == (call_log_id in self.model)

    @invariant()
    def lookups_by_phone_agree(self) -> None:
        for phone in _PHONES:
            found = self.store.latest_by_phone(phone)
            assert found == _latest(r for r in self.model.values() if r.user_phone_number == phone)

    @invariant()
    def lookups_by_variable_agree(self) -> None:
        keys = {key for r in self.model.values() for key in variable_keys(r.variables)}
        keys |= {(name, text) for name in _NAMES for text in ("a", "1", "true", "none")}
        for name, text in keys:
            found = self.store.latest_by_variable(name, text)
            expected = _latest(
                r for r in self.model.values() if (name, text) in set(variable_keys(r.variables))
            )
            assert found == expected, (name, text)

    @invariant()
    def counts_order_and_ids_agree(self) -> None:
        assert len(self.store) == len(self.model)
        base = [i for i in sorted(self.base_rows) if i in self.model]
        added = sorted(i for i in self.model if i not in self.base_rows)
        assert [r.call_log_id for r in self.store] == base + added
        assert self.store.max_id() == max(5, self.high)
        for call_log_id, row in self.store.changed.items():
            assert row is not None or call_log_id in self.base_rows  # None: a base row deleted


StoreAgainstADict.TestCase.settings = settings(
    max_examples=60, stateful_step_count=25, deadline=None
)
test_the_store_agrees_with_a_dict_of_rows = StoreAgainstADict.TestCase


def test_ids_beyond_64_bits_join_a_key_that_already_has_two() -> None:
    # One phone, three calls: the third id does not fit the packed array the first two made.
    rows = [
        LiveCall(
            call_log_id=i, user_phone_number="+15550001111", started_at=f"2026-01-15T15:0{n}:00Z"
        )
        for n, i in enumerate((1, 2, 2**70))
    ]
    table = BaseTable.from_records(rows)
    assert sorted(table.by_phone["+15550001111"]) == [1, 2, 2**70]
