"""The dashboard: a page the mock serves at ``/__mock/`` that shows and drives its world.

Three static files shipped in the package (``static/``: HTML, JavaScript, CSS; no build
step, nothing fetched from elsewhere, so it works offline). The page reads and changes the
world only through the control API and the vendored API, as any client would; these routes
serve its files and nothing else. They pass the control guard (``guard.refusal``): loopback
clients naming the mock's own ``Host`` and no foreign page, as for every control request;
with a control token the files themselves are served without it (they hold no data) and
the page sends it, taken from the URL fragment (``#token=...``), with every request.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from importlib import resources

from aiohttp import web

from prosper_mock.control.bodies import PREFIX
from prosper_mock.control.guard import ControlPolicy, refusal
from prosper_mock.serving.connections import guarded

# name in static/ → the path it is served at, and its Content-Type
FILES = {
    "index.html": (PREFIX + "/", "text/html"),
    "app.js": (PREFIX + "/static/app.js", "text/javascript"),
    "app.css": (PREFIX + "/static/app.css", "text/css"),
}
# The page may load its own files and talk to its own origin, nothing else: no inline
# script, no other site, not framed by another page.
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
        "img-src 'self' data:; form-action 'none'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def dashboard_url(base: str) -> str:
    """Where a mock at ``base`` (``http://host:port``) serves its dashboard."""
    return base.rstrip("/") + PREFIX + "/"


def static_bytes(name: str) -> bytes:
    """One of the dashboard's files, as the package ships it."""
    return resources.files("prosper_mock.control").joinpath("static", name).read_bytes()


def add_dashboard_routes(app: web.Application, policy: ControlPolicy) -> list[str]:
    """Serve the dashboard's files (and ``/__mock`` → ``/__mock/``); the paths routed."""
    for name, (path, content_type) in FILES.items():
        app.router.add_get(path, guarded(app, _file(static_bytes(name), content_type, policy)))
    app.router.add_get(PREFIX, guarded(app, _to_page(policy)))
    return [PREFIX, *(path for path, _ in FILES.values())]


def _file(body: bytes, content_type: str, policy: ControlPolicy) -> Handler:
    async def handle(request: web.Request) -> web.StreamResponse:
        refused = refusal(request, policy, token_needed=False)
        if refused is not None:
            return refused
        return web.Response(body=body, content_type=content_type, charset="utf-8", headers=HEADERS)

    return handle


def _to_page(policy: ControlPolicy) -> Handler:
    async def handle(request: web.Request) -> web.StreamResponse:
        refused = refusal(request, policy, token_needed=False)
        if refused is not None:
            return refused
        # Relative to the mock itself: a browser keeps the URL's fragment (the token).
        return web.Response(status=307, headers={"Location": PREFIX + "/"})

    return handle
