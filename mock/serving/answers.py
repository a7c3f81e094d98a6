"""Answers reused while the world is unchanged: one operation's status and body per raw query.

An operation whose answer follows from its query string and the world's rows alone
(``GET /api/v1/live-calls``) answers the same bytes to the same query until the world
changes. Clients poll the same few lookups, so the parsing, the validation, the lookup
and the JSON rendering are done once per query and world version, not per request.
The request still passes every step that acts per request: the API key, the faults
(an answer served from here is shaped by a truncate or slow fault as a fresh one is)
and the journal.

Valid while the world is the same object at the same ``version``: every change to a
world's rows bumps it (``WorldState.changed``), the simulation's clock-driven events
included, and ``MockState.swap_world`` serves another object. A change racing a
request is harmless: an answer is kept with the version read before it was made, and
the first request to read a newer version starts afresh.
"""

from __future__ import annotations

from collections.abc import Sized
from dataclasses import dataclass, field
from http import HTTPStatus

from aiohttp.http import SERVER_SOFTWARE

from prosper_mock.serving.render import JSON_TYPE
from prosper_mock.world.model import World

# A query longer than this is not kept: clients poll short ones (a lookup by variable is well
# under 100 bytes); a fuzzer's are one-offs. With the count bound, a few MB at most.
MAX_QUERY_BYTES = 256
MAX_ANSWERS = 10_000


_NO_BODY = frozenset({204, 304})


@dataclass(frozen=True, slots=True)
class Answered:
    """One answer as it was sent: ``application/json``, no headers of its own.

    ``head`` and ``tail``: the answer as aiohttp writes it to an HTTP/1.1 keep-alive
    request, around its ``Date`` header's value, for ``fastpath.py`` to send as it is
    (``head`` is ``None`` for a status that has no body).
    """

    status: int
    body: bytes
    operated: bool  # made by the operation (faults shape it), not by the validation (they do not)
    head: bytes | None = field(init=False, repr=False, compare=False)
    tail: bytes = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        head: bytes | None = None
        if self.status >= 200 and self.status not in _NO_BODY:
            phrase = HTTPStatus(self.status).phrase if self.status in _PHRASES else ""
            head = (
                f"HTTP/1.1 {self.status} {phrase}\r\nContent-Type: {JSON_TYPE}\r\n"
                f"Content-Length: {len(self.body)}\r\nDate: "
            ).encode("latin-1")
        object.__setattr__(self, "head", head)
        object.__setattr__(
            self, "tail", f"\r\nServer: {SERVER_SOFTWARE}\r\n\r\n".encode() + self.body
        )


_PHRASES = frozenset(s.value for s in HTTPStatus)  # aiohttp's reason phrases: these, else none
_SERVER = f"\r\nServer: {SERVER_SOFTWARE}\r\n\r\n".encode()


class AnswerCache:
    """The answers to one operation's queries for the world as it is now.

    Used from the event loop's thread only (the world may change from any thread).
    """

    def __init__(self, max_answers: int = MAX_ANSWERS, stubs: Sized = ()) -> None:
        self._stubs = stubs  # while it holds any, nothing is kept: a stub may answer instead
        self._world: World | None = None
        self._version = -1
        self._answers: dict[bytes, Answered] = {}
        self._max = max_answers

    def answers(self, world: World) -> dict[bytes, Answered]:
        """The answers valid for ``world`` now, by raw query; put a new one with ``keep``.

        Read before making an answer: a change made meanwhile ends this dict's use. While
        a stub is in force, a new empty dict every time: no kept answer, none kept.
        """
        if self._stubs:
            return {}
        version = world.state.version  # where World.version lives (its descriptor is Python)
        if world is not self._world or version != self._version:
            self._world, self._version, self._answers = world, version, {}
        return self._answers

    def keep(self, answers: dict[bytes, Answered], raw_query: bytes, answered: Answered) -> None:
        """Keep ``answered`` for ``raw_query`` in ``answers`` (those ``answers`` returned)."""
        if len(raw_query) > MAX_QUERY_BYTES:
            return
        if len(answers) >= self._max:
            answers.clear()
        answers[raw_query] = answered


@dataclass(frozen=True, slots=True)
class Reused:
    """An operation whose answers are kept: its method, path, the journal's name for it,
    and its cache (read by the request pipeline and by the fast path alike)."""

    method: str
    path: str
    operation_id: str
    cache: AnswerCache
