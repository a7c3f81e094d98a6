"""Faults for a campaign's webhook deliveries: late, duplicated, out of order, or lost.

A campaign's webhook setting may carry ``faults``, in the grammar of the API's
``X-Mock-Fault`` (``fault[,fault...]``, each ``kind[=value]``), so a team can prove its
receiver is idempotent and order-proof:

- ``latency=MS`` or ``latency=MIN-MAX``: each delivery waits that long (a draw from the event's
  id in the range) before it is sent; 0 to 60000 ms.
- ``duplicate`` or ``duplicate=N``: each delivery is sent 1 + N times (N from 1 to 5), each
  send recorded.
- ``reorder``: the events waiting together for a receiver are sent newest first.
- ``drop``: nothing is sent; the send is recorded as failed ("dropped by a fault"), as a
  delivery lost on the way would be, for ``rerun-failed`` to send again.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from prosper_mock.world.errors import InvalidChange

MAX_LATENCY_MS = 60_000
MAX_DUPLICATES = 5
KINDS = ("latency", "duplicate", "reorder", "drop")
_NUMBER = re.compile(r"[0-9]{1,18}")


@dataclass(frozen=True)
class DeliveryFaults:
    """The faults of a campaign's deliveries (none by default)."""

    latency: tuple[int, int] | None = None  # milliseconds, low and high
    duplicates: int = 0
    reorder: bool = False
    drop: bool = False

    def delay(self, event_id: int) -> float:
        """Seconds the delivery of event ``event_id`` waits (the same for the same event)."""
        if self.latency is None:
            return 0.0
        low, high = self.latency
        return random.Random(event_id).randint(low, high) / 1000

    @property
    def text(self) -> str:
        """The faults in their grammar, as a setting shows them ("" for none)."""
        parts = []
        if self.latency is not None:
            low, high = self.latency
            parts.append(f"latency={low}" if low == high else f"latency={low}-{high}")
        if self.duplicates:
            parts.append(f"duplicate={self.duplicates}")
        if self.reorder:
            parts.append("reorder")
        if self.drop:
            parts.append("drop")
        return ",".join(parts)


def _number(text: str, fault: str) -> int:
    if not _NUMBER.fullmatch(text):
        raise InvalidChange(f"faults: bad fault {fault!r}: {text!r} is not a whole number")
    return int(text)


def parse_delivery_faults(text: str) -> DeliveryFaults:
    """``text`` in the faults grammar; ``InvalidChange`` naming the bad fault."""
    if not isinstance(text, str):
        raise InvalidChange("faults: a string such as 'latency=500,duplicate'")
    found = DeliveryFaults()
    for raw in text.split(","):
        fault = raw.strip(" \t")
        if not fault:
            if text.strip(" \t"):
                raise InvalidChange(f"faults: an empty fault in {text!r}")
            continue
        kind, has_value, value = fault.partition("=")
        if kind == "latency" and has_value:
            low, dash, high = value.partition("-")
            lo = _number(low, fault)
            hi = _number(high, fault) if dash else lo
            if not 0 <= lo <= hi <= MAX_LATENCY_MS:
                raise InvalidChange(
                    f"faults: bad fault {fault!r}: milliseconds must be 0 <= min <= max <= "
                    f"{MAX_LATENCY_MS}"
                )
            found = DeliveryFaults((lo, hi), found.duplicates, found.reorder, found.drop)
        elif kind == "duplicate":
            times = _number(value, fault) if has_value else 1
            if not 1 <= times <= MAX_DUPLICATES:
                raise InvalidChange(
                    f"faults: bad fault {fault!r}: duplicates must be 1 to {MAX_DUPLICATES}"
                )
            found = DeliveryFaults(found.latency, times, found.reorder, found.drop)
        elif kind in ("reorder", "drop") and not has_value:
            reorder, drop = found.reorder or kind == "reorder", found.drop or kind == "drop"
            found = DeliveryFaults(found.latency, found.duplicates, reorder, drop)
        else:
            raise InvalidChange(
                f"faults: bad fault {fault!r}: one of latency=MS[-MS], duplicate[=N], reorder, drop"
            )
    return found
