"""The world-file format: a world's document, its parsing, and a changes document."""

from __future__ import annotations

import pytest

from prosper_mock import World, WorldError, WorldRecipe
from prosper_mock.world.worldfile import (
    WORLD_FORMAT,
    field_sources,
    given_fields,
    parse_changes,
    parse_recipe,
    parse_world,
    world_document,
)


def test_a_world_document_parses_back_to_its_rows_and_recipe() -> None:
    world = World.generate(WorldRecipe(seed=3, live_calls=4, call_logs=6))
    document = world_document({"seed": 3}, world.live_calls, world.call_logs)
    # A dump adds the campaigns and targets sections (world.targetfile) to the rows.
    dump = world.dump()
    assert set(dump) - set(document) == {"campaigns", "targets"}
    assert document == {k: v for k, v in {**dump, "recipe": {"seed": 3}}.items() if k in document}
    live, logs, recipe = parse_world(document)
    assert [r.call_log_id for r in live] == [r.call_log_id for r in world.live_calls]
    assert [r.call_log_id for r in logs] == [r.call_log_id for r in world.call_logs]
    assert recipe == WorldRecipe(seed=3) and document["format"] == WORLD_FORMAT


def test_changes_are_checked_whole_and_name_where_they_fail() -> None:
    world = World.generate(WorldRecipe(seed=3, live_calls=4, call_logs=6))
    call = world.start_call()
    world.delete_call_log(1000)
    planned, last_id = parse_changes(world.changes())
    assert last_id == call.call_log_id
    assert ("live_calls", call.call_log_id, call) in planned
    assert ("call_logs", 1000, None) in planned
    with pytest.raises(WorldError, match=r"live_calls\[x\]: the key must be an id"):
        parse_changes({"live_calls": {"x": None}})
    with pytest.raises(WorldError, match="last_id must be an id"):
        parse_changes({"last_id": True})


def test_a_recipe_takes_only_its_own_keys_of_their_types() -> None:
    assert parse_recipe({"seed": 5, "anchor": "2026-01-01T00:00:00+00:00"}).seed == 5
    with pytest.raises(WorldError, match="unknown key 'size'"):
        parse_recipe({"size": 1})
    with pytest.raises(WorldError, match="seed must be int"):
        parse_recipe({"seed": "5"})


def test_a_change_passes_on_only_the_usable_fields_others_derive_from() -> None:
    assert given_fields(None) == {} and given_fields({"a": 1}) == {"a": 1}
    with pytest.raises(WorldError, match="fields must be an object"):
        given_fields(["a"])  # type: ignore[arg-type]
    fields = {"to": "+1555", "from_": "+1666", "variables": {"y": 1}}
    assert field_sources(fields, "outbound") == {"phone": "+1555", "variables": {"y": 1}}
    assert field_sources(fields, "inbound", live=True) == {
        "user_phone_number": "+1666",
        "variables": {"y": 1},
    }
    assert field_sources({"user_phone_number": 5, "variables": {"y": float("nan")}}, "x") == {}
