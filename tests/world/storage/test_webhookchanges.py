"""The webhooks' part of a world's changes: checked before anything is applied."""

from __future__ import annotations

import pytest

from prosper_mock import InvalidChange, World, WorldRecipe
from prosper_mock.world.storage.webhookchanges import fold_webhooks, parse_webhook_changes


@pytest.mark.parametrize(
    "raw",
    [
        [],
        {"unknown": {}},
        {"events": []},
        {"events": {"x": None}},
        {"events": {"2": {"id": 3, "payload": {}, "state": "pending"}}},
        {"retries": {"t": "soon"}},
        {"retries": {"t": float("nan")}},
        {"settings": {"c": {"url": "gopher://x"}}},
        {"last_event": -1},
        {"last_event": True},
    ],
)
def test_a_bad_webhooks_part_is_refused_and_changes_nothing(raw: object) -> None:
    with pytest.raises(InvalidChange, match="webhooks"):
        parse_webhook_changes({"webhooks": raw})
    world = World.generate(WorldRecipe(seed=6, live_calls=2, call_logs=2))
    with pytest.raises(InvalidChange):
        world.apply_changes({"webhooks": raw})
    assert not world.webhooks


def test_a_change_removing_entries_folds_to_their_absence() -> None:
    whole = {"settings": {"c": {"url": None}}, "events": {}, "retries": {"t": 1.0}, "last_event": 0}
    folded = fold_webhooks(whole, {"settings": {"c": None}, "retries": {"t": None, "u": 2.0}})
    assert folded == {"settings": {}, "events": {}, "retries": {"u": 2.0}, "last_event": 0}
