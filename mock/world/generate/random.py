"""The generator's random source: keyed hashes, cheap, portable and deterministic.

``Draw`` is a stream of choices from one key; ``Fields`` cuts named, independent
fields from one keyed hash of an integer; ``byte_table`` and ``chance_table`` turn
a random byte into a pick or a yes/no with one tuple index. Nothing here knows of
calls: the fault rules and the simulation draw from ``Draw`` as well.
"""

from __future__ import annotations

import hashlib
import struct
from collections import namedtuple
from collections.abc import Callable, Iterable, Sequence
from types import MappingProxyType
from typing import Any, TypeVar

T = TypeVar("T")


class Draw:
    """A stream of choices from a keyed hash: cheap, portable and deterministic."""

    __slots__ = ("_bits", "_digest")

    def __init__(self, *key: object) -> None:
        self._digest = hashlib.blake2b("|".join(map(str, key)).encode(), digest_size=64).digest()
        self._bits = int.from_bytes(self._digest, "little")

    def below(self, n: int) -> int:
        if self._bits < 1 << 64:
            self._digest = hashlib.blake2b(self._digest, digest_size=64).digest()
            self._bits = int.from_bytes(self._digest, "little")
        self._bits, r = divmod(self._bits, n)
        return r

    def pick(self, items: Sequence[T]) -> T:
        return items[self.below(len(items))]

    def chance(self, p: float) -> bool:
        return self.below(10_000) < p * 10_000

    def digits(self, n: int) -> str:
        return str(self.below(10**n)).zfill(n)

    def hex(self, n: int) -> str:
        return format(self.below(16**n), f"0{n}x")


def byte_table(choices: Sequence[T]) -> tuple[T, ...]:
    """256 entries cycling through ``choices``: indexed by a random byte, it picks one.

    Each choice comes up ``256 // n`` or ``256 // n + 1`` times in 256: close enough
    to even for a mock's vocabulary, and one tuple index per pick.
    """
    return tuple(choices[i % len(choices)] for i in range(256))


def chance_table(p: float) -> tuple[bool, ...]:
    """256 booleans, ``round(p * 256)`` of them true: a random byte's chance of ``p``."""
    k = round(p * 256)
    return (True,) * k + (False,) * (256 - k)


def id_bytes(n: int) -> bytes:
    """An integer as hash input: 16 bytes, or its decimal text when it does not fit."""
    try:
        return n.to_bytes(16, "little", signed=True)
    except OverflowError:  # a longer input than 16 bytes, so never equal to a short one
        return str(n).encode()


_STRUCT_CODES = MappingProxyType({8: "B", 16: "H", 32: "I", 64: "Q"})  # field bits -> struct


class Fields:
    """Named random fields cut from one keyed hash of an integer, each from its own bits.

    Unlike ``Draw``'s stream, no field depends on another, so the lookup indexes
    can be built from a call's few indexed fields and a row from all of them, and
    the two always agree. One blake2b and one ``struct`` unpack give every field
    at once; a byte field picks from a ``byte_table``, a wider one is reduced
    with ``%`` where it is used.
    """

    __slots__ = ("_key", "_make", "_size", "_struct")

    def __init__(self, key: str, layout: Sequence[tuple[str, int]]) -> None:
        """``layout``: ``(name, bits)`` per field, bits 8, 16, 32 or 64 (at most 512 in all)."""
        unknown = [name for name, bits in layout if bits not in _STRUCT_CODES]
        if unknown:
            raise ValueError(f"fields {unknown}: bits must be one of {sorted(_STRUCT_CODES)}")
        self._struct = struct.Struct("<" + "".join(_STRUCT_CODES[bits] for _, bits in layout))
        self._size = self._struct.size
        if self._size > 64:
            raise ValueError(f"{self._size} bytes of fields do not fit one blake2b digest (64)")
        self._key = hashlib.blake2b(key.encode(), digest_size=32).digest()
        # Field names known only at run time: typeshed types namedtuple() as returning a
        # plain type[tuple[Any, ...]], which has no _make.
        self._make: Callable[[Iterable[int]], Any] = namedtuple(  # type: ignore[attr-defined]
            "Fields", [name for name, _ in layout]
        )._make

    def __call__(self, n: int) -> Any:
        """The fields of ``n`` by name."""
        return self._make(self.raw(n))

    def raw(self, n: int) -> tuple[int, ...]:
        """The fields of ``n`` in layout order (the hot path unpacks them into locals)."""
        digest = hashlib.blake2b(id_bytes(n), key=self._key, digest_size=self._size).digest()
        return self._struct.unpack(digest)
