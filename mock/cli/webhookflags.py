"""``serve``'s webhook flags: where every campaign's target-finished webhook goes by default,
and how long a delivery may take."""

from __future__ import annotations

import argparse
from typing import Any

from prosper_mock.world.errors import InvalidChange
from prosper_mock.world.webhooks import checked_url

DEFAULT_WEBHOOK_TIMEOUT = 5.0  # serving.webhooks.DEFAULT_TIMEOUT, without importing aiohttp


def webhook_url(text: str) -> str:
    """``--webhook-url``: an absolute http(s) URL."""
    try:
        return checked_url(text, "--webhook-url")
    except InvalidChange as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def webhook_timeout(text: str) -> float:
    """``--webhook-timeout``: seconds, over 0 and at most 600."""
    try:
        seconds = float(text)
    except ValueError:
        seconds = float("nan")
    if not 0 < seconds <= 600:
        raise argparse.ArgumentTypeError(f"{text!r}: seconds over 0 and at most 600")
    return seconds


def add_webhook_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "webhooks", "the campaign target finished webhook, POSTed when a target's call ends"
    )
    group.add_argument(
        "--webhook-url",
        type=webhook_url,
        metavar="URL",
        help="where every campaign's webhook goes unless the control API gives the campaign "
        "its own (default: none, no deliveries)",
    )
    group.add_argument(
        "--webhook-timeout",
        type=webhook_timeout,
        default=DEFAULT_WEBHOOK_TIMEOUT,
        metavar="SECONDS",
        help="how long one delivery may take, connecting included, before it is recorded "
        f"as failed (default: {DEFAULT_WEBHOOK_TIMEOUT:g})",
    )


def webhook_options(args: argparse.Namespace) -> dict[str, Any]:
    """The ``ServeOptions`` fields of the webhook flags."""
    return {"webhook_url": args.webhook_url, "webhook_timeout": args.webhook_timeout}
