"""Every collected test is reported under a node id of its own.

pytest 9 builds a test function's node id from its original name and its ``parametrize`` ids.
schemathesis' ``schema.parametrize()`` names each of its items after an API operation
(``test_x[GET /path]``) but hands pytest the bare function name as the original name, with no
``parametrize`` ids, so every operation's item would get the same node id: xdist, the JUnit
report and the summary would count them as one test. Such an item gets the id pytest gives any
other node, its parent's and its name; a suite whose ids still repeat stops at collection.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import pytest


def distinct_node_ids(items: Sequence[pytest.Item]) -> None:
    """Give an item whose node id does not end in its name the id its name makes."""
    for item in items:
        if item.parent is not None and not item.nodeid.endswith("::" + item.name):
            item._id = item.parent.id.child(item.name)  # what Node.__init__ does by default


def repeated_node_ids(items: Sequence[pytest.Item]) -> list[str]:
    """The node ids more than one item has."""
    return sorted(nodeid for nodeid, n in Counter(i.nodeid for i in items).items() if n > 1)


def one_node_id_each(items: Sequence[pytest.Item]) -> None:
    """Make the node ids distinct; stop the session if some still repeat."""
    distinct_node_ids(items)
    if repeated := repeated_node_ids(items):
        raise pytest.UsageError(f"tests collected under the same node id: {repeated}")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """As a plugin (``-p tests.nodeids``): what the suite's conftest does."""
    one_node_id_each(items)
