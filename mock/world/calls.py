"""The world's calls: started, mapped, ended and deleted by hand, call logs added.

``Calls``, a service of ``World`` over its state (``WorldState``). Every write checks what it
was given before it changes anything, and is one transaction (``WorldState.batch``). A call
of a known target joins that target's calls; an attempt's end is the webhooks' to record
(``Hooks.call_ended``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from prosper_mock.base.timefmt import iso_milliseconds
from prosper_mock.world.errors import CallConflict, InvalidChange, UnknownCall
from prosper_mock.world.hooking import Hooks
from prosper_mock.world.records import (
    CallLog,
    LiveCall,
    call_id_problem,
    call_log_from_dict,
    live_call_from_dict,
    timestamp,
    to_dict,
)
from prosper_mock.world.state import WorldState
from prosper_mock.world.store import Store
from prosper_mock.world.targets import Target
from prosper_mock.world.worldfile import field_sources, given_fields, validated


class Calls:
    """Live calls and call logs changed by hand (the control API, the simulation, the dialer)."""

    def __init__(self, state: WorldState, hooks: Hooks) -> None:
        self.state = state
        self.hooks = hooks

    def start_call(
        self, fields: Mapping[str, Any] | None = None, at: float | None = None
    ) -> LiveCall:
        """Start a live call: given fields win, the rest is generated from the seed.

        ``at`` is when it starts (default: the clock's now).
        """
        fields = given_fields(fields)
        with self.state.batch():
            call_log_id = fields.get("call_log_id")
            if call_log_id is None:
                call_log_id = self.state.next_id()
            elif (problem := call_id_problem(call_log_id)) is not None:
                raise InvalidChange(f"call_log_id {problem}")
            if call_log_id in self.state.live_calls:
                raise CallConflict(f"call {call_log_id} is already live")
            generated = self.state.generator.live_call(
                call_log_id, self._when(at), steps=0, **field_sources(fields, "outbound")
            )
            call = validated(
                live_call_from_dict, {**to_dict(generated), **fields, "call_log_id": call_log_id}
            )
            self.state.live_calls.put(call)
            self.state.last_id = max(self.state.last_id, call_log_id)
            self.link_call(call_log_id, call.campaign_target_id)
            self.state.changed()
            return call

    def map_variables(
        self,
        call_log_id: int,
        variables: Mapping[str, Any],
        at: float | None = None,
        progress: Mapping[str, Any] | None = None,
    ) -> LiveCall:
        """Map (set or change) variables on a live call, as its flow does while it runs.

        ``progress``: other fields of the row that move with the step (the
        simulation passes ``flow``, ``transcript`` and ``status``).
        """
        if not isinstance(variables, Mapping):
            raise InvalidChange("variables must be an object")
        if progress is not None and not isinstance(progress, Mapping):
            raise InvalidChange("progress must be an object")
        with self.state.batch():
            call = self.state.live_calls.get(call_log_id)
            if call is None:
                raise UnknownCall(f"no live call {call_log_id}")
            updated = validated(
                live_call_from_dict,
                {
                    **to_dict(call),
                    **(progress or {}),
                    "variables": {**call.variables, **variables},
                    "updated_at": iso_milliseconds(self._when(at)),
                },
            )
            self.state.live_calls.put(updated)
            self.state.changed()
            return updated

    def end_call(
        self,
        call_log_id: int,
        fields: Mapping[str, Any] | None = None,
        keep_live: bool = False,
        at: float | None = None,
    ) -> CallLog:
        """End a live call: it leaves ``live_calls`` and its log enters ``call_logs``.

        The log is derived from the live row (length from its start to now,
        ended reason, categorisation, transcripts, post-call data); ``fields``
        override any of it. ``keep_live`` leaves the live row in place, as
        upstream does for a moment after a call ends.
        """
        fields = given_fields(fields)
        with self.state.batch():
            call = self.state.live_calls.get(call_log_id)
            if call is None:
                raise UnknownCall(f"no live call {call_log_id}")
            # Given fields the log derives others from (the phone, the variables) go in first.
            source = dataclasses.replace(call, **field_sources(fields, call.direction, live=True))
            finished = self.state.generator.finish(source, self._when(at))
            log = validated(call_log_from_dict, {**to_dict(finished), **fields, "id": call_log_id})
            self.state.call_logs.put(log)
            if not keep_live:
                self.state.live_calls.delete(call_log_id)
            self.call_moved(call, self._when(at))
            self.hooks.call_ended(log, self._when(at))
            self.state.changed()
            return log

    def add_call_log(self, fields: Mapping[str, Any] | None = None) -> CallLog:
        """Add a finished call: given fields win, the rest is generated from the seed."""
        fields = given_fields(fields)
        with self.state.batch():
            call_log_id = fields.get("id", fields.pop("call_log_id", None))
            if call_log_id is None:
                call_log_id = self.state.next_id()
            elif (problem := call_id_problem(call_log_id)) is not None:
                raise InvalidChange(f"id {problem}")
            if call_log_id in self.state.call_logs:
                raise CallConflict(f"call log {call_log_id} already exists")
            now = self.state.clock.now()
            generated = self.state.generator.call_log(
                call_log_id, now - 60 - call_log_id % 600, now, **field_sources(fields, "outbound")
            )
            log = validated(call_log_from_dict, {**to_dict(generated), **fields, "id": call_log_id})
            self.state.call_logs.put(log)
            self.state.last_id = max(self.state.last_id, call_log_id)
            self.link_call(call_log_id, log.campaign_target_id)
            self.state.changed()
            return log

    def delete_call_log(self, call_log_id: int) -> None:
        """Delete a call log; ``UnknownCall`` when there is none with this id."""
        self._delete(self.state.call_logs, call_log_id, "call log")

    def delete_live_call(self, call_log_id: int) -> None:
        """Delete a live call (no log is made); ``UnknownCall`` when none is live."""
        self._delete(self.state.live_calls, call_log_id, "live call")

    # --- internals ----------------------------------------------------------------

    def _delete(self, table: Store[LiveCall] | Store[CallLog], call_log_id: int, kind: str) -> None:
        with self.state.batch():
            row = table.get(call_log_id)
            if not table.delete(call_log_id):
                raise UnknownCall(f"no {kind} {call_log_id}")
            self.call_moved(row, self.state.clock.now())
            self.state.changed()

    def _when(self, at: float | None) -> float:
        """``at`` (the clock's now when ``None``), refused unless it is a time a row can hold."""
        if at is None:
            return self.state.clock.now()
        try:
            if isinstance(at, bool) or not isinstance(at, int | float):
                raise TypeError(f"not a number: {at!r}")
            iso_milliseconds(at)
        except (TypeError, ValueError, OverflowError, OSError) as exc:
            raise InvalidChange(f"at: not a time ({exc})") from None
        return float(at)

    def link_call(self, call_log_id: int, target_id: str | None) -> None:
        """A call started or added by hand for a known target joins that target's calls, so
        the links agree both ways (an unknown target id stays on the call, linking nothing)."""
        target = self.state.targets.get(target_id) if target_id is not None else None
        if target is not None and call_log_id not in target.call_log_ids:
            moved = _updated(target, self.state.clock.now())
            self.state.targets.put(
                dataclasses.replace(moved, call_log_ids=(*target.call_log_ids, call_log_id))
            )

    def call_moved(self, row: LiveCall | CallLog | None, at: float) -> None:
        """A target's call ended or was deleted: what the target reads as (its status, its
        calls, its retries) moved at ``at``, so its ``updated_at`` does."""
        target_id = None if row is None else row.campaign_target_id
        target = self.state.targets.get(target_id) if target_id is not None else None
        if row is not None and target is not None and row.call_log_id in target.call_log_ids:
            self.state.targets.put(_updated(target, at))


def _updated(target: Target, at: float) -> Target:
    """``target`` with ``updated_at`` moved to ``at`` (never back: a later change stands)."""
    stamp = iso_milliseconds(at)
    if timestamp(stamp) <= timestamp(target.updated_at):
        return target
    return dataclasses.replace(target, updated_at=stamp)
