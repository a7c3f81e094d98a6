"""The workflow, model-based, over HTTP: a state machine adds targets, launches them, moves
the mock's virtual clock through its control API, and after every step compares what the
API says (live-calls by phone and by external id, the call log by id and in the list, the
target) with a reference model of the lifecycle.

Only against the mock: it writes, and it needs the control API's clock. It runs on a mock of
its own (in-process, virtual clock), whatever the target, so it never changes a running one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

import pytest
from hypothesis import Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from prosper_contracts.answers import operation_for
from prosper_contracts.findings import Finding
from prosper_contracts.generation import run_settings, with_seed
from prosper_contracts.target import Target
from prosper_mock import MockServer, VirtualClock, World, WorldRecipe
from prosper_mock.control.client import ControlClient

PHONES = tuple(f"+1555777000{n}" for n in range(5))  # no seeded call has these numbers
LONGEST_CALL = 11 * 60  # seconds: a launched call lasts one to ten minutes
CALL_LOGS = "/api/v1/call-logs"
LIVE_CALLS = "/api/v1/live-calls"


@dataclass
class ModelTarget:
    """What the model knows of one target: ``pending``, ``live``, ``maybe`` (live when last
    seen, the clock moved since: it may have ended) or ``ended``."""

    phone: str
    external_id: str
    state: str = "pending"
    call_log_id: int | None = None


class LifecycleMachine(RuleBasedStateMachine):
    target: Target
    control: ControlClient
    campaign: str

    def __init__(self) -> None:
        super().__init__()
        self.control.reset()
        self.model: dict[str, ModelTarget] = {}

    def fail(
        self, rule_name: str, message: str, path: str, params: Any = None, method: str = "GET"
    ) -> None:
        # a write's curl is the request it sent, body and all; a read's is built again
        curl = self.target.last_curl() if method != "GET" else None
        found = operation_for(method, path or LIVE_CALLS)
        finding = Finding(
            rule_name,
            message,
            curl or self.target.curl(params, path or LIVE_CALLS),
            found.label if found is not None else f"{method} {path}",
        )
        self.target.findings.add(finding)
        raise AssertionError(str(finding))

    def post(self, path: str, body: dict[str, Any]) -> Any:
        response = self.target.request("POST", path, json=body)
        if response.status_code != 200:
            message = f"POST answered {response.status_code}: {response.text[:200]}"
            self.fail("lifecycle", message, path, method="POST")
        return response.json()

    @initialize()
    def a_call_under_way(self) -> None:
        """Every example starts with a target called: hypothesis' first, simplest examples
        would otherwise only add targets, and a default run would launch no call at all."""
        self.add_target()
        self.launch_target(next(iter(self.model)))

    @precondition(lambda self: len(self.model) < len(PHONES))
    @rule()
    def add_target(self) -> None:
        n = len(self.model)
        phone, external_id = PHONES[n], f"LIFE-{n}"
        answer = self.post(
            f"/api/v1/campaigns/{self.campaign}/targets",
            {"targets": [{"phone_number": phone, "external_id": external_id}], "launch": False},
        )
        (added,) = answer["targets"]
        self.model[added["id"]] = ModelTarget(phone, external_id)

    @precondition(lambda self: any(t.state == "pending" for t in self.model.values()))
    @rule(data=st.data())
    def launch(self, data: st.DataObject) -> None:
        pending = sorted(i for i, t in self.model.items() if t.state == "pending")
        self.launch_target(data.draw(st.sampled_from(pending)))

    def launch_target(self, chosen: str) -> None:
        answer = self.post(f"/api/v1/campaigns/{self.campaign}/calls", {"target_ids": [chosen]})
        (launched,) = answer["launched"]
        self.model[chosen].state, self.model[chosen].call_log_id = "live", launched["call_log_id"]

    @rule(seconds=st.integers(1, 90))
    def advance_a_little(self, seconds: int) -> None:
        self.control.advance_clock(seconds)
        for t in self.model.values():
            t.state = "maybe" if t.state == "live" else t.state

    @rule()
    def advance_past_every_call(self) -> None:
        self.control.advance_clock(LONGEST_CALL)
        for t in self.model.values():
            t.state = "ended" if t.state in ("live", "maybe") else t.state

    @invariant()
    def the_api_agrees_with_the_model(self) -> None:
        listed = self.target.get({"campaign_id": self.campaign, "limit": "1000"}, path=CALL_LOGS)
        in_list = {str(log["id"]) for log in listed.json()["call_logs"]}
        for target_id, t in self.model.items():
            self.check_lookups(t)
            self.check_target(target_id, t, in_list)

    def check_lookups(self, t: ModelTarget) -> None:
        for params, rule_name in (
            ({"user_phone_number": t.phone}, "matches-phone"),
            ({"key": "external_id", "value": t.external_id}, "matches-variable"),
        ):
            response = self.target.get(params)
            if t.state == "pending":
                if response.status_code != 404:
                    self.fail(
                        "not-found", f"a target never called: {response.status_code}", "", params
                    )
                continue
            body = response.json() if response.status_code == 200 else {}
            if body.get("call_log_id") != t.call_log_id:
                self.fail(
                    rule_name,
                    f"expected call {t.call_log_id}, got {body or response.status_code}",
                    "/api/v1/live-calls",
                    params,
                )
            source = body.get("source")
            if t.state == "maybe" and source in ("live_calls", "call_logs"):
                t.state = "live" if source == "live_calls" else "ended"
            want = {"live": "live_calls", "ended": "call_logs"}[t.state]
            if source != want:
                rule_name = "source-monotonic" if want == "call_logs" else "lifecycle"
                self.fail(
                    rule_name,
                    f"call {t.call_log_id} ({t.state}) has source {source!r}",
                    "/api/v1/live-calls",
                    params,
                )

    def check_target(self, target_id: str, t: ModelTarget, in_list: set[str]) -> None:
        path = f"/api/v1/targets/{target_id}"
        got = self.target.get(path=path).json()
        status, ids = got.get("status"), got.get("call_log_ids") or []
        if t.call_log_id is None:
            if status != "Pending" or ids:
                self.fail("lifecycle", f"an uncalled target is {status!r} with calls {ids}", path)
            return
        if t.call_log_id not in ids:
            self.fail("call-log-ids-resolve", f"its call {t.call_log_id} is not in {ids}", path)
        log_path = f"{CALL_LOGS}/{t.call_log_id}"
        log = self.target.get(path=log_path)
        if t.state == "live":
            if status != "In Progress":
                self.fail("target-status-agrees", f"live call, status {status!r}", path)
            if log.status_code != 404 or str(t.call_log_id) in in_list:
                self.fail("lifecycle", "a live call already has a call log", log_path)
        elif t.state == "ended":
            if status == "In Progress":
                self.fail(
                    "target-status-agrees", "its call ended, status still 'In Progress'", path
                )
            if log.status_code != 200 or log.json().get("id") != str(t.call_log_id):
                self.fail("lifecycle", f"the ended call's log answers {log.status_code}", log_path)
            if str(t.call_log_id) not in in_list:
                self.fail("lifecycle", "the ended call is not in the call-log list", CALL_LOGS)


def test_workflow_lifecycle(
    contract_target: Target, contract_examples: int, contract_seed: int | None
) -> None:
    """Add targets, launch, poll by phone and external id, move the clock, see the call log
    (by id and in the list) and the target finished, step by step against the model."""
    if not contract_target.is_mock:
        pytest.skip(
            "the lifecycle test writes and moves the clock: it needs a prosper-voice-mock "
            "(it runs on one of its own)"
        )
    steps = run_settings(
        max(3, contract_examples // 10),
        contract_seed,
        stateful_step_count=10,
        phases=[Phase.explicit, Phase.reuse, Phase.generate],
    )
    clock = VirtualClock("2026-03-01T09:00:00+00:00")
    world = World.generate(WorldRecipe(seed=5, live_calls=0, call_logs=5), clock=clock)
    with MockServer(world) as server:
        own = Target(
            server.base_url,
            record=contract_target.record.own_mock(test_workflow_lifecycle.__name__),
            world=server.world,
        )
        control = ControlClient(server.base_url)
        campaign = str(control.campaigns()[0]["id"])
        _run(own, control, campaign, steps, contract_seed)


def _run(
    target: Target, control: ControlClient, campaign: str, steps: settings, seed: int | None
) -> None:
    machine = cast(
        type[LifecycleMachine],
        type(
            "LifecycleRun",
            (LifecycleMachine,),
            {"target": target, "control": control, "campaign": campaign},
        ),
    )
    machine = with_seed(machine, seed)
    machine.TestCase.settings = steps
    machine.TestCase().runTest()
