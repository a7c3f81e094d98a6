"""Launched calls live on the clock without a simulation: steps, end, log, finished target."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from prosper_mock import VirtualClock, World, WorldRecipe
from prosper_mock.world.dialer import END, Dialer, life
from prosper_mock.world.driver import LocalDriver
from prosper_mock.world.generate import FLOWS
from prosper_mock.world.persistence import StateFile

START = "2026-01-15T15:00:00+00:00"
RECIPE = WorldRecipe(seed=8, live_calls=6, call_logs=30, pending_targets=8)


@given(
    started=st.floats(0, 1e9),
    duration=st.floats(60, 600),
    steps=st.integers(0, 9),
    done=st.integers(0, 9),
)
def test_a_life_spreads_the_steps_left_then_ends(
    started: float, duration: float, steps: int, done: int
) -> None:
    events = life(started, duration, steps, done)
    assert events[-1] == (started + duration, END)
    assert [s for _, s in events[:-1]] == list(range(done + 1, steps + 1))
    times = [at for at, _ in events]
    assert times == sorted(times) and all(started <= t <= started + duration for t in times)


def test_durations_are_seeded_between_one_and_ten_minutes() -> None:
    dialer = Dialer(3)
    for k in range(50):
        dialer.add(k, 0.0, 2)
    ends = [at for at, _, step in dialer._queue if step == END]
    assert all(60 <= at < 600 for at in ends) and len(set(ends)) > 10


def _launch(world: World) -> tuple[str, int]:
    campaign = world.campaigns()[1]
    added = world.add_targets(campaign.id, [{"phone_number": "+15551234", "external_id": "L-1"}])
    [(target_id, call_id)] = world.launch(campaign.id, target_ids=[added.added[0].id]).calls
    return target_id, call_id


def test_a_launched_call_lives_its_flow_and_ends_on_a_virtual_clock() -> None:
    world = World.generate(RECIPE, clock=VirtualClock(START))
    driver = LocalDriver(world)
    target_id, call_id = _launch(world)
    live = world.live_calls.get(call_id)
    assert live is not None and live.flow["step_index"] == 0
    steps_total = live.flow["steps_total"]
    seen_steps = []
    for _ in range(25):  # 25 times 30 s: past the longest life (10 minutes)
        driver.advance_clock(30)
        live = world.live_calls.get(call_id)
        if live is not None:
            seen_steps.append(live.flow["step_index"])
            assert world.target(target_id).status == "In Progress"  # type: ignore[union-attr]
    assert seen_steps == sorted(seen_steps) and seen_steps[-1] <= steps_total
    assert call_id not in world.live_calls and len(world.dialer) == 0
    log = world.call_logs.get(call_id)
    assert log is not None and log.campaign_target_id == target_id
    assert world.call_logs_page(0, 1).items[0].id == call_id
    newest = world.call_logs_page(0, 5, campaign_id=world.campaigns()[1].id).items[0]
    assert newest.id == call_id
    view = world.target(target_id)
    assert view is not None and view.status != "In Progress" and view.call_log_ids == [call_id]
    assert view.resolution in {"retrieved", "not_retrieved"}
    assert view.last_call_date is not None and view.execution_minutes is not None
    # Every step's outputs were mapped on the way: the log holds the flow's variables.
    flow = next(f for f in FLOWS if f.id == world.campaigns()[1].flow_id)
    assert set(flow.outputs) <= set(log.variables)


def test_reads_catch_up_with_a_clock_that_moved_without_telling() -> None:
    clock = VirtualClock(START)
    world = World.generate(RECIPE, clock=clock)
    target_id, call_id = _launch(world)
    clock.advance(601)  # not through the driver: a read plays what is due
    assert world.target(target_id).status != "In Progress"  # type: ignore[union-attr]
    assert call_id in world.call_logs


def test_the_dialer_resumes_from_the_state_file(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    world = World.generate(RECIPE, clock=VirtualClock(START))
    StateFile(path).attach(world)
    target_id, call_id = _launch(world)
    LocalDriver(world).advance_clock(20)
    step = world.live_calls.get(call_id).flow["step_index"]  # type: ignore[union-attr]
    again = World.generate(RECIPE, clock=VirtualClock(START))
    assert StateFile(path).restore(again)
    assert again.clock.now() == world.clock.now()
    assert again.live_calls.get(call_id).flow["step_index"] == step  # type: ignore[union-attr]
    assert len(again.dialer) == 1
    LocalDriver(again).advance_clock(600)
    assert call_id in again.call_logs and len(again.dialer) == 0
    assert again.target(target_id).call_log_ids == [call_id]  # type: ignore[union-attr]
