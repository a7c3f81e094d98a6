"""The world file's optional ``campaigns`` and ``targets`` sections.

A dump carries every campaign and every target as stored (``Target``: what it was given,
its staging status and the ids of its calls); what a target reads as is derived from those
calls again when the file is loaded. ``deleted_targets`` maps each deleted target's id to the
campaign it was in: its calls still count there (kit decision 23), and its id is never given
again. A file without the sections (every file written before they existed) has the seed's
campaigns and no targets.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from prosper_mock.world.campaigns import Campaign, SeededTargets, seeded_campaigns
from prosper_mock.world.errors import InvalidChange
from prosper_mock.world.generate.generator import Generator
from prosper_mock.world.generate.vocabulary import FLOWS
from prosper_mock.world.targets import Target, TargetTable, target_from_dict, target_to_dict

SECTIONS = ("campaigns", "targets", "deleted_targets")


def campaign_to_dict(campaign: Campaign) -> dict[str, Any]:
    found = asdict(campaign)
    found["variables"] = list(campaign.variables)
    return found


def sections(table: TargetTable) -> dict[str, Any]:
    """The sections of a world file for ``table``; ``deleted_targets`` only when one was."""
    found: dict[str, Any] = {
        "campaigns": [campaign_to_dict(c) for c in table.seeded.campaigns],
        "targets": [target_to_dict(t) for t in table],
    }
    deleted = deleted_targets(table)
    if deleted:
        found["deleted_targets"] = deleted
    return found


def deleted_targets(table: TargetTable) -> dict[str, str]:
    """Every target ``table`` had and deleted (the base's, and since), id -> its campaign."""
    found = dict(table.explicit_gone)
    for target_id, row in table.changed.items():
        if row is None and (campaign_id := table.campaign_of(target_id)) is not None:
            found[target_id] = campaign_id
    found.update(table.gone)
    return found


def file_table(data: Any, generator: Generator) -> TargetTable:
    """A world file's campaigns (the seed's when it has none), targets and deleted targets as
    a world's target table, with no seeded target (the file holds its own)."""
    campaigns, targets, deleted = parse_sections(data, seeded_campaigns(generator))
    table = TargetTable(SeededTargets.empty(generator, campaigns), targets)
    table.explicit_gone = deleted
    return table


def _campaign(raw: Any, where: str) -> Campaign:
    if not isinstance(raw, dict):
        raise InvalidChange(f"{where} must be an object")
    unknown = set(raw) - {"id", "name", "flow_id", "kind", "variables", "created_at"}
    if unknown:
        raise InvalidChange(f"{where}: unknown keys {sorted(unknown)}")
    flow = next((f for f in FLOWS if f.id == raw.get("flow_id")), None)
    if flow is None:
        known = [f.id for f in FLOWS]
        raise InvalidChange(f"{where}.flow_id must be one of {known}, got {raw.get('flow_id')!r}")
    for name in ("id", "name", "created_at"):
        if name in raw and not isinstance(raw[name], str):
            raise InvalidChange(f"{where}.{name} must be a string")
    if not raw.get("id"):
        raise InvalidChange(f"{where}.id: field required")
    # What a campaign runs is its flow's: a file may repeat it, never contradict it.
    if raw.get("kind", flow.target) != flow.target:
        raise InvalidChange(f"{where}.kind must be {flow.target!r}, the flow's")
    if list(raw.get("variables", flow.inputs)) != list(flow.inputs):
        raise InvalidChange(f"{where}.variables must be the flow's inputs {list(flow.inputs)}")
    return Campaign(
        raw["id"],
        raw.get("name", flow.name),
        flow.id,
        flow.target,
        flow.inputs,
        raw.get("created_at", "2025-01-01T00:00:00.000+00:00"),
    )


def parse_sections(
    data: Any, default_campaigns: Sequence[Campaign]
) -> tuple[tuple[Campaign, ...], list[Target], dict[str, str]]:
    """A world file's campaigns (the seed's when it has none), targets and deleted targets
    (id -> campaign), checked whole."""
    raw_campaigns = data.get("campaigns")
    if raw_campaigns is None:
        campaigns = tuple(default_campaigns)
    else:
        if not isinstance(raw_campaigns, list):
            raise InvalidChange("campaigns must be an array")
        campaigns = tuple(_campaign(c, f"campaigns[{i}]") for i, c in enumerate(raw_campaigns))
    ids = [c.id for c in campaigns]
    if len(set(ids)) != len(ids):
        raise InvalidChange("campaigns: two campaigns have the same id")
    raw_targets = data.get("targets", [])
    if not isinstance(raw_targets, list):
        raise InvalidChange("targets must be an array")
    targets = [target_from_dict(t, f"targets[{i}]") for i, t in enumerate(raw_targets)]
    seen: set[str] = set()
    known = set(ids)
    for i, target in enumerate(targets):
        if target.id in seen:
            raise InvalidChange(f"targets[{i}]: a second target with id {target.id!r}")
        seen.add(target.id)
        if target.campaign_id not in known:
            raise InvalidChange(f"targets[{i}].campaign_id: no campaign {target.campaign_id!r}")
    deleted = data.get("deleted_targets", {})
    if not isinstance(deleted, dict):
        raise InvalidChange("deleted_targets must map target ids to campaign ids")
    for target_id, campaign_id in deleted.items():
        where = f"deleted_targets[{target_id!r}]"
        if not target_id:
            raise InvalidChange("deleted_targets: a target id must not be empty")
        if not isinstance(campaign_id, str) or campaign_id not in known:
            raise InvalidChange(f"{where}: no campaign {campaign_id!r}")
        if target_id in seen:
            raise InvalidChange(f"{where}: the target is in targets too")
    return campaigns, targets, dict(deleted)
