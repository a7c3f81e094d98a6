"""The control API's stubs and journal verification (``/__mock/stubs``, ``/journal/verify``).

Stubs live in the app's ``MockState.stubs`` (``serving/stubs.py``), changed in
``MockState.storing()`` (stored with ``--state-file`` before the answer); verification reads
its journal (``serving/verify.py``). Each handler is registered for its declared
operation (``declared.handles``); a refusal is a ``WorldError`` the route answers with
its status (``StubError`` 422, ``UnknownStub`` 404, ``StubConflict`` 409).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from prosper_mock.control.declared import handles
from prosper_mock.control.guard import body_of
from prosper_mock.serving.matching import ANY, RequestPattern
from prosper_mock.serving.render import json_response
from prosper_mock.serving.state import MockState
from prosper_mock.serving.stubs import UnknownStub, parse_stub
from prosper_mock.serving.verify import Expected, verify
from prosper_mock.world.errors import InvalidChange


def registered() -> None:
    """Nothing: importing this module registers its handlers."""


def _found(state: MockState, stub_id: str) -> dict[str, Any]:
    found = state.stubs.get(stub_id)
    if found is None:
        raise UnknownStub(f"no stub {stub_id!r} (removed, or it answered its times)")
    return found


@handles("stubs")
async def _stubs(request: web.Request, state: MockState) -> dict[str, Any]:
    return {"stubs": state.stubs.to_list()}


@handles("add_stub")
async def _add_stub(request: web.Request, state: MockState) -> web.StreamResponse:
    stub = parse_stub(body_of(request), state.spec)
    with state.storing():
        state.stubs.add(stub)
    return json_response(_found(state, stub.id), 201)


@handles("stub")
async def _stub(request: web.Request, state: MockState) -> dict[str, Any]:
    return _found(state, request.match_info["stub_id"])


@handles("remove_stub")
async def _remove_stub(request: web.Request, state: MockState) -> web.StreamResponse:
    stub_id = request.match_info["stub_id"]
    with state.storing():
        if not state.stubs.remove(stub_id):
            _found(state, stub_id)  # raises UnknownStub
    return web.Response(status=204)


@handles("clear_stubs")
async def _clear_stubs(request: web.Request, state: MockState) -> web.StreamResponse:
    with state.storing():
        state.stubs.clear()
    return web.Response(status=204)


@handles("verify")
async def _verify(request: web.Request, state: MockState) -> dict[str, Any]:
    body = body_of(request)
    if "count" in body and ("at_least" in body or "at_most" in body):
        raise InvalidChange("give count, or at_least and/or at_most, not both")
    method = body.get("method")
    pattern = RequestPattern(
        method=method.upper() if method is not None else None,
        path=body.get("path"),
        query=body.get("query", {}),
        headers=body.get("headers", {}),
        body=body.get("request_body", ANY),
        body_exact=body.get("request_body_exact", False),
    )
    expected = Expected(body.get("count"), body.get("at_least"), body.get("at_most"))
    if state.sharing is not None:
        await state.sharing.pull_journal()  # every process's requests
    return verify(state.journal.entries(), pattern, expected)
