"""The clockwork: launched calls placed, played as the clock moves, deferred to their hours."""

from __future__ import annotations

from prosper_mock import VirtualClock, World, WorldRecipe
from prosper_mock.world.calls import Calls
from prosper_mock.world.dialing import Dialing
from prosper_mock.world.hooking import Hooks
from prosper_mock.world.views import Views

START = "2026-01-15T15:00:00+00:00"  # a Thursday
WEEKDAYS_9_TO_5 = {
    day: [{"start": "09:00", "end": "17:00"}]
    for day in ("monday", "tuesday", "wednesday", "thursday", "friday")
}


def _dialing(world: World) -> Dialing:
    """A ``Dialing`` composed over the world's state, as ``World`` composes its own."""
    views = Views(world.state)
    return Dialing(world.state, views, Calls(world.state, Hooks(world.state, views)))


def _world() -> World:
    return World.generate(WorldRecipe(seed=6, live_calls=2, call_logs=6), VirtualClock(START))


def test_a_placed_call_plays_its_steps_and_ends_as_the_clock_moves() -> None:
    world = _world()
    dialing = _dialing(world)
    campaign = world.campaigns()[0]
    target = world.add_targets(campaign.id, [{"phone_number": "+15550001111"}]).added[0]
    row = world.targets.get(target.id)
    assert row is not None
    with world.batch():
        [(target_id, call_log_id)] = dialing.place_calls(campaign, [row], world.clock.now())
    assert target_id == target.id and call_log_id in world.live_calls
    assert dialing.catch_up() == 0  # nothing is due yet
    assert isinstance(world.clock, VirtualClock)
    world.clock.advance(3600)
    assert dialing.catch_up() > 0
    assert call_log_id not in world.live_calls and call_log_id in world.call_logs


def test_a_call_outside_the_targets_hours_is_deferred_to_their_opening() -> None:
    world = _world()
    assert isinstance(world.clock, VirtualClock)
    world.clock.set("2026-01-17T15:00:00+00:00")  # a Saturday
    campaign = world.campaigns()[0]
    hours = {**WEEKDAYS_9_TO_5, "tz": "America/New_York"}
    phone = {"value": "+15550001111", "operating_hours": hours}
    target = world.add_targets(campaign.id, [{"phone_number": phone}]).added[0]
    row = world.targets.get(target.id)
    assert row is not None
    deferred: list[tuple[str, str]] = []
    with world.batch():
        placed = _dialing(world).place_calls(campaign, [row], world.clock.now(), deferred)
    assert placed == []
    assert deferred == [(target.id, "2026-01-19T14:00:00.000+00:00")]  # Monday 09:00 there
    view = world.target(target.id)
    assert view is not None and view.status == "Scheduled"


def test_an_event_of_a_call_ended_by_hand_leaves_the_dialer_as_a_change() -> None:
    """A shared store applies only what the listeners hear of: a due event that changes no
    row (its call was ended by hand) still leaves the dialer, and that is a change."""
    world = _world()
    campaign = world.campaigns()[0]
    launched = world.add_targets(campaign.id, [{"phone_number": "+15550001111"}], launch=True)
    [call_log_id] = launched.launched
    world.end_call(call_log_id)  # by hand: the dialer still holds the call's events
    assert len(world.dialer) == 1
    heard: list[dict[str, object]] = []
    world.listeners.append(lambda changed: heard.append(changed.change().document))
    assert isinstance(world.clock, VirtualClock)
    world.clock.advance(3600)
    world.catch_up()
    assert len(world.dialer) == 0
    assert heard and heard[-1].get("dialer") == []
