"""What a write about targets brings, checked whole before anything changes.

``parse_target`` reads one ``TargetInput`` (the spec's shape: ``phone_number`` a string or
``{value, operating_hours}``, optional ``external_id``, ``input_data``, ``patient``,
``pre_call_data``, ``fallback_phone_number`` and ``id``); ``call_variables`` says what a
launched call of a target maps as its flow's variables. Unknown keys are ignored, as
upstream's pydantic models ignore them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from prosper_mock.base.problems import location
from prosper_mock.world.errors import InvalidChange
from prosper_mock.world.records import json_problem

PATIENT_FIELDS = ("first_name", "last_name", "date_of_birth", "phone_number", "external_id")
# A linked patient's fields, as the flows' variables name them.
PATIENT_VARIABLES = {
    "first_name": "patient_first_name",
    "last_name": "patient_last_name",
    "date_of_birth": "patient_dob",
    "external_id": "external_id",
}


@dataclass(frozen=True)
class TargetFields:
    """One checked ``TargetInput``."""

    id: str | None
    phone_number: str
    operating_hours: dict[str, Any] | None
    fallback_phone_number: str | None
    external_id: str | None
    input_data: dict[str, Any]
    patient: dict[str, Any] | None
    pre_call_data: dict[str, Any] | None


def json_object(value: Any, where: str, *, optional: bool = False) -> dict[str, Any] | None:
    """``value`` as a JSON object a row can hold (``None`` allowed when ``optional``)."""
    if value is None and optional:
        return None
    if not isinstance(value, Mapping):
        raise InvalidChange(f"{where} must be an object")
    found = json_problem(dict(value), 1)
    if found is not None:
        loc, problem = found
        raise InvalidChange(f"{location(loc, where, brackets=True)}: {problem}")
    return dict(value)


def _text(value: Any, where: str, *, optional: bool = True) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise InvalidChange(f"{where} must be a string")
    found = json_problem(value)
    if found is not None:  # a lone surrogate: no answer or file could hold it
        raise InvalidChange(f"{where}: {found[1]}")
    return value


def checked_target_id(value: Any, where: str) -> str:
    """A target id a caller gives: a string a ``/targets/{target_id}`` path can name.

    Not empty, no ``/`` (a path segment holds none: ``%2F`` routes nowhere), and not ``.`` or
    ``..`` (clients resolve those segments away); anything else is sent percent-encoded.
    """
    text = _text(value, where, optional=False) or ""
    if text == "" or "/" in text or text in (".", ".."):
        raise InvalidChange(
            f"{where} must be a non-empty string without '/', not '.' or '..', got {text!r}"
        )
    return text


def _phone(value: Any, where: str, optional: bool) -> tuple[str | None, dict[str, Any] | None]:
    if isinstance(value, Mapping):
        hours = json_object(value.get("operating_hours"), f"{where}.operating_hours", optional=True)
        return _text(value.get("value"), f"{where}.value", optional=False), hours
    return _text(value, where, optional=optional), None


def parse_target(raw: Any, where: str) -> TargetFields:
    """One ``TargetInput``; raises ``InvalidChange`` naming ``where`` and the field."""
    if not isinstance(raw, Mapping):
        raise InvalidChange(f"{where} must be an object")
    if "phone_number" not in raw:
        raise InvalidChange(f"{where}.phone_number: field required")
    phone, hours = _phone(raw["phone_number"], f"{where}.phone_number", optional=False)
    fallback, _ = _phone(raw.get("fallback_phone_number"), f"{where}.fallback_phone_number", True)
    patient = json_object(raw.get("patient"), f"{where}.patient", optional=True)
    if patient is not None:
        for name in PATIENT_FIELDS:
            _text(patient.get(name), f"{where}.patient.{name}")
        json_object(patient.get("extra_data"), f"{where}.patient.extra_data", optional=True)
        patient = {**dict.fromkeys((*PATIENT_FIELDS, "extra_data")), **patient}
    target_id = None if raw.get("id") is None else checked_target_id(raw["id"], f"{where}.id")
    external_id = _text(raw.get("external_id"), f"{where}.external_id")
    if external_id is None and patient is not None:
        external_id = patient.get("external_id")
    return TargetFields(
        id=target_id,
        phone_number=phone or "",
        operating_hours=hours,
        fallback_phone_number=fallback,
        external_id=external_id,
        input_data=json_object(raw.get("input_data", {}), f"{where}.input_data") or {},
        patient=patient,
        pre_call_data=json_object(
            raw.get("pre_call_data"), f"{where}.pre_call_data", optional=True
        ),
    )


def parse_targets(raw: Any) -> list[TargetFields]:
    """Every ``TargetInput`` of a request, or the first problem."""
    if isinstance(raw, str | bytes) or not isinstance(raw, Sequence):
        raise InvalidChange("targets must be an array")
    return [parse_target(t, f"targets[{i}]") for i, t in enumerate(raw)]


def parse_ids(raw: Any, where: str) -> list[str]:
    """A list of target ids."""
    if isinstance(raw, str | bytes) or not isinstance(raw, Sequence):
        raise InvalidChange(f"{where} must be an array of strings")
    for i, value in enumerate(raw):
        _text(value, f"{where}[{i}]", optional=False)
    return list(raw)


def call_variables(
    input_data: Mapping[str, Any], external_id: str | None, patient: Mapping[str, Any] | None
) -> dict[str, Any]:
    """What a call placed for a target maps first: its input data, then (where the input data
    does not say) its external id and its patient's fields under the flows' names, so
    ``key=external_id&value=...`` finds the call."""
    variables = dict(input_data)
    if external_id is not None:
        variables.setdefault("external_id", external_id)
    for field, name in PATIENT_VARIABLES.items():
        value = (patient or {}).get(field)
        if value is not None:
            variables.setdefault(name, value)
    return variables
