"""The semantic rules across operations: call logs, campaign targets and their pages.

Each rule needs several answers (a call log and the live-calls snapshot of the same call, every
page of a list, a target and the state of its calls), so these are pure functions of answers
already fetched; ``test_workflow.py`` fetches them, the unit tests hand them canned ones. The
rule names and descriptions are registered in ``rules.RULES`` with the others.

Field mapping of ``call-log-matches-snapshot`` (``GET /api/v1/call-logs/{id}``'s
``CallLogExportInformation`` next to ``GET /api/v1/live-calls?call_log_id=id`` answering
``source=call_logs``, which is the stored call log flattened, ``world.flatten.snapshot``):

- the log's ``id`` is a string, the snapshot's ``call_log_id`` (and ``id``, when present) an
  integer: they name the same number;
- ``to``, ``from_``, ``call_length``, ``call_ended_reason``, ``campaign_target_id``: equal;
  ``created_at``: the same instant (text may differ in its offset spelling);
- the objects ``agent_data``, ``call_categorization``, ``post_call_data``, ``qa``: the log's
  object flattened equals the snapshot's dotted keys under that name (``null`` and ``{}``
  leave none);
- ``transcripts``: equal; ``recording_urls``: equal when the log carries any (they are
  included on request only).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from prosper_contracts.rules import Violation
from prosper_mock import flatten

SCALARS = ("to", "from_", "call_length", "call_ended_reason", "campaign_target_id")
OBJECTS = ("agent_data", "call_categorization", "post_call_data", "qa")
IN_PROGRESS = "In Progress"
MATCH = "call-log-matches-snapshot"


def check_call_log_matches_snapshot(log: Any, snapshot: Any) -> list[Violation]:
    """Where a call log and the live-calls snapshot of the same finished call disagree."""
    if not isinstance(log, Mapping) or not isinstance(snapshot, Mapping):
        return [Violation(MATCH, "the call log or the snapshot is not an object")]
    if snapshot.get("source") != "call_logs":
        return []  # still live (or not a snapshot at all): nothing to compare yet
    found: list[Violation] = []
    number = snapshot.get("call_log_id")
    if str(log.get("id")) != str(number):
        found.append(Violation(MATCH, f"log id {log.get('id')!r}, snapshot {number!r}"))
    if "id" in snapshot and snapshot["id"] != number:
        found.append(Violation(MATCH, f"snapshot id {snapshot['id']!r} is not {number!r}"))
    for name in SCALARS:
        if name in snapshot and name in log and snapshot[name] != log[name]:
            found.append(
                Violation(MATCH, f"{name}: log {log[name]!r}, snapshot {snapshot[name]!r}")
            )
    if "created_at" in snapshot and not same_instant(log.get("created_at"), snapshot["created_at"]):
        found.append(
            Violation(
                MATCH,
                f"created_at: log {log.get('created_at')!r}, snapshot {snapshot['created_at']!r}",
            )
        )
    for name in OBJECTS:
        value = log.get(name)
        expected = flatten({name: value}) if isinstance(value, Mapping) else {}
        got = {k: v for k, v in snapshot.items() if k.startswith(name + ".")}
        if expected != got:
            found.append(Violation(MATCH, f"{name}: log {_keys(expected)}, snapshot {_keys(got)}"))
    if "transcripts" in snapshot and snapshot["transcripts"] != log.get("transcripts"):
        found.append(Violation(MATCH, "transcripts differ"))
    urls = log.get("recording_urls")
    if urls and "recording_urls" in snapshot and snapshot["recording_urls"] != urls:
        found.append(Violation(MATCH, "recording_urls differ"))
    return found


def check_matches_listing(rule: str, listed: Any, fetched: Any) -> list[Violation]:
    """Where the answer by id disagrees with the list's entry for the same item: every field
    the entry carries must be the same (``created_at``: the same instant)."""
    if not isinstance(listed, Mapping) or not isinstance(fetched, Mapping):
        return [Violation(rule, "the listed item or the answer by id is not an object")]
    what = f"{listed.get('id')!r}"
    if str(fetched.get("id")) != str(listed.get("id")):
        return [Violation(rule, f"asked for {what}, got id {fetched.get('id')!r}")]
    found: list[Violation] = []
    for name, value in listed.items():
        if name not in fetched:
            found.append(Violation(rule, f"{what}: {name} is listed but not in the answer by id"))
        elif fetched[name] != value and not (
            name == "created_at" and same_instant(fetched[name], value)
        ):
            found.append(
                Violation(
                    rule, f"{what}: {name}: listed {_clip(value)}, by id {_clip(fetched[name])}"
                )
            )
    return found


def _clip(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def same_instant(a: Any, b: Any) -> bool:
    """Whether two timestamps are the same instant (the same text when either is no date)."""
    if a == b:
        return True
    try:
        return datetime.fromisoformat(str(a)) == datetime.fromisoformat(str(b))
    except ValueError:
        return False


def _keys(flat: Mapping[str, Any]) -> str:
    text = repr(dict(sorted(flat.items())))
    return text if len(text) <= 100 else text[:97] + "..."


Page = tuple[int, Any]  # (page number asked, the 200 answer's body)


def walk_pages(
    fetch: Callable[[int], tuple[int, Any]], limit: int, items_key: str, max_pages: int = 200
) -> tuple[list[Page], str | None]:
    """Every page from 0 until one holds fewer than ``limit`` items (the one after a full
    last page is fetched too, to see it empty), not trusting ``next_page``.

    ``fetch(page)`` returns ``(status, body)``. Returns the pages and, when the walk stopped
    on anything but a short page (a non-200, a body without the list, too many pages), why.
    """
    pages: list[Page] = []
    for number in range(max_pages):
        status, body = fetch(number)
        if status != 200:
            return pages, f"page {number} answered {status}"
        items = body.get(items_key) if isinstance(body, Mapping) else None
        if not isinstance(items, list):
            return pages, f"page {number} has no list {items_key!r}"
        pages.append((number, body))
        if len(items) < limit:
            return pages, None
    return pages, f"more than {max_pages} pages of {limit}"


def check_pages(
    rule: str,
    pages: Sequence[Page],
    limit: int,
    items_key: str,
    everything: Sequence[str] | None = None,
    page_count_required: bool = True,
) -> list[Violation]:
    """The pages of a list walked with ``limit``: complete (the ids of ``everything``, when
    known), no id on two pages, every page but the last full, ``page_count`` the number of
    non-empty pages (0 or 1 for an empty list) and ``next_page`` the next page holding items
    (``null`` on the last). ``page_count_required``: ``null`` is wrong (call logs) rather
    than unjudged (targets, where the schema allows it)."""
    found: list[Violation] = []
    ids: list[str] = []
    sizes = [len(body[items_key]) for _, body in pages]
    total = sum(sizes)
    pages_with_items = math.ceil(total / limit)
    counts = {0, 1} if total == 0 else {pages_with_items}
    for (number, body), size in zip(pages, sizes, strict=True):
        ids += [str(item.get("id")) for item in body[items_key] if isinstance(item, Mapping)]
        if size > limit:
            found.append(Violation(rule, f"page {number} holds {size} items, limit {limit}"))
        if number < pages_with_items - 1 and size != limit:
            found.append(Violation(rule, f"page {number} holds {size} items, not {limit}"))
        count = body.get("page_count")
        if count is None and not page_count_required:
            pass
        elif count not in counts:
            want = " or ".join(map(str, sorted(counts)))
            found.append(
                Violation(rule, f"page {number}: page_count {count!r}, {total} items make {want}")
            )
        want_next = number + 1 if number + 1 < pages_with_items else None
        if body.get("next_page") != want_next:
            found.append(
                Violation(
                    rule, f"page {number}: next_page {body.get('next_page')!r}, not {want_next}"
                )
            )
    twice = sorted({i for i in ids if ids.count(i) > 1})
    if twice:
        found.append(Violation(rule, f"ids on two pages: {twice[:5]}"))
    if everything is not None:
        missing = sorted(set(map(str, everything)) - set(ids))
        extra = sorted(set(ids) - set(map(str, everything)))
        if missing or extra:
            found.append(
                Violation(rule, f"the pages miss {missing[:5]} and add {extra[:5]} (of {total})")
            )
    return found


def check_call_log_ids_resolve(
    target: Mapping[str, Any], resolves: Mapping[int, bool]
) -> list[Violation]:
    """Every ``call_log_ids`` entry of a target names a call found by ``GET /call-logs/{id}``
    or ``GET /live-calls?call_log_id=`` (``resolves``: id -> found by either)."""
    return [
        Violation(
            "call-log-ids-resolve",
            f"target {target.get('id')!r} lists call {i}: not in call-logs nor live-calls",
        )
        for i in target.get("call_log_ids") or ()
        if not resolves.get(i, False)
    ]


def check_target_status(
    target: Mapping[str, Any], sources: Mapping[int, str | None]
) -> list[Violation]:
    """A target with a live call is ``In Progress``; one whose calls have all ended is not.

    ``sources``: each of its ``call_log_ids`` -> the live-calls answer's ``source``
    (``live_calls`` live, ``call_logs`` ended, ``None`` not found: not judged).
    """
    ids = list(target.get("call_log_ids") or ())
    status = target.get("status")
    live = [i for i in ids if sources.get(i) == "live_calls"]
    if live and status != IN_PROGRESS:
        return [
            Violation(
                "target-status-agrees",
                f"target {target.get('id')!r} has live call {live[0]} but status {status!r}",
            )
        ]
    if ids and all(sources.get(i) == "call_logs" for i in ids) and status == IN_PROGRESS:
        return [
            Violation(
                "target-status-agrees",
                f"target {target.get('id')!r} is {IN_PROGRESS!r} but its calls {ids[:5]} all ended",
            )
        ]
    return []
