"""Recording through the proxy, and replaying the recording with the mock."""

from __future__ import annotations

import dataclasses
import json
import os
import stat
from pathlib import Path
from typing import Any

import requests

from prosper_contracts.endpoint.proxy import ProxyOptions, create_proxy_app
from prosper_contracts.endpoint.pseudonymise import Pseudonymiser
from prosper_contracts.endpoint.recording import Recorder, row_from_snapshot
from prosper_mock import MockServer, World
from prosper_mock.world.flatten import snapshot
from prosper_mock.world.records import CallLog, LiveCall, to_dict
from tests.conftest import FIXTURE_WORLD
from tests.contracts.endpoint.test_pseudonymise import personal_values

LIVE = "/api/v1/live-calls"
KEY = b"recording test key"
NOW = "2026-02-01T00:00:00.000+00:00"
# Columns describing the platform, not the person: the replay keeps them as recorded.
PLATFORM = ("source", "call_log_id", "status", "direction", "started_at", "created_at")


def lookups(world: World) -> list[dict[str, str]]:
    """By id, by phone and by variable, for every call of the fixture world."""
    found: list[dict[str, str]] = []
    for store in (world.live_calls, world.call_logs):
        for row in store:
            found.append({"call_log_id": str(row.call_log_id)})
            found.append({"user_phone_number": row.user_phone_number})
            for key in ("external_id", "member_id", "patient_dob"):
                if isinstance(row.variables.get(key), str):
                    found.append({"key": key, "value": row.variables[key]})
    return found


def test_a_recording_replays_the_same_answers_with_no_personal_value_left(tmp_path: Path) -> None:
    path = tmp_path / "recorded.json"
    pseudonymiser = Pseudonymiser(KEY)
    upstream_world = World.from_file(FIXTURE_WORLD)
    answers: list[tuple[dict[str, str], dict[str, Any]]] = []
    with MockServer(upstream_world) as upstream:
        recorder = Recorder(path, pseudonymiser)
        app = create_proxy_app(ProxyOptions(upstream=upstream.base_url), recorder=recorder)
        with MockServer(app_factory=lambda _w, **_: app) as proxy:
            for params in lookups(upstream_world):
                answer = requests.get(proxy.url(LIVE), params=params, timeout=10)
                assert answer.status_code == 200
                answers.append((params, answer.json()))
    assert recorder.write()
    text = path.read_text(encoding="utf-8")

    # Every personal value that passed through the proxy (the calls it saw).
    seen = [row_from_snapshot(original, NOW) for _, original in answers]
    real = {v for row in seen for v in personal_values(to_dict(row))}
    assert len(real) > 100
    leaks = sorted(v for v in real if v in text)
    assert leaks == [], [text[text.index(v) - 200 : text.index(v) + 50] for v in leaks]

    replay = World.from_file(path)  # World.from_dict under the hood: the fixtures' format
    assert replay.stats()["live_calls"] + replay.stats()["call_logs"] == len(recorder)
    with MockServer(replay) as mock:
        for params, original in answers:
            again = requests.get(mock.url(LIVE), params=pseudonymiser.query(params), timeout=10)
            assert again.status_code == 200, params
            replayed = again.json()
            assert set(replayed) == set(original), params
            for column in PLATFORM:
                assert replayed.get(column) == original.get(column), (params, column)
            assert replayed["user_phone_number"] != original["user_phone_number"]


def test_the_latest_answer_about_a_call_wins(tmp_path: Path) -> None:
    world = World.from_file(FIXTURE_WORLD)
    live = next(iter(world.live_calls))
    recorder = Recorder(tmp_path / "r.json", None)
    recorder.observe(200, json.dumps(snapshot("live_calls", live)).encode())
    ended = dataclasses.replace(next(iter(world.call_logs)), id=live.call_log_id)
    recorder.observe(200, json.dumps(snapshot("call_logs", ended)).encode())
    document = recorder.document()
    assert document["live_calls"] == []
    assert [r["id"] for r in document["call_logs"]] == [live.call_log_id]
    assert document["recipe"]["first_id"] == live.call_log_id + 1


def test_raw_recording_keeps_the_values_and_the_file_is_private(tmp_path: Path) -> None:
    world = World.from_file(FIXTURE_WORLD)
    row = next(iter(world.call_logs))
    path = tmp_path / "raw.json"
    recorder = Recorder(path, None)
    assert recorder.observe(200, json.dumps(snapshot("call_logs", row)).encode())
    assert recorder.write()
    assert not recorder.write()  # nothing new: not rewritten
    (recorded,) = json.loads(path.read_text())["call_logs"]
    assert CallLog(**recorded) == row
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_only_snapshots_naming_a_call_are_recorded(tmp_path: Path) -> None:
    recorder = Recorder(tmp_path / "r.json", None)
    assert not recorder.observe(404, b'{"detail":"Call not found"}')
    assert not recorder.observe(200, b"not json")
    assert not recorder.observe(200, b"[1]")
    assert not recorder.observe(200, b'{"source":"live_calls","call_log_id":"7"}')
    assert not recorder.observe(200, b'{"source":"elsewhere","call_log_id":7}')
    assert len(recorder) == 0
    assert recorder.write(force=True)  # an empty recording is still a loadable world
    assert World.from_file(recorder.path).stats()["live_calls"] == 0


def test_row_from_snapshot_drops_what_the_rows_cannot_hold() -> None:
    notes: set[str] = set()
    flat = {
        "source": "live_calls",
        "call_log_id": 5,
        "user_phone_number": "+15550001",
        "id": 99,
        "started_at": "2026-01-01T10:00:00",  # no offset
        "direction": "sideways",  # not a direction the rows know
        "tenant": "acme",  # not a column
        "variables.patient.first": "Ann",
        "transcript": [{"role": "user", "message": "hi"}],
    }
    row = row_from_snapshot(flat, NOW, notes)
    assert isinstance(row, LiveCall)
    assert row.call_log_id == 5 and row.started_at == NOW and row.direction == "outbound"
    assert row.variables == {"patient": {"first": "Ann"}}
    assert row.transcript == [{"role": "user", "message": "hi"}]
    assert any("'tenant'" in n for n in notes) and any("'id'" in n for n in notes)
    assert any("direction" in n for n in notes) and any("started_at" in n for n in notes)
    assert all("acme" not in n and "Ann" not in n for n in notes)  # names, never values


def test_row_from_snapshot_round_trips_the_mocks_own_snapshots() -> None:
    world = World.from_file(FIXTURE_WORLD)
    for source, store in (("live_calls", world.live_calls), ("call_logs", world.call_logs)):
        for row in store:
            notes: set[str] = set()
            assert row_from_snapshot(snapshot(source, row), NOW, notes) == row
            assert notes == set()


# What a recorded target keeps as it was answered (the rest its calls decide on replay).
TARGET_GIVEN = ("id", "campaign_id", "created_at", "phone_number", "external_id", "input_data")
LOG_PLATFORM = ("id", "created_at", "call_length", "call_ended_reason", "call_categorization")


def record_the_api(path: Path, pseudonymiser: Pseudonymiser | None) -> dict[str, Any]:
    """GET every recorded kind of answer through a recording proxy in front of a mock.

    What upstream answered, by request: ``{(path, query): answer json}``.
    """
    seen: dict[str, Any] = {}
    with MockServer() as upstream:
        recorder = Recorder(path, pseudonymiser)
        app = create_proxy_app(ProxyOptions(upstream=upstream.base_url), recorder=recorder)
        with MockServer(app_factory=lambda _w, **_: app) as proxy:

            def get(url: str, **params: str) -> Any:
                answer = requests.get(proxy.url(url), params=params, timeout=10)
                assert answer.status_code == 200, (url, answer.text)
                return answer.json()

            campaign = upstream.world.campaigns()[0].id
            page = get(f"/api/v1/campaigns/{campaign}/targets", limit="5")
            assert page["targets"]
            seen["targets"] = [get(f"/api/v1/targets/{t['id']}") for t in page["targets"]]
            logs = get("/api/v1/call-logs", limit="4")["call_logs"]
            assert len(logs) == 4
            full = get(f"/api/v1/call-logs/{logs[0]['id']}", include_recordings="true")
            seen["full"] = full
            seen["snapshot"] = get(LIVE, call_log_id=logs[1]["id"])
            seen["logs"] = [
                requests.get(upstream.url(f"/api/v1/call-logs/{log['id']}"), timeout=10).json()
                for log in logs
            ]
        assert recorder.write()
    return seen


def replayed(path: Path, urls: list[tuple[str, dict[str, str]]]) -> list[Any]:
    with MockServer(World.from_file(path)) as replay:
        answers = [requests.get(replay.url(u), params=p, timeout=10) for u, p in urls]
    assert [a.status_code for a in answers] == [200] * len(urls)
    return [a.json() for a in answers]


def test_a_raw_recording_of_the_whole_api_replays_the_recorded_fields(tmp_path: Path) -> None:
    path = tmp_path / "raw.json"
    seen = record_the_api(path, None)
    full = seen["full"]
    urls = [(f"/api/v1/call-logs/{full['id']}", {"include_recordings": "true"})]
    urls += [(f"/api/v1/call-logs/{log['id']}", {}) for log in seen["logs"]]
    urls += [(f"/api/v1/targets/{t['id']}", {}) for t in seen["targets"]]
    again = replayed(path, urls)
    assert again[0] == full  # a full log with its recordings: the same document
    assert again[1 : 1 + len(seen["logs"])] == seen["logs"]  # list items: the same logs
    for was, now in zip(seen["targets"], again[1 + len(seen["logs"]) :], strict=True):
        assert {k: now[k] for k in TARGET_GIVEN} == {k: was[k] for k in TARGET_GIVEN}
    data = json.loads(path.read_text(encoding="utf-8"))
    assert {t["campaign_id"] for t in data["targets"]} == {c["id"] for c in data["campaigns"]}


def test_a_pseudonymised_recording_of_the_whole_api_maps_people_alike(tmp_path: Path) -> None:
    path = tmp_path / "fake.json"
    pseudonymiser = Pseudonymiser(KEY)
    seen = record_the_api(path, pseudonymiser)
    urls = [(f"/api/v1/call-logs/{log['id']}", {}) for log in seen["logs"]]
    fake_ids = [pseudonymiser.text(t["id"], ("campaign_target_id",)) for t in seen["targets"]]
    urls += [(f"/api/v1/targets/{i}", {}) for i in fake_ids]
    again = replayed(path, urls)
    for was, now in zip(seen["logs"], again[: len(seen["logs"])], strict=True):
        assert {k: now[k] for k in LOG_PLATFORM} == {k: was[k] for k in LOG_PLATFORM}
        assert now["to"] != was["to"] or not was["to"]  # a phone number is faked
    for was, now in zip(seen["targets"], again[len(seen["logs"]) :], strict=True):
        assert now["campaign_id"] == was["campaign_id"] and now["created_at"] == was["created_at"]
        # The same person, the same fake: the target's phone as the pseudonymiser maps it.
        assert now["phone_number"] == pseudonymiser.text(was["phone_number"], ("phone_number",))
        assert now["phone_number"] != was["phone_number"]
        assert set(now["input_data"]) == set(was["input_data"])
    text = path.read_text(encoding="utf-8")
    for t in seen["targets"]:
        assert t["phone_number"] not in text and t["id"] not in text


def test_recordings_come_only_from_a_full_log_asked_for_them(tmp_path: Path) -> None:
    recorder = Recorder(tmp_path / "r.json", None)
    snapshot_row = {"source": "call_logs", "call_log_id": 5, "user_phone_number": "+1555"}
    recorder.observe(200, json.dumps({**snapshot_row, "recording_urls": ["https://a"]}).encode())
    item = {"id": "5", "to": "+1666", "created_at": NOW, "call_length": "0:01:00"}
    recorder.observe_call_log_page(200, json.dumps({"call_logs": [item]}).encode())
    without = {**item, "recording_urls": []}
    recorder.observe_call_log(200, json.dumps(without).encode(), recordings=False)
    (row,) = recorder.document()["call_logs"]
    # The list item and the full log asked without recordings leave the snapshot's URLs.
    assert row["recording_urls"] == ["https://a"] and row["to"] == "+1666"
    assert row["user_phone_number"] == "+1555"  # the snapshot supplies what logs lack
    full = {**item, "recording_urls": ["https://b"]}
    recorder.observe_call_log(200, json.dumps(full).encode(), recordings=True)
    recorder.observe_call_log_page(200, json.dumps({"call_logs": [item]}).encode())
    (row,) = recorder.document()["call_logs"]
    assert row["recording_urls"] == ["https://b"]  # a later list item does not take them
    # Answers that are not 200 or name no integer id are not kept.
    assert not recorder.observe_call_log(404, b"{}", recordings=True)
    assert not recorder.observe_call_log(200, b'{"id": "x"}', recordings=True)
    assert recorder.observe_call_log_page(200, b'{"call_logs": "x"}') == 0
    assert len(recorder) == 1


def test_a_call_seen_live_then_as_a_log_is_recorded_as_a_log(tmp_path: Path) -> None:
    recorder = Recorder(tmp_path / "r.json", None)
    live = {"source": "live_calls", "call_log_id": 9, "user_phone_number": "+1777"}
    recorder.observe(200, json.dumps({**live, "started_at": NOW}).encode())
    log = json.dumps({"id": "9", "created_at": NOW}).encode()
    recorder.observe_call_log(200, log, recordings=False)
    document = recorder.document()
    assert document["live_calls"] == []
    assert [(r["id"], r["user_phone_number"]) for r in document["call_logs"]] == [(9, "+1777")]
    assert "targets" not in document and "campaigns" not in document
