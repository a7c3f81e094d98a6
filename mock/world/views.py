"""What every service of the world looks up: campaigns, targets and how a target reads now.

``Views`` reads the state (``WorldState``) as it is, without playing what the clock has
made due (``Reads`` does that first, through the dialing): the writes use it inside their
transactions, the reads after catching up.
"""

from __future__ import annotations

from prosper_mock.world.campaigns import Campaign
from prosper_mock.world.errors import UnknownCampaign, UnknownTarget
from prosper_mock.world.records import LiveCall
from prosper_mock.world.state import WorldState
from prosper_mock.world.targets import Target, TargetView, view


class Views:
    """Campaign and target lookups over a world's state."""

    def __init__(self, state: WorldState) -> None:
        self.state = state

    def campaigns(self) -> list[Campaign]:
        """Every campaign, in flow order."""
        with self.state.lock:
            return list(self.state.targets.seeded.campaigns)

    def campaign(self, campaign_id: str) -> Campaign | None:
        """The campaign with this id, if there is one."""
        with self.state.lock:
            campaigns = self.state.targets.seeded.campaigns
            return next((c for c in campaigns if c.id == campaign_id), None)

    def known_campaign(self, campaign_id: str) -> Campaign:
        """The campaign with this id; ``UnknownCampaign`` when there is none."""
        found = self.campaign(campaign_id)
        if found is None:
            raise UnknownCampaign(f"no campaign {campaign_id!r}")
        return found

    def known_target(self, target_id: str, campaign_id: str | None = None) -> Target:
        """The target with this id (of this campaign, when given); ``UnknownTarget``."""
        found = self.state.targets.get(target_id) if isinstance(target_id, str) else None
        if found is None or (campaign_id is not None and found.campaign_id != campaign_id):
            where = f" in campaign {campaign_id}" if campaign_id is not None else ""
            raise UnknownTarget(f"no target {target_id!r}{where}")
        return found

    def view(self, target: Target) -> TargetView:
        """``target`` as it reads now (status and outcome derived from its calls)."""
        state = self.state
        campaign = self.known_campaign(target.campaign_id)
        return view(
            target, campaign.kind, campaign.variables, state.live_calls, state.call_logs,
            state.generator.recipe.seed,
        )  # fmt: skip

    def live_call_of(self, target: Target) -> LiveCall | None:
        """The target's call that is live, if one is (its latest first)."""
        for call_log_id in reversed(target.call_log_ids):
            live = self.state.live_calls.get(call_log_id)
            if live is not None:
                return live
        return None
