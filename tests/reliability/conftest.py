"""Reliability suite: fixtures, and the rule that ``soak`` tests run only when asked for.

``pytest -m soak`` selects the long runs only; ``PRTOSD_SOAK=1`` adds them to a normal run, and so
does a continuous-integration machine (``CI=true``), so that every submission is soaked once while
the everyday run on a workstation stays short.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from relsupport import soak_requested

from prtosd.pytest_plugin import RunningSystem, system_factory


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if "soak" in (config.getoption("markexpr") or "") or soak_requested(os.environ):
        return
    skip = pytest.mark.skip(reason="long run: select it with -m soak")
    for item in items:
        if item.get_closest_marker("soak") is not None:
            item.add_marker(skip)


@pytest.fixture
def rel_system(tmp_path: Path) -> Iterator[Callable[..., RunningSystem]]:
    """Start systems under ``--serve --until 0s`` in ``tmp_path``; all are stopped at teardown."""
    with system_factory(tmp_path) as start:
        yield start
