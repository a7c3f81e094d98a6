"""The control routes an app serves, as the tests that hold them to a document compare them."""

from __future__ import annotations

from aiohttp import web

from prosper_mock.control.dashboard import FILES


def control_routes(app: web.Application) -> set[tuple[str, str]]:
    """``(method, path)`` of every control route but the dashboard's files and aiohttp's own
    ``HEAD`` and catch-all routes."""
    return {
        (route.method, route.resource.canonical)
        for route in app.router.routes()
        if route.resource is not None
        and route.resource.canonical.startswith("/__mock/")
        and route.method not in ("*", "HEAD")
    } - {("GET", path) for path, _ in FILES.values()}
