"""Replace the personal data in recorded rows by faker values, consistently.

Real answers hold patient data. Before a recording is written, every value that
may identify a person (names, phone numbers, dates of birth, member ids,
addresses, transcripts' text, free text in summaries) is replaced:

* **Where.** Patient-related parts of a row are personal by default: the phone
  and number columns (``user_phone_number``, ``to``, ``from_``,
  ``agent_phone_number``), ``campaign_target_id``, ``recording_urls``,
  ``target`` (but its ``type`` and ``status``), ``variables``,
  ``post_call_data`` (but its ``outcome``) and every transcript entry's text;
  in a target's row, ``phone_number``, ``fallback_phone_number``, ``external_id``,
  ``input_data``, ``patient``, ``pre_call_data`` and ``output_data`` (a target's
  own ``id`` is faked as the ``campaign_target_id`` of its calls is, alike).
  The rest (``agent_data``, ``flow``, ``call_categorization``, ``qa``, statuses,
  timestamps of the call) describes the platform, not the person, and is kept,
  except any string in it that looks like a phone number or an e-mail address.
  Booleans, nulls and fractional numbers are kept everywhere.
* **How.** A value's kind comes from its shape (e-mail, phone, date, URL) or
  its key (``*first*name``, ``*name``, ``address``, ``*_id``...); the fake has
  the same kind and format (a member id keeps its length, letters and digits).
  Free text becomes faker words followed by the fakes of the personal values it
  contained, so "It's 1947-06-15." still carries the fake date of birth.
* **Consistency.** The same real value (compared by its text form, so ``12345``
  and ``"12345"`` are one value) always gets the same fake within one
  ``Pseudonymiser``: a lookup by phone number or by variable still finds the
  call after replay, mapped with :meth:`Pseudonymiser.query`. Each fake is drawn
  from faker seeded by an HMAC of the value under a key made at random per
  recording, so nobody can recompute the mapping from a list of candidate
  names; the key is never written anywhere.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable, Mapping
from datetime import UTC
from typing import Any

from faker import Faker

from prosper_mock.world.textform import text_form

Path = tuple[str, ...]

# Top-level columns that belong to the person, whole.
PERSONAL_COLUMNS = frozenset(
    {
        "user_phone_number",
        "to",
        "from_",
        "agent_phone_number",
        "campaign_target_id",
        "recording_urls",
        "target",
        "variables",
        "post_call_data",
        "transcript",
        "transcripts",
        # A campaign target's row: who is called, and what the campaign was told about them.
        "phone_number",
        "fallback_phone_number",
        "external_id",
        "input_data",
        "patient",
        "pre_call_data",
        "output_data",
    }
)
# Inside a personal column, these describe the platform's state, not the person.
KEPT_INSIDE = frozenset({("target", "type"), ("target", "status"), ("post_call_data", "outcome")})
TRANSCRIPTS = frozenset({"transcript", "transcripts"})

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+?[\d\s().-]{7,20}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")
_URL = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)
_WORD = re.compile(r"\w+")
_ID_HINTS = ("id", "number", "code", "member", "ref", "npi", "ssn", "mrn", "account", "policy")
_ORG_HINTS = ("payor", "payer", "insur", "company", "facility", "clinic", "practice", "org")
# Kinds whose fake is one faker call.
_FAKER_METHODS = {
    "first_name": "first_name",
    "last_name": "last_name",
    "org": "company",
    "name": "name",
    "street": "street_address",
    "city": "city",
    "state": "state_abbr",
    "zip": "zipcode",
}
# A real value shorter than this is not searched for inside free text (too many false hits).
MIN_EMBEDDED = 3


class Pseudonymiser:
    """A keyed, consistent mapping from real personal values to faker ones.

    ``key`` (bytes) fixes the mapping, for tests; by default it is random, so
    two recordings map the same person differently and the mapping cannot be
    recomputed afterwards.
    """

    def __init__(self, key: bytes | None = None, locale: str = "en_US") -> None:
        self._key = key if key is not None else secrets.token_bytes(32)
        self._faker = Faker(locale)
        self._fakes: dict[str, Any] = {}  # text form of a real value -> its fake
        self._used: set[str] = set()  # text forms of the fakes handed out
        # Words of every real structured value: no fake may contain one ("Jessica Smith"
        # must not stand in for someone when a real "Jessica" is in the recording).
        self._real_words: set[str] = set()
        # The text form of every real value replaced, however short: no fake may equal one.
        self._real_texts: set[str] = set()

    def reset(self) -> None:
        """Forget the mapping (the key stays): the next :meth:`rows` maps from scratch.

        A recording is rewritten whole each time, so it is pseudonymised whole each
        time: a fake is then checked against every real value, not only the ones
        seen before it was drawn.
        """
        self._fakes.clear()
        self._used.clear()
        self._real_words.clear()
        self._real_texts.clear()

    def __repr__(self) -> str:  # never show the key
        return f"Pseudonymiser({len(self._fakes)} values mapped)"

    @property
    def real_values(self) -> frozenset[str]:
        """The text form of every real value replaced so far (for leak checks; keep private)."""
        return frozenset(self._fakes)

    # --- rows ---------------------------------------------------------------------------

    def rows(self, rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Copies of ``rows`` (world-file dicts) with every personal value replaced.

        Two passes over all rows: structured values first, then free text (shortest
        first), so a transcript can carry the fakes of the values it mentions.
        """
        rows = list(rows)
        texts: list[tuple[Path, str]] = []
        structured: list[tuple[Path, Any, str]] = []
        for row in rows:
            for path, value in _leaves(row):
                kind = classify(path, value)
                if kind == "text":
                    texts.append((path, value))
                    self._real_texts.add(value)
                elif kind is not None:
                    structured.append((path, value, kind))
                    self._real_words.update(_words(text_form(value) or ""))
                    self._real_texts.add(text_form(value) or "")
        for path, value, kind in structured:
            self.fake(value, kind, path)
        for path, value in sorted(texts, key=lambda pv: len(pv[1])):
            self.fake(value, "text", path)
        return [_rebuild(row, (), self._replace) for row in rows]

    def query(self, params: Mapping[str, str]) -> dict[str, str]:
        """A lookup's parameters as they must be sent to the replayed recording."""
        out = dict(params)
        if "user_phone_number" in out:
            out["user_phone_number"] = self.text(out["user_phone_number"], ("user_phone_number",))
        if "value" in out and "key" in out:
            out["value"] = self.text(out["value"], ("variables", out["key"]))
        return out

    def text(self, value: str, path: Path) -> str:
        """The text of the fake a lookup for ``value`` must use (``value`` if never replaced).

        Only values already replaced in rows are mapped: ``value=true`` looks up a
        boolean variable, which is kept, so the lookup must stay ``true`` too.
        """
        if value not in self._fakes:
            return value
        return text_form(self._fakes[value]) or value

    def _replace(self, path: Path, value: Any) -> Any:
        kind = classify(path, value)
        return value if kind is None else self.fake(value, kind, path)

    # --- single values ------------------------------------------------------------------

    def fake(self, value: Any, kind: str, path: Path = ()) -> Any:
        """The fake for ``value``: the same one every time within this pseudonymiser."""
        real = text_form(value)
        if real is None:
            return value
        known = self._fakes.get(real)
        if known is not None:
            return _as_type(known, value)
        for attempt in range(100):
            self._faker.seed_instance(self._seed(kind, real, attempt))
            candidate = self._draw(kind, value, path)
            text = text_form(candidate) or ""
            if (
                text != real
                and text not in self._used
                and text not in self._fakes
                and text not in self._real_texts
                and not _words(text) & self._real_words
            ):
                break
        self._fakes[real] = candidate
        self._used.add(text)
        return candidate

    def _seed(self, kind: str, real: str, attempt: int) -> int:
        message = f"{kind}\0{real}\0{attempt}".encode()
        return int.from_bytes(hmac.new(self._key, message, hashlib.sha256).digest()[:8], "big")

    def _draw(self, kind: str, value: Any, path: Path) -> Any:
        f = self._faker
        if kind == "int":
            return int(_shaped(str(abs(value)), f.random)) * (-1 if value < 0 else 1)
        if kind == "phone":
            return "+1" + f.numerify("%##555####")  # 555: a fictional exchange
        if kind == "email":
            return f.email(domain="example.invalid")
        if kind == "date":
            if _hinted(path, ("dob", "birth")):
                return f.date_of_birth(minimum_age=18, maximum_age=95).isoformat()
            return f.date_between("-2y", "+1y").isoformat()
        if kind == "datetime":
            return f.date_time_between("-2y", "+1y", tzinfo=UTC).isoformat(timespec="seconds")
        if kind == "url":
            return f"https://recordings.example.invalid/{f.hexify('^' * 16)}"
        if kind in _FAKER_METHODS:
            return getattr(f, _FAKER_METHODS[kind])()
        if kind == "id":
            return _shaped(value, f.random)
        return self._free_text(value, f)

    def _free_text(self, value: str, f: Faker) -> str:
        words = max(3, min(24, len(value.split())))
        sentence = f.sentence(nb_words=words, variable_nb_words=False)
        embedded = [
            text
            for real, fake in self._fakes.items()
            if len(real) >= MIN_EMBEDDED and real != value and real in value
            if (text := text_form(fake)) is not None
        ]
        return f"{sentence} {', '.join(embedded)}".rstrip() if embedded else sentence


def classify(path: Path, value: Any) -> str | None:
    """The kind of fake ``value`` at ``path`` needs, or ``None`` when it is kept as is."""
    if value is None or isinstance(value, bool | float) or not path:
        return None
    column = path[0]
    named = tuple(p for p in path if not p.isdigit())
    personal = column in PERSONAL_COLUMNS and named[:2] not in KEPT_INSIDE
    if column in TRANSCRIPTS and named[-1:] == ("role",):
        personal = False
    if isinstance(value, int):
        return "int" if personal else None
    if not isinstance(value, str) or value == "":
        return None
    shaped = _kind_by_shape(value)
    if not personal:  # platform data: only what plainly identifies someone
        return shaped if shaped in ("phone", "email") else None
    if column in TRANSCRIPTS:
        return "text"
    if shaped is not None:
        return shaped
    leaf = named[-1].lower() if named else ""
    if "phone" in leaf or leaf in ("to", "from_", "from", "mobile", "fax"):
        return "phone"
    if "name" in leaf:
        if "first" in leaf or "given" in leaf:
            return "first_name"
        if any(h in leaf for h in ("last", "family", "surname")):
            return "last_name"
        return "org" if any(h in leaf for h in _ORG_HINTS) else "name"
    if any(h in leaf for h in _ORG_HINTS):
        return "org"
    for kind, hints in (
        ("street", ("address", "street")),
        ("city", ("city",)),
        ("zip", ("zip", "postal")),
        ("state", ("state",)),
    ):
        if any(h in leaf for h in hints):
            return kind
    if any(h in leaf for h in _ID_HINTS) or (
        any(c.isdigit() for c in value) and not any(c.isspace() for c in value)
    ):
        return "id"
    return "text"


def _kind_by_shape(value: str) -> str | None:
    if _EMAIL.match(value):
        return "email"
    if _DATE.match(value):
        return "date"
    if _DATETIME.match(value):
        return "datetime"
    if _URL.match(value):
        return "url"
    digits = sum(c.isdigit() for c in value)
    if _PHONE.match(value) and digits >= 7 and (value[0] == "+" or not value.isdigit()):
        return "phone"
    return None


def _words(text: str) -> set[str]:
    return {w.casefold() for w in _WORD.findall(text) if len(w) >= MIN_EMBEDDED}


def _hinted(path: Path, hints: tuple[str, ...]) -> bool:
    leaf = path[-1].lower() if path else ""
    return any(h in leaf for h in hints)


def _shaped(value: str, rng: Any) -> str:
    """Same length and character classes: ``PAT-002`` → ``QZK-719``; no leading zero for ints."""
    out = []
    for i, c in enumerate(value):
        if c.isdigit():
            out.append(str(rng.randint(1 if i == 0 and value.isdigit() else 0, 9)))
        elif c.isalpha() and c.isascii():
            letter = chr(rng.randint(0, 25) + ord("a"))
            out.append(letter.upper() if c.isupper() else letter)
        elif c.isalpha():
            out.append("x")
        else:
            out.append(c)
    return "".join(out)


def _as_type(fake: Any, original: Any) -> Any:
    """A fake made for ``"12345"`` used where the real value was ``12345`` (and back)."""
    if isinstance(original, int) and not isinstance(original, bool) and isinstance(fake, str):
        return int(fake) if fake.lstrip("-").isdigit() else fake
    if isinstance(original, str) and not isinstance(fake, str):
        return text_form(fake)
    return fake


def _leaves(node: Any, path: Path = ()) -> Iterable[tuple[Path, Any]]:
    if isinstance(node, Mapping):
        for k, v in node.items():
            yield from _leaves(v, (*path, str(k)))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _leaves(v, (*path, str(i)))
    else:
        yield path, node


def _rebuild(node: Any, path: Path, leaf: Any) -> Any:
    if isinstance(node, Mapping):
        return {k: _rebuild(v, (*path, str(k)), leaf) for k, v in node.items()}
    if isinstance(node, list):
        return [_rebuild(v, (*path, str(i)), leaf) for i, v in enumerate(node)]
    return leaf(path, node)
