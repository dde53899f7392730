"""Two CPUs running at the same time still give byte-identical output, run after run."""

from __future__ import annotations

from pathlib import Path

from systems import run_prtosd

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


def test_two_cpu_system_is_identical_across_20_reruns(tmp_path: Path) -> None:
    # example.008: two CPUs, two partitions with two vCPUs each, running in parallel slots
    outputs = set()
    for i in range(20):
        run = run_prtosd(CONFIGS / "example.008" / "system.xml", tmp_path / f"run{i}", "--until", "1600ms")
        assert run.returncode == 0, run.stderr
        outputs.add(run.stdout)
    assert len(outputs) == 1
    (out,) = outputs
    assert out.count("Verification Passed") == 2
