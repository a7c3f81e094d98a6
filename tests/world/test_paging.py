"""Paging helpers: kept indexes and merged slices agree with the plain lists they stand for."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from prosper_mock.world.paging import Kept, make_page, merged_slice, window


@given(
    lo=st.integers(0, 30),
    size=st.integers(0, 30),
    dropped=st.lists(st.integers(0, 70), max_size=10),
    descending=st.booleans(),
)
def test_kept_indexes_are_the_range_without_the_dropped(
    lo: int, size: int, dropped: list[int], descending: bool
) -> None:
    hi = lo + size
    expected = [i for i in range(lo, hi) if i not in set(dropped)]
    if descending:
        expected.reverse()
    kept = Kept(lo, hi, dropped, descending)
    assert len(kept) == len(expected)
    assert [kept[i] for i in range(len(kept))] == expected


@given(
    ids=st.sets(st.integers(0, 200), max_size=60),
    extra_share=st.integers(0, 5),
    start=st.integers(0, 70),
    count=st.integers(1, 20),
)
def test_a_merged_slice_is_the_slice_of_the_merge(
    ids: set[int], extra_share: int, start: int, count: int
) -> None:
    ordered = sorted(ids)
    extra = [i for i in ordered if extra_share and i % 6 < extra_share]
    base = [i for i in ordered if i not in set(extra)]
    assert merged_slice(base, extra, lambda i: i, start, count) == ordered[start : start + count]


@given(values=st.lists(st.integers(0, 50), max_size=40), a=st.integers(0, 50), b=st.integers(0, 50))
def test_a_window_is_inclusive(values: list[int], a: int, b: int) -> None:
    values.sort()
    low, high = min(a, b), max(a, b)
    lo, hi = window(values, float, low, high)
    assert values[lo:hi] == [v for v in values if low <= v <= high]


def test_page_counts_and_next_pages() -> None:
    assert make_page([1, 2], 5, 0, 2) == make_page([1, 2], 5, 0, 2)
    page = make_page([1, 2], 5, 1, 2)
    assert page.page_count == 3 and page.next_page == 2
    last = make_page([5], 5, 2, 2)
    assert last.next_page is None and make_page([], 0, 0, 10).page_count == 0
