"""The campaign and target operations: reads, and writes with consequences in the world.

The world does the work (``world.campaigns``); these functions turn validated
parameters into its calls and its answers (or refusals) into documents. A write is
refused as a whole before anything changes: an unknown campaign or target names
itself in a not-found answer (``Semantics.not_found_status``), and a target that has
started answers ``409`` as the spec's own words for ``PATCH /targets/{id}`` say.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from prosper_mock.serving.operations.calls import aware
from prosper_mock.serving.render import (
    JSON_TYPE,
    Document,
    Incomplete,
    Unknown,
    render_json_in_slices,
)
from prosper_mock.world.documents import (
    CAMPAIGN_NOT_FOUND,
    TARGET_NOT_FOUND,
    added_document,
    launched_document,
    page_document,
    target_document,
)
from prosper_mock.world.errors import TargetStarted, UnknownCampaign, UnknownTarget

if TYPE_CHECKING:
    from prosper_mock.serving.state import MockState

NOTHING_TO_LAUNCH = "Provide target_ids or count"


def _rendered(document: dict[str, Any]) -> web.Response:
    """A write's answer rendered where it was made (the writer thread), its long lists a
    slice at a time."""
    return web.Response(body=render_json_in_slices(document), content_type=JSON_TYPE)


def _body(params: dict[str, Any]) -> dict[str, Any]:
    body = params.get("body")
    return body if isinstance(body, dict) else {}


async def _targets(
    params: dict[str, Any], state: MockState, patient_view: bool
) -> Document | Unknown:
    if state.world.campaign(params["campaign_id"]) is None:
        return Unknown(CAMPAIGN_NOT_FOUND)
    page = state.world.targets_page(
        params["campaign_id"],
        params.get("page") or 0,
        params.get("limit") or 10,
        status=params.get("status"),
        from_date=aware(params.get("from_date")),
        to_date=aware(params.get("to_date")),
        from_last_call_date=aware(params.get("from_last_call_date")),
        to_last_call_date=aware(params.get("to_last_call_date")),
    )
    items = [target_document(t, patient_view=patient_view) for t in page.items]
    return Document(page_document("targets", items, page.page_count, page.next_page))


async def get_campaign_targets(
    request: web.Request, params: dict[str, Any], state: MockState
) -> Document | Unknown:
    """``GET /campaigns/{campaign_id}/targets``: one page, oldest first, filtered."""
    return await _targets(params, state, patient_view=False)


async def get_patient_campaign_targets(
    request: web.Request, params: dict[str, Any], state: MockState
) -> Document | Unknown:
    """``GET /campaigns/{campaign_id}/patient/targets``: the patient view of the same page."""
    return await _targets(params, state, patient_view=True)


async def get_required_variables(
    request: web.Request, params: dict[str, Any], state: MockState
) -> Document | Unknown:
    """``GET /campaigns/{campaign_id}/variables``: the variables its flow needs."""
    campaign = state.world.campaign(params["campaign_id"])
    if campaign is None:
        return Unknown(CAMPAIGN_NOT_FOUND)
    return Document({"campaign_id": campaign.id, "variables": list(campaign.variables)})


async def retrieve_target(
    request: web.Request, params: dict[str, Any], state: MockState
) -> Document | Unknown:
    """``GET /targets/{target_id}``."""
    target = state.world.target(params["target_id"])
    if target is None:
        return Unknown(TARGET_NOT_FOUND)
    return Document(target_document(target))


async def add_targets(
    request: web.Request, params: dict[str, Any], state: MockState
) -> Unknown | web.StreamResponse:
    """``POST /campaigns/{campaign_id}/targets``: add (and with ``launch``, call) targets.

    Up to 30 000 targets in one body: added, and the answer rendered, in the writer thread."""
    body = _body(params)

    def add() -> Unknown | web.StreamResponse:
        try:
            added = state.world.add_targets(
                params["campaign_id"],
                body.get("targets") or [],
                launch=bool(body.get("launch", False)),
                allow_duplicates=bool(body.get("allow_duplicates", True)),
            )
        except UnknownCampaign:
            return Unknown(CAMPAIGN_NOT_FOUND)
        return _rendered(added_document(added))

    return await state.off_loop(add)


async def delete_targets(
    request: web.Request, params: dict[str, Any], state: MockState
) -> Document | Unknown:
    """``DELETE /campaigns/{campaign_id}/targets``: ids not in the campaign are listed back."""

    def delete() -> Document | Unknown:
        try:
            deleted, missing = state.world.delete_targets(
                params["campaign_id"], _body(params).get("target_ids") or []
            )
        except UnknownCampaign:
            return Unknown(CAMPAIGN_NOT_FOUND)
        return Document({"deleted": list(deleted), "not_found": list(missing)})

    return await state.off_loop(delete)


async def campaign_calls(
    request: web.Request, params: dict[str, Any], state: MockState
) -> Unknown | Incomplete | web.StreamResponse:
    """``POST /campaigns/{campaign_id}/calls``: call these targets, or ``count`` pending ones
    (launched, and the answer rendered, in the writer thread)."""
    body = _body(params)
    target_ids, count = body.get("target_ids"), body.get("count")
    if target_ids is None and count is None:
        return Incomplete(NOTHING_TO_LAUNCH, ("body", "target_ids"))

    def launch() -> Unknown | web.StreamResponse:
        try:
            launched = state.world.launch(
                params["campaign_id"],
                target_ids=target_ids,
                count=count,
                prioritize_oldest=bool(body.get("prioritize_oldest", False)),
            )
        except UnknownCampaign:
            return Unknown(CAMPAIGN_NOT_FOUND)
        except UnknownTarget as exc:
            return Unknown(f"{TARGET_NOT_FOUND}: {exc}")
        return _rendered(launched_document(launched))

    return await state.off_loop(launch)


async def update_target_input_data(
    request: web.Request, params: dict[str, Any], state: MockState
) -> Document | Unknown:
    """``PATCH /targets/{target_id}``: merge ``input_data``; 409 once the target has started."""
    body = _body(params)
    try:
        target = state.world.update_target_input(
            params["target_id"],
            body.get("input_data") or {},
            only_if_not_started=bool(body.get("only_if_not_started", True)),
        )
    except UnknownTarget:
        return Unknown(TARGET_NOT_FOUND)
    except TargetStarted as exc:
        return Document({"detail": str(exc)}, status=409)
    return Document(target_document(target))
