"""``prosper-mock contract``: run the contract suites (pytest underneath) against an endpoint."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from prosper_contracts.options import add_to_command, defaults, writes_refusal
from prosper_contracts.options import pytest_argv as suite_pytest_argv
from prosper_mock.cli.options import Subcommands, UsageError, fill_defaults, refuse_ignored


def add_contract(sub: Subcommands) -> None:
    p = sub.add_parser(
        "contract",
        help="check an endpoint against the spec and the fallback semantics",
        description="Run the contract suites against the mock (default: started in-process) "
        "or --base-url. The same as: pytest --pyargs prosper_contracts --prosper-base-url URL. "
        "Exit status: 0 every rule held, 1 a rule broke (or the coverage is below "
        "--min-coverage), 2 usage or set-up errors.",
    )
    p.add_argument(
        "--base-url", metavar="URL", help="endpoint to check (default: an in-process mock)"
    )
    add_to_command(p)
    p.add_argument(
        "--compare-mock",
        action="store_true",
        help="also send the same requests to --base-url and to an in-process mock, and list "
        "every disagreement",
    )
    p.add_argument(
        "--compare-report",
        metavar="FILE",
        help="write the comparison to FILE (needs --compare-mock)",
    )
    p.add_argument(
        "-k", dest="select", metavar="EXPR", help="only suites matching EXPR (pytest -k)"
    )
    p.set_defaults(run=run_contract)


def pytest_args(args: argparse.Namespace, ini: Path) -> list[str]:
    argv = [
        "--pyargs",
        "prosper_contracts",
        "-c",
        str(ini),
        "--rootdir",
        str(ini.parent),
        "-q",
        # The suites' own summary says what failed and why a suite was skipped: pytest's
        # short summary would say it again.
        "-rN",
        "-p",
        "no:cacheprovider",
        "-p",
        "no:randomly",
        # The suites need no asyncio plugin; pytest-asyncio, when installed, warns unless its
        # ini option is set, and without it that option is unknown: leave it out altogether.
        "-p",
        "no:asyncio",
        *suite_pytest_argv(args),
    ]
    if os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD"):
        argv += ["-p", "prosper_mock.plugin", "-p", "prosper_contracts.plugin"]
    if args.base_url:
        argv += ["--prosper-base-url", args.base_url]
    if args.select:
        argv += ["-k", args.select]
    return argv


def run_contract(args: argparse.Namespace) -> int:
    """0 when every rule held, 1 when one broke, 2 for usage or set-up errors."""
    remote = args.base_url is not None
    refuse_ignored(
        [
            (args.negative, remote, "--negative needs --base-url (the mock always gets them)"),
            (args.allow_insecure_key, remote, "--allow-insecure-key needs --base-url"),
            (args.allow_writes, remote, "--allow-writes needs --base-url (the mock gets writes)"),
            (args.compare_mock, remote, "--compare-mock needs --base-url (what to compare)"),
            (args.control_token_env is not None, remote, "--control-token-env needs --base-url"),
            (
                args.compare_report is not None,
                args.compare_mock,
                "--compare-report needs --compare-mock",
            ),
        ]
    )
    refused = writes_refusal(args.allow_writes, args.sandbox_campaign)
    if refused is None:
        from prosper_contracts.kit import operation_refusal

        refused = operation_refusal(args.operation)
    if refused is not None:
        raise UsageError(refused)
    fill_defaults(args, defaults())
    if args.base_url:
        from prosper_contracts.target import unreachable
        from prosper_mock import check_key_transport

        # The key check first: a refused key transport sends nothing at all, not even this probe.
        check_key_transport(
            args.base_url, bool(os.environ.get(args.api_key_env)), args.allow_insecure_key
        )
        problem = unreachable(args.base_url)
        if problem is not None:
            raise ValueError(f"cannot reach {args.base_url}: {problem}")
    try:
        import hypothesis  # noqa: F401
        import pytest
        import requests  # noqa: F401
        import schemathesis  # noqa: F401
    except ImportError as exc:
        print(
            f"prosper-mock contract needs the contracts extra ({exc.name} is missing): "
            "pip install 'prosper-voice-mock[contracts]'",
            file=sys.stderr,
        )
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        ini = Path(tmp) / "pytest.ini"
        # The suites run the same whatever the caller's project configures; the CLI has
        # imported hypothesis and faker already, so pytest cannot rewrite their asserts.
        ini.write_text(
            "[pytest]\nfilterwarnings =\n    ignore::pytest.PytestAssertRewriteWarning\n"
        )
        from prosper_contracts.progress import SuiteProgress

        plugins = [SuiteProgress()] if sys.stderr.isatty() else []
        code = int(pytest.main(pytest_args(args, ini), plugins=plugins))
    if args.compare_mock and args.base_url and code in (0, 1):
        from urllib.parse import parse_qsl

        from prosper_contracts.endpoint.compare import run as compare

        headers = (
            {args.api_key_header: os.environ[args.api_key_env]}
            if os.environ.get(args.api_key_env)
            else {}
        )
        samples = [dict(parse_qsl(s, keep_blank_values=True)) for s in args.sample]
        text = compare(args.base_url.rstrip("/"), headers, samples, args.examples, args.seed)
        print(text)
        if args.compare_report:
            Path(args.compare_report).write_text(text, encoding="utf-8")
    return {0: 0, 1: 1}.get(code, 2)
