"""The container's entrypoint: ``prosper-mock serve`` with the image's arguments (its CMD).

The image serves on every address (``--host 0.0.0.0``), where ``serve`` refuses to offer the
control API without a token. So the control API is on only when a token is given, from
``PROSPER_MOCK_CONTROL_TOKEN`` (or an explicit ``--control-token``/``--control-token-env``);
otherwise the mock serves the API alone (``--no-control``). The port is
``PROSPER_MOCK_PORT`` (8765) unless the arguments name one, so the health check finds it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence

TOKEN_ENV = "PROSPER_MOCK_CONTROL_TOKEN"
PORT_ENV = "PROSPER_MOCK_PORT"
DEFAULT_PORT = "8765"


def _given(args: Sequence[str], *flags: str) -> bool:
    return any(a == f or a.startswith(f + "=") for a in args for f in flags)


def command(args: Sequence[str], environ: Mapping[str, str]) -> list[str]:
    """The ``prosper-mock serve`` command line the container runs for ``args``."""
    serve = [sys.executable, "-m", "prosper_mock", "serve", *args]
    if not _given(args, "--port"):
        serve += ["--port", environ.get(PORT_ENV) or DEFAULT_PORT]
    tokened = environ.get(TOKEN_ENV) or _given(args, "--control-token", "--control-token-env")
    if not tokened and not _given(args, "--no-control"):
        serve.append("--no-control")
    return serve


if __name__ == "__main__":
    argv = command(sys.argv[1:], os.environ)
    os.execv(argv[0], argv)  # the mock becomes PID 1: SIGTERM from docker stop reaches it
