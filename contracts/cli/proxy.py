"""``prosper-mock proxy``: the validating proxy in front of a real endpoint."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from prosper_mock.base.net import is_loopback
from prosper_mock.base.upstream import API_KEY_ENV
from prosper_mock.base.upstream import API_KEY_HEADER as DEFAULT_API_KEY_HEADER
from prosper_mock.cli.options import (
    Subcommands,
    host,
    port,
    positive_number,
    refuse_ignored,
)

if TYPE_CHECKING:
    from prosper_contracts.endpoint.recording import Recorder


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
        default=API_KEY_ENV,
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
    from prosper_mock import check_key_transport

    if (
        urlsplit(args.upstream).scheme not in ("http", "https")
        or not urlsplit(args.upstream).netloc
    ):
        raise ValueError(f"--upstream must be an http(s) URL, got {args.upstream!r}")
    key = os.environ.get(args.api_key_env) or None
    check_key_transport(args.upstream, key is not None, args.allow_insecure_key)
    if key is not None and not is_loopback(args.host) and not args.allow_remote_clients:
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
    from prosper_mock import one_line_protocol_errors

    logging.getLogger("aiohttp.server").addFilter(one_line_protocol_errors)

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
    from prosper_mock import WORLD_FORMAT
    from prosper_mock.base.files import FileError, read_json

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
