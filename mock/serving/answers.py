"""Answers reused while the world is unchanged: one operation's status and body per raw query.

An operation whose answer follows from its query string and the world's rows alone
(``GET /api/v1/live-calls``) answers the same bytes to the same query until the world
changes. Clients poll the same few lookups, so the parsing, the validation, the lookup
and the JSON rendering are done once per query and world version, not per request.
The request still passes every step that acts per request: the API key, the faults
(an answer served from here is shaped by a truncate or slow fault as a fresh one is)
and the journal.

Valid while the world is the same object at the same ``version``: every change to a
world's rows bumps it (``World._changed``), the simulation's clock-driven events
included, and ``MockState.swap_world`` serves another object. A change racing a
request is harmless: an answer is kept with the version read before it was made, and
the first request to read a newer version starts afresh.
"""

from __future__ import annotations

from dataclasses import dataclass

from prosper_mock.world.model import World

# A query longer than this is not kept: clients poll short ones (a lookup by variable is well
# under 100 bytes); a fuzzer's are one-offs. With the count bound, a few MB at most.
MAX_QUERY_BYTES = 256
MAX_ANSWERS = 10_000


@dataclass(frozen=True, slots=True)
class Answered:
    """One answer as it was sent: ``application/json``, no headers of its own."""

    status: int
    body: bytes
    operated: bool  # made by the operation (faults shape it), not by the validation (they do not)


class AnswerCache:
    """The answers to one operation's queries for the world as it is now.

    Used from the event loop's thread only (the world may change from any thread).
    """

    def __init__(self, max_answers: int = MAX_ANSWERS) -> None:
        self._world: World | None = None
        self._version = -1
        self._answers: dict[bytes, Answered] = {}
        self._max = max_answers

    def answers(self, world: World) -> dict[bytes, Answered]:
        """The answers valid for ``world`` now, by raw query; put a new one with ``keep``.

        Read before making an answer: a change made meanwhile ends this dict's use.
        """
        version = world.version
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
