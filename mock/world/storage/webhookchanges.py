"""The webhooks' part of a world's changes (``World.changes()``, a ``Change``, the state file).

Under ``webhooks``: ``settings`` (campaign id -> its setting), ``events`` (event id -> the
event), ``retries`` (target id -> when its next attempt is due) and ``last_event`` (the largest
event id issued). In ``World.changes()`` every entry is there; in a ``Change`` only those a
transaction wrote, ``None`` for one it removed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from prosper_mock.world.errors import InvalidChange
from prosper_mock.world.webhooks import (
    HookSetting,
    WebhookEvent,
    WebhookSavepoint,
    WebhookTable,
    event_from_dict,
    setting_from_dict,
)

NAME = "webhooks"
_PARTS = ("settings", "events", "retries", "last_event")


def webhook_changes(table: WebhookTable) -> dict[str, Any]:
    """The webhooks' part of ``World.changes()``: none when the table holds nothing."""
    if not table:
        return {}
    return {
        NAME: {
            "settings": {k: v.to_dict() for k, v in table.settings.items()},
            "events": {str(k): v.to_dict() for k, v in table.events.items()},
            "retries": dict(table.retries),
            "last_event": table.last_event,
        }
    }


def webhook_change_since(table: WebhookTable, saved: WebhookSavepoint) -> dict[str, Any]:
    """The webhooks' part of a ``Change``: the entries written since ``saved`` that differ."""
    settings, events, retries, last = saved
    found: dict[str, Any] = {}
    parts: tuple[tuple[str, dict[Any, Any], Mapping[Any, Any]], ...] = (
        ("settings", table.settings, settings),
        ("events", table.events, events),
        ("retries", table.retries, retries),
    )
    for name, now, then in parts:
        written: dict[str, Any] = {}
        for key in sorted(table.touched[name], key=str):
            value = now.get(key)
            if value is not then.get(key):
                if isinstance(value, HookSetting | WebhookEvent):
                    written[str(key)] = value.to_dict()
                else:
                    written[str(key)] = value
        if written:
            found[name] = written
    if table.last_event != last:
        found["last_event"] = table.last_event
    return {NAME: found} if found else {}


@dataclass(frozen=True)
class WebhookChanges:
    """The webhooks' part of a changes document, checked before anything is applied."""

    settings: dict[str, HookSetting | None]
    events: dict[int, WebhookEvent | None]
    retries: dict[str, float | None]
    last_event: int | None

    def apply_to(self, table: WebhookTable) -> None:
        for campaign_id, setting in self.settings.items():
            table.set_setting(campaign_id, setting)
        for event_id, event in self.events.items():
            if event is None:
                table.drop_event(event_id)
            else:
                table.put_event(event)
        for target_id, at in self.retries.items():
            table.schedule(target_id, at)
        if self.last_event is not None:
            table.last_event = max(table.last_event, self.last_event)


def parse_webhook_changes(changes: Any) -> WebhookChanges:
    """``changes[NAME]`` checked; raises ``InvalidChange`` naming the bad entry."""
    raw = changes.get(NAME, {}) if isinstance(changes, Mapping) else {}
    if not isinstance(raw, Mapping) or not set(raw) <= set(_PARTS):
        raise InvalidChange(f"bad changes: {NAME} must map {', '.join(_PARTS)}")
    for part in _PARTS[:3]:
        if not isinstance(raw.get(part, {}), Mapping):
            raise InvalidChange(f"bad changes: {NAME}.{part} must be an object")
    settings = {
        str(k): None if v is None else setting_from_dict(v, f"{NAME}.settings[{k}]")
        for k, v in raw.get("settings", {}).items()
    }
    events: dict[int, WebhookEvent | None] = {}
    for key, value in raw.get("events", {}).items():
        where = f"{NAME}.events[{key}]"
        if not isinstance(key, str) or not key.isdecimal():
            raise InvalidChange(f"{where}: an event id")
        event = None if value is None else event_from_dict(value, where)
        if event is not None and event.id != int(key):
            raise InvalidChange(f"{where}: the event's id is {event.id}")
        events[int(key)] = event
    retries: dict[str, float | None] = {}
    for key, at in raw.get("retries", {}).items():
        ok = at is None or (
            isinstance(at, int | float) and not isinstance(at, bool) and math.isfinite(at)
        )
        if not ok:
            raise InvalidChange(f"{NAME}.retries[{key}]: a time in seconds")
        retries[str(key)] = None if at is None else float(at)
    last = raw.get("last_event")
    if last is not None and (isinstance(last, bool) or not isinstance(last, int) or last < 0):
        raise InvalidChange(f"bad changes: {NAME}.last_event must be a count")
    return WebhookChanges(settings, events, retries, last)


def fold_webhooks(whole: Mapping[str, Any] | None, change: Mapping[str, Any]) -> dict[str, Any]:
    """The webhooks' part of ``World.changes()`` (``whole``) with a ``Change``'s applied."""
    folded: dict[str, Any] = {part: dict((whole or {}).get(part, {})) for part in _PARTS[:3]}
    folded["last_event"] = (whole or {}).get("last_event", 0)
    for part in _PARTS[:3]:
        for key, value in change.get(part, {}).items():
            if value is None:
                folded[part].pop(key, None)
            else:
                folded[part][key] = value
    if "last_event" in change:
        folded["last_event"] = change["last_event"]
    return folded
