"""The model-based workflow suite (``contracts/test_lifecycle.py``) holds on the mock and
fails, naming the rule, on a mock whose call logs or targets break the lifecycle."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import web

from prosper_contracts.generation import run_settings
from prosper_contracts.target import Target
from prosper_contracts.test_lifecycle import _run
from prosper_contracts.test_lifecycle import test_workflow_lifecycle as lifecycle_suite
from prosper_mock import MockServer, VirtualClock, World, WorldRecipe, create_app
from prosper_mock.control.client import ControlClient
from prosper_mock.serving.operations import OPERATIONS
from prosper_mock.serving.render import Unknown
from tests.broken_workflow import GET_CALL_LOG, changed

RETRIEVE_TARGET = "retrieve_target_api_v1_targets__target_id__get"


async def _no_call_log(request: web.Request, params: dict[str, Any], state: Any) -> Unknown:
    return Unknown("Call log not found")


def _forever_in_progress(target: Any, params: dict[str, Any]) -> Any:
    return {**target, "status": "In Progress"} if target.get("call_log_ids") else target


def run_machine(operations: dict[str, Any] | None = None) -> None:
    """The lifecycle machine against a mock with ``operations`` replaced."""

    def factory(world: World, **kw: Any) -> web.Application:
        return create_app(world, operations={**OPERATIONS, **(operations or {})}, **kw)

    clock = VirtualClock("2026-03-01T09:00:00+00:00")
    world = World.generate(WorldRecipe(seed=5, live_calls=0, call_logs=5), clock=clock)
    with MockServer(world, app_factory=factory) as server:
        target = Target(server.base_url, world=server.world)
        control = ControlClient(server.base_url)
        campaign = str(control.campaigns()[0]["id"])
        _run(target, control, campaign, run_settings(10, None, stateful_step_count=12), None)


def test_the_lifecycle_holds_on_the_mock() -> None:
    run_machine()


@pytest.mark.parametrize(
    ("operations", "rule"),
    [
        ({GET_CALL_LOG: _no_call_log}, "lifecycle"),
        ({RETRIEVE_TARGET: changed(RETRIEVE_TARGET, _forever_in_progress)}, "target-status-agrees"),
    ],
    ids=["ended call without a log", "target in progress forever"],
)
def test_the_lifecycle_fails_naming_the_rule(operations: dict[str, Any], rule: str) -> None:
    with pytest.raises(AssertionError, match=rf"\[{rule}\]"):
        run_machine(operations)


def test_a_default_run_calls_targets_and_sees_their_calls_live_then_ended() -> None:
    """With the default examples (50: five machine runs), the suite launches calls and moves
    the clock, so live-calls answers them live and their call logs once ended: hypothesis'
    first examples alone only added targets, and every lookup was a 404."""
    with MockServer(World.generate(WorldRecipe(seed=2, live_calls=2, call_logs=5))) as server:
        endpoint = Target(server.base_url, world=server.world)
        lifecycle_suite(endpoint, 50, None)
    (own,) = endpoint.record.own_mocks
    assert endpoint.record.requests == 0  # all on the suite's own mock
    assert own.answers["POST /api/v1/campaigns/{campaign_id}/calls"]["200"] >= 3
    assert own.answers["GET /api/v1/live-calls"]["200"] >= 3
    assert own.answers["GET /api/v1/call-logs/{call_log_id}"]["200"] >= 1  # a call ended
