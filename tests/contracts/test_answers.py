"""The rules judged on every answer (``contracts/answers.py``), and the operation each
request is matched to."""

from __future__ import annotations

import json
from typing import Any

import pytest

from prosper_contracts.answers import operation_for, operations


def _judged(**answer: Any) -> list[str]:
    from prosper_contracts.answers import judge

    operation = operation_for(answer.get("method", "GET"), answer["path"])
    body = answer["body"]
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return [v.rule for v in judge(operation, answer["status"], "application/json", raw)]


def test_the_answer_rules() -> None:
    target = {"id": "t", "status": "Pending"}
    assert _judged(path="/api/v1/targets/t", status=404, body={"detail": "x"}) == []
    assert _judged(path="/api/v1/targets/t", status=418, body={}) == ["documented-status"]
    assert _judged(path="/api/v1/targets/t", status=200, body=target) == ["response-schema"]
    assert _judged(path="/api/v1/targets/t", status=502, body=b"") == ["no-server-error"]
    assert _judged(path="/api/v1/call-logs/1", status=404, body=b"<html>") == ["json-body"]
    assert _judged(path="/api/v1/nowhere", status=404, body=b"<html>") == []


@pytest.mark.parametrize(
    ("method", "path", "label"),
    [
        ("GET", "/api/v1/call-logs", "GET /api/v1/call-logs"),
        ("GET", "/api/v1/call-logs/12", "GET /api/v1/call-logs/{call_log_id}"),
        (
            "delete",
            "/api/v1/campaigns/c%2F1/targets",
            "DELETE /api/v1/campaigns/{campaign_id}/targets",
        ),
        (
            "GET",
            "/api/v1/campaigns/c/patient/targets",
            "GET /api/v1/campaigns/{campaign_id}/patient/targets",
        ),
    ],
)
def test_a_request_is_matched_to_its_operation(method: str, path: str, label: str) -> None:
    found = operation_for(method, path)
    assert found is not None and found.label == label


def test_every_operation_documents_the_kits_statuses_beside_the_spec() -> None:
    assert len(operations()) == 16
    assert all({400, 404} <= set(o.statuses) for o in operations())
    assert operation_for("GET", "/api/v1/nowhere") is None
    assert operation_for("PUT", "/api/v1/call-logs") is None
