"""One page of the request journal, as ``GET /__mock/journal`` answers it.

A page holds at most ``limit`` entries in at most ``JOURNAL_PAGE_BYTES`` of JSON (always
at least one entry), so an answer stays small however big entries are; ``next_since``
is the cursor for the next page and ``more`` says whether one has entries.
"""

from __future__ import annotations

from collections.abc import Iterable

from prosper_mock.serving.journal import JournalEntry, JournalFilter
from prosper_mock.serving.render import render_json

JOURNAL_PAGE_LIMIT = 1000  # entries in a page by default
JOURNAL_MAX_LIMIT = 10_000  # the most a client may ask for
JOURNAL_PAGE_BYTES = 1024 * 1024
_PAGE_ENVELOPE = len(b'{"entries":[],"next_since":,"more":false}') + 20  # 20: the cursor


def journal_page(
    entries: Iterable[JournalEntry], since: int, limit: int, wanted: JournalFilter
) -> bytes:
    """The JSON page of ``entries`` (those after ``since``, oldest first) that ``wanted`` keeps."""
    parts: list[bytes] = []
    size, more, cursor = _PAGE_ENVELOPE, False, since
    for e in entries:
        if not wanted.matches(e):
            cursor = e.seq
            continue
        part = render_json(e.to_dict())
        if len(parts) == limit or (parts and size + len(part) + 1 > JOURNAL_PAGE_BYTES):
            more = True
            break
        parts.append(part)
        size += len(part) + 1
        cursor = e.seq
    # Rendered entry by entry (the page's size is known exactly), then joined.
    return b'{"entries":[%s],"next_since":%d,"more":%s}' % (
        b",".join(parts),
        cursor,
        b"true" if more else b"false",
    )
