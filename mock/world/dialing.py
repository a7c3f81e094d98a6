"""The world's clockwork: launched calls placed, their lives played, attempts retried.

``Dialing``, a service of ``World`` over its state (``WorldState``). A launched call is a
live call like any other; the dialer (``dialer.Dialer``) holds when each of its steps and its
end fall due, and ``catch_up`` plays them, in time order with the retries the webhooks'
attempts scheduled (``Hooks.call_ended``). A call placed outside its target's operating hours
is scheduled for their next opening instead, as a retry is. Kit decisions:
``docs/semantics.md``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from prosper_mock.base.timefmt import iso_milliseconds
from prosper_mock.world.calls import Calls
from prosper_mock.world.campaigns import Campaign
from prosper_mock.world.dialer import END
from prosper_mock.world.errors import WorldError
from prosper_mock.world.generate.vocabulary import FLOWS
from prosper_mock.world.hooking import RETRIED_STATUS
from prosper_mock.world.hours import next_open
from prosper_mock.world.records import LiveCall, live_call_from_dict, timestamp, to_dict
from prosper_mock.world.state import WorldState
from prosper_mock.world.targetinput import call_variables
from prosper_mock.world.targets import Target
from prosper_mock.world.views import Views
from prosper_mock.world.worldfile import validated


class Dialing:
    """Calls placed for targets, and what the clock makes due of them."""

    def __init__(self, state: WorldState, views: Views, calls: Calls) -> None:
        self.state = state
        self.views = views
        self.calls = calls

    def catch_up(self, now: float | None = None) -> int:
        """Play what is due by ``now`` (the clock's time): the dialer's events (steps mapped,
        ends) and the retries, in time order (a retry placed may end, and be retried, within
        the move). Returns how many happened; one batch for the listeners."""
        state = self.state
        with state.lock:
            at_most = state.clock.now() if now is None else now
            due, retry = state.dialer.next_at(), state.webhooks.next_retry()
            if (due is None or due > at_most) and (retry is None or retry[0] > at_most):
                return 0  # the common case: nothing launched is due
            done = 0
            with state.batch():
                while True:
                    due, retry = state.dialer.next_at(), state.webhooks.next_retry()
                    if (
                        retry is not None
                        and retry[0] <= at_most
                        and (due is None or retry[0] <= due)
                    ):
                        self._retry(retry[1], retry[0])
                        done += 1
                    elif due is not None and due <= at_most:
                        done += self._play_due(due)
                    else:
                        # What was due left the dialer even where it changed no row (a call
                        # ended by hand meanwhile): that is a change for the listeners too, or
                        # a shared store's other processes would keep the event.
                        state.announce()
                        return done

    def place_calls(
        self,
        campaign: Campaign,
        targets: Sequence[Target],
        now: float,
        deferred: list[tuple[str, str]] | None = None,
    ) -> list[tuple[str, int]]:
        """Call the targets whose operating hours are open now, each on the dialer; schedule
        the others' calls for their next opening (the clock places them, as it places
        retries), noting ``(target id, when)`` in ``deferred``. Rows are checked before any
        is put."""
        state = self.state
        ready = []
        for target in targets:
            opens = next_open(now, target.operating_hours)
            if opens <= now:
                ready.append(target)
                continue
            state.webhooks.schedule(target.id, opens)
            stamp = iso_milliseconds(now)
            moved = stamp if timestamp(stamp) > timestamp(target.updated_at) else target.updated_at
            when = iso_milliseconds(opens)
            state.targets.put(
                dataclasses.replace(
                    target, status=RETRIED_STATUS, scheduled_time=when, updated_at=moved
                )
            )
            if deferred is not None:
                deferred.append((target.id, when))
            state.changed()
        return self._place(campaign, ready, now)

    def _place(
        self, campaign: Campaign, targets: Sequence[Target], now: float
    ) -> list[tuple[str, int]]:
        """Start one call per target now, each on the dialer; rows checked before any is put."""
        state = self.state
        flow = next(f for f in FLOWS if f.id == campaign.flow_id)
        planned: list[tuple[Target, LiveCall]] = []
        next_id = state.next_id()
        for k, target in enumerate(targets):
            call_log_id = next_id + k
            variables = call_variables(target.input_data, target.external_id, target.patient)
            row = state.generator.live_call(
                call_log_id, now, steps=0, phone=target.phone_number, variables=variables, flow=flow
            )
            call = validated(live_call_from_dict, {**to_dict(row), "campaign_target_id": target.id})
            planned.append((target, call))
        placed = []
        for target, call in planned:
            state.live_calls.put(call)
            state.last_id = max(state.last_id, call.call_log_id)
            state.targets.put(
                dataclasses.replace(
                    target,
                    call_log_ids=(*target.call_log_ids, call.call_log_id),
                    updated_at=iso_milliseconds(now),
                )
            )
            state.dialer.add(call.call_log_id, now, len(flow.steps))
            placed.append((target.id, call.call_log_id))
        return placed

    def _play_due(self, at_most: float) -> int:
        """Play the dialer's events due by ``at_most``: steps mapped, ends."""
        state = self.state
        with state.lock:
            due = state.dialer.next_at()
            if due is None or due > at_most:
                return 0
            done = 0
            with state.batch():
                while (event := state.dialer.pop_due(at_most)) is not None:
                    at, call_log_id, step = event
                    try:
                        if step == END:
                            if call_log_id in state.live_calls:
                                self.calls.end_call(call_log_id, at=at)
                        else:
                            self._play_step(call_log_id, step, at)
                    except WorldError:  # changed by hand meanwhile: the call goes its own way
                        pass
                    done += 1
            return done

    def _retry(self, target_id: str, at: float) -> None:
        """Place the target's next attempt at ``at`` (none if it is gone or has a live call)."""
        state = self.state
        state.webhooks.schedule(target_id, None)
        target = state.targets.get(target_id)
        if target is None or self.views.live_call_of(target) is not None:
            return
        self.place_calls(self.views.known_campaign(target.campaign_id), [target], at)
        state.changed()

    def _play_step(self, call_log_id: int, step: int, at: float) -> None:
        """Map a launched call's ``step``: its outputs, the transcript and flow moving on."""
        generator = self.state.generator
        live = self.state.live_calls.get(call_log_id)
        if live is None:
            return
        flow = next((f for f in FLOWS if f.id == live.flow.get("id")), None)
        if flow is None:
            return
        outcomes = generator.plan_for(call_log_id, flow).outcomes()
        new = {n: outcomes[n] for s in flow.steps[:step] for n in s.outputs}
        new = {n: v for n, v in new.items() if n not in live.variables}
        moved = generator.live_call(
            call_log_id,
            steps=step,
            phone=live.user_phone_number,
            variables={**live.variables, **new},
            flow=flow,
        )
        progress = {"flow": moved.flow, "transcript": moved.transcript, "status": moved.status}
        self.calls.map_variables(call_log_id, new, at=at, progress=progress)
