"""Campaign targets as the API answers them, turned into the world file's ``targets`` and
``campaigns`` sections.

A ``CampaignTargetResponse`` is a target as it reads; the world file stores a target as it
was given (``Target``) and derives the rest (status once called, category, resolution, last
call date, retries, output) from the calls it lists. So a recorded target keeps what it was
given (phone number, external id, input data, dates, its call ids, its output data) and a
staging status: the answered status when it is one (``Pending``, ``Scheduled``), else
``Pending``; what its calls decide comes back on replay when those calls were recorded too.

The API never says what a campaign is called or which flow it runs: a recorded campaign runs
the flow whose inputs cover most of its targets' ``input_data`` keys (the first flow on a
tie), is named after that flow, and was created when its oldest target was.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from prosper_mock import FLOWS, STAGING_STATUSES

_EPOCH = "2025-01-01T00:00:00.000+00:00"


def usable(document: dict[str, Any]) -> bool:
    """Whether an answered target names itself and its campaign."""
    return all(isinstance(document.get(k), str) and document[k] for k in ("id", "campaign_id"))


def _string(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def target_row(document: dict[str, Any], notes: set[str]) -> dict[str, Any]:
    """The stored form (``target_to_dict``) of an answered target."""
    created = _string(document.get("created_at")) or _EPOCH
    status = document.get("status")
    if status not in STAGING_STATUSES:
        status = "Pending"
    ids = document.get("call_log_ids") or []
    call_log_ids = [i for i in ids if isinstance(i, int) and not isinstance(i, bool)]
    if len(call_log_ids) != len(ids):
        notes.add("targets: a call_log_ids entry that is not an integer: dropped")
    phone = _string(document.get("phone_number"))
    if phone is None:
        notes.add("targets: phone_number missing or not a string: recorded as ''")
    return {
        "id": document["id"],
        "campaign_id": document["campaign_id"],
        "created_at": created,
        "updated_at": _string(document.get("updated_at")) or created,
        "phone_number": phone or "",
        "fallback_phone_number": None,
        "operating_hours": None,
        "external_id": _string(document.get("external_id")),
        "input_data": _object(document.get("input_data")),
        "patient": None,
        "pre_call_data": None,
        "status": status,
        "call_log_ids": call_log_ids,
        "scheduled_time": _string(document.get("scheduled_time")),
        "output_data": _object(document.get("output_data")),
    }


def _object(value: Any) -> dict[str, Any]:
    return dict(value) if isinstance(value, dict) else {}


def campaign_rows(documents: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """One ``campaigns`` entry per campaign the answered targets name, in first-seen order."""
    keys: dict[str, set[str]] = {}
    created: dict[str, str] = {}
    for doc in documents:
        cid = doc["campaign_id"]
        keys.setdefault(cid, set()).update(_object(doc.get("input_data")))
        at = _string(doc.get("created_at")) or _EPOCH
        created[cid] = min(created.get(cid, at), at)
    rows = []
    for cid, seen in keys.items():
        flow = max(FLOWS, key=lambda f: (len(seen & set(f.inputs)), -FLOWS.index(f)))
        rows.append(
            {
                "id": cid,
                "name": flow.name,
                "flow_id": flow.id,
                "kind": flow.target,
                "variables": list(flow.inputs),
                "created_at": created[cid],
            }
        )
    return rows
