"""A transaction's ``Change`` replayed onto another world with the same base makes it equal
to the writer: the property every store builds on (the state file's log, the shared log)."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from prosper_mock import VirtualClock, World, WorldError, WorldRecipe
from prosper_mock.world.driver import LocalDriver
from prosper_mock.world.simulation import Simulation
from prosper_mock.world.storage.base import Change
from prosper_mock.world.storage.memory import touched

RECIPE = WorldRecipe(seed=5, live_calls=4, call_logs=10)
START = "2026-01-15T15:00:00+00:00"


def _state(world: World) -> str:
    return json.dumps([world.changes(), world.dump()], sort_keys=True)


class Replica:
    """Applies every change the writer commits, as a store's other process would."""

    def __init__(self) -> None:
        self.world = World.generate(RECIPE, clock=VirtualClock(START))
        self.changes: list[Change] = []

    def __call__(self, writer: Any) -> None:
        change = writer.change()
        self.changes.append(change)
        if change.whole:
            self.world.reset()
        self.world.apply_changes(json.loads(json.dumps(change.document)), exact=True)


def _writes(world: World, driver: LocalDriver, data: st.DataObject) -> None:
    campaign = world.campaigns()[0].id
    live = [c.call_log_id for c in world.live_calls]
    logs = [c.call_log_id for c in world.call_logs]
    targets = [t.id for t in world.targets]
    saved = None
    for _ in range(data.draw(st.integers(1, 12))):
        kind = data.draw(st.sampled_from(
            ["start", "map", "end", "log", "del_log", "del_live", "add", "launch", "del_target",
             "patch", "advance", "reset", "snapshot", "restore", "refused"]
        ))  # fmt: skip
        pick = data.draw(st.integers(0, 10**6))
        try:
            if kind == "start":
                live.append(world.start_call({"variables": {"n": pick}}).call_log_id)
            elif kind == "map" and live:
                world.map_variables(live[pick % len(live)], {"v": pick})
            elif kind == "end" and live:
                logs.append(world.end_call(live[pick % len(live)]).call_log_id)
            elif kind == "log":
                logs.append(world.add_call_log().call_log_id)
            elif kind == "del_log" and logs:
                world.delete_call_log(logs[pick % len(logs)])
            elif kind == "del_live" and live:
                world.delete_live_call(live[pick % len(live)])
            elif kind in ("add", "launch"):
                added = world.add_targets(
                    campaign, [{"phone_number": f"+1555{pick:07d}"}], launch=kind == "launch"
                )
                targets += [t.id for t in added.added]
            elif kind == "del_target" and targets:
                world.delete_targets(campaign, [targets[pick % len(targets)]])
            elif kind == "patch" and targets:
                world.update_target_input(targets[pick % len(targets)], {"k": pick})
            elif kind == "advance":
                driver.advance_clock(1 + pick % 400)
            elif kind == "reset":
                world.reset()
            elif kind == "snapshot":
                saved = world.snapshot()
            elif kind == "restore" and saved is not None:
                world.restore(saved)
            elif kind == "refused":
                world.add_targets(campaign, [{"phone_number": 1}])
        except WorldError:
            pass  # a refusal changes nothing: nothing is committed either


@settings(max_examples=25)
@given(data=st.data())
def test_replaying_each_change_keeps_a_replica_equal_to_the_writer(data: st.DataObject) -> None:
    writer = World.generate(RECIPE, clock=VirtualClock(START))
    replica = Replica()
    writer.listeners.append(replica)
    driver = LocalDriver(writer, Simulation(writer, 5, 6.0, writer.clock.now()))
    _writes(writer, driver, data)
    assert _state(replica.world) == _state(writer)


def test_a_change_holds_only_what_the_write_touched() -> None:
    writer = World.generate(RECIPE, clock=VirtualClock(START))
    replica = Replica()
    writer.listeners.append(replica)
    campaign = writer.campaigns()[0].id
    added = writer.add_targets(campaign, [{"phone_number": f"+1555{i:07d}"} for i in range(50)])
    writer.update_target_input(added.added[3].id, {"k": 1})
    patch = replica.changes[-1]
    assert not patch.whole
    assert list(patch.document) == ["targets"]
    assert list(patch.document["targets"]) == [added.added[3].id]
    writer.reset()
    assert replica.changes[-1].whole
    assert writer.change() == Change({})  # outside a transaction: nothing


def test_touched_compares_entries_by_identity() -> None:
    row, same, other = ["a"], ["a"], ["b"]
    now, then = {1: row, 2: other, 4: row, 5: other}, {1: row, 2: same, 3: row}
    assert touched(now, then, {1, 2, 3, 5, 4}) == {2: other, 3: None, 4: row, 5: other}
    assert list(touched(now, then, {5, 4})) == [4, 5]  # the new ones in the order added
    assert touched(now, then, {2}) == {2: other}  # only what was written is looked at
