"""The control API declared once: its document, its routes and its client agree."""

from __future__ import annotations

import inspect
import re
from typing import Any

import pytest
import requests

from prosper_mock import MockServer
from prosper_mock.control import declared
from prosper_mock.control.client import ControlClient
from prosper_mock.control.declared import BY_ID, OPERATIONS, document, render
from tests.control.routing import control_routes


def test_the_shipped_document_is_the_one_the_declarations_make() -> None:
    # Regenerate it with `python -m prosper_mock.control.declared`.
    assert declared.DOCUMENT_PATH.read_bytes() == render(document())
    assert declared.main(["--check"]) == 0


def test_the_served_document_is_the_declared_one_and_every_route_is_declared(
    mock: MockServer,
) -> None:
    served = requests.get(mock.url("/__mock/openapi.json"), timeout=5)
    assert served.content == declared.DOCUMENT_PATH.read_bytes()
    routed = control_routes(mock.app)
    assert routed == {(o.method, "/__mock" + o.path) for o in OPERATIONS}


class _Recorder(ControlClient):
    """Records what each method sends instead of sending it."""

    sent: list[tuple[str, str]]

    def _call(self, method: str, path: str, body: Any = None, prefix: str = "/__mock") -> Any:
        self.sent.append((method, prefix + path))
        return {
            "snapshot": "s",
            "campaigns": [],
            "entries": [],
            "more": False,
            "stubs": [],
            "events": [],
        }


def _sample(parameter: inspect.Parameter) -> Any:
    if parameter.annotation in ("int", "float"):
        return 7
    if parameter.annotation == "str":
        return "x"
    if "list" in str(parameter.annotation):
        return []
    return {}


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda o: o.operation_id)
def test_the_client_method_of_each_operation_sends_what_it_declares(
    operation: declared.ControlOperation,
) -> None:
    method = getattr(_Recorder, operation.operation_id)
    required = [
        p
        for p in list(inspect.signature(method).parameters.values())[1:]
        if p.default is inspect.Parameter.empty and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
    ]
    client = _Recorder("http://127.0.0.1:9")
    client.sent = []
    method(client, *(_sample(p) for p in required))
    template = re.escape("/__mock" + operation.path)
    template = re.sub(r"\\\{[a-z_]+\\\}", "[^/?]+", template)
    assert len(client.sent) == 1, client.sent
    sent_method, sent_path = client.sent[0]
    assert sent_method == operation.method
    assert re.fullmatch(template + r"(\?.*)?", sent_path), (sent_path, template)


def test_call_sends_any_declared_operation_and_refuses_wrong_path_parameters() -> None:
    client = _Recorder("http://127.0.0.1:9")
    client.sent = []
    client.call("restore", snapshot="a/b")
    assert client.sent == [("POST", "/__mock/snapshots/a%2Fb/restore")]
    with pytest.raises(TypeError, match="call_log_id"):
        client.call("live_call")
    with pytest.raises(KeyError):
        client.call("no_such_operation")


def test_every_declared_operation_has_a_handler() -> None:
    from prosper_mock.control.routes import HANDLERS

    assert set(HANDLERS) == set(BY_ID)
