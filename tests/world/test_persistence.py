"""--state-file: changes survive a restart; kill -9 never leaves an unreadable file."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st

from prosper_mock import MockServer, StateFileError, VirtualClock, World, WorldError, WorldRecipe
from prosper_mock.control.client import ControlClient, ControlError
from prosper_mock.world.persistence import StateFile, read_state, write_atomically
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
    data = read_state(state)
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
        assert "the change was not made: the state file" in refused.value.detail
        found = requests.get(
            running.url("/api/v1/live-calls?user_phone_number=%2B15550001111"), timeout=5
        )
        assert found.status_code == 404  # not stored, so not made: nothing a restart would lose
        folder.unlink()
        folder.mkdir()  # the disk is back: the next change is stored
        c.start_call(user_phone_number="+15550002222")
    assert "Traceback" not in "\n".join(running.stderr)
    stored = json.dumps(read_state(state))
    assert "+15550001111" not in stored and "+15550002222" in stored


def test_a_copy_that_cannot_be_written_lets_the_change_stand_and_catches_up(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # A state file kept beside a shared store (attach(vetoes=False)): the store holds each
    # change first, so the file never refuses one; it says so once, and is written whole at
    # the next change it can take.
    folder = tmp_path / "kept"
    folder.mkdir()
    state = folder / "state.json"
    world = World.generate(WorldRecipe(seed=1, live_calls=1, call_logs=1))
    StateFile(state).attach(world, vetoes=False)
    state.unlink()
    folder.rmdir()
    lost = [world.start_call().call_log_id for _ in range(2)]
    assert all(world.live_calls.get(call_log_id) for call_log_id in lost)
    folder.mkdir()
    world.start_call()
    errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert len(errors) == 1 and errors[0].startswith(f"the state file {state} could not be")
    assert "the change was not made" not in errors[0]
    assert any("is written again" in r.getMessage() for r in caplog.records)
    again = World.generate(WorldRecipe(seed=1, live_calls=1, call_logs=1))
    assert StateFile(state).restore(again)
    assert again.dump() == world.dump()


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
        data = read_state(state)  # whole, never half-written
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
    assert str(call.call_log_id) in read_state(real / "state.json")["changes"]["live_calls"]
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
    return state, read_state(state)


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


def test_a_change_the_state_file_cannot_take_is_not_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import prosper_mock.world.persistence as persistence

    real_write = persistence.write_atomically

    def full(path: Path, data: bytes) -> None:  # a whole write or a line appended
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(persistence.statelog, "append_line", full)

    state = tmp_path / "state.json"
    world = _world()
    monkeypatch.setattr(persistence, "write_atomically", full)
    with pytest.raises(WorldError) as initial:
        StateFile(state).attach(world)  # the first write, at start-up: nothing changed yet
    assert f"cannot write state file {state}" in str(initial.value)
    world.listeners.clear()
    monkeypatch.setattr(persistence, "write_atomically", real_write)
    StateFile(state).attach(world)
    stored = state.read_bytes()
    monkeypatch.setattr(persistence, "write_atomically", full)
    world.reset()  # nothing to reset: nothing changed, nothing to store
    before = world.changes()
    with pytest.raises(StateFileError, match="the change was not made: the state file"):
        world.start_call()
    assert world.changes() == before and state.read_bytes() == stored
    monkeypatch.setattr(persistence, "write_atomically", real_write)
    world.start_call()
    assert read_state(state)["changes"] == json.loads(json.dumps(world.changes()))


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
    for line in stored.splitlines():  # the whole state, then a line per change
        json.loads(line, parse_constant=lambda name: pytest.fail(f"{name} stored"))
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
    data = read_state(state)
    assert data["changes"].pop("last_id") == call.call_log_id
    state.write_text(json.dumps(data))
    again = World.generate(WorldRecipe(seed=0, live_calls=3, call_logs=10))
    assert StateFile(state).restore(again)
    assert again.live_calls.get(call.call_log_id) == call
    assert again.start_call().call_log_id == call.call_log_id + 1
    with pytest.raises(WorldError, match="last_id must be an id"):
        again.apply_changes({"last_id": "12"})


# -- what the world accepts, it stores and loads back ---------------------------------------

SURROGATE_WRITES = [  # JSON text: "\ud800" is the escape of a lone surrogate, as sent
    (
        "POST",
        "/campaigns/{c}/ehr-event/f1",
        r'{"event_type":"appointment_created","target_id":"\ud800"}',
    ),
    (
        "POST",
        "/campaigns/{c}/ehr-event/f1",
        r'{"event_type":"patient_registered","event_data":{"\ud800":1}}',
    ),
    (
        "POST",
        "/campaigns/{c}/ehr-event/f1",
        r'{"event_type":"appointment_created","external_id":"a\udfff"}',
    ),
    ("POST", "/campaigns/{c}/calls", r'{"count":{"\ud800":1}}'),
    ("POST", "/campaigns/{c}/calls", r'{"target_ids":["\ud800"]}'),
    (
        "POST",
        "/campaigns/{c}/targets",
        r'{"targets":[{"phone_number":"1","input_data":{"\ud800":1}}]}',
    ),
    ("POST", "/campaigns/{c}/targets", r'{"targets":[{"phone_number":"1","id":"\ud800"}]}'),
    ("PATCH", "/targets/{t}", r'{"input_data":{"\ud800":{"x":"\udc00"}}}'),
    ("POST", "/campaigns/{c}/targets/{t}/step/f", r'{"\ud800":1}'),
    ("POST", "/campaigns/{c}/targets/{t}/step/f", r'{"x":["\ud800"]}'),
]


def _served(tmp_path: Path) -> tuple[World, Path, str, str]:
    """A world whose changes go to a state file: (world, file, a campaign, a Pending target)."""
    world, state = _world(), tmp_path / "state.json"
    StateFile(state).attach(world)
    campaign = world.campaigns()[0].id
    world.add_targets(campaign, [{"phone_number": "+15550001111", "id": "t-1"}])
    return world, state, campaign, "t-1"


def _loads_back(world: World, state: Path) -> None:
    """The state file restores the world as it is, and its dump loads."""
    again = _world()
    assert StateFile(state).restore(again)
    assert json.dumps(again.changes(), sort_keys=True) == json.dumps(
        world.changes(), sort_keys=True
    )
    World.from_dict(json.loads(json.dumps(world.dump())))


def test_a_lone_surrogate_is_refused_and_never_poisons_the_state_file(tmp_path: Path) -> None:
    world, state, campaign, target = _served(tmp_path)
    before = world.changes()
    with MockServer(world) as server:
        for method, path, body in SURROGATE_WRITES:
            url = server.url("/api/v1" + path.format(c=campaign, t=target))
            answer = requests.request(method, url, data=body.encode(), headers=JSON, timeout=5)
            assert 400 <= answer.status_code < 500, (path, body, answer.text)
            assert answer.json()["detail"], body
        assert world.changes() == before  # nothing half made
        assert requests.get(server.url("/__mock/world"), timeout=5).status_code == 200
        pages = server.url(f"/api/v1/campaigns/{campaign}/targets")
        assert requests.get(pages, timeout=5).status_code == 200
        added = requests.post(pages, json={"targets": [{"phone_number": "+1555"}]}, timeout=5)
        assert added.status_code == 200  # later writes are made, and stored
    _loads_back(world, state)
    assert world.target(added.json()["targets"][0]["id"]) is not None


def _nested(levels: int) -> list[Any]:
    """Arrays ``levels`` deep: ``[[...]]``."""
    value: list[Any] = []
    for _ in range(levels - 1):
        value = [value]
    return value


def test_a_webhook_step_is_accepted_exactly_when_it_loads_back(tmp_path: Path) -> None:
    """The step's data sits under its friendly id in the target's output: a body the depth
    check takes must still load back from the state file and the dump."""
    world, state, campaign, target = _served(tmp_path)
    path = f"/api/v1/campaigns/{campaign}/targets/{target}/step/f"
    answers = {}
    with MockServer(world) as server:
        for levels in (61, 62):  # {"x": [[...]]}: the body is 1 + levels deep
            answer = requests.post(server.url(path), json={"x": _nested(levels)}, timeout=5)
            answers[levels] = answer.status_code, answer.json()
            _loads_back(world, state)
    assert answers[61][0] == 200
    assert answers[62][0] == 400 and "nested more than 64 levels" in answers[62][1]["detail"]


texts = st.text(max_size=4) | st.sampled_from(["\ud800", "a\udfffb", "\udc00\ud800"])
values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | texts,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=8,
) | st.integers(60, 66).map(_nested)
objects = st.dictionaries(texts, values, max_size=3)


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[MockServer, Path, str]]:
    world, state, campaign, _ = _served(tmp_path_factory.mktemp("stored"))
    with MockServer(world) as server:
        yield server, state, campaign


@settings(max_examples=60)
@given(
    write=st.sampled_from(["step", "ehr", "patch", "add"]),
    data=objects,
    text=texts,
)
def test_whatever_a_write_accepts_loads_back(
    stored: tuple[MockServer, Path, str], write: str, data: dict[str, Any], text: str
) -> None:
    server, state, campaign = stored
    path, body = {
        "step": (f"/campaigns/{campaign}/targets/t-1/step/{write}", data),
        "ehr": (
            f"/campaigns/{campaign}/ehr-event/f",
            {"event_type": "patient_registered", "event_data": data, "external_id": text},
        ),
        "patch": ("/targets/t-1", {"input_data": data, "only_if_not_started": False}),
        "add": (
            f"/campaigns/{campaign}/targets",
            {"targets": [{"phone_number": text, "input_data": data}]},
        ),
    }[write]
    # Lone surrogates sent as their escapes; NaN and Infinity as Python writes them (FastAPI
    # reads both).
    raw = json.dumps(body)
    method = "PATCH" if write == "patch" else "POST"
    answer = requests.request(method, server.url("/api/v1" + path), data=raw, headers=JSON)
    assert answer.status_code in (200, 400), answer.text
    _loads_back(server.world, state)


@pytest.mark.parametrize("big", ["9223372036854775808", "9" * 4300, "9" * 4301])
def test_a_file_holding_a_call_id_past_the_largest_does_not_load(tmp_path: Path, big: str) -> None:
    """Ids are 0 .. 2**63 - 1 (kit decision 30): a state or world file with a larger one is
    one clear error naming the file, not a traceback or a world that cannot issue an id."""
    state, dumped = tmp_path / "state.json", tmp_path / "world.json"
    world = _world()
    StateFile(state).attach(world)
    issued = str(world.start_call().call_log_id)
    state.write_text(state.read_text().replace(issued, big))
    dumped.write_text(json.dumps(world.dump()).replace(issued, big))
    with pytest.raises(StateFileError) as info:
        StateFile(state).restore(_world())
    with pytest.raises(WorldError) as file_info:
        World.from_file(dumped)
    for error, path in ((info, state), (file_info, dumped)):
        message = str(error.value)
        assert str(path) in message and "\n" not in message
        assert "9223372036854775807" in message or "4300 digits" in message
