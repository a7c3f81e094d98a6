"""Names the kit shares with the upstream Prosper Voice API and its clients."""

from __future__ import annotations

LIVE_CALLS_PATH = "/api/v1/live-calls"
# Where the kit reads an API key from by default (the variable's name, never its value)
# and the header upstream's security dependency reads it from.
API_KEY_ENV = "PROSPER_API_KEY"
API_KEY_HEADER = "X-Api-Key"
