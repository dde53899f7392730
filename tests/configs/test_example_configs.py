"""Every example system under configs/ checks clean and describes its scenario."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from prtosd.cli import main
from prtosd.config import load_system

CONFIGS = Path(__file__).resolve().parents[2] / "configs"
SCENARIOS = ["helloworld", "helloworld_smp", *(f"example.{i:03d}" for i in range(1, 10))]

#: scenario → (system name, CPUs, partitions, plans on CPU 0, MAF of plan 0 in µs)
EXPECTED = {
    "helloworld": ("hello_world", 1, 1, 1, 2000),
    "helloworld_smp": (None, 2, 2, 1, 2_000_000),
    "example.001": ("timers", 1, 2, 1, 1_000_000),
    "example.002": ("health_monitor", 1, 3, 1, 600_000),
    "example.003": ("traces", 1, 3, 1, 600_000),
    "example.004": ("channels", 1, 3, 1, 1_500_000),
    "example.005": ("custom_file", 1, 1, 1, 200_000),
    "example.006": ("multiplan", 1, 3, 3, 2_000_000),
    "example.007": ("partition_management", 1, 3, 1, 2_500_000),
    "example.008": ("multi_vcpu", 2, 2, 1, 1_000_000),
    "example.009": ("memory_separtion", 1, 3, 1, 1_500_000),
}


def test_every_scenario_and_the_demo_exist() -> None:
    present = sorted(p.parent.name for p in CONFIGS.glob("*/system.xml"))
    assert present == sorted([*SCENARIOS, "demo"])


@pytest.mark.parametrize("name", [*SCENARIOS, "demo"])
def test_config_checks_clean(name: str) -> None:
    result = CliRunner().invoke(main, ["check", str(CONFIGS / name / "system.xml")])
    assert result.exit_code == 0, result.output
    assert "warning" not in result.output


@pytest.mark.parametrize("name", SCENARIOS)
def test_scenario_shape(name: str) -> None:
    system = load_system(CONFIGS / name / "system.xml")
    sys_name, cpus, parts, plans, maf = EXPECTED[name]
    if sys_name is not None:
        assert system.name == sys_name
    assert len(system.processors) == cpus
    assert len(system.partitions) == parts
    assert len(system.processors[0].plans) == plans
    assert system.processors[0].plans[0].major_frame == maf


def test_example_004_port_ids_and_channels() -> None:
    system = load_system(CONFIGS / "example.004" / "system.xml")
    ids = {(p.id, port.name): port.global_id for p in system.partitions for port in p.ports}
    assert ids == {(0, "portQ"): 0, (0, "portS"): 1, (1, "portS"): 2, (1, "portQ"): 3, (2, "portS"): 4}
    assert len(system.channels) == 2


def test_broken_config_exits_2_with_readable_errors(tmp_path: Path) -> None:
    text = (CONFIGS / "example.006" / "system.xml").read_text()
    text = re.sub(r'\spd:\w+="[^"]*"', "", text)  # the copy has no partition sources next to it
    broken = tmp_path / "system.xml"
    broken.write_text(text.replace('majorFrame="800ms"', 'majorFrame="700ms"', 1))
    result = CliRunner().invoke(main, ["check", str(broken)])
    assert result.exit_code == 2
    assert "overlaps major frame (700000 usec)" in result.output
    assert f"{broken}:" in result.output
    assert "Traceback" not in result.output
