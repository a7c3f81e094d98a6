"""The world tests pass on the Redis store too: every write they make goes through the
shared log, and a world caught up from it equals the one that wrote (``tests/world/conftest``).
The in-process tier: a test that starts or forks a process writes from there, through a copy
of the binding, to a log the world in the test never sees."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.world.conftest import WORLD_STORE_ENV

ROOT = Path(__file__).resolve().parents[3]
# What no shared world does: a test that drives a service past the world's facade (its write
# is never announced), and tests of a listener after the shared log's refusing a change the log
# holds already (on a shared store a state file is a copy, which never refuses: world/seeding).
NOT_ON_A_SHARED_STORE = (
    "test_dialing.py::test_a_placed_call_plays_its_steps_and_ends_as_the_clock_moves",
    "test_model.py::test_a_failing_listener_undoes_the_change_whole",
    "test_persistence.py::test_a_change_the_state_file_cannot_take_is_not_made",
)


def test_the_world_tests_pass_with_every_world_on_a_shared_store() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", "-p", "no:xdist",
         "-m", "not slow", "tests/world", "--ignore=tests/world/storage",
         *[f"--deselect=tests/world/{test}" for test in NOT_ON_A_SHARED_STORE]],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
        env={**os.environ, WORLD_STORE_ENV: "redis", "PYTHONDONTWRITEBYTECODE": ""},
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-4000:]
    assert " passed" in done.stdout.splitlines()[-1]
