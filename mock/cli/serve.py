"""``prosper-mock serve``: run the mock on a port (one process or several workers)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import TYPE_CHECKING

from prosper_mock.base.net import is_loopback
from prosper_mock.base.upstream import API_KEY_ENV, API_KEY_HEADER
from prosper_mock.cli.options import (
    DEFAULT_PORT,
    WORLD_DEFAULTS,
    Subcommands,
    add_semantics_options,
    add_world_options,
    clock_start,
    fill_defaults,
    host,
    port,
    positive,
    positive_number,
    refuse_ignored,
    semantics_from_args,
    world_from_args,
    world_rules,
)
from prosper_mock.cli.webhookflags import add_webhook_options, webhook_options
from prosper_mock.serving.journal import DEFAULT_MAX_BYTES as DEFAULT_JOURNAL_BYTES
from prosper_mock.serving.limits import DEFAULT_BODY_TIMEOUT
from prosper_mock.world.storage.address import DEFAULT_NAMESPACE, STORE_ENV, parse_store

if TYPE_CHECKING:
    from prosper_mock.server import ServeOptions

# The server is imported when a command serves: a usage error, --help or --version
# answers without loading aiohttp and the control API.
DEFAULT_API_KEY_HEADER = API_KEY_HEADER


def add_serve(sub: Subcommands) -> None:
    p = sub.add_parser(
        "serve",
        help="serve the mock over HTTP",
        description="Serve the Prosper Voice API from a seeded world.",
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
        "--log-control",
        action="store_true",
        help="log the control API's reads too (an open dashboard reads it every few "
        "seconds; by default only its writes and refusals are logged)",
    )
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
        "world; the world is then read-only, unless --store shares it (default: 1)",
    )
    add_world_options(p, "serve this world file (e.g. fixtures/world.json) instead")
    shared = p.add_argument_group(
        "shared world",
        "one world for several processes (--workers, replicas) kept in Redis: every write "
        "through any of them is seen by every read after its answer",
    )
    shared.add_argument(
        "--store",
        metavar="URL",
        help="where the world's changes live: memory (the default, this process only), "
        "redis://HOST:PORT/DB, rediss://... or redis+sentinel://HOST:PORT[,HOST:PORT]/SERVICE[/DB] "
        "(a password in the URL is never printed; "
        f"prefer {STORE_ENV}, which other users cannot read in the process list)",
    )
    shared.add_argument(
        "--store-namespace",
        metavar="NAME",
        help="keeps this mock's keys apart from other mocks' on the same Redis (default: "
        f"{DEFAULT_NAMESPACE}; every process of one mock gives the same)",
    )
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
        type=clock_start,
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
        help="keep the world's changes across restarts in PATH (with --store: a copy of "
        "the shared world, kept by the first worker, that seeds an empty namespace)",
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
    add_webhook_options(p)
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
    """Check the flags, translate them into ``ServeOptions``, and serve."""
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
            (args.log_control, not args.quiet, "--log-control adds log lines: not with --quiet"),
            (args.log_control, not args.no_control, "--log-control needs the control API"),
            (
                args.api_key_env is not None,
                args.require_api_key,
                "--api-key-env needs --require-api-key",
            ),
            (
                args.api_key_header is not None,
                args.require_api_key,
                "--api-key-header needs --require-api-key",
            ),
        ]
    )
    fill_defaults(args, SERVE_DEFAULTS)
    options = serve_options(args)
    store = options.store
    if store is not None:
        from prosper_mock.world.storage.replica import check_store

        check_store(store)  # one line and exit 2 when Redis cannot be used, before forking
    elif args.workers > 1:
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
                f"{', '.join(diverging)} would make diverge: use --workers 1 with them, or "
                "share one world between the workers with --store redis://HOST:PORT/DB"
            )

    from prosper_mock.server import serve

    return serve(world_from_args(args), options)


def serve_options(args: argparse.Namespace) -> ServeOptions:
    """The options ``serve`` runs with (checked, their defaults filled in, secrets read)."""
    from prosper_mock.server import ServeOptions

    token = args.control_token or os.environ.get(args.control_token_env) or None
    if not args.no_control and token is None and not is_loopback(args.host):
        raise ValueError(
            f"refusing to serve the control API on {args.host} without a token: set "
            f"{args.control_token_env} (or pass --control-token), or pass --no-control"
        )
    api_key = None
    if args.require_api_key:
        key = os.environ.get(args.api_key_env)
        if not key:
            raise ValueError(f"--require-api-key: set the key in {args.api_key_env}")
        api_key = (args.api_key_header, key)
    return ServeOptions(
        host=args.host,
        port=args.port,
        workers=args.workers,
        quiet=args.quiet,
        log_control=args.log_control,
        body_timeout=args.body_timeout,
        semantics=semantics_from_args(args),
        control=not args.no_control,
        control_token=token,
        control_allow_origins=tuple(args.control_allow_origin),
        control_allow_hosts=tuple(args.control_allow_host),
        control_max_world_bytes=args.max_world_bytes,
        journal_max_bytes=args.journal_max_bytes,
        api_key=api_key,
        api_key_env=args.api_key_env if api_key else None,
        virtual_clock=args.virtual_clock,
        clock_start=args.clock_start,
        simulate_rate=args.rate if args.simulate else None,
        seed=args.seed,
        state_file=args.state_file,
        world_source=f"from {args.world}" if args.world else f"(seed {args.seed})",
        store=parse_store(args.store, args.store_namespace),
        **webhook_options(args),
    )
