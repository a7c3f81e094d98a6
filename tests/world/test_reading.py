"""The world's campaign reads: campaigns, targets derived from their calls, and pages."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from prosper_mock import InvalidChange, World, WorldRecipe
from prosper_mock.world.errors import UnknownCampaign
from prosper_mock.world.generate import FLOWS
from prosper_mock.world.targets import TargetView
from tests.world.counting import Counted

ROOT = Path(__file__).resolve().parents[2]
SPEC = json.loads((ROOT / "openapi.json").read_text(encoding="utf-8"))


def _schema(name: str) -> Draft202012Validator:
    schema = {**SPEC["components"]["schemas"][name], "components": SPEC["components"]}
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


TARGET_SCHEMA = _schema("CampaignTargetResponse")


@pytest.fixture(scope="module")
def world() -> World:
    return World.generate(WorldRecipe(seed=3, live_calls=20, call_logs=120, pending_targets=12))


def test_one_campaign_per_flow_with_the_flows_inputs(world: World) -> None:
    campaigns = world.campaigns()
    assert [c.flow_id for c in campaigns] == [f.id for f in FLOWS]
    assert [c.variables for c in campaigns] == [f.inputs for f in FLOWS]
    assert len({c.id for c in campaigns}) == len(FLOWS)
    assert all(world.campaign(c.id) == c for c in campaigns)
    assert world.campaign("nope") is None
    # Ids come from the seed: another world of the same seed has the same ones.
    again = World.generate(WorldRecipe(seed=3, live_calls=1, call_logs=1))
    assert [c.id for c in again.campaigns()] == [c.id for c in campaigns]


def test_the_view_has_exactly_the_schemas_fields_and_validates(world: World) -> None:
    fields = [f.name for f in dataclasses.fields(TargetView)]
    assert set(fields) == set(SPEC["components"]["schemas"]["CampaignTargetResponse"]["properties"])
    for campaign in world.campaigns():
        for view in world.targets_page(campaign.id, 0, 100).items:
            errors = list(TARGET_SCHEMA.iter_errors(dataclasses.asdict(view)))
            assert not errors, (view, errors)
            datetime.fromisoformat(view.created_at).utcoffset()


def test_every_generated_call_has_one_target_in_its_flows_campaign(world: World) -> None:
    gen = world.generator
    by_flow = {c.flow_id: c for c in world.campaigns()}
    for call_log_id in range(gen.recipe.first_id, gen.next_id()):
        plan = gen.plan(call_log_id)
        row = world.call_logs.get(call_log_id) or world.live_calls.get(call_log_id)
        assert row is not None and row.campaign_target_id is not None
        target = world.target(row.campaign_target_id)
        assert target is not None
        assert target.campaign_id == by_flow[plan.flow.id].id
        assert target.call_log_ids == [call_log_id]  # the links agree both ways
        assert target.phone_number == row.user_phone_number
        assert target.input_data == {k: row.variables[k] for k in plan.flow.inputs}
        assert target.external_id == row.variables["external_id"]
        if call_log_id in world.live_calls:
            assert target.status == "In Progress"
        if call_log_id not in world.call_logs:  # resolved only once a call ended
            assert target.resolution is None and target.category is None


def test_pending_targets_have_no_calls_and_are_spread(world: World) -> None:
    pending = [
        t
        for c in world.campaigns()
        for t in world.targets_page(c.id, 0, 100, status="Pending").items
    ]
    assert len(pending) == 12
    assert {t.campaign_id for t in pending} == {c.id for c in world.campaigns()}
    assert all(t.call_log_ids == [] and t.last_call_date is None for t in pending)


def test_a_patient_target_links_a_patient(world: World) -> None:
    campaign = world.campaigns()[0]
    assert campaign.kind == "patient"
    view = world.targets_page(campaign.id, 0, 1).items[0]
    stored = world.targets.get(view.id)
    assert stored is not None and stored.patient is not None
    assert stored.patient["first_name"] == view.input_data["patient_first_name"]
    assert stored.patient["date_of_birth"] == view.input_data["patient_dob"]
    payor = world.campaigns()[1]
    first = world.targets_page(payor.id, 0, 1).items[0]
    assert world.targets.get(first.id).patient is None  # type: ignore[union-attr]


def test_derivation_follows_the_calls(world: World) -> None:
    gen = world.generator
    live_id = gen.live_ids()[-1]
    target_id = world.live_calls.get(live_id).campaign_target_id  # type: ignore[union-attr]
    saved = world.snapshot()
    try:
        world.end_call(
            live_id, {"call_categorization": {"category": "GOOD", "target_status": "To review"}}
        )
        view = world.target(target_id)
        assert view is not None
        assert view.status == "To review" and view.category == "GOOD"
        assert view.last_call_date is not None and view.execution_minutes is not None
        world.delete_call_log(live_id)
        view = world.target(target_id)
        assert view is not None and view.call_log_ids == [] and view.status == "Scheduled"
    finally:
        world.restore(saved)
    assert world.target(target_id).status == "In Progress"  # type: ignore[union-attr]


def test_an_unknown_target_status_reads_finished(world: World) -> None:
    log_id = world.generator.recipe.first_id
    target_id = world.call_logs.get(log_id).campaign_target_id  # type: ignore[union-attr]
    saved = world.snapshot()
    try:
        world.delete_call_log(log_id)
        world.add_call_log({"id": log_id, "campaign_target_id": target_id,
                            "call_categorization": {"target_status": "whatever"}})  # fmt: skip
        assert world.target(target_id).status == "Finished"  # type: ignore[union-attr]
    finally:
        world.restore(saved)


def _all_pages(fetch, limit: int) -> list:  # type: ignore[no-untyped-def, type-arg]
    found, page = [], 0
    while True:
        got = fetch(page, limit)
        found.extend(got.items)
        assert len(got.items) <= limit
        if got.next_page is None:
            return found
        assert got.next_page == page + 1
        page += 1


@settings(max_examples=25, deadline=None)
@given(limit=st.integers(1, 40), deleted=st.sets(st.integers(0, 139), max_size=8))
def test_call_log_pages_are_complete_and_disjoint(
    world: World, limit: int, deleted: set[int]
) -> None:
    saved = world.snapshot()
    try:
        first = world.generator.recipe.first_id
        for k in deleted:
            if first + k in world.call_logs:
                world.delete_call_log(first + k)
        world.add_call_log({"id": 5, "campaign_target_id": None})
        ids = [log.id for log in _all_pages(world.call_logs_page, limit)]
        assert ids == sorted((r.id for r in world.call_logs), reverse=True)
        page = world.call_logs_page(0, limit)
        assert page.page_count == -(-len(ids) // limit)
        for campaign in world.campaigns():
            got = _all_pages(
                lambda p, n, c=campaign.id: world.call_logs_page(p, n, campaign_id=c), limit
            )
            expected = [r.id for r in world.call_logs
                        if world.target(r.campaign_target_id or "") is not None
                        and world.target(r.campaign_target_id).campaign_id == campaign.id]  # type: ignore[union-attr]  # fmt: skip
            assert [r.id for r in got] == sorted(expected, reverse=True)
    finally:
        world.restore(saved)


@settings(max_examples=25, deadline=None)
@given(limit=st.integers(1, 30), a=st.integers(0, 40), b=st.integers(0, 40))
def test_date_windows_are_inclusive_and_paged(world: World, limit: int, a: int, b: int) -> None:
    anchor = world.generator.anchor
    low = datetime.fromtimestamp(anchor - 31 * 86_400 + min(a, b) * 86_400 * 0.8, UTC)
    high = datetime.fromtimestamp(anchor - 31 * 86_400 + max(a, b) * 86_400 * 0.8, UTC)
    logs = _all_pages(lambda p, n: world.call_logs_page(p, n, from_date=low, to_date=high), limit)
    expected = [r.id for r in world.call_logs
                if low <= datetime.fromisoformat(r.created_at) <= high]  # fmt: skip
    assert [r.id for r in logs] == sorted(expected, reverse=True)
    for campaign in world.campaigns():
        views = _all_pages(
            lambda p, n, c=campaign.id: world.targets_page(c, p, n, from_date=low, to_date=high),
            limit,
        )
        every = _all_pages(lambda p, n, c=campaign.id: world.targets_page(c, p, n), 100)
        assert [v.id for v in views] == [
            v.id for v in every if low <= datetime.fromisoformat(v.created_at) <= high
        ]


def test_target_pages_are_oldest_first_and_exact(world: World) -> None:
    for campaign in world.campaigns():
        views = _all_pages(lambda p, n, c=campaign.id: world.targets_page(c, p, n), 7)
        created = [datetime.fromisoformat(v.created_at) for v in views]
        assert created == sorted(created) and len({v.id for v in views}) == len(views)
    total = sum(len(_all_pages(lambda p, n, c=c.id: world.targets_page(c, p, n), 50))
                for c in world.campaigns())  # fmt: skip
    gen = world.generator
    assert total == gen.next_id() - gen.recipe.first_id + 12


def test_status_and_last_call_filters(world: World) -> None:
    campaign = world.campaigns()[0]
    every = _all_pages(lambda p, n: world.targets_page(campaign.id, p, n), 100)
    for status in {v.status for v in every}:
        got = _all_pages(lambda p, n, s=status: world.targets_page(campaign.id, p, n, status=s), 3)
        assert [v.id for v in got] == [v.id for v in every if v.status == status]
    called = sorted(v.last_call_date for v in every if v.last_call_date)
    low = datetime.fromisoformat(called[len(called) // 3])
    high = datetime.fromisoformat(called[2 * len(called) // 3])
    got = _all_pages(lambda p, n: world.targets_page(campaign.id, p, n, from_last_call_date=low,
                                                     to_last_call_date=high), 4)  # fmt: skip
    assert [v.id for v in got] == [
        v.id for v in every
        if v.last_call_date and low <= datetime.fromisoformat(v.last_call_date) <= high
    ]  # fmt: skip


def test_bad_pages_and_filters_are_refused(world: World) -> None:
    campaign = world.campaigns()[0].id
    with pytest.raises(UnknownCampaign):
        world.targets_page("nope", 0, 10)
    for bad in ({"page": -1, "limit": 10}, {"page": 0, "limit": 0}, {"page": True, "limit": 1}):
        with pytest.raises(InvalidChange):
            world.targets_page(campaign, bad["page"], bad["limit"])
        with pytest.raises(InvalidChange):
            world.call_logs_page(bad["page"], bad["limit"])
    with pytest.raises(InvalidChange):
        world.targets_page(campaign, 0, 10, status="Nope")
    with pytest.raises(InvalidChange):
        world.call_logs_page(0, 10, from_date=datetime(2026, 1, 1))  # naive


def test_a_page_past_the_end_is_empty(world: World) -> None:
    page = world.call_logs_page(1000, 10)
    assert page.items == () and page.next_page is None and page.page_count == 12


def test_pages_of_a_big_world_fetch_only_their_rows() -> None:
    world = World.generate(WorldRecipe(seed=1, live_calls=100, call_logs=20_000))
    fetched = Counted(world.call_logs.base, "fetch")
    world.call_logs._cache.clear()
    campaign = world.campaigns()[2].id
    low = datetime.fromtimestamp(world.generator.anchor - 10 * 86_400, UTC)
    for kwargs in (
        {},
        {"campaign_id": campaign},
        {"from_date": low},
        {"from_date": low, "campaign_id": campaign},
    ):
        fetched.reset()
        page = world.call_logs_page(3, 25, **kwargs)  # type: ignore[arg-type]
        assert len(page.items) == 25 and fetched.calls <= 25, kwargs
    plans = Counted(world.generator, "plan")
    for kwargs in ({}, {"from_date": low}):
        plans.reset()
        views = world.targets_page(campaign, 5, 20, **kwargs)  # type: ignore[arg-type]
        assert len(views.items) == 20
        # Each target drawn once (its plan, its campaign's flow); bisection a few dozen more.
        assert plans.calls <= 20 * 3 + 64, kwargs


@settings(max_examples=20, deadline=None)
@given(
    limit=st.integers(1, 25),
    deleted=st.sets(st.integers(0, 40), max_size=6),
    added=st.integers(0, 5),
)
def test_target_pages_with_changes_are_complete_and_disjoint(
    world: World, limit: int, deleted: set[int], added: int
) -> None:
    saved = world.snapshot()
    try:
        campaign = world.campaigns()[0].id
        every = _all_pages(lambda p, n: world.targets_page(campaign, p, n), 100)
        gone = [every[k].id for k in deleted if k < len(every)]
        world.delete_targets(campaign, gone)
        new = world.add_targets(campaign, [{"phone_number": f"+1{k}"} for k in range(added)])
        expected = [v.id for v in every if v.id not in gone] + [v.id for v in new.added]
        got = _all_pages(lambda p, n: world.targets_page(campaign, p, n), limit)
        assert [v.id for v in got] == expected
        assert world.targets_page(campaign, 0, limit).page_count == -(-len(expected) // limit)
    finally:
        world.restore(saved)


def test_the_latest_rows_come_newest_first_with_their_counts() -> None:
    fresh = World.generate(WorldRecipe(seed=3, live_calls=6, call_logs=30, pending_targets=12))
    live, live_count = fresh.latest_live_calls(3)
    everything = sorted(fresh.live_calls, key=lambda r: (r.started_at, r.call_log_id))
    assert live_count == 6 and live == everything[::-1][:3]
    started = fresh.start_call({"user_phone_number": "+15550009999"})
    assert fresh.latest_live_calls(1) == ([started], 7)
    logs, log_count = fresh.latest_call_logs(4)
    assert log_count == 30
    assert [r.id for r in logs] == sorted((r.id for r in fresh.call_logs), reverse=True)[:4]
    with pytest.raises(InvalidChange):
        fresh.latest_live_calls(0)


@settings(max_examples=20, deadline=None)
@given(
    limit=st.integers(1, 12),
    ended=st.sets(st.integers(0, 9), max_size=4),
    started=st.integers(0, 3),
)
def test_the_latest_live_calls_read_only_their_rows_and_agree_with_a_scan(
    limit: int, ended: set[int], started: int
) -> None:
    fresh = World.generate(WorldRecipe(seed=4, live_calls=10, call_logs=20))
    ids = list(fresh.generator.live_ids())
    for k in ended:
        fresh.end_call(ids[k])
    for k in range(started):
        fresh.start_call({"user_phone_number": f"+1555000{k:04d}"})
    everything = sorted(fresh.live_calls, key=lambda r: (r.started_at, r.call_log_id))
    fetched = Counted(fresh.live_calls.base, "fetch")
    fresh.live_calls._cache.clear()
    rows, count = fresh.latest_live_calls(limit)
    assert count == len(everything) and rows == everything[::-1][:limit]
    assert fetched.calls <= limit


@pytest.mark.parametrize("limit", [1, 2, 3, 5, 100])
def test_the_latest_targets_are_the_listing_read_backwards(limit: int) -> None:
    fresh = World.generate(WorldRecipe(seed=3, live_calls=6, call_logs=30, pending_targets=12))
    campaign = fresh.campaigns()[0].id
    fresh.add_targets(campaign, [{"phone_number": "+15550001234", "external_id": "NEW-1"}])
    every = fresh.targets_page(campaign, 0, 100).items
    latest, count = fresh.latest_targets(campaign, limit)
    assert count == len(every)
    assert latest == list(every[::-1][:limit])
    assert latest[0].external_id == "NEW-1"
    with pytest.raises(UnknownCampaign):
        fresh.latest_targets("no-such-campaign", 3)
