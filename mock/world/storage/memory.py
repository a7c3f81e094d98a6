"""The in-memory store: the overlay lives in the world's own tables, and a transaction's
``Change`` is read off its savepoint.

A transaction begins at a savepoint (``state.Savepoint``) holding shallow copies of the
overlay's entries (rows are replaced, never changed in place), so what a transaction changed is
every entry that is no longer the very object the savepoint holds: a comparison of references,
with no row encoded, however many rows the overlay has.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from itertools import islice
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from prosper_mock.world.records import to_dict
from prosper_mock.world.storage.base import Change
from prosper_mock.world.storage.webhookchanges import webhook_change_since
from prosper_mock.world.targets import target_to_dict

if TYPE_CHECKING:
    from prosper_mock.world.dialer import Dialer
    from prosper_mock.world.records import CallLog, LiveCall
    from prosper_mock.world.state import Savepoint
    from prosper_mock.world.store import Store
    from prosper_mock.world.targets import TargetTable
    from prosper_mock.world.webhooks import WebhookTable

K = TypeVar("K")
V = TypeVar("V")
_ABSENT = object()


def touched(
    now: dict[K, V | None], then: Mapping[K, V | None], keys: Iterable[K]
) -> dict[K, V | None]:
    """The entries among ``keys`` (those written) that are not those of ``then``: as ``now``
    holds them (``None``: deleted, or gone from ``now``, which the caller tells apart, as
    ``Change`` does with ``dropped``). Entries new since ``then`` come last, in ``now``'s
    order (the order targets were added in): O(keys), not O(now)."""
    found: dict[K, V | None] = {}
    new = []
    for key in keys:
        value = now.get(key, _ABSENT)
        if key not in then:
            if value is not _ABSENT:
                new.append(key)
        elif value is not then[key]:
            found[key] = None if value is _ABSENT else value  # type: ignore[assignment]
    # What was added since ``then`` follows everything it held, in ``now``'s order.
    tail = list(islice(reversed(now), len(new)))[::-1]
    if set(tail) != set(new):
        tail = [key for key in now if key in set(new)]
    for key in tail:
        found[key] = now[key]
    return found


class Overlay(Protocol):
    """What ``change_since`` reads of a world (``World`` is one)."""

    live_calls: Store[LiveCall]
    call_logs: Store[CallLog]
    targets: TargetTable
    dialer: Dialer
    last_id: int
    webhooks: WebhookTable

    def changes(self) -> dict[str, Any]: ...


def change_since(world: Overlay, saved: Savepoint, whole: bool) -> Change:
    """What ``world`` changed since ``saved``, as a ``Change`` (``whole``: it replaced its
    overlay, a reset, a load or a restore)."""
    if whole:
        return Change(world.changes(), whole=True)
    document: dict[str, Any] = {}
    live, logs = world.live_calls, world.call_logs
    calls: tuple[tuple[str, dict[int, Any], dict[int, Any]], ...] = (
        ("live_calls", touched(live.changed, saved.live_rows.rows, live.touched), live.changed),
        ("call_logs", touched(logs.changed, saved.log_rows.rows, logs.touched), logs.changed),
    )
    dropped: dict[str, list[Any]] = {}
    for name, found, changed in calls:
        gone_rows = sorted(i for i in found if i not in changed)
        if gone_rows:
            dropped[name] = gone_rows
        if len(gone_rows) < len(found):
            document[name] = {
                str(i): None if row is None else to_dict(row)
                for i, row in sorted(found.items())
                if i in changed
            }
    if world.last_id != saved.last_id:
        document["last_id"] = world.last_id
    targets, (target_rows, gone, added) = world.targets, saved.target_rows
    found_targets = touched(targets.changed, target_rows, targets.touched)
    gone_targets = [key for key in found_targets if key not in targets.changed]
    if gone_targets:
        dropped["targets"] = gone_targets
    if len(gone_targets) < len(found_targets):
        document["targets"] = {
            key: None if row is None else target_to_dict(row)
            for key, row in found_targets.items()
            if key in targets.changed
        }
    if targets.added != added:
        document["targets_added"] = targets.added
    new_gone = {k: v for k, v in targets.gone.items() if gone.get(k) != v}
    if new_gone:
        document["targets_gone"] = new_gone
    if dropped:
        document["dropped"] = dropped
    dialed = world.dialer.saved()
    if dialed != saved.dialer.saved():
        document["dialer"] = dialed
    if world.webhooks is saved.webhooks:
        document.update(webhook_change_since(world.webhooks, saved.webhook_rows))
    return Change(document)
