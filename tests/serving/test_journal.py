"""The request journal: ordered, bounded, readable as upstream reads parameters."""

from __future__ import annotations

import gc
import json
import time
import tracemalloc

import pytest
from hypothesis import given
from hypothesis import strategies as st

from prosper_mock import Journal, JournalEntry
from prosper_mock.serving.journal import Outbox


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


@given(st.lists(st.floats(allow_nan=False, allow_infinity=False), min_size=2, max_size=20))
def test_wall_times_follow_arrival_whatever_the_worlds_clock_says(clock: list[float]) -> None:
    journal = Journal()
    before = time.time()
    entries = [journal.record(at, "GET", "/", b"", None, 200) for at in clock]
    after = time.time()
    assert [e.time for e in entries] == clock  # the world's clock, kept as given
    walls = [e.wall_time for e in entries]
    assert walls == sorted(walls) and before <= walls[0] and walls[-1] <= after
    assert [e.to_dict()["wall_time"] for e in entries] == walls


def test_from_dict_reads_what_to_dict_wrote() -> None:
    journal = Journal()
    entry = journal.record(1.5, "GET", "/api/v1/live-calls", [("a", "1"), ("a", "2")], "op", 200)
    assert JournalEntry.from_dict(json.loads(json.dumps(entry.to_dict()))) == entry


def big_query(i: int) -> bytes:
    """A 16 KB query of the kind a client may send: one lookup and 8 000 blank parameters."""
    return b"call_log_id=%d" % i + b"&a" * 8000


def traced() -> int:
    gc.collect()
    return tracemalloc.get_traced_memory()[0]


def test_the_byte_bound_holds_and_the_accounting_is_honest() -> None:
    journal = Journal(max_bytes=256 * 1024)
    tracemalloc.start()
    try:
        before = traced()
        for i in range(12):  # fewer than the bound holds: nothing is evicted yet
            journal.record(float(i), "GET", "/api/v1/live-calls", big_query(i), "op", 200)
        held = traced() - before
        assert len(journal) == 12
        assert held <= journal.nbytes  # what the journal counts is what it holds, or more
        for i in range(12, 400):
            journal.record(float(i), "GET", "/api/v1/live-calls", big_query(i), "op", 200)
            assert journal.nbytes <= journal.max_bytes
        grown = traced() - before
    finally:
        tracemalloc.stop()
    assert grown <= journal.max_bytes + 64 * 1024
    seqs = [e.seq for e in journal]
    assert seqs == list(range(401 - len(seqs), 401))  # the newest, oldest evicted first
    assert 12 <= len(seqs) < 20
    assert len(journal) == len(seqs) and journal.maxlen == 10_000


def test_queries_are_kept_as_sent_and_parsed_when_read() -> None:
    journal = Journal()
    raw = journal.record(0.0, "GET", "/", b"key=a&key=b&x&v=%C3%A9+1", None, 422)
    assert raw.raw_query == b"key=a&key=b&x&v=%C3%A9+1"
    assert raw.query == (("key", "a"), ("key", "b"), ("x", ""), ("v", "é 1"))
    pairs = journal.record(0.0, "GET", "/", [("v", "é 1&="), ("", "x")], None, 200)
    assert pairs.query == (("v", "é 1&="), ("", "x"))


def test_entries_since_a_seq_and_the_bounds_checked() -> None:
    journal = Journal(maxlen=5)
    for i in range(8):
        journal.record(float(i), "GET", "/", b"", None, 200)
    assert [e.seq for e in journal.entries(since=5)] == [6, 7, 8]
    assert [e.seq for e in journal.entries(since=1)] == [4, 5, 6, 7, 8]  # 1-3 were evicted
    assert journal.entries(since=8) == [] and journal.entries(since=10**30) == []
    assert len(journal.entries(since=-(10**30))) == 5
    journal.clear()
    assert journal.nbytes == 0 and journal.record(0.0, "GET", "/", b"", None, 200).seq == 9
    for bad in ({"maxlen": 0}, {"max_bytes": 0}, {"max_bytes": -1}):
        with pytest.raises(ValueError, match="must be"):
            Journal(**bad)


def test_the_size_counted_is_the_memory_held() -> None:
    journal = Journal(max_bytes=1 << 30)
    tracemalloc.start()
    try:
        before = traced()
        for i in range(2000):  # every part fresh, as a request's are
            journal.record(float(i) + 0.5, "".join("GET"), f"/p/{i}", b"id=%d" % i, "op", 300 + i)
        held = traced() - before
    finally:
        tracemalloc.stop()
    assert 0.9 * journal.nbytes <= held <= journal.nbytes


def test_a_journal_filter_keeps_entries_matching_every_given_field() -> None:
    from prosper_mock.serving.journal import JournalFilter

    journal = Journal()
    journal.record(1.0, "GET", "/api/v1/live-calls", b"call_log_id=3&x=1", "op", 200)
    journal.record(2.0, "GET", "/api/v1/live-calls", b"call_log_id=4", "op", 404)
    first, second = journal.entries()
    assert JournalFilter().matches(first) and JournalFilter().matches(second)
    assert [JournalFilter(params={"call_log_id": "3"}).matches(e) for e in (first, second)] == [
        True,
        False,
    ]
    assert not JournalFilter(status=200, params={"call_log_id": "4"}).matches(second)
    assert JournalFilter(method="GET", path="/api/v1/live-calls", status=404).matches(second)


SECRETS = ("Authorization", "authorization", "X-API-Key", "Cookie", "Proxy-Authorization")


@given(
    st.lists(st.tuples(st.sampled_from(SECRETS), st.text(min_size=8, max_size=20)), max_size=3),
    st.lists(st.tuples(st.sampled_from(("Accept", "X-Mock-Fault")), st.text(max_size=10))),
)
def test_credentials_are_never_kept_and_other_headers_are(
    secret: list[tuple[str, str]], plain: list[tuple[str, str]]
) -> None:
    entry = Journal().record(0.0, "GET", "/", b"", None, 200, headers=secret + plain)
    kept = entry.to_dict()["headers"]
    assert kept == [[n, "[redacted]"] for n, _ in secret] + [list(p) for p in plain]
    assert JournalEntry.from_dict(json.loads(json.dumps(entry.to_dict()))) == entry


def test_an_apps_own_api_key_header_is_redacted_too() -> None:
    journal = Journal()
    journal.secret_headers |= {"x-prosper-key"}
    entry = journal.record(0.0, "GET", "/", b"", None, 200, headers=[("X-Prosper-Key", "k")])
    assert entry.headers == (("X-Prosper-Key", "[redacted]"),)


def test_bodies_are_cut_with_a_mark_and_read_back_cut() -> None:
    from prosper_mock.serving.journal import MAX_BODY_BYTES

    long, short = b"x" * (MAX_BODY_BYTES + 10), b'{"a": 1}'
    entry = Journal().record(
        0.0, "POST", "/", b"", "op", 201, body=long, answer_body=short, producer="stub", stub="s1"
    )
    shown = entry.to_dict()
    assert (len(shown["body"]), shown["body_truncated"]) == (MAX_BODY_BYTES, True)
    assert (shown["answer"]["body"], shown["answer"]["body_truncated"]) == ('{"a": 1}', False)
    assert (shown["producer"], shown["stub"], shown["answer"]["status"]) == ("stub", "s1", 201)
    again = JournalEntry.from_dict(json.loads(json.dumps(shown)))
    assert again.to_dict() == shown


def test_headers_and_bodies_count_towards_the_byte_bound() -> None:
    journal = Journal(max_bytes=1 << 30)
    tracemalloc.start()
    try:
        before = traced()
        for i in range(1000):  # every part fresh, as a request's are
            headers = [(f"X-H{i}", "v" * 40), ("Accept", f"a/{i}")]
            body, answer = b"b%d" % i * 300, b"a%d" % i * 300
            journal.record(
                0.5, "".join("GET"), f"/p/{i}", b"", "op", 200,
                headers=headers, body=body, answer_headers=headers, answer_body=answer,
            )  # fmt: skip
        held = traced() - before
    finally:
        tracemalloc.stop()
    assert 0.8 * journal.nbytes <= held <= journal.nbytes


def _numbered_elsewhere(count: int) -> list[JournalEntry | None]:
    source = Journal()
    return [source.record(float(i), "GET", f"/{i}", b"", None, 200) for i in range(count)]


def test_on_a_shared_store_entries_wait_in_the_outbox_until_numbered_there() -> None:
    journal = Journal(maxlen=3)
    journal.outbox = Outbox(journal.maxlen, journal.max_bytes)
    made = [journal.record(0.0, "GET", f"/{i}", b"", None, 200) for i in range(5)]
    assert journal.entries() == [] and len(journal.outbox) == 3  # the journal's bounds
    taken = journal.outbox.take()
    assert taken == made[2:] and [e.seq for e in taken] == [3, 4, 5] and not journal.outbox
    journal.take(1, taken)
    assert [(e.seq, e.path) for e in journal.entries()] == [(1, "/2"), (2, "/3"), (3, "/4")]


def test_taking_skips_what_is_held_gone_or_cleared_and_always_reads_past_it() -> None:
    journal = Journal()
    entries = _numbered_elsewhere(6)
    journal.take(1, entries[:2])
    journal.take(1, entries[:3])  # the first two again: held already
    assert [e.seq for e in journal.entries()] == [1, 2, 3]
    journal.clear(through=5)  # cleared elsewhere, through entries this journal never took
    journal.take(4, [entries[3], None, entries[5]])
    assert [e.seq for e in journal.entries()] == [6] and journal.last_seq == 6


def test_a_gap_in_what_is_taken_keeps_the_seqs_consecutive() -> None:
    journal = Journal()
    entries = _numbered_elsewhere(5)
    journal.take(1, entries[:2])
    journal.take(4, entries[3:])  # 3 was trimmed away before this journal read it
    assert [e.seq for e in journal.entries()] == [4, 5]
    assert [e.seq for e in journal.entries(since=4)] == [5]


def _fields(entry: JournalEntry) -> dict[str, object]:
    return {**entry.to_dict(), "wall_time": None, "sizes": (entry.body_size, entry.answer_size)}


@given(
    st.lists(st.tuples(st.sampled_from(["record", "defer", "read", "clear"]), st.integers(0, 3))),
    st.integers(1, 6),
    st.sampled_from([1 << 20, 2000, 1200]),
    st.booleans(),
)
def test_deferred_requests_read_as_recorded_ones(
    steps: list[tuple[str, int]], maxlen: int, max_bytes: int, shared: bool
) -> None:
    deferring, recording = Journal(maxlen, max_bytes), Journal(maxlen, max_bytes)
    if shared:
        deferring.outbox = Outbox(maxlen, max_bytes)
        recording.outbox = Outbox(maxlen, max_bytes)
    likes: dict[int, JournalEntry] = {}
    for at, (step, kind) in enumerate(steps):
        answer = b"x" * 300 * kind  # sizes that make the byte bound drop entries
        headers = [("Cookie", "c"), ("Accept", "*/*")]
        if step == "defer" and kind in likes:
            deferring.defer(float(at), likes[kind])
            recording.record(
                float(at), "GET", f"/{kind}", b"q", "op", 200, headers=headers, answer_body=answer
            )
        elif step in ("record", "defer"):
            likes[kind] = deferring.record(
                float(at), "GET", f"/{kind}", b"q", "op", 200, headers=headers, answer_body=answer
            )
            recording.record(
                float(at), "GET", f"/{kind}", b"q", "op", 200, headers=headers, answer_body=answer
            )
        elif step == "clear":
            deferring.clear()
            recording.clear()
        else:
            assert len(deferring) == len(recording)
    if shared:
        assert deferring.outbox is not None and recording.outbox is not None
        taken, expected = deferring.outbox.take(), recording.outbox.take()
        assert list(map(_fields, taken)) == list(map(_fields, expected))
    got, expected = deferring.entries(), recording.entries()
    assert list(map(_fields, got)) == list(map(_fields, expected))
    assert deferring.nbytes == recording.nbytes and deferring.last_seq == recording.last_seq
    walls = [e.wall_time for e in got]
    assert walls == sorted(walls)


def test_a_deferred_request_is_made_once_read_and_costs_a_tuple_until_then() -> None:
    journal = Journal(maxlen=3)
    like = journal.record(0.0, "GET", "/a", b"id=1", "op", 200, headers=[("Cookie", "c")])
    for i in range(1, 200):  # past what waits: the oldest are dropped unmade, still counted
        journal.defer(float(i), like)
    entries = journal.entries()
    assert [(e.seq, e.time) for e in entries] == [(198, 197.0), (199, 198.0), (200, 199.0)]
    assert all(e is not like and e.headers == (("Cookie", "[redacted]"),) for e in entries)
    journal.defer(6.0, like)
    journal.clear()  # what waits is cleared too, unmade
    journal.defer(7.0, like)
    assert [e.seq for e in journal.entries()] == [202] and journal.cleared_through == 201
