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

from prosper_mock import VirtualClock, World, WorldError, WorldRecipe
from prosper_mock.control import ControlClient, ControlError
from prosper_mock.persistence import StateFile, write_atomically

from .clirun import serve
from .conftest import FIXTURE_WORLD

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
    """30 SIGKILLs at random moments of a write loop: the file always reads, nothing is lost."""
    state = tmp_path / "state.json"
    rng = random.Random(11)
    acknowledged: set[int] = set()
    for _ in range(30):
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
    assert len(acknowledged) > 30
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
