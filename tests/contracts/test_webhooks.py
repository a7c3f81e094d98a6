"""The webhook suite (``contracts/test_webhooks.py``) holds on the mock, and its rule
(``contracts/webhooks.py``) names what a mock or endpoint gets wrong."""

from __future__ import annotations

from typing import Any

import pytest

from prosper_contracts.target import Target
from prosper_contracts.test_webhooks import run
from prosper_contracts.webhooks import RULE, check_webhooks_per_attempt
from prosper_mock import (
    ControlClient,
    MockServer,
    VirtualClock,
    WebhookReceiver,
    World,
    WorldRecipe,
)

TARGET = {"id": "t", "status": "Finished", "call_log_ids": [11, 12]}
LOGS: dict[int, tuple[int, Any]] = {
    11: (200, {"campaign_target_id": "t"}),
    12: (200, {"campaign_target_id": "t"}),
}


def _payload(attempt: int, call: int, next_at: str | None = None) -> dict[str, Any]:
    return {
        "campaign_id": "c",
        "call_log_id": call,
        "target_id": "t",
        "attempt": attempt,
        "max_attempts": 3,
        "next_attempt_scheduled": next_at,
    }


def test_one_webhook_per_attempt_agreeing_with_the_api_holds() -> None:
    payloads = [_payload(1, 11, "2026-01-15T16:00:00.000+00:00"), _payload(2, 12)]
    assert check_webhooks_per_attempt(TARGET, payloads, LOGS) == []


@pytest.mark.parametrize(
    ("payloads", "target", "logs", "said"),
    [
        ([_payload(1, 11)], TARGET, LOGS, "webhooks for attempts [1]"),
        ([_payload(1, 11), _payload(1, 11), _payload(2, 12)], TARGET, LOGS, "[1, 1, 2]"),
        ([_payload(1, 12), _payload(2, 12)], TARGET, LOGS, "attempt 1 names call 12"),
        ([_payload(1, 11), {**_payload(2, 12), "extra": 1}], TARGET, LOGS, "extra ['extra']"),
        ([_payload(1, 11), _payload(2, 12, "2026-01-16")], TARGET, LOGS, "names a next one"),
        ([_payload(1, 11), _payload(2, 12)], {**TARGET, "status": "In Progress"}, LOGS, "'In"),
        ([_payload(1, 11), _payload(2, 12)], TARGET, {11: LOGS[11]}, "/call-logs/12 answers"),
        (
            [_payload(1, 11), _payload(2, 12)],
            TARGET,
            {**LOGS, 12: (200, {"campaign_target_id": "other"})},
            "call log 12 is not target t's",
        ),
    ],
)
def test_each_disagreement_is_named(
    payloads: list[dict[str, Any]], target: dict[str, Any], logs: Any, said: str
) -> None:
    found = check_webhooks_per_attempt(target, payloads, logs)
    assert found and all(v.rule == RULE for v in found)
    assert any(said in v.message for v in found), found


def _suite(receiver: WebhookReceiver) -> None:
    clock = VirtualClock("2026-03-02T15:00:00+00:00")
    world = World.generate(WorldRecipe(seed=5, live_calls=0, call_logs=5), clock=clock)
    with MockServer(world) as server:
        run(Target(server.base_url, world=server.world), ControlClient(server.base_url), receiver)


def test_the_suite_holds_on_the_mock() -> None:
    with WebhookReceiver() as receiver:
        _suite(receiver)
        attempts = [p["attempt"] for p in receiver.payloads]
        assert len(attempts) >= 9 and max(attempts) >= 2  # every attempt, retries included


def test_the_suite_fails_naming_the_rule_when_webhooks_come_twice() -> None:
    with WebhookReceiver() as receiver:

        class Twice(WebhookReceiver):
            @property
            def payloads(self) -> list[Any]:
                return [p for p in super().payloads for _ in range(2)]

        receiver.__class__ = Twice
        with pytest.raises(AssertionError, match=rf"\[{RULE}\]"):
            _suite(receiver)
