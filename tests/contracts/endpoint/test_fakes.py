"""Fakes of one kind and format (``contracts/endpoint/fakes.py``)."""

from __future__ import annotations

import random
import re
import uuid
from datetime import date, datetime

from hypothesis import given
from hypothesis import strategies as st

from prosper_contracts.endpoint import fakes

SEEDS = st.integers(0, 2**32)


@given(st.uuids(), SEEDS, st.booleans())
def test_a_uuid_stays_a_uuid_of_its_version_variant_and_case(
    real: uuid.UUID, seed: int, upper: bool
) -> None:
    text = str(real).upper() if upper else str(real)
    fake = fakes.fake_uuid(text, random.Random(seed))
    assert fakes.kind_by_shape(text) == fakes.kind_by_shape(fake) == "uuid"
    parsed = uuid.UUID(fake)
    assert (parsed.version, parsed.variant) == (real.version, real.variant)
    assert fake.isupper() == upper or not any(c.isalpha() for c in fake)


NATIONAL = st.from_regex(r"[2-9]\d\d[2-9]\d{6}", fullmatch=True)


@given(NATIONAL, SEEDS)
def test_every_spelling_of_a_number_has_one_fake_spelled_alike(digits: str, seed: int) -> None:
    spellings = [
        f"+1{digits}",
        digits,
        f"({digits[:3]}) {digits[3:6]}-{digits[6:]}",
        f"{digits[:3]}.{digits[3:6]}.{digits[6:]}",
        f"+1 {digits[:3]}-{digits[3:6]}-{digits[6:]}",
    ]
    assert len({fakes.phone_key(s) for s in spellings}) == 1
    fake = fakes.fake_phone(fakes.phone_key(spellings[0]), random.Random(seed))
    assert re.fullmatch(r"\+1[2-9]\d\d555\d{4}", fake)
    for spelled in spellings:
        out = fakes.spell_phone(spelled, fake)
        assert re.sub(r"\d", "0", out) == re.sub(r"\d", "0", spelled)  # the same format
        assert "".join(c for c in out if c.isdigit())[-10:] == fake[-10:]


@given(st.dates(date(1900, 1, 1), date(2100, 12, 31)), SEEDS, st.booleans())
def test_dates_times_keep_their_format_and_parse(day: date, seed: int, birth: bool) -> None:
    rng = random.Random(seed)
    assert date.fromisoformat(fakes.fake_date(day.isoformat(), rng, birth))
    us = fakes.fake_date(day.strftime("%m/%d/%Y"), rng, birth)
    assert datetime.strptime(us, "%m/%d/%Y")
    assert fakes.us_date(day.isoformat()) == day.strftime("%m/%d/%Y")
    assert fakes.iso_date(day.strftime("%m/%d/%Y")) == day.isoformat()
    for stamp in (f"{day}T09:30:00.123+02:00", f"{day} 09:30Z", f"{day}T09:30:15"):
        fake = fakes.fake_datetime(stamp, rng)
        assert re.sub(r"\d", "0", fake) == re.sub(r"\d", "0", stamp)
        assert datetime.fromisoformat(fake.replace("Z", "+00:00"))
    for clock in ("9:05", "09:05", "09:05:59"):
        assert re.sub(r"\d", "0", fakes.fake_time(clock, rng)) == re.sub(r"\d", "0", clock)


@given(st.from_regex(r"[A-Za-z0-9][A-Za-z0-9-]{0,15}", fullmatch=True), SEEDS)
def test_an_id_keeps_its_length_and_character_classes(real: str, seed: int) -> None:
    fake = fakes.shaped(real, random.Random(seed))
    assert [c.isdigit() for c in fake] == [c.isdigit() for c in real]
    assert [c.isupper() for c in fake] == [c.isupper() for c in real]
    hexadecimal = re.fullmatch(r"[0-9a-fA-F-]*", real)
    assert not hexadecimal or re.fullmatch(r"[0-9a-fA-F-]*", fake)


def test_a_name_s_words_and_their_case() -> None:
    assert [m[0] for m in fakes.name_words("Dr. Ronald O'Neil-Waters Jr.")] == [
        "Ronald",
        "O'Neil-Waters",
    ]
    assert fakes.like_case("Karen", "MATTHEW") == "KAREN"
    assert fakes.like_case("Karen", "matthew") == "karen"
    assert fakes.like_case("Karen", "Matthew") == "Karen"
    longest = re.compile(fakes.alternation(["ann", "anna", "bob"])).match("annabel")
    assert longest is not None and longest[0] == "anna"
