"""Fakes of one kind and format for personal values: the drawing half of the pseudonymiser.

Each function makes one fake from a seeded ``random.Random``-like ``rng`` (faker's) and the
real value, keeping what a reader or a parser relies on:

* a UUID stays a UUID of the same version and variant, in the same case;
* a phone number keeps its format (``+1…`` E.164, ``(868) 504-4172``, ``868.504.4172``...):
  the same digits' positions get the fake's digits, and every spelling of one number has one
  fake (:func:`phone_key`); a North American number gets a fictional ``555`` exchange;
* a date keeps ``YYYY-MM-DD`` (or ``MM/DD/YYYY``), a date-time its separator, fraction and
  offset, a time ``HH:MM[:SS]``;
* an id keeps its length and character classes, hexadecimal letters staying hexadecimal;
* a name is faked word by word (:func:`name_words`), so ``Matthew Mann`` in one field and
  ``Matthew`` and ``Mann`` in two others are one person's fakes; titles (``Dr.``) are kept
  and each word keeps its case.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PHONE = re.compile(r"^\+?[\d\s().-]{7,20}$")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
US_DATE = re.compile(r"^(\d{2})/(\d{2})/(\d{4})$")
DATETIME = re.compile(r"^(\d{4}-\d{2}-\d{2})([T ])(\d{2}):(\d{2})(?::(\d{2}))?(.*)$")
TIME = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?$")
URL = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)
# A phone number inside free text: E.164, or a North American number however it is spelled.
PHONE_IN_TEXT = r"\+[1-9]\d{7,14}|(?:\+?1[\s.-]?)?(?:\(\d{3}\)|\d{3})[\s.-]?\d{3}[\s.-]?\d{4}"
EMAIL_IN_TEXT = r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"
NAME_WORD = re.compile(r"[^\W\d_]+(?:['\u2019-][^\W\d_]+)*")  # O'Neil, Smith-Jones
TITLES = frozenset({"dr", "mr", "mrs", "ms", "miss", "mx", "prof", "jr", "sr", "ii", "iii", "md"})


def kind_by_shape(value: str) -> str | None:
    """The kind a string's shape alone tells (``uuid``, ``email``, ``date``...), or ``None``."""
    if UUID.match(value):
        return "uuid"
    if EMAIL.match(value):
        return "email"
    if DATE.match(value) or US_DATE.match(value):
        return "date"
    if DATETIME.match(value):
        return "datetime"
    if TIME.match(value):
        return "time"
    if URL.match(value):
        return "url"
    digits = sum(c.isdigit() for c in value)
    if PHONE.match(value) and digits >= 7 and (value[0] == "+" or not value.isdigit()):
        return "phone"
    return None


def phone_key(value: str) -> str:
    """One spelling for every spelling of a number: ``+`` and its digits, a ten-digit North
    American number given its country code ``1``."""
    digits = "".join(c for c in value if c.isdigit())
    return "+" + ("1" + digits if len(digits) == 10 else digits)


def fake_phone(key: str, rng: Any) -> str:
    """The E.164 fake of ``phone_key`` ``key``: as many digits, the same first one, and for
    a North American number a fictional ``555`` exchange."""
    digits = key[1:]
    if len(digits) == 11 and digits[0] == "1":
        return "+1" + str(rng.randint(2, 9)) + _digits(rng, 2) + "555" + _digits(rng, 4)
    return "+" + (digits[:1] or "1") + _digits(rng, max(len(digits) - 1, 6))


def spell_phone(like: str, fake: str) -> str:
    """``fake`` (E.164) spelled as ``like`` is: its digits in ``like``'s digit positions,
    from the right; a leading ``+`` and country code kept only where ``like`` has them."""
    fake_digits = [c for c in fake if c.isdigit()]
    wanted = sum(c.isdigit() for c in like)
    fill = iter(fake_digits[-wanted:] if wanted <= len(fake_digits) else fake_digits)
    return "".join(next(fill, "0") if c.isdigit() else c for c in like)


def fake_uuid(value: str, rng: Any) -> str:
    """A random UUID of ``value``'s version and variant (its three bits), in its case."""
    real = value.replace("-", "").lower()
    text = f"{rng.getrandbits(128):032x}"
    variant = (int(real[16], 16) & 0b1110) | (int(text[16], 16) & 0b0001)
    text = text[:12] + real[12] + text[13:16] + f"{variant:x}" + text[17:]
    out = f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"
    return out.upper() if value.isupper() else out


def fake_date(value: str, rng: Any, birth: bool) -> str:
    """A date in ``value``'s format: of birth (18 to 95 years ago) or within two years."""
    today = date(2026, 1, 1)
    days = rng.randint(18 * 365, 95 * 365) if birth else rng.randint(-730, 365)
    fake = date.fromordinal(today.toordinal() - days if birth else today.toordinal() + days)
    if US_DATE.match(value):
        return fake.strftime("%m/%d/%Y")
    return fake.isoformat()


def fake_datetime(value: str, rng: Any) -> str:
    """A date-time in ``value``'s format: its separator, seconds, fraction and offset kept."""
    match = DATETIME.match(value)
    start = datetime(2024, 1, 1, tzinfo=UTC).timestamp()
    fake = datetime.fromtimestamp(start + rng.randint(0, 3 * 365 * 86400), UTC)
    if match is None:
        return fake.isoformat(timespec="seconds")
    _, sep, _, _, seconds, rest = match.groups()
    text = fake.strftime(f"%Y-%m-%d{sep}%H:%M")
    return text + (fake.strftime(":%S") if seconds is not None else "") + rest


def fake_time(value: str, rng: Any) -> str:
    """A time in ``value``'s format (``9:30``, ``09:30``, ``09:30:15``)."""
    match = TIME.match(value)
    width = len(match[1]) if match is not None else 2
    hour = rng.randint(7, 9) if width == 1 else rng.randint(7, 19)
    minute, second = rng.randint(0, 59), rng.randint(0, 59)
    text = f"{hour:0{width}d}:{minute:02d}"
    if match is None:
        return text
    return text + (f":{second:02d}" if match[3] is not None else "")


def shaped(value: str, rng: Any) -> str:
    """Same length and character classes: ``PAT-002`` → ``QZK-719``; no leading zero for an
    integer; an id whose letters are all hexadecimal keeps hexadecimal letters."""
    hexadecimal = all(c in "0123456789abcdefABCDEF" for c in value if c.isalnum())
    out = []
    for i, c in enumerate(value):
        if c.isdigit():
            out.append(str(rng.randint(1 if i == 0 and value.isdigit() else 0, 9)))
        elif c.isalpha() and c.isascii():
            letter = chr(rng.randint(0, 5 if hexadecimal else 25) + ord("a"))
            out.append(letter.upper() if c.isupper() else letter)
        elif c.isalpha():
            out.append("x")
        else:
            out.append(c)
    return "".join(out)


def name_words(value: str) -> list[re.Match[str]]:
    """The words of a name that are faked (titles such as ``Dr.`` are not)."""
    return [m for m in NAME_WORD.finditer(value) if m[0].casefold() not in TITLES]


def like_case(fake: str, like: str) -> str:
    """``fake`` in ``like``'s case: all capitals, all small, or as drawn."""
    if like.isupper() and len(like) > 1:
        return fake.upper()
    if like.islower():
        return fake.lower()
    return fake


def alternation(words: list[str]) -> str:
    """A regular expression matching any of ``words``, the longest first (as a trie)."""
    trie: dict[str, Any] = {}
    for word in words:
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}
    return _trie(trie)


def _trie(node: dict[str, Any]) -> str:
    branches = [re.escape(char) + _trie(child) for char, child in node.items() if char]
    if not branches:
        return ""
    body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
    return f"(?:{body})?" if "" in node else body


def us_date(text: str) -> str | None:
    """``YYYY-MM-DD`` spelled ``MM/DD/YYYY`` (``None`` for anything else)."""
    try:
        return date.fromisoformat(text).strftime("%m/%d/%Y") if DATE.match(text) else None
    except ValueError:
        return None


def iso_date(text: str) -> str | None:
    """``MM/DD/YYYY`` spelled ``YYYY-MM-DD`` (``None`` for anything else)."""
    match = US_DATE.match(text)
    return f"{match[3]}-{match[1]}-{match[2]}" if match else None


def one_word(name: str) -> str:
    """The first word of a faker name (``Smith Jr.`` → ``Smith``)."""
    found = NAME_WORD.search(name)
    return found[0] if found else name


def _digits(rng: Any, n: int) -> str:
    return "".join(str(rng.randint(0, 9)) for _ in range(n))
