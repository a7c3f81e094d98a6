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
import struct
from collections import namedtuple
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache, cached_property
from operator import itemgetter
from types import MappingProxyType
from typing import Any, NamedTuple, TypeVar

from faker import Faker

from prosper_mock.base.timefmt import iso_milliseconds
from prosper_mock.world.records import CallLog, LiveCall
from prosper_mock.world.textform import text_form

T = TypeVar("T")

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

    def pick(self, items: Sequence[T]) -> T:
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

    @cached_property
    def outputs(self) -> tuple[str, ...]:
        """Every variable the flow's steps map, in step order."""
        return tuple(name for step in self.steps for name in step.outputs)

    @cached_property
    def variables(self) -> tuple[str, ...]:
        """Every variable of a finished call: the inputs, then the outputs."""
        return (*self.inputs, *(name for name in self.outputs if name not in self.inputs))


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
                    ("assistant", "Thank you, that is everything I needed on benefits."),
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


def byte_table(choices: Sequence[T]) -> tuple[T, ...]:
    """256 entries cycling through ``choices``: indexed by a random byte, it picks one.

    Each choice comes up ``256 // n`` or ``256 // n + 1`` times in 256: close enough
    to even for a mock's vocabulary, and one tuple index per pick.
    """
    return tuple(choices[i % len(choices)] for i in range(256))


def chance_table(p: float) -> tuple[bool, ...]:
    """256 booleans, ``round(p * 256)`` of them true: a random byte's chance of ``p``."""
    k = round(p * 256)
    return (True,) * k + (False,) * (256 - k)


# Flows weighted: patients most often.
_FLOWS = byte_table((*(FLOWS[0],) * 6, *(FLOWS[1],) * 3, *(FLOWS[2],) * 2, FLOWS[3]))
_ELIGIBILITY = byte_table(("active", "active", "active", "inactive", "terminated"))
_PLAN_TYPES = byte_table(("PPO", "HMO", "EPO", "POS", "Medicare Advantage"))
_AUTH_STATUSES = byte_table(("approved", "pending review", "denied", "not on file"))
_IVR_PATHS = byte_table(("1-3-2", "2-1", "0-0-2", "3-1-1"))
_COPAYS = byte_table((0.0, 15.0, 20.0, 25.0, 30.0, 40.0, 50.0, 75.0))
_DEDUCTIBLES = byte_table(tuple(range(0, 2000, 50)))
_LIVE_STATUSES = byte_table(("in_progress", "in_progress", "in_progress", "on_hold"))
_APPOINTMENT_TYPES = byte_table(APPOINTMENT_TYPES)
_CPT_CODES = byte_table(CPT_CODES)
_PAYORS = byte_table(range(len(PAYORS)))
_MEMBER_LETTERS = byte_table("WXYZ")
_REFERENCE_LETTERS = byte_table("ABCEHJKMR")
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


def _id_bytes(n: int) -> bytes:
    """An integer as hash input: 16 bytes, or its decimal text when it does not fit."""
    try:
        return n.to_bytes(16, "little", signed=True)
    except OverflowError:  # a longer input than 16 bytes, so never equal to a short one
        return str(n).encode()


_STRUCT_CODES = MappingProxyType({8: "B", 16: "H", 32: "I", 64: "Q"})  # field bits -> struct


class Fields:
    """Named random fields cut from one keyed hash of an integer, each from its own bits.

    Unlike ``Draw``'s stream, no field depends on another, so the lookup indexes
    can be built from a call's few indexed fields and a row from all of them, and
    the two always agree. One blake2b and one ``struct`` unpack give every field
    at once; a byte field picks from a ``byte_table``, a wider one is reduced
    with ``%`` where it is used.
    """

    __slots__ = ("_key", "_make", "_size", "_struct")

    def __init__(self, key: str, layout: Sequence[tuple[str, int]]) -> None:
        """``layout``: ``(name, bits)`` per field, bits 8, 16, 32 or 64 (at most 512 in all)."""
        unknown = [name for name, bits in layout if bits not in _STRUCT_CODES]
        if unknown:
            raise ValueError(f"fields {unknown}: bits must be one of {sorted(_STRUCT_CODES)}")
        self._struct = struct.Struct("<" + "".join(_STRUCT_CODES[bits] for _, bits in layout))
        self._size = self._struct.size
        if self._size > 64:
            raise ValueError(f"{self._size} bytes of fields do not fit one blake2b digest (64)")
        self._key = hashlib.blake2b(key.encode(), digest_size=32).digest()
        # Field names known only at run time: typeshed types namedtuple() as returning a
        # plain type[tuple[Any, ...]], which has no _make.
        self._make: Callable[[Iterable[int]], Any] = namedtuple(  # type: ignore[attr-defined]
            "Fields", [name for name, _ in layout]
        )._make

    def __call__(self, n: int) -> Any:
        """The fields of ``n`` by name."""
        return self._make(self.raw(n))

    def raw(self, n: int) -> tuple[int, ...]:
        """The fields of ``n`` in layout order (the hot path unpacks them into locals)."""
        digest = hashlib.blake2b(_id_bytes(n), key=self._key, digest_size=self._size).digest()
        return self._struct.unpack(digest)


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
# Every variable of every flow, in the order ``Generator.plan`` computes their values.
_VARIABLES = (
    "patient_first_name",
    "patient_last_name",
    "patient_dob",
    "member_id",
    "external_id",
    "payor_name",
    "provider_name",
    "provider_npi",
    "facility_name",
    "appointment_date",
    "appointment_type",
    "cpt_code",
    "referral_number",
    "identity_verified",
    "appointment_confirmed",
    "callback_requested",
    "ivr_path",
    "representative_name",
    "eligibility_status",
    "plan_type",
    "copay_amount",
    "deductible_remaining",
    "reference_number",
    "auth_status",
    "prior_auth_required",
    "staff_name",
    "records_available",
    "fax_number",
    "expected_delivery_date",
)


def _taker(names: Sequence[str]) -> Callable[[Sequence[Any]], tuple[Any, ...]]:
    """Takes the values of ``names`` (always a tuple) out of a tuple in _VARIABLES order."""
    positions = [_VARIABLES.index(name) for name in names]
    if len(positions) == 1:
        return lambda values: (values[positions[0]],)
    return itemgetter(*positions)


# Per flow: take its inputs, its outputs, both: a call builds only its own variables.
_TAKE = MappingProxyType(
    {f.id: (_taker(f.inputs), _taker(f.outputs), _taker(f.variables)) for f in FLOWS}
)


class Person(NamedTuple):
    """A patient: the same identity, phone and insurer on every call about them."""

    first_name: str
    last_name: str
    dob: str
    member_id: str
    external_id: str
    phone_prefix: str
    phone_number: int
    payor: int

    @property
    def phone(self) -> str:
        # Formatted when asked for: half the calls (payors, providers) never need it.
        return f"{self.phone_prefix}{self.phone_number:06d}"


class CallPlan(NamedTuple):
    """What a call is about: everything its index keys (phone, variables) come from."""

    flow: Flow
    phone: str
    person: Person
    provider: dict[str, str]
    values: tuple[Any, ...]  # every flow's variables, in _VARIABLES order
    steps_done: int  # where a live call of the seeded world is
    live_status: str
    start_frac: float

    def outcomes(self) -> dict[str, Any]:
        """The flow's outputs, as its steps map them."""
        return dict(zip(self.flow.outputs, _TAKE[self.flow.id][1](self.values), strict=True))

    def variables(self, steps_done: int) -> dict[str, Any]:
        """The variables mapped after ``steps_done`` steps: the inputs, then step outputs."""
        flow = self.flow
        take_inputs, _, take_all = _TAKE[flow.id]
        if steps_done >= len(flow.steps):  # every call log: one dict, no merging
            return dict(zip(flow.variables, take_all(self.values), strict=True))
        variables = dict(zip(flow.inputs, take_inputs(self.values), strict=True))
        if steps_done > 0:
            outcomes = self.outcomes()
            for step in flow.steps[:steps_done]:
                for name in step.outputs:
                    variables[name] = outcomes[name]
        return variables


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
        # Every variable any flow has, in _VARIABLES order; the flow takes its own.
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
        target = flow.target
        if target == "patient":
            phone = who.phone
        elif target == "payor":
            phone = self.payor_phones[who.payor]
        else:
            phone = provider["phone"]
        return CallPlan(
            flow,
            phone,
            who,
            provider,
            values,
            steps_done % len(flow.steps),
            _LIVE_STATUSES[live_status],
            start_frac % 900 / 1000,
        )

    def _target_name(self, plan: CallPlan, variables: dict[str, Any]) -> str:
        """Who is called, as the call's variables name them (the plan's, when they do not)."""
        target = plan.flow.target
        if target == "patient":
            first = variables.get("patient_first_name", plan.person.first_name)
            last = variables.get("patient_last_name", plan.person.last_name)
            return f"{text_form(first) or ''} {text_form(last) or ''}".strip()
        if target == "payor":
            return text_form(variables.get("payor_name", PAYORS[plan.person.payor])) or ""
        return text_form(variables.get("facility_name", plan.provider["facility_name"])) or ""

    def _transcript(
        self, plan: CallPlan, agent: str, variables: dict[str, Any], steps: int
    ) -> list[dict[str, str]]:
        context = {k: "" if v is None else text_form(v) for k, v in plan.outcomes().items()}
        context |= {k: "" if v is None else text_form(v) for k, v in variables.items()}
        context["agent"] = agent
        context.setdefault("provider_name", "your care team")
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
    ) -> LiveCall:
        """The ``live_calls`` row of a call after ``steps`` steps of its flow.

        Defaults fit the seeded world: its own start time, and a step drawn
        from the seed (every step, for a call that has just ended). A new
        call (``World.start_call``) passes ``steps=0``: only its inputs mapped.
        ``phone`` and ``variables``, when given, replace the drawn ones, and what is
        derived from them (the transcript) follows.
        """
        plan = self.plan(call_log_id)
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
        return LiveCall(
            call_log_id=call_log_id,
            user_phone_number=plan.phone if phone is None else phone,
            started_at=iso_milliseconds(at),
            agent_phone_number=f"+1{512 + d.below(4)}555{d.digits(4)}",
            direction="outbound",
            status="ended" if just_ended else ("in_progress" if steps == 0 else plan.live_status),
            updated_at=iso_milliseconds(
                at + 20 * steps
            ),  # the last step mapped (none yet: the start)
            campaign_target_id=f"ct_{d.hex(12)}",
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
        plan = self.plan(call_log_id)
        steps = len(plan.flow.steps) if call_log_id in self.log_ids() else plan.steps_done
        return plan.phone, plan.variables(steps)

    def log_keys(self, call_log_id: int) -> tuple[str, dict[str, Any]]:
        """Phone and variables of a generated call log (what its indexes need)."""
        plan = self.plan(call_log_id)
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

    def finish(self, live: LiveCall, ended_at: float, **overrides: Any) -> CallLog:
        """The call log a live call becomes when it ends at ``ended_at``.

        A call that went through every step of its flow succeeded unless the
        draw says a human had to take over; one cut short gets a failure
        category (IVR loop, not found, data issue) that fits where it stopped.
        """
        d = Draw(self.recipe.seed, "end", live.call_log_id)
        started = datetime.fromisoformat(live.started_at).timestamp()
        seconds = max(1, round(ended_at - started))
        steps_total = _whole(live.flow.get("steps_total"))
        complete = _whole(live.flow.get("step_index")) >= steps_total > 0
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
            f"{'completed' if sub is None else sub.replace('_', ' ').lower()}."
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
