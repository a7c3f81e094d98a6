"""The pytest plugin's webhook receiver: ``prosper_webhooks``, a loopback URL wired to the mock.

A part of the plugin (``plugin.py`` imports the fixture): the session keeps one
``WebhookReceiver``; each test that asks for ``prosper_webhooks`` gets it emptied, answering
200, and every campaign of the mock under test sending its target-finished webhook there
(the ``prosper`` fixture's reset takes that back before the next test). Against a running
mock (``--prosper-base-url``) the campaigns are set through its control API, and the mock
must be able to reach this machine's loopback.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import pytest

if TYPE_CHECKING:
    from prosper_mock.control.client import ControlClient
    from prosper_mock.receiver import Received, WebhookReceiver
    from prosper_mock.server import MockServer
    from prosper_mock.world.model import World


class Prosper(Protocol):
    """What this fixture uses of the plugin's ``prosper`` (``plugin.Prosper``)."""

    server: MockServer | None

    @property
    def world(self) -> World: ...

    @property
    def control(self) -> ControlClient: ...


@dataclass
class ProsperWebhooks:
    """One test's webhook receiver: where the mock sends, and what it sent."""

    receiver: WebhookReceiver
    prosper: Prosper

    @property
    def url(self) -> str:
        """The receiving URL every campaign of the mock sends its webhooks to."""
        return self.receiver.url

    @property
    def received(self) -> list[Received]:
        """Every request received in this test, in order (headers, body, the status answered)."""
        return self.receiver.received

    @property
    def payloads(self) -> list[Any]:
        """The JSON bodies received in this test, in order."""
        return self.receiver.payloads

    def wait_for(
        self,
        target_id: str | None = None,
        *,
        attempt: int | None = None,
        count: int = 1,
        timeout: float = 10.0,
    ) -> list[dict[str, Any]]:
        """The payloads received for ``target_id`` (and ``attempt``), once ``count`` have come
        and been answered 2xx; fails the test saying what came if they do not in ``timeout``
        seconds. Move the clock first (``prosper.advance_clock``): calls end on it."""
        return self.receiver.wait_for(target_id, attempt=attempt, count=count, timeout=timeout)

    def answer(self, status: int = 200, *, times: int | None = None, delay: float = 0.0) -> None:
        """Answer ``status`` (after ``delay`` s) to the next ``times`` webhooks, or to all from
        now on: a receiver that errs, is slow, or comes back."""
        self.receiver.answer(status, times=times, delay=delay)

    def events(self, **filters: str) -> list[dict[str, Any]]:
        """The mock's record of its webhook events (``campaign_id``, ``target_id``, ``state``
        filters): each ``payload``, ``created_at``, ``state`` and its ``sends``."""
        if self.prosper.server is not None:
            world = self.prosper.world
            return [
                e.to_dict()
                for e in world.webhook_events(
                    filters.get("campaign_id"), filters.get("target_id"), filters.get("state")
                )
            ]
        return self.prosper.control.webhook_events(**filters)

    def _wire(self) -> None:
        if self.prosper.server is not None:
            world = self.prosper.world
            for campaign in world.campaigns():
                world.set_webhook(campaign.id, {"url": self.url})
            return
        control = self.prosper.control
        for found in control.campaigns():
            control.set_webhook(found["id"], self.url)


@pytest.fixture(scope="session")
def _prosper_receiver() -> Iterator[WebhookReceiver]:
    from prosper_mock.receiver import WebhookReceiver

    with WebhookReceiver() as receiver:
        yield receiver


@pytest.fixture
def prosper_webhooks(prosper: Prosper, _prosper_receiver: WebhookReceiver) -> ProsperWebhooks:
    """A loopback receiver every campaign of the mock sends its target-finished webhooks to,
    for this test: ``wait_for(target_id)``, ``payloads``, ``answer(500, times=1)``,
    ``events()``."""
    _prosper_receiver.answer(200)
    _prosper_receiver.clear()
    hooks = ProsperWebhooks(_prosper_receiver, prosper)
    hooks._wire()
    return hooks
