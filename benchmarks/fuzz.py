"""The long fuzz run: schemathesis-generated valid and invalid requests against a served mock.

Every answer must be one the spec documents (200, 422) or one of the kit's documented ones
(400, 404), in its shape (``prosper_contracts.rules``); a 5xx or a broken rule is counted and
shown. Run: ``python -m benchmarks.fuzz --requests 100000 --json benchmarks/fuzz-100k.json``
(measured: 100 000 requests in 17 min, about 100/s, on 2 shared cores: hypothesis generation, not
the mock, is the bound). ``python -m benchmarks --fuzz-json benchmarks/fuzz-100k.json`` puts
those figures in ``benchmarks/RESULTS.md`` without running it again.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections import Counter
from typing import Any
from urllib.parse import urlsplit

import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode

from prosper_contracts.kit import contract_document
from prosper_contracts.rules import check_answer, query_params
from prosper_mock.serving.runner import SERVER_OPTIONS

DOCUMENTED = {200, 400, 404, 422}
LINE_LIMIT = int(SERVER_OPTIONS["max_line_size"])


def _serve() -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "prosper_mock", "serve", "--port", "0", "--quiet"],
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    for line in process.stderr:
        if "serving on " in line:
            return process, line.split("serving on ")[1].split()[0]
    raise RuntimeError("the mock did not start")


def run(total: int = 100_000, base_url: str | None = None) -> dict[str, Any]:
    """Send ``total`` generated requests (half valid, half invalid); count answers."""
    process = None
    if base_url is None:
        process, base_url = _serve()
    session = requests.Session()
    operation = schemathesis.openapi.from_dict(contract_document())["/api/v1/live-calls"]["GET"]
    statuses: Counter[int] = Counter()
    refused_by_parser = 0  # request lines over the 16 KiB limit: text/plain 400, as uvicorn
    broken: Counter[str] = Counter()
    examples: dict[str, str] = {}
    start = time.perf_counter()
    try:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @settings(
                max_examples=total // 2,
                deadline=None,
                database=None,
                phases=[Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            @given(case=operation.as_strategy(generation_mode=mode))
            def fuzz(case: Any) -> None:
                kwargs = case.as_transport_kwargs(base_url=base_url)
                response = session.request(
                    kwargs["method"], kwargs["url"], params=kwargs.get("params"), timeout=10
                )
                nonlocal refused_by_parser
                statuses[response.status_code] += 1
                query = urlsplit(response.request.url).query
                line = len(kwargs["method"]) + len(response.request.path_url) + 10
                if (
                    response.status_code == 400
                    and line > LINE_LIMIT
                    and (response.headers.get("content-type", "").startswith("text/plain"))
                ):
                    refused_by_parser += 1
                    return
                problems = [
                    v.rule
                    for v in check_answer(
                        query_params(query),
                        response.status_code,
                        response.headers.get("content-type"),
                        response.content,
                    )
                ]
                if response.status_code not in DOCUMENTED:
                    problems.append(f"status-{response.status_code}")
                for rule in problems:
                    broken[rule] += 1
                    examples.setdefault(rule, response.request.url)

            fuzz()
    finally:
        if process is not None:
            process.terminate()
            process.wait(10)
    elapsed = time.perf_counter() - start
    return {
        "requests": sum(statuses.values()),
        "seconds": round(elapsed, 1),
        "requests_per_second": round(sum(statuses.values()) / elapsed),
        "by_status": dict(sorted(statuses.items())),
        "server_errors_5xx": sum(n for s, n in statuses.items() if s >= 500),
        "refused_by_http_parser": refused_by_parser,
        "broken_rules": dict(broken),
        "examples": examples,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--base-url")
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    args = parser.parse_args()
    figures = run(args.requests, args.base_url)
    text = json.dumps(figures, indent=2)
    print(text)
    if args.json:
        with open(args.json, "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
