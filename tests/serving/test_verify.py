"""Journal verification: counts as expected, and near misses nearest first."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from prosper_mock.serving.journal import Journal
from prosper_mock.serving.matching import RequestPattern
from prosper_mock.serving.verify import Expected, verify


@given(st.integers(0, 6), st.integers(0, 6))
def test_exactly_at_least_and_at_most_hold_as_they_say(count: int, n: int) -> None:
    assert Expected(exactly=n).holds(count) == (count == n)
    assert Expected(at_least=n).holds(count) == (count >= n)
    assert Expected(at_most=n).holds(count) == (count <= n)
    assert Expected().holds(count) == (count >= 1)


def test_a_failed_verification_lists_the_nearest_misses_first() -> None:
    journal = Journal()
    journal.record(0.0, "POST", "/api/v1/call-logs", b"", None, 405)
    journal.record(0.0, "GET", "/api/v1/call-logs", b"limit=5", None, 200)
    journal.record(0.0, "GET", "/api/v1/live-calls", b"", None, 200)
    body = b'{"targets": [{"external_id": "E"}]}'
    journal.record(0.0, "POST", "/api/v1/campaigns/c/targets", b"", None, 200, body=body)
    pattern = RequestPattern("GET", "/api/v1/call-logs", {"limit": "6"})
    verdict = verify(journal.entries(), pattern, Expected(exactly=1))
    assert (verdict["ok"], verdict["count"], verdict["expected"]) == (False, 0, "exactly 1")
    misses = [
        (m["entry"]["seq"], [d["part"] for d in m["differences"]]) for m in verdict["near_misses"]
    ]
    assert misses[0] == (2, ["query.limit"])
    assert len(misses) == 3
    subset = RequestPattern(
        "POST", "/api/v1/campaigns/{campaign_id}/targets", body={"targets": [{"external_id": "E"}]}
    )
    assert verify(journal.entries(), subset, Expected(exactly=1)) == {
        "ok": True, "count": 1, "expected": "exactly 1", "seqs": [4], "near_misses": [],
    }  # fmt: skip
