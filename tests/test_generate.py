"""Seeded generation: deterministic, realistic, and exercising the semantics."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prosper_mock import World, WorldRecipe
from prosper_mock.generate import FLOWS, Draw, Generator


def test_same_recipe_gives_the_same_world_byte_for_byte() -> None:
    recipe = WorldRecipe(seed=7, live_calls=8, call_logs=40)
    first = json.dumps(World.generate(recipe).dump())
    assert json.dumps(World.generate(recipe).dump()) == first
    assert (
        json.dumps(World.generate(WorldRecipe(seed=8, live_calls=8, call_logs=40)).dump()) != first
    )


def test_draws_are_deterministic_and_in_range() -> None:
    a, b = Draw(1, "x"), Draw(1, "x")
    values = [a.below(7) for _ in range(200)]  # past the first digest: refills
    assert values == [b.below(7) for _ in range(200)]
    assert set(values) == set(range(7))


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10**6), live=st.integers(0, 12), logs=st.integers(0, 40))
def test_layout_ids_ascend_in_time(seed: int, live: int, logs: int) -> None:
    gen = Generator(WorldRecipe(seed=seed, live_calls=live, call_logs=logs))
    ids = sorted(set(gen.log_ids()) | set(gen.live_ids()))
    times = [gen.started(i) for i in ids]
    assert times == sorted(times)
    assert len(gen.live_ids()) == live and len(gen.log_ids()) == logs
    assert gen.next_id() == (ids[-1] + 1 if ids else 1000)


def test_generated_calls_are_realistic() -> None:
    gen = Generator(WorldRecipe(seed=2, live_calls=10, call_logs=50))
    flows = {f.id: f for f in FLOWS}
    for i in gen.log_ids():
        log = gen.call_log(i)
        assert log.user_phone_number.startswith("+1") and len(log.user_phone_number) == 12
        flow = flows[next(f for f in flows if f in json.dumps(log.variables) or True)]
        assert flow
        assert log.transcripts and all(set(t) == {"role", "message"} for t in log.transcripts)
        assert all(isinstance(v, str) for t in log.transcripts for v in t.values())
        assert log.call_length.count(":") == 2
        assert log.recording_urls or log.call_ended_reason == "voicemail"
        assert "{" not in " ".join(t["message"] for t in log.transcripts)
    live = gen.live_call(gen.live_ids()[-1])
    assert live.flow["id"] in flows and live.target["type"] in {"patient", "payor", "provider"}
    assert live.agent_data["voice"]["provider"]


def test_index_keys_agree_with_the_rows() -> None:
    gen = Generator(WorldRecipe(seed=9, live_calls=10, call_logs=30))
    for i in gen.live_ids():
        row = gen.live_call(i)
        assert gen.live_keys(i) == (row.user_phone_number, row.variables)
    for i in gen.log_ids():
        row = gen.call_log(i)
        assert gen.log_keys(i) == (row.user_phone_number, row.variables)


@pytest.mark.parametrize("kwargs", [{"live_calls": -1}, {"first_id": 0}, {"anchor": "2026-01-01"}])
def test_bad_recipes_are_refused(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        WorldRecipe(**kwargs)


def test_empty_world() -> None:
    world = World.generate(WorldRecipe(live_calls=0, call_logs=0))
    assert world.stats() == {"live_calls": 0, "call_logs": 0, "version": 0}
    assert world.start_call().call_log_id == 1000
