"""Target-finished webhooks, end to end: targets added and launched, the clock moved through
every attempt (retries included), and each finished target judged against the webhooks a
real loopback receiver got (``webhooks.check_webhooks_per_attempt``).

Only against the mock: it writes, moves the clock, and sets where webhooks go. It runs on a
mock of its own (in-process, virtual clock), whatever the target, so it never changes a
running one.
"""

from __future__ import annotations

import time

import pytest

from prosper_contracts.answers import operation_for
from prosper_contracts.findings import Finding
from prosper_contracts.target import Target
from prosper_contracts.webhooks import RULE, check_webhooks_per_attempt
from prosper_mock import (
    ControlClient,
    MockServer,
    VirtualClock,
    WebhookReceiver,
    World,
    WorldRecipe,
)

TARGETS = 6
NO_ANSWER = {"category": "NO_RESPONSE", "target_status": "Scheduled"}
SETTLE_SECONDS = 20.0  # at most, for every event to be delivered after the last clock move


def test_workflow_webhooks(contract_target: Target) -> None:
    """Launch targets, move the clock through every attempt, and check that each finished
    target produced exactly one webhook per attempt, agreeing with the API."""
    if not contract_target.is_mock:
        pytest.skip(
            "the webhook test writes, moves the clock and sets where webhooks go: it needs a "
            "prosper-voice-mock (it runs on one of its own)"
        )
    clock = VirtualClock("2026-03-02T15:00:00+00:00")
    world = World.generate(WorldRecipe(seed=5, live_calls=0, call_logs=5), clock=clock)
    with WebhookReceiver() as receiver, MockServer(world) as server:
        own = Target(
            server.base_url,
            record=contract_target.record.own_mock(test_workflow_webhooks.__name__),
            world=server.world,
        )
        run(own, ControlClient(server.base_url), receiver)


def run(target: Target, control: ControlClient, receiver: WebhookReceiver) -> None:
    """The suite against ``target`` (a mock driven by ``control``), webhooks to ``receiver``."""
    campaign = str(control.campaigns()[0]["id"])
    control.set_webhook(campaign, receiver.url)
    phones = [{"phone_number": f"+155577710{n:02d}"} for n in range(TARGETS)]
    adding = f"/api/v1/campaigns/{campaign}/targets"
    # through the run's session, as every request to the API: counted and judged
    answer = target.request("POST", adding, json={"targets": phones, "launch": True})
    if answer.status_code != 200:
        message = f"adding targets answered {answer.status_code}"
        spec = operation_for("POST", adding)
        label = spec.label if spec is not None else f"POST {adding}"
        target.findings.add(Finding(RULE, message, target.last_curl() or "", label))
        return
    added = answer.json()
    ids = [t["id"] for t in added["targets"]]
    for call in added["call_log_ids"][: TARGETS // 2]:  # unanswered: these are called again
        control.end_call(call, call_categorization=NO_ANSWER)
    for _ in range(4):  # a day a step: every attempt ends, and every retry is placed
        control.advance_clock(86_400)
    deadline = time.monotonic() + SETTLE_SECONDS
    while control.webhook_events(state="pending") and time.monotonic() < deadline:
        time.sleep(0.05)
    for target_id in ids:
        path = f"/api/v1/targets/{target_id}"
        found = target.get(path=path)
        view = found.json() if found.status_code == 200 else {"id": target_id}
        payloads = [p for p in receiver.payloads if p.get("target_id") == target_id]
        logs = {}
        for payload in payloads:
            call = payload.get("call_log_id")
            if isinstance(call, int):
                answer = target.get(path=f"/api/v1/call-logs/{call}")
                body = answer.json() if answer.status_code == 200 else None
                logs[call] = (answer.status_code, body)
        for violation in check_webhooks_per_attempt(view, payloads, logs):
            spec = operation_for("GET", path)
            label = spec.label if spec is not None else f"GET {path}"
            target.findings.add(Finding(RULE, violation.message, target.curl(None, path), label))
    broken = [f for f in target.findings.items if f.rule == RULE]
    assert not broken, "\n".join(f"[{f.rule}] {f.message}" for f in broken)
