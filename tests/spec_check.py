"""Judge real answers with openapi-core against the vendored spec."""

from __future__ import annotations

import requests
from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse
from openapi_core.templating.responses.exceptions import ResponseNotFound

from prosper_mock import MockServer, load_spec


def assert_matches_spec(response: requests.Response) -> None:
    """A documented status must match its schema; the kit's own 400/404 are FastAPI-shaped."""
    api = load_spec().openapi
    try:
        api.validate_response(
            RequestsOpenAPIRequest(response.request), RequestsOpenAPIResponse(response)
        )
    except ResponseNotFound:
        # Undocumented upstream: the kit's answers (docs/semantics.md) are HTTPException's.
        assert response.status_code in (400, 404, 409), response.status_code
        assert response.headers["content-type"] == "application/json"
        body = response.json()
        assert set(body) == {"detail"} and isinstance(body["detail"], str)


def get_live_call(server: MockServer, **params: object) -> requests.Response:
    """``GET /api/v1/live-calls`` on ``server``, its answer checked against the spec."""
    response = requests.get(server.url("/api/v1/live-calls"), params=params, timeout=5)
    assert_matches_spec(response)
    return response


def call(
    server: MockServer, method: str, path: str, *, json: object = None, **params: object
) -> requests.Response:
    """``method path`` on ``server`` with query ``params`` and a JSON body, checked against
    the spec."""
    response = requests.request(
        method, server.url(path), params=params or None, json=json, timeout=5
    )
    assert_matches_spec(response)
    return response
