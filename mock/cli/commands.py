"""``prosper-mock``: serve the mock, generate worlds, check contracts.

Each subcommand lives in a function pair here (``add_*`` builds its parser,
``run_*`` runs it); other modules add theirs to ``COMMANDS``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ipaddress
import json
import logging
import math
import os
import re
import signal
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, TypeAlias

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from prosper_mock.base.progress import progress_bar
from prosper_mock.base.version import __version__
from prosper_mock.serving.app import DEFAULT_BODY_TIMEOUT, SERVER_OPTIONS, create_app, state_of
from prosper_mock.serving.auth import DEFAULT_HEADER as DEFAULT_API_KEY_HEADER
from prosper_mock.serving.auth import is_loopback_host
from prosper_mock.serving.journal import DEFAULT_MAX_BYTES as DEFAULT_JOURNAL_BYTES
from prosper_mock.serving.journal import Journal
from prosper_mock.serving.semantics import Semantics
from prosper_mock.world.clock import VirtualClock, timestamp_of
from prosper_mock.world.generate import DEFAULT_ANCHOR, WorldRecipe
from prosper_mock.world.model import WORLD_FORMAT, World, WorldError
from prosper_mock.world.persistence import StateFile
from prosper_mock.world.records import to_dict
from prosper_mock.world.simulation import Simulation

if TYPE_CHECKING:
    from prosper_contracts.endpoint.recording import Recorder

DEFAULT_PORT = 8765
ACCESS_LOG_FORMAT = '%a "%r" %s %bB %Tfs'


class UsageError(ValueError):
    """A wrong invocation found after parsing: reported like argparse's own errors."""


class Parser(argparse.ArgumentParser):
    """argparse, but an error is one line naming the command, and where its help is."""

    def error(self, message: str) -> NoReturn:
        # The full usage block of a command with twenty options buries the one line that
        # matters; --help shows it to whoever wants it.
        self.exit(2, f"{self.prog}: error: {message}\nsee '{self.prog} --help'\n")


# Where each subcommand adds its parser (``add_*``); add_parser makes a ``Parser`` too.
# (A string: argparse's action is generic for type checkers only.)
Subcommands: TypeAlias = "argparse._SubParsersAction[Parser]"


def refuse_ignored(rules: Sequence[tuple[bool, bool, str]]) -> None:
    """Refuse an option that would change nothing: ``(given, takes_effect, message)``."""
    for given, takes_effect, message in rules:
        if given and not takes_effect:
            raise UsageError(message)


def fill_defaults(args: argparse.Namespace, defaults: dict[str, object]) -> None:
    """Options left at ``None`` (so that ``refuse_ignored`` sees whether they were given)
    take their documented defaults."""
    for name, value in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, value)


WORLD_DEFAULTS: dict[str, object] = {
    "seed": 0,
    "live_calls": WorldRecipe.live_calls,
    "call_logs": WorldRecipe.call_logs,
    "anchor": DEFAULT_ANCHOR,
}


def add_world_options(parser: argparse.ArgumentParser, world_help: str) -> None:
    """Options that choose a world: a seed and sizes, or a world file (``world_help``)."""
    group = parser.add_argument_group("world")
    group.add_argument("--seed", type=int, metavar="N", help="faker seed (default: 0)")
    group.add_argument(
        "--live-calls",
        type=count,
        metavar="N",
        help=f"live calls to generate (default: {WorldRecipe.live_calls})",
    )
    group.add_argument(
        "--call-logs",
        type=count,
        metavar="N",
        help=f"finished calls to generate (default: {WorldRecipe.call_logs})",
    )
    group.add_argument(
        "--anchor",
        type=moment,
        metavar="ISO",
        help=f"the generated world's 'now', ISO-8601 with offset (default: {DEFAULT_ANCHOR})",
    )
    group.add_argument("--world", type=Path, metavar="FILE", help=world_help)


def world_rules(
    args: argparse.Namespace, simulate: bool | None = None
) -> list[tuple[bool, bool, str]]:
    """``refuse_ignored`` rules of the world options: they make a generated world only, but
    the seed also seeds ``--simulate`` (``simulate``: whether given; ``None``: no such option)."""
    generated = args.world is None
    rules = [
        (getattr(args, name) is not None, generated, f"{flag} sizes a generated world, not --world")
        for name, flag in (("live_calls", "--live-calls"), ("call_logs", "--call-logs"))
    ]
    rules.append(
        (args.anchor is not None, generated, "--anchor dates a generated world, not --world")
    )
    rules.append(
        (
            args.seed is not None,
            generated or bool(simulate),
            "--seed seeds a generated world, not --world"
            + (" (with --world, it seeds only --simulate)" if simulate is not None else ""),
        )
    )
    return rules


def world_from_args(args: argparse.Namespace) -> World:
    if args.world is not None:
        return World.from_file(args.world)
    recipe = WorldRecipe(
        seed=args.seed, live_calls=args.live_calls, call_logs=args.call_logs, anchor=args.anchor
    )
    with progress_bar(recipe.live_calls + recipe.call_logs, "indexing the world") as bar:
        return World.generate(recipe, progress=bar.update)


def add_semantics_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "undocumented behaviour",
        "answers upstream's spec does not document; choose the ones your client expects",
    )
    group.add_argument(
        "--missing-lookup-status",
        type=int,
        choices=(400, 422),
        default=400,
        help="answer when no complete lookup is given: 400 {'detail': ...}, or 422 in "
        "FastAPI's validation-error shape (default: 400)",
    )
    group.add_argument(
        "--not-found-status",
        type=client_error_status,
        metavar="STATUS",
        default=404,
        help="status (4xx) when no store has the call (default: 404)",
    )
    group.add_argument(
        "--not-found-detail",
        metavar="TEXT",
        default="Call not found",
        help="detail when no store has the call (default: 'Call not found')",
    )


def semantics_from_args(args: argparse.Namespace) -> Semantics:
    return Semantics(
        missing_lookup=args.missing_lookup_status,
        not_found_status=args.not_found_status,
        not_found_detail=args.not_found_detail,
    )


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
    "api_key_env": "PROSPER_API_KEY",
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
    if not args.no_control and token is None and not is_loopback_host(args.host):
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


def add_generate(sub: Subcommands) -> None:
    p = sub.add_parser(
        "generate",
        help="write a generated world as JSON",
        description="Write a seeded world in the world-file format.",
    )
    p.add_argument("-o", "--output", type=Path, help="file to write (default: stdout)")
    p.add_argument("--force", action="store_true", help="replace the -o file if it exists")
    add_world_options(p, "read this world file and write it again, checked and normalised, instead")
    p.set_defaults(run=run_generate)


def run_generate(args: argparse.Namespace) -> int:
    refuse_ignored(world_rules(args))
    fill_defaults(args, WORLD_DEFAULTS)
    if args.output is not None and args.output.is_file() and not args.force:
        # Said before the world is made; the write itself refuses too, whatever came since.
        raise ValueError(
            f"refusing to replace {args.output}, which exists: pass --force to replace it"
        )
    world = world_from_args(args)
    if args.output is None:
        sys.stdout.writelines(_world_file(world))
    elif args.output.exists() and not (args.output.is_file() or args.output.is_dir()):
        # A device or a pipe (/dev/stdout, a FIFO): written into, there is nothing to replace.
        with open(args.output, "w", encoding="utf-8") as f:
            f.writelines(_world_file(world))
    else:
        from prosper_mock.base.files import write_atomically

        umask = os.umask(0)
        os.umask(umask)  # a world file is as readable as any file the user makes
        chunks = (chunk.encode("utf-8") for chunk in _world_file(world))
        try:
            write_atomically(args.output, chunks, overwrite=args.force, mode=0o666 & ~umask)
        except FileExistsError:
            raise ValueError(
                f"refusing to replace {args.output}, which exists: pass --force to replace it"
            ) from None
        except OSError as exc:
            raise ValueError(f"cannot write {args.output}: {exc.strerror}") from None
        print(f"wrote {args.output}", file=sys.stderr)
    return 0


def _world_file(world: World) -> Iterator[str]:
    """``json.dumps(world.dump(), ensure_ascii=False, indent=2)`` and a newline, row by row.

    A big world's whole document is several times the size of its file in memory; one
    row at a time, memory stays flat however many rows there are.
    """

    def nested(value: object, depth: int) -> str:  # JSON strings never hold a raw newline
        return json.dumps(value, ensure_ascii=False, indent=2).replace("\n", "\n" + "  " * depth)

    stats = world.stats()
    with world.lock, progress_bar(stats["live_calls"] + stats["call_logs"], "writing") as bar:
        yield f'{{\n  "format": {json.dumps(WORLD_FORMAT)},\n'
        yield f'  "recipe": {nested(world.origin.get("recipe"), 1)},\n'
        for name, store, last in (
            ("live_calls", world.live_calls, False),
            ("call_logs", world.call_logs, True),
        ):
            yield f'  "{name}": ['
            rows = 0
            for row in store:
                yield ("\n    " if rows == 0 else ",\n    ") + nested(to_dict(row), 2)
                rows += 1
                bar.update()
            yield ("\n  ]" if rows else "]") + ("\n" if last else ",\n")
        yield "}\n"


def add_spec(sub: Subcommands) -> None:
    p = sub.add_parser(
        "spec",
        help="compare the vendored openapi.json with another version",
        description="Spec drift. diff exits 0 when nothing breaking changed, 1 when "
        "something did, 2 on errors; update exits 0 once it replaced the file.",
    )
    actions = p.add_subparsers(dest="spec_command", metavar="ACTION", required=True)
    for name, text in (
        ("diff", "show what changed, classed breaking or not"),
        ("update", "show the diff, then replace the vendored file"),
    ):
        a = actions.add_parser(name, help=text, description=text[0].upper() + text[1:] + ".")
        source = a.add_mutually_exclusive_group(required=True)
        source.add_argument("--url", help="the other version's URL (e.g. upstream's /openapi.json)")
        source.add_argument("--file", help="the other version's file")
        a.add_argument(
            "--vendored",
            type=Path,
            metavar="FILE",
            default=None,
            help="the vendored file to compare with (default: the one this "
            "package serves, i.e. the repo's openapi.json when run from the repo)",
        )
        if name == "update":
            a.add_argument("--yes", action="store_true", help="replace without asking")
    p.set_defaults(run=run_spec)


def run_spec(args: argparse.Namespace) -> int:
    from prosper_contracts.endpoint.specdiff import diff, load_version, report
    from prosper_mock.serving.spec import load_spec, vendored_spec_path

    vendored = (args.vendored or vendored_spec_path()).resolve()
    current = load_spec(vendored)
    other = load_version(args.url, args.file)
    try:
        changes = diff(current, other)
    except Exception as exc:  # a valid document of a shape the diff does not know: say so
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ValueError(
            f"cannot compare {vendored} with {args.url or args.file}: {first}"
        ) from None
    print(report(changes, str(vendored), args.url or args.file), end="")
    breaking = any(c.breaking for c in changes)
    if args.spec_command == "update" and changes:
        if not args.yes:
            if not sys.stdin.isatty():
                raise ValueError("refusing to replace the vendored spec without --yes")
            if input(f"replace {vendored}? [y/N] ").strip().lower() != "y":
                return 1 if breaking else 0
        from prosper_mock.base.files import write_atomically

        text = json.dumps(other.document, indent=2, ensure_ascii=False) + "\n"
        try:
            write_atomically(vendored, text.encode())
        except OSError as exc:
            raise ValueError(f"cannot replace {vendored}: {exc.strerror}") from None
        print(f"replaced {vendored}" + (" (with a BREAKING change)" if breaking else ""))
        return 0  # done as asked: `spec diff` is the gate that fails on a breaking change
    return 1 if breaking else 0


def add_proxy(sub: Subcommands) -> None:
    p = sub.add_parser(
        "proxy",
        help="forward to the real API, checking every request and answer",
        description="A validating proxy: answers are upstream's, unchanged; every spec or "
        "semantic violation is logged with a curl line and summarised at exit. Exit status: "
        "0 no violation, 1 violations seen, 2 usage errors.",
    )
    p.add_argument("--upstream", required=True, metavar="URL", help="the real API's base URL")
    p.add_argument(
        "--host", type=host, default="127.0.0.1", help="address to bind (default: 127.0.0.1)"
    )
    p.add_argument("--port", type=port, default=8766, help="default: 8766 (0: any free port)")
    p.add_argument(
        "--timeout",
        type=positive_number,
        metavar="SECONDS",
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
        metavar="HEADER",
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

    from prosper_contracts.endpoint.proxy import PROXY, ProxyOptions, create_proxy_app, serve_proxy
    from prosper_contracts.endpoint.pseudonymise import Pseudonymiser
    from prosper_contracts.endpoint.recording import Recorder
    from prosper_mock.serving.auth import check_key_transport

    if (
        urlsplit(args.upstream).scheme not in ("http", "https")
        or not urlsplit(args.upstream).netloc
    ):
        raise ValueError(f"--upstream must be an http(s) URL, got {args.upstream!r}")
    key = os.environ.get(args.api_key_env) or None
    check_key_transport(args.upstream, key is not None, args.allow_insecure_key)
    if key is not None and not is_loopback_host(args.host) and not args.allow_remote_clients:
        raise ValueError(
            f"refusing to bind {args.host}: every client of the proxy would use your API key; "
            "bind 127.0.0.1, or pass --allow-remote-clients"
        )
    refuse_ignored([(args.record_raw, args.record is not None, "--record-raw needs --record FILE")])
    recorder = None
    if args.record is not None:
        _refuse_replacing_a_non_recording(args.record)
        recorder = Recorder(args.record, None if args.record_raw else Pseudonymiser())
        try:  # an empty world file now: a path that cannot be written fails before serving
            recorder.write(force=True)
        except OSError as exc:
            raise ValueError(f"--record: cannot write {args.record}: {exc.strerror}") from None
        if args.record_raw:
            print(
                f"prosper-mock proxy: WARNING: recording REAL personal data, unpseudonymised, "
                f"to {args.record}: keep it out of version control and shared storage",
                file=sys.stderr,
                flush=True,
            )
    if key is None:  # named, never shown: the key is not printed even when set
        print(
            f"prosper-mock proxy: WARNING: ${args.api_key_env} is not set: "
            "requests go upstream without an API key",
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
    logging.getLogger("aiohttp.server").addFilter(_one_line_protocol_errors)

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


def _refuse_replacing_a_non_recording(path: Path) -> None:
    """``--record`` replaces a world file (an earlier recording), never another file."""
    from prosper_mock.base.files import FileError, read_json
    from prosper_mock.world.model import WORLD_FORMAT

    if not os.path.lexists(path):
        return
    try:
        existing = read_json(path, "--record file")
    except FileError as exc:
        raise ValueError(f"--record: {exc}") from None
    if not isinstance(existing, dict) or existing.get("format") != WORLD_FORMAT:
        raise ValueError(f"--record: refusing to replace {path}: it exists and is not a world file")


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


def add_contract(sub: Subcommands) -> None:
    from prosper_contracts.cli import add_contract as add

    add(sub)


COMMANDS: list[Callable[[Subcommands], None]] = [
    add_serve,
    add_generate,
    add_contract,
    add_spec,
    add_proxy,
]


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="prosper-mock",
        description="Mock server and contract kit for Prosper Voice's GET /api/v1/live-calls.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for add in COMMANDS:
        add(sub)
    return parser


def _chosen_parser(parser: argparse.ArgumentParser, args: argparse.Namespace) -> Parser:
    """The (sub)command's own parser: its errors name the command the user typed."""
    while True:
        subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        chosen = getattr(args, subs[0].dest, None) if subs else None
        if chosen is None:
            assert isinstance(parser, Parser)
            return parser
        parser = subs[0].choices[chosen]


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:  # argparse exits (2 on errors, 0 for --help): a caller of main() gets the status
        args, unknown = parser.parse_known_args(argv)
        command = _chosen_parser(parser, args)
        if unknown:
            command.error(f"unrecognized arguments: {' '.join(unknown)}")
    except SystemExit as exc:
        return int(exc.code or 0)
    try:
        return int(args.run(args) or 0)
    except UsageError as exc:
        try:
            command.error(str(exc))
        except SystemExit as usage:
            return int(usage.code or 0)
    except (WorldError, ValueError) as exc:
        print(f"prosper-mock: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # e.g. the port is taken: say so, no traceback
        where = f": {exc.filename}" if exc.filename and str(exc.filename) not in str(exc) else ""
        print(f"prosper-mock: error: {exc.strerror or exc}{where}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _integer(text: str, lowest: int, highest: int | None = None) -> int:
    wanted = (
        f"a whole number from {lowest} to {highest}"
        if highest is not None
        else f"a whole number >= {lowest}"
    )
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be {wanted}, got {text!r}") from None
    if value < lowest or (highest is not None and value > highest):
        raise argparse.ArgumentTypeError(f"must be {wanted}, got {value}")
    return value


def count(text: str) -> int:
    """argparse type: a whole number >= 0."""
    return _integer(text, 0)


def positive(text: str) -> int:
    """argparse type: a whole number >= 1."""
    return _integer(text, 1)


def port(text: str) -> int:
    """argparse type: a TCP port, 0 (any free port) to 65535."""
    return _integer(text, 0, 65535)


def client_error_status(text: str) -> int:
    """argparse type: an HTTP status 400 to 499."""
    return _integer(text, 400, 499)


def positive_number(text: str) -> float:
    """argparse type: a finite number > 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number > 0, got {text!r}") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be a number > 0, got {text}")
    return value


def moment(text: str) -> str:
    """argparse type: an ISO-8601 time with a UTC offset (kept as the text given)."""
    try:
        timestamp_of(text)
    except (ValueError, OverflowError):
        raise argparse.ArgumentTypeError(
            f"must be an ISO-8601 time with a UTC offset (e.g. {DEFAULT_ANCHOR}), got {text!r}"
        ) from None
    return text


def host(text: str) -> str:
    """argparse type: an address to bind: an IP address, or a host name (resolved on binding).

    Text that can only mean an IP address (digits and dots, or a colon) must be a valid one;
    otherwise the error would surface later as something else entirely.
    """
    if re.fullmatch(r"[0-9.]+", text) or ":" in text:
        try:
            ipaddress.ip_address(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{text!r} is not a valid IP address, so it cannot be bound"
            ) from None
    elif not text:
        raise argparse.ArgumentTypeError("an empty address cannot be bound")
    return text
