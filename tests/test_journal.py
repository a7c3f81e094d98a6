"""The request journal: ordered, bounded, readable as upstream reads parameters."""

from __future__ import annotations

import json

from prosper_mock import Journal, JournalEntry


def test_entries_are_ordered_bounded_and_cleared() -> None:
    journal = Journal(maxlen=3)
    for i in range(5):
        journal.record(float(i), "GET", "/api/v1/live-calls", [("call_log_id", str(i))], "op", 200)
    entries = journal.entries()
    assert [e.seq for e in entries] == [3, 4, 5] and len(journal) == 3
    assert entries[-1].to_dict()["query"] == [["call_log_id", "4"]]
    journal.clear()
    assert journal.entries() == []


def test_params_read_the_last_repeat() -> None:
    entry = Journal().record(0.0, "GET", "/", [("key", "a"), ("key", "b")], None, 422)
    assert entry.params == {"key": "b"}


def test_from_dict_reads_what_to_dict_wrote() -> None:
    journal = Journal()
    entry = journal.record(1.5, "GET", "/api/v1/live-calls", [("a", "1"), ("a", "2")], "op", 200)
    assert JournalEntry.from_dict(json.loads(json.dumps(entry.to_dict()))) == entry
