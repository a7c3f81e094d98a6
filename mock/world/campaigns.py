"""The campaigns of a seeded world, and which seeded target slots each one holds.

A campaign runs one flow: a seeded world has one campaign per flow of the vocabulary,
with an id derived from the seed and the flow. Its targets are the world's *slots*: one
per generated call (slot = call id - ``first_id``; every generated call was placed for
the target in its slot, in the campaign of its flow), then ``pending_targets`` that have
no call yet, dealt over the campaigns in turn. ``SlotIndexer`` learns which slots each
campaign holds while the stores are indexed (the plan of every call is drawn then anyway),
into one ``array`` per campaign: eight bytes a slot, no object per target.
"""

from __future__ import annotations

from array import array
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from prosper_mock.base.timefmt import iso_milliseconds
from prosper_mock.world.generate.generator import Generator
from prosper_mock.world.generate.ids import campaign_id
from prosper_mock.world.generate.plan import CallPlan
from prosper_mock.world.generate.vocabulary import FLOWS, Flow

_FLOW_INDEX = {flow.id: i for i, flow in enumerate(FLOWS)}
_CREATED_BEFORE = 31 * 86_400.0  # campaigns exist before the oldest seeded call


@dataclass(frozen=True)
class Campaign:
    """A campaign: the flow it runs, the kind of target it calls, the variables it takes."""

    id: str
    name: str
    flow_id: str
    kind: str  # "patient", "payor" or "provider": the flow's target
    variables: tuple[str, ...]  # the flow's inputs: what a target's input_data supplies
    created_at: str


def seeded_campaigns(generator: Generator) -> tuple[Campaign, ...]:
    """One campaign per flow, in flow order, with ids from the seed."""
    created = iso_milliseconds(generator.anchor - _CREATED_BEFORE)
    seed = generator.recipe.seed
    return tuple(
        Campaign(campaign_id(seed, f.id), f.name, f.id, f.target, f.inputs, created) for f in FLOWS
    )


class SlotIndexer:
    """The ``keys`` functions ``BaseTable.derived`` indexes the stores with, noting on the
    way the slot of every generated call in its flow's list.

    Each call is noted once (a just-ended call is in both stores: noted with the logs).
    """

    def __init__(self, generator: Generator) -> None:
        self.generator = generator
        self._first = generator.recipe.first_id
        self._logs_end = generator.log_ids().stop
        self._from_logs = [array("q") for _ in FLOWS]  # newest first, as indexing runs
        self._from_live = [array("q") for _ in FLOWS]

    def live_keys(self, call_log_id: int) -> tuple[str, dict[str, Any]]:
        plan = self.generator.plan(call_log_id)
        if call_log_id >= self._logs_end:
            self._from_live[_FLOW_INDEX[plan.flow.id]].append(call_log_id - self._first)
        return self.generator.live_keys_of(call_log_id, plan)

    def log_keys(self, call_log_id: int) -> tuple[str, dict[str, Any]]:
        plan = self.generator.plan(call_log_id)
        self._from_logs[_FLOW_INDEX[plan.flow.id]].append(call_log_id - self._first)
        return self.generator.log_keys_of(plan)

    def slots(self) -> list[array[int]]:
        """Per flow (in flow order), its slots ascending: its calls', then its pending ones."""
        calls = self.generator.next_id() - self._first
        found = []
        for i, (logs, live) in enumerate(zip(self._from_logs, self._from_live, strict=True)):
            logs.reverse()
            live.reverse()
            pending = range(calls + i, calls + self.generator.recipe.pending_targets, len(FLOWS))
            found.append(logs + live + array("q", pending))
        return found


@dataclass
class SeededTargets:
    """What the seeded targets are derived from: the generator and each campaign's slots."""

    generator: Generator
    campaigns: tuple[Campaign, ...]
    slots: Mapping[str, Sequence[int]]  # campaign id -> its slots ascending
    calls: int  # slots below this have a call; the rest are pending
    pending: int

    @classmethod
    def empty(cls, generator: Generator) -> SeededTargets:
        """No seeded target at all (a world read from a file holds its own)."""
        campaigns = seeded_campaigns(generator)
        return cls(generator, campaigns, {c.id: () for c in campaigns}, 0, 0)

    @classmethod
    def indexed(cls, indexer: SlotIndexer) -> SeededTargets:
        gen = indexer.generator
        campaigns = seeded_campaigns(gen)
        slots = dict(zip((c.id for c in campaigns), indexer.slots(), strict=True))
        calls = gen.next_id() - gen.recipe.first_id
        return cls(gen, campaigns, slots, calls, gen.recipe.pending_targets)

    @property
    def size(self) -> int:
        return self.calls + self.pending

    def flow_of(self, slot: int) -> Flow:
        """The flow (so the campaign) of a slot."""
        if slot < self.calls:
            return self.generator.plan(self.generator.recipe.first_id + slot).flow
        return FLOWS[(slot - self.calls) % len(FLOWS)]

    def campaign_of(self, slot: int) -> Campaign:
        return self.campaigns[_FLOW_INDEX[self.flow_of(slot).id]]

    def plan(self, slot: int) -> CallPlan:
        """What the target in ``slot`` is about: its call's plan, or a pending one's draw."""
        gen = self.generator
        if slot < self.calls:
            return gen.plan(gen.recipe.first_id + slot)
        # Pending targets draw from keys no call has (past every id a world can issue).
        return gen.plan_for(-1 - slot, FLOWS[(slot - self.calls) % len(FLOWS)])

    def created(self, slot: int) -> float:
        """When the target in ``slot`` was added: increases with the slot (so pages bisect).

        A call's target an hour before its call; the pending ones spread over the hour
        after the last of those.
        """
        gen = self.generator
        if slot < self.calls:
            return gen.started(gen.recipe.first_id + slot) - 3_600.0
        k = slot - self.calls
        return gen.anchor - 3_600.0 + (k + 1) * 3_000.0 / (self.pending + 1)
