"""A stand-in for the real upstream: FastAPI itself, with the endpoint's signature.

The parity tests send the same raw bytes here and to the mock. The handler
echoes what FastAPI parsed, so a 200 shows what upstream would have looked up.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from fastapi import FastAPI, Query


def upstream_app() -> FastAPI:
    app = FastAPI(title="Prosper Voice")

    # The signature the vendored spec was generated from (same order, same types).
    @app.get("/api/v1/live-calls")
    async def get_live_call(
        key: str | None = Query(None, description="The key of the variable to search for"),
        value: str | None = Query(None, description="The value of the variable to search for"),
        call_log_id: int | None = Query(None, description="The ID of the call log to search for"),
        user_phone_number: str | None = Query(
            None, description="The phone number of the user to search for"
        ),
    ) -> dict:
        return {
            "key": key,
            "value": value,
            "call_log_id": call_log_id,
            "user_phone_number": user_phone_number,
        }

    return app


@contextmanager
def serve_upstream(app: FastAPI | None = None) -> Iterator[int]:
    """Run ``app`` (the live-calls stand-in by default) with uvicorn on a free port; yield it."""
    # h11, the parser the parity tests were written against: with httptools installed (the
    # mock's fast path parses with it) uvicorn's "auto" would pick httptools instead.
    config = uvicorn.Config(
        app or upstream_app(),
        host="127.0.0.1",
        port=0,
        log_level="critical",
        lifespan="off",
        http="h11",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.005)
    try:
        yield server.servers[0].sockets[0].getsockname()[1]
    finally:
        server.should_exit = True
        thread.join(timeout=5)
