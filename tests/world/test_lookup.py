"""The lookup rules of docs/semantics.md, one by one."""

from __future__ import annotations

from datetime import datetime

import pytest

from prosper_mock import CallLog, LiveCall, World, WorldRecipe, text_form
from prosper_mock.world.lookup import Found, LiveCallQuery, NotFound, NothingToLookUp, find_call


@pytest.fixture
def world() -> World:
    w = World.from_dict({"live_calls": [], "call_logs": []})
    w.clock = _Clock()
    return w


class _Clock:
    def __init__(self) -> None:
        self.t = 1_768_000_000.0

    def now(self) -> float:
        self.t += 10
        return self.t


def q(**kw) -> LiveCallQuery:
    return LiveCallQuery(**kw)


def test_precedence_call_log_id_then_phone_then_variable(world: World) -> None:
    a = world.start_call({"user_phone_number": "+1111", "variables": {"k": "v"}})
    b = world.start_call({"user_phone_number": "+2222", "variables": {"k": "w"}})
    c = world.start_call({"user_phone_number": "+3333", "variables": {"k": "v2"}})
    both = find_call(
        world, q(call_log_id=a.call_log_id, user_phone_number="+2222", key="k", value="v2")
    )
    assert both.row.call_log_id == a.call_log_id
    phone_over_var = find_call(world, q(user_phone_number="+2222", key="k", value="v2"))
    assert phone_over_var.row.call_log_id == b.call_log_id
    assert find_call(world, q(key="k", value="v2")).row.call_log_id == c.call_log_id


def test_first_given_lookup_is_the_only_one_used(world: World) -> None:
    world.start_call({"user_phone_number": "+1111"})
    # call_log_id wins even when it finds nothing: no fall-through to the phone.
    assert find_call(world, q(call_log_id=999_999, user_phone_number="+1111")) == NotFound()


def test_live_calls_first_then_call_logs(world: World) -> None:
    call = world.start_call({"user_phone_number": "+1111"})
    found = find_call(world, q(call_log_id=call.call_log_id))
    assert isinstance(found, Found) and found.source == "live_calls"
    world.end_call(call.call_log_id)
    found = find_call(world, q(call_log_id=call.call_log_id))
    assert found.source == "call_logs"


def test_a_call_in_both_stores_is_answered_from_live_calls(world: World) -> None:
    call = world.start_call({"user_phone_number": "+1111"})
    world.end_call(call.call_log_id, keep_live=True)
    assert find_call(world, q(call_log_id=call.call_log_id)).source == "live_calls"


def test_live_store_wins_over_a_more_recent_call_log(world: World) -> None:
    live = world.start_call({"user_phone_number": "+1111"})
    world.add_call_log({"user_phone_number": "+1111"})  # newer, but historical
    found = find_call(world, q(user_phone_number="+1111"))
    assert (found.source, found.row.call_log_id) == ("live_calls", live.call_log_id)


def test_most_recent_call_wins_within_a_store(world: World) -> None:
    older = world.add_call_log({"user_phone_number": "+1111", "variables": {"payor_name": "Aetna"}})
    newer = world.add_call_log({"user_phone_number": "+1111", "variables": {"payor_name": "Aetna"}})
    assert find_call(world, q(user_phone_number="+1111")).row.call_log_id == newer.call_log_id
    assert find_call(world, q(key="payor_name", value="Aetna")).row.call_log_id == newer.call_log_id
    world.delete_call_log(newer.call_log_id)
    assert find_call(world, q(user_phone_number="+1111")).row.call_log_id == older.call_log_id


@pytest.mark.parametrize(
    ("value", "text", "matches"),
    [
        ("PAT-001", "PAT-001", True),
        (True, "true", True),
        (True, "True", False),
        (25.0, "25.0", True),
        (25.0, "25", False),
        (7, "7", True),
        (None, "null", False),
        (None, "", False),
        ("", "", True),
    ],
)
def test_variables_match_on_their_text_form(world: World, value, text: str, matches: bool) -> None:
    world.start_call({"variables": {"x": value}})
    assert isinstance(find_call(world, q(key="x", value=text)), Found) is matches


def test_not_found_in_either_store(world: World) -> None:
    assert find_call(world, q(user_phone_number="+0000")) == NotFound()
    assert find_call(world, q(key="nope", value="x")) == NotFound()


@pytest.mark.parametrize(
    ("query", "missing"),
    [
        (q(), "call_log_id"),
        (q(key="k"), "value"),
        (q(value="v"), "key"),
    ],
)
def test_nothing_to_look_up(world: World, query: LiveCallQuery, missing: str) -> None:
    outcome = find_call(world, query)
    assert isinstance(outcome, NothingToLookUp)
    assert outcome.missing == missing
    assert outcome.detail


def test_empty_strings_count_as_given(world: World) -> None:
    assert find_call(world, q(key="", value="")) == NotFound()
    assert find_call(world, q(user_phone_number="")) == NotFound()


def started(call: LiveCall | CallLog) -> tuple[datetime, int]:
    when = call.started_at if isinstance(call, LiveCall) else call.created_at
    return datetime.fromisoformat(when), call.call_log_id


def test_a_seeded_world_answers_every_rule() -> None:
    world = World.generate(WorldRecipe(seed=11, live_calls=20, call_logs=200))
    live, logs = list(world.live_calls), list(world.call_logs)
    shared_phone = sorted({c.user_phone_number for c in live} & {c.user_phone_number for c in logs})
    found = find_call(world, q(user_phone_number=shared_phone[0]))
    newest_live = max((c for c in live if c.user_phone_number == shared_phone[0]), key=started)
    assert (found.source, found.row) == ("live_calls", newest_live)
    in_both = min({c.call_log_id for c in live} & {c.call_log_id for c in logs})
    assert find_call(world, q(call_log_id=in_both)).source == "live_calls"
    # Every (key, text) of the call logs: the newest live match, else the newest logged one.
    pairs = {(k, text_form(v)) for c in logs for k, v in c.variables.items() if v is not None}
    for key, text in sorted(pairs)[::25]:
        found = find_call(world, q(key=key, value=text))
        for source, rows in (("live_calls", live), ("call_logs", logs)):
            matches = [c for c in rows if text_form(c.variables.get(key)) == text]
            if matches:
                assert (found.source, found.row) == (source, max(matches, key=started))
                break
