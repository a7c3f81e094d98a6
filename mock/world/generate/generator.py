"""Faker-seeded, deterministic calls for a healthcare voice agent.

Calling faker for every field costs about a millisecond a call, far too slow for
big worlds. Instead faker fills small *value pools* once per seed (names,
cities, practices), and every call is derived from ``(seed, call_log_id)``
through a keyed hash that picks from those pools. So any call can be rebuilt on
demand from its id alone, a world of a million calls needs no stored rows, and
the same seed with the same package versions gives the same world, byte for byte.

The layout of a world (``WorldRecipe``):

* ids run from ``first_id`` upwards in time order; the oldest ``call_logs``
  are spread over the 30 days before ``anchor``;
* the newest calls (the last half hour before ``anchor``) are the live ones;
  the oldest few of those have just ended, so they sit in *both* stores;
* a call's person is drawn from a pool smaller than the number of calls, so
  a phone number often has several calls, finished and live; payor and
  provider phone lines are shared by many calls, and so are variables such as
  ``payor_name`` and ``appointment_type``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache, lru_cache
from typing import Any

from faker import Faker

from prosper_mock.base.timefmt import iso_milliseconds
from prosper_mock.world.generate.ids import TargetIds
from prosper_mock.world.generate.plan import CallPlan, Person
from prosper_mock.world.generate.random import Draw, Fields, byte_table, chance_table
from prosper_mock.world.generate.recipe import WorldRecipe
from prosper_mock.world.generate.vocabulary import (
    AGENTS,
    APPOINTMENT_TYPES,
    AUTH_STATUSES,
    COPAYS,
    CPT_CODES,
    ELIGIBILITY_STATUSES,
    ENDED_REASONS_OK,
    FAILURES,
    FLOWS,
    GOOD,
    IVR_PATHS,
    LIVE_STATUSES,
    MEMBER_LETTERS,
    MODELS,
    PAYORS,
    PLAN_TYPES,
    QA_FLAGS,
    REFERENCE_LETTERS,
    SPECIALTIES,
    TARGET_STATUSES_DONE,
    WEIGHTED_FLOWS,
    Flow,
)
from prosper_mock.world.records import CallLog, LiveCall
from prosper_mock.world.textform import text_form

_DAY = 86_400.0
_RECENT = 1_800.0  # live calls started in the last half hour before the anchor
ALL_STEPS = 1 << 30  # as ``steps``: the whole flow, however long

_FLOWS = byte_table(WEIGHTED_FLOWS)
_ELIGIBILITY = byte_table(ELIGIBILITY_STATUSES)
_PLAN_TYPES = byte_table(PLAN_TYPES)
_AUTH_STATUSES = byte_table(AUTH_STATUSES)
_IVR_PATHS = byte_table(IVR_PATHS)
_COPAYS = byte_table(COPAYS)
_DEDUCTIBLES = byte_table(tuple(range(0, 2000, 50)))
_LIVE_STATUSES = byte_table(LIVE_STATUSES)
_APPOINTMENT_TYPES = byte_table(APPOINTMENT_TYPES)
_CPT_CODES = byte_table(CPT_CODES)
_PAYORS = byte_table(range(len(PAYORS)))
_MEMBER_LETTERS = byte_table(MEMBER_LETTERS)
_REFERENCE_LETTERS = byte_table(REFERENCE_LETTERS)
_DOB_FIRST = date(1938, 1, 1).toordinal()
_DOB_DAYS = 365 * 67


@cache
def _dob_texts() -> tuple[str, ...]:
    """Every date of birth a patient can have, as text: built once, shared by every world."""
    return tuple(date.fromordinal(_DOB_FIRST + k).isoformat() for k in range(_DOB_DAYS))


_APPOINTMENT_DAYS = 21
_PROVIDERS = 40


def _duration_text(seconds: int) -> str:
    """``call_length`` as upstream's string: ``H:MM:SS``."""
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


_PERSON_FIELDS = (
    ("first_name", 16),
    ("last_name", 16),
    ("dob", 32),
    ("member_letter", 8),
    ("member_number", 64),
    ("phone_prefix", 16),
    ("phone_number", 32),
    ("payor", 8),
)
_CALL_FIELDS = (
    ("flow", 8),
    ("person", 64),
    ("provider", 8),
    ("appointment_day", 8),
    ("appointment_type", 8),
    ("cpt_code", 8),
    ("has_referral", 8),
    ("referral_number", 32),
    ("identity_verified", 8),
    ("appointment_confirmed", 8),
    ("callback_requested", 8),
    ("ivr_path", 8),
    ("representative_name", 8),
    ("eligibility_status", 8),
    ("plan_type", 8),
    ("copay_amount", 8),
    ("deductible_remaining", 8),
    ("reference_letter", 8),
    ("reference_number", 32),
    ("auth_status", 8),
    ("prior_auth_required", 8),
    ("staff_name", 8),
    ("records_available", 8),
    ("steps_done", 8),
    ("live_status", 8),
    ("start_frac", 16),
)
_HAS_REFERRAL = chance_table(0.4)
_IDENTITY_VERIFIED = chance_table(0.92)
_APPOINTMENT_CONFIRMED = chance_table(0.8)
_CALLBACK_REQUESTED = chance_table(0.15)
_PRIOR_AUTH_REQUIRED = chance_table(0.4)
_RECORDS_AVAILABLE = chance_table(0.85)


@dataclass(frozen=True)
class _Pools:
    """The names and places a seed's calls pick from by hash."""

    first_names: tuple[str, ...]
    last_names: tuple[str, ...]
    cities: tuple[tuple[str, str], ...]
    practice_names: tuple[str, ...]
    staff_names: tuple[str, ...]


@lru_cache(maxsize=32)
def _pools(seed: int) -> _Pools:
    """The pools of ``seed``, drawn from faker once per process: faker's unique draws cost
    a fifth of a second, more than indexing a small world, and depend on the seed alone."""
    fake = Faker("en_US")
    fake.seed_instance(seed)
    return _Pools(
        first_names=tuple(fake.unique.first_name() for _ in range(200)),
        last_names=tuple(fake.unique.last_name() for _ in range(300)),
        cities=tuple((fake.city(), fake.state_abbr()) for _ in range(40)),
        practice_names=tuple(fake.unique.last_name() for _ in range(40)),
        staff_names=tuple(fake.first_name() for _ in range(60)),
    )


class Generator:
    """Derives every call of a seeded world, and new calls, from ``(seed, id)``.

    What a call is about (who is called, its flow, its variables: everything the
    lookup indexes hold) comes from one keyed hash of its id cut into ``Fields``;
    what only its row shows (agent, campaign, how it ended) from ``Draw``
    streams. Indexing a world derives only the first; rows are derived on demand.
    """

    def __init__(self, recipe: WorldRecipe) -> None:
        self.recipe = recipe
        seed = recipe.seed
        pools = _pools(seed)
        self.first_names = pools.first_names
        self.last_names = pools.last_names
        self.cities = pools.cities
        self.practice_names = pools.practice_names
        self.staff_names = pools.staff_names
        self.area_codes = tuple(
            f"{2 + d.below(8)}{d.digits(2)}" for d in (Draw(seed, "area", i) for i in range(40))
        )
        # "+1", the area code, the exchange's first digit: a number is one of these + 6 digits.
        self._phone_prefixes = tuple(f"+1{a}{2 + k}" for a in self.area_codes for k in range(8))
        self._anchor = datetime.fromisoformat(recipe.anchor).timestamp()
        first_day = date.fromtimestamp(self._anchor) + timedelta(days=1)
        days = [first_day + timedelta(days=k) for k in range(_APPOINTMENT_DAYS)]
        self._appointment_dates = byte_table([d.isoformat() for d in days])
        self._delivery_dates = byte_table([(d - timedelta(days=1)).isoformat() for d in days])
        self._staff = byte_table(self.staff_names)
        self.people = max(1, (recipe.live_calls + recipe.call_logs) * 6 // 10)
        self.payor_phones = tuple(self._phone(Draw(seed, "payor", i)) for i in range(len(PAYORS)))
        self.providers = tuple(self._provider(i) for i in range(_PROVIDERS))
        self._providers = byte_table(self.providers)
        self._person_fields = Fields(f"{seed}|person", _PERSON_FIELDS)
        self._call_fields = Fields(f"{seed}|call", _CALL_FIELDS)
        self.target_ids = TargetIds(seed)

    @property
    def anchor(self) -> float:
        """The seeded world's "now" (epoch seconds): every generated call started before it."""
        return self._anchor

    # --- layout -----------------------------------------------------------------

    @property
    def _old(self) -> int:
        return self.recipe.call_logs - self.recipe.both

    def live_ids(self) -> range:
        start = self.recipe.first_id + self._old
        return range(start, start + self.recipe.live_calls)

    def log_ids(self) -> range:
        return range(self.recipe.first_id, self.recipe.first_id + self.recipe.call_logs)

    def next_id(self) -> int:
        """The first id after every generated call."""
        return self.recipe.first_id + self._old + self.recipe.live_calls

    def started(self, call_log_id: int) -> float:
        """Start time (epoch seconds) of a generated call; increases with the id."""
        return self._started(call_log_id, self._call_fields(call_log_id).start_frac % 900 / 1000)

    def _started(self, call_log_id: int, frac: float) -> float:
        i = call_log_id - self.recipe.first_id
        if i < self._old:
            span = 30 * _DAY - _RECENT
            return self._anchor - 30 * _DAY + (i + frac) * span / self._old
        recent = max(1, self.recipe.live_calls)
        return self._anchor - _RECENT + (i - self._old + frac) * (_RECENT - 60) / recent

    # --- pools --------------------------------------------------------------------

    def _phone(self, d: Draw) -> str:
        return d.pick(self._phone_prefixes) + d.digits(6)

    def _provider(self, i: int) -> dict[str, str]:
        d = Draw(self.recipe.seed, "provider", i)
        last = self.practice_names[i % len(self.practice_names)]
        city, state = d.pick(self.cities)
        return {
            "provider_name": f"Dr. {d.pick(self.first_names)} {last}",
            "facility_name": f"{city} {d.pick(SPECIALTIES)}",
            "provider_npi": f"1{d.digits(9)}",
            "phone": self._phone(d),
            "fax_number": self._phone(d),
            "city": city,
            "state": state,
        }

    def _person(self, p: int) -> Person:
        first, last, dob, letter, number, prefix, phone, payor = self._person_fields.raw(p)
        return Person(
            self.first_names[first % len(self.first_names)],
            self.last_names[last % len(self.last_names)],
            _dob_texts()[dob % _DOB_DAYS],
            f"{_MEMBER_LETTERS[letter]}{number % 10**9:09d}",
            f"PAT-{p + 1:03d}",
            self._phone_prefixes[prefix % len(self._phone_prefixes)],
            phone % 10**6,
            _PAYORS[payor],
        )

    def person(self, p: int) -> dict[str, Any]:
        """A patient: stable identity, phone and insurer for every call about them."""
        who = self._person(p)
        return {
            "patient_first_name": who.first_name,
            "patient_last_name": who.last_name,
            "patient_dob": who.dob,
            "member_id": who.member_id,
            "external_id": who.external_id,
            "phone": who.phone,
            "payor": who.payor,
        }

    # --- calls --------------------------------------------------------------------

    def plan(self, call_log_id: int) -> CallPlan:
        """What a call is about: flow, who is called, input and outcome variables."""
        (
            flow_byte,
            person,
            provider_byte,
            appointment_day,
            appointment_type,
            cpt_code,
            has_referral,
            referral_number,
            identity_verified,
            appointment_confirmed,
            callback_requested,
            ivr_path,
            representative_name,
            eligibility_status,
            plan_type,
            copay_amount,
            deductible_remaining,
            reference_letter,
            reference_number,
            auth_status,
            prior_auth_required,
            staff_name,
            records_available,
            steps_done,
            live_status,
            start_frac,
        ) = self._call_fields.raw(call_log_id)  # in _CALL_FIELDS order
        flow: Flow = _FLOWS[flow_byte]
        who = self._person(person % self.people)
        provider = self._providers[provider_byte]
        # Every variable any flow has, in VARIABLES order; the flow takes its own.
        values = (
            who.first_name,
            who.last_name,
            who.dob,
            who.member_id,
            who.external_id,
            PAYORS[who.payor],
            provider["provider_name"],
            provider["provider_npi"],
            provider["facility_name"],
            self._appointment_dates[appointment_day],
            _APPOINTMENT_TYPES[appointment_type],
            _CPT_CODES[cpt_code],
            f"REF-{referral_number % 10**6:06d}" if _HAS_REFERRAL[has_referral] else None,
            _IDENTITY_VERIFIED[identity_verified],
            _APPOINTMENT_CONFIRMED[appointment_confirmed],
            _CALLBACK_REQUESTED[callback_requested],
            _IVR_PATHS[ivr_path],
            self._staff[representative_name],
            _ELIGIBILITY[eligibility_status],
            _PLAN_TYPES[plan_type],
            _COPAYS[copay_amount],
            _DEDUCTIBLES[deductible_remaining],
            f"{_REFERENCE_LETTERS[reference_letter]}{reference_number % 10**8:08d}",
            _AUTH_STATUSES[auth_status],
            _PRIOR_AUTH_REQUIRED[prior_auth_required],
            self._staff[staff_name],
            _RECORDS_AVAILABLE[records_available],
            provider["fax_number"],
            self._delivery_dates[appointment_day],
        )
        return CallPlan(
            flow,
            self._phone_of(flow.target, who, provider),
            who,
            provider,
            values,
            steps_done % len(flow.steps),
            _LIVE_STATUSES[live_status],
            start_frac % 900 / 1000,
        )

    def _phone_of(self, kind: str, who: Person, provider: dict[str, str]) -> str:
        """The number a call of a flow with target ``kind`` dials."""
        if kind == "patient":
            return who.phone
        if kind == "payor":
            return self.payor_phones[who.payor]
        return provider["phone"]

    def plan_for(self, key: int, flow: Flow) -> CallPlan:
        """The plan drawn for ``key``, made about ``flow`` (whatever flow the draw picked):
        what a seeded target with no call yet is about."""
        plan = self.plan(key)
        phone = self._phone_of(flow.target, plan.person, plan.provider)
        return plan._replace(flow=flow, phone=phone)

    def target_id_of(self, call_log_id: int) -> str | None:
        """The seeded target a generated call was placed for (``None``: not a generated id)."""
        if self.recipe.first_id <= call_log_id < self.next_id():
            return self.target_ids.base(call_log_id - self.recipe.first_id)
        return None

    def _target_name(self, plan: CallPlan, variables: dict[str, Any]) -> str:
        """Who is called, as the call's variables name them (the plan's, when they do not)."""

        def said(name: str, drawn: str) -> str:
            value = variables.get(name)
            return text_form(drawn if value is None else value) or ""

        target = plan.flow.target
        if target == "patient":
            first = said("patient_first_name", plan.person.first_name)
            return f"{first} {said('patient_last_name', plan.person.last_name)}".strip()
        if target == "payor":
            return said("payor_name", PAYORS[plan.person.payor])
        return said("facility_name", plan.provider["facility_name"])

    def _transcript(
        self, plan: CallPlan, agent: str, variables: dict[str, Any], steps: int
    ) -> list[dict[str, str]]:
        # What the call was given wins; an input it was not given (a target without
        # input_data) is said as the seed drew it for the call, never as an empty slot.
        drawn = {**plan.variables(0), **plan.outcomes()}
        context = {k: text_form(v) for k, v in drawn.items() if v is not None}
        context |= {k: text_form(v) for k, v in variables.items() if v is not None}
        context["agent"] = agent
        lines = []
        for step in plan.flow.steps[:steps]:
            for role, template in step.lines:
                lines.append({"role": role, "message": template.format_map(_Blank(context))})
        return lines

    def live_call(
        self,
        call_log_id: int,
        started_at: float | None = None,
        steps: int | None = None,
        *,
        phone: str | None = None,
        variables: dict[str, Any] | None = None,
        flow: Flow | None = None,
    ) -> LiveCall:
        """The ``live_calls`` row of a call after ``steps`` steps of its flow.

        Defaults fit the seeded world: its own start time, and a step drawn
        from the seed (every step, for a call that has just ended). A new
        call (``World.start_call``) passes ``steps=0``: only its inputs mapped.
        ``phone`` and ``variables``, when given, replace the drawn ones, and what is
        derived from them (the transcript) follows. ``flow``, when given, is the flow the
        call runs (a campaign's launch), whatever flow the seed would draw for its id.
        """
        plan = self.plan(call_log_id) if flow is None else self.plan_for(call_log_id, flow)
        flow = plan.flow
        just_ended = steps is None and call_log_id in self.log_ids()
        if steps is None:
            steps = len(flow.steps) if just_ended else plan.steps_done
        steps = max(0, min(steps, len(flow.steps)))
        at = self._started(call_log_id, plan.start_frac) if started_at is None else started_at
        if variables is None:
            variables = plan.variables(steps)
        done = steps >= len(flow.steps)
        current = flow.steps[min(steps, len(flow.steps) - 1)]
        # What only the row shows: who places the call, and how.
        d = Draw(self.recipe.seed, "row", call_log_id)
        agent, voice_provider, language = d.pick(AGENTS)
        model = d.pick(MODELS)
        agent_phone = f"+1{512 + d.below(4)}555{d.digits(4)}"
        d.hex(12)  # the draw a campaign target id once took: the picks after it stay as they were
        return LiveCall(
            call_log_id=call_log_id,
            user_phone_number=plan.phone if phone is None else phone,
            started_at=iso_milliseconds(at),
            agent_phone_number=agent_phone,
            direction="outbound",
            status="ended" if just_ended else ("in_progress" if steps == 0 else plan.live_status),
            updated_at=iso_milliseconds(
                at + 20 * steps
            ),  # the last step mapped (none yet: the start)
            campaign_target_id=self.target_id_of(call_log_id),
            target={
                "type": flow.target,
                "name": self._target_name(plan, variables),
                "status": "In Progress",
            },
            agent_data={
                "id": f"agent_{agent.lower()}",
                "name": agent,
                "language": language,
                "model": {
                    "provider": "openai" if model.startswith("gpt") else "anthropic",
                    "name": model,
                },
                "voice": {"provider": voice_provider, "voice_id": d.hex(10)},
            },
            flow={
                "id": flow.id,
                "name": flow.name,
                "step": current.name,
                "step_index": steps,
                "steps_total": len(flow.steps),
            },
            variables=variables,
            transcript=self._transcript(plan, agent, variables, steps + (0 if done else 1)),
        )

    def live_keys(self, call_log_id: int) -> tuple[str, dict[str, Any]]:
        """Phone and variables of a generated live call (what its indexes need)."""
        return self.live_keys_of(call_log_id, self.plan(call_log_id))

    def live_keys_of(self, call_log_id: int, plan: CallPlan) -> tuple[str, dict[str, Any]]:
        """``live_keys`` from the call's plan, already drawn."""
        steps = len(plan.flow.steps) if call_log_id in self.log_ids() else plan.steps_done
        return plan.phone, plan.variables(steps)

    def log_keys(self, call_log_id: int) -> tuple[str, dict[str, Any]]:
        """Phone and variables of a generated call log (what its indexes need)."""
        return self.log_keys_of(self.plan(call_log_id))

    @staticmethod
    def log_keys_of(plan: CallPlan) -> tuple[str, dict[str, Any]]:
        """``log_keys`` from the call's plan, already drawn."""
        return plan.phone, plan.variables(len(plan.flow.steps))

    def call_log(
        self,
        call_log_id: int,
        started_at: float | None = None,
        ended_at: float | None = None,
        *,
        phone: str | None = None,
        variables: dict[str, Any] | None = None,
    ) -> CallLog:
        """The ``v_call_logs`` row of a finished call (seeded, or new with given times).

        ``phone`` and ``variables`` as for ``live_call``: the numbers called (``to``), the
        transcripts and the post-call data follow them.
        """
        start = self.started(call_log_id) if started_at is None else started_at
        live = self.live_call(
            call_log_id, started_at=start, steps=ALL_STEPS, phone=phone, variables=variables
        )
        if ended_at is None:
            ended_at = start + 40 + Draw(self.recipe.seed, "length", call_log_id).below(900)
        return self.finish(live, ended_at)

    def seeded_status(self, call_log_id: int, kind: str) -> str:
        """The status a seeded call log gives its target (as ``targets.view`` reads it),
        from two hash draws instead of the row: what a status filter indexes."""
        d = Draw(self.recipe.seed, "end", call_log_id)
        status = _outcome(d, True, kind)[3]
        return "Finished" if _uncategorized(d) else status

    def finish(self, live: LiveCall, ended_at: float, **overrides: Any) -> CallLog:
        """The call log a live call becomes when it ends at ``ended_at``.

        A call that went through every step of its flow succeeded (``GOOD``) unless the
        draw says otherwise; one cut short gets a failure category of its target's kind
        (the spec's Patient/Payor/ProviderCallCategory, with a subcategory of the enum
        that goes with it): IVR loop, not found, voicemail, ...
        """
        d = Draw(self.recipe.seed, "end", live.call_log_id)
        started = datetime.fromisoformat(live.started_at).timestamp()
        seconds = max(1, round(ended_at - started))
        steps_total = _whole(live.flow.get("steps_total"))
        complete = _whole(live.flow.get("step_index")) >= steps_total > 0
        kind = live.target.get("type")
        if kind not in FAILURES:  # a hand-written row: the flow's kind, else a patient's
            flow = next((f for f in FLOWS if f.id == live.flow.get("id")), None)
            kind = flow.target if flow is not None else "patient"
        category, sub, reason, status = _outcome(d, complete, kind)
        variables = dict(live.variables)
        inputs = next((f.inputs for f in FLOWS if f.id == live.flow.get("id")), ())
        outcome_keys = [k for k in variables if k not in inputs]
        summary = (
            f"{live.flow.get('name', 'Call')} with {live.target.get('name', 'the callee')}: "
            f"{'completed' if category == GOOD else (sub or category).replace('_', ' ').lower()}."
        )
        log = CallLog(
            id=live.call_log_id,
            user_phone_number=live.user_phone_number,
            created_at=live.started_at,
            to=live.user_phone_number if live.direction == "outbound" else live.agent_phone_number,
            from_=live.agent_phone_number
            if live.direction == "outbound"
            else live.user_phone_number,
            call_length=_duration_text(seconds),
            call_ended_reason=reason,
            call_categorization=None
            if _uncategorized(d)
            else {
                "category": category,
                "subcategory": sub,
                "target_status": status,
                "confidence": round(0.6 + d.below(40) / 100, 2),
            },
            recording_urls=[]
            if reason == "voicemail"
            else [f"https://recordings.prosper-mock.invalid/{live.call_log_id}/{d.hex(8)}.mp3"],
            agent_data=live.agent_data,
            campaign_target_id=live.campaign_target_id,
            post_call_data=None
            if category != GOOD and d.chance(0.3)
            else {
                "summary": summary,
                "outcome": category,
                "extracted": {k: variables[k] for k in outcome_keys},
            },
            qa=None
            if d.chance(0.2)
            else {
                "score": round(0.55 + d.below(45) / 100, 2),
                "passed": d.chance(0.9),
                "reviewer": "auto",
                "flags": [] if d.chance(0.8) else [d.pick(QA_FLAGS)],
            },
            transcripts=list(live.transcript),
            variables=variables,
        )
        for name, value in overrides.items():
            setattr(log, name, value)
        return log


def _outcome(d: Draw, complete: bool, kind: str) -> tuple[str, str | None, str, str]:
    """A call's category, subcategory, ended reason and target status: the first draws of
    its ``end`` stream (``finish`` and ``seeded_status`` both make them)."""
    if complete and d.chance(0.85):
        return GOOD, None, d.pick(ENDED_REASONS_OK), d.pick(TARGET_STATUSES_DONE)
    category, sub, reason, status = d.pick(FAILURES[kind])
    return category, sub, reason, status


def _uncategorized(d: Draw) -> bool:
    """The draw after the outcome: whether the call log carries no categorization."""
    return d.chance(0.05)


def _whole(value: Any) -> int:
    """A step count a row's ``flow`` holds, as an integer (0 when it holds none)."""
    try:
        return int(value or 0)
    except (TypeError, ValueError, OverflowError):  # a hand-written flow: anything at all
        return 0


class _Blank(dict[str, object]):
    """``format_map`` context where an unknown placeholder renders empty."""

    def __missing__(self, key: str) -> str:
        return ""
