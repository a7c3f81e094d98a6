"""Campaign targets: the stored ``Target``, the ``TargetView`` clients see, and their table.

A target is stored with what it was given (phone, input data, patient) and its staging
status; everything its calls decide (status once called, category, resolution, last call
date, retries, output) is derived when it is read, from the calls it lists that still
exist. So a target and its calls never disagree, however the calls change.

The table is two layers like a ``Store``: the seeded targets, derived from their slot on
demand, and an overlay of targets changed, deleted (``None``) or added since.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any, ClassVar

from pydantic import ConfigDict, StrictStr, TypeAdapter, ValidationError

from prosper_mock.base.problems import location
from prosper_mock.base.timefmt import iso_milliseconds
from prosper_mock.world.campaigns import SeededTargets
from prosper_mock.world.errors import InvalidChange
from prosper_mock.world.externalids import ExternalIds
from prosper_mock.world.generate.ids import organization_id
from prosper_mock.world.generate.vocabulary import CATEGORIES, GOOD, TARGET_STATUSES
from prosper_mock.world.records import CallId, CallLog, LiveCall, json_problem, timestamp
from prosper_mock.world.statuses import SeededStatuses
from prosper_mock.world.store import Store

STAGING_STATUSES = ("Pending", "Scheduled")  # a target's status before any call
# Every category any kind of target's calls may end with (the spec's ``category`` union).
_ALL_CATEGORIES = frozenset(c for kind in CATEGORIES.values() for c in kind)


@dataclass
class Target:
    """A target as stored: what it was given, and the calls placed for it (oldest first)."""

    __pydantic_config__: ClassVar[ConfigDict] = ConfigDict(extra="forbid")

    id: StrictStr
    campaign_id: StrictStr
    created_at: StrictStr
    updated_at: StrictStr
    phone_number: StrictStr
    fallback_phone_number: StrictStr | None = None
    operating_hours: dict[StrictStr, Any] | None = None
    external_id: StrictStr | None = None
    input_data: dict[StrictStr, Any] = field(default_factory=dict)
    patient: dict[StrictStr, Any] | None = None
    pre_call_data: dict[StrictStr, Any] | None = None
    status: StrictStr = "Pending"  # its staging status while it has no call
    call_log_ids: tuple[CallId, ...] = ()
    scheduled_time: StrictStr | None = None
    output_data: dict[StrictStr, Any] = field(default_factory=dict)  # what webhook steps posted


@dataclass(frozen=True)
class TargetView:
    """A target as the API answers it: the fields of ``CampaignTargetResponse``."""

    id: str
    target_url: str
    organization_id: str
    campaign_id: str
    created_at: str
    execution_minutes: int | None
    input_data: dict[str, Any]
    output_data: dict[str, Any]
    status: str
    resolution: str | None
    category: str | None
    subcategory: str | None
    call_log_ids: list[int] | None
    last_call_date: str | None
    phone_number: str | None
    fax_links: list[str] | None
    payor_api_data: dict[str, Any] | None
    external_id: str | None
    updated_at: str | None
    retries: int | None
    scheduled_time: str | None
    categorization: dict[str, Any] | None
    statistics: dict[str, Any] | None
    outcome: str | None


class TargetTable:
    """The seeded targets merged with the overlay of changes."""

    def __init__(self, seeded: SeededTargets, explicit: Sequence[Target] = ()) -> None:
        """``explicit``: base targets a world file holds, in their order (beside the seeded)."""
        self.seeded = seeded
        self.statuses = SeededStatuses(seeded)  # built on demand; the base never changes
        self.ids = seeded.generator.target_ids
        self.explicit: dict[str, Target] = {t.id: t for t in explicit}
        self.explicit_gone: dict[str, str] = {}  # a world file's deleted targets' campaigns
        self._rows: dict[str, Target | None] = {}  # insertion order: added ones' creation order
        # Targets ever added: the next one's number. A restore keeps the highest (a client
        # may still hold an id issued after the snapshot); only a reset starts over.
        self.added = 0
        # Deleted targets that are no seeded slot: id -> their campaign, where their calls
        # still count. With the rows and the slots, every id a target ever had: never reused.
        self.gone: dict[str, str] = {}
        self.touched: set[str] = set()  # ids written since a transaction began (its Change)
        self.external = ExternalIds(seeded, self.explicit.values())

    # --- reading ------------------------------------------------------------------

    def get(self, target_id: str) -> Target | None:
        if target_id in self._rows:
            return self._rows[target_id]
        if target_id in self.explicit:
            return self.explicit[target_id]
        slot = self.ids.slot(target_id)
        if slot is None or not 0 <= slot < self.seeded.size:
            return None
        return self.seeded_target(slot)

    def seeded_target(self, slot: int) -> Target:
        """The seeded target in ``slot`` as the seed made it (changes not applied)."""
        seeded = self.seeded
        plan = seeded.plan(slot)
        flow = plan.flow
        inputs = dict(zip(flow.inputs, plan.variables(0).values(), strict=True))
        who = plan.person
        created = iso_milliseconds(seeded.created(slot))
        has_call = slot < seeded.calls
        call_id = seeded.generator.recipe.first_id + slot
        return Target(
            id=self.ids.base(slot),
            campaign_id=seeded.campaign_of(slot).id,
            created_at=created,
            updated_at=created,
            phone_number=plan.phone,
            external_id=who.external_id,
            input_data=inputs,
            patient={
                "first_name": who.first_name,
                "last_name": who.last_name,
                "date_of_birth": who.dob,
                "phone_number": who.phone,
                "external_id": who.external_id,
                "extra_data": None,
            }
            if flow.target == "patient"
            else None,
            status="Scheduled" if has_call else "Pending",
            call_log_ids=(call_id,) if has_call else (),
            scheduled_time=iso_milliseconds(seeded.generator.started(call_id))
            if has_call
            else None,
        )

    def campaign_of(self, target_id: str) -> str | None:
        """The campaign a target is in, or was in when it was deleted (``None``: no target
        ever had the id): the campaign its calls count under."""
        found = self.get(target_id)
        if found is not None:
            return found.campaign_id
        if (gone := self.gone.get(target_id) or self.explicit_gone.get(target_id)) is not None:
            return gone
        if target_id in self.explicit:
            return self.explicit[target_id].campaign_id
        slot = self.ids.slot(target_id)
        if slot is not None and 0 <= slot < self.seeded.size:
            return self.seeded.campaign_of(slot).id
        return None

    def had(self, target_id: str) -> bool:
        """Whether a target has or had this id (deleted ones too): no other may take it."""
        gone = target_id in self.gone or target_id in self.explicit_gone
        return gone or target_id in self._rows or self.is_seeded(target_id)

    def is_seeded(self, target_id: str) -> bool:
        """Whether the base holds the target (seeded, or in the world file)."""
        if target_id in self.explicit:
            return True
        slot = self.ids.slot(target_id)
        return slot is not None and 0 <= slot < self.seeded.size

    def deleted_slots(self) -> Iterator[int]:
        """Slots of seeded targets deleted since the seed (unordered)."""
        for target_id, row in self._rows.items():
            if row is None:
                slot = self.ids.slot(target_id)
                if slot is not None:
                    yield slot

    def added_targets(self, campaign_id: str) -> list[Target]:
        """A campaign's targets that are not seeded slots, in order: the world file's, then
        those added since, in creation order (changes applied)."""
        rows = self._rows
        from_file = [
            found
            for target_id in self.explicit
            if (found := self.get(target_id)) is not None and found.campaign_id == campaign_id
        ]
        return from_file + [
            row
            for target_id, row in rows.items()
            if row is not None and row.campaign_id == campaign_id and not self.is_seeded(target_id)
        ]

    def __iter__(self) -> Iterator[Target]:
        """Every target, campaign by campaign, oldest first (a dump's order)."""
        for campaign in self.seeded.campaigns:
            for slot in self.seeded.slots.get(campaign.id, ()):
                found = self.get(self.ids.base(slot))
                if found is not None:
                    yield found
            yield from self.added_targets(campaign.id)

    @property
    def changed(self) -> dict[str, Target | None]:
        """The overlay (id -> target, ``None``: a seeded one deleted); read-only use."""
        return self._rows

    # --- writing (overlay only) ---------------------------------------------------

    def put(self, target: Target) -> None:
        """Hold ``target`` (in place of any with its id). ``InvalidChange`` when it holds a value
        no answer or file could carry (``target_problem``, the loader's own check): what the
        table holds always loads back from a state file or a dump."""
        problem = target_problem(target)
        if problem is not None:
            raise InvalidChange(problem)
        old = self._rows.get(target.id)
        if old is not None:
            self.external.discard(old)
        self.touched.add(target.id)
        self._rows[target.id] = target
        self.external.add(target)
        self.gone.pop(target.id, None)

    def delete(self, target_id: str) -> bool:
        found = self.get(target_id)
        if found is None:
            return False
        old = self._rows.get(target_id)
        if old is not None:
            self.external.discard(old)
        self.touched.add(target_id)
        if self.is_seeded(target_id):
            self._rows[target_id] = None
        else:
            del self._rows[target_id]
            self.gone[target_id] = found.campaign_id
        return True

    def new_id(self) -> str:
        """An id no target has or had: the next added number (a world file, or a caller
        naming its targets, may have taken some already)."""
        while True:
            target_id = self.ids.added(self.added)
            self.added += 1
            if not self.had(target_id):
                return target_id

    def reset(self) -> None:
        self._rows.clear()
        self.gone.clear()
        self.external.clear()
        self.added = 0

    def savepoint(self) -> tuple[dict[str, Target | None], dict[str, str], int]:
        """The overlay as it is now, for ``roll_back``: shallow copies (rows are replaced, never
        changed in place), so a write's transaction costs no copy of the targets."""
        return dict(self._rows), dict(self.gone), self.added

    def roll_back(self, savepoint: tuple[dict[str, Target | None], dict[str, str], int]) -> None:
        """Back to the overlay ``savepoint`` took (a world's failed transaction), indexes too."""
        rows, gone, added = savepoint
        for target_id in self._rows.keys() | rows.keys():
            now, then = self._rows.get(target_id), rows.get(target_id)
            if now is not then:
                if now is not None:
                    self.external.discard(now)
                if then is not None:
                    self.external.add(then)
        self._rows, self.gone, self.added = rows, gone, added

    def copy(self) -> TargetTable:
        twin = TargetTable(self.seeded)
        twin.statuses = self.statuses
        twin.explicit = self.explicit  # the base: never changed, shared
        twin.explicit_gone = self.explicit_gone
        twin._rows = {k: None if v is None else replace(v) for k, v in self._rows.items()}
        twin.added = self.added
        twin.gone = dict(self.gone)
        twin.external = self.external.copy()
        return twin


_TARGET = TypeAdapter(Target)


def target_to_dict(target: Target) -> dict[str, Any]:
    """A JSON-ready dict of a stored target (the state and world files' form)."""
    found = asdict(target)
    found["call_log_ids"] = list(target.call_log_ids)
    return found


def target_problem(target: Target, where: str = "target") -> str | None:
    """Why ``target`` cannot be stored, as ``where.field...: problem``, or ``None``: each value
    must be one a row may hold (``json_problem``: valid Unicode, finite, at most ``MAX_DEPTH``
    levels deep, the target being the first). Writes and loaders share it, so the world
    accepts exactly what it can load back."""
    found = json_problem({**target.__dict__, "call_log_ids": list(target.call_log_ids)})
    if found is None:
        return None
    return f"{location(found[0], where, brackets=True)}: {found[1]}"


def target_from_dict(data: Any, where: str) -> Target:
    """A stored target from JSON; raises ``InvalidChange`` naming ``where``."""
    try:
        target = _TARGET.validate_python(data)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        raise InvalidChange(f"{location(first['loc'], where)}: {first['msg']}") from None
    problem = target_problem(target, where)
    if problem is not None:
        raise InvalidChange(problem)
    if target.status not in TARGET_STATUSES:
        raise InvalidChange(f"{where}.status: not a target status: {target.status!r}")
    for name in ("created_at", "updated_at"):
        try:
            timestamp(getattr(target, name))
        except ValueError:
            raise InvalidChange(f"{where}.{name}: not an ISO-8601 date-time") from None
    return target


# --- derivation -------------------------------------------------------------------


def _calls(
    target: Target, live: Store[LiveCall], logs: Store[CallLog]
) -> tuple[list[int], list[LiveCall], list[CallLog]]:
    ids, live_rows, log_rows = [], [], []
    for call_log_id in target.call_log_ids:
        call, log = live.get(call_log_id), logs.get(call_log_id)
        if call is None and log is None:
            continue
        ids.append(call_log_id)
        if call is not None:
            live_rows.append(call)
        if log is not None:
            log_rows.append(log)
    return ids, live_rows, log_rows


def _minutes(call_length: str) -> int:
    """Seconds of an ``H:MM:SS`` (or plain seconds) call length; 0 when unreadable."""
    try:
        total = 0
        for part in call_length.split(":"):
            total = total * 60 + int(part)
        return max(0, total)
    except ValueError:
        return 0


def resolution_of(kind: str, category: str | None) -> str:
    """How an ended call resolved its target, in the kind's vocabulary."""
    if kind == "patient":
        return "successful" if category == GOOD else "unsuccessful"
    return "retrieved" if category == GOOD else "not_retrieved"


def view(
    target: Target,
    kind: str,
    inputs: Sequence[str],
    live: Store[LiveCall],
    logs: Store[CallLog],
    seed: int,
) -> TargetView:
    """What a target reads as now, from its stored fields and the calls it lists that exist.

    ``kind`` and ``inputs`` are its campaign's (the flow's target kind and input variables).
    """
    ids, live_rows, log_rows = _calls(target, live, logs)
    last = log_rows[-1] if log_rows else None
    categorization = last.call_categorization if last is not None else None
    category = subcategory = None
    status = target.status
    if categorization is not None:
        found = categorization.get("category")
        category = found if found in _ALL_CATEGORIES else None
        sub = categorization.get("subcategory")
        subcategory = sub if isinstance(sub, str) else None
    if live_rows:
        status = "In Progress"
    elif last is not None:
        told = (categorization or {}).get("target_status")
        status = told if told in TARGET_STATUSES else "Finished"
        if status == "Scheduled" and target.status == "Finished":  # its attempts are spent
            status = "Finished"
    rows: list[LiveCall | CallLog] = [*live_rows, *log_rows]
    last_call = max((timestamp(r.at) for r in rows), default=None)
    output: dict[str, Any] = {}
    newest = max(rows, key=lambda r: (timestamp(r.at), r.call_log_id), default=None)
    if newest is not None:
        output = {k: v for k, v in newest.variables.items() if k not in inputs}
    output.update(target.output_data)
    updated = target.updated_at
    for r in rows:
        moved = getattr(r, "updated_at", None) or r.at
        if timestamp(moved) > timestamp(updated):
            updated = moved
    summary = (last.post_call_data or {}).get("summary") if last is not None else None
    seconds = sum(_minutes(log.call_length) for log in log_rows)
    return TargetView(
        id=target.id,
        target_url=f"https://app.prosper-mock.invalid/campaigns/{target.campaign_id}"
        f"/targets/{target.id}",
        organization_id=organization_id(seed),
        campaign_id=target.campaign_id,
        created_at=target.created_at,
        execution_minutes=math.ceil(seconds / 60) if log_rows else None,
        input_data=dict(target.input_data),
        output_data=output,
        status=status,
        resolution=resolution_of(kind, category) if last is not None else None,
        category=category,
        subcategory=subcategory,
        call_log_ids=ids,
        last_call_date=None if last_call is None else iso_milliseconds(last_call),
        phone_number=target.phone_number,
        fax_links=[],
        payor_api_data=None,
        external_id=target.external_id,
        updated_at=updated,
        retries=max(0, len(ids) - 1),
        scheduled_time=target.scheduled_time,
        categorization=None if categorization is None else dict(categorization),
        statistics={
            "calls": len(ids),
            "live_calls": len(live_rows),
            "ended_calls": len(log_rows),
        },
        outcome=summary if isinstance(summary, str) else None,
    )
