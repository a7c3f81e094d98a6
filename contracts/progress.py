"""The contract run's progress on a terminal: a bar of the suites, naming the one running."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import pytest

from prosper_mock.base.progress import progress_bar


class SuiteProgress:
    """A pytest plugin: a bar of the suites run so far instead of pytest's dots.

    Each suite sends many requests, so one dot can take several seconds; the bar names
    the suite at work. Outcomes are counted and summarised as ever.
    """

    def __init__(self) -> None:
        self.bar: Any = None

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.bar = progress_bar(len(session.items), "contract suites", unit="suite")

    def pytest_runtest_logstart(self, nodeid: str, location: object) -> None:
        if self.bar is not None:
            self.bar.set_postfix_str(nodeid.rsplit("::", 1)[-1])

    def pytest_runtest_logfinish(self, nodeid: str, location: object) -> None:
        if self.bar is not None:
            self.bar.update()

    @pytest.hookimpl(wrapper=True)
    def pytest_report_teststatus(self) -> Generator[None, Any, Any]:
        result = yield
        if isinstance(result, tuple) and len(result) == 3:
            category, _letter, word = result
            return category, "", word  # no dot: the bar shows the progress
        return result

    def pytest_sessionfinish(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
