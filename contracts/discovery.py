"""Discovery: what an endpoint does where upstream documents nothing, next to the mock.

Each probe is a request whose answer upstream leaves open (docs/semantics.md's kit
decisions). The report shows both answers, and for each difference the
``prosper-mock serve`` option that makes the mock match, when there is one.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests

from prosper_mock.base.upstream import LIVE_CALLS_PATH


@dataclass(frozen=True)
class Probe:
    """One request whose answer upstream leaves open (live-calls unless ``path`` says)."""

    name: str
    params: list[tuple[str, str]]
    question: str
    method: str = "GET"
    path: str = LIVE_CALLS_PATH
    body: Any = None


@dataclass(frozen=True)
class Observation:
    probe: Probe
    target: tuple[int, Any]
    mock: tuple[int, Any]

    @property
    def same(self) -> bool:
        return self.target == self.mock


UNKNOWN_ID = "2147483000"


def probes(sample: dict[str, Any] | None) -> list[Probe]:
    """The undocumented cases; ``sample`` (a known snapshot) enables the ones that need a call."""
    found = [
        Probe("no parameters", [], "nothing to look up"),
        Probe("key without value", [("key", "external_id")], "incomplete variable lookup"),
        Probe("value without key", [("value", "PAT-001")], "incomplete variable lookup"),
        Probe(
            "empty key and value", [("key", ""), ("value", "")], "empty strings: given or missing?"
        ),
        Probe("unknown call_log_id", [("call_log_id", UNKNOWN_ID)], "not found"),
        Probe("unknown phone", [("user_phone_number", "+10000000000")], "not found"),
        Probe(
            "repeated call_log_id",
            [("call_log_id", "x"), ("call_log_id", UNKNOWN_ID)],
            "which repeat wins (first is invalid, last is valid)",
        ),
    ]
    if sample is not None:
        cid = str(sample["call_log_id"])
        found += [
            Probe(
                "call_log_id and another phone",
                [("call_log_id", cid), ("user_phone_number", "+10000000000")],
                "precedence: id over phone",
            ),
            Probe(
                "unknown id and the call's phone",
                [("call_log_id", UNKNOWN_ID), ("user_phone_number", sample["user_phone_number"])],
                "precedence: does a missing id fall through to the phone?",
            ),
            Probe(
                "repeated call_log_id, known last",
                [("call_log_id", UNKNOWN_ID), ("call_log_id", cid)],
                "which repeat wins",
            ),
        ]
    return found


UNKNOWN_TARGET = "discovery-unknown-target"
UNKNOWN_CAMPAIGN = "discovery-unknown-campaign"


def operation_probes(launch_campaign: str | None) -> list[Probe]:
    """The undocumented answers of the other operations: reads, and the launch probe (a
    write: only when ``launch_campaign`` is given, the sandbox or a mock's campaign)."""
    found = [
        Probe(
            "unknown call log",
            [],
            "not found (call log)",
            path=f"/api/v1/call-logs/{UNKNOWN_ID}",
        ),
        Probe("unknown target", [], "not found (target)", path=f"/api/v1/targets/{UNKNOWN_TARGET}"),
        Probe(
            "unknown campaign's targets",
            [],
            "not found (campaign)",
            path=f"/api/v1/campaigns/{UNKNOWN_CAMPAIGN}/targets",
        ),
    ]
    if launch_campaign is not None:
        found.append(
            Probe(
                "launch with neither target_ids nor count",
                [],
                "nothing to launch",
                method="POST",
                path=f"/api/v1/campaigns/{launch_campaign}/calls",
                body={},
            )
        )
    return found


Send = Callable[[Probe], requests.Response]


def summarise(response: requests.Response) -> tuple[int, Any]:
    """(status, body) with snapshots reduced to (source, call_log_id): the part that matters."""
    try:
        body: Any = response.json()
    except ValueError:
        body = response.text[:200]
    if response.status_code == 200 and isinstance(body, dict):
        body = {"source": body.get("source"), "call_log_id": body.get("call_log_id")}
    return response.status_code, body


def answer(send: Send, probe: Probe) -> tuple[int, Any]:
    """The summarised answer to ``probe``; one that could not be had (refused by the write
    guard, the connection lost) is status ``0`` with the reason: a finding, not a crash."""
    try:
        return summarise(send(probe))
    except (requests.RequestException, RuntimeError) as exc:
        return 0, f"not sent or no answer: {exc}"


def observe(target_send: Send, mock_send: Send, chosen: list[Probe]) -> list[Observation]:
    """Each probe sent to the target and to the mock."""
    return [Observation(p, answer(target_send, p), answer(mock_send, p)) for p in chosen]


def advice(obs: Observation) -> str:
    """The ``serve`` option that makes the mock answer like the target, if one exists."""
    status, body = obs.target
    if obs.probe.question in ("nothing to look up", "nothing to launch") and status == 422:
        return "prosper-mock serve --missing-lookup-status 422"
    if obs.probe.question.startswith("not found (") and status != obs.mock[0] and status:
        return f"prosper-mock serve --not-found-status {status}"
    if obs.probe.question == "not found" and isinstance(body, dict) and "detail" in body:
        detail = body["detail"] if isinstance(body["detail"], str) else json.dumps(body["detail"])
        return f"prosper-mock serve --not-found-status {status} --not-found-detail {detail!r}"
    return "no option yet: the mock's decision differs (see docs/semantics.md)"


def report(observations: list[Observation], target_url: str) -> str:
    """A readable markdown report."""
    lines = [
        f"# Discovery report: {target_url} next to prosper-voice-mock",
        "",
        "| probe | question | target | mock | same |",
        "| --- | --- | --- | --- | --- |",
    ]
    for o in observations:
        lines.append(
            f"| {o.probe.name} | {o.probe.question} | `{_short(o.target)}` | `{_short(o.mock)}` "
            f"| {'yes' if o.same else '**no**'} |"
        )
    differing = [o for o in observations if not o.same]
    lines += ["", f"{len(differing)} of {len(observations)} probes differ."]
    for o in differing:
        lines.append(f"- {o.probe.name}: {advice(o)}")
    return "\n".join(lines) + "\n"


def _short(answer: tuple[int, Any]) -> str:
    status, body = answer
    text = json.dumps(body, ensure_ascii=False)
    text = text if len(text) <= 80 else text[:77] + "..."
    return f"{status} {text}".replace("|", "\\|")
