"""What a call is about, before its row is built: the patient, the flow, the variables.

A call's plan holds every key the lookup indexes need (the phone called, the
variables its flow maps) and nothing only its row shows, so a world can be indexed
from plans alone and its rows derived when first looked up.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from operator import itemgetter
from types import MappingProxyType
from typing import Any, NamedTuple

from prosper_mock.world.generate.vocabulary import FLOWS, Flow

# Every variable of every flow, in the order ``Generator.plan`` computes their values.
VARIABLES = (
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
    """Takes the values of ``names`` (always a tuple) out of a tuple in VARIABLES order."""
    positions = [VARIABLES.index(name) for name in names]
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
    values: tuple[Any, ...]  # every flow's variables, in VARIABLES order
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
