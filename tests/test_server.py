"""MockServer: a real loopback port in a background thread; start errors are reported. A
state file keeps the stubs and fault rules with the world (``keep_in``)."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import pytest
import requests

from prosper_mock import MockServer, World, WorldRecipe
from prosper_mock.control.client import ControlClient, ControlError
from prosper_mock.server import keep_in
from prosper_mock.world.persistence import StateFile, read_state
from tests.clirun import one_line_error, run, serve


def test_start_stop_and_restart_a_fresh_one() -> None:
    world = World.generate(WorldRecipe(live_calls=1, call_logs=2))
    server = MockServer(world).start()
    try:
        assert server.base_url.startswith("http://127.0.0.1:")
        assert requests.get(server.url("/openapi.json"), timeout=5).ok
        with pytest.raises(RuntimeError, match="already started"):
            server.start()
    finally:
        server.stop()
    with pytest.raises(requests.ConnectionError):
        requests.get(server.url("/openapi.json"), timeout=2)
    server.stop()  # stopping twice is harmless


def test_a_busy_port_is_reported_to_the_caller() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(OSError):
            MockServer(World.generate(WorldRecipe(live_calls=1, call_logs=1)), port=port).start()


def test_create_app_adds_the_control_api_to_the_api_app_unless_told_not_to() -> None:
    world = World.generate(WorldRecipe(live_calls=1, call_logs=1))
    with MockServer(world) as with_control, MockServer(world, control=False) as without:
        assert requests.get(with_control.url("/__mock/journal"), timeout=5).status_code == 200
        r = requests.get(without.url("/__mock/journal"), timeout=5)
        assert (r.status_code, r.json()) == (404, {"detail": "Not Found"})


def test_serve_options_are_frozen_and_keep_secrets_out_of_their_repr() -> None:
    import dataclasses

    from prosper_mock.server import ServeOptions

    options = ServeOptions(control_token="t0ken", api_key=("X-API-Key", "s3cret"))
    with pytest.raises(dataclasses.FrozenInstanceError):
        options.port = 1  # type: ignore[misc]
    assert "t0ken" not in repr(options) and "s3cret" not in repr(options)
    assert dataclasses.replace(options, port=9).port == 9


STUB = {"id": "kept", "method": "GET", "path": "/api/v1/call-logs", "status": 503, "times": 3}
RULES = [{"faults": "status=429;retry_after=2", "probability": 1.0, "match": {"limit": "7"}}]
SERVE = ["--live-calls", "3", "--call-logs", "10", "--quiet"]


def test_stubs_and_fault_rules_survive_a_restart_and_a_sigkill_right_after_the_answer(
    tmp_path: Path,
) -> None:
    args = [*SERVE, "--state-file", str(tmp_path / "state.json")]
    with serve(args) as first:  # stopped with SIGTERM
        c = ControlClient(first.base_url)
        c.add_stub(**STUB)
        assert requests.get(first.url("/api/v1/call-logs"), timeout=5).status_code == 503
        c.set_faults(RULES)
        stubs, faults = c.stubs(), c.faults()
    with serve(args) as second:
        c = ControlClient(second.base_url)
        assert (c.stubs(), c.faults()) == (stubs, faults)
        assert stubs[0]["answered"] == 1  # counts as they stood
        assert requests.get(second.url("/api/v1/call-logs?limit=7"), timeout=5).status_code == 503
        c.clear_faults()
        c.add_stub(**{**STUB, "id": "more", "status": 504})
        c.remove_stub("kept")
        second.process.kill()  # SIGKILL right after the answers: they were stored first
        second.process.wait(5)
    with serve(args) as third:
        c = ControlClient(third.base_url)
        assert [s["id"] for s in c.stubs()] == ["more"] and c.faults() == {"rules": []}
        assert requests.get(third.url("/api/v1/call-logs"), timeout=5).status_code == 504


def _kept(tmp_path: Path) -> tuple[MockServer, StateFile]:
    """A mock whose world, stubs and fault rules ``state.json`` keeps (as serve wires it)."""
    world = World.generate(WorldRecipe(live_calls=3, call_logs=10))
    state_file = StateFile(tmp_path / "state.json")
    state_file.restore(world)
    server = MockServer(world)
    keep_in(state_file, server.state)
    state_file.attach(world)
    return server, state_file


def test_a_change_of_stubs_or_faults_that_cannot_be_stored_is_refused_and_not_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import prosper_mock.world.persistence as persistence

    server, state_file = _kept(tmp_path)
    with server:
        c = ControlClient(server.base_url)
        c.add_stub(**STUB)
        c.set_faults(RULES)
        stored = state_file.path.read_bytes()

        def full(path: Path, data: bytes) -> None:
            raise OSError(28, "No space left on device")

        monkeypatch.setattr(persistence.statelog, "append_line", full)
        monkeypatch.setattr(persistence, "write_atomically", full)
        changes = [
            lambda: c.add_stub(**{**STUB, "id": "other"}),
            lambda: c.remove_stub("kept"),
            c.clear_stubs,
            c.clear_faults,
            lambda: c.set_faults([]),
            c.reset,
        ]
        for change in changes:
            with pytest.raises(ControlError) as refused:
                change()
            assert refused.value.status == 503
            assert "the change was not made: the state file" in refused.value.detail
            assert [s["id"] for s in c.stubs()] == ["kept"] and len(c.faults()["rules"]) == 1
        assert state_file.path.read_bytes() == stored
        monkeypatch.undo()
        c.remove_stub("kept")  # the disk is back: stored again
    assert read_state(state_file.path)["sections"]["stubs"] == []


def test_reset_clears_the_stubs_in_the_file_too(tmp_path: Path) -> None:
    server, state_file = _kept(tmp_path)
    with server:
        c = ControlClient(server.base_url)
        c.add_stub(**STUB)
        c.start_call()
        assert [s["id"] for s in read_state(state_file.path)["sections"]["stubs"]] == ["kept"]
        c.reset()
    sections = read_state(state_file.path)["sections"]
    assert sections["stubs"] == [] and sections["faults"] == {"rules": []}
    again, _ = _kept(tmp_path)
    assert len(again.state.stubs) == 0


def test_a_state_file_without_sections_still_loads(tmp_path: Path) -> None:
    world = World.generate(WorldRecipe(live_calls=3, call_logs=10))
    StateFile(tmp_path / "state.json").attach(world)  # as the kit wrote it before sections
    world.start_call()
    assert "sections" not in read_state(tmp_path / "state.json")
    server, state_file = _kept(tmp_path)
    assert len(server.state.stubs) == 0 and server.state.faults.rules == []
    assert read_state(state_file.path)["sections"] == {"stubs": [], "faults": {"rules": []}}


@pytest.mark.parametrize(
    ("sections", "words"),
    [
        ({"stubs": [{**STUB, "path": "/nowhere"}]}, "stubs: stub 0: no operation"),
        ({"stubs": {"not": "a list"}}, "stubs: the stubs must be a list"),
        ({"stubs": [{**STUB, "seen": -1}]}, "stubs: stub 0: seen and answered"),
        ({"faults": {"rules": [{"faults": "boom"}]}}, "faults: bad fault"),
        ([], "sections must be an object"),
    ],
)
def test_a_state_file_with_a_bad_section_is_one_line_at_start(
    tmp_path: Path, sections: Any, words: str
) -> None:
    state = tmp_path / "state.json"
    world = World.generate(WorldRecipe(live_calls=3, call_logs=10))
    StateFile(state).attach(world)
    state.write_text(json.dumps({**read_state(state), "sections": sections}))
    args = ["serve", "--port", "0", "--live-calls", "3", "--call-logs", "10"]
    line = one_line_error(run([*args, "--state-file", str(state)], timeout=30))
    assert str(state) in line and words in line
