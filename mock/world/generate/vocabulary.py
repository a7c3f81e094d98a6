"""The generator's fixed vocabulary (the domain, not random text), read from vocabulary.json.

Payors, specialties, appointment types, agents, how calls fail, and the flows an
agent runs with the lines it says at each step: data, so it lives in a data file,
read once when the module is imported. Lists that repeat a value weight it: a
byte table built from them picks the repeated value more often.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from importlib.resources import files
from typing import Any


@dataclass(frozen=True)
class Step:
    """One step of a flow: the variables it maps, and the transcript lines it adds."""

    name: str
    outputs: tuple[str, ...]
    lines: tuple[tuple[str, str], ...]  # (role, template)


@dataclass(frozen=True)
class Flow:
    """What an agent runs on a call: who it calls, what it is given, its steps."""

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


def _flow(raw: dict[str, Any]) -> Flow:
    steps = tuple(
        Step(s["name"], tuple(s["outputs"]), tuple((role, line) for role, line in s["lines"]))
        for s in raw["steps"]
    )
    return Flow(raw["id"], raw["name"], raw["target"], tuple(raw["inputs"]), steps)


_DATA: dict[str, Any] = json.loads(
    files(__package__).joinpath("vocabulary.json").read_text(encoding="utf-8")
)

PAYORS: tuple[str, ...] = tuple(_DATA["payors"])
SPECIALTIES: tuple[str, ...] = tuple(_DATA["specialties"])
APPOINTMENT_TYPES: tuple[str, ...] = tuple(_DATA["appointment_types"])
CPT_CODES: tuple[str, ...] = tuple(_DATA["cpt_codes"])
# (name, voice provider, language)
AGENTS: tuple[tuple[str, str, str], ...] = tuple(
    (a["name"], a["voice_provider"], a["language"]) for a in _DATA["agents"]
)
MODELS: tuple[str, ...] = tuple(_DATA["models"])
ENDED_REASONS_OK: tuple[str, ...] = tuple(_DATA["ended_reasons_ok"])
TARGET_STATUSES_DONE: tuple[str, ...] = tuple(_DATA["target_statuses_done"])
GOOD = "GOOD"  # the category of a call that did what its flow is for, whatever the kind
# Per kind of target, how its calls fail: (category, subcategory, call_ended_reason, target
# status), each category one of the kind's (the spec's Payor/Patient/ProviderCallCategory)
# and each subcategory one of the enum that goes with its category (``SUBCATEGORIES``).
FAILURES: dict[str, tuple[tuple[str, str | None, str, str], ...]] = {
    kind: tuple(
        (f["category"], f["subcategory"], f["call_ended_reason"], f["target_status"]) for f in rows
    )
    for kind, rows in _DATA["failures"].items()
}
# The subcategories the spec gives a category (NOT_FOUND: NotFoundSubCategory, ...).
SUBCATEGORIES: dict[str, tuple[str, ...]] = {
    category: tuple(names) for category, names in _DATA["subcategories"].items()
}
ELIGIBILITY_STATUSES: tuple[str, ...] = tuple(_DATA["eligibility_statuses"])
PLAN_TYPES: tuple[str, ...] = tuple(_DATA["plan_types"])
AUTH_STATUSES: tuple[str, ...] = tuple(_DATA["auth_statuses"])
IVR_PATHS: tuple[str, ...] = tuple(_DATA["ivr_paths"])
COPAYS: tuple[float, ...] = tuple(float(c) for c in _DATA["copays"])
LIVE_STATUSES: tuple[str, ...] = tuple(_DATA["live_statuses"])
MEMBER_LETTERS: tuple[str, ...] = tuple(_DATA["member_letters"])
REFERENCE_LETTERS: tuple[str, ...] = tuple(_DATA["reference_letters"])
QA_FLAGS: tuple[str, ...] = tuple(_DATA["qa_flags"])
# The statuses a campaign target can have (the spec's CampaignTargetStatus).
TARGET_STATUSES: tuple[str, ...] = tuple(_DATA["target_statuses"])
# Per kind of target (patient, payor, provider): the categories its calls end with.
CATEGORIES: dict[str, tuple[str, ...]] = {
    kind: tuple(names) for kind, names in _DATA["call_categories"].items()
}
FLOWS: tuple[Flow, ...] = tuple(_flow(f) for f in _DATA["flows"])
# Each flow as often as its weight, in flow order: patients are called most often.
WEIGHTED_FLOWS: tuple[Flow, ...] = tuple(
    flow for flow, raw in zip(FLOWS, _DATA["flows"], strict=True) for _ in range(raw["weight"])
)
del _DATA
