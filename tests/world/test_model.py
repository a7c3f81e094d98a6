"""World changes keep both stores consistent; world files round-trip."""

from __future__ import annotations

import dataclasses
import functools
import json
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st

from prosper_mock import (
    CallConflict,
    InvalidChange,
    MockServer,
    StateFileError,
    UnknownCall,
    VirtualClock,
    World,
    WorldError,
    WorldRecipe,
)
from prosper_mock.world.flatten import snapshot
from prosper_mock.world.generate import FLOWS
from prosper_mock.world.records import MAX_DEPTH, CallLog, LiveCall
from prosper_mock.world.textform import text_form

JSON = {"Content-Type": "application/json"}  # control bodies must say they are JSON

LIVE_FIELDS = {f.name for f in dataclasses.fields(LiveCall)}
LOG_FIELDS = {f.name for f in dataclasses.fields(CallLog)}

ROOT = Path(__file__).resolve().parents[2]


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
    ("change", "refusal"),
    [
        (lambda w: w.map_variables(1, {"a": 1}), UnknownCall),
        (lambda w: w.end_call(1), UnknownCall),
        (lambda w: w.delete_call_log(1), UnknownCall),
        (lambda w: w.delete_live_call(1), UnknownCall),
        (
            lambda w: w.start_call({"call_log_id": next(iter(w.live_calls)).call_log_id}),
            CallConflict,
        ),
        (lambda w: w.start_call({"call_log_id": "7"}), InvalidChange),
        (lambda w: w.start_call({"started_at": "yesterday"}), InvalidChange),
        (lambda w: w.start_call({"started_at": "2026-01-01T00:00:00"}), InvalidChange),  # no offset
        (lambda w: w.start_call({"no_such_field": 1}), InvalidChange),
        (lambda w: w.add_call_log({"id": next(iter(w.call_logs)).call_log_id}), CallConflict),
        (lambda w: w.add_call_log({"transcripts": "hello"}), InvalidChange),
        (lambda w: w.map_variables(next(iter(w.live_calls)).call_log_id, ["x"]), InvalidChange),
    ],
)
def test_bad_changes_raise_clear_errors_and_change_nothing(
    world: World, change, refusal: type[WorldError]
) -> None:
    before = json.dumps(world.dump())
    with pytest.raises(WorldError) as info:
        change(world)
    assert type(info.value) is refusal
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


def test_duplicate_ids_are_refused_naming_both_rows_and_the_id() -> None:
    logs = [_log(id=i) for i in range(1245, 1253)]
    logs[7]["id"] = 1247
    with pytest.raises(WorldError) as info:
        World.from_dict({"call_logs": logs})
    assert str(info.value) == "call_logs[7] and call_logs[2] both have id 1247"
    with pytest.raises(WorldError) as info:
        World.from_dict({"live_calls": [_row(), _row(call_log_id=3), _row()]})
    assert str(info.value) == "live_calls[2] and live_calls[0] both have call_log_id 9"


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
    with pytest.raises(WorldError, match="nested more than 64 levels deep") as refused:
        World.from_file(deep)
    assert str(deep) in str(refused.value)


def nested(levels: int, leaf: object = 1) -> object:
    value = leaf
    for _ in range(levels):
        value = [value]
    return value


def _live(w: World) -> int:
    return next(iter(w.live_calls)).call_log_id


def _row(**fields: object) -> dict[str, object]:
    return {"call_log_id": 9, "user_phone_number": "+1", "started_at": TIME, **fields}


TIME = "2026-01-01T00:00:00+00:00"
POISONS = [float("nan"), float("inf"), float("-inf"), nested(330), nested(MAX_DEPTH)]
CHANGES = [
    (lambda w, v: w.map_variables(_live(w), {"y": v}), "variables.y"),
    (lambda w, v: w.map_variables(_live(w), {}, progress={"flow": {"x": v}}), "flow.x"),
    (lambda w, v: w.start_call({"variables": {"y": v}}), "variables.y"),
    (lambda w, v: w.start_call({"target": {"y": [v]}}), "target.y"),
    (lambda w, v: w.end_call(_live(w), {"qa": {"score": v}}), "qa.score"),
    (lambda w, v: w.add_call_log({"post_call_data": {"y": v}}), "post_call_data.y"),
    (lambda w, v: w.load({"live_calls": [_row(variables={"y": v})]}), "variables.y"),
    (lambda w, v: w.apply_changes({"live_calls": {"9": _row(variables={"y": v})}}), "variables.y"),
]


@pytest.mark.parametrize("poison", POISONS, ids=["nan", "inf", "-inf", "deep330", "deep64"])
@pytest.mark.parametrize(("change", "where"), CHANGES)
def test_values_no_answer_could_carry_are_refused_and_change_nothing(
    world: World, change, where: str, poison: object
) -> None:
    """Non-finite numbers and deep nesting never enter the world, whichever way they come."""
    before, version = json.dumps(world.dump(), allow_nan=False), world.version
    with pytest.raises(InvalidChange) as info:
        change(world, poison)
    assert where in str(info.value)
    assert json.dumps(world.dump(), allow_nan=False) == before
    assert world.version == version


def test_a_half_good_set_of_changes_applies_none_of_them(world: World) -> None:
    before, version = world.dump(), world.version
    with pytest.raises(WorldError, match=r"live_calls\[10\]"):
        world.apply_changes(
            {"live_calls": {"9": _row(), "10": _row(call_log_id=10, variables={"y": nested(99)})}}
        )
    with pytest.raises(WorldError, match="the row's id is 9"):
        world.apply_changes({"live_calls": {"8": _row()}})
    with pytest.raises(WorldError, match="must be an id"):
        world.apply_changes({"call_logs": {"x": None}})
    assert world.dump() == before and world.version == version


def test_a_bad_time_is_refused_before_anything_changes(world: World) -> None:
    before = world.dump()
    for at in (float("nan"), float("inf"), 1e300, "soon"):
        with pytest.raises(WorldError, match="at: not a time"):
            world.start_call(at=at)  # type: ignore[arg-type]
        with pytest.raises(WorldError, match="at: not a time"):
            world.map_variables(_live(world), {"y": 1}, at=at)  # type: ignore[arg-type]
    assert world.dump() == before


def test_a_flow_of_any_shape_can_still_end(world: World) -> None:
    call = world.start_call({"flow": {"step_index": [], "steps_total": "many"}})
    assert world.end_call(call.call_log_id).call_log_id == call.call_log_id


def test_a_failing_listener_undoes_the_change_whole(world: World) -> None:
    """The state file failing (a 503) undoes the change: the row and its indexes with it."""

    def broken(_: World) -> None:
        raise StateFileError("disk full")

    world.listeners.append(broken)
    call_log_id = _live(world)
    before = world.live_calls.get(call_log_id)
    with pytest.raises(WorldError, match="disk full"):
        world.map_variables(call_log_id, {"y": "new"})
    assert world.live_calls.latest_by_variable("y", "new") is None
    assert world.live_calls.get(call_log_id) == before


def test_non_finite_numbers_over_http_are_422s_naming_the_field(world: World) -> None:
    """``-1e400`` is valid JSON that Python reads as ``-inf``: refused, and the call still
    answers (before, every lookup of it and the world's dump were 500s)."""
    with MockServer(world) as server:
        call_log_id = _live(world)
        bodies = [
            ("PATCH", f"/live-calls/{call_log_id}/variables", '{"variables": {"y": -1e400}}'),
            ("POST", "/live-calls", '{"variables": {"y": 1e999}}'),
            ("POST", f"/live-calls/{call_log_id}/end", '{"fields": {"qa": {"s": -1e400}}}'),
            ("POST", "/call-logs", '{"qa": {"s": [1e400]}}'),
            ("PUT", "/world", '{"live_calls": [' + json.dumps(_row(variables={"y": "@"})) + "]}"),
        ]
        for method, path, body in bodies:
            body = body.replace('"@"', "1e400")
            answer = requests.request(
                method, server.url("/__mock" + path), data=body, headers=JSON, timeout=5
            )
            assert answer.status_code == 422, (path, answer.text)
            assert "finite" in answer.json()["detail"]
        assert (
            "variables.y"
            in requests.patch(
                server.url(f"/__mock/live-calls/{call_log_id}/variables"),
                data=b'{"variables": {"y": -1e400}}',
                headers=JSON,
                timeout=5,
            ).json()["detail"]
        )
        assert requests.get(server.url("/__mock/world"), timeout=5).status_code == 200
        found = requests.get(
            server.url("/api/v1/live-calls"), params={"call_log_id": call_log_id}, timeout=5
        )
        assert found.status_code == 200


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "-1e400"])
def test_world_files_with_non_finite_numbers_are_refused(tmp_path: Path, number: str) -> None:
    path = tmp_path / "w.json"
    path.write_text(
        '{"live_calls": [' + json.dumps(_row(variables={"y": "@"})).replace('"@"', number) + "]}"
    )
    with pytest.raises(WorldError, match=r"w\.json|variables\.y") as info:
        World.from_file(path)
    assert "finite" in str(info.value) or "not a JSON number" in str(info.value)
    done = subprocess.run(
        [sys.executable, "-m", "prosper_mock", "serve", "--port", "0", "--world", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr


_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()  # NaN and the infinities included
    | st.text(st.characters(codec=None), max_size=5)  # lone surrogates included
)
JSONISH = st.recursive(
    _SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text(max_size=3), inner, max_size=3)
        | st.tuples(inner)  # Python values that JSON has no word for
        | st.dictionaries(st.integers(), inner, max_size=1)
    ),
    max_leaves=8,
) | st.builds(nested, st.integers(0, 2 * MAX_DEPTH), _SCALARS)
FIELDS = st.sampled_from(["qa", "post_call_data", "agent_data", "target", "flow", "variables"])


@functools.cache
def _property_world() -> World:
    world = World.generate(WorldRecipe(seed=4, live_calls=3, call_logs=5))
    world.listeners.append(  # what the state file does with each change
        lambda w: json.dumps(w.changes(), ensure_ascii=False, allow_nan=False).encode()
    )
    return world


@given(value=JSONISH, name=FIELDS, how=st.sampled_from(["map", "start", "end", "add"]))
@settings(max_examples=300)
def test_a_change_is_whole_or_refused_and_every_lookup_answers_json(
    value: object, name: str, how: str
) -> None:
    """For any value, a change either raises ``WorldError`` and leaves the world as it was,
    or succeeds, is stored (the state file's encoding) and every lookup answers strict JSON."""
    world = _property_world()
    world.reset()
    live = _live(world)
    before, version = world.dump(), world.version
    try:
        if how == "map":
            row = world.map_variables(live, {"y": value})
        elif how == "start":
            row = world.start_call({name if name in LIVE_FIELDS else "variables": {"y": value}})
        elif how == "end":
            row = world.end_call(live, {name if name in LOG_FIELDS else "qa": {"y": value}})
        else:
            row = world.add_call_log({name if name in LOG_FIELDS else "qa": {"y": value}})
    except WorldError as exc:
        assert isinstance(exc, InvalidChange)
        assert world.dump() == before and world.version == version
        return
    source = "live_calls" if isinstance(row, LiveCall) else "call_logs"
    store = getattr(world, source)
    found = [store.get(row.call_log_id), store.latest_by_phone(row.user_phone_number)]
    found += [
        store.latest_by_variable(k, text_form(v)) for k, v in row.variables.items() if v is not None
    ]
    assert store.get(row.call_log_id) == row
    for hit in found:
        assert hit is not None
        json.dumps(snapshot(source, hit), allow_nan=False).encode()
    json.dumps(world.dump(), allow_nan=False).encode()


@pytest.mark.parametrize("given", ["true", '"9999"', "9999.0"])
@pytest.mark.parametrize(
    ("store", "id_field"), [("live_calls", "call_log_id"), ("call_logs", "id")]
)
def test_world_files_are_read_strictly(
    tmp_path: Path, given: str, store: str, id_field: str
) -> None:
    """``true``, ``"9999"`` and ``9999.0`` are not the id 9999 (before, they loaded as 1 and
    9999): the row and field are named."""
    good = {"live_calls": _row(), "call_logs": _log()}[store]
    rows = [{**good, id_field: n} for n in (1, 2, 3)] + [{**good, id_field: "@"}]
    path = tmp_path / "w.json"
    path.write_text(json.dumps({store: rows}).replace('"@"', given))
    with pytest.raises(WorldError) as info:
        World.from_file(path)
    assert str(info.value) == (
        f"world file {path}: {store}[3].{id_field}: Input should be a valid integer"
    )


def test_a_repeated_key_in_a_world_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "w.json"
    path.write_text('{"live_calls": [], "live_calls": [' + json.dumps(_row()) + "]}")
    with pytest.raises(WorldError, match='duplicate key "live_calls"'):
        World.from_file(path)
    twice = json.dumps(_log(id=2, to="@")).replace('"to": "@"', '"to": "+2", "to": "+3"')
    path.write_text('{"call_logs": [' + json.dumps(_log()) + ", " + twice + "]}")
    with pytest.raises(WorldError, match=r'call_logs\[1\]: duplicate key "to"'):
        World.from_file(path)


def _log(**fields: object) -> dict[str, object]:
    return {"id": 9, "user_phone_number": "+1", "created_at": TIME, **fields}


def test_a_given_phone_is_the_number_the_log_says_was_called(world: World) -> None:
    """``user_phone_number`` given to a new log: its ``to`` follows (before, ``to`` kept the
    generated number, so the log contradicted itself); and ``to`` given, the other way."""
    log = world.add_call_log({"user_phone_number": "+15550001111"})
    assert (log.user_phone_number, log.to) == ("+15550001111", "+15550001111")
    assert world.call_logs.latest_by_phone("+15550001111") == log
    log = world.add_call_log({"to": "+15550002222"})
    assert (log.user_phone_number, log.to) == ("+15550002222", "+15550002222")
    log = world.add_call_log({"user_phone_number": "+15550003333", "to": "+15550004444"})
    assert (log.user_phone_number, log.to) == ("+15550003333", "+15550004444")  # both given
    outbound = world.start_call()
    log = world.end_call(outbound.call_log_id, {"user_phone_number": "+15550005555"})
    assert (log.user_phone_number, log.to) == ("+15550005555", "+15550005555")
    assert log.from_ == outbound.agent_phone_number
    inbound = world.start_call({"direction": "inbound", "user_phone_number": "+15550006666"})
    log = world.end_call(inbound.call_log_id)
    assert (log.from_, log.to) == ("+15550006666", inbound.agent_phone_number)


def test_given_variables_are_what_the_transcripts_and_post_call_data_say(world: World) -> None:
    given = {name: "ZZZ" for flow in FLOWS for name in flow.variables}
    call = world.start_call({"variables": given})
    assert "ZZZ" in " ".join(line["message"] for line in call.transcript)
    assert call.target["name"] in ("ZZZ", "ZZZ ZZZ")  # a payor, a facility or a patient
    log = world.add_call_log({"variables": given})
    assert "ZZZ" in " ".join(line["message"] for line in log.transcripts)
    extracted = (log.post_call_data or {"extracted": {}})["extracted"]
    assert all(given[k] == v for k, v in extracted.items())
    live = world.start_call()
    log = world.end_call(live.call_log_id, {"variables": {"appointment_confirmed": "ZZZ"}})
    assert set((log.post_call_data or {"extracted": {}})["extracted"]) <= {"appointment_confirmed"}


def test_a_restored_snapshot_issues_no_call_id_it_or_the_world_had_issued() -> None:
    world = World.generate(WorldRecipe(seed=2, live_calls=1, call_logs=1))
    first = world.start_call().call_log_id
    saved = world.snapshot()
    world.reset()  # ids start over from the seeded world's
    world.restore(saved)
    assert world.last_id == first and world.changes()["last_id"] == first
    second = world.start_call().call_log_id
    world.delete_live_call(second)
    world.restore(saved)
    assert world.start_call().call_log_id > second  # issued since the snapshot: never again
