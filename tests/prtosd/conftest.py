"""Fixtures for tests that start whole systems in their own temporary run directories."""

from __future__ import annotations

from pathlib import Path

import pytest
from systems import Run, run_prtosd


@pytest.fixture
def start_system(tmp_path: Path):
    """Write a system and run it: ``start_system(xml_text, "--until", "1s", tag="a")``."""

    def start(xml: str, *args: str, tag: str = "run") -> Run:
        config = tmp_path / f"{tag}.xml"
        config.write_text(xml)
        return run_prtosd(config, tmp_path / tag, *args)

    return start
