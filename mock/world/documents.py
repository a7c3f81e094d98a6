"""The world's records and the outcomes of its changes as the spec's response documents.

The vendored API answers with these, and so does ``LocalDriver``: a test driving a
world in-process gets what a client of the running mock gets.

A call log is ``CallLogExportInformation`` (``id`` a string, as the schema says) or, in
a list, ``CallLogListExportInformation`` (everything but ``recording_urls``); a target
is ``CampaignTargetResponse``; the patient view (``/patient/targets``) is the same with
``fax_links`` and ``payor_api_data`` left out (``null``: the schema still requires them).
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from prosper_mock.world.records import CallLog
from prosper_mock.world.targets import TargetView

if TYPE_CHECKING:
    from prosper_mock.world.targeting import AddedTargets, EhrOutcome, Launched

# How an answer names what it cannot find (FastAPI's HTTPException detail wording).
CAMPAIGN_NOT_FOUND = "Campaign not found"
TARGET_NOT_FOUND = "Target not found"
CALL_LOG_NOT_FOUND = "Call log not found"

_LIST_FIELDS = (
    "to",
    "from_",
    "created_at",
    "call_length",
    "call_ended_reason",
    "call_categorization",
)
_TAIL_FIELDS = ("agent_data", "campaign_target_id", "post_call_data", "qa", "transcripts")


def call_log_document(log: CallLog, *, recordings: bool | None = None) -> dict[str, Any]:
    """``log`` in the schema's field order; ``recordings=None``: the list form (no
    ``recording_urls``), ``False``: the field present but empty, ``True``: the URLs."""
    document: dict[str, Any] = {"id": str(log.id)}
    for name in _LIST_FIELDS:
        document[name] = getattr(log, name)
    if recordings is not None:
        document["recording_urls"] = list(log.recording_urls) if recordings else []
    for name in _TAIL_FIELDS:
        document[name] = getattr(log, name)
    return document


_TARGET_FIELDS = tuple(f.name for f in dataclasses.fields(TargetView))


def _copied(value: Any) -> Any:
    """A JSON value's own copy (``dataclasses.asdict``'s deep copy, for JSON data alone, at a
    tenth of its cost): a document handed out never shares a dict or a list with a row."""
    if isinstance(value, dict):
        return {k: _copied(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copied(v) for v in value]
    return value


def target_document(target: TargetView, *, patient_view: bool = False) -> dict[str, Any]:
    """``target`` as ``CampaignTargetResponse`` (or the patient view)."""
    document = {name: _copied(getattr(target, name)) for name in _TARGET_FIELDS}
    if patient_view:
        document["fax_links"] = None
        document["payor_api_data"] = None
    return document


def page_document(
    name: str, items: list[dict[str, Any]], page_count: int, next_page: int | None
) -> dict[str, Any]:
    """A paginated answer: ``{name: items, "page_count": ..., "next_page": ...}``."""
    return {name: items, "page_count": page_count, "next_page": next_page}


def added_document(added: AddedTargets) -> dict[str, Any]:
    """What adding targets answers: the targets added, the external ids ignored as
    duplicates, and the calls placed when they were launched."""
    return {
        "targets": [target_document(t) for t in added.added],
        "ignored_external_ids": list(added.ignored),
        "call_log_ids": list(added.launched),
    }


def launched_document(launched: Launched) -> dict[str, Any]:
    """What a launch answers: each target called with its new call, the ones skipped, and
    those whose call waits for their operating hours, with when it is placed."""
    return {
        "launched": [
            {"target_id": target_id, "call_log_id": call_log_id}
            for target_id, call_log_id in launched.calls
        ],
        "skipped": list(launched.skipped),
        "scheduled": [
            {"target_id": target_id, "scheduled_time": when}
            for target_id, when in launched.scheduled
        ],
    }


def ehr_document(outcome: EhrOutcome) -> dict[str, Any]:
    """What an EHR event answers: the targets it added and the ids of those it withdrew."""
    return {
        "event_type": outcome.event_type,
        "added": [target_document(t) for t in outcome.added],
        "removed": list(outcome.removed),
    }
