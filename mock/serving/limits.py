"""The limits a server puts on a request, as numbers alone.

Kept apart from the modules that apply them (which import aiohttp) so that the command
line can show them as defaults without loading the server.
"""

from __future__ import annotations

# A request's body must have arrived this many seconds after its headers, or the
# connection is closed unanswered (uvicorn closes a stalled connection the same way;
# aiohttp by itself would wait for ever).
DEFAULT_BODY_TIMEOUT = 10.0
