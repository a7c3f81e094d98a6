"""The state file as a log: a write appends its change (O(change), whatever the world's size),
the lines fold into the state a whole write holds, a half-written last line is ignored, a failed
append leaves nothing behind, and the file is written whole again when its lines outgrow it."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prosper_mock import StateFileError, VirtualClock, World
from prosper_mock.world.driver import LocalDriver
from prosper_mock.world.persistence import StateFile, read_state
from prosper_mock.world.simulation import Simulation
from prosper_mock.world.storage import statelog
from tests.world.storage.test_memory import RECIPE, START, _writes


def _world() -> World:
    return World.generate(RECIPE, clock=VirtualClock(START))


def _same(path: Path, world: World) -> None:
    """The file folds to the world's state, and a restart from it is the same world."""
    assert read_state(path)["changes"] == json.loads(json.dumps(world.changes()))
    restarted = _world()
    StateFile(path).restore(restarted)
    assert json.dumps(restarted.changes()) == json.dumps(world.changes())
    assert json.dumps(restarted.dump()) == json.dumps(world.dump())
    assert restarted.clock.now() == world.clock.now()


@settings(max_examples=20)
@given(data=st.data())
def test_any_writes_fold_and_restore_to_the_world_that_made_them(
    tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    path = tmp_path_factory.mktemp("log") / "state.json"
    world = _world()
    StateFile(path).attach(world)
    driver = LocalDriver(world, Simulation(world, 5, 6.0, world.clock.now()))
    _writes(world, driver, data)
    _same(path, world)


def test_a_write_appends_only_its_change_however_big_the_world(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    world = _world()
    StateFile(path).attach(world)
    campaign = world.campaigns()[0].id
    target = world.add_targets(campaign, [{"phone_number": "+15550000000"}]).added[0].id
    world.add_targets(campaign, [{"phone_number": f"+1555{i:07d}"} for i in range(3000)])
    before = path.stat().st_size
    world.update_target_input(target, {"k": 1})
    grown = path.stat().st_size - before
    assert 0 < grown < 2000  # one target's line, not the 3 000 others
    assert path.read_bytes().count(b"\n") >= 2  # the whole state, then lines of changes
    _same(path, world)


def test_lines_that_outgrow_the_whole_state_make_the_next_write_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(statelog, "COMPACT_MIN_BYTES", 0)
    path = tmp_path / "state.json"
    world = _world()
    StateFile(path).attach(world)
    sizes = []
    for i in range(40):
        world.start_call({"variables": {"i": i}})
        sizes.append(path.read_bytes().count(b"\n"))
    assert 1 in sizes[1:]  # written whole again (one line) along the way
    assert path.stat().st_size < 4 * len(json.dumps(world.changes()))
    _same(path, world)


def test_a_half_written_last_line_is_ignored(tmp_path: Path) -> None:
    """What a process killed mid-append leaves: a change never acknowledged."""
    path = tmp_path / "state.json"
    world = _world()
    StateFile(path).attach(world)
    world.start_call()
    acknowledged = path.read_bytes()
    world.start_call()
    whole = path.read_bytes()
    for cut in (len(acknowledged) + 1, len(whole) - 20, len(whole) - 1):
        path.write_bytes(whole[:cut])
        restarted = _world()
        StateFile(path).restore(restarted)
        assert len(restarted.live_calls) == len(world.live_calls) - 1


def test_a_damaged_line_before_the_last_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    world = _world()
    StateFile(path).attach(world)
    world.start_call()
    world.start_call()
    head, _first, second, _ = path.read_bytes().split(b"\n")
    path.write_bytes(b"\n".join([head, b'{"not": "a change"}', second, b""]))
    with pytest.raises(StateFileError, match="line 2 is not a change") as info:
        StateFile(path).restore(_world())
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_a_failed_append_cuts_the_file_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A disk that fills up mid-line: the part written is cut off, the change refused."""
    path = tmp_path / "state.json"
    world = _world()
    StateFile(path).attach(world)
    world.start_call()
    stored = path.read_bytes()
    real_write = os.write

    def half_then_full(fd: int, data: Any) -> int:
        if len(data) > 10:
            real_write(fd, bytes(data[:10]))
            raise OSError(28, "No space left on device")
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", half_then_full)
    with pytest.raises(StateFileError, match="could not be written"):
        world.start_call()
    monkeypatch.undo()
    assert path.read_bytes() == stored
    world.start_call()  # the next write stores the whole state
    _same(path, world)


def test_a_file_without_lines_reads_as_it_always_did(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    world = _world()
    StateFile(path).attach(world)
    world.start_call()
    data = read_state(path)
    path.write_text(json.dumps(data, indent=2))  # one document over many lines, by hand
    _same(path, world)
