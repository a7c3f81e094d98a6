"""Campaign writes: every one applies whole or not at all, and the links follow."""

from __future__ import annotations

from typing import Any

import pytest

from prosper_mock import InvalidChange, VirtualClock, World, WorldRecipe
from prosper_mock.world.errors import TargetStarted, UnknownCampaign, UnknownTarget
from tests.world.counting import Counted

START = "2026-01-15T15:00:00+00:00"


@pytest.fixture
def world() -> World:
    return World.generate(
        WorldRecipe(seed=5, live_calls=10, call_logs=60, pending_targets=8),
        clock=VirtualClock(START),
    )


def _patient_campaign(world: World) -> str:
    return next(c.id for c in world.campaigns() if c.kind == "patient")


def _same(world: World, before: dict[str, Any]) -> None:
    assert world.changes() == before


def test_added_targets_are_pending_and_listed_last(world: World) -> None:
    campaign = _patient_campaign(world)
    result = world.add_targets(
        campaign,
        [
            {"phone_number": "+15550001", "external_id": "E-1", "input_data": {"a": 1}},
            {"phone_number": {"value": "+15550002", "operating_hours": {"monday": []}}},
        ],
    )
    assert [t.status for t in result.added] == ["Pending", "Pending"]
    assert result.ignored == () and result.launched == ()
    first = result.added[0]
    assert first.input_data == {"a": 1} and first.external_id == "E-1"
    assert world.targets.get(result.added[1].id).operating_hours == {"monday": []}  # type: ignore[union-attr]
    page = world.targets_page(campaign, 0, 1000)
    assert [t.id for t in page.items[-2:]] == [t.id for t in result.added]
    assert world.target(first.id) == first
    # Ids of added targets have their own form, told apart from seeded ones.
    assert world.targets.ids.number(first.id) == 0 and world.targets.ids.slot(first.id) is None


def test_duplicates_by_external_id_are_ignored_unless_allowed(world: World) -> None:
    campaign = _patient_campaign(world)
    seeded = world.targets_page(campaign, 0, 1).items[0]
    assert seeded.external_id is not None
    dup = {"phone_number": "+1555", "external_id": seeded.external_id}
    new = {"phone_number": "+1556", "external_id": "NEW"}
    result = world.add_targets(campaign, [dup, new, dict(new)])
    assert result.ignored == (seeded.external_id, "NEW") and len(result.added) == 1
    result = world.add_targets(campaign, [dup], allow_duplicates=False)
    assert len(result.added) == 1


def test_bad_targets_change_nothing(world: World) -> None:
    campaign = _patient_campaign(world)
    before = world.changes()
    good = {"phone_number": "+1555"}
    for bad in (
        [good, {}],
        [good, {"phone_number": 5}],
        [good, {"phone_number": {"operating_hours": None}}],
        [good, {"phone_number": "+1", "input_data": []}],
        [good, {"phone_number": "+1", "input_data": {"x": float("nan")}}],
        [good, {"phone_number": "+1", "patient": {"first_name": 3}}],
        [good, {"phone_number": "+1", "id": ""}],
        "not a list",
    ):
        with pytest.raises(InvalidChange):
            world.add_targets(campaign, bad)  # type: ignore[arg-type]
        _same(world, before)
    with pytest.raises(UnknownCampaign):
        world.add_targets("nope", [good])
    seeded = world.targets_page(campaign, 0, 1).items[0].id
    with pytest.raises(InvalidChange):
        world.add_targets(campaign, [good, {"phone_number": "+1", "id": seeded}])
    _same(world, before)


def test_delete_targets(world: World) -> None:
    campaign = _patient_campaign(world)
    other = world.campaigns()[1].id
    views = world.targets_page(campaign, 0, 3).items
    added = world.add_targets(campaign, [{"phone_number": "+1"}]).added[0]
    total = world.targets_page(campaign, 0, 1).page_count
    deleted, missing = world.delete_targets(campaign, [views[1].id, added.id, "nope", views[1].id])
    assert deleted == (views[1].id, added.id) and missing == ("nope",)
    assert world.target(views[1].id) is None and world.target(added.id) is None
    assert world.targets_page(campaign, 0, 1).page_count == total - 2
    assert views[1].id not in [t.id for t in world.targets_page(campaign, 0, 1000).items]
    # Its calls stay, and still count for its campaign.
    assert views[1].call_log_ids[0] in world.call_logs
    assert world.delete_targets(other, [views[0].id]) == ((), (views[0].id,))
    with pytest.raises(InvalidChange):
        world.delete_targets(campaign, "abc")  # type: ignore[arg-type]
    world.reset()
    assert world.target(views[1].id) == views[1]


def test_launch_named_targets(world: World) -> None:
    campaign = _patient_campaign(world)
    target = world.add_targets(
        campaign,
        [{"phone_number": "+1777", "external_id": "X-9",
          "patient": {"first_name": "Ann", "date_of_birth": "1990-01-01"}}],
    ).added[0]  # fmt: skip
    result = world.launch(campaign, target_ids=[target.id, target.id])
    [(target_id, call_id)] = result.calls
    assert target_id == target.id and result.skipped == (target.id,)
    live = world.live_calls.get(call_id)
    assert live is not None and live.campaign_target_id == target.id
    assert live.user_phone_number == "+1777"
    assert live.variables["external_id"] == "X-9" and live.variables["patient_first_name"] == "Ann"
    assert world.live_calls.latest_by_variable("external_id", "X-9") == live
    view = world.target(target.id)
    assert view is not None and view.status == "In Progress" and view.call_log_ids == [call_id]
    assert world.launch(campaign, target_ids=[target.id]).skipped == (target.id,)
    before = world.changes()
    with pytest.raises(UnknownTarget):
        world.launch(campaign, target_ids=[target.id, "nope"])
    with pytest.raises(InvalidChange):
        world.launch(campaign)
    with pytest.raises(InvalidChange):
        world.launch(campaign, count=-1)
    _same(world, before)


def test_launch_by_count_picks_pending_targets(world: World) -> None:
    campaign = world.campaigns()[1].id
    pending = [t.id for t in world.targets_page(campaign, 0, 100, status="Pending").items]
    assert len(pending) == 2
    oldest = world.launch(campaign, count=1, prioritize_oldest=True)
    assert [t for t, _ in oldest.calls] == pending[:1]
    rest = world.launch(campaign, count=5)
    assert [t for t, _ in rest.calls] == pending[1:]
    assert world.launch(campaign, count=5).calls == ()
    # The draw is seeded: the same world launches the same targets.
    again = World.generate(world.generator.recipe, clock=VirtualClock(START))
    again.launch(campaign, count=1, prioritize_oldest=True)
    assert again.launch(campaign, count=5).calls == rest.calls


def test_update_target_input(world: World) -> None:
    campaign = _patient_campaign(world)
    target = world.add_targets(campaign, [{"phone_number": "+1", "input_data": {"a": 1}}]).added[0]
    view = world.update_target_input(target.id, {"b": 2})
    assert view.input_data == {"a": 1, "b": 2}
    called = world.targets_page(campaign, 0, 1).items[0]
    before = world.changes()
    with pytest.raises(TargetStarted):
        world.update_target_input(called.id, {"b": 2})
    with pytest.raises(UnknownTarget):
        world.update_target_input("nope", {"b": 2})
    with pytest.raises(InvalidChange):
        world.update_target_input(target.id, {"b": float("inf")})
    _same(world, before)
    assert (
        world.update_target_input(called.id, {"b": 2}, only_if_not_started=False).input_data["b"]
        == 2
    )


def test_webhook_step_merges_output_and_maps_the_live_call(world: World) -> None:
    campaign = _patient_campaign(world)
    target = world.add_targets(campaign, [{"phone_number": "+1"}], launch=True).added[0]
    call_id = world.target(target.id).call_log_ids[0]  # type: ignore[union-attr]
    view = world.webhook_step(campaign, target.id, "verify", {"ok": True})
    view = world.webhook_step(campaign, target.id, "verify", {"note": "x"})
    assert view.output_data["verify"] == {"ok": True, "note": "x"}
    assert world.live_calls.get(call_id).variables["note"] == "x"  # type: ignore[union-attr]
    before = world.changes()
    with pytest.raises(UnknownTarget):
        world.webhook_step(world.campaigns()[1].id, target.id, "verify", {})
    with pytest.raises(InvalidChange):
        world.webhook_step(campaign, target.id, "", {})
    _same(world, before)


def test_ehr_events(world: World) -> None:
    campaign = _patient_campaign(world)
    created = world.ehr_event(
        campaign, "ehr", "appointment_created", {"appointment_date": "2026-03-01"},
        external_id="MRN-1",
    )  # fmt: skip
    [target] = created.added
    assert target.status == "Pending" and target.external_id == "MRN-1"
    assert target.input_data == {"appointment_date": "2026-03-01"}
    world.ehr_event(campaign, "ehr", "patient_registered", {}, external_id="MRN-1")
    cancelled = world.ehr_event(campaign, "ehr", "appointment_cancelled", external_id="MRN-1")
    assert len(cancelled.removed) == 2 and world.target(target.id) is None
    called = world.targets_page(campaign, 0, 1).items[0]
    kept = world.ehr_event(campaign, "ehr", "appointment_cancelled", target_id=called.id)
    assert kept.removed == () and world.target(called.id) is not None
    before = world.changes()
    with pytest.raises(InvalidChange):
        world.ehr_event(campaign, "ehr", "nope")
    with pytest.raises(InvalidChange):
        world.ehr_event(campaign, "ehr", "appointment_cancelled")
    with pytest.raises(UnknownCampaign):
        world.ehr_event("nope", "ehr", "appointment_created")
    _same(world, before)


def test_target_changes_round_trip_through_changes(world: World) -> None:
    campaign = _patient_campaign(world)
    world.add_targets(campaign, [{"phone_number": "+1", "external_id": "R"}], launch=True)
    seeded = world.targets_page(campaign, 0, 1).items[0].id
    world.delete_targets(campaign, [seeded])
    changes = world.changes()
    assert {"targets", "targets_added", "dialer"} <= set(changes)
    twin = World.generate(world.generator.recipe, clock=VirtualClock(START))
    twin.apply_changes(changes)
    assert twin.changes() == changes
    assert twin.targets_page(campaign, 0, 1000) == world.targets_page(campaign, 0, 1000)
    with pytest.raises(InvalidChange):
        twin.apply_changes({"targets": {"x": {"id": "y"}}})
    with pytest.raises(InvalidChange):
        twin.apply_changes({"targets_added": -1})
    with pytest.raises(InvalidChange):
        twin.apply_changes({"dialer": [[1, "a", 2]]})
    assert twin.changes() == changes


def test_snapshot_and_reset_cover_targets(world: World) -> None:
    campaign = _patient_campaign(world)
    saved = world.snapshot()
    added = world.add_targets(campaign, [{"phone_number": "+1"}], launch=True).added[0]
    after = world.snapshot()
    world.restore(saved)
    assert world.target(added.id) is None and len(world.dialer) == 0
    world.restore(after)
    assert world.target(added.id) is not None and len(world.dialer) == 1
    world.reset()
    assert world.target(added.id) is None and world.changes() == {"live_calls": {}, "call_logs": {}}


def test_a_call_started_for_a_target_by_hand_joins_its_calls(world: World) -> None:
    campaign = _patient_campaign(world)
    target = world.add_targets(campaign, [{"phone_number": "+1"}]).added[0]
    call = world.start_call({"campaign_target_id": target.id})
    view = world.target(target.id)
    assert view is not None and view.call_log_ids == [call.call_log_id]
    assert view.status == "In Progress"
    log = world.add_call_log({"campaign_target_id": target.id})
    assert world.target(target.id).call_log_ids == [call.call_log_id, log.id]  # type: ignore[union-attr]
    # Without a target, a call names none.
    assert world.start_call().campaign_target_id is None
    assert world.add_call_log().campaign_target_id is None
    assert world.start_call({"campaign_target_id": "unknown"}).campaign_target_id == "unknown"


def test_a_deleted_targets_calls_still_count_in_its_campaigns_call_logs(world: World) -> None:
    campaign = _patient_campaign(world)
    added = world.add_targets(campaign, [{"phone_number": "+1"}], launch=True).added[0]
    [call_id] = world.target(added.id).call_log_ids  # type: ignore[union-attr]
    world.end_call(call_id)
    world.delete_targets(campaign, [added.id])

    def listed(w: World) -> list[int]:
        return [log.id for log in w.call_logs_page(0, 1000, campaign_id=campaign).items]

    assert call_id in listed(world)
    twin = World.generate(world.generator.recipe, clock=VirtualClock(START))
    twin.apply_changes(world.changes())  # the state file keeps where it was
    assert call_id in listed(twin)
    saved = world.snapshot()
    world.restore(saved)
    assert call_id in listed(world)


@pytest.mark.parametrize("kind", ["seeded", "added"])
def test_a_deleted_targets_id_is_never_given_to_another_target(world: World, kind: str) -> None:
    campaign, other = _patient_campaign(world), world.campaigns()[1].id
    if kind == "seeded":
        gone = world.targets_page(campaign, 0, 1).items[0].id
    else:
        gone = world.add_targets(campaign, [{"phone_number": "+1", "id": "mine"}]).added[0].id
    world.delete_targets(campaign, [gone])
    before = world.changes()
    for where in (campaign, other):
        with pytest.raises(InvalidChange, match="taken"):
            world.add_targets(where, [{"phone_number": "+1", "id": gone}])
        with pytest.raises(InvalidChange, match="taken"):
            world.ehr_event(where, "ehr", "appointment_created", target_id=gone)
    _same(world, before)
    assert gone not in [t.id for t in world.targets_page(campaign, 0, 1000).items]
    assert gone not in [t.id for t in world.targets_page(other, 0, 1000).items]


def test_a_new_target_never_gets_the_id_of_one_a_caller_gave_and_deleted(world: World) -> None:
    campaign = _patient_campaign(world)
    mine = world.targets.ids.added(0)  # the id the next added target would get
    world.add_targets(campaign, [{"phone_number": "+1", "id": mine}])
    world.delete_targets(campaign, [mine])
    assert world.add_targets(campaign, [{"phone_number": "+1"}]).added[0].id != mine


def test_a_restore_never_gives_a_new_target_an_id_issued_after_the_snapshot(
    world: World,
) -> None:
    campaign = _patient_campaign(world)
    saved = world.snapshot()
    issued = {t.id for t in world.add_targets(campaign, [{"phone_number": "+1"}] * 3).added}
    world.restore(saved)
    again = {t.id for t in world.add_targets(campaign, [{"phone_number": "+1"}] * 3).added}
    assert not issued & again
    world.reset()  # a reset goes back to the seeded world and its ids
    assert world.add_targets(campaign, [{"phone_number": "+1"}]).added[0].id in issued


@pytest.mark.parametrize("bad", ["", "a/b", "/", ".", ".."])
def test_a_target_id_no_path_can_reach_is_refused_everywhere(world: World, bad: str) -> None:
    campaign = _patient_campaign(world)
    before = world.changes()
    with pytest.raises(InvalidChange, match=r"targets\[0\]\.id"):
        world.add_targets(campaign, [{"phone_number": "+1", "id": bad}])
    for event in ("appointment_created", "patient_registered", "appointment_cancelled"):
        with pytest.raises(InvalidChange, match="target_id"):
            world.ehr_event(campaign, "ehr", event, target_id=bad)
    _same(world, before)
    # Anything else a path segment carries is an id (percent-encoded by the client).
    odd = world.ehr_event(campaign, "ehr", "appointment_created", target_id="a b?#%é.").added
    assert [t.id for t in odd] == ["a b?#%é."]


def test_adding_targets_costs_what_is_added_not_the_campaigns_size(world: World) -> None:
    """The duplicate check goes through indexes: adding ``k`` targets reads O(k) rows
    however many the campaign holds (a scan made a campaign's adds ever slower)."""
    campaign = _patient_campaign(world)

    def batch(tag: str, n: int) -> list[dict[str, Any]]:
        return [{"phone_number": "+1", "external_id": f"{tag}-{i}"} for i in range(n)]

    reads = []
    for size in (0, 300, 1200):
        world.add_targets(campaign, batch(f"fill{size}", size))
        spies = [Counted(world.targets, n) for n in ("get", "added_targets", "__iter__")]
        added = world.add_targets(campaign, [*batch(f"new{size}", 20), *batch(f"fill{size}", 5)])
        ignored = 5 if size else 0
        assert len(added.ignored) == ignored and len(added.added) == 25 - ignored
        reads.append(sum(s.calls for s in spies))
    assert reads[1] == reads[2], reads  # the same work in a campaign four times as big
    assert reads[2] < 200, reads


def test_a_world_files_targets_count_as_duplicates(world: World) -> None:
    campaign = _patient_campaign(world)
    world.add_targets(campaign, [{"phone_number": "+1", "external_id": "FILE-1"}])
    loaded = World.from_dict(world.dump(), clock=VirtualClock(START))
    again = loaded.add_targets(campaign, [{"phone_number": "+1", "external_id": "FILE-1"}])
    assert again.ignored == ("FILE-1",) and again.added == ()
