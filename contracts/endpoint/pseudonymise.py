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
  but its free text is scrubbed: every personal value replaced anywhere in the
  file, in any of its spellings (a name's words in any case, a date as
  ``YYYY-MM-DD`` or ``MM/DD/YYYY``), and every phone number and e-mail address,
  is replaced by its fake. Booleans, nulls and fractional numbers are kept
  everywhere.
* **How.** A value's kind comes from its shape (UUID, e-mail, phone, date,
  time, URL) or its key (``*first*name``, ``*name``, ``address``, ``*_id``...);
  the fake has the same kind and format (``prosper_contracts.endpoint.fakes``: a
  UUID stays a valid UUID, a phone number keeps its spelling, a member id its
  length, letters and digits). A name is faked word by word, so one person has
  one fake name in every field. Personal free text becomes faker words followed
  by the fakes of the personal values it mentioned, so "It's 1947-06-15." still
  carries the fake date of birth.
* **Consistency.** The same real value (compared by its text form, so ``12345``
  and ``"12345"`` are one value; a phone number by its digits) always gets the
  same fake within one ``Pseudonymiser``: a lookup by phone number or by
  variable still finds the call after replay, mapped with
  :meth:`Pseudonymiser.query`. Each fake is drawn from faker seeded by an HMAC of
  the value under a key made at random per recording, so nobody can recompute
  the mapping from a list of candidate names; the key is never written anywhere.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from faker import Faker

from prosper_contracts.endpoint import fakes
from prosper_mock import text_form

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
# Platform columns whose strings are read by the mock, not by people: never scrubbed.
STRUCTURED = frozenset({"operating_hours"})

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
_NAMES = frozenset({"first_name", "last_name", "name"})
# A real value shorter than this is not searched for inside free text (too many false hits);
# one of digits alone, shorter than MIN_DIGITS.
MIN_EMBEDDED = 3
MIN_DIGITS = 5
# Longer values (transcripts) are replaced whole, never searched for.
MAX_EMBEDDED = 100
_FAKE_URL = "https://recordings.example.invalid/"


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
        self._drawn: dict[str, Any] = {}  # kind and key (a phone's digits, a name's word) -> fake
        self._used: set[str] = set()  # text forms of the fakes handed out
        # Words of every real structured value: no fake may contain one ("Jessica Smith"
        # must not stand in for someone when a real "Jessica" is in the recording).
        self._real_words: set[str] = set()
        # The text form of every real value replaced, however short: no fake may equal one.
        self._real_texts: set[str] = set()
        # Each real value's spellings searched for in free text (lower case) -> the fake's.
        self._spelled: dict[str, str] = {}
        self._matcher: re.Pattern[str] | None = None
        self._holding: re.Pattern[str] | None = None  # finds a real word inside a fake one

    def reset(self) -> None:
        """Forget the mapping (the key stays): the next :meth:`rows` maps from scratch.

        A recording is rewritten whole each time, so it is pseudonymised whole each
        time: a fake is then checked against every real value, not only the ones
        seen before it was drawn.
        """
        for kept in (self._fakes, self._drawn, self._spelled):
            kept.clear()
        for seen in (self._used, self._real_words, self._real_texts):
            seen.clear()
        self._matcher = self._holding = None

    def __repr__(self) -> str:  # never show the key
        return f"Pseudonymiser({len(self._fakes)} values mapped)"

    @property
    def real_values(self) -> frozenset[str]:
        """The text form of every real value replaced so far (for leak checks; keep private)."""
        return frozenset(self._fakes)

    # --- rows ---------------------------------------------------------------------------

    def rows(self, rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Copies of ``rows`` (world-file dicts) with every personal value replaced.

        Every real value of all rows is known before anything is written: structured
        values first, then personal free text (which carries their fakes), then the
        platform's free text is scrubbed of every one of them.
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
                    real = text_form(value) or ""
                    self._real_words.update(_words(real))
                    self._holding = None
                    self._real_texts |= {real, fakes.phone_key(real)} if kind == "phone" else {real}
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
        if kind is not None:
            return self.fake(value, kind, path)
        if isinstance(value, str) and scrubbed(path):
            return self.scrub(value)
        return value

    def scrub(self, text: str) -> str:
        """``text`` with every known real value, phone number and e-mail address in it
        replaced by its fake."""
        return self._matching().sub(self._substitute, text)

    # --- single values ------------------------------------------------------------------

    def fake(self, value: Any, kind: str, path: Path = ()) -> Any:
        """The fake for ``value``: the same one every time within this pseudonymiser."""
        real = text_form(value)
        if real is None:
            return value
        known = self._fakes.get(real)
        if known is not None:
            return _as_type(known, value)
        if kind in ("id", "text") and fakes.UUID.match(real):
            kind = "uuid"
        made: Any
        if kind == "phone":
            made = self._phone(real)
        elif kind == "date":
            made = self._date(real, _hinted(path, ("dob", "birth")))
        elif kind in _NAMES:
            made = self._name(real, kind)
        elif kind == "text":
            made = self._free_text(real)
        else:
            made = self._draw_once(kind, real, lambda f: self._draw(kind, value, path, f))
        self._fakes[real] = made
        self._learn(real, made, kind)
        return _as_type(made, value)

    def _draw_once(self, kind: str, key: str, draw: Callable[[Faker], Any]) -> Any:
        """The fake drawn for ``key`` of ``kind``: the first draw that reveals nothing real
        and stands for no one else (a name's word does not even hold a real word: no
        "Roberts" for someone when a real "Robert" is in the recording)."""
        slot = f"{kind}\0{key}"
        if slot in self._drawn:
            return self._drawn[slot]
        for attempt in range(100):
            self._faker.seed_instance(self._seed(kind, key, attempt))
            candidate = draw(self._faker)
            text = text_form(candidate) or ""
            if (
                text.lower() != key.lower()
                and text not in self._used
                and text not in self._real_texts
                and not _words(_drawn_part(text)) & self._real_words
                and not (kind == "word" and self._holding_real().search(text.lower()))
            ):
                break
        self._drawn[slot] = candidate
        self._used.add(text)
        return candidate

    def _holding_real(self) -> re.Pattern[str]:
        if self._holding is None:
            words = [w for w in self._real_words if len(w) >= 4 and not w.isdigit()]
            self._holding = re.compile(fakes.alternation(sorted(words)) or "(?!)")
        return self._holding

    def _seed(self, kind: str, real: str, attempt: int) -> int:
        message = f"{kind}\0{real}\0{attempt}".encode()
        return int.from_bytes(hmac.new(self._key, message, hashlib.sha256).digest()[:8], "big")

    def _phone(self, spelled: str) -> str:
        key = fakes.phone_key(spelled)
        fake = self._draw_once("phone", key, lambda f: fakes.fake_phone(key, f.random))
        return fakes.spell_phone(spelled, fake)

    def _date(self, real: str, birth: bool) -> str:
        """One fake per day, spelled as ``real`` is (``YYYY-MM-DD`` or ``MM/DD/YYYY``)."""
        iso = fakes.iso_date(real) or real
        fake = self._draw_once("date", iso, lambda f: fakes.fake_date(iso, f.random, birth))
        return (fakes.us_date(fake) or fake) if fakes.US_DATE.match(real) else fake

    def _name(self, real: str, kind: str) -> str:
        """A person's name faked word by word: a word has one fake wherever it appears."""
        words = fakes.name_words(real)
        if not words:
            return str(self._draw_once(kind, real, lambda f: fakes.one_word(f.name())))
        out, end = [], 0
        for i, word in enumerate(words):
            last = i == len(words) - 1 and len(words) > 1
            role = kind if kind != "name" else "last_name" if last else "first_name"
            drawn = self._draw_once("word", word[0].lower(), _name_word(role))
            fake_word = fakes.like_case(drawn, word[0])
            out += [real[end : word.start()], fake_word]
            end = word.end()
            self._spell(word[0], fake_word)
        return "".join([*out, real[end:]])

    def _draw(self, kind: str, value: Any, path: Path, f: Faker) -> Any:
        rng = f.random
        if kind == "int":
            return int(fakes.shaped(str(abs(value)), rng)) * (-1 if value < 0 else 1)
        real = str(value)
        if kind == "email":
            return f.email(domain="example.invalid")
        if kind == "datetime":
            return fakes.fake_datetime(real, rng)
        if kind == "time":
            return fakes.fake_time(real, rng)
        if kind == "uuid":
            return fakes.fake_uuid(real, rng)
        if kind == "url":
            return f"{_FAKE_URL}{f.hexify('^' * 16)}"
        if kind in _FAKER_METHODS:
            return getattr(f, _FAKER_METHODS[kind])()
        return fakes.shaped(real, rng)

    def _free_text(self, real: str) -> str:
        embedded = list(dict.fromkeys(self._substitute(m) for m in self._matching().finditer(real)))

        def draw(f: Faker) -> str:
            words = max(3, min(24, len(real.split())))
            sentence = f.sentence(nb_words=words, variable_nb_words=False)
            return f"{sentence} {', '.join(embedded)}".rstrip() if embedded else sentence

        return str(self._draw_once("text", real, draw))

    # --- free text ----------------------------------------------------------------------

    def _learn(self, real: str, made: Any, kind: str) -> None:
        """Search free text for ``real`` (in each of its spellings) from now on."""
        fake = text_form(made) or ""
        if kind == "text":
            return  # replaced whole where it is; too long to search for
        self._spell(real, fake)
        if kind == "date":
            for spelling in (fakes.us_date, fakes.iso_date):
                if (a := spelling(real)) is not None and (b := spelling(fake)) is not None:
                    self._spell(a, b)

    def _spell(self, real: str, fake: str) -> None:
        shortest = MIN_DIGITS if real.isdigit() else MIN_EMBEDDED
        if shortest <= len(real) <= MAX_EMBEDDED and self._spelled.get(real.lower()) != fake:
            self._spelled[real.lower()] = fake
            self._matcher = None

    def _matching(self) -> re.Pattern[str]:
        if self._matcher is None:
            known = fakes.alternation(sorted(self._spelled)) or "(?!)"
            self._matcher = re.compile(
                rf"(?<!\w)(?:(?P<known>{known})|(?P<phone>{fakes.PHONE_IN_TEXT})"
                rf"|(?P<email>{fakes.EMAIL_IN_TEXT}))(?!\w)",
                re.IGNORECASE,
            )
        return self._matcher

    def _substitute(self, match: re.Match[str]) -> str:
        found = match[0]
        if match["known"] is not None:
            return fakes.like_case(self._spelled[found.lower()], found)
        if match["phone"] is not None:
            return self._phone(found)
        key = found.lower()
        return str(self._draw_once("email", key, lambda f: f.email(domain="example.invalid")))


def classify(path: Path, value: Any) -> str | None:
    """The kind of fake ``value`` at ``path`` needs, or ``None`` when it is kept as is (the
    platform's strings are then scrubbed: :func:`scrubbed`)."""
    if value is None or isinstance(value, bool | float) or not path:
        return None
    column = path[0]
    named = tuple(p for p in path if not p.isdigit())
    personal = column in PERSONAL_COLUMNS and named[:2] not in KEPT_INSIDE
    if column in TRANSCRIPTS and named[-1:] == ("role",):
        personal = False
    if not personal:
        return None
    if isinstance(value, int):
        return "int"
    if not isinstance(value, str) or value == "":
        return None
    if column in TRANSCRIPTS:
        return "text"
    shaped = fakes.kind_by_shape(value)
    if shaped is not None:
        return shaped
    leaf = named[-1].lower() if named else ""
    phone_key = "phone" in leaf or leaf in ("to", "from_", "from", "mobile", "fax")
    if phone_key and sum(c.isdigit() for c in value) >= 7:  # "N/A" is no number to fake
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


def scrubbed(path: Path) -> bool:
    """Whether a string the platform's data holds at ``path`` is free text to scrub: inside
    a platform column (a top-level string is an id, a time or a status)."""
    return len(path) >= 2 and path[0] not in PERSONAL_COLUMNS and path[0] not in STRUCTURED


def _drawn_part(fake: str) -> str:
    """The part of a fake that was drawn (not the fixed ``example.invalid`` domain)."""
    return fake.split("@")[0] if "@" in fake else fake.removeprefix(_FAKE_URL)


def _name_word(role: str) -> Callable[[Faker], str]:
    """A draw of one word of a faker ``role`` (``first_name``, ``last_name``)."""
    return lambda f: fakes.one_word(getattr(f, role)())


def _words(text: str) -> set[str]:
    return {w.casefold() for w in _WORD.findall(text) if len(w) >= MIN_EMBEDDED}


def _hinted(path: Path, hints: tuple[str, ...]) -> bool:
    leaf = path[-1].lower() if path else ""
    return any(h in leaf for h in hints)


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
