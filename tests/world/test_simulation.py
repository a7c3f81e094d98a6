"""The simulation: calls live their lives on the clock, the same way every time."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from prosper_mock import VirtualClock, World, WorldRecipe
from prosper_mock.world.lookup import LiveCallQuery, find_call
from prosper_mock.world.persistence import StateFile
from prosper_mock.world.records import to_dict
from prosper_mock.world.simulation import Simulation

START = "2026-01-15T15:00:00+00:00"


def simulated(
    seed: int = 4, live_calls: int = 0, call_logs: int = 0, rate: float = 12
) -> tuple[World, Simulation]:
    """A world of that size on a virtual clock, simulated from its now."""
    world = World.generate(
        WorldRecipe(seed=seed, live_calls=live_calls, call_logs=call_logs),
        clock=VirtualClock(START),
    )
    return world, Simulation(world, seed=seed, rate=rate, start=world.clock.now())


def run_for(world: World, sim: Simulation, seconds: float, step: float | None = None) -> str:
    """Move the clock ``seconds`` ahead in one jump (or in ``step``s), the simulation with it;
    the world after, as JSON."""
    steps = 1 if step is None else round(seconds / step)
    for _ in range(steps):
        world.clock.advance(seconds / steps)
        sim.advance_to(world.clock.now())
    return json.dumps(world.dump())


def test_same_seed_and_clock_give_the_same_history_in_jumps_or_steps() -> None:
    jumped = run_for(*simulated(), 1800)
    assert jumped == run_for(*simulated(), 1800, step=10)
    assert run_for(*simulated(seed=5), 1800) != jumped


def test_calls_start_map_their_variables_and_end() -> None:
    world, sim = simulated()
    world.clock.advance(30)
    sim.advance_to(world.clock.now())
    live = list(world.live_calls)
    assert live and not list(world.call_logs)
    first = live[0]
    inputs = set(first.variables)
    world.clock.advance(3600)
    sim.advance_to(world.clock.now())
    found = find_call(world, LiveCallQuery(call_log_id=first.call_log_id))
    assert found.source == "call_logs"
    assert set(found.row.variables) > inputs  # outcomes were mapped along the flow
    assert found.row.call_length != "0:00:00"
    assert len(list(world.call_logs)) >= 500  # 12 a minute for an hour, most ended


def test_a_live_call_moves_through_its_flow_step_by_step() -> None:
    world, sim = simulated()
    world.clock.advance(30)
    sim.advance_to(world.clock.now())
    first = next(iter(world.live_calls))
    call_log_id, total = first.call_log_id, first.flow["steps_total"]
    seen: list[tuple[int, int, str]] = []  # (step_index, transcript lines, updated_at)
    while (call := world.live_calls.get(call_log_id)) is not None:
        state = (call.flow["step_index"], len(call.transcript), call.updated_at)
        if not seen or seen[-1] != state:
            seen.append(state)
        world.clock.advance(2)
        sim.advance_to(world.clock.now())
    assert [s[0] for s in seen] == list(range(total + 1))  # every step, in order, none skipped
    lines = [s[1] for s in seen]
    assert lines == sorted(lines) and lines[-1] > lines[0]  # the transcript grows
    assert [s[2] for s in seen] == sorted({s[2] for s in seen})  # each step updates the row


def test_source_changes_at_the_moment_the_call_ends() -> None:
    world, sim = simulated(seed=9)
    world.clock.advance(1)
    sim.advance_to(world.clock.now())
    first = next(iter(world.live_calls)).call_log_id
    last_live = None
    for second in range(1, 700):
        world.clock.advance(1)
        sim.advance_to(world.clock.now())
        if find_call(world, LiveCallQuery(call_log_id=first)).source == "call_logs":
            log = world.call_logs.get(first)
            ended = world.clock.now()
            assert last_live == ended - 1  # live one second earlier, logged now
            h, m, s = map(int, log.call_length.split(":"))
            started = ended - (second + 1)
            assert abs((h * 3600 + m * 60 + s) - (ended - started)) <= 1
            return
        last_live = world.clock.now()
    raise AssertionError("the call never ended")


def test_serve_simulates_on_the_virtual_clock() -> None:
    from prosper_mock.control.client import ControlClient, ControlError
    from tests.clirun import serve

    args = [
        "--live-calls",
        "0",
        "--call-logs",
        "0",
        "--virtual-clock",
        "--simulate",
        "--rate",
        "30",
    ]
    with serve(args) as s:
        c = ControlClient(s.base_url)
        assert c.health()["live_calls"] == 0
        c.advance_clock(60)
        assert c.health()["live_calls"] > 0
        c.advance_clock(3600)
        assert c.health()["call_logs"] > 0
        # Catching up a week at once would block the server: refused, the clock unmoved.
        before = c.clock()
        with pytest.raises(ControlError) as refused:
            c.advance_clock(7 * 86400)
        assert refused.value.status == 422 and "smaller steps" in refused.value.detail
        assert c.clock() == before


def test_a_simulated_move_writes_the_state_file_once(tmp_path: Path) -> None:
    world, sim = simulated()
    state = tmp_path / "state.json"
    writes: list[int] = []
    StateFile(state).attach(world)
    world.listeners.append(lambda w: writes.append(w.version))
    world.clock.advance(600)
    assert sim.advance_to(world.clock.now()) > 20
    assert len(writes) == 1
    restored, _ = simulated()
    StateFile(state).restore(restored)
    assert json.dumps(restored.dump()) == json.dumps(world.dump())


def test_a_resumed_simulation_gives_running_calls_the_fate_they_had() -> None:
    # Two mocks on the same seed and clock; one is "restarted" after 5 minutes: a new world
    # and simulation restored from the state file. Calls running at that moment map their steps
    # and end exactly as in the mock that never stopped; new calls go on being started.
    steady, sim = simulated()
    steady.clock.advance(300)
    sim.advance_to(steady.clock.now())
    saved = sim.saved()
    running = [cid for _, cid, _ in saved["calls"]]
    assert running and all(steady.live_calls.get(cid) for cid in running)

    restarted, _ = simulated()
    restarted.apply_changes(json.loads(json.dumps(steady.changes())))
    restarted.clock.set(steady.clock.now())
    resumed = Simulation(restarted, seed=4, rate=12, start=restarted.clock.now())
    resumed.resume(json.loads(json.dumps(saved)))
    for world, simulation in ((steady, sim), (restarted, resumed)):
        world.clock.advance(1200)
        simulation.advance_to(world.clock.now())
    for cid in running:
        assert steady.live_calls.get(cid) is None and restarted.live_calls.get(cid) is None
        assert to_dict(restarted.call_logs.get(cid)) == to_dict(steady.call_logs.get(cid))
    assert len(restarted.call_logs) > len(running) + 20  # new calls started and ended too


@pytest.mark.parametrize("after", [0, 7, 300, 1234.5])
def test_a_simulation_resumed_on_the_same_schedule_goes_on_as_the_one_it_follows(
    after: float,
) -> None:
    # How every process of a shared world follows the one that played the simulation: a
    # simulation that started elsewhere (another start, its own seeded live calls adopted)
    # takes the saved state, schedule included, and from there the two worlds stay equal;
    # its saved state is then exactly what it took (a follower writes no change of it).
    played, sim = simulated(live_calls=3)
    played.clock.advance(after)
    sim.advance_to(played.clock.now())
    saved = json.loads(json.dumps(sim.saved()))

    follower, _ = simulated(live_calls=3)
    follower.apply_changes(json.loads(json.dumps(played.changes())))
    follower.clock.set(played.clock.now())
    following = Simulation(follower, seed=4, rate=12, start=follower.clock.now() + 99)
    following.resume(saved, same_schedule=True)
    assert following.saved() == saved
    for world, simulation in ((played, sim), (follower, following)):
        world.clock.advance(900)
        simulation.advance_to(world.clock.now())
    assert json.dumps(follower.dump()) == json.dumps(played.dump())


def test_a_malformed_saved_simulation_is_a_clear_error() -> None:
    _, sim = simulated()
    with pytest.raises(ValueError, match="not a saved simulation"):
        sim.resume({"applied": "soon", "next_k": 1, "calls": []})
    with pytest.raises(ValueError, match="not a saved simulation"):
        sim.resume({"next_k": 1})


def test_serve_resumes_the_simulation_after_a_restart(tmp_path: Path) -> None:
    from prosper_mock.control.client import ControlClient
    from tests.clirun import serve

    state = tmp_path / "state.json"
    args = ["--live-calls", "0", "--call-logs", "0", "--virtual-clock", "--simulate"]
    args += ["--rate", "30", "--state-file", str(state)]
    with serve(args) as first:
        c = ControlClient(first.base_url)
        c.advance_clock(120)
        live = {r["call_log_id"] for r in c.dump()["live_calls"]}
    assert live
    with serve(args) as second:
        c = ControlClient(second.base_url)
        assert {r["call_log_id"] for r in c.dump()["live_calls"]} == live  # as they were
        c.advance_clock(900)  # past every running call's end
        world = c.dump()
    assert live <= {r["id"] for r in world["call_logs"]}  # they ended on schedule
    assert not live & {r["call_log_id"] for r in world["live_calls"]}
    assert world["live_calls"]  # and the schedule went on starting calls


def seeded(seed: int = 4) -> tuple[World, Simulation]:
    """A world seeded with live calls (some just ended, in both stores), simulated from now."""
    return simulated(seed, live_calls=8, call_logs=12, rate=0.01)


def test_the_seeded_live_calls_move_on_and_end_too() -> None:
    world, sim = seeded()
    first = {r.call_log_id: r for r in world.live_calls}
    logged = {cid: to_dict(world.call_logs.get(cid)) for cid in first if cid in world.call_logs}
    running = {cid for cid, r in first.items() if r.flow["step_index"] < r.flow["steps_total"]}
    assert logged and running - set(logged)  # both kinds are seeded
    stepped = set()
    for _ in range(11 * 6):  # past the longest life (10 minutes), in 10 s moves
        world.clock.advance(10)
        sim.advance_to(world.clock.now())
        for cid in running:
            now = world.live_calls.get(cid)
            if now is not None and now.flow["step_index"] > first[cid].flow["step_index"]:
                stepped.add(cid)
    assert stepped == running  # each one moved through its flow
    assert not set(first) & {r.call_log_id for r in world.live_calls}  # and ended
    for cid in running:
        log = world.call_logs.get(cid)
        assert log.variables == world.generator.plan(cid).variables(first[cid].flow["steps_total"])
    for cid, row in logged.items():  # the ones that had just ended only left the live store
        assert to_dict(world.call_logs.get(cid)) == row


def test_seeded_live_calls_move_the_same_in_jumps_or_steps_and_by_the_seed() -> None:
    jumped = run_for(*seeded(), 300)
    assert jumped == run_for(*seeded(), 300, step=10)
    assert jumped != json.dumps(seeded()[0].dump())  # they did move
    other = seeded()[0]  # the same world, another simulation seed: other moments
    sim_other = Simulation(other, seed=5, rate=0.01, start=other.clock.now())
    assert run_for(other, sim_other, 300) != jumped


def test_a_resumed_simulation_goes_on_moving_the_seeded_calls() -> None:
    steady, sim = seeded()
    steady.clock.advance(120)
    sim.advance_to(steady.clock.now())
    saved = json.loads(json.dumps(sim.saved()))
    restarted, _ = seeded()
    restarted.apply_changes(json.loads(json.dumps(steady.changes())))
    restarted.clock.set(steady.clock.now())
    resumed = Simulation(restarted, seed=4, rate=0.01, start=restarted.clock.now())
    resumed.resume(saved)
    seeded_ids = {r.call_log_id for r in seeded()[0].live_calls}
    assert seeded_ids & {r.call_log_id for r in restarted.live_calls}  # some still running
    for world, simulation in ((steady, sim), (restarted, resumed)):
        world.clock.advance(600)
        simulation.advance_to(world.clock.now())
    for cid in seeded_ids:  # the same fates (calls started after the restart start later)
        assert steady.live_calls.get(cid) is None and restarted.live_calls.get(cid) is None
        assert to_dict(restarted.call_logs.get(cid)) == to_dict(steady.call_logs.get(cid))


def test_serve_moves_the_seeded_live_calls_across_a_restart(tmp_path: Path) -> None:
    from prosper_mock.control.client import ControlClient
    from tests.clirun import serve

    args = ["--live-calls", "4", "--call-logs", "6", "--virtual-clock", "--simulate"]
    args += ["--rate", "0.01", "--state-file", str(tmp_path / "state.json")]
    with serve(args) as first:
        c = ControlClient(first.base_url)
        seeded_ids = {r["call_log_id"] for r in c.dump()["live_calls"]}
        c.advance_clock(60)
    with serve(args) as second:
        c = ControlClient(second.base_url)
        c.advance_clock(600)  # past the longest life a seeded call gets
        world = c.dump()
    assert seeded_ids and not seeded_ids & {r["call_log_id"] for r in world["live_calls"]}
    assert seeded_ids <= {r["id"] for r in world["call_logs"]}


def test_a_loaded_call_on_a_flow_the_generator_does_not_know_only_ends() -> None:
    data = World.generate(WorldRecipe(seed=4, live_calls=8, call_logs=12)).dump()
    row = next(r for r in data["live_calls"] if r["status"] != "ended")
    row["flow"] = {**row["flow"], "id": "flow_of_a_recording"}
    world = World.from_dict(data, clock=VirtualClock(START))
    sim = Simulation(world, seed=4, rate=0.01, start=world.clock.now())
    world.clock.advance(660)
    sim.advance_to(world.clock.now())
    log = world.call_logs.get(row["call_log_id"])
    assert world.live_calls.get(row["call_log_id"]) is None
    assert log.variables == row["variables"]  # nothing of another flow mapped onto it
