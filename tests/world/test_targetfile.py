"""The world file's campaigns and targets: dumped, loaded, checked; older files still load."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prosper_mock import InvalidChange, VirtualClock, World, WorldRecipe

START = "2026-01-15T15:00:00+00:00"


@pytest.fixture
def world() -> World:
    world = World.generate(
        WorldRecipe(seed=2, live_calls=8, call_logs=40, pending_targets=5),
        clock=VirtualClock(START),
    )
    campaign = world.campaigns()[0].id
    world.add_targets(campaign, [{"phone_number": "+1", "external_id": "F-1"}], launch=True)
    return world


def test_a_dump_loads_back_to_the_same_world(world: World) -> None:
    document = world.dump()
    assert len(document["campaigns"]) == 4
    calls = world.generator.next_id() - world.generator.recipe.first_id
    assert len(document["targets"]) == calls + 5 + 1
    loaded = World.from_dict(document, clock=VirtualClock(START))
    assert loaded.dump() == document
    for campaign in world.campaigns():
        assert loaded.targets_page(campaign.id, 0, 100) == world.targets_page(campaign.id, 0, 100)
        assert loaded.call_logs_page(0, 100, campaign_id=campaign.id) == world.call_logs_page(
            0, 100, campaign_id=campaign.id
        )
    # New targets get ids no target of the file has.
    added = loaded.add_targets(world.campaigns()[0].id, [{"phone_number": "+2"}]).added[0]
    assert added.id not in {t["id"] for t in document["targets"]}
    loaded.reset()
    assert loaded.dump() == document
    other = World.generate(WorldRecipe(seed=9, live_calls=1, call_logs=1))
    other.load(document)
    assert other.dump() == document and other.loaded == document


def test_a_file_without_the_sections_has_the_seeds_campaigns_and_no_targets(world: World) -> None:
    document = world.dump()
    del document["campaigns"], document["targets"]
    loaded = World.from_dict(document)
    assert [c.id for c in loaded.campaigns()] == [c.id for c in world.campaigns()]
    assert all(loaded.targets_page(c.id, 0, 10).items == () for c in loaded.campaigns())


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"campaigns": {}}, "campaigns must be an array"),
        ({"campaigns": [{"id": "c", "flow_id": "nope"}]}, "flow_id"),
        ({"campaigns": [{"flow_id": "flow_records_request"}]}, "id: field required"),
        ({"campaigns": [{"id": "c", "flow_id": "flow_records_request", "kind": "payor"}]}, "kind"),
        ({"targets": {}}, "targets must be an array"),
        ({"targets": [{"id": "t"}]}, "targets[0]"),
        ({"deleted_targets": []}, "deleted_targets must map target ids to campaign ids"),
        ({"deleted_targets": {"t": "nope"}}, "deleted_targets['t']: no campaign 'nope'"),
        ({"deleted_targets": {"t": 1}}, "deleted_targets['t']: no campaign 1"),
    ],
)
def test_bad_sections_are_refused(world: World, change: dict[str, Any], problem: str) -> None:
    document = {**world.dump(), **change}
    with pytest.raises(InvalidChange, match=problem.replace("[", r"\[").replace("]", r"\]")):
        World.from_dict(document)
    before = world.dump()
    with pytest.raises(InvalidChange):
        world.load(document)
    assert world.dump() == before


def test_targets_must_name_a_campaign_and_be_unique(world: World) -> None:
    document = world.dump()
    first = dict(document["targets"][0])
    with pytest.raises(InvalidChange, match="second target"):
        World.from_dict({**document, "targets": [first, first]})
    with pytest.raises(InvalidChange, match="no campaign"):
        World.from_dict({**document, "targets": [{**first, "campaign_id": "x"}]})
    with pytest.raises(InvalidChange, match="status"):
        World.from_dict({**document, "targets": [{**first, "status": "Nope"}]})
    with pytest.raises(InvalidChange, match="in targets too"):
        World.from_dict({**document, "deleted_targets": {first["id"]: first["campaign_id"]}})
    with pytest.raises(InvalidChange, match="must not be empty"):
        World.from_dict({**document, "deleted_targets": {"": first["campaign_id"]}})


@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_a_deleted_targets_calls_keep_their_campaign_through_a_dump(data: st.DataObject) -> None:
    """Whichever targets were deleted (seeded, from a file, added), a dump loaded back answers
    the call logs by campaign as the world did (kit decision 23), and dumps the same again."""
    world = World.generate(
        WorldRecipe(seed=3, live_calls=4, call_logs=16, pending_targets=3),
        clock=VirtualClock(START),
    )
    for campaign in world.campaigns()[:2]:
        world.add_targets(campaign.id, [{"phone_number": "+15550001111"}], launch=True)
    if data.draw(st.booleans(), label="from a file"):  # targets the base holds, not the seed
        world = World.from_dict(world.dump(), clock=VirtualClock(START))
    held = [t for c in world.campaigns() for t in world.targets_page(c.id, 0, 100).items]
    for target in data.draw(st.lists(st.sampled_from(held), unique_by=lambda t: t.id)):
        assert world.delete_targets(target.campaign_id, [target.id])[0] == (target.id,)
    document = json.loads(json.dumps(world.dump()))
    loaded = World.from_dict(document, clock=VirtualClock(START))
    restored = World.from_dict(document, clock=VirtualClock(START))
    restored.restore(restored.snapshot())  # a snapshot copies the base's deleted targets too
    for campaign in world.campaigns():
        want = world.call_logs_page(0, 100, campaign_id=campaign.id)
        assert loaded.call_logs_page(0, 100, campaign_id=campaign.id) == want
        assert restored.call_logs_page(0, 100, campaign_id=campaign.id) == want
        assert loaded.targets_page(campaign.id, 0, 100) == world.targets_page(campaign.id, 0, 100)
    assert loaded.dump() == document == restored.dump()
    # No deleted target's id is given again.
    added = loaded.add_targets(world.campaigns()[0].id, [{"phone_number": "+2"}]).added[0]
    assert added.id not in {t.id for t in held}
