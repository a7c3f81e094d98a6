"""Journal pages: filters, the entry limit, the byte limit, and the cursor."""

from __future__ import annotations

import json

import pytest

from prosper_mock.control import paging
from prosper_mock.control.paging import journal_page
from prosper_mock.serving.journal import Journal, JournalFilter


def journal() -> Journal:
    j = Journal()
    for i in range(6):
        status = 200 if i % 2 == 0 else 404
        j.record(float(i), "GET", "/api/v1/live-calls", f"call_log_id={i}".encode(), None, status)
    return j


def test_a_filtered_page_and_its_cursor() -> None:
    page = json.loads(journal_page(journal().entries(), 0, 2, JournalFilter(status=200)))
    assert [e["seq"] for e in page["entries"]] == [1, 3]
    assert page["more"] is True and page["next_since"] == 4  # seq 4 (a 404) was passed over
    rest = json.loads(journal_page(journal().entries(4), 4, 2, JournalFilter(status=200)))
    assert [e["seq"] for e in rest["entries"]] == [5]
    assert rest == {**rest, "more": False, "next_since": 6}  # seq 6 (a 404) was passed over


def test_filters_by_method_path_and_params() -> None:
    entries = journal().entries()
    assert JournalFilter(params={"call_log_id": "3"}).matches(entries[3])
    assert not JournalFilter(params={"call_log_id": "3"}).matches(entries[2])
    assert not JournalFilter(method="POST").matches(entries[0])
    assert not JournalFilter(path="/other").matches(entries[0])
    assert JournalFilter().matches(entries[0])


def test_a_page_stays_under_its_byte_limit_but_holds_one_entry(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(paging, "JOURNAL_PAGE_BYTES", 10)
    page = json.loads(journal_page(journal().entries(), 0, 100, JournalFilter()))
    assert len(page["entries"]) == 1 and page["more"] is True and page["next_since"] == 1
