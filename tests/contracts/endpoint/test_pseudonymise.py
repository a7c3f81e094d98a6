"""Pseudonymisation: personal values replaced, consistently, in their own format."""

from __future__ import annotations

import json
import re
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from prosper_contracts.endpoint.pseudonymise import Pseudonymiser, classify
from prosper_mock.world.model import World
from tests.conftest import FIXTURE_WORLD

KEY = b"a fixed key for reproducible tests"


def fixture_rows() -> list[dict[str, Any]]:
    data = json.loads(FIXTURE_WORLD.read_text())
    return data["live_calls"] + data["call_logs"]


def personal_values(row: dict[str, Any]) -> list[str]:
    """Every personal string of a fixture row, listed by hand (not with the module's rules)."""
    values = [row["user_phone_number"], row.get("to", ""), row.get("from_", "")]
    values += [v for v in row.get("variables", {}).values() if isinstance(v, str)]
    values += [t["message"] for t in row.get("transcript", []) + row.get("transcripts", [])]
    values.append(row.get("target", {}).get("name", ""))
    post = row.get("post_call_data") or {}
    values.append(post.get("summary", ""))
    values += [v for v in post.get("extracted", {}).values() if isinstance(v, str)]
    values += row.get("recording_urls", [])
    values.append(row.get("campaign_target_id") or "")
    return [v for v in values if len(v) >= 4]


def test_no_personal_value_of_the_fixture_survives() -> None:
    rows = fixture_rows()
    text = json.dumps(Pseudonymiser(KEY).rows(rows), ensure_ascii=False)
    real = {v for row in rows for v in personal_values(row)}
    assert len(real) > 100
    assert sorted(v for v in real if v in text) == []
    # Names inside transcripts too: every first and last name of the flow's variables.
    names = {
        row["variables"][k] for row in rows for k in ("patient_first_name", "patient_last_name")
    }
    assert sorted(n for n in names if re.search(rf"\b{re.escape(n)}\b", text)) == []


def test_the_platform_part_is_kept_and_the_rows_still_load() -> None:
    rows = fixture_rows()
    fake = Pseudonymiser(KEY).rows(rows)
    for before, after in zip(rows, fake, strict=True):
        for column in ("agent_data", "flow", "call_categorization", "qa", "status", "direction"):
            assert before.get(column) == after.get(column)
        for column in ("call_log_id", "id", "started_at", "created_at", "call_length"):
            assert before.get(column) == after.get(column)
        if "target" in before:
            assert after["target"]["type"] == before["target"]["type"]
    data = json.loads(FIXTURE_WORLD.read_text())
    n = len(data["live_calls"])
    world = World.from_dict({**data, "live_calls": fake[:n], "call_logs": fake[n:]})
    assert world.stats()["live_calls"] == n


def test_formats_are_kept() -> None:
    p = Pseudonymiser(KEY)
    row = {
        "user_phone_number": "+18685044172",
        "variables": {
            "patient_dob": "1947-06-15",
            "member_id": "W065554664",
            "external_id": "PAT-002",
            "mrn": 1234567,
            "email": "jane.doe@mail.example",
            "home_address": "12 Main Street",
            "verified": True,
            "score": 0.5,
            "referral": None,
        },
        "agent_data": {"name": "Quinn", "callback": "+15125557555"},
    }
    (out,) = p.rows([row])
    v = out["variables"]
    assert re.fullmatch(r"\+1\d{10}", out["user_phone_number"])
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", v["patient_dob"]) and v["patient_dob"] != "1947-06-15"
    assert re.fullmatch(r"[A-Z]\d{9}", v["member_id"]) and v["member_id"] != "W065554664"
    assert re.fullmatch(r"[A-Z]{3}-\d{3}", v["external_id"]) and v["external_id"] != "PAT-002"
    assert isinstance(v["mrn"], int) and len(str(v["mrn"])) == 7 and v["mrn"] != 1234567
    assert v["email"].endswith("@example.invalid")
    assert v["home_address"] != "12 Main Street"
    assert (v["verified"], v["score"], v["referral"]) == (True, 0.5, None)
    # Platform data is kept, but a phone number in it is still replaced.
    assert out["agent_data"]["name"] == "Quinn"
    assert out["agent_data"]["callback"] != "+15125557555"


def test_transcripts_carry_the_fakes_of_the_values_they_mention() -> None:
    p = Pseudonymiser(KEY)
    row = {
        "user_phone_number": "+18685044172",
        "variables": {"patient_first_name": "Michele", "patient_dob": "1947-06-15"},
        "transcript": [{"role": "user", "message": "Yes, this is Michele, born 1947-06-15."}],
    }
    (out,) = p.rows([row])
    message = out["transcript"][0]["message"]
    assert "Michele" not in message and "1947" not in message
    assert out["variables"]["patient_first_name"] in message
    assert out["variables"]["patient_dob"] in message
    assert out["transcript"][0]["role"] == "user"


def test_the_mapping_is_keyed_per_recording() -> None:
    rows = fixture_rows()
    assert Pseudonymiser(KEY).rows(rows) == Pseudonymiser(KEY).rows(rows)
    other = Pseudonymiser(b"another key").rows(rows)
    assert other[0]["user_phone_number"] != Pseudonymiser(KEY).rows(rows)[0]["user_phone_number"]
    random_key = Pseudonymiser()  # the default: a fresh secret key, never shown
    assert "key" not in repr(random_key).lower()
    assert random_key.rows(rows) != Pseudonymiser().rows(rows)


def test_query_maps_lookups_like_the_rows() -> None:
    p = Pseudonymiser(KEY)
    (out,) = p.rows(
        [
            {
                "user_phone_number": "+18685044172",
                "variables": {"member_id": 12345, "verified": True},
            }
        ]
    )
    assert p.query({"user_phone_number": "+18685044172"}) == {
        "user_phone_number": out["user_phone_number"]
    }
    # The text form of an int variable maps to the text form of its fake.
    assert p.query({"key": "member_id", "value": "12345"})["value"] == str(
        out["variables"]["member_id"]
    )
    # A kept value (a boolean) stays what it was; so does a value never seen.
    assert p.query({"key": "verified", "value": "true"})["value"] == "true"
    assert p.query({"call_log_id": "7", "user_phone_number": "+19999999999"}) == {
        "call_log_id": "7",
        "user_phone_number": "+19999999999",
    }


VARIABLE_KEYS = st.sampled_from(
    ["patient_first_name", "patient_last_name", "member_id", "patient_dob", "note", "phone"]
)
VALUES = st.one_of(
    st.text(alphabet="abcdefgh", min_size=1, max_size=6),
    st.from_regex(r"[A-Z]\d{4}", fullmatch=True),
    st.from_regex(r"19\d\d-0[1-9]-1\d", fullmatch=True),
    st.integers(1000, 99999),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.dictionaries(VARIABLE_KEYS, VALUES, min_size=1), min_size=1, max_size=6))
def test_same_real_value_same_fake_different_values_different_fakes(
    variables: list[dict[str, Any]],
) -> None:
    p = Pseudonymiser(KEY)
    rows = [{"user_phone_number": "+15550100", "variables": v} for v in variables]
    out = p.rows(rows)
    mapping: dict[str, str] = {}
    for before, after in zip(rows, out, strict=True):
        for key, real in before["variables"].items():
            fake = after["variables"][key]
            assert type(fake) is type(real)
            assert str(fake) != str(real)
            assert mapping.setdefault(str(real), str(fake)) == str(fake)  # consistent
    assert len(set(mapping.values())) == len(mapping)  # no two people merged
    assert not set(mapping.values()) & set(mapping)  # no fake is another real value


def test_classify_keeps_platform_data_and_transcript_roles() -> None:
    assert classify(("agent_data", "name"), "Quinn") is None
    assert classify(("transcript", "0", "role"), "user") is None
    assert classify(("transcript", "0", "message"), "hello") == "text"
    assert classify(("target", "status"), "In Progress") is None
    assert classify(("target", "name"), "Michele Sanchez") == "name"
    assert classify(("variables", "payor_name"), "Aetna") == "org"
    assert classify(("call_log_id",), 1011) is None
