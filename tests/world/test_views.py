"""The lookups every service shares: a campaign, a target, the call a target has live."""

from __future__ import annotations

import pytest

from prosper_mock import VirtualClock, World, WorldRecipe
from prosper_mock.world.errors import UnknownCampaign, UnknownTarget
from prosper_mock.world.views import Views

START = "2026-01-15T15:00:00+00:00"


@pytest.fixture
def world() -> World:
    return World.generate(WorldRecipe(seed=5, live_calls=4, call_logs=12), VirtualClock(START))


def test_views_over_a_state_answer_what_the_world_does(world: World) -> None:
    views = Views(world.state)
    assert views.campaigns() == world.campaigns()
    first = world.campaigns()[0]
    assert views.campaign(first.id) == first and views.known_campaign(first.id) == first
    assert views.campaign("nope") is None
    with pytest.raises(UnknownCampaign, match="no campaign 'nope'"):
        views.known_campaign("nope")


def test_a_target_is_known_only_in_its_own_campaign(world: World) -> None:
    views = Views(world.state)
    first, second = world.campaigns()[:2]
    target = world.add_targets(first.id, [{"phone_number": "+15550001111"}]).added[0]
    assert views.known_target(target.id).id == target.id
    assert views.known_target(target.id, first.id).id == target.id
    with pytest.raises(UnknownTarget, match=f"in campaign {second.id}"):
        views.known_target(target.id, second.id)
    with pytest.raises(UnknownTarget):
        views.known_target("t-none")


def test_the_live_call_of_a_target_is_its_launched_call_until_it_ends(world: World) -> None:
    views = Views(world.state)
    campaign = world.campaigns()[0].id
    added = world.add_targets(campaign, [{"phone_number": "+15550001111"}], launch=True)
    [call_log_id] = added.launched
    target = world.targets.get(added.added[0].id)
    assert target is not None
    live = views.live_call_of(target)
    assert live is not None and live.call_log_id == call_log_id
    assert views.view(target).status == world.target(target.id).status  # type: ignore[union-attr]
    world.end_call(call_log_id)
    ended = world.targets.get(target.id)
    assert ended is not None and views.live_call_of(ended) is None
