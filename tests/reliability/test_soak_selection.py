"""Which runs include the long soak tests (tests/reliability/conftest.py)."""

from __future__ import annotations

import pytest
from relsupport import soak_requested


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, False),
        ({"PRTOSD_SOAK": "1"}, True),
        ({"CI": "true"}, True),
        ({"CI": "TRUE"}, True),
        ({"CI": "false"}, False),
        ({"CI": "1"}, False),
        ({"CI": "true", "PRTOSD_SOAK": "0"}, False),
        ({"CI": "false", "PRTOSD_SOAK": "1"}, True),
    ],
)
def test_soak_selection(env: dict[str, str], expected: bool) -> None:
    assert soak_requested(env) is expected
