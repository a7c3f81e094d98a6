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

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from faker import Faker

from .records import CallLog, LiveCall
from .textform import text_form

DEFAULT_ANCHOR = "2026-01-15T15:00:00+00:00"
_DAY = 86_400.0
_RECENT = 1_800.0  # live calls started in the last half hour before the anchor
ALL_STEPS = 1 << 30  # as ``steps``: the whole flow, however long


@dataclass(frozen=True)
class WorldRecipe:
    """Everything a generated world is derived from."""

    seed: int = 0
    live_calls: int = 25
    call_logs: int = 250
    anchor: str = DEFAULT_ANCHOR
    first_id: int = 1000

    def __post_init__(self) -> None:
        if self.live_calls < 0 or self.call_logs < 0:
            raise ValueError("live_calls and call_logs must be >= 0")
        if self.first_id < 1:
            raise ValueError("first_id must be >= 1")
        if datetime.fromisoformat(self.anchor).tzinfo is None:
            raise ValueError("anchor must carry a UTC offset")

    @property
    def both(self) -> int:
        """How many just-ended calls sit in both stores."""
        if not self.live_calls or not self.call_logs:
            return 0
        return min(self.call_logs, max(1, self.live_calls // 10))


class Draw:
    """A stream of choices from a keyed hash: cheap, portable and deterministic."""

    __slots__ = ("_bits", "_digest")

    def __init__(self, *key: object) -> None:
        self._digest = hashlib.blake2b("|".join(map(str, key)).encode(), digest_size=64).digest()
        self._bits = int.from_bytes(self._digest, "little")

    def below(self, n: int) -> int:
        if self._bits < 1 << 64:
            self._digest = hashlib.blake2b(self._digest, digest_size=64).digest()
            self._bits = int.from_bytes(self._digest, "little")
        self._bits, r = divmod(self._bits, n)
        return r

    def pick(self, items: Sequence[Any]) -> Any:
        return items[self.below(len(items))]

    def chance(self, p: float) -> bool:
        return self.below(10_000) < p * 10_000

    def digits(self, n: int) -> str:
        return str(self.below(10**n)).zfill(n)

    def hex(self, n: int) -> str:
        return format(self.below(16**n), f"0{n}x")


# --- fixed vocabulary: the domain, not random text ---------------------------------

PAYORS = (
    "Aetna",
    "UnitedHealthcare",
    "Cigna",
    "Humana",
    "Anthem Blue Cross",
    "Blue Cross Blue Shield of Texas",
    "Kaiser Permanente",
    "Molina Healthcare",
    "Centene Ambetter",
    "Medicare",
    "Texas Medicaid",
    "Oscar Health",
    "Highmark",
    "WellCare",
)
SPECIALTIES = (
    "Family Medicine",
    "Cardiology Associates",
    "Orthopedics",
    "Dermatology Clinic",
    "Pediatrics",
    "Imaging Center",
    "Physical Therapy",
    "Gastroenterology",
    "Women's Health",
)
APPOINTMENT_TYPES = (
    "New patient visit",
    "Annual physical",
    "Follow-up",
    "MRI lumbar spine",
    "Colonoscopy",
    "Echocardiogram",
    "Physical therapy evaluation",
    "Telehealth follow-up",
)
CPT_CODES = ("72148", "45378", "93306", "97161", "99213", "70553", "29881")
AGENTS = (
    ("Riley", "elevenlabs", "en-US"),
    ("Avery", "cartesia", "en-US"),
    ("Jordan", "elevenlabs", "en-US"),
    ("Morgan", "playht", "en-US"),
    ("Sofia", "elevenlabs", "es-US"),
    ("Quinn", "cartesia", "en-US"),
)
MODELS = ("gpt-4o", "gpt-4.1-mini", "claude-sonnet-4")
ENDED_REASONS_OK = ("assistant-ended-call", "customer-ended-call")
TARGET_STATUSES_DONE = ("Finished", "Finished", "Finished", "To review", "Post-processing")
FAILURES: tuple[tuple[str, str, str, str], ...] = (
    # (category, subcategory, call_ended_reason, target status)
    ("NOT_FOUND", "MEMBER", "assistant-ended-call", "Failed"),
    ("NOT_FOUND", "PROVIDER", "assistant-ended-call", "Failed"),
    ("NOT_FOUND", "FACILITY", "assistant-ended-call", "Failed"),
    ("NOT_FOUND", "REQUEST", "assistant-ended-call", "To review"),
    ("IVR_LOOP", "NOT_RECOGNIZE_DATA", "assistant-ended-call", "Waiting"),
    ("IVR_LOOP", "LONG_WAITING_PERIOD", "max-duration-reached", "Scheduled"),
    ("IVR_LOOP", "VOICEMAIL", "voicemail", "Scheduled"),
    ("IVR_LOOP", "CALLBACK_OFFERED", "customer-ended-call", "Scheduled"),
    ("INPUT_DATA_ISSUE", "MISSING_INFORMATION", "assistant-ended-call", "To review"),
    ("INPUT_DATA_ISSUE", "INCORRECT_INFORMATION", "assistant-ended-call", "To review"),
    ("HUMAN_ONLY", "STARTING_CALL", "customer-ended-call", "To review"),
    ("HUMAN_ONLY", "MID_CALL", "customer-ended-call", "To review"),
)


@dataclass(frozen=True)
class Step:
    name: str
    outputs: tuple[str, ...]
    lines: tuple[tuple[str, str], ...]  # (role, template)


@dataclass(frozen=True)
class Flow:
    id: str
    name: str
    target: str
    inputs: tuple[str, ...]
    steps: tuple[Step, ...] = field(default=())


FLOWS: tuple[Flow, ...] = (
    Flow(
        "flow_appointment_confirmation",
        "Appointment confirmation",
        "patient",
        (
            "patient_first_name",
            "patient_last_name",
            "patient_dob",
            "external_id",
            "appointment_date",
            "appointment_type",
            "provider_name",
            "referral_number",
        ),
        (
            Step(
                "greeting",
                (),
                (
                    (
                        "assistant",
                        "Hi, this is {agent} calling on behalf of {provider_name}. "
                        "Am I speaking with {patient_first_name} {patient_last_name}?",
                    ),
                    ("user", "Yes, this is {patient_first_name}."),
                ),
            ),
            Step(
                "verify_identity",
                ("identity_verified",),
                (
                    ("assistant", "To protect your privacy, can you confirm your date of birth?"),
                    ("user", "It's {patient_dob}."),
                ),
            ),
            Step(
                "confirm_appointment",
                ("appointment_confirmed",),
                (
                    (
                        "assistant",
                        "You have a {appointment_type} on {appointment_date}. "
                        "Will you be able to make it?",
                    ),
                    ("user", "Yes, I'll be there."),
                ),
            ),
            Step(
                "wrap_up",
                ("callback_requested",),
                (
                    ("assistant", "Great, you're all set. Is there anything else I can help with?"),
                    ("user", "No, thank you."),
                ),
            ),
        ),
    ),
    Flow(
        "flow_eligibility_verification",
        "Eligibility and benefits verification",
        "payor",
        (
            "payor_name",
            "member_id",
            "patient_first_name",
            "patient_last_name",
            "patient_dob",
            "provider_npi",
            "external_id",
        ),
        (
            Step(
                "navigate_ivr",
                ("ivr_path",),
                (
                    (
                        "user",
                        "Thank you for calling {payor_name} provider services. "
                        "Please say or enter the member ID.",
                    ),
                    ("assistant", "{member_id}"),
                ),
            ),
            Step(
                "reach_representative",
                ("representative_name",),
                (
                    ("user", "This is {representative_name}, how can I help you?"),
                    (
                        "assistant",
                        "Hi, I'm calling to verify eligibility and benefits for "
                        "{patient_first_name} {patient_last_name}, date of birth {patient_dob}.",
                    ),
                ),
            ),
            Step(
                "verify_eligibility",
                ("eligibility_status", "plan_type", "copay_amount", "deductible_remaining"),
                (
                    (
                        "user",
                        "The member is {eligibility_status} on a {plan_type} plan, "
                        "copay {copay_amount}, deductible remaining {deductible_remaining}.",
                    ),
                    ("assistant", "Thank you. Is prior authorization required?"),
                ),
            ),
            Step(
                "get_reference",
                ("reference_number",),
                (
                    ("assistant", "Can I get a reference number for this call?"),
                    ("user", "Sure, it's {reference_number}."),
                ),
            ),
        ),
    ),
    Flow(
        "flow_prior_authorization",
        "Prior authorization status",
        "payor",
        (
            "payor_name",
            "member_id",
            "patient_first_name",
            "patient_last_name",
            "patient_dob",
            "cpt_code",
            "external_id",
        ),
        (
            Step(
                "navigate_ivr",
                ("ivr_path",),
                (
                    ("user", "You've reached {payor_name} utilization management."),
                    ("assistant", "Prior authorization status."),
                ),
            ),
            Step(
                "reach_representative",
                ("representative_name",),
                (
                    ("user", "My name is {representative_name}. Member ID please?"),
                    ("assistant", "{member_id}, for {patient_first_name} {patient_last_name}."),
                ),
            ),
            Step(
                "check_status",
                ("auth_status", "prior_auth_required"),
                (
                    ("assistant", "I'm checking on the authorization for CPT {cpt_code}."),
                    ("user", "That request is {auth_status}."),
                ),
            ),
            Step(
                "get_reference",
                ("reference_number",),
                (
                    ("assistant", "May I have a reference number?"),
                    ("user", "Reference number {reference_number}."),
                ),
            ),
        ),
    ),
    Flow(
        "flow_records_request",
        "Medical records request",
        "provider",
        (
            "provider_name",
            "facility_name",
            "provider_npi",
            "patient_first_name",
            "patient_last_name",
            "patient_dob",
            "external_id",
        ),
        (
            Step(
                "reach_front_desk",
                ("staff_name",),
                (
                    ("user", "{facility_name}, this is {staff_name}."),
                    (
                        "assistant",
                        "Hi {staff_name}, I'm calling to request records for "
                        "{patient_first_name} {patient_last_name}.",
                    ),
                ),
            ),
            Step(
                "request_records",
                ("records_available", "fax_number"),
                (
                    ("user", "I can fax those over. What's the fax number?"),
                    ("assistant", "Please send them to {fax_number}."),
                ),
            ),
            Step(
                "wrap_up",
                ("expected_delivery_date",),
                (
                    ("user", "They should go out by {expected_delivery_date}."),
                    ("assistant", "Thank you for your help."),
                ),
            ),
        ),
    ),
)
_FLOW_WEIGHTS = (0, 0, 0, 0, 0, 0, 1, 1, 1, 2, 2, 3)  # patients most often
_ELIGIBILITY = ("active", "active", "active", "inactive", "terminated")
_PLAN_TYPES = ("PPO", "HMO", "EPO", "POS", "Medicare Advantage")
_AUTH_STATUSES = ("approved", "pending review", "denied", "not on file")


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds")


def _duration_text(seconds: int) -> str:
    """``call_length`` as upstream's string: ``H:MM:SS``."""
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


class Generator:
    """Derives every call of a seeded world, and new calls, from ``(seed, id)``."""

    def __init__(self, recipe: WorldRecipe) -> None:
        self.recipe = recipe
        seed = recipe.seed
        fake = Faker("en_US")
        fake.seed_instance(seed)
        # Pools are drawn from faker once; calls pick from them by hash.
        self.first_names = tuple(fake.unique.first_name() for _ in range(200))
        self.last_names = tuple(fake.unique.last_name() for _ in range(300))
        self.cities = tuple((fake.city(), fake.state_abbr()) for _ in range(40))
        self.practice_names = tuple(fake.unique.last_name() for _ in range(40))
        self.staff_names = tuple(fake.first_name() for _ in range(60))
        self.area_codes = tuple(
            f"{2 + d.below(8)}{d.digits(2)}" for d in (Draw(seed, "area", i) for i in range(40))
        )
        self._anchor = datetime.fromisoformat(recipe.anchor).timestamp()
        self.people = max(1, (recipe.live_calls + recipe.call_logs) * 6 // 10)
        self.payor_phones = tuple(self._phone(Draw(seed, "payor", i)) for i in range(len(PAYORS)))
        self.providers = tuple(self._provider(i) for i in range(40))

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
        i = call_log_id - self.recipe.first_id
        frac = Draw(self.recipe.seed, "t", call_log_id).below(900) / 1000
        if i < self._old:
            span = 30 * _DAY - _RECENT
            return self._anchor - 30 * _DAY + (i + frac) * span / self._old
        recent = max(1, self.recipe.live_calls)
        return self._anchor - _RECENT + (i - self._old + frac) * (_RECENT - 60) / recent

    # --- pools --------------------------------------------------------------------

    def _phone(self, d: Draw) -> str:
        return f"+1{d.pick(self.area_codes)}{2 + d.below(8)}{d.digits(6)}"

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

    def person(self, p: int) -> dict[str, Any]:
        """A patient: stable identity, phone and insurer for every call about them."""
        d = Draw(self.recipe.seed, "person", p)
        dob = date(1938, 1, 1) + timedelta(days=d.below(365 * 67))
        return {
            "patient_first_name": d.pick(self.first_names),
            "patient_last_name": d.pick(self.last_names),
            "patient_dob": dob.isoformat(),
            "member_id": f"{d.pick('WXYZ')}{d.digits(9)}",
            "external_id": f"PAT-{p + 1:03d}",
            "phone": self._phone(d),
            "payor": d.below(len(PAYORS)),
        }

    # --- calls --------------------------------------------------------------------

    def _core(self, call_log_id: int) -> dict[str, Any]:
        """What a call is about: flow, who is called, input and outcome variables."""
        d = Draw(self.recipe.seed, "call", call_log_id)
        flow = FLOWS[d.pick(_FLOW_WEIGHTS)]
        who = self.person(d.below(self.people))
        provider = self.providers[d.below(len(self.providers))]
        payor = who["payor"]
        appointment = date.fromtimestamp(self._anchor) + timedelta(days=1 + d.below(21))
        known: dict[str, Any] = {
            **{
                k: who[k]
                for k in (
                    "patient_first_name",
                    "patient_last_name",
                    "patient_dob",
                    "member_id",
                    "external_id",
                )
            },
            "payor_name": PAYORS[payor],
            "provider_name": provider["provider_name"],
            "provider_npi": provider["provider_npi"],
            "facility_name": provider["facility_name"],
            "appointment_date": appointment.isoformat(),
            "appointment_type": d.pick(APPOINTMENT_TYPES),
            "cpt_code": d.pick(CPT_CODES),
            "referral_number": None if d.chance(0.6) else f"REF-{d.digits(6)}",
        }
        outcomes: dict[str, Any] = {
            "identity_verified": d.chance(0.92),
            "appointment_confirmed": d.chance(0.8),
            "callback_requested": d.chance(0.15),
            "ivr_path": d.pick(("1-3-2", "2-1", "0-0-2", "3-1-1")),
            "representative_name": d.pick(self.staff_names),
            "eligibility_status": d.pick(_ELIGIBILITY),
            "plan_type": d.pick(_PLAN_TYPES),
            "copay_amount": float(d.pick((0, 15, 20, 25, 30, 40, 50, 75))),
            "deductible_remaining": d.below(40) * 50,
            "reference_number": f"{d.pick('ABCEHJKMR')}{d.digits(8)}",
            "auth_status": d.pick(_AUTH_STATUSES),
            "prior_auth_required": d.chance(0.4),
            "staff_name": d.pick(self.staff_names),
            "records_available": d.chance(0.85),
            "fax_number": provider["fax_number"],
            "expected_delivery_date": (appointment - timedelta(days=1)).isoformat(),
        }
        phone = {
            "patient": who["phone"],
            "payor": self.payor_phones[payor],
            "provider": provider["phone"],
        }[flow.target]
        name = {
            "patient": f"{who['patient_first_name']} {who['patient_last_name']}",
            "payor": PAYORS[payor],
            "provider": provider["facility_name"],
        }[flow.target]
        agent = d.pick(AGENTS)
        return {
            "draw": d,
            "flow": flow,
            "inputs": {k: known[k] for k in flow.inputs},
            "outcomes": outcomes,
            "phone": phone,
            "target_name": name,
            "agent": agent,
            "agent_phone": f"+1{512 + d.below(4)}555{d.digits(4)}",
            "campaign_target_id": f"ct_{d.hex(12)}",
            "model": d.pick(MODELS),
            "voice_id": d.hex(10),
            "steps_done": d.below(len(flow.steps)),
            "live_status": d.pick(("in_progress", "in_progress", "in_progress", "on_hold")),
        }

    def _variables(self, core: dict[str, Any], steps_done: int) -> dict[str, Any]:
        variables = dict(core["inputs"])
        for step in core["flow"].steps[:steps_done]:
            for name in step.outputs:
                variables[name] = core["outcomes"][name]
        return variables

    def _transcript(
        self, core: dict[str, Any], variables: dict[str, Any], steps: int
    ) -> list[dict[str, str]]:
        context = {k: "" if v is None else text_form(v) for k, v in core["outcomes"].items()}
        context |= {k: "" if v is None else text_form(v) for k, v in variables.items()}
        context["agent"] = core["agent"][0]
        context.setdefault("provider_name", "your care team")
        lines = []
        for step in core["flow"].steps[:steps]:
            for role, template in step.lines:
                lines.append({"role": role, "message": template.format_map(_Blank(context))})
        return lines

    def _agent_data(self, core: dict[str, Any]) -> dict[str, Any]:
        name, provider, language = core["agent"]
        return {
            "id": f"agent_{name.lower()}",
            "name": name,
            "language": language,
            "model": {
                "provider": "openai" if core["model"].startswith("gpt") else "anthropic",
                "name": core["model"],
            },
            "voice": {"provider": provider, "voice_id": core["voice_id"]},
        }

    def live_call(
        self, call_log_id: int, started_at: float | None = None, steps: int | None = None
    ) -> LiveCall:
        """The ``live_calls`` row of a call after ``steps`` steps of its flow.

        Defaults fit the seeded world: its own start time, and a step drawn
        from the seed (every step, for a call that has just ended). A new
        call (``World.start_call``) passes ``steps=0``: only its inputs mapped.
        """
        core = self._core(call_log_id)
        flow: Flow = core["flow"]
        just_ended = steps is None and call_log_id in self.log_ids()
        if steps is None:
            steps = len(flow.steps) if just_ended else core["steps_done"]
        steps = max(0, min(steps, len(flow.steps)))
        at = self.started(call_log_id) if started_at is None else started_at
        variables = self._variables(core, steps)
        done = steps >= len(flow.steps)
        current = flow.steps[min(steps, len(flow.steps) - 1)]
        return LiveCall(
            call_log_id=call_log_id,
            user_phone_number=core["phone"],
            started_at=_iso(at),
            agent_phone_number=core["agent_phone"],
            direction="outbound",
            status="ended"
            if just_ended
            else ("in_progress" if steps == 0 else core["live_status"]),
            updated_at=_iso(at + 20 * (steps + 1)),
            campaign_target_id=core["campaign_target_id"],
            target={"type": flow.target, "name": core["target_name"], "status": "In Progress"},
            agent_data=self._agent_data(core),
            flow={
                "id": flow.id,
                "name": flow.name,
                "step": current.name,
                "step_index": steps,
                "steps_total": len(flow.steps),
            },
            variables=variables,
            transcript=self._transcript(core, variables, steps + (0 if done else 1)),
        )

    def live_keys(self, call_log_id: int) -> tuple[str, dict[str, Any]]:
        """Phone and variables of a generated live call (what its indexes need)."""
        core = self._core(call_log_id)
        steps = len(core["flow"].steps) if call_log_id in self.log_ids() else core["steps_done"]
        return core["phone"], self._variables(core, steps)

    def log_keys(self, call_log_id: int) -> tuple[str, dict[str, Any]]:
        """Phone and variables of a generated call log (what its indexes need)."""
        core = self._core(call_log_id)
        return core["phone"], self._variables(core, len(core["flow"].steps))

    def call_log(
        self, call_log_id: int, started_at: float | None = None, ended_at: float | None = None
    ) -> CallLog:
        """The ``v_call_logs`` row of a finished call (seeded, or new with given times)."""
        start = self.started(call_log_id) if started_at is None else started_at
        live = self.live_call(call_log_id, started_at=start, steps=ALL_STEPS)
        if ended_at is None:
            ended_at = start + 40 + Draw(self.recipe.seed, "length", call_log_id).below(900)
        return self.finish(live, ended_at)

    def finish(self, live: LiveCall, ended_at: float, **overrides: Any) -> CallLog:
        """The call log a live call becomes when it ends at ``ended_at``.

        A call that went through every step of its flow succeeded unless the
        draw says a human had to take over; one cut short gets a failure
        category (IVR loop, not found, data issue) that fits where it stopped.
        """
        d = Draw(self.recipe.seed, "end", live.call_log_id)
        started = datetime.fromisoformat(live.started_at).timestamp()
        seconds = max(1, round(ended_at - started))
        steps_total = int(live.flow.get("steps_total", 0) or 0)
        complete = int(live.flow.get("step_index", 0) or 0) >= steps_total > 0
        if complete and d.chance(0.85):
            category, sub, reason, status = (
                "SUCCESS",
                None,
                d.pick(ENDED_REASONS_OK),
                d.pick(TARGET_STATUSES_DONE),
            )
        else:
            category, sub, reason, status = d.pick(FAILURES)
        variables = dict(live.variables)
        inputs = next((f.inputs for f in FLOWS if f.id == live.flow.get("id")), ())
        outcome_keys = [k for k in variables if k not in inputs]
        summary = (
            f"{live.flow.get('name', 'Call')} with {live.target.get('name', 'the callee')}: "
            f"{'completed' if category == 'SUCCESS' else sub.replace('_', ' ').lower()}."
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
            if d.chance(0.05)
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
            if category != "SUCCESS" and d.chance(0.3)
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
                "flags": []
                if d.chance(0.8)
                else [d.pick(("long_hold", "interruptions", "identity_not_verified"))],
            },
            transcripts=list(live.transcript),
            variables=variables,
        )
        for name, value in overrides.items():
            setattr(log, name, value)
        return log


class _Blank(dict):
    """``format_map`` context where an unknown placeholder renders empty."""

    def __missing__(self, key: str) -> str:
        return ""
