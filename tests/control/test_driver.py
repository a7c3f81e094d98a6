"""RemoteDriver: the same scenario through it and through LocalDriver gives the same answers."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from prosper_mock import MockServer, VirtualClock, World, WorldRecipe
from prosper_mock.control.client import ControlClient, ControlError
from prosper_mock.control.driver import RemoteDriver, ask
from prosper_mock.serving.errors import status_of
from prosper_mock.world.driver import LocalDriver, WorldDriver
from prosper_mock.world.errors import InvalidChange, WorldError

START = "2026-01-15T15:00:00+00:00"
UNKNOWN = 987_654_321


def fresh_world() -> World:
    return World.generate(
        WorldRecipe(seed=11, live_calls=3, call_logs=6), clock=VirtualClock(START)
    )


def scenario(driver: WorldDriver) -> list[Any]:
    """Every operation, refusals included; each step's answer (or refusal) in order."""
    steps: list[Callable[[], Any]] = []
    seen: dict[str, int] = {}

    def started() -> Any:
        answer = driver.start_call(user_phone_number="+15550001111", variables={"a": 1})
        seen["live"] = answer["call"]["call_log_id"]
        return answer

    def added() -> Any:
        answer = driver.add_call_log(user_phone_number="+15550002222")
        seen["log"] = answer["snapshot"]["call_log_id"]
        return answer

    def targeted() -> Any:
        campaign = driver.campaigns()[0]["id"]
        answer = driver.add_targets(
            campaign, [{"phone_number": "+15550003333", "external_id": "T-1"}], launch=True
        )
        seen["target"] = answer["targets"][0]["id"]
        return answer

    steps += [
        driver.campaigns,
        targeted,
        lambda: driver.target(seen["target"]),
        lambda: driver.launch(driver.campaigns()[1]["id"], count=1),
        driver.clock,
        started,
        lambda: driver.advance_clock(30),
        lambda: driver.map_variables(seen["live"], external_id="X-1", verified=True),
        lambda: driver.set_clock("2026-01-15T15:02:00+00:00"),
        lambda: driver.end_call(seen["live"], keep_live=True, call_ended_reason="voicemail"),
        lambda: driver.delete_live_call(seen["live"]),
        added,
        lambda: driver.delete_call_log(seen["log"]),
        driver.dump,
        driver.reset,
        lambda: driver.load({"live_calls": [], "call_logs": []}),
        driver.dump,
        # Refusals: unknown calls, a clock that would go back.
        lambda: driver.map_variables(UNKNOWN, x=1),
        lambda: driver.end_call(UNKNOWN),
        lambda: driver.delete_call_log(UNKNOWN),
        lambda: driver.set_clock("2026-01-01T00:00:00+00:00"),
        lambda: driver.target("no-such-target"),
        lambda: driver.add_targets("no-such-campaign", []),
        driver.clock,
        driver.now,
    ]
    answers: list[Any] = []
    for step in steps:
        try:
            answers.append(step())
        except WorldError as exc:
            answers.append(("refused", status_of(exc), str(exc)))
    return answers


@pytest.fixture
def remote() -> Iterator[RemoteDriver]:
    with MockServer(fresh_world()) as server:
        yield RemoteDriver(ControlClient(server.base_url))


def test_local_and_remote_drivers_answer_alike(remote: RemoteDriver) -> None:
    local = scenario(LocalDriver(fresh_world()))
    assert scenario(remote) == local
    refusals = [a for a in local if isinstance(a, tuple)]
    assert [status for _, status, _ in refusals] == [404, 404, 404, 422, 404, 404]


def test_both_drivers_have_every_operation_of_the_protocol() -> None:
    def shape(fn: Any) -> list[tuple[str, Any, Any]]:
        return [(p.name, p.kind, p.default) for p in inspect.signature(fn).parameters.values()]

    wanted = {
        name: shape(fn)
        for name, fn in vars(WorldDriver).items()
        if callable(fn) and not name.startswith("_")
    }
    assert {"start_call", "advance_clock", "set_clock", "load", "dump", "reset"} <= set(wanted)
    for impl in (LocalDriver, RemoteDriver):
        for name, params in wanted.items():
            assert shape(getattr(impl, name)) == params, (impl, name)


def test_a_system_clock_is_refused_alike() -> None:
    with MockServer(World.generate(WorldRecipe(seed=1, live_calls=1, call_logs=1))) as server:
        for driver in (LocalDriver(server.world), RemoteDriver(ControlClient(server.base_url))):
            assert driver.clock()["mode"] == "system"
            with pytest.raises(WorldError) as refused:
                driver.advance_clock(5)
            assert status_of(refused.value) == 409 and "--virtual-clock" in str(refused.value)


def test_ask_turns_a_control_refusal_into_a_world_error() -> None:
    def refuse() -> None:
        raise ControlError(418, "no")

    with pytest.raises(WorldError) as refused:
        ask(refuse)
    # A status the world has no class for is a refused change, its detail kept.
    assert (type(refused.value), str(refused.value)) == (InvalidChange, "no")
    assert ask(lambda a, b=0: a + b, 1, b=2) == 3


def test_a_variable_named_like_the_id_is_a_variable() -> None:
    # The routes pass a body's keys as keyword arguments: the id is positional-only.
    world = fresh_world()
    with MockServer(world) as server:
        cid = LocalDriver(world).start_call()["call"]["call_log_id"]
        answer = requests.patch(
            server.url(f"/__mock/live-calls/{cid}/variables"),
            json={"variables": {"call_log_id": "v", "keep_live": 1}},
            timeout=5,
        )
        assert answer.status_code == 200, answer.text
        assert answer.json()["call"]["variables"]["call_log_id"] == "v"
