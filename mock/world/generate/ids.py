"""The ids a seeded world gives its campaigns, its organization and its targets.

Every id looks like a UUID and is derived from the seed, so the same seed gives the same
ids. A seeded target's id encodes its *slot* (its place in the seeded world: a generated
call's id minus ``first_id``, then the pending targets), so a target is found from its id
alone, without an index of a million ids: the first 24 hex digits are the seed's prefix,
the last 12 the slot XOR a seed-derived mask (so consecutive slots do not look
consecutive). A target added later has the same shape with another prefix and its
creation number in place of the slot: both kinds are recognised by their prefix.
"""

from __future__ import annotations

import hashlib

_MASK_BITS = 48  # the last 12 hex digits of a UUID


def _hex(*key: object) -> str:
    return hashlib.blake2b("|".join(map(str, key)).encode(), digest_size=16).hexdigest()


def uuid_text(*key: object) -> str:
    """A UUID-shaped (version 4, variant 1) text derived from ``key``."""
    h = _hex(*key)
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) % 4]}{h[17:20]}-{h[20:32]}"


def _prefix(*key: object) -> str:
    return uuid_text(*key)[:24]  # "xxxxxxxx-xxxx-4xxx-yxxx-": what the last 12 digits follow


class TargetIds:
    """Encodes and decodes target ids of one seed."""

    __slots__ = ("_added", "_base", "_mask")

    def __init__(self, seed: int) -> None:
        self._base = _prefix(seed, "target")
        self._added = _prefix(seed, "added-target")
        self._mask = int(_hex(seed, "target-mask")[:12], 16)

    def base(self, slot: int) -> str:
        """The id of the seeded target in ``slot``."""
        return f"{self._base}{(slot ^ self._mask) & ((1 << _MASK_BITS) - 1):012x}"

    def added(self, number: int) -> str:
        """The id of the ``number``-th target added after the seed (from 0)."""
        return f"{self._added}{(number ^ self._mask) & ((1 << _MASK_BITS) - 1):012x}"

    def _decode(self, target_id: object, prefix: str) -> int | None:
        if not isinstance(target_id, str) or len(target_id) != 36:
            return None
        if not target_id.startswith(prefix):
            return None
        tail = target_id[24:]
        if not all(c in "0123456789abcdef" for c in tail):
            return None
        return int(tail, 16) ^ self._mask

    def slot(self, target_id: object) -> int | None:
        """The slot a seeded target's id encodes, or ``None`` when it is not one."""
        return self._decode(target_id, self._base)

    def number(self, target_id: object) -> int | None:
        """The creation number an added target's id encodes, or ``None``."""
        return self._decode(target_id, self._added)


def campaign_id(seed: int, flow_id: str) -> str:
    """The id of the campaign that runs ``flow_id`` in a world of ``seed``."""
    return uuid_text(seed, "campaign", flow_id)


def organization_id(seed: int) -> str:
    """The one organization a seeded world's campaigns belong to."""
    return uuid_text(seed, "organization")
