"""Attempts, retries and webhook events in the world: what a target's ended call sets off."""

from __future__ import annotations

import json

import pytest

from prosper_mock import InvalidChange, VirtualClock, World, WorldRecipe
from prosper_mock.world.errors import UnknownCampaign
from prosper_mock.world.hooking import RETRY_AFTER
from prosper_mock.world.storage.statelog import fold
from prosper_mock.world.webhooks import FAILED, Send

NO_ANSWER = {"call_categorization": {"category": "NO_RESPONSE", "target_status": "Scheduled"}}
START = "2026-01-15T15:00:00+00:00"  # a Thursday, 10:00 in New York
WEEKDAYS_9_TO_5 = {
    day: [{"start": "09:00", "end": "17:00"}]
    for day in ("monday", "tuesday", "wednesday", "thursday", "friday")
}


def _world(url: str | None = "http://127.0.0.1:9/hook") -> World:
    world = World.generate(WorldRecipe(seed=6, live_calls=4, call_logs=12), VirtualClock(START))
    world.webhooks.default_url = url
    return world


def _target(world: World, phone: object = "+15550001111") -> tuple[str, str, int]:
    campaign = world.campaigns()[0].id
    added = world.add_targets(campaign, [{"phone_number": phone}], launch=True)
    return campaign, added.added[0].id, added.launched[0]


def _live_call(world: World, target_id: str) -> int:
    view = world.target(target_id)
    assert view is not None and view.call_log_ids
    call = view.call_log_ids[-1]
    assert call in world.live_calls
    return call


def _fail_until_spent(world: World, target_id: str) -> None:
    """Move the clock to each next attempt and end it with no answer, until none is due."""
    while (due := world.webhooks.retries.get(target_id)) is not None:
        assert isinstance(world.clock, VirtualClock)
        world.clock.set(due)
        world.catch_up()
        world.end_call(_live_call(world, target_id), NO_ANSWER)


def test_an_unanswered_call_is_retried_up_to_max_attempts_with_agreeing_fields() -> None:
    world = _world()
    campaign, target_id, first = _target(world)
    world.end_call(first, NO_ANSWER)
    view = world.target(target_id)
    assert view is not None
    [event] = world.webhook_events(target_id=target_id)
    ended = world.clock.now()
    assert event.payload() == {
        "campaign_id": campaign,
        "call_log_id": first,
        "target_id": target_id,
        "attempt": 1,
        "max_attempts": 3,
        "next_attempt_scheduled": view.scheduled_time,
    }
    assert view.status == "Scheduled" and view.retries == 0
    assert world.webhooks.retries[target_id] == ended + RETRY_AFTER
    _fail_until_spent(world, target_id)
    events = world.webhook_events(target_id=target_id)
    view = world.target(target_id)
    assert view is not None
    assert [e.attempt for e in events] == [1, 2, 3]
    assert [e.call_log_id for e in events] == view.call_log_ids
    assert events[-1].next_attempt_scheduled is None
    assert all(e.next_attempt_scheduled is not None for e in events[:-1])
    assert (view.status, view.retries) == ("Finished", 2)
    assert target_id not in world.webhooks.retries


def test_a_retry_on_the_clock_is_placed_and_played_by_the_dialer() -> None:
    world = _world()
    _, target_id, first = _target(world)
    world.end_call(first, NO_ANSWER)
    assert isinstance(world.clock, VirtualClock)
    world.clock.advance(RETRY_AFTER + 1)
    world.catch_up()
    view = world.target(target_id)
    assert view is not None and len(view.call_log_ids) == 2
    assert view.status == "In Progress"
    world.clock.advance(86_400)  # the second call plays out and ends by itself
    world.catch_up()
    events = world.webhook_events(target_id=target_id)
    assert [e.attempt for e in events][:2] == [1, 2]
    assert events[1].created_at > events[0].created_at


def test_a_campaigns_max_attempts_bounds_the_retries() -> None:
    world = _world()
    campaign = world.campaigns()[0].id
    world.set_webhook(campaign, {"url": "http://127.0.0.1:9/x", "max_attempts": 1})
    _, target_id, first = _target(world)
    world.end_call(first, NO_ANSWER)
    [event] = world.webhook_events(target_id=target_id)
    assert (event.attempt, event.max_attempts, event.next_attempt_scheduled) == (1, 1, None)
    view = world.target(target_id)
    assert view is not None and view.status == "Finished"


def test_a_retry_waits_for_the_targets_operating_hours() -> None:
    world = _world()
    hours = {**WEEKDAYS_9_TO_5, "tz": "America/New_York"}
    _, target_id, first = _target(world, {"value": "+15550001111", "operating_hours": hours})
    assert isinstance(world.clock, VirtualClock)
    world.clock.set("2026-01-16T21:30:00+00:00")  # Friday 16:30 in New York
    world.end_call(first, NO_ANSWER)
    [event] = world.webhook_events(target_id=target_id)
    # an hour later is after 17:00: the next opening is Monday 09:00 (14:00 UTC)
    assert event.next_attempt_scheduled == "2026-01-19T14:00:00.000+00:00"


def test_no_url_records_no_event_but_still_retries() -> None:
    world = _world(url=None)
    _, target_id, first = _target(world)
    world.end_call(first, NO_ANSWER)
    assert world.webhook_events() == []
    assert target_id in world.webhooks.retries


def test_a_call_with_no_target_sets_off_nothing() -> None:
    world = _world()
    call = world.start_call().call_log_id
    world.end_call(call)
    assert world.webhook_events() == []


def test_a_send_is_recorded_once_and_reruns_take_only_failed_events_in_the_window() -> None:
    world = _world()
    campaign, _, first = _target(world)
    world.end_call(first, NO_ANSWER)
    [event] = world.webhook_events()
    failed = Send("2026-01-15T15:00:00.000+00:00", "http://x", False, 500, "answered 500")
    assert world.record_send(event.id, 0, failed) is True
    assert world.record_send(event.id, 0, failed) is False  # recorded by another already
    assert world.rerun_failed(campaign, "2026-01-14T00:00:00", "2026-01-15T14:00:00Z") == []
    window = (event.created_at, event.created_at)  # both ends inclusive
    assert world.rerun_failed(campaign, *window) == [event.id]
    assert world.rerun_failed(campaign, *window) == []  # pending now, not failed
    [again] = world.webhook_events()
    assert (again.state, again.reruns, len(again.sends)) == ("pending", 1, 1)
    with pytest.raises(UnknownCampaign):
        world.rerun_failed("nope", *window)
    with pytest.raises(InvalidChange, match="from_date"):
        world.rerun_failed(campaign, "yesterday", event.created_at)
    assert world.webhook_events(state=FAILED) == []


def test_webhook_settings_are_checked_read_and_cleared() -> None:
    world = _world(url="http://127.0.0.1:9/default")
    campaign = world.campaigns()[0].id
    assert world.webhook_setting(campaign)["source"] == "default"
    for bad in ({"url": "ftp://x"}, {"url": "http://x", "headers": {"Content-Type": "x"}},
                {"url": "http://x", "headers": {"X": "a\nb"}},
                {"url": "http://x", "max_attempts": 0}, {"headers": {}}):  # fmt: skip
        with pytest.raises(InvalidChange):
            world.set_webhook(campaign, bad)
    assert world.webhook_setting(campaign)["source"] == "default"
    world.set_webhook(campaign, {"url": None})
    assert world.webhook_setting(campaign)["url"] is None
    _, _, first = _target(world)
    world.end_call(first)
    assert world.webhook_events() == []  # null: none even with a default
    world.clear_webhook(campaign)
    assert world.webhook_setting(campaign)["url"] == "http://127.0.0.1:9/default"
    with pytest.raises(UnknownCampaign):
        world.webhook_setting("nope")


def test_events_travel_in_changes_fold_and_replay_onto_another_world() -> None:
    world = _world()
    campaign = world.campaigns()[0].id
    before = json.loads(json.dumps(world.changes()))
    world.set_webhook(campaign, {"url": "http://127.0.0.1:9/x", "headers": {"X-A": "1"}})
    _, _, first = _target(world)
    world.end_call(first, NO_ANSWER)
    whole = json.loads(json.dumps(world.changes()))
    other = _world()
    other.apply_changes(whole, exact=True)
    assert json.loads(json.dumps(other.changes())) == whole
    assert other.webhooks.retries == world.webhooks.retries
    assert "webhooks" in whole and whole["webhooks"]["last_event"] == 1
    assert before.get("webhooks") is None


def test_a_refused_transaction_leaves_no_event_behind() -> None:
    world = _world()
    _, _, first = _target(world)
    with pytest.raises(RuntimeError), world.batch():
        world.end_call(first, NO_ANSWER)
        raise RuntimeError("refused")
    assert world.webhook_events() == [] and world.webhooks.retries == {}


def test_reset_drops_events_settings_and_retries_but_keeps_the_default_url() -> None:
    world = _world()
    world.set_webhook(world.campaigns()[0].id, {"url": "http://127.0.0.1:9/own"})
    _, _, first = _target(world)
    world.end_call(first, NO_ANSWER)
    world.reset()
    assert not world.webhooks and world.webhooks.default_url == "http://127.0.0.1:9/hook"


def test_a_restored_snapshot_brings_its_events_back_without_reissuing_ids() -> None:
    world = _world()
    saved = world.snapshot()
    _, _, first = _target(world)
    world.end_call(first, NO_ANSWER)
    world.restore(saved)
    assert world.webhook_events() == []
    _, _, second = _target(world)
    world.end_call(second, NO_ANSWER)
    assert [e.id for e in world.webhook_events()] == [2]


def test_each_transactions_change_folds_into_what_the_world_holds() -> None:
    world = _world()
    whole = json.loads(json.dumps(world.changes()))
    changes: list[dict[str, object]] = []
    world.listeners.append(lambda w: changes.append(json.loads(json.dumps(w.change().document))))
    campaign, target_id, first = _target(world)
    world.set_webhook(campaign, {"url": "http://127.0.0.1:9/own", "max_attempts": 2})
    world.end_call(first, NO_ANSWER)
    world.record_send(1, 0, Send("2026-01-15T15:00:00.000+00:00", None, False, 500, "answered 500"))
    world.rerun_failed(campaign, "2026-01-01T00:00:00Z", "2026-02-01T00:00:00Z")
    _fail_until_spent(world, target_id)
    world.clear_webhook(campaign)
    for change in changes:
        whole = fold(whole, change)
    assert whole == json.loads(json.dumps(world.changes()))
    assert [e["state"] for e in whole["webhooks"]["events"].values()] == ["pending", "pending"]


def test_a_launch_outside_the_targets_hours_is_placed_at_the_next_opening() -> None:
    world = _world()
    campaign = world.campaigns()[0].id
    hours = {**WEEKDAYS_9_TO_5, "tz": "America/New_York"}
    assert isinstance(world.clock, VirtualClock)
    world.clock.set("2026-01-17T15:00:00+00:00")  # a Saturday
    added = world.add_targets(
        campaign,
        [{"phone_number": {"value": "+15550001111", "operating_hours": hours}}],
        launch=True,
    )
    target_id = added.added[0].id
    assert added.launched == ()
    view = world.target(target_id)
    assert view is not None and (view.status, view.call_log_ids) == ("Scheduled", [])
    assert view.scheduled_time == "2026-01-19T14:00:00.000+00:00"  # Monday 09:00 in New York
    again = world.launch(campaign, target_ids=[target_id])
    assert again.calls == () and again.scheduled == ((target_id, view.scheduled_time),)
    world.clock.set("2026-01-19T14:00:00+00:00")
    world.catch_up()
    view = world.target(target_id)
    assert view is not None and view.status == "In Progress" and len(view.call_log_ids) == 1
    world.end_call(view.call_log_ids[0])
    [event] = world.webhook_events(target_id=target_id)
    assert event.attempt == 1


def test_a_launch_inside_the_hours_or_without_any_calls_at_once() -> None:
    world = _world()
    campaign = world.campaigns()[0].id
    hours = {**WEEKDAYS_9_TO_5, "tz": "America/New_York"}  # Thursday 10:00 there: open
    placed = world.launch(
        campaign,
        target_ids=[
            world.add_targets(campaign, [{"phone_number": phone}]).added[0].id
            for phone in ({"value": "+15550001111", "operating_hours": hours}, "+15550002222")
        ],
    )
    assert len(placed.calls) == 2 and placed.scheduled == ()
