"""Mock versus real: the same requests to an endpoint and to the mock, every disagreement listed.

Per request: the status and the error shape (``detail`` a string or FastAPI's list). Over all
answers: which keys each ``source`` carries and the JSON type of each key's values, so a user
sees where the mock's assumptions (docs/semantics.md) differ from the real endpoint and can
configure the mock (``serve --missing-lookup-status`` and friends) or report the difference.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import requests

from prosper_contracts.discovery import probes
from prosper_mock.base.upstream import LIVE_CALLS_PATH

Get = Callable[[Any], requests.Response]


@dataclass(frozen=True)
class Disagreement:
    aspect: str  # "status", "error shape", "keys", "types"
    where: str
    target: str
    mock: str

    def __str__(self) -> str:
        return f"[{self.aspect}] {self.where}: target {self.target} | mock {self.mock}"


def _json(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _error_shape(body: Any) -> str:
    if not isinstance(body, dict):
        return f"not a JSON object ({type(body).__name__})"
    detail = body.get("detail")
    if isinstance(detail, str):
        return "{detail: string}"
    if isinstance(detail, list):
        keys = sorted({k for item in detail if isinstance(item, dict) for k in item})
        return f"{{detail: [{{{', '.join(keys)}}}]}}"
    return f"keys {sorted(body)}"


def _kind(value: Any) -> str:
    return {
        bool: "boolean",
        int: "integer",
        float: "number",
        str: "string",
        list: "array",
        dict: "object",
        type(None): "null",
    }.get(type(value), type(value).__name__)


def compare(
    target_get: Get,
    mock_get: Get,
    requests_to_send: Sequence[Sequence[tuple[str, str]]],
    target_known: Sequence[Any] = (),
    mock_known: Sequence[Any] = (),
) -> list[Disagreement]:
    """Send each request to both; ``*_known`` are extra lookups that find calls on each side."""
    found: list[Disagreement] = []
    shapes: dict[str, dict[str, dict[str, set[str]]]] = {
        "target": defaultdict(lambda: defaultdict(set)),
        "mock": defaultdict(lambda: defaultdict(set)),
    }

    def learn(side: str, response: requests.Response) -> None:
        body = _json(response)
        if response.status_code == 200 and isinstance(body, dict):
            source = str(body.get("source"))
            for key, value in body.items():
                shapes[side][source][key].add(_kind(value))

    for params in requests_to_send:
        t, m = target_get(list(params)), mock_get(list(params))
        learn("target", t)
        learn("mock", m)
        where = "?" + "&".join(f"{k}={v}" for k, v in params) if params else "(no parameters)"
        if t.status_code != m.status_code:
            found.append(Disagreement("status", where, str(t.status_code), str(m.status_code)))
        elif t.status_code != 200 and _error_shape(_json(t)) != _error_shape(_json(m)):
            found.append(
                Disagreement("error shape", where, _error_shape(_json(t)), _error_shape(_json(m)))
            )
    for params in target_known:
        learn("target", target_get(params))
    for params in mock_known:
        learn("mock", mock_get(params))
    for source in sorted(set(shapes["target"]) & set(shapes["mock"])):
        t_keys, m_keys = shapes["target"][source], shapes["mock"][source]
        only_t, only_m = sorted(set(t_keys) - set(m_keys)), sorted(set(m_keys) - set(t_keys))
        if only_t or only_m:
            found.append(
                Disagreement(
                    "keys", f"source={source}", f"only here: {only_t}", f"only here: {only_m}"
                )
            )
        for key in sorted(set(t_keys) & set(m_keys)):
            kinds_t, kinds_m = t_keys[key] - {"null"}, m_keys[key] - {"null"}
            if kinds_t and kinds_m and not kinds_t & kinds_m:
                found.append(
                    Disagreement(
                        "types",
                        f"source={source} {key}",
                        "/".join(sorted(kinds_t)),
                        "/".join(sorted(kinds_m)),
                    )
                )
    return found


VARIABLE_KEYS = ("external_id", "member_id", "patient_dob", "patient_last_name", "payor_name")


def generated_lookups(count: int, seed: int | None = None) -> list[list[tuple[str, str]]]:
    """``count`` valid lookups drawn by hypothesis (the same ones every run unless ``seed``).

    Valid for the spec: an integer ``call_log_id``, a phone-like ``user_phone_number``, or a
    ``key`` + ``value`` pair of strings; both sides must then answer alike.
    """
    from hypothesis import given
    from hypothesis import strategies as st

    from prosper_contracts.generation import run_settings, with_seed

    text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=12)
    lookup = st.one_of(
        st.integers(-(2**31), 2**63).map(lambda n: [("call_log_id", str(n))]),
        st.from_regex(r"\+1[2-9][0-9]{9}", fullmatch=True).map(
            lambda p: [("user_phone_number", p)]
        ),
        st.tuples(st.sampled_from(VARIABLE_KEYS) | text, text).map(
            lambda kv: [("key", kv[0]), ("value", kv[1])]
        ),
    )
    drawn: list[list[tuple[str, str]]] = []

    @run_settings(count, seed)
    @given(lookup)
    def draw(params: list[tuple[str, str]]) -> None:
        drawn.append(params)

    with_seed(draw, seed)()
    return drawn


def default_requests(sample: dict[str, Any] | None) -> list[list[tuple[str, str]]]:
    """The discovery probes plus well-formed lookups and invalid ones."""
    sent = [p.params for p in probes(sample)]
    sent += [
        [("call_log_id", "abc")],
        [("call_log_id", "1.5")],
        [("call_log_id", "")],
        [("user_phone_number", "+15550000000")],
        [("key", "external_id"), ("value", "none")],
    ]
    return sent


def report(found: list[Disagreement], target_url: str) -> str:
    lines = [f"# Mock versus {target_url}", ""]
    if not found:
        return "\n".join([*lines, "No disagreement.", ""])
    lines += [f"{len(found)} disagreement(s):", ""] + [f"- {d}" for d in found]
    return "\n".join(lines) + "\n"


def run(
    base_url: str,
    headers: dict[str, str],
    samples: Sequence[dict[str, str]],
    examples: int = 20,
    seed: int | None = None,
) -> str:
    """Compare ``base_url`` with an in-process mock; the report as markdown.

    Sent: the discovery probes, fixed valid and invalid lookups, and ``examples``
    lookups generated by hypothesis (``seed``: other ones than the default run's).
    """
    from prosper_mock import MockServer

    def target_get(params: Any) -> requests.Response:
        return requests.get(
            f"{base_url}/api/v1/live-calls",
            params=params,
            headers=headers,
            timeout=30,
            allow_redirects=False,
        )

    with MockServer() as mock:

        def mock_get(params: Any) -> requests.Response:
            return requests.get(mock.url(LIVE_CALLS_PATH), params=params, timeout=30)

        sample = None
        if samples:
            first = target_get(samples[0])
            sample = first.json() if first.status_code == 200 else None
        mock_known = [
            {"call_log_id": str(mock.world.live_calls.base.ids[0])},
            {"call_log_id": str(mock.world.call_logs.base.ids[0])},
        ]
        found = compare(
            target_get,
            mock_get,
            default_requests(sample) + generated_lookups(examples, seed),
            target_known=list(samples),
            mock_known=mock_known,
        )
    return report(found, base_url)
