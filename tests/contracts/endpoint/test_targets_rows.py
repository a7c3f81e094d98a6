"""Answered campaign targets as world-file rows and campaign entries."""

from __future__ import annotations

from typing import Any

from prosper_contracts.endpoint.targets_rows import campaign_rows, target_row, usable
from prosper_mock.world.generate.vocabulary import FLOWS
from prosper_mock.world.targets import target_from_dict


def answered(**extra: Any) -> dict[str, Any]:
    return {
        "id": "t-1",
        "campaign_id": "c-1",
        "created_at": "2026-01-02T00:00:00.000+00:00",
        "phone_number": "+15550001111",
        "input_data": {"member_id": "W1", "payor_name": "Acme"},
        "status": "Finished",
        "call_log_ids": [3, 4],
        **extra,
    }


def test_a_target_keeps_what_it_was_given_and_a_staging_status() -> None:
    notes: set[str] = set()
    row = target_row(answered(), notes)
    assert target_from_dict(row, "t").call_log_ids == (3, 4)  # the world file loads it
    assert row["status"] == "Pending"  # Finished is its calls' to say, on replay
    assert row["updated_at"] == row["created_at"]
    assert target_row(answered(status="Scheduled"), notes)["status"] == "Scheduled"
    assert notes == set()


def test_a_target_with_odd_values_still_loads_and_says_what_was_dropped() -> None:
    notes: set[str] = set()
    row = target_row(answered(phone_number=None, call_log_ids=[1, "2", True]), notes)
    assert row["phone_number"] == "" and row["call_log_ids"] == [1]
    target_from_dict(row, "t")
    assert len(notes) == 2
    assert not usable({"id": "t", "campaign_id": None}) and usable(answered())


def test_a_campaign_runs_the_flow_its_targets_inputs_fit_best() -> None:
    payor = answered()
    patient = answered(
        id="t-2",
        campaign_id="c-2",
        input_data={"appointment_date": "2026-01-01"},
        created_at="2026-01-01T00:00:00.000+00:00",
    )
    unknown = answered(id="t-3", campaign_id="c-3", input_data={})
    rows = campaign_rows([payor, patient, unknown, {**patient, "id": "t-4", "created_at": "2027"}])
    assert [r["id"] for r in rows] == ["c-1", "c-2", "c-3"]
    by_id = {r["id"]: r for r in rows}
    assert by_id["c-1"]["flow_id"] == "flow_eligibility_verification"  # first of two payor flows
    assert by_id["c-2"]["flow_id"] == "flow_appointment_confirmation"
    assert by_id["c-3"]["flow_id"] == FLOWS[0].id  # nothing to go by: the first flow
    assert by_id["c-2"]["created_at"] == "2026-01-01T00:00:00.000+00:00"  # the oldest target
    assert by_id["c-1"]["name"] == FLOWS[1].name and by_id["c-1"]["kind"] == "payor"
