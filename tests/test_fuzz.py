"""A short fuzz run in the suite (the long one is ``python -m benchmarks.fuzz``)."""

from __future__ import annotations

from benchmarks.fuzz import run


def test_short_fuzz_run_finds_no_server_error_and_no_broken_rule() -> None:
    figures = run(total=200)
    assert figures["requests"] == 200
    assert figures["server_errors_5xx"] == 0
    assert figures["broken_rules"] == {}, figures["examples"]
    assert set(figures["by_status"]) <= {200, 400, 404, 422}
