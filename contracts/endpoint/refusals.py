"""FastAPI's refusal of a request the spec rejects: what the validating proxy expects upstream
to answer for it, judged with the mock's own validators, so proxy and mock never disagree."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from aiohttp import web

from prosper_mock import BodyValidator, ParameterValidator, render_json, rendered_errors
from prosper_mock.base.jsontext import short
from prosper_mock.base.problems import one_line


@dataclass(frozen=True)
class Refusal:
    """FastAPI's answer to a request the spec rejects: ``status`` and ``body``.

    ``renders`` is ``False`` where FastAPI cannot render its own ``422`` (its input holds a
    lone surrogate, a NaN: kit decision 10) and answers ``500 Internal Server Error``
    instead: upstream may answer that ``500``, or the ``422`` meant, which the mock answers.
    """

    status: int
    body: bytes
    renders: bool = True


async def fastapis_refusal(
    validator: ParameterValidator,
    bodies: BodyValidator | None,
    request: web.Request,
    query: list[tuple[str, str]],
    path_params: Mapping[str, str],
) -> tuple[Refusal | None, str]:
    """FastAPI's answer to a request the spec rejects, and why, in one line.

    ``(None, "")`` when the spec accepts it. The body is judged with the mock's own
    ``BodyValidator``: JSON that does not parse (``422 json_invalid``) or cannot be decoded
    (``400``) is answered alone, before any parameter; otherwise the parameters' errors come
    first, then the body's, in one ``422``. A body over the proxy's own size limit is not
    judged (aiohttp refuses it before it is forwarded).
    """
    _, errors = validator.validate(query, path_params, request.headers)
    if bodies is not None:
        read = await bodies.read(request)
        if isinstance(read, web.Response):
            if read.status == 413 or not isinstance(read.body, bytes):
                return None, ""
            detail = json.loads(read.body).get("detail")
            why = one_line(detail, limit=3) if isinstance(detail, list) else f"body: {detail}"
            return Refusal(read.status, read.body), why
        _, body_errors = bodies.validate(read)
        errors = [*errors, *body_errors]
        if errors:
            body, renders = rendered_errors(errors)
            return Refusal(422, body, renders), one_line(errors, limit=3)
    if errors:
        return Refusal(422, render_json({"detail": errors})), one_line(errors, limit=3)
    return None, ""


def not_fastapis(expected: Refusal, answer: bytes) -> str | None:
    """What is wrong with upstream's refusal body, against the one FastAPI renders.

    ``None`` when it is FastAPI's; also when it is not JSON, which ``json-body`` reports.
    """
    try:
        got = json.loads(answer)
    except ValueError:
        return None
    want = json.loads(expected.body)
    if got == want:
        return None
    return (
        f"upstream's {expected.status} is not FastAPI's for this request: expected "
        f"{short(want, 200)}, got {short(got, 200)}"
    )
