"""World changes keep both stores consistent; world files round-trip."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from prosper_mock import VirtualClock, World, WorldError, WorldRecipe

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def world() -> World:
    return World.generate(
        WorldRecipe(seed=4, live_calls=6, call_logs=30),
        clock=VirtualClock("2026-02-01T10:00:00+00:00"),
    )


def test_start_call_generates_what_is_not_given(world: World) -> None:
    call = world.start_call({"user_phone_number": "+15550001111", "variables": {"a": 1}})
    assert call.user_phone_number == "+15550001111"
    assert call.variables == {"a": 1}  # given fields replace generated ones wholesale
    assert call.started_at == "2026-02-01T10:00:00.000+00:00"
    assert call.flow["step_index"] == 0 and call.agent_data and call.target
    assert call.call_log_id > max(r.call_log_id for r in world.call_logs if r is not call)


def test_map_variables_then_end_moves_the_call(world: World) -> None:
    call = world.start_call()
    world.map_variables(call.call_log_id, {"identity_verified": True})
    world.clock.advance(187)
    log = world.end_call(call.call_log_id)
    assert call.call_log_id not in world.live_calls
    assert world.call_logs.get(call.call_log_id) == log
    assert log.variables["identity_verified"] is True
    assert log.call_length == "0:03:07"
    assert log.created_at == call.started_at
    assert log.transcripts == call.transcript
    assert log.to == call.user_phone_number


def test_end_call_overrides_and_keep_live(world: World) -> None:
    call = world.start_call()
    log = world.end_call(call.call_log_id, {"call_ended_reason": "voicemail"}, keep_live=True)
    assert log.call_ended_reason == "voicemail"
    assert call.call_log_id in world.live_calls


@pytest.mark.parametrize(
    ("change", "status"),
    [
        (lambda w: w.map_variables(1, {"a": 1}), 404),
        (lambda w: w.end_call(1), 404),
        (lambda w: w.delete_call_log(1), 404),
        (lambda w: w.delete_live_call(1), 404),
        (lambda w: w.start_call({"call_log_id": next(iter(w.live_calls)).call_log_id}), 409),
        (lambda w: w.start_call({"call_log_id": "7"}), 422),
        (lambda w: w.start_call({"started_at": "yesterday"}), 422),
        (lambda w: w.start_call({"started_at": "2026-01-01T00:00:00"}), 422),  # no offset
        (lambda w: w.start_call({"no_such_field": 1}), 422),
        (lambda w: w.add_call_log({"id": next(iter(w.call_logs)).call_log_id}), 409),
        (lambda w: w.add_call_log({"transcripts": "hello"}), 422),
        (lambda w: w.map_variables(next(iter(w.live_calls)).call_log_id, ["x"]), 422),
    ],
)
def test_bad_changes_raise_clear_errors_and_change_nothing(
    world: World, change, status: int
) -> None:
    before = json.dumps(world.dump())
    with pytest.raises(WorldError) as info:
        change(world)
    assert info.value.status == status
    assert str(info.value)
    assert json.dumps(world.dump()) == before


def test_reset_returns_to_the_seeded_world(world: World) -> None:
    seeded = world.dump()
    call = world.start_call()
    world.end_call(call.call_log_id)
    world.delete_call_log(next(iter(world.call_logs)).call_log_id)
    assert world.dump() != seeded
    world.reset()
    assert world.dump() == seeded


def test_dump_load_round_trip(world: World) -> None:
    world.start_call({"variables": {"x": "y"}})
    data = json.loads(json.dumps(world.dump()))
    copy = World.from_dict(data)
    assert copy.dump() == data
    world.reset()
    world.load(data)
    assert world.dump() == data
    world.start_call()
    world.reset()  # back to the loaded world, not the seeded one
    assert world.dump() == data


def test_fixture_world_loads() -> None:
    world = World.from_file(ROOT / "fixtures" / "world.json")
    assert world.stats()["live_calls"] == 4
    assert world.stats()["call_logs"] == 12


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "must be a JSON object"),
        ({"format": "other"}, "unknown world format"),
        ({"live_calls": {}}, "must be arrays"),
        ({"extra": 1}, "unknown world keys"),
        ({"live_calls": [{"call_log_id": 1}]}, "live_calls[0]"),
        ({"call_logs": [{"id": 1, "user_phone_number": "+1", "created_at": "x"}]}, "call_logs[0]"),
        ({"recipe": {"seed": "x", "anchor": "bad"}}, "bad recipe"),
    ],
)
def test_bad_world_files_are_named(data: object, message: str) -> None:
    with pytest.raises(WorldError, match=message.replace("[", r"\[")):
        World.from_dict(data)  # type: ignore[arg-type]


def test_duplicate_ids_are_refused() -> None:
    row = {"id": 1, "user_phone_number": "+1", "created_at": "2026-01-01T00:00:00+00:00"}
    with pytest.raises(WorldError, match="duplicate"):
        World.from_dict({"call_logs": [row, row]})


def test_unreadable_world_file(tmp_path: Path) -> None:
    bad = tmp_path / "w.json"
    bad.write_text("{nope")
    with pytest.raises(WorldError, match="cannot read world file"):
        World.from_file(bad)


def test_listeners_hear_of_each_change_or_of_a_batch_once(world: World) -> None:
    heard: list[int] = []
    world.listeners.append(lambda w: heard.append(w.version))
    world.start_call()
    assert heard == [world.version]
    with world.batch():
        with world.batch():  # nested batches are one batch
            first = world.start_call()
        world.map_variables(first.call_log_id, {"a": 1})
        world.end_call(first.call_log_id)
        assert len(heard) == 1  # nothing heard inside the batch
    assert heard == [heard[0], world.version]
    with world.batch():
        pass
    assert len(heard) == 2  # a batch without changes is silent


def test_restore_brings_back_the_rows_and_what_reset_returns_to(world: World) -> None:
    seeded = world.dump()
    added = world.start_call().call_log_id
    saved, before = world.snapshot(), world.dump()
    world.load({"live_calls": [], "call_logs": []})  # what a contract run does
    world.start_call()
    world.restore(saved)
    assert world.dump() == before and world.loaded is None
    world.reset()
    assert world.dump() == seeded and added not in world.live_calls
    # A loaded world, changed: the loaded one stays the baseline after a restore.
    world.load(before)
    loaded = world.loaded
    world.delete_live_call(added)
    saved, changed = world.snapshot(), world.dump()
    world.reset()  # a change after the snapshot does not reach into it
    world.restore(saved)
    assert world.dump() == changed and world.loaded is loaded
    world.reset()
    assert world.dump() == before


def test_a_world_file_that_is_not_utf8_is_named(tmp_path: Path) -> None:
    bad = tmp_path / "w.json"
    bad.write_bytes(b'{"format": "\xff"}')
    with pytest.raises(WorldError, match="is not UTF-8") as refused:
        World.from_file(bad)
    assert str(bad) in str(refused.value)


def test_a_world_file_nested_too_deeply_is_named(tmp_path: Path) -> None:
    deep = tmp_path / "w.json"
    deep.write_text("[" * 100_000)
    with pytest.raises(WorldError, match="nested too deeply") as refused:
        World.from_file(deep)
    assert str(deep) in str(refused.value)


def test_a_world_files_bad_content_names_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "w.json"
    bad.write_text(json.dumps({"live_calls": [{"call_log_id": 1}]}))
    with pytest.raises(WorldError, match=r"live_calls\[0\]") as refused:
        World.from_file(bad)
    assert str(refused.value).startswith(f"world file {bad}: ")


def test_a_world_file_with_a_value_nested_too_deeply_is_named(tmp_path: Path) -> None:
    row = World.generate(WorldRecipe(live_calls=1, call_logs=0)).dump()["live_calls"][0]
    row["variables"] = json.loads('{"a":' * 900 + "1" + "}" * 900)  # JSON reads it; rows cannot
    deep = tmp_path / "w.json"
    deep.write_text(json.dumps({"live_calls": [row]}))
    with pytest.raises(WorldError, match="nested too deeply") as refused:
        World.from_file(deep)
    assert str(deep) in str(refused.value)
