"""The world's reads: campaigns, a target, pages of targets and call logs, the latest rows.

A part of ``World`` (its base class), kept apart so the model stays readable: every
method holds the world's lock and reads the stores and the target table it owns.
"""

from __future__ import annotations

import heapq
import math
import threading
from datetime import datetime
from typing import TYPE_CHECKING

from prosper_mock.world import listing
from prosper_mock.world.campaigns import Campaign
from prosper_mock.world.errors import UnknownCampaign
from prosper_mock.world.generate.generator import Generator
from prosper_mock.world.paging import Page, check_page
from prosper_mock.world.records import CallLog, LiveCall
from prosper_mock.world.store import Store, recency
from prosper_mock.world.targets import Target, TargetTable, TargetView, view


class Reading:
    """Campaign and target reads over a world's stores (mixed into ``World``)."""

    lock: threading.RLock
    live_calls: Store[LiveCall]
    call_logs: Store[CallLog]
    targets: TargetTable
    generator: Generator
    # False when reads must not write (a world on a shared store: the lead process plays
    # what falls due, as writes every process then applies).
    plays_on_read: bool

    if TYPE_CHECKING:  # Targeting's: reads play what the dialer has due first

        def catch_up(self, now: float | None = None) -> int: ...

    def follow_clock(self) -> None:
        """Before a read: play what the dialer has due by now, if reads may."""
        if self.plays_on_read:
            self.catch_up()

    def campaigns(self) -> list[Campaign]:
        """Every campaign, in flow order."""
        with self.lock:
            return list(self.targets.seeded.campaigns)

    def campaign(self, campaign_id: str) -> Campaign | None:
        with self.lock:
            return next((c for c in self.targets.seeded.campaigns if c.id == campaign_id), None)

    def target(self, target_id: str) -> TargetView | None:
        """A target as it reads now (status and outcome derived from its calls)."""
        with self.lock:
            self.follow_clock()
            found = self.targets.get(target_id)
            return None if found is None else self._view(found)

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
        with self.lock:
            self.follow_clock()
            self._campaign(campaign_id)
            return listing.targets_page(
                self.targets, (self.live_calls, self.call_logs), campaign_id, self._view,
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
        with self.lock:
            self.follow_clock()
            return listing.call_logs_page(
                self.call_logs, self.targets, page, limit, from_date, to_date, campaign_id
            )

    def _campaign(self, campaign_id: str) -> Campaign:
        found = self.campaign(campaign_id)
        if found is None:
            raise UnknownCampaign(f"no campaign {campaign_id!r}")
        return found

    def _view(self, target: Target) -> TargetView:
        campaign = self._campaign(target.campaign_id)
        return view(
            target, campaign.kind, campaign.variables, self.live_calls, self.call_logs,
            self.generator.recipe.seed,
        )  # fmt: skip

    def latest_live_calls(self, limit: int) -> tuple[list[LiveCall], int]:
        """The ``limit`` most recent live calls (latest start first, then the larger id) and
        how many there are.

        A seeded call's start grows with its id, so of the seeded rows only the ``limit``
        highest untouched ids can be among them: O(limit + changes) however big the world.
        A world read from a file (small) is scanned.
        """
        check_page(0, limit)
        with self.lock:
            self.follow_clock()
            live = self.live_calls
            base, changed = live.base, live.changed
            pool: list[LiveCall] = []
            if isinstance(base.ids, range) and base.count == len(self.generator.live_ids()):
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
        with self.lock:
            page = self.call_logs_page(0, limit)
            return list(page.items), len(self.call_logs)

    def latest_targets(self, campaign_id: str, limit: int) -> tuple[list[TargetView], int]:
        """A campaign's ``limit`` newest targets, newest first, and how many it has; raises
        ``UnknownCampaign``. The last pages of ``targets_page`` (the listing is oldest first)."""
        with self.lock:
            total = self.targets_page(campaign_id, 0, 1).page_count
            start = max(0, total - limit)
            first, skip = divmod(start, limit)
            items = list(self.targets_page(campaign_id, first, limit).items)[skip:]
            if skip and first + 1 < math.ceil(total / limit):
                items += self.targets_page(campaign_id, first + 1, limit).items
            return items[::-1], total
