"""``prosper-mock serve``: run the mock on a port (one process or several workers)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
import time
from pathlib import Path

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from prosper_mock.base.net import is_loopback
from prosper_mock.base.upstream import API_KEY_ENV
from prosper_mock.base.version import __version__
from prosper_mock.cli.options import (
    DEFAULT_PORT,
    WORLD_DEFAULTS,
    Subcommands,
    add_semantics_options,
    add_world_options,
    fill_defaults,
    host,
    moment,
    port,
    positive,
    positive_number,
    refuse_ignored,
    semantics_from_args,
    world_from_args,
    world_rules,
)
from prosper_mock.server import create_app
from prosper_mock.serving.app import DEFAULT_BODY_TIMEOUT, SERVER_OPTIONS
from prosper_mock.serving.auth import DEFAULT_HEADER as DEFAULT_API_KEY_HEADER
from prosper_mock.serving.journal import DEFAULT_MAX_BYTES as DEFAULT_JOURNAL_BYTES
from prosper_mock.serving.journal import Journal
from prosper_mock.serving.state import state_of
from prosper_mock.world.clock import VirtualClock
from prosper_mock.world.model import WorldError
from prosper_mock.world.persistence import StateFile
from prosper_mock.world.simulation import Simulation

ACCESS_LOG_FORMAT = '%a "%r" %s %bB %Tfs'


def add_serve(sub: Subcommands) -> None:
    p = sub.add_parser(
        "serve",
        help="serve the mock over HTTP",
        description="Serve GET /api/v1/live-calls from a seeded world.",
    )
    p.add_argument(
        "--host", type=host, default="127.0.0.1", help="address to bind (default: 127.0.0.1)"
    )
    p.add_argument(
        "--port",
        type=port,
        default=DEFAULT_PORT,
        help=f"default: {DEFAULT_PORT} (0: any free port)",
    )
    p.add_argument("--quiet", action="store_true", help="no per-request log lines")
    p.add_argument(
        "--body-timeout",
        type=positive_number,
        default=DEFAULT_BODY_TIMEOUT,
        metavar="SECONDS",
        help="close a connection whose request body has not arrived within SECONDS "
        f"(default: {DEFAULT_BODY_TIMEOUT:g})",
    )
    p.add_argument(
        "--workers",
        type=positive,
        metavar="N",
        default=1,
        help="processes serving one port (SO_REUSEPORT), each with the same seeded "
        "world; the world is then read-only (default: 1)",
    )
    add_world_options(p, "serve this world file (e.g. fixtures/world.json) instead")
    add_semantics_options(p)
    live = p.add_argument_group(
        "live world",
        "a world that changes while served: through the control API under /__mock/ "
        "(start, change and end calls, move the clock), or by itself with --simulate",
    )
    live.add_argument(
        "--virtual-clock",
        action="store_true",
        help="time moves only through POST /__mock/clock/advance",
    )
    live.add_argument(
        "--clock-start",
        "--start",
        type=moment,
        metavar="ISO",
        help="the virtual clock's start, ISO-8601 (default: the world's anchor; "
        "needs --virtual-clock)",
    )
    live.add_argument(
        "--simulate",
        action="store_true",
        help="keep the world moving: calls start, map variables, and end",
    )
    live.add_argument(
        "--rate",
        type=positive_number,
        metavar="N",
        help="simulated calls started per minute (default: 6; needs --simulate)",
    )
    live.add_argument(
        "--state-file",
        type=Path,
        metavar="PATH",
        help="keep the world's changes across restarts in PATH",
    )
    live.add_argument(
        "--control-token",
        metavar="TOKEN",
        help="the control token itself (other users of this machine can read it in the "
        "process list: prefer the environment variable)",
    )
    live.add_argument(
        "--control-token-env",
        metavar="VAR",
        help="environment variable holding the control token (required to serve the "
        "control API on a non-loopback address; default: PROSPER_MOCK_CONTROL_TOKEN)",
    )
    live.add_argument(
        "--control-allow-origin",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="a web origin (http://host:port) whose pages may drive the control API "
        "(repeatable; by default requests with another Origin are refused)",
    )
    live.add_argument(
        "--control-allow-host",
        action="append",
        default=[],
        metavar="HOST",
        help="a Host name (any port) or host:port the control API answers besides "
        "the mock's own address (repeatable; needed behind a proxy or a DNS name)",
    )
    live.add_argument(
        "--max-world-bytes",
        type=positive,
        default=None,
        metavar="N",
        help="largest world file PUT /__mock/world takes, in bytes (default: 268435456, "
        "256 MiB; other control bodies: 1 MiB)",
    )
    live.add_argument("--no-control", action="store_true", help="serve no control API")
    live.add_argument(
        "--journal-max-bytes",
        type=positive,
        default=DEFAULT_JOURNAL_BYTES,
        metavar="N",
        help="memory the request journal may use; the oldest requests go first "
        "(default: 16777216, 16 MiB; at most 10 000 requests either way)",
    )
    auth = p.add_argument_group("authentication", "answer like upstream without a valid key")
    auth.add_argument(
        "--require-api-key",
        action="store_true",
        help="answer 403 {'detail': 'Invalid API key'} unless the request carries "
        "the key from --api-key-env",
    )
    auth.add_argument(
        "--api-key-env",
        metavar="VAR",
        help="environment variable holding the key (default: PROSPER_API_KEY; "
        "needs --require-api-key)",
    )
    auth.add_argument(
        "--api-key-header",
        metavar="HEADER",
        help=f"header that carries the key (default: {DEFAULT_API_KEY_HEADER}; "
        "needs --require-api-key)",
    )
    p.set_defaults(run=run_serve)


SERVE_DEFAULTS: dict[str, object] = {
    **WORLD_DEFAULTS,
    "rate": 6.0,
    "control_token_env": "PROSPER_MOCK_CONTROL_TOKEN",
    "api_key_env": API_KEY_ENV,
    "api_key_header": DEFAULT_API_KEY_HEADER,
}


def run_serve(args: argparse.Namespace) -> int:
    refuse_ignored(
        [
            *world_rules(args, simulate=args.simulate),
            (args.rate is not None, args.simulate, "--rate needs --simulate"),
            (
                args.clock_start is not None,
                args.virtual_clock,
                "--clock-start needs --virtual-clock",
            ),
            (
                args.control_token is not None or args.control_token_env is not None,
                not args.no_control,
                "--control-token and --control-token-env protect the control API: "
                "not with --no-control",
            ),
            *(
                (
                    getattr(args, name) is not None,
                    args.require_api_key,
                    f"{flag} needs --require-api-key",
                )
                for name, flag in (
                    ("api_key_env", "--api-key-env"),
                    ("api_key_header", "--api-key-header"),
                )
            ),
        ]
    )
    fill_defaults(args, SERVE_DEFAULTS)
    if args.workers > 1:
        diverging = [
            flag
            for flag, on in (
                ("--simulate", args.simulate),
                ("--state-file", args.state_file),
                ("--virtual-clock", args.virtual_clock),
            )
            if on
        ]
        if diverging:
            raise ValueError(
                f"--workers {args.workers} serves {args.workers} copies of the world, which "
                f"{', '.join(diverging)} would make diverge: use --workers 1 with them"
            )
        return _serve_workers(args)
    return _serve_one(args)


def _serve_one(args: argparse.Namespace) -> int:
    """Serve in this process (the options checked and their defaults filled in)."""
    token = args.control_token or os.environ.get(args.control_token_env) or None
    if not args.no_control and token is None and not is_loopback(args.host):
        raise ValueError(
            f"refusing to serve the control API on {args.host} without a token: set "
            f"{args.control_token_env} (or pass --control-token), or pass --no-control"
        )
    world = world_from_args(args)
    if args.virtual_clock:
        world.clock = VirtualClock(args.clock_start or world.origin["recipe"]["anchor"])
    restored = False
    state_file = None
    if args.state_file is not None:
        state_file = StateFile(args.state_file)
        restored = state_file.restore(world)
    api_key = None
    if args.require_api_key:
        key = os.environ.get(args.api_key_env)
        if not key:
            raise ValueError(f"--require-api-key: set the key in {args.api_key_env}")
        api_key = (args.api_key_header, key)
    app = create_app(
        world,
        semantics=semantics_from_args(args),
        control=not args.no_control,
        control_token=token,
        control_allow_origins=args.control_allow_origin,
        control_allow_hosts=args.control_allow_host,
        control_max_world_bytes=args.max_world_bytes,
        api_key=api_key,
        read_only=getattr(args, "read_only", False),
        journal=Journal(max_bytes=args.journal_max_bytes),
        body_timeout=args.body_timeout,
    )
    if args.simulate:
        simulation = Simulation(world, args.seed, args.rate, world.clock.now())
        if state_file is not None:
            state_file.resume(simulation)
            state_file.simulation = simulation
        state_of(app).simulation = simulation
        app.on_startup.append(_tick_simulation)
        app.on_cleanup.append(_stop_simulation)
    if state_file is not None:
        state_file.attach(world)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    logging.getLogger("aiohttp.server").addFilter(_one_line_protocol_errors)
    if args.quiet:  # no line for a client gone away; timeouts and refusals (warnings) still
        logging.getLogger("prosper_mock.access").setLevel(logging.WARNING)
    if restored and world.loaded is not None:  # the state's base replaced the start-up world
        source = f"from a world loaded through the control API, restored from {args.state_file}"
    else:
        source = f"from {args.world}" if args.world else f"(seed {args.seed})"
        source += f"; changes restored from {args.state_file}" if restored else ""
    stats = world.stats()
    banner = (
        f"prosper-mock {__version__}: {stats['live_calls']} live calls, "
        f"{stats['call_logs']} call logs {source}"
    )
    example = next(iter(world.live_calls), None) or next(iter(world.call_logs), None)
    asyncio.run(_serve(app, args, banner, example.call_log_id if example else None))
    return 0


def _serve_workers(args: argparse.Namespace) -> int:
    """Fork ``--workers`` processes that share one port; stop them all on SIGINT/SIGTERM."""
    import multiprocessing
    import socket

    port = args.port
    if port == 0:  # every worker must bind the same port: choose it here
        with socket.socket(socket.AF_INET6 if ":" in args.host else socket.AF_INET) as probe:
            probe.bind((args.host, 0))
            port = probe.getsockname()[1]
    worker_args = argparse.Namespace(
        **{
            **vars(args),
            "workers": 1,
            "port": port,
            "read_only": True,
            "reuse_port": True,
            "worker_count": args.workers,
            "parent_pid": os.getpid(),
        }
    )
    context = multiprocessing.get_context("fork")
    children = [
        context.Process(target=_worker, args=(worker_args, i), daemon=True)
        for i in range(args.workers)
    ]
    for child in children:
        child.start()
    stop = {"now": False}

    def on_signal(_sig: int, _frame: object) -> None:
        stop["now"] = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    while not stop["now"] and all(child.is_alive() for child in children):
        time.sleep(0.2)
    for child in children:
        if child.is_alive() and child.pid is not None:
            os.kill(child.pid, signal.SIGTERM)
    for child in children:
        child.join(35)
    return 0 if stop["now"] else 1


def _worker(args: argparse.Namespace, index: int) -> None:
    args.announce = index == 0
    with contextlib.suppress(KeyboardInterrupt):
        _serve_one(args)


async def _serve(
    app: web.Application, args: argparse.Namespace, banner: str, example_id: int | None
) -> None:
    """Serve until SIGINT/SIGTERM, then stop cleanly (in-flight requests finish)."""
    runner = web.AppRunner(
        app,
        access_log=None if args.quiet else logging.getLogger("prosper_mock.access"),
        access_log_format=ACCESS_LOG_FORMAT,
        handle_signals=False,
        **SERVER_OPTIONS,
    )
    await runner.setup()
    try:
        site = web.TCPSite(
            runner, args.host, args.port, reuse_port=getattr(args, "reuse_port", False)
        )
        await site.start()
        host = f"[{args.host}]" if ":" in args.host else args.host
        base = f"http://{host}:{runner.addresses[0][1]}"
        count = getattr(args, "worker_count", 1)
        workers = f" with {count} workers" if count > 1 else ""
        lines = [banner, f"serving on {base}{workers}  (Ctrl-C to stop)"]
        if example_id is not None:
            # The key is named, never shown: the shell fills it in from the environment.
            key = (
                f' -H "{args.api_key_header}: ${args.api_key_env}"' if args.require_api_key else ""
            )
            lines.append(f"try: curl{key} '{base}/api/v1/live-calls?call_log_id={example_id}'")
        if getattr(args, "announce", True):
            print("\n".join(lines), file=sys.stderr, flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        parent = getattr(args, "parent_pid", None)
        if parent is not None:  # a --workers child: never outlive the parent, even after kill -9
            watcher = loop.create_task(_stop_when_orphaned(parent, stop))
        await stop.wait()
        if parent is not None:
            watcher.cancel()
        print("prosper-mock: stopping", file=sys.stderr, flush=True)
    finally:
        await runner.cleanup()


_TICK = web.AppKey("prosper_mock_simulation_tick", asyncio.Task)


async def _tick_simulation(app: web.Application) -> None:
    """With the real clock the simulation follows time by itself (a virtual clock drives it)."""

    async def tick() -> None:
        state = state_of(app)
        while True:
            simulation = state.simulation
            try:
                if simulation is not None:
                    simulation.advance_to(state.world.clock.now())
            except WorldError as exc:  # e.g. a state file that cannot be written: keep going
                logging.getLogger("prosper_mock.world.simulation").error("simulation: %s", exc)
            await asyncio.sleep(0.5)

    app[_TICK] = asyncio.get_running_loop().create_task(tick())


async def _stop_simulation(app: web.Application) -> None:
    app[_TICK].cancel()


async def _stop_when_orphaned(parent: int, stop: asyncio.Event) -> None:
    while os.getppid() == parent:
        await asyncio.sleep(0.5)
    stop.set()


def _one_line_protocol_errors(record: logging.LogRecord) -> bool:
    """A malformed request is the client's problem: one line, not a traceback."""
    if record.exc_info and isinstance(record.exc_info[1], HttpProcessingError):
        exc = record.exc_info[1]
        record.msg = f"rejected a malformed request: {exc.code} {str(exc.message).splitlines()[0]}"
        record.args = ()
        record.exc_info = None
        record.levelno, record.levelname = logging.WARNING, "WARNING"
    return True
