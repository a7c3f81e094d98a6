"""Fallback semantics, model-based: a state machine changes a mock's world and, after every
step, compares the endpoint's answer to every lookup with the reference model."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, cast

import pytest
from hypothesis import Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from prosper_contracts.findings import Finding
from prosper_contracts.generation import run_settings, with_seed
from prosper_contracts.model import EMPTY_WORLD, Model, ModelCall, model_call, row_of
from prosper_contracts.runner import EndpointFault, fault_of
from prosper_contracts.target import Target
from prosper_mock import (
    LocalDriver,
    MockServer,
    VirtualClock,
    World,
    WorldDriver,
    text_form,
)

PHONES = ("+15550000001", "+15550000002", "+15550000003")
KEYS = ("external_id", "copay_amount", "verified")
VALUES = ("PAT-1", "PAT-2", 25.0, 25, True, None, "")
TEXTS = sorted({t for t in map(text_form, VALUES) if t is not None} | {"True"})
UNKNOWN_ID = 999_999_999


def classify(
    params: dict[str, str], expected: tuple[str, int] | None, got: tuple[str, int] | None
) -> str:
    """Which rule of docs/semantics.md a mismatch breaks."""
    kinds = {"call_log_id", "user_phone_number", "key"} & set(params)
    if len(kinds) > 1:
        return "precedence"
    if expected is None:
        return "text-matching" if "key" in params else "not-found"
    if got is None:
        return "fallback-to-call-logs" if expected[0] == "call_logs" else "live-first"
    if expected[0] != got[0]:
        return "live-first"
    return "matches-call-log-id" if "call_log_id" in params else "most-recent"


class FallbackMachine(RuleBasedStateMachine):
    """Stops at its first finding (``halted``): every later step and example does nothing.
    Raising instead would make hypothesis replay the steps against a world they no longer
    fit, which reports a flaky test rather than the finding."""

    target: Target
    driver: WorldDriver
    halted: bool = False

    def __init__(self) -> None:
        super().__init__()
        self.model = Model()
        if not self.halted:
            self.driver.load(EMPTY_WORLD)

    @classmethod
    def halt(cls) -> None:
        cls.halted = True

    def _add(self, store: dict[int, ModelCall], row: dict[str, Any]) -> int:
        call = model_call(row)
        store[call.call_log_id] = call
        return call.call_log_id

    @rule(phone=st.sampled_from(PHONES), key=st.sampled_from(KEYS), value=st.sampled_from(VALUES))
    def start_call(self, phone: str, key: str, value: Any) -> None:
        if self.halted:
            return
        answer = self.driver.start_call(user_phone_number=phone, variables={key: value})
        self._add(self.model.live, row_of(answer, "call"))

    @precondition(lambda self: self.model.live)
    @rule(data=st.data(), key=st.sampled_from(KEYS), value=st.sampled_from(VALUES))
    def map_variable(self, data: st.DataObject, key: str, value: Any) -> None:
        if self.halted:
            return
        call_id = data.draw(st.sampled_from(sorted(self.model.live)))
        self._add(
            self.model.live, row_of(self.driver.map_variables(call_id, **{key: value}), "call")
        )

    @precondition(lambda self: self.model.live)
    @rule(data=st.data())
    def end_call(self, data: st.DataObject) -> None:
        if self.halted:
            return
        call_id = data.draw(st.sampled_from(sorted(self.model.live)))
        row = row_of(self.driver.end_call(call_id), "call_log")
        del self.model.live[call_id]
        self._add(self.model.logs, row)

    @rule(phone=st.sampled_from(PHONES), key=st.sampled_from(KEYS), value=st.sampled_from(VALUES))
    def add_historical_call(self, phone: str, key: str, value: Any) -> None:
        if self.halted:
            return
        answer = self.driver.add_call_log(user_phone_number=phone, variables={key: value})
        self._add(self.model.logs, row_of(answer, "call_log"))

    def lookups(self) -> Iterator[dict[str, str]]:
        ids = sorted(set(self.model.live) | set(self.model.logs))
        for call_id in [*ids, UNKNOWN_ID]:
            yield {"call_log_id": str(call_id)}
        for phone in PHONES:
            yield {"user_phone_number": phone}
        for key in KEYS:
            for text in TEXTS:
                yield {"key": key, "value": text}
        if ids:  # precedence: the id wins over a phone and a variable
            yield {
                "call_log_id": str(ids[0]),
                "user_phone_number": PHONES[1],
                "key": KEYS[0],
                "value": "PAT-1",
            }
            yield {"user_phone_number": PHONES[2], "key": KEYS[0], "value": "PAT-2"}

    @invariant()
    def every_lookup_answers_like_the_model(self) -> None:
        if self.halted:
            return
        for params in self.lookups():
            expected = self.model.expect(params)
            try:
                response = self.target.get(params)
            except EndpointFault:
                self.halt()  # no answer: the session's finding says so
                return
            if fault_of(response) is not None:
                self.halt()  # a 5xx or no JSON: a finding already, no model to compare with
                return
            got = None
            if response.status_code == 200:
                body = response.json()
                got = (body.get("source"), body.get("call_log_id"))
            elif response.status_code != 404:
                got = ("status", response.status_code)
            if got != expected:
                rule_name = classify(params, expected, got)
                finding = Finding(
                    rule_name,
                    f"expected {expected or '404'}, got {got or '404'}",
                    self.target.curl(params),
                    "GET /api/v1/live-calls",
                )
                self.target.findings.add(finding)
                self.halt()
                return


def test_fallback_semantics(
    contract_target: Target, contract_examples: int, contract_seed: int | None
) -> None:
    """Precedence, live first, most recent, text matching and not found, step by step."""
    if not contract_target.is_mock or contract_target.read_only:
        pytest.skip(
            "the model-based test changes the world: it needs a prosper-voice-mock "
            "(in-process, or one whose control API answers at --prosper-base-url)"
            + (f"; {contract_target.read_only_reason}" if contract_target.read_only_reason else "")
        )
    # No shrinking: a finding already names the rule and carries a curl that shows it.
    steps = run_settings(
        max(5, contract_examples // 5),
        contract_seed,
        stateful_step_count=8,
        phases=[Phase.explicit, Phase.reuse, Phase.generate],
    )
    driver = contract_target.driver
    if contract_target.control is not None and driver is not None:
        # A snapshot, not dump and load: loading the dump back would make it the world that
        # the mock's reset returns to, and the calls added before the run would outlive resets.
        saved = contract_target.control.snapshot()
        try:
            _run(contract_target, driver, steps, contract_seed)
        finally:
            contract_target.control.restore(saved)
        return
    # In-process: a server of its own, on a virtual clock that ticks with each change.
    clock = _TickingClock(VirtualClock("2026-03-01T09:00:00+00:00"))
    with MockServer(World.from_dict({"live_calls": [], "call_logs": []}, clock=clock)) as server:
        own = Target(
            server.base_url,
            record=contract_target.record.own_mock(test_fallback_semantics.__name__),
            world=server.world,
        )
        _run(own, LocalDriver(server.world), steps, contract_seed)


def _run(target: Target, driver: WorldDriver, steps: settings, run_seed: int | None) -> None:
    machine = cast(
        type[FallbackMachine],
        type("FallbackRun", (FallbackMachine,), {"target": target, "driver": driver}),
    )
    machine = with_seed(machine, run_seed)
    machine.TestCase.settings = steps
    machine.TestCase().runTest()


class _TickingClock:
    """Each reading is one second after the last: every change has its own time."""

    def __init__(self, clock: VirtualClock) -> None:
        self.clock = clock

    def now(self) -> float:
        return self.clock.advance(1)
