"""Implementations of the spec's operations, keyed by ``operationId``.

An implementation answers in the world's terms (a lookup's ``Found``, a
``Document``, an ``Unknown`` campaign...); ``render.render_answer`` makes the HTTP
response. The app binds each route to the entry with its operation's id; an
operation the spec gains upstream without an entry here answers ``501``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from prosper_mock.serving.operations import calls, events, targets
from prosper_mock.serving.render import Answer

if TYPE_CHECKING:
    from prosper_mock.serving.state import MockState

Implementation = Callable[[web.Request, dict[str, Any], "MockState"], Awaitable[Answer]]

get_live_call = calls.get_live_call

OPERATIONS: dict[str, Implementation] = {
    "health_check_api_v1_health_get": calls.health_check,
    "get_live_call_api_v1_live_calls_get": calls.get_live_call,
    "list_call_logs_api_v1_call_logs_get": calls.list_call_logs,
    "get_call_log_api_v1_call_logs__call_log_id__get": calls.get_call_log,
    "get_campaign_targets_api_v1_campaigns__campaign_id__targets_get": (
        targets.get_campaign_targets
    ),
    "get_patient_campaign_targets_api_v1_campaigns__campaign_id__patient_targets_get": (
        targets.get_patient_campaign_targets
    ),
    "get_required_variables_api_v1_campaigns__campaign_id__variables_get": (
        targets.get_required_variables
    ),
    "retrieve_target_api_v1_targets__target_id__get": targets.retrieve_target,
    "add_targets_api_v1_campaigns__campaign_id__targets_post": targets.add_targets,
    "delete_targets_api_v1_campaigns__campaign_id__targets_delete": targets.delete_targets,
    "campaign_calls_api_v1_campaigns__campaign_id__calls_post": targets.campaign_calls,
    "update_target_input_data_api_v1_targets__target_id__patch": (targets.update_target_input_data),
    "receive_webhook_step_api_v1_campaigns__campaign_id__targets__target_id__step__friendly_id__post": (  # noqa: E501
        events.receive_webhook_step
    ),
    "receive_ehr_event_step_api_v1_campaigns__campaign_id__ehr_event__friendly_id__post": (
        events.receive_ehr_event_step
    ),
    "rerun_failed_webhooks_api_v1_campaigns__campaign_id__webhooks_rerun_failed_post": (
        events.rerun_failed_webhooks
    ),
    "delete_api_key_api_v1_api_keys__api_key_id__delete": events.delete_api_key,
}

# Implementations whose answer follows from the validated parameters and the world's rows
# alone (not the request, not the time): the pipeline reuses their answers (``answers.py``).
CACHEABLE: frozenset[Implementation] = frozenset({calls.get_live_call, calls.list_call_logs})

__all__ = ["CACHEABLE", "OPERATIONS", "Implementation", "get_live_call"]

# Implementations that do not read the world: they answer at once while a write changes it
# in the writer thread (``writer.py``); every other read waits for that write to end.
WORLDLESS: frozenset[Implementation] = frozenset({calls.health_check})
