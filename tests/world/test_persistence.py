"""--state-file: changes survive a restart; kill -9 never leaves an unreadable file."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import requests

from prosper_mock import StateFileError, VirtualClock, World, WorldError, WorldRecipe
from prosper_mock.control.client import ControlClient, ControlError
from prosper_mock.world.persistence import StateFile, write_atomically
from tests.clirun import main_error, one_line_error, run, serve
from tests.conftest import FIXTURE_WORLD

JSON = {"Content-Type": "application/json"}  # control bodies must say they are JSON

ARGS = ["--live-calls", "3", "--call-logs", "10", "--quiet"]


def test_changes_survive_a_clean_restart(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    with serve([*ARGS, "--state-file", str(state)]) as first:
        c = ControlClient(first.base_url)
        started = c.start_call(user_phone_number="+15550007777")["call"]["call_log_id"]
        c.end_call(1010)
        c.delete_call_log(1000)
    assert first.process.returncode == 0
    with serve([*ARGS, "--state-file", str(state)]) as second:
        assert "changes restored" in second.stderr[0]
        world = ControlClient(second.base_url).dump()
    live = {r["call_log_id"] for r in world["live_calls"]}
    logs = {r["id"] for r in world["call_logs"]}
    assert started in live and 1010 not in live and 1010 in logs and 1000 not in logs


def test_a_virtual_clock_resumes_where_it_stood(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    args = [*ARGS, "--virtual-clock", "--state-file", str(state)]
    with serve(args) as first:
        c = ControlClient(first.base_url)
        c.advance_clock(600)  # a clock move alone, no row changed: still stored
        moved = c.clock()["now"]
        c.start_call()
        c.advance_clock(30)
        last = c.clock()["now"]
    assert moved == "2026-01-15T15:10:00.000+00:00"
    with serve(args) as second:
        c = ControlClient(second.base_url)
        assert c.clock()["now"] == last == "2026-01-15T15:10:30.000+00:00"
        # An earlier --start cannot take it back: a clock never goes back.
    with serve([*args, "--start", "2026-01-15T15:00:00+00:00"]) as third:
        assert ControlClient(third.base_url).clock()["now"] == last


def test_a_state_file_with_an_impossible_clock_is_a_clear_error(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    world = World.generate(WorldRecipe(seed=0, live_calls=3, call_logs=10))
    StateFile(state).attach(world)
    data = json.loads(state.read_text())
    state.write_text(json.dumps({**data, "clock": 1e300}))
    again = World.generate(WorldRecipe(seed=0, live_calls=3, call_logs=10))
    again.clock = VirtualClock("2026-01-15T15:00:00+00:00")
    with pytest.raises(WorldError, match="clock"):
        StateFile(state).restore(again)


def test_a_state_file_that_cannot_be_written_is_a_503_not_a_crash(tmp_path: Path) -> None:
    folder = tmp_path / "state"
    folder.mkdir()
    state = folder / "state.json"
    with serve([*ARGS, "--state-file", str(state)]) as running:
        c = ControlClient(running.base_url)
        state.unlink()
        folder.rmdir()
        folder.write_text("a file where the state's folder was")
        with pytest.raises(ControlError) as refused:
            c.start_call(user_phone_number="+15550001111")
        assert refused.value.status == 503
        assert "the change was made, but the state file" in refused.value.detail
        found = requests.get(
            running.url("/api/v1/live-calls?user_phone_number=%2B15550001111"), timeout=5
        )
        assert found.status_code == 200  # served, though not yet stored
        folder.unlink()
        folder.mkdir()  # the disk is back: the next change stores both
        c.start_call(user_phone_number="+15550002222")
    assert "Traceback" not in "\n".join(running.stderr)
    stored = json.dumps(json.loads(state.read_text()))
    assert "+15550001111" in stored and "+15550002222" in stored


def test_kill_9_during_writes_never_corrupts_the_state_file(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    rng = random.Random(7)
    acknowledged: set[int] = set()
    for _ in range(4):
        with serve([*ARGS, "--state-file", str(state)]) as running:
            c = ControlClient(running.base_url, timeout=2)
            stop = threading.Event()

            def hammer(client: ControlClient = c, stop: threading.Event = stop) -> None:
                while not stop.is_set():
                    try:
                        acknowledged.add(client.start_call()["call"]["call_log_id"])
                    except (ControlError, OSError):
                        return

            worker = threading.Thread(target=hammer)
            worker.start()
            threading.Event().wait(rng.uniform(0.2, 0.6))
            running.process.kill()  # SIGKILL, mid-write
            running.process.wait(5)
            stop.set()
            worker.join(5)
        data = json.loads(state.read_text())  # whole, never half-written
        world = World.generate(WorldRecipe(live_calls=3, call_logs=10))
        assert StateFile(state).restore(world)
        live = {r.call_log_id for r in world.live_calls}
        assert acknowledged <= live, "an acknowledged change was lost"
        assert data["format"] == "prosper-voice-mock/state@1"
    assert len(acknowledged) > 10


def test_a_state_file_for_another_world_is_refused(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    StateFile(state).attach(World.generate(WorldRecipe(seed=1, live_calls=1, call_logs=1)))
    with pytest.raises(WorldError, match="another world"):
        StateFile(state).restore(World.generate(WorldRecipe(seed=2, live_calls=1, call_logs=1)))
    state.write_text("{half")
    with pytest.raises(WorldError, match="cannot read state file"):
        StateFile(state).restore(World.generate(WorldRecipe(seed=1, live_calls=1, call_logs=1)))


def test_atomic_write_leaves_no_temporary_files(tmp_path: Path) -> None:
    target = tmp_path / "s.json"
    write_atomically(target, b"one")
    write_atomically(target, b"two")
    assert target.read_bytes() == b"two"
    assert [p.name for p in tmp_path.iterdir()] == ["s.json"]


def test_serve_refuses_control_on_a_public_address_without_a_token() -> None:
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "prosper_mock", "serve", "--host", "0.0.0.0"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "without a token" in done.stderr


def _write_until_killed(state: Path, acknowledged: int) -> None:
    """A forked child: restore, then change the world (each change saved) until SIGKILL."""
    world = World.generate(WorldRecipe(live_calls=3, call_logs=10))
    StateFile(state).restore(world)
    StateFile(state).attach(world)
    os.write(acknowledged, b"attached\n")  # from here on the file always exists
    while True:
        call = world.start_call({"variables": {"padding": "x" * random.randrange(1, 4000)}})
        os.write(acknowledged, b"%d\n" % call.call_log_id)  # saved before it is told


def test_kill_9_at_random_moments_many_times(tmp_path: Path) -> None:
    """20 SIGKILLs at random moments of a write loop: the file always reads, nothing is lost."""
    state = tmp_path / "state.json"
    rng = random.Random(11)
    acknowledged: set[int] = set()
    for _ in range(20):
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child never returns
            try:
                os.close(read_end)
                _write_until_killed(state, write_end)
            finally:
                os._exit(1)
        os.close(write_end)
        with os.fdopen(read_end, "rb") as pipe:
            assert pipe.readline() == b"attached\n"
            threading.Event().wait(rng.uniform(0.0, 0.25))
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            acknowledged |= {int(line) for line in pipe.read().split()}
        world = World.generate(WorldRecipe(live_calls=3, call_logs=10))
        assert StateFile(state).restore(world)  # whole and readable, never half-written
        assert acknowledged <= {r.call_log_id for r in world.live_calls}
    assert len(acknowledged) > 20
    StateFile(state).attach(world)  # the next start sweeps what killed writes left behind
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]


def test_a_loaded_world_survives_a_restart(tmp_path: Path) -> None:
    """After PUT /__mock/world a restart serves the loaded world and the changes made since."""
    state = tmp_path / "state.json"
    fixture = json.loads(FIXTURE_WORLD.read_text())
    with serve([*ARGS, "--state-file", str(state)]) as first:
        c = ControlClient(first.base_url)
        c.load(fixture)
        loaded = c.dump()
        started = c.start_call()["call"]["call_log_id"]
    with serve([*ARGS, "--seed", "5", "--state-file", str(state)]) as second:
        c = ControlClient(second.base_url)
        after = c.dump()
        assert started in {r["call_log_id"] for r in after["live_calls"]}
        c.reset()  # back to the loaded world, not the seeded one
        assert c.dump() == loaded


def _world() -> World:
    return World.generate(WorldRecipe(seed=0, live_calls=3, call_logs=10))


def test_start_up_sweeps_only_the_kits_own_temporary_files(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    users = [".state.json.bak", ".state.json.orig", ".state.json.abcd1234", ".state.json.x.tmp"]
    for name in users:
        (tmp_path / name).write_text("the user's")
    kits = tmp_path / ".state.json.k3j4_5g6.prosper-tmp"  # what a killed write leaves
    kits.write_text("{half")
    StateFile(state).attach(_world())
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*users, "state.json"])
    assert all((tmp_path / name).read_text() == "the user's" for name in users)


def test_the_kits_temporary_files_have_the_pattern_it_sweeps(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[str] = []

    def refuse(src: str, dst: object) -> None:
        seen.append(Path(src).name)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OSError):
        write_atomically(tmp_path / "state.json", b"{}")
    assert len(seen) == 1 and seen[0].startswith(".state.json.")
    assert seen[0].endswith(".prosper-tmp")
    assert list(tmp_path.iterdir()) == []


def test_a_symlinked_state_file_is_written_through_to_its_target(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    link = tmp_path / "link.json"
    link.symlink_to(real / "state.json")
    world = _world()
    with pytest.raises(WorldError, match="does not exist"):
        StateFile(link).restore(world)  # dangling: refused, not started empty
    StateFile(real / "state.json").attach(world)
    state = StateFile(link)
    assert state.restore(_world())
    state.attach(world)
    call = world.start_call()
    assert link.is_symlink()
    assert (
        str(call.call_log_id)
        in json.loads((real / "state.json").read_text())["changes"]["live_calls"]
    )
    assert sorted(p.name for p in real.iterdir()) == ["state.json"]
    again = _world()
    assert StateFile(link).restore(again)
    assert again.live_calls.get(call.call_log_id) is not None


def test_a_dangling_or_looping_state_link_is_a_one_line_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dangling = tmp_path / "dangling.json"
    dangling.symlink_to(tmp_path / "gone" / "state.json")
    line = one_line_error(run(["serve", "--port", "0", "--state-file", str(dangling)], 20))
    assert str(dangling) in line and "does not exist" in line
    loop = tmp_path / "loop.json"
    loop.symlink_to(loop)
    line = main_error(["serve", "--port", "0", "--state-file", str(loop)], capsys)
    assert str(loop) in line and "symbolic link loop" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dangling.json", "loop.json"]


def _saved(tmp_path: Path) -> tuple[Path, dict]:
    state = tmp_path / "state.json"
    world = _world()
    StateFile(state).attach(world)
    world.start_call()
    return state, json.loads(state.read_text())


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        ({"changes": []}, "changes must be an object"),
        ({"changes": {"live_calls": []}}, "changes.live_calls must be an object"),
        ({"changes": {"nope": {}}}, "unknown store 'nope'"),
        ({"changes": {"live_calls": {"x": None}}}, "'x' is not a call id"),
        ({"changes": {"live_calls": {"1": 5}}}, "must be a row or null"),
        ({"changes": {"live_calls": {"1": {"call_log_id": "x"}}}}, "live_calls"),
        ({"clock": "soon"}, "clock must be a number"),
        ({"clock": True}, "clock must be a number"),
        ({"simulation": []}, "simulation must be an object"),
        ({"base": []}, "a world must be a JSON object"),
        ({"base": {"live_calls": 3}}, "must be arrays"),
        ({"origin": [1, 2]}, "another world"),
    ],
)
def test_a_state_file_of_a_wrong_shape_is_a_clear_error(
    tmp_path: Path, edit: dict, message: str
) -> None:
    state, data = _saved(tmp_path)
    state.write_text(json.dumps({**data, **edit}))
    world = _world()
    world.clock = VirtualClock("2026-01-15T15:00:00+00:00")
    with pytest.raises(WorldError, match=message) as refused:
        StateFile(state).restore(world)
    assert str(refused.value).startswith(f"state file {state}: ") or str(state) in str(
        refused.value
    )


def test_a_state_file_of_a_wrong_shape_is_one_line_at_start_up(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state, data = _saved(tmp_path)
    for edit in ({"changes": []}, {"simulation": {"applied": "x"}}):
        state.write_text(json.dumps({**data, **edit}))
        args = ["serve", "--port", "0", "--live-calls", "3", "--call-logs", "10"]
        line = main_error([*args, "--simulate", "--state-file", str(state)], capsys)
        assert str(state) in line


def test_a_state_file_in_a_missing_folder_is_refused_before_serving(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / "no" / "such" / "s.json"
    with pytest.raises(WorldError, match="does not exist"):
        StateFile(state).restore(_world())
    line = main_error(["serve", "--port", "0", "--state-file", str(state)], capsys)
    assert str(tmp_path / "no" / "such") in line
    assert not (tmp_path / "no").exists()


def test_a_failed_write_says_whether_anything_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import prosper_mock.world.persistence as persistence

    real_write = persistence.write_atomically

    def full(path: Path, data: bytes) -> None:
        raise OSError(28, "No space left on device")

    state = tmp_path / "state.json"
    world = _world()
    monkeypatch.setattr(persistence, "write_atomically", full)
    with pytest.raises(WorldError) as initial:
        StateFile(state).attach(world)  # the first write, at start-up: nothing changed yet
    assert "change was made" not in str(initial.value)
    assert f"cannot write state file {state}" in str(initial.value)
    world.listeners.clear()
    monkeypatch.setattr(persistence, "write_atomically", real_write)
    stored = StateFile(state).attach(world)
    monkeypatch.setattr(persistence, "write_atomically", full)
    world.reset()  # nothing to reset: nothing changed, nothing to store
    with pytest.raises(WorldError, match="the change was made, but the state file") as changed:
        world.start_call()
    assert isinstance(changed.value, StateFileError)
    with pytest.raises(WorldError) as earlier:
        stored.save(world)  # no change now, but the earlier one is still not stored
    assert "change was made" not in str(earlier.value)
    assert "not stored" in str(earlier.value) and isinstance(earlier.value, StateFileError)
    monkeypatch.setattr(persistence, "write_atomically", real_write)
    stored.save(world)
    assert json.loads(state.read_text())["changes"]["live_calls"]


@pytest.mark.parametrize("number", ["-1e400", "NaN", "Infinity"])
def test_a_state_file_holding_a_non_finite_number_is_refused_at_start(
    tmp_path: Path, number: str
) -> None:
    """A state file written before non-finite numbers were refused (or edited by hand) stops
    the start with one line naming it, rather than serving a call whose every lookup is a 500."""
    state = tmp_path / "state.json"
    world = World.generate(WorldRecipe(seed=0, live_calls=3, call_logs=10))
    StateFile(state).attach(world)
    world.map_variables(next(iter(world.live_calls)).call_log_id, {"y": 12345})
    state.write_text(state.read_text().replace("12345", number))
    again = World.generate(WorldRecipe(seed=0, live_calls=3, call_logs=10))
    with pytest.raises(WorldError, match=r"state\.json"):
        StateFile(state).restore(again)
    done = subprocess.run(
        [sys.executable, "-m", "prosper_mock", "serve", *ARGS, "--state-file", str(state)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    (line,) = done.stderr.strip().splitlines()
    assert "state" in line and "Traceback" not in line


def test_a_refused_value_never_reaches_the_state_file(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    with serve([*ARGS, "--state-file", str(state)]) as running:
        answer = requests.patch(
            running.url("/__mock/live-calls/1010/variables"),
            data=b'{"variables": {"y": -1e400}}',
            headers=JSON,
            timeout=5,
        )
        assert answer.status_code == 422 and "variables.y" in answer.json()["detail"]
        deep = {"variables": {"y": json.loads("[" * 330 + "]" * 330)}}
        answer = requests.patch(running.url("/__mock/live-calls/1010/variables"), json=deep)
        assert answer.status_code == 422 and "levels deep" in answer.json()["detail"]
        ok = requests.patch(
            running.url("/__mock/live-calls/1010/variables"), json={"variables": {"y": 1}}
        )
        assert ok.status_code == 200  # the call still takes changes
    stored = state.read_text()
    json.loads(stored, parse_constant=lambda name: pytest.fail(f"{name} stored"))
    assert "Infinity" not in stored


@pytest.mark.parametrize(
    ("before", "after", "message"),
    [
        ('"call_log_id": 1011', '"call_log_id": "1011"', "call_log_id: Input should be"),
        ('"format": ', '"format": "x", "format": ', 'duplicate key "format"'),
    ],
)
def test_a_state_file_is_read_strictly(
    tmp_path: Path, before: str, after: str, message: str
) -> None:
    state = tmp_path / "state.json"
    world = World.generate(WorldRecipe(seed=0, live_calls=3, call_logs=10))
    StateFile(state).attach(world)
    world.load(json.loads(FIXTURE_WORLD.read_text()))  # the base is stored too
    text = state.read_text()
    assert before in text
    state.write_text(text.replace(before, after, 1))
    with pytest.raises(WorldError, match=message) as info:
        StateFile(state).restore(World.generate(WorldRecipe(seed=0, live_calls=3, call_logs=10)))
    assert str(state) in str(info.value)


def test_an_id_is_never_issued_twice_across_a_restart(tmp_path: Path) -> None:
    """Start a call, delete it, restart: the next call gets a new id, not the deleted one's."""
    state = tmp_path / "state.json"
    with serve([*ARGS, "--state-file", str(state)]) as first:
        c = ControlClient(first.base_url)
        issued = c.start_call()["call"]["call_log_id"]
        c.delete_live_call(issued)
        logged = c.add_call_log()["call_log"]["id"]
        c.delete_call_log(logged)
    with serve([*ARGS, "--state-file", str(state)]) as second:
        c = ControlClient(second.base_url)
        again = c.start_call()["call"]["call_log_id"]
        assert again == logged + 1 and logged == issued + 1
        c.reset()  # a reset is back to the seeded world, its ids included
        assert c.start_call()["call"]["call_log_id"] == issued


def test_a_state_file_without_the_last_id_still_loads(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    world = World.generate(WorldRecipe(seed=0, live_calls=3, call_logs=10))
    StateFile(state).attach(world)
    call = world.start_call()
    data = json.loads(state.read_text())
    assert data["changes"].pop("last_id") == call.call_log_id
    state.write_text(json.dumps(data))
    again = World.generate(WorldRecipe(seed=0, live_calls=3, call_logs=10))
    assert StateFile(state).restore(again)
    assert again.live_calls.get(call.call_log_id) == call
    assert again.start_call().call_log_id == call.call_log_id + 1
    with pytest.raises(WorldError, match="last_id must be an id"):
        again.apply_changes({"last_id": "12"})
