"""The target-finished webhook rule: one delivery per attempt, agreeing with the API.

A pure function of answers already fetched (``test_webhooks.py`` fetches them; the unit tests
hand it canned ones): a finished target's ``GET /api/v1/targets/{id}``, the webhook payloads
received for it, and the status and body of ``GET /api/v1/call-logs/{id}`` for each
``call_log_id`` they name.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from prosper_contracts.rules import Violation

RULE = "webhook-per-attempt"
KEYS = frozenset(
    {"campaign_id", "call_log_id", "target_id", "attempt", "max_attempts", "next_attempt_scheduled"}
)
UNFINISHED = ("Pending", "Scheduled", "In Progress")


def check_webhooks_per_attempt(
    target: Mapping[str, Any],
    payloads: Sequence[Mapping[str, Any]],
    logs: Mapping[int, tuple[int, Any]],
) -> list[Violation]:
    """Where a finished ``target`` and the webhooks received for it disagree: exactly one per
    attempt (attempt ``n`` names the ``n``-th of its ``call_log_ids``), upstream's six keys,
    each ``call_log_id`` found by ``GET /call-logs/{id}`` (``logs``: id -> (status, body))
    for this target, only the last attempt without a next one."""
    found: list[Violation] = []
    target_id = target.get("id")
    calls = list(target.get("call_log_ids") or [])
    if target.get("status") in UNFINISHED:
        found.append(Violation(RULE, f"target {target_id} is {target.get('status')!r}"))
    attempts = sorted(a for p in payloads if isinstance(a := p.get("attempt"), int))
    if attempts != list(range(1, len(calls) + 1)):
        found.append(
            Violation(
                RULE,
                f"target {target_id}: {len(calls)} attempt(s) (calls {calls}), webhooks for "
                f"attempts {attempts}",
            )
        )
    for payload in payloads:
        keys = set(payload)
        if keys != KEYS:
            extra, missing = sorted(keys - KEYS), sorted(KEYS - keys)
            found.append(Violation(RULE, f"payload keys: extra {extra}, missing {missing}"))
        attempt, call = payload.get("attempt"), payload.get("call_log_id")
        if isinstance(attempt, int) and 1 <= attempt <= len(calls) and calls[attempt - 1] != call:
            found.append(
                Violation(
                    RULE,
                    f"attempt {attempt} names call {call}, the target's is {calls[attempt - 1]}",
                )
            )
        status, body = logs.get(call, (None, None)) if isinstance(call, int) else (None, None)
        if status != 200:
            found.append(Violation(RULE, f"GET /call-logs/{call} answers {status}"))
        elif not isinstance(body, Mapping) or body.get("campaign_target_id") != target_id:
            found.append(Violation(RULE, f"call log {call} is not target {target_id}'s"))
        last = attempt == len(calls)
        if last and payload.get("next_attempt_scheduled") is not None:
            found.append(
                Violation(RULE, f"the last attempt ({attempt}) names a next one, and none came")
            )
    return found
