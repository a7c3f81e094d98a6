"""What a target reads as: its ``updated_at`` follows every change its calls make to it."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from prosper_mock import VirtualClock, World, WorldRecipe
from prosper_mock.world.records import timestamp
from prosper_mock.world.targets import TargetView

START = "2026-01-15T15:00:00+00:00"
# Each operation a test can do to one target, or to the calls placed for it.
OPERATIONS = (
    "launch",
    "wait",  # the clock moves: its launched call maps steps, then ends
    "end",
    "end_keep_live",
    "delete_live",
    "delete_log",
    "start",
    "add_log",
    "webhook",
    "edit",
)


def _world() -> World:
    return World.generate(
        WorldRecipe(seed=3, live_calls=4, call_logs=20, pending_targets=4),
        clock=VirtualClock(START),
    )


def _do(world: World, campaign: str, target_id: str, operation: str, seconds: int) -> None:
    view = world.target(target_id)
    assert view is not None
    live = [i for i in view.call_log_ids or () if i in world.live_calls]
    logs = [i for i in view.call_log_ids or () if i in world.call_logs]
    if operation == "launch":
        world.launch(campaign, target_ids=[target_id])
    elif operation == "wait":
        world.clock.advance(seconds)  # type: ignore[attr-defined]
    elif operation in ("end", "end_keep_live") and live:
        world.end_call(live[-1], keep_live=operation == "end_keep_live")
    elif operation == "delete_live" and live:
        world.delete_live_call(live[-1])
    elif operation == "delete_log" and logs:
        world.delete_call_log(logs[-1])
    elif operation == "start":
        world.start_call({"campaign_target_id": target_id})
    elif operation == "add_log":
        world.add_call_log({"campaign_target_id": target_id})
    elif operation == "webhook":
        world.webhook_step(campaign, target_id, "step", {"n": seconds})
    elif operation == "edit":
        world.update_target_input(target_id, {"n": seconds}, only_if_not_started=False)


def _what_moves(view: TargetView) -> tuple[object, ...]:
    return view.status, view.call_log_ids, view.retries


@settings(max_examples=60)
@given(
    seeded=st.booleans(),
    steps=st.lists(
        st.tuples(st.sampled_from(OPERATIONS), st.integers(1, 400)), min_size=1, max_size=14
    ),
)
def test_updated_at_moves_whenever_status_calls_or_retries_change(
    seeded: bool, steps: list[tuple[str, int]]
) -> None:
    world = _world()
    campaign = next(c.id for c in world.campaigns() if c.kind == "patient")
    if seeded:
        target_id = world.targets_page(campaign, 0, 1).items[0].id
    else:
        target_id = world.add_targets(campaign, [{"phone_number": "+15550100"}]).added[0].id
    before = world.target(target_id)
    assert before is not None
    for operation, seconds in steps:
        world.clock.advance(0.5)  # type: ignore[attr-defined]  # each change at a later time
        _do(world, campaign, target_id, operation, seconds)
        after = world.target(target_id)
        assert after is not None and after.updated_at and before.updated_at
        moved, was = timestamp(after.updated_at), timestamp(before.updated_at)
        assert moved >= was, (operation, before.updated_at, after.updated_at)
        if _what_moves(after) != _what_moves(before):
            assert moved > was, (operation, _what_moves(before), _what_moves(after))
        before = after


def test_a_launched_calls_end_moves_the_targets_updated_at_to_the_end() -> None:
    world = _world()
    campaign = next(c.id for c in world.campaigns() if c.kind == "patient")
    target = world.add_targets(campaign, [{"phone_number": "+1"}], launch=True).added[0]
    world.clock.advance(900)  # type: ignore[attr-defined]
    view = world.target(target.id)
    assert view is not None and view.status != "In Progress"
    [call_id] = view.call_log_ids or []
    log = world.call_logs.get(call_id)
    assert log is not None and view.updated_at is not None
    hours, minutes, seconds = map(int, log.call_length.split(":"))
    ended = timestamp(log.created_at) + hours * 3600 + minutes * 60 + seconds
    assert abs(timestamp(view.updated_at) - ended) < 1
