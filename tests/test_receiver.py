"""The webhook receiver tests use: what it answers, what it keeps, how it waits."""

from __future__ import annotations

import contextlib
import time

import pytest
import requests

from prosper_mock.receiver import WebhookReceiver


def test_it_answers_as_told_and_keeps_every_request_in_order() -> None:
    with WebhookReceiver(path="/in") as receiver:
        assert receiver.url.endswith("/in")
        receiver.answer(500, times=2)
        statuses = [
            requests.post(receiver.url, json={"n": n}, timeout=5).status_code for n in range(3)
        ]
        assert statuses == [500, 500, 200]
        requests.post(receiver.url, data=b"not json", timeout=5)
        got = receiver.received
        assert [r.status for r in got] == [500, 500, 200, 200]
        assert got[-1].json is None and got[-1].body == b"not json"
        assert receiver.payloads == [{"n": 0}, {"n": 1}, {"n": 2}, None]
        receiver.clear()
        assert receiver.received == []


def test_a_delay_makes_a_slow_receiver_and_stop_cuts_it_short() -> None:
    receiver = WebhookReceiver().start()
    receiver.answer(200, delay=0.3)
    began = time.monotonic()
    requests.post(receiver.url, json={}, timeout=5)
    assert time.monotonic() - began >= 0.3
    receiver.answer(200, delay=60)
    with contextlib.suppress(requests.Timeout):  # the receiver has not answered yet
        requests.post(receiver.url, json={}, timeout=0.2)
    began = time.monotonic()
    receiver.stop()
    assert time.monotonic() - began < 5


def test_wait_for_counts_only_answered_2xx_of_the_target_and_attempt() -> None:
    with WebhookReceiver() as receiver:
        receiver.answer(503, times=1)
        for attempt in (1, 1, 2):
            requests.post(receiver.url, json={"target_id": "t", "attempt": attempt}, timeout=5)
        assert receiver.wait_for("t", attempt=1) == [{"target_id": "t", "attempt": 1}]
        assert len(receiver.wait_for("t", delivered=False, count=3)) == 3
        with pytest.raises(AssertionError, match="expected 2 webhook"):
            receiver.wait_for("t", attempt=2, count=2, timeout=0.1)
