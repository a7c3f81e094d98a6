"""Which seeded targets of a campaign have which status, as the seed left them.

A target's status is derived from its calls when it is read (``targets.view``), so a
status filter cannot bisect like a date window. But a seeded target whose row and whose
call are both untouched reads as the seed made it: ``Pending`` without a call, ``In
Progress`` while its generated call is live, else the status its seeded call log tells
(``Generator.seeded_status``: two hash draws, no row built). This index holds, per
campaign and status, the positions (into the campaign's slots) of those targets, built
the first time a campaign is filtered and kept: the seeded base never changes. Targets
the overlay touched are judged by their views instead (``listing.targets_page``).
"""

from __future__ import annotations

from array import array
from collections.abc import Sequence

from prosper_mock.world.campaigns import SeededTargets


class SeededStatuses:
    """Positions of a campaign's seeded targets by the status the seed gives them."""

    def __init__(self, seeded: SeededTargets) -> None:
        self._seeded = seeded
        self._built: dict[str, dict[str, array[int]]] = {}

    def positions(self, campaign_id: str, status: str) -> Sequence[int]:
        """Ascending positions in ``seeded.slots[campaign_id]`` whose seeded status is
        ``status`` (built on the first call for the campaign: O(campaign) once)."""
        found = self._built.get(campaign_id)
        if found is None:
            found = self._built[campaign_id] = self._build(campaign_id)
        return found.get(status, array("q"))

    def _build(self, campaign_id: str) -> dict[str, array[int]]:
        seeded = self._seeded
        gen = seeded.generator
        first = gen.recipe.first_id
        live_from = gen.live_ids().start
        kind = next(c.kind for c in seeded.campaigns if c.id == campaign_id)
        by_status: dict[str, array[int]] = {}
        for position, slot in enumerate(seeded.slots.get(campaign_id, ())):
            if slot >= seeded.calls:
                status = "Pending"
            else:
                call_log_id = first + slot
                if call_log_id >= live_from:  # live (a just-ended call is in both stores)
                    status = "In Progress"
                else:
                    status = gen.seeded_status(call_log_id, kind)
            by_status.setdefault(status, array("q")).append(position)
        return by_status
