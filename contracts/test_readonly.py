"""Read-only properties: what must hold on any endpoint, even one the suite cannot change."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

import pytest

from prosper_contracts.findings import Finding
from prosper_contracts.rules import check_answer, variable_text
from prosper_contracts.runner import EndpointFault, fault_of
from prosper_contracts.target import Target

ORDER = {"live_calls": 0, "call_logs": 1}
LIVE_CALLS = "GET /api/v1/live-calls"


def samples(target: Target, config: pytest.Config) -> list[dict[str, str]]:
    """Known lookups: given with --prosper-sample, or a few calls of a mock's world."""
    given = [dict(parse_qsl(s, keep_blank_values=True)) for s in config.option.prosper_sample]
    if given or not target.is_mock:
        return given
    if target.world is not None:
        rows = [*list(target.world.live_calls)[:3], *list(target.world.call_logs)[-3:]]
        return [{"call_log_id": str(r.call_log_id)} for r in rows]
    if target.control is None:  # a mock is reachable in-process or through its control API
        return given
    sample_ids = target.control.health().get("sample_ids", {})
    ids = [*sample_ids.get("live_calls", []), *sample_ids.get("call_logs", [])]
    return [{"call_log_id": str(i)} for i in dict.fromkeys(ids)]


def test_lookups_from_an_answer_return_consistent_calls(
    contract_target: Target, request: pytest.FixtureRequest
) -> None:
    """Looking a call up again by its id, phone or any of its variables keeps the rules, and
    a call's source never goes back from call_logs to live_calls."""
    known = samples(contract_target, request.config)
    if not known:
        pytest.skip(
            "no known call: pass --prosper-sample call_log_id=N (or "
            "user_phone_number=..., or key=...&value=...)"
        )
    seen: dict[int, str] = {}
    found: list[Finding] = []

    def ask(params: dict[str, str]) -> dict[str, Any] | None:
        try:
            response = contract_target.get(params)
        except EndpointFault:
            return None  # no answer: the session's finding says so
        if fault_of(response) is not None:
            return None  # a 5xx or no JSON: a finding already, nothing to judge
        for v in check_answer(
            params, response.status_code, response.headers.get("content-type"), response.content
        ):
            found.append(Finding(v.rule, v.message, contract_target.curl(params), LIVE_CALLS))
        body = response.json() if response.status_code == 200 else None
        if not isinstance(body, dict):  # check_answer has reported a 200 that is no object
            return None
        call_id, source = body.get("call_log_id"), body.get("source")
        if isinstance(call_id, int) and source in ORDER:
            before = seen.get(call_id)
            if before is not None and ORDER[source] < ORDER[before]:
                found.append(
                    Finding(
                        "source-monotonic",
                        f"call {call_id} went from {before} back to {source}",
                        contract_target.curl(params),
                        LIVE_CALLS,
                    )
                )
            seen[call_id] = source
        return body

    for params in known:
        snapshot = ask(params)
        if snapshot is None:
            continue
        ask({"call_log_id": str(snapshot["call_log_id"])})
        ask({"user_phone_number": snapshot["user_phone_number"]})
        for name in [k for k in snapshot if k.startswith("variables.")][:6]:
            key = name.split(".", 1)[1].split(".", 1)[0]
            text = variable_text(snapshot, key)
            if text is not None:
                ask({"key": key, "value": text})
        ask({"call_log_id": str(snapshot["call_log_id"])})  # later: never back to live_calls
    for finding in found:
        contract_target.findings.add(finding)
    assert not found, "\n".join(str(f) for f in found)
