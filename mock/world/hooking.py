"""The world's attempts and webhooks: a target called again, an event for each attempt's end.

``Hooks``, a service of ``World`` over its state. When one of a target's calls ends
(``Calls.end_call``: launched through the API, by the dialer, by the control API or the
simulation), ``call_ended`` decides the target's next attempt and records the event its
campaign's webhook is sent (when the campaign has a URL). A call whose categorization says
the target is to be called again (``target_status`` ``Scheduled``: no answer, voicemail, a
callback asked for...) is retried ``RETRY_AFTER`` seconds after it ended, moved into the
target's operating hours, until the campaign's ``max_attempts``. A launch outside a target's
operating hours is scheduled the same way (``Dialing.place_calls``). The calls scheduled are
kept in ``webhooks.retries``; ``Dialing.catch_up`` places those due, in time order with the
dialer's events.
Kit decisions: ``docs/semantics.md``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from prosper_mock.base.timefmt import iso_milliseconds
from prosper_mock.world.errors import InvalidChange, UnknownCampaign
from prosper_mock.world.hookfaults import parse_delivery_faults
from prosper_mock.world.hours import next_open
from prosper_mock.world.records import CallLog, timestamp
from prosper_mock.world.state import WorldState
from prosper_mock.world.views import Views
from prosper_mock.world.webhooks import (
    FAILED,
    PENDING,
    HookSetting,
    Send,
    WebhookEvent,
    checked_attempts,
    checked_headers,
    checked_url,
)

RETRY_AFTER = 3600.0  # kit decision: the next attempt an hour after the last one ended
RETRIED_STATUS = "Scheduled"  # the categorization's target_status of an outcome retried
EXHAUSTED_STATUS = "Finished"  # what a target reads as once its attempts are spent


class Hooks:
    """Attempts and webhook events: each attempt's end, the campaigns' webhook settings."""

    def __init__(self, state: WorldState, views: Views) -> None:
        self.state = state
        self.views = views

    # --- the world's writes -------------------------------------------------------

    def call_ended(self, log: CallLog, at: float) -> None:
        """One of a target's calls ended at ``at``: schedule its next attempt or spend its
        attempts, and record the event of this attempt for the campaign's webhook."""
        target = self.state.targets.get(log.campaign_target_id or "")
        if target is None or log.call_log_id not in target.call_log_ids:
            return
        campaign_id = target.campaign_id
        attempt = target.call_log_ids.index(log.call_log_id) + 1
        most = self.state.webhooks.max_attempts_of(campaign_id)
        retried = (log.call_categorization or {}).get("target_status") == RETRIED_STATUS
        next_at = None
        if retried and attempt < most:
            next_at = next_open(at + RETRY_AFTER, target.operating_hours)
            status = RETRIED_STATUS
        else:
            status = EXHAUSTED_STATUS if retried else target.status
        self.state.webhooks.schedule(target.id, next_at)
        scheduled = iso_milliseconds(next_at) if next_at is not None else target.scheduled_time
        self.state.targets.put(dataclasses.replace(target, status=status, scheduled_time=scheduled))
        if self.state.webhooks.url_of(campaign_id) is not None:
            self.state.webhooks.new_event(
                campaign_id=campaign_id,
                target_id=target.id,
                call_log_id=log.call_log_id,
                attempt=attempt,
                max_attempts=most,
                next_attempt_scheduled=None if next_at is None else iso_milliseconds(next_at),
                created_at=iso_milliseconds(at),
            )

    # --- the webhook settings -----------------------------------------------------

    def webhook_setting(self, campaign_id: str) -> dict[str, Any]:
        """A campaign's webhook as it is in force: its URL (``source``: ``campaign``, the
        default of ``serve --webhook-url``, or ``none``), headers, ``max_attempts``, faults."""
        with self.state.lock:
            self.views.known_campaign(campaign_id)
            own = self.state.webhooks.settings.get(campaign_id)
            url = self.state.webhooks.url_of(campaign_id)
            source = "campaign" if own is not None else "default" if url is not None else "none"
            return {
                "campaign_id": campaign_id,
                "url": url,
                "headers": self.state.webhooks.headers_of(campaign_id),
                "max_attempts": self.state.webhooks.max_attempts_of(campaign_id),
                "faults": self.state.webhooks.faults_of(campaign_id).text,
                "source": source,
            }

    def set_webhook(self, campaign_id: str, settings: Mapping[str, Any]) -> dict[str, Any]:
        """Give a campaign its own webhook: ``url`` (``None``: none, even with a default),
        ``headers`` sent with each delivery, ``max_attempts`` of its targets, ``faults`` of its
        deliveries (``hookfaults``)."""
        if not isinstance(settings, Mapping) or "url" not in settings:
            raise InvalidChange("url: required (a URL, or null for no deliveries)")
        url = settings["url"]
        attempts = settings.get("max_attempts")
        setting = HookSetting(
            None if url is None else checked_url(url),
            checked_headers(settings.get("headers") or {}),
            None if attempts is None else checked_attempts(attempts),
            parse_delivery_faults(settings.get("faults") or "").text,
        )
        with self.state.batch():
            self.views.known_campaign(campaign_id)
            self.state.webhooks.set_setting(campaign_id, setting)
            self.state.changed()
        return self.webhook_setting(campaign_id)

    def clear_webhook(self, campaign_id: str) -> None:
        """Drop a campaign's own setting: the default (``--webhook-url``) applies again."""
        with self.state.batch():
            self.views.known_campaign(campaign_id)
            if campaign_id in self.state.webhooks.settings:
                self.state.webhooks.set_setting(campaign_id, None)
                self.state.changed()

    # --- events and deliveries ----------------------------------------------------

    def webhook_events(
        self,
        campaign_id: str | None = None,
        target_id: str | None = None,
        state: str | None = None,
    ) -> list[WebhookEvent]:
        """The events recorded, oldest first, of a campaign, a target, in a state."""
        with self.state.lock:
            return [
                e
                for e in self.state.webhooks.events.values()
                if (campaign_id is None or e.campaign_id == campaign_id)
                and (target_id is None or e.target_id == target_id)
                and (state is None or e.state == state)
            ]

    def record_send(self, event_id: int, sends: int, *done: Send) -> bool:
        """Record how the delivery of event ``event_id`` made after ``sends`` sends went
        (``done``: its sends): it is delivered or failed; ``False`` when it was recorded
        already."""
        with self.state.batch():
            recorded = self.state.webhooks.record(event_id, sends, *done)
            if recorded:
                self.state.changed()
            return recorded

    def rerun_failed(self, campaign_id: str, from_date: Any, to_date: Any) -> list[int]:
        """Make the campaign's failed events created in ``[from_date, to_date]`` pending again,
        to be sent once more: their ids. ``UnknownCampaign``; ``InvalidChange`` for a date."""
        low, high = _moment(from_date, "from_date"), _moment(to_date, "to_date")
        with self.state.batch():
            if self.views.campaign(campaign_id) is None:
                raise UnknownCampaign(f"no campaign {campaign_id!r}")
            chosen = [
                e
                for e in self.state.webhooks.events.values()
                if e.campaign_id == campaign_id
                and e.state == FAILED
                and low <= timestamp(e.created_at) <= high
            ]
            for event in chosen:
                self.state.webhooks.put_event(
                    dataclasses.replace(event, state=PENDING, reruns=event.reruns + 1)
                )
            if chosen:
                self.state.changed()
            return [e.id for e in chosen]


def _moment(text: Any, name: str) -> float:
    """An ISO-8601 date-time (text or parsed) as seconds; one without an offset is UTC."""
    try:
        moment = text if isinstance(text, datetime) else datetime.fromisoformat(text)
    except (TypeError, ValueError):
        raise InvalidChange(f"{name}: an ISO-8601 date-time, not {text!r}") from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()
