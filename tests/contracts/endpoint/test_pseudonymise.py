"""Pseudonymisation: personal values replaced, consistently, in their own format."""

from __future__ import annotations

import json
import re
import uuid
from datetime import date
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


# -- one mapping for the whole file: kinds and formats kept, free text scrubbed ----------


def test_uuids_stay_uuids_of_their_version_and_variant() -> None:
    p = Pseudonymiser(KEY)
    real = "2a9c7c02-3576-490a-b7ea-4d5a7cfce3a8"
    (row,) = p.rows([{"campaign_target_id": real, "variables": {"visit": real.upper()}}])
    fake = row["campaign_target_id"]
    assert uuid.UUID(fake).version == 4 and uuid.UUID(fake).variant == uuid.RFC_4122
    assert fake != real and fake.islower()
    assert row["variables"]["visit"] == p.fake(real.upper(), "id") != real.upper()
    assert row["variables"]["visit"].isupper() and uuid.UUID(row["variables"]["visit"])
    # The recorder fakes a target's own id as an "id": the same fake as its calls name.
    assert p.fake(real, "id", ("campaign_target_id",)) == fake


def test_one_person_has_one_fake_name_in_every_field() -> None:
    p = Pseudonymiser(KEY)
    (out,) = p.rows(
        [
            {
                "target": {"type": "patient", "name": "Matthew Mann", "status": "Finished"},
                "variables": {
                    "patient_first_name": "Matthew",
                    "patient_last_name": "Mann",
                    "provider_name": "Dr. Ronald Waters",
                },
                "pre_call_data": {"patient_name": "MATTHEW MANN", "full_name": "mann, matthew"},
            }
        ]
    )
    first, last = out["variables"]["patient_first_name"], out["variables"]["patient_last_name"]
    assert {first, last}.isdisjoint({"Matthew", "Mann"})
    assert out["target"]["name"] == f"{first} {last}"
    assert out["pre_call_data"]["patient_name"] == f"{first} {last}".upper()
    assert out["pre_call_data"]["full_name"] == f"{last}, {first}".lower()
    assert re.fullmatch(r"Dr\. [A-Z][a-z]+ [A-Z][a-z'-]+", out["variables"]["provider_name"])


def test_the_platform_s_free_text_loses_every_value_replaced_elsewhere() -> None:
    p = Pseudonymiser(KEY)
    notes = (
        "Spoke with Matthew MANN (DOB 11/04/1954, 1954-11-04), MRN Z924171118; "
        "call back at (920) 754-3862 or matt.mann@mail.example"
    )
    (out,) = p.rows(
        [
            {
                "user_phone_number": "+19207543862",
                "variables": {
                    "patient_first_name": "Matthew",
                    "patient_last_name": "Mann",
                    "patient_dob": "1954-11-04",
                    "member_id": "Z924171118",
                    "email": "matt.mann@mail.example",
                },
                "qa": {"notes": notes, "score": 0.7},
                "call_categorization": {"reason": [f"patient {notes}"]},
                "agent_data": {"name": "Morgan", "summary": notes},
            }
        ]
    )
    v = out["variables"]
    fake_phone = out["user_phone_number"]
    national = f"({fake_phone[2:5]}) {fake_phone[5:8]}-{fake_phone[8:]}"
    us_dob = date.fromisoformat(v["patient_dob"]).strftime("%m/%d/%Y")
    for text in (out["qa"]["notes"], out["call_categorization"]["reason"][0]):
        for real in ("Matthew", "MANN", "11/04/1954", "1954", "Z924171118", "754-3862", "matt"):
            assert real not in text, (real, text)
        for fake in (v["patient_first_name"], v["patient_last_name"].upper(), us_dob):
            assert fake in text, (fake, text)
        assert v["patient_dob"] in text and v["member_id"] in text and v["email"] in text
        assert national in text
    assert out["agent_data"] == {"name": "Morgan", "summary": out["qa"]["notes"]}
    assert out["qa"]["score"] == 0.7


TEMPLATE_WORDS = {"patient", "finished", "user", "assistant", "miss", "prof"}
NAMES = st.from_regex(r"[A-Z][a-z]{3,9}", fullmatch=True).filter(
    lambda n: n.lower() not in TEMPLATE_WORDS
)
PEOPLE = st.lists(
    st.tuples(
        NAMES,
        NAMES,
        st.from_regex(r"\+1[2-9]\d\d[2-9]\d{6}", fullmatch=True),
        st.dates(date(1920, 1, 1), date(2005, 12, 31)).map(date.isoformat),
        st.from_regex(r"[A-Z]\d{6,9}", fullmatch=True),
        st.uuids().map(str),
    ),
    min_size=1,
    max_size=4,
)


def person_rows(people: list[tuple[str, ...]]) -> list[dict[str, Any]]:
    """A call log and a target per person, their values in structured fields, in free text
    of personal and of platform columns, in other spellings."""
    rows: list[dict[str, Any]] = []
    for n, (first, last, phone, dob, mrn, ident) in enumerate(people):
        national = f"({phone[2:5]}) {phone[5:8]}-{phone[8:]}"
        us_dob = date.fromisoformat(dob).strftime("%m/%d/%Y")
        email = f"{first.lower()}.{last.lower()}@mail.example"
        notes = f"{first.upper()} {last} (DOB {us_dob}), MRN {mrn}, at {national} or {email}"
        rows.append(
            {
                "id": 1000 + n,
                "user_phone_number": phone,
                "to": phone,
                "campaign_target_id": ident,
                "target": {"type": "patient", "name": f"{first} {last}", "status": "Finished"},
                "variables": {
                    "patient_first_name": first,
                    "patient_last_name": last,
                    "patient_dob": dob,
                    "mrn": mrn,
                    "email": email,
                },
                "transcripts": [{"role": "user", "message": f"This is {first}, born {dob}."}],
                "qa": {"notes": notes, "flags": [f"{last}, {first} {ident}"]},
                "call_categorization": {"reason": f"{first} {last} confirmed"},
                "agent_data": {"name": "Morgan", "notes": {"deep": [f"{phone} {mrn}"]}},
            }
        )
        rows.append(
            {
                "campaign_id": "c1",
                "phone_number": phone,
                "external_id": mrn,
                "patient": {"first_name": first, "last_name": last, "date_of_birth": dob},
                "input_data": {"patient_dob": us_dob},
            }
        )
    return rows


def strings(node: Any) -> list[str]:
    """Every string of ``node``, at any depth."""
    if isinstance(node, dict):
        return [s for v in node.values() for s in strings(v)]
    if isinstance(node, list):
        return [s for v in node for s in strings(v)]
    return [node] if isinstance(node, str) else []


@settings(max_examples=25, deadline=None)
@given(PEOPLE)
def test_no_original_survives_equal_values_map_alike_and_formats_hold(
    people: list[tuple[str, ...]],
) -> None:
    rows = person_rows(people)
    out = Pseudonymiser(KEY).rows(rows)
    assert out == Pseudonymiser(KEY).rows(rows)  # the same file, the same fakes
    texts = strings(out)
    for first, last, phone, dob, mrn, ident in people:
        for name in (first, last):
            word = re.compile(rf"(?<![^\W\d_]){re.escape(name)}(?![^\W\d_])", re.IGNORECASE)
            assert not [t for t in texts if word.search(t)], name
        national = f"({phone[2:5]}) {phone[5:8]}-{phone[8:]}"
        us_dob = date.fromisoformat(dob).strftime("%m/%d/%Y")
        for real in (phone, phone[2:], national, dob, us_dob, mrn, ident, "@mail.example"):
            assert not [t for t in texts if real in t], real
    for call, target in zip(out[::2], out[1::2], strict=True):
        v, patient = call["variables"], target["patient"]
        assert call["to"] == call["user_phone_number"] == target["phone_number"]
        assert re.fullmatch(r"\+1[2-9]\d\d555\d{4}", call["user_phone_number"])
        assert call["target"]["name"] == f"{v['patient_first_name']} {v['patient_last_name']}"
        assert (patient["first_name"], patient["last_name"]) == (
            v["patient_first_name"],
            v["patient_last_name"],
        )
        assert patient["date_of_birth"] == v["patient_dob"]
        born = date.fromisoformat(v["patient_dob"])
        assert target["input_data"]["patient_dob"] == born.strftime("%m/%d/%Y")
        assert target["external_id"] == v["mrn"] and len(v["mrn"]) == len(call["variables"]["mrn"])
        assert re.fullmatch(r"[^@\s]+@example\.invalid", v["email"])
        assert uuid.UUID(call["campaign_target_id"])
        assert f"{v['patient_last_name']}, {v['patient_first_name']}" in call["qa"]["flags"][0]
        assert call["user_phone_number"] in call["agent_data"]["notes"]["deep"][0]
    for person, call in zip(people, out[::2], strict=True):
        ident, fake = person[-1], uuid.UUID(call["campaign_target_id"])
        assert (fake.version, fake.variant) == (uuid.UUID(ident).version, uuid.UUID(ident).variant)
