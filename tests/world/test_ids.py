"""Seeded ids: campaign, organization and target ids from the seed; target ids decode."""

from __future__ import annotations

import uuid

from hypothesis import given
from hypothesis import strategies as st

from prosper_mock.world.generate.ids import TargetIds, campaign_id, organization_id


@given(seed=st.integers(0, 10**9), slot=st.integers(0, 2**40))
def test_target_ids_decode_to_their_slot_or_number(seed: int, slot: int) -> None:
    ids = TargetIds(seed)
    base, added = ids.base(slot), ids.added(slot)
    assert ids.slot(base) == slot and ids.number(base) is None
    assert ids.number(added) == slot and ids.slot(added) is None
    assert uuid.UUID(base).version == 4 and uuid.UUID(added).version == 4
    assert TargetIds(seed + 1).slot(base) is None  # another seed's ids are not this world's


def test_other_texts_decode_to_nothing() -> None:
    ids = TargetIds(0)
    good = ids.base(7)
    for text in ("", "x", good.upper(), good[:-1] + "g", good + "0", 7):
        assert ids.slot(text) is None


def test_campaign_and_organization_ids_are_seeded_uuids() -> None:
    assert campaign_id(1, "f") == campaign_id(1, "f") != campaign_id(2, "f")
    assert uuid.UUID(campaign_id(1, "f")).variant == uuid.RFC_4122
    assert uuid.UUID(organization_id(3)).version == 4
