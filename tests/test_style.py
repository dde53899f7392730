"""The project's style rules hold for every file: ``ruff check`` and ``ruff format --check``.

Running them as a test keeps the rules in the one command everyone runs, so a change that
breaks them is caught where the change is made, not in a later review.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("args", [["check"], ["format", "--check"]], ids=["lint", "format"])
def test_ruff_is_clean(args: list[str]) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "ruff", *args, "--no-cache", "."], cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0, f"ruff {' '.join(args)} found problems:\n{done.stdout}{done.stderr}"
