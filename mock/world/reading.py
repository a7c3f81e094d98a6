"""The world's reads: campaigns, a target, pages of targets and call logs, the latest rows.

``Reads``, a service of ``World`` over its state (``WorldState``): every method holds the
world's lock, plays what the clock made due first (``Dialing.catch_up``, when reads may), and
reads the stores and the target table.
"""

from __future__ import annotations

import heapq
import math
from datetime import datetime

from prosper_mock.world import listing
from prosper_mock.world.dialing import Dialing
from prosper_mock.world.paging import Page, check_page
from prosper_mock.world.records import CallLog, LiveCall
from prosper_mock.world.state import WorldState
from prosper_mock.world.store import recency
from prosper_mock.world.targets import TargetView
from prosper_mock.world.views import Views


class Reads:
    """Campaign, target and call-log reads over a world's state."""

    def __init__(self, state: WorldState, views: Views, dialing: Dialing) -> None:
        self.state = state
        self.views = views
        self.dialing = dialing

    def follow_clock(self) -> None:
        """Before a read: play what the dialer has due by now, if reads may."""
        if self.state.plays_on_read:
            self.dialing.catch_up()

    def target(self, target_id: str) -> TargetView | None:
        """A target as it reads now (status and outcome derived from its calls)."""
        with self.state.lock:
            self.follow_clock()
            found = self.state.targets.get(target_id)
            return None if found is None else self.views.view(found)

    def targets_page(
        self,
        campaign_id: str,
        page: int,
        limit: int,
        *,
        status: str | None = None,
        from_date: datetime | None = None,
        to_date: datetime | None = None,
        from_last_call_date: datetime | None = None,
        to_last_call_date: datetime | None = None,
    ) -> Page[TargetView]:
        """A page (from 0) of a campaign's targets, oldest first (see ``world.listing``);
        raises ``UnknownCampaign``, or ``InvalidChange`` for a bad page, limit or filter."""
        with self.state.lock:
            self.follow_clock()
            self.views.known_campaign(campaign_id)
            state = self.state
            return listing.targets_page(
                state.targets, (state.live_calls, state.call_logs), campaign_id, self.views.view,
                page, limit, status,
                from_date, to_date, from_last_call_date, to_last_call_date,
            )  # fmt: skip

    def call_logs_page(
        self,
        page: int,
        limit: int,
        *,
        from_date: datetime | None = None,
        to_date: datetime | None = None,
        campaign_id: str | None = None,
    ) -> Page[CallLog]:
        """A page (from 0) of call logs, newest id first (see ``world.listing``)."""
        with self.state.lock:
            self.follow_clock()
            state = self.state
            return listing.call_logs_page(
                state.call_logs, state.targets, page, limit, from_date, to_date, campaign_id
            )

    def latest_live_calls(self, limit: int) -> tuple[list[LiveCall], int]:
        """The ``limit`` most recent live calls (latest start first, then the larger id) and
        how many there are.

        A seeded call's start grows with its id, so of the seeded rows only the ``limit``
        highest untouched ids can be among them: O(limit + changes) however big the world.
        A world read from a file (small) is scanned.
        """
        check_page(0, limit)
        with self.state.lock:
            self.follow_clock()
            live = self.state.live_calls
            base, changed = live.base, live.changed
            pool: list[LiveCall] = []
            if isinstance(base.ids, range) and base.count == len(self.state.generator.live_ids()):
                for call_log_id in reversed(base.ids):
                    if len(pool) >= limit:
                        break
                    if call_log_id not in changed and (row := live.get(call_log_id)) is not None:
                        pool.append(row)
                pool += [row for row in changed.values() if row is not None]
            else:
                pool = list(live)
            return heapq.nlargest(limit, pool, key=recency), len(live)

    def latest_call_logs(self, limit: int) -> tuple[list[CallLog], int]:
        """The ``limit`` call logs with the largest ids, newest first, and how many there are
        (the first page of ``call_logs_page``: O(limit · log n) however big the world)."""
        with self.state.lock:
            page = self.call_logs_page(0, limit)
            return list(page.items), len(self.state.call_logs)

    def latest_targets(self, campaign_id: str, limit: int) -> tuple[list[TargetView], int]:
        """A campaign's ``limit`` newest targets, newest first, and how many it has; raises
        ``UnknownCampaign``. The last pages of ``targets_page`` (the listing is oldest first)."""
        with self.state.lock:
            total = self.targets_page(campaign_id, 0, 1).page_count
            start = max(0, total - limit)
            first, skip = divmod(start, limit)
            items = list(self.targets_page(campaign_id, first, limit).items)[skip:]
            if skip and first + 1 < math.ceil(total / limit):
                items += self.targets_page(campaign_id, first + 1, limit).items
            return items[::-1], total
