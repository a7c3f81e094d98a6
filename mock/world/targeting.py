"""The world's campaign writes: add, delete, launch and edit targets, webhook steps, EHR events.

``Targets``, a service of ``World`` over its state (``WorldState``). Every write checks all it was
given before it changes anything (a refusal changes nothing), and is one transaction
(``WorldState.batch``: under the world's lock, all or nothing, one change for the listeners). A
launched call is a live call like any other; ``Dialing`` plays its life on the clock.
"""

from __future__ import annotations

import bisect
import dataclasses
import random
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from prosper_mock.base.timefmt import iso_milliseconds
from prosper_mock.world.calls import Calls
from prosper_mock.world.campaigns import Campaign
from prosper_mock.world.dialing import Dialing
from prosper_mock.world.errors import InvalidChange, TargetStarted, UnknownTarget
from prosper_mock.world.externalids import holders
from prosper_mock.world.generate.random import Draw
from prosper_mock.world.state import WorldState
from prosper_mock.world.targetinput import (
    TargetFields,
    checked_target_id,
    json_object,
    parse_ids,
    parse_targets,
)
from prosper_mock.world.targets import STAGING_STATUSES, Target, TargetView
from prosper_mock.world.views import Views

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
    operating hours (``Dialing.place_calls``)."""

    calls: tuple[tuple[str, int], ...]
    skipped: tuple[str, ...]
    scheduled: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class EhrOutcome:
    """What an EHR event did: the targets it added and the ids of those it removed."""

    event_type: str
    added: tuple[TargetView, ...]
    removed: tuple[str, ...]


class Targets:
    """Campaign and target writes."""

    def __init__(self, state: WorldState, views: Views, calls: Calls, dialing: Dialing) -> None:
        self.state = state
        self.views = views
        self.calls = calls
        self.dialing = dialing

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
        with self.state.batch():
            self.dialing.catch_up()
            campaign = self.views.known_campaign(campaign_id)
            taken: set[str] = set()
            for i, fields in enumerate(parsed):
                if fields.id is not None:
                    if fields.id in taken:
                        raise InvalidChange(f"targets[{i}].id: {fields.id!r} is taken")
                    self._check_free(fields.id, f"targets[{i}].id")
                    taken.add(fields.id)
            now = self.state.clock.now()
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
                self.state.targets.put(target)
            launched: tuple[int, ...] = ()
            if launch and added:
                placed = self.dialing.place_calls(campaign, added, now)
                launched = tuple(call_id for _, call_id in placed)
            self.state.changed()
            return AddedTargets(
                tuple(self.views.view(self.state.targets.get(t.id) or t) for t in added),
                tuple(ignored),
                launched,
            )

    def delete_targets(
        self, campaign_id: str, target_ids: Sequence[str]
    ) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """Remove targets from a campaign: ``(deleted ids, ids it does not hold)``. Their calls
        stay (a call log outlives its target)."""
        ids = parse_ids(target_ids, "target_ids")
        with self.state.batch():
            self.dialing.catch_up()
            self.views.known_campaign(campaign_id)
            deleted: list[str] = []
            missing: list[str] = []
            for target_id in dict.fromkeys(ids):
                target = self.state.targets.get(target_id)
                if target is None or target.campaign_id != campaign_id:
                    missing.append(target_id)
                else:
                    deleted.append(target_id)
            for target_id in deleted:
                self.state.targets.delete(target_id)
            if deleted:
                self.state.changed()
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
        wins when both are given. Raises ``UnknownTarget`` for an id the campaign lacks. A
        target whose operating hours are closed is scheduled for their opening instead."""
        if target_ids is None and count is None:
            raise InvalidChange("give target_ids or count")
        ids = parse_ids(target_ids, "target_ids") if target_ids is not None else None
        if ids is None and (isinstance(count, bool) or not isinstance(count, int) or count < 0):
            raise InvalidChange(f"count must be an integer >= 0, got {count!r}")
        with self.state.batch():
            self.dialing.catch_up()
            campaign = self.views.known_campaign(campaign_id)
            chosen: list[Target] = []
            if ids is not None:
                for target_id in ids:
                    target = self.state.targets.get(target_id)
                    if target is None or target.campaign_id != campaign_id:
                        raise UnknownTarget(f"campaign {campaign_id} has no target {target_id!r}")
                    chosen.append(target)
            else:
                assert count is not None
                chosen = self._pending(campaign_id, count, prioritize_oldest)
            calls, skipped, seen = [], [], set()
            for target in chosen:
                if target.id in seen or self.views.live_call_of(target) is not None:
                    skipped.append(target.id)
                else:
                    calls.append(target)
                seen.add(target.id)
            deferred: list[tuple[str, str]] = []
            placed = self.dialing.place_calls(campaign, calls, self.state.clock.now(), deferred)
            if placed:
                self.state.changed()
            return Launched(tuple(placed), tuple(skipped), tuple(deferred))

    # --- editing ------------------------------------------------------------------

    def update_target_input(
        self, target_id: str, input_data: Mapping[str, Any], *, only_if_not_started: bool = True
    ) -> TargetView:
        """Merge ``input_data`` into a target's; ``TargetStarted`` if ``only_if_not_started``
        and it was called already or has left Pending/Scheduled."""
        data = json_object(input_data, "input_data") or {}
        with self.state.batch():
            self.dialing.catch_up()
            target = self.views.known_target(target_id)
            if only_if_not_started:
                status = self.views.view(target).status
                if target.call_log_ids or status not in STAGING_STATUSES:
                    raise TargetStarted(f"target {target_id} has started ({status})")
            now = iso_milliseconds(self.state.clock.now())
            self.state.targets.put(
                dataclasses.replace(
                    target, input_data={**target.input_data, **data}, updated_at=now
                )
            )
            self.state.changed()
            return self.views.view(self.views.known_target(target_id))

    def webhook_step(
        self, campaign_id: str, target_id: str, friendly_id: str, data: Mapping[str, Any]
    ) -> TargetView:
        """A flow step's webhook: ``data`` merges into the target's output under
        ``friendly_id``, and onto its live call's variables, if one is live."""
        body = json_object(data if data is not None else {}, "data") or {}
        if not isinstance(friendly_id, str) or not friendly_id:
            raise InvalidChange("friendly_id must be a non-empty string")
        with self.state.batch():
            self.dialing.catch_up()
            self.views.known_campaign(campaign_id)
            target = self.views.known_target(target_id, campaign_id)
            live = self.views.live_call_of(target)
            old = target.output_data.get(friendly_id)
            merged = {**(old if isinstance(old, dict) else {}), **body}
            with self.state.batch():
                if live is not None and body:
                    self.calls.map_variables(live.call_log_id, body)
                self.state.targets.put(
                    dataclasses.replace(
                        target,
                        output_data={**target.output_data, friendly_id: merged},
                        updated_at=iso_milliseconds(self.state.clock.now()),
                    )
                )
                self.state.changed()
            return self.views.view(self.views.known_target(target_id))

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
        with self.state.batch():
            self.dialing.catch_up()
            campaign = self.views.known_campaign(campaign_id)
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
                target = self._new_target(campaign, fields, self.state.clock.now())
                self.state.targets.put(target)
                self.state.changed()
                return EhrOutcome(event_type, (self.views.view(target),), ())
            if target_id is None and external_id is None:
                raise InvalidChange("appointment_cancelled needs target_id or external_id")
            if target_id is not None:
                found = self.state.targets.get(target_id)
                matches = [found] if found is not None and found.campaign_id == campaign_id else []
            else:
                assert external_id is not None
                matches = list(self._with_external_id(campaign_id, external_id))
            removed = [t.id for t in matches if not t.call_log_ids]
            for rid in removed:
                self.state.targets.delete(rid)
            if removed:
                self.state.changed()
            return EhrOutcome(event_type, (), tuple(removed))

    # --- internals ----------------------------------------------------------------

    def _check_free(self, target_id: str, where: str) -> None:
        """Refuse an id a target has or had: a client may still hold a deleted one's."""
        if self.state.targets.had(target_id):
            raise InvalidChange(f"{where}: {target_id!r} is taken (a target has or had it)")

    def _new_target(self, campaign: Campaign, fields: TargetFields, now: float) -> Target:
        at = iso_milliseconds(now)
        return Target(
            id=fields.id if fields.id is not None else self.state.targets.new_id(),
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
        state = self.state
        return holders(state.targets, (state.call_logs, state.live_calls), campaign_id, external_id)

    def _holds_external_id(self, campaign_id: str, external_id: str) -> bool:
        return next(self._with_external_id(campaign_id, external_id), None) is not None

    def _pending(self, campaign_id: str, count: int, oldest: bool) -> list[Target]:
        """``count`` Pending targets of a campaign: the oldest, or a seeded draw."""
        table = self.state.targets
        seeded = table.seeded
        candidates = [table.get(table.ids.base(s)) for s in self._pending_slots(campaign_id)]
        candidates += table.added_targets(campaign_id)
        found = [t for t in candidates if t is not None and self.views.view(t).status == "Pending"]
        if oldest:
            return found[:count]
        draw = Draw(seeded.generator.recipe.seed, "launch", campaign_id, self.state.next_id())
        picker = random.Random(draw.below(1 << 62))  # only for shuffling: seeded, portable
        picker.shuffle(found)
        return found[:count]

    def _pending_slots(self, campaign_id: str) -> Iterator[int]:
        """A campaign's seeded slots that had no call: the tail of its slots."""
        seeded = self.state.targets.seeded
        slots = seeded.slots.get(campaign_id, ())
        for i in range(bisect.bisect_left(slots, seeded.calls), len(slots)):
            yield slots[i]
