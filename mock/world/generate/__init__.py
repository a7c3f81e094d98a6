"""Seeded worlds: a faker-filled, hash-driven generator of calls.

``random`` is the keyed-hash random source (also drawn from by the fault rules and
the simulation), ``vocabulary`` the fixed domain words and flows (vocabulary.json),
``recipe`` what a world is derived from, ``plan`` what a call is about, and
``generator`` the ``Generator`` that derives every call from ``(seed, id)``.
"""

from __future__ import annotations

from prosper_mock.world.generate.generator import ALL_STEPS, Generator
from prosper_mock.world.generate.random import Draw
from prosper_mock.world.generate.recipe import DEFAULT_ANCHOR, WorldRecipe
from prosper_mock.world.generate.vocabulary import FLOWS, Flow, Step

__all__ = [
    "ALL_STEPS",
    "DEFAULT_ANCHOR",
    "FLOWS",
    "Draw",
    "Flow",
    "Generator",
    "Step",
    "WorldRecipe",
]
