"""The world's campaign writes: add, delete, launch and edit targets, webhook steps, EHR events.

A part of ``World`` (its base class), like ``reading``. Every write checks all it was
given before it changes anything (a refusal changes nothing), and is one transaction
(``World.batch``: under the world's lock, all or nothing, one change for the listeners). A
launched call is a live call like any other; the dialer plays its life on the clock.
"""

from __future__ import annotations

import bisect
import contextlib
import dataclasses
import random
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from prosper_mock.base.timefmt import iso_milliseconds
from prosper_mock.world.campaigns import Campaign
from prosper_mock.world.clock import Clock
from prosper_mock.world.dialer import END, Dialer
from prosper_mock.world.errors import InvalidChange, TargetStarted, UnknownTarget, WorldError
from prosper_mock.world.externalids import holders
from prosper_mock.world.generate.random import Draw
from prosper_mock.world.generate.vocabulary import FLOWS
from prosper_mock.world.reading import Reading
from prosper_mock.world.records import CallLog, LiveCall, live_call_from_dict, timestamp, to_dict
from prosper_mock.world.targetinput import (
    TargetFields,
    call_variables,
    checked_target_id,
    json_object,
    parse_ids,
    parse_targets,
)
from prosper_mock.world.targets import STAGING_STATUSES, Target, TargetView
from prosper_mock.world.worldfile import validated

EHR_EVENTS = ("appointment_created", "appointment_cancelled", "patient_registered")


@dataclass(frozen=True)
class AddedTargets:
    """What ``add_targets`` did: the targets added, the external ids it ignored (already in
    the campaign), and the calls it launched (``launch=True``)."""

    added: tuple[TargetView, ...]
    ignored: tuple[str, ...]
    launched: tuple[int, ...]


@dataclass(frozen=True)
class Launched:
    """What ``launch`` did: ``(target id, call id)`` per call placed, the targets skipped (a
    call of theirs is live already), and ``(target id, when)`` per call left for its
    operating hours (``Hooking``)."""

    calls: tuple[tuple[str, int], ...]
    skipped: tuple[str, ...]
    scheduled: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class EhrOutcome:
    """What an EHR event did: the targets it added and the ids of those it removed."""

    event_type: str
    added: tuple[TargetView, ...]
    removed: tuple[str, ...]


class Targeting(Reading):
    """Campaign and target writes (mixed into ``World``)."""

    dialer: Dialer
    last_id: int

    if TYPE_CHECKING:  # World's, used here
        clock: Clock

        def _changed(self) -> None: ...
        def _next_id(self) -> int: ...
        def batch(self) -> contextlib.AbstractContextManager[None]: ...
        def end_call(
            self,
            call_log_id: int,
            fields: Mapping[str, Any] | None = None,
            keep_live: bool = False,
            at: float | None = None,
        ) -> CallLog: ...
        def map_variables(
            self,
            call_log_id: int,
            variables: Mapping[str, Any],
            at: float | None = None,
            progress: Mapping[str, Any] | None = None,
        ) -> LiveCall: ...

    # --- adding and removing ------------------------------------------------------

    def add_targets(
        self,
        campaign_id: str,
        targets: Sequence[Mapping[str, Any]],
        *,
        launch: bool = False,
        allow_duplicates: bool = True,
    ) -> AddedTargets:
        """Add ``TargetInput`` targets to a campaign, Pending; ``launch`` calls them at once.

        ``allow_duplicates`` (upstream's wording): a target whose external id the campaign
        holds already (or an earlier one of the same request) is ignored.
        """
        parsed = parse_targets(targets)
        with self.batch():
            self.catch_up()
            campaign = self._campaign(campaign_id)
            taken: set[str] = set()
            for i, fields in enumerate(parsed):
                if fields.id is not None:
                    if fields.id in taken:
                        raise InvalidChange(f"targets[{i}].id: {fields.id!r} is taken")
                    self._check_free(fields.id, f"targets[{i}].id")
                    taken.add(fields.id)
            now = self.clock.now()
            added: list[Target] = []
            ignored: list[str] = []
            seen: set[str] = set()
            for fields in parsed:
                external = fields.external_id
                if (
                    allow_duplicates
                    and external is not None
                    and (external in seen or self._holds_external_id(campaign.id, external))
                ):
                    ignored.append(external)
                    continue
                if external is not None:
                    seen.add(external)
                added.append(self._new_target(campaign, fields, now))
            for target in added:
                self.targets.put(target)
            launched: tuple[int, ...] = ()
            if launch and added:
                placed = self._place_calls(campaign, added, now)
                launched = tuple(call_id for _, call_id in placed)
            self._changed()
            return AddedTargets(
                tuple(self._view(self.targets.get(t.id) or t) for t in added),
                tuple(ignored),
                launched,
            )

    def delete_targets(
        self, campaign_id: str, target_ids: Sequence[str]
    ) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """Remove targets from a campaign: ``(deleted ids, ids it does not hold)``. Their calls
        stay (a call log outlives its target)."""
        ids = parse_ids(target_ids, "target_ids")
        with self.batch():
            self.catch_up()
            self._campaign(campaign_id)
            deleted: list[str] = []
            missing: list[str] = []
            for target_id in dict.fromkeys(ids):
                target = self.targets.get(target_id)
                if target is None or target.campaign_id != campaign_id:
                    missing.append(target_id)
                else:
                    deleted.append(target_id)
            for target_id in deleted:
                self.targets.delete(target_id)
            if deleted:
                self._changed()
            return tuple(deleted), tuple(missing)

    # --- calling ------------------------------------------------------------------

    def launch(
        self,
        campaign_id: str,
        *,
        target_ids: Sequence[str] | None = None,
        count: int | None = None,
        prioritize_oldest: bool = False,
    ) -> Launched:
        """Call targets of a campaign now: those named, or ``count`` Pending ones (a seeded
        draw, or the oldest first). A target with a live call is skipped; ``target_ids``
        wins when both are given. Raises ``UnknownTarget`` for an id the campaign lacks."""
        if target_ids is None and count is None:
            raise InvalidChange("give target_ids or count")
        ids = parse_ids(target_ids, "target_ids") if target_ids is not None else None
        if ids is None and (isinstance(count, bool) or not isinstance(count, int) or count < 0):
            raise InvalidChange(f"count must be an integer >= 0, got {count!r}")
        with self.batch():
            self.catch_up()
            campaign = self._campaign(campaign_id)
            chosen: list[Target] = []
            if ids is not None:
                for target_id in ids:
                    target = self.targets.get(target_id)
                    if target is None or target.campaign_id != campaign_id:
                        raise UnknownTarget(f"campaign {campaign_id} has no target {target_id!r}")
                    chosen.append(target)
            else:
                assert count is not None
                chosen = self._pending(campaign_id, count, prioritize_oldest)
            calls, skipped, seen = [], [], set()
            for target in chosen:
                if target.id in seen or self._live_call_of(target) is not None:
                    skipped.append(target.id)
                else:
                    calls.append(target)
                seen.add(target.id)
            placed = self._place_calls(campaign, calls, self.clock.now())
            if placed:
                self._changed()
            return Launched(tuple(placed), tuple(skipped))

    def catch_up(self, now: float | None = None) -> int:
        """Play the launched calls' events due by ``now`` (the clock's time): steps mapped, ends.

        Returns how many happened; one batch for the listeners.
        """
        with self.lock:
            at_most = self.clock.now() if now is None else now
            due = self.dialer.next_at()
            if due is None or due > at_most:  # the common case: nothing launched is due
                return 0
            done = 0
            with self.batch():
                while (event := self.dialer.pop_due(at_most)) is not None:
                    at, call_log_id, step = event
                    try:
                        if step == END:
                            if call_log_id in self.live_calls:
                                self.end_call(call_log_id, at=at)
                        else:
                            self._play_step(call_log_id, step, at)
                    except WorldError:  # changed by hand meanwhile: the call goes its own way
                        pass
                    done += 1
            return done

    # --- editing ------------------------------------------------------------------

    def update_target_input(
        self, target_id: str, input_data: Mapping[str, Any], *, only_if_not_started: bool = True
    ) -> TargetView:
        """Merge ``input_data`` into a target's; ``TargetStarted`` if ``only_if_not_started``
        and it was called already or has left Pending/Scheduled."""
        data = json_object(input_data, "input_data") or {}
        with self.batch():
            self.catch_up()
            target = self._target(target_id)
            if only_if_not_started:
                status = self._view(target).status
                if target.call_log_ids or status not in STAGING_STATUSES:
                    raise TargetStarted(f"target {target_id} has started ({status})")
            now = iso_milliseconds(self.clock.now())
            self.targets.put(
                dataclasses.replace(
                    target, input_data={**target.input_data, **data}, updated_at=now
                )
            )
            self._changed()
            return self._view(self._target(target_id))

    def webhook_step(
        self, campaign_id: str, target_id: str, friendly_id: str, data: Mapping[str, Any]
    ) -> TargetView:
        """A flow step's webhook: ``data`` merges into the target's output under
        ``friendly_id``, and onto its live call's variables, if one is live."""
        body = json_object(data if data is not None else {}, "data") or {}
        if not isinstance(friendly_id, str) or not friendly_id:
            raise InvalidChange("friendly_id must be a non-empty string")
        with self.batch():
            self.catch_up()
            self._campaign(campaign_id)
            target = self._target(target_id, campaign_id)
            live = self._live_call_of(target)
            old = target.output_data.get(friendly_id)
            merged = {**(old if isinstance(old, dict) else {}), **body}
            with self.batch():
                if live is not None and body:
                    self.map_variables(live.call_log_id, body)
                self.targets.put(
                    dataclasses.replace(
                        target,
                        output_data={**target.output_data, friendly_id: merged},
                        updated_at=iso_milliseconds(self.clock.now()),
                    )
                )
                self._changed()
            return self._view(self._target(target_id))

    def ehr_event(
        self,
        campaign_id: str,
        friendly_id: str,
        event_type: str,
        event_data: Mapping[str, Any] | None = None,
        target_id: str | None = None,
        external_id: str | None = None,
    ) -> EhrOutcome:
        """An EHR event: ``appointment_created`` and ``patient_registered`` add a Pending target
        (its input data the event's, its external id the one given or the event's);
        ``appointment_cancelled`` removes the campaign's targets not called yet that match
        ``target_id`` (or else ``external_id``)."""
        if event_type not in EHR_EVENTS:
            raise InvalidChange(f"event_type must be one of {list(EHR_EVENTS)}, got {event_type!r}")
        if not isinstance(friendly_id, str) or not friendly_id:
            raise InvalidChange("friendly_id must be a non-empty string")
        data = json_object(event_data if event_data is not None else {}, "event_data") or {}
        if target_id is not None:
            checked_target_id(target_id, "target_id")
        if external_id is not None and not isinstance(external_id, str):
            raise InvalidChange("external_id must be a string")
        with self.batch():
            self.catch_up()
            campaign = self._campaign(campaign_id)
            if event_type != "appointment_cancelled":
                if target_id is not None:
                    self._check_free(target_id, "target_id")
                phone = data.get("phone_number")
                given = external_id if external_id is not None else data.get("external_id")
                fields = TargetFields(
                    id=target_id,
                    phone_number=phone if isinstance(phone, str) else "",
                    operating_hours=None,
                    fallback_phone_number=None,
                    external_id=given if isinstance(given, str) else None,
                    input_data=data,
                    patient=None,
                    pre_call_data=None,
                )
                target = self._new_target(campaign, fields, self.clock.now())
                self.targets.put(target)
                self._changed()
                return EhrOutcome(event_type, (self._view(target),), ())
            if target_id is None and external_id is None:
                raise InvalidChange("appointment_cancelled needs target_id or external_id")
            if target_id is not None:
                found = self.targets.get(target_id)
                matches = [found] if found is not None and found.campaign_id == campaign_id else []
            else:
                assert external_id is not None
                matches = list(self._with_external_id(campaign_id, external_id))
            removed = [t.id for t in matches if not t.call_log_ids]
            for rid in removed:
                self.targets.delete(rid)
            if removed:
                self._changed()
            return EhrOutcome(event_type, (), tuple(removed))

    # --- internals ----------------------------------------------------------------

    def _target(self, target_id: str, campaign_id: str | None = None) -> Target:
        found = self.targets.get(target_id) if isinstance(target_id, str) else None
        if found is None or (campaign_id is not None and found.campaign_id != campaign_id):
            where = f" in campaign {campaign_id}" if campaign_id is not None else ""
            raise UnknownTarget(f"no target {target_id!r}{where}")
        return found

    def _check_free(self, target_id: str, where: str) -> None:
        """Refuse an id a target has or had: a client may still hold a deleted one's."""
        if self.targets.had(target_id):
            raise InvalidChange(f"{where}: {target_id!r} is taken (a target has or had it)")

    def _new_target(self, campaign: Campaign, fields: TargetFields, now: float) -> Target:
        at = iso_milliseconds(now)
        return Target(
            id=fields.id if fields.id is not None else self.targets.new_id(),
            campaign_id=campaign.id,
            created_at=at,
            updated_at=at,
            phone_number=fields.phone_number,
            fallback_phone_number=fields.fallback_phone_number,
            operating_hours=fields.operating_hours,
            external_id=fields.external_id,
            input_data=fields.input_data,
            patient=fields.patient,
            pre_call_data=fields.pre_call_data,
        )

    def _with_external_id(self, campaign_id: str, external_id: str) -> Iterator[Target]:
        """The campaign's targets with this external id (``externalids``: O(matches))."""
        return holders(self.targets, (self.call_logs, self.live_calls), campaign_id, external_id)

    def _holds_external_id(self, campaign_id: str, external_id: str) -> bool:
        return next(self._with_external_id(campaign_id, external_id), None) is not None

    def _pending(self, campaign_id: str, count: int, oldest: bool) -> list[Target]:
        """``count`` Pending targets of a campaign: the oldest, or a seeded draw."""
        table = self.targets
        seeded = table.seeded
        candidates = [table.get(table.ids.base(s)) for s in self._pending_slots(campaign_id)]
        candidates += table.added_targets(campaign_id)
        found = [t for t in candidates if t is not None and self._view(t).status == "Pending"]
        if oldest:
            return found[:count]
        draw = Draw(seeded.generator.recipe.seed, "launch", campaign_id, self._next_id())
        picker = random.Random(draw.below(1 << 62))  # only for shuffling: seeded, portable
        picker.shuffle(found)
        return found[:count]

    def _link_call(self, call_log_id: int, target_id: str | None) -> None:
        """A call started or added by hand for a known target joins that target's calls, so
        the links agree both ways (an unknown target id stays on the call, linking nothing)."""
        target = self.targets.get(target_id) if target_id is not None else None
        if target is not None and call_log_id not in target.call_log_ids:
            moved = _updated(target, self.clock.now())
            self.targets.put(
                dataclasses.replace(moved, call_log_ids=(*target.call_log_ids, call_log_id))
            )

    def _call_moved(self, row: LiveCall | CallLog | None, at: float) -> None:
        """A target's call ended or was deleted: what the target reads as (its status, its
        calls, its retries) moved at ``at``, so its ``updated_at`` does."""
        target_id = None if row is None else row.campaign_target_id
        target = self.targets.get(target_id) if target_id is not None else None
        if row is not None and target is not None and row.call_log_id in target.call_log_ids:
            self.targets.put(_updated(target, at))

    def _pending_slots(self, campaign_id: str) -> Iterator[int]:
        """A campaign's seeded slots that had no call: the tail of its slots."""
        seeded = self.targets.seeded
        slots = seeded.slots.get(campaign_id, ())
        for i in range(bisect.bisect_left(slots, seeded.calls), len(slots)):
            yield slots[i]

    def _live_call_of(self, target: Target) -> LiveCall | None:
        for call_log_id in reversed(target.call_log_ids):
            live = self.live_calls.get(call_log_id)
            if live is not None:
                return live
        return None

    def _place_calls(
        self, campaign: Campaign, targets: Sequence[Target], now: float
    ) -> list[tuple[str, int]]:
        """Start one call per target now, each on the dialer; rows checked before any is put."""
        flow = next(f for f in FLOWS if f.id == campaign.flow_id)
        planned: list[tuple[Target, LiveCall]] = []
        next_id = self._next_id()
        for k, target in enumerate(targets):
            call_log_id = next_id + k
            variables = call_variables(target.input_data, target.external_id, target.patient)
            row = self.generator.live_call(
                call_log_id, now, steps=0, phone=target.phone_number, variables=variables, flow=flow
            )
            call = validated(live_call_from_dict, {**to_dict(row), "campaign_target_id": target.id})
            planned.append((target, call))
        placed = []
        for target, call in planned:
            self.live_calls.put(call)
            self.last_id = max(self.last_id, call.call_log_id)
            self.targets.put(
                dataclasses.replace(
                    target,
                    call_log_ids=(*target.call_log_ids, call.call_log_id),
                    updated_at=iso_milliseconds(now),
                )
            )
            self.dialer.add(call.call_log_id, now, len(flow.steps))
            placed.append((target.id, call.call_log_id))
        return placed

    def _play_step(self, call_log_id: int, step: int, at: float) -> None:
        """Map a launched call's ``step``: its outputs, the transcript and flow moving on."""
        live = self.live_calls.get(call_log_id)
        if live is None:
            return
        flow = next((f for f in FLOWS if f.id == live.flow.get("id")), None)
        if flow is None:
            return
        outcomes = self.generator.plan_for(call_log_id, flow).outcomes()
        new = {n: outcomes[n] for s in flow.steps[:step] for n in s.outputs}
        new = {n: v for n, v in new.items() if n not in live.variables}
        moved = self.generator.live_call(
            call_log_id,
            steps=step,
            phone=live.user_phone_number,
            variables={**live.variables, **new},
            flow=flow,
        )
        progress = {"flow": moved.flow, "transcript": moved.transcript, "status": moved.status}
        self.map_variables(call_log_id, new, at=at, progress=progress)


def _updated(target: Target, at: float) -> Target:
    """``target`` with ``updated_at`` moved to ``at`` (never back: a later change stands)."""
    stamp = iso_milliseconds(at)
    if timestamp(stamp) <= timestamp(target.updated_at):
        return target
    return dataclasses.replace(target, updated_at=stamp)
