"""The index of seeded statuses agrees with the targets' views, and filtered target pages
equal filtering every target's view, whatever changed since the seed."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prosper_mock import World, WorldRecipe
from prosper_mock.world.clock import VirtualClock
from prosper_mock.world.generate.vocabulary import TARGET_STATUSES
from prosper_mock.world.paging import Page
from prosper_mock.world.targets import TargetView
from tests.world.counting import Counted

RECIPE = WorldRecipe(seed=5, live_calls=24, call_logs=150, pending_targets=15)


def _fresh() -> World:
    """The world on a virtual clock at the seed's "now"."""
    anchor = World.generate(RECIPE).generator.anchor
    return World.generate(RECIPE, clock=VirtualClock(anchor))


@pytest.fixture(scope="module")
def world() -> World:
    return _fresh()


def _every(world: World, campaign_id: str, **filters: object) -> list[TargetView]:
    found, page = [], 0
    while True:
        got: Page[TargetView] = world.targets_page(campaign_id, page, 7, **filters)  # type: ignore[arg-type]
        found.extend(got.items)
        if got.next_page is None:
            assert got.page_count == -(-len(found) // 7)
            return found
        page = got.next_page


def test_the_index_holds_each_seeded_targets_status(world: World) -> None:
    table = world.targets
    for campaign in world.campaigns():
        slots = table.seeded.slots[campaign.id]
        expected: dict[str, list[int]] = {}
        for position, slot in enumerate(slots):
            status = world.target(table.ids.base(slot)).status  # type: ignore[union-attr]
            expected.setdefault(status, []).append(position)
        for status in TARGET_STATUSES:
            got = list(table.statuses.positions(campaign.id, status))
            assert got == expected.get(status, []), (campaign.id, status)
    assert {"In Progress", "Pending"} <= {v.status for c in world.campaigns()
                                          for v in _every(world, c.id)}  # fmt: skip


def _check_filters(world: World) -> None:
    for campaign in world.campaigns():
        every = _every(world, campaign.id)
        for status in TARGET_STATUSES:
            got = _every(world, campaign.id, status=status)
            assert [v.id for v in got] == [v.id for v in every if v.status == status], status
        called = sorted({v.last_call_date for v in every if v.last_call_date})
        if not called:
            continue
        low = datetime.fromisoformat(called[len(called) // 4])
        high = datetime.fromisoformat(called[3 * len(called) // 4])
        for bounds in ({"from_last_call_date": low}, {"to_last_call_date": high},
                       {"from_last_call_date": low, "to_last_call_date": high}):  # fmt: skip
            got = _every(world, campaign.id, **bounds, status=None)
            lowest = low if "from_last_call_date" in bounds else datetime.min.replace(tzinfo=UTC)
            top = high if "to_last_call_date" in bounds else datetime.max.replace(tzinfo=UTC)
            want = [
                v.id for v in every
                if v.last_call_date and lowest <= datetime.fromisoformat(v.last_call_date) <= top
            ]  # fmt: skip
            assert [v.id for v in got] == want, bounds
            both = _every(world, campaign.id, **bounds, status="In Progress")
            assert [v.id for v in both] == [
                v.id for v in every if v.id in set(want) and v.status == "In Progress"
            ]


def test_filters_agree_with_the_views_of_the_seed(world: World) -> None:
    _check_filters(world)


@settings(max_examples=12, deadline=None)
@given(
    end=st.sets(st.integers(0, 23), max_size=5),
    drop_logs=st.sets(st.integers(0, 149), max_size=4),
    delete=st.sets(st.integers(0, 60), max_size=4),
    launch=st.integers(0, 4),
    add=st.integers(0, 3),
    minutes=st.integers(0, 30),
)
def test_filters_agree_with_the_views_after_changes(
    end: set[int], drop_logs: set[int], delete: set[int], launch: int, add: int,
    minutes: int,
) -> None:  # fmt: skip
    world = _fresh()
    clock = world.clock
    assert isinstance(clock, VirtualClock)
    gen = world.generator
    live = list(gen.live_ids())
    for k in end:
        if live[k] in world.live_calls:
            world.end_call(live[k])
    for k in drop_logs:
        call_log_id = gen.recipe.first_id + k
        if call_log_id in world.call_logs:
            world.delete_call_log(call_log_id)
    campaign = world.campaigns()[1].id
    every = _every(world, campaign)
    world.delete_targets(campaign, [every[k].id for k in delete if k < len(every)])
    world.launch(campaign, count=launch)
    world.add_targets(campaign, [{"phone_number": f"+1555000{k:04d}"} for k in range(add)],
                      launch=True)  # fmt: skip
    clock.advance(minutes * 60)
    _check_filters(world)


def test_a_filtered_page_of_a_big_world_builds_only_its_rows() -> None:
    world = World.generate(WorldRecipe(seed=2, live_calls=100, call_logs=20_000))
    campaign = world.campaigns()[0].id
    plans = Counted(world.generator, "plan")
    low = datetime.fromtimestamp(world.generator.anchor - 10 * 86_400, UTC)
    since = {"from_last_call_date": low}
    for kwargs in ({"status": "Finished"}, {"status": "In Progress"}, since,
                   {"status": "Failed", **since}):  # fmt: skip
        plans.reset()
        page = world.targets_page(campaign, 2, 10, **kwargs)  # type: ignore[arg-type]
        assert len(page.items) == 10 and page.page_count > 3, kwargs
        assert plans.calls <= 10 * 3 + 64, kwargs
