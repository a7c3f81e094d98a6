"""``prosper-mock``: serve the mock, generate worlds, check contracts.

Each subcommand lives in a function pair here (``add_*`` builds its parser,
``run_*`` runs it); other modules add theirs to ``COMMANDS``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import signal
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from . import __version__
from .app import SERVER_OPTIONS, create_app, state_of
from .auth import DEFAULT_HEADER as DEFAULT_API_KEY_HEADER
from .auth import is_loopback_host
from .clock import VirtualClock
from .config import Semantics
from .generate import DEFAULT_ANCHOR, WorldRecipe
from .persistence import StateFile
from .simulate import Simulation
from .world import World, WorldError

if TYPE_CHECKING:
    from .recording import Recorder

DEFAULT_PORT = 8765
ACCESS_LOG_FORMAT = '%a "%r" %s %bB %Tfs'


def add_world_options(parser: argparse.ArgumentParser) -> None:
    """Options that choose a world: a seed and sizes, or a world file."""
    group = parser.add_argument_group("world")
    group.add_argument("--seed", type=int, default=0, help="faker seed (default: 0)")
    group.add_argument(
        "--live-calls",
        type=_count,
        default=WorldRecipe.live_calls,
        help=f"live calls to generate (default: {WorldRecipe.live_calls})",
    )
    group.add_argument(
        "--call-logs",
        type=_count,
        default=WorldRecipe.call_logs,
        help=f"finished calls to generate (default: {WorldRecipe.call_logs})",
    )
    group.add_argument(
        "--anchor",
        default=DEFAULT_ANCHOR,
        help=f"the generated world's 'now', ISO-8601 with offset (default: {DEFAULT_ANCHOR})",
    )
    group.add_argument(
        "--world",
        type=Path,
        metavar="FILE",
        help="serve this world file (e.g. fixtures/world.json) instead",
    )


def world_from_args(args: argparse.Namespace) -> World:
    if args.world is not None:
        return World.from_file(args.world)
    return World.generate(
        WorldRecipe(
            seed=args.seed, live_calls=args.live_calls, call_logs=args.call_logs, anchor=args.anchor
        )
    )


def add_semantics_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("undocumented behaviour (see README: Semantics)")
    group.add_argument(
        "--missing-lookup-status",
        type=int,
        choices=(400, 422),
        default=400,
        help="answer when no complete lookup is given (default: 400)",
    )
    group.add_argument(
        "--not-found-status",
        type=int,
        default=404,
        help="status when no store has the call (default: 404)",
    )
    group.add_argument(
        "--not-found-detail",
        default="Call not found",
        help="detail when no store has the call (default: 'Call not found')",
    )


def semantics_from_args(args: argparse.Namespace) -> Semantics:
    return Semantics(
        missing_lookup=args.missing_lookup_status,
        not_found_status=args.not_found_status,
        not_found_detail=args.not_found_detail,
    )


def add_serve(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "serve",
        help="serve the mock over HTTP",
        description="Serve GET /api/v1/live-calls from a seeded world.",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"default: {DEFAULT_PORT}")
    p.add_argument("--quiet", action="store_true", help="no per-request log lines")
    p.add_argument(
        "--workers",
        type=_count,
        default=1,
        help="processes serving one port (SO_REUSEPORT), each with the same seeded "
        "world; the world is then read-only (default: 1)",
    )
    add_world_options(p)
    add_semantics_options(p)
    live = p.add_argument_group("live world (README: Control API)")
    live.add_argument(
        "--virtual-clock",
        action="store_true",
        help="time moves only through POST /__mock/clock/advance",
    )
    live.add_argument(
        "--clock-start",
        "--start",
        metavar="ISO",
        help="the virtual clock's start (default: the world's anchor)",
    )
    live.add_argument(
        "--simulate",
        action="store_true",
        help="keep the world moving: calls start, map variables, and end",
    )
    live.add_argument(
        "--rate", type=float, default=6.0, help="simulated calls started per minute (default: 6)"
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
        default="PROSPER_MOCK_CONTROL_TOKEN",
        help="environment variable holding the control token (required to "
        "serve the control API on a non-loopback address)",
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
        type=_count,
        default=None,
        metavar="N",
        help="largest world file PUT /__mock/world takes, in bytes (default: 268435456, "
        "256 MiB; other control bodies: 1 MiB)",
    )
    live.add_argument("--no-control", action="store_true", help="serve no control API")
    auth = p.add_argument_group("authentication (README: Reliability and security)")
    auth.add_argument(
        "--require-api-key",
        action="store_true",
        help="answer 403 {'detail': 'Invalid API key'} unless the request carries "
        "the key from --api-key-env",
    )
    auth.add_argument(
        "--api-key-env",
        default="PROSPER_API_KEY",
        help="environment variable holding the key (default: PROSPER_API_KEY)",
    )
    auth.add_argument(
        "--api-key-header",
        default=DEFAULT_API_KEY_HEADER,
        help="header that carries the key (default: X-Api-Key)",
    )
    p.set_defaults(run=run_serve)


def run_serve(args: argparse.Namespace) -> int:
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
    token = args.control_token or os.environ.get(args.control_token_env) or None
    if not args.no_control and token is None and not is_loopback_host(args.host):
        raise ValueError(
            f"refusing to serve the control API on {args.host} without a token: set "
            f"{args.control_token_env} (or pass --control-token), or pass --no-control"
        )
    world = world_from_args(args)
    if args.virtual_clock:
        world.clock = VirtualClock(args.clock_start or args.anchor)
    elif args.clock_start:
        raise ValueError("--clock-start needs --virtual-clock")
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
    )
    if args.simulate:
        simulation = Simulation(world, args.seed, args.rate, world.clock.now())
        if state_file is not None:
            if state_file.restored_simulation is not None:
                simulation.resume(state_file.restored_simulation)
            state_file.simulation = simulation
        state_of(app).simulation = simulation
        app.on_startup.append(_tick_simulation)
        app.on_cleanup.append(_stop_simulation)
    if state_file is not None:
        state_file.attach(world)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    logging.getLogger("aiohttp.server").addFilter(_one_line_protocol_errors)
    source = f"from {args.world}" if args.world else f"(seed {args.seed})"
    stats = world.stats()
    banner = (
        f"prosper-mock {__version__}: {stats['live_calls']} live calls, "
        f"{stats['call_logs']} call logs {source}"
        + (f"; changes restored from {args.state_file}" if restored else "")
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
        run_serve(args)


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
            try:
                state.simulation.advance_to(state.world.clock.now())
            except WorldError as exc:  # e.g. a state file that cannot be written: keep going
                logging.getLogger("prosper_mock.simulate").error("simulation: %s", exc)
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


def add_generate(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "generate",
        help="write a generated world as JSON",
        description="Write a seeded world in the world-file format.",
    )
    p.add_argument("-o", "--output", type=Path, help="file to write (default: stdout)")
    add_world_options(p)
    p.set_defaults(run=run_generate)


def run_generate(args: argparse.Namespace) -> int:
    text = json.dumps(world_from_args(args).dump(), ensure_ascii=False, indent=2) + "\n"
    if args.output is None:
        sys.stdout.write(text)
    else:
        args.output.write_text(text, encoding="utf-8")
        print(f"wrote {args.output}", file=sys.stderr)
    return 0


def add_spec(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "spec",
        help="compare the vendored openapi.json with another version",
        description="Spec drift: exit 0 when nothing breaking changed, 1 when "
        "something did, 2 on errors.",
    )
    actions = p.add_subparsers(dest="spec_command", metavar="ACTION", required=True)
    for name, text in (
        ("diff", "show what changed, classed breaking or not"),
        ("update", "show the diff, then replace the vendored file"),
    ):
        a = actions.add_parser(name, help=text)
        source = a.add_mutually_exclusive_group(required=True)
        source.add_argument("--url", help="the other version's URL (e.g. upstream's /openapi.json)")
        source.add_argument("--file", help="the other version's file")
        a.add_argument(
            "--vendored",
            type=Path,
            default=None,
            help="the vendored file to compare with (default: the one this "
            "package serves, i.e. the repo's openapi.json when run from the repo)",
        )
        if name == "update":
            a.add_argument("--yes", action="store_true", help="replace without asking")
    p.set_defaults(run=run_spec)


def run_spec(args: argparse.Namespace) -> int:
    from .spec import vendored_spec_path
    from .specdiff import diff, load_document, report, spec_from_document

    vendored = (args.vendored or vendored_spec_path()).resolve()
    other = load_document(args.url, args.file)
    try:
        changes = diff(
            spec_from_document(json.loads(vendored.read_text())), spec_from_document(other)
        )
    except Exception as exc:  # openapi-core refuses an invalid document: say which
        raise ValueError(f"not a valid OpenAPI document: {exc}") from None
    print(report(changes, str(vendored), args.url or args.file), end="")
    breaking = any(c.breaking for c in changes)
    if args.spec_command == "update" and changes:
        if not args.yes:
            if not sys.stdin.isatty():
                raise ValueError("refusing to replace the vendored spec without --yes")
            if input(f"replace {vendored}? [y/N] ").strip().lower() != "y":
                return 1 if breaking else 0
        from .persistence import write_atomically

        write_atomically(
            vendored, (json.dumps(other, indent=2, ensure_ascii=False) + "\n").encode()
        )
        print(f"replaced {vendored}")
    return 1 if breaking else 0


def add_proxy(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "proxy",
        help="forward to the real API, checking every request and answer (README: Real-endpoint)",
        description="A validating proxy: answers are upstream's, unchanged; every spec or "
        "semantic violation is logged with a curl line and summarised at exit. Exit status: "
        "0 no violation, 1 violations seen, 2 usage errors.",
    )
    p.add_argument("--upstream", required=True, metavar="URL", help="the real API's base URL")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    p.add_argument("--port", type=int, default=8766, help="default: 8766 (0: any free port)")
    p.add_argument(
        "--timeout",
        type=float,
        default=30.0,
        help="seconds to wait for upstream before answering 504 (default: 30)",
    )
    p.add_argument(
        "--api-key-env",
        default="PROSPER_API_KEY",
        metavar="VAR",
        help="environment variable holding the API key to add (default: PROSPER_API_KEY)",
    )
    p.add_argument(
        "--api-key-header",
        default=DEFAULT_API_KEY_HEADER,
        help=f"header that carries the key (default: {DEFAULT_API_KEY_HEADER})",
    )
    p.add_argument(
        "--allow-insecure-key",
        action="store_true",
        help="send the API key over plain http to a non-loopback upstream anyway",
    )
    p.add_argument(
        "--allow-remote-clients",
        action="store_true",
        help="bind a non-loopback --host although every client then uses your API key",
    )
    p.add_argument(
        "--record",
        type=Path,
        metavar="FILE",
        help="write what passed through as a world file (personal data pseudonymised)",
    )
    p.add_argument(
        "--record-raw",
        action="store_true",
        help="record real personal data as it is (patient data: handle the file accordingly)",
    )
    p.set_defaults(run=run_proxy)


def run_proxy(args: argparse.Namespace) -> int:
    from urllib.parse import urlsplit

    from .auth import check_key_transport
    from .proxy import PROXY, ProxyOptions, create_proxy_app, serve_proxy
    from .pseudonymise import Pseudonymiser
    from .recording import Recorder

    if (
        urlsplit(args.upstream).scheme not in ("http", "https")
        or not urlsplit(args.upstream).netloc
    ):
        raise ValueError(f"--upstream must be an http(s) URL, got {args.upstream!r}")
    if args.timeout <= 0:
        raise ValueError("--timeout must be > 0")
    key = os.environ.get(args.api_key_env) or None
    check_key_transport(args.upstream, key is not None, args.allow_insecure_key)
    if key is not None and not is_loopback_host(args.host) and not args.allow_remote_clients:
        raise ValueError(
            f"refusing to bind {args.host}: every client of the proxy would use your API key; "
            "bind 127.0.0.1, or pass --allow-remote-clients"
        )
    if args.record_raw and args.record is None:
        raise ValueError("--record-raw needs --record FILE")
    recorder = None
    if args.record is not None:
        recorder = Recorder(args.record, None if args.record_raw else Pseudonymiser())
        try:  # an empty world file now: a path that cannot be written fails before serving
            recorder.write(force=True)
        except OSError as exc:
            raise ValueError(f"--record: cannot write {args.record}: {exc}") from None
        if args.record_raw:
            print(
                f"prosper-mock proxy: WARNING: recording REAL personal data, unpseudonymised, "
                f"to {args.record}: keep it out of version control and shared storage",
                file=sys.stderr,
                flush=True,
            )
    options = ProxyOptions(
        upstream=args.upstream,
        timeout=args.timeout,
        api_key_header=args.api_key_header,
        api_key_env=args.api_key_env,
        api_key=key,
    )
    app = create_proxy_app(options, recorder=recorder)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)

    def started(base: str) -> None:
        with_key = f" adding {args.api_key_header} from ${args.api_key_env}" if key else ""
        print(
            f"prosper-mock proxy: serving on {base} forwarding to {args.upstream}{with_key}"
            "  (Ctrl-C to stop)",
            file=sys.stderr,
            flush=True,
        )

    async def serve() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await serve_proxy(app, args.host, args.port, on_started=started, stop=stop)

    asyncio.run(serve())
    violations = app[PROXY].violations
    print(violations.summary(), end="", file=sys.stderr)
    if recorder is not None:
        kind = "RAW" if args.record_raw else "pseudonymised"
        if recorder.write_error is not None:
            failed = recorder.write_error
            saved = _rescue_recording(recorder)
            print(
                f"prosper-mock proxy: error: the recording of {len(recorder)} call(s) could not "
                f"be written to {args.record}: {failed}; "
                + (f"it was saved to {saved} instead" if saved else "it is lost"),
                file=sys.stderr,
            )
            return 2
        print(
            f"prosper-mock proxy: recorded {len(recorder)} call(s), {kind}, to {args.record}",
            file=sys.stderr,
        )
        for note in sorted(recorder.notes):
            print(f"  note: {note}", file=sys.stderr)
    return 1 if violations.items else 0


def _rescue_recording(recorder: Recorder) -> Path | None:
    """Write a recording its own path refused to a private file in the temporary directory."""
    fd, name = tempfile.mkstemp(prefix="prosper-mock-recording-", suffix=".json")
    os.close(fd)
    recorder.path = Path(name)
    try:
        recorder.write(force=True)
    except OSError:
        return None
    return recorder.path


def add_contract(sub: argparse._SubParsersAction) -> None:
    from prosper_contracts.cli import add_contract as add

    add(sub)


COMMANDS: list[Callable[[argparse._SubParsersAction], None]] = [
    add_serve,
    add_generate,
    add_contract,
    add_spec,
    add_proxy,
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="prosper-mock",
        description="Mock server and contract kit for Prosper Voice's GET /api/v1/live-calls.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for add in COMMANDS:
        add(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except (WorldError, ValueError) as exc:
        print(f"prosper-mock: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # e.g. the port is taken: say so, no traceback
        print(f"prosper-mock: error: {exc.strerror or exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _count(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must be >= 0")
    return value
