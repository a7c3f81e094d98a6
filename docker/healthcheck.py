"""The container's health check: exit 0 when the mock answers on its port, 1 otherwise.

With a control token the control API is on: ``GET /__mock/health`` (with the token) must say
it is prosper-voice-mock. Without one the image serves the API alone (docker/entrypoint.py),
and the vendored spec at ``GET /openapi.json``, which the mock always serves, must answer.
Standard library only: the slim image has no curl.
"""

from __future__ import annotations

import json
import os
import sys
import urllib.request

TOKEN_ENV = "PROSPER_MOCK_CONTROL_TOKEN"
PORT_ENV = "PROSPER_MOCK_PORT"


def healthy(port: str, token: str | None, timeout: float = 3.0) -> bool:
    """Whether the mock on 127.0.0.1:``port`` answers as it should."""
    base = f"http://127.0.0.1:{port}"
    if token:
        request = urllib.request.Request(
            base + "/__mock/health", headers={"Authorization": f"Bearer {token}"}
        )
    else:
        request = urllib.request.Request(base + "/openapi.json")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            body = json.load(answer)
    except (OSError, ValueError):  # refused, timed out, an error status, not JSON
        return False
    if token:
        return isinstance(body, dict) and body.get("service") == "prosper-voice-mock"
    return isinstance(body, dict) and "paths" in body


if __name__ == "__main__":
    ok = healthy(os.environ.get(PORT_ENV) or "8765", os.environ.get(TOKEN_ENV) or None)
    sys.exit(0 if ok else 1)
