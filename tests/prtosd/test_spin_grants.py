"""Grants of several quanta while every CPU spins (Supervisor._spin_horizon) change nothing but speed.

Each system runs with them and with one quantum at a time (``PRTOSD_SPIN_GRANTS=0``); console,
every memory file and the timeline must be the same, except that one grant line may stand for
several back-to-back quanta of the same vCPU (the timeline is compared with those joined).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from systems import GUESTS

CONFIGS = Path(__file__).resolve().parents[2] / "configs"

TICKERS = f"""<?xml version="1.0"?>
<SystemDescription xmlns="http://www.prtos.org/prtos-1.x" xmlns:pd="urn:prtosd:1" version="1.0.0" name="spinners">
<HwDescription><MemoryLayout><Region type="ram" start="0x0" size="512MB"/></MemoryLayout>
<ProcessorTable>
<Processor id="0"><CyclicPlanTable><Plan id="0" majorFrame="1000ms">
<Slot id="0" start="0ms" duration="700ms" partitionId="0"/></Plan></CyclicPlanTable></Processor>
<Processor id="1"><CyclicPlanTable><Plan id="0" majorFrame="1000ms">
<Slot id="0" start="0ms" duration="1000ms" partitionId="1"/></Plan></CyclicPlanTable></Processor>
</ProcessorTable><Devices><Uart id="0" baudRate="115200" name="Uart"/></Devices></HwDescription>
<PRTOSHypervisor console="Uart"><PhysicalMemoryArea size="4MB"/></PRTOSHypervisor>
<PartitionTable>
<Partition id="0" name="Ticker" console="Uart" pd:sources="{GUESTS / "spin_ticker.c"}">
<PhysicalMemoryAreas><Area start="0x6000000" size="1MB"/></PhysicalMemoryAreas></Partition>
<Partition id="1" name="Listener" console="Uart" pd:sources="{GUESTS / "spin_listener.c"}">
<PhysicalMemoryAreas><Area start="0x6100000" size="1MB"/></PhysicalMemoryAreas></Partition>
</PartitionTable>
<Channels><Ipvi id="0" sourceId="0" destinationId="1"/></Channels>
</SystemDescription>
"""


def grant_lines(run_dir: Path) -> int:
    return sum('"ev":"grant"' in ln for ln in (run_dir / "timeline.jsonl").read_text().splitlines())


def run(config: Path, run_dir: Path, until: str, spin_grants: bool, quantum_us: int = 10000) -> dict[str, bytes]:
    """``prtosd start`` to ``until``; the console, the normalised timeline and every memory file."""
    env = {**os.environ, "PRTOSD_SPIN_GRANTS": "1" if spin_grants else "0", "PRTOSD_QUANTUM_US": str(quantum_us)}
    cmd = [sys.executable, "-m", "prtosd", "start", str(config), "--until", until, "--run-dir", str(run_dir)]
    proc = subprocess.run(cmd, capture_output=True, env=env, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr.decode()
    out = {"stdout": proc.stdout, "timeline": joined_timeline(run_dir / "timeline.jsonl")}
    for f in sorted(run_dir.glob("*.mem")):
        out[f.name] = f.read_bytes()
    return out


def joined_timeline(path: Path) -> bytes:
    """The timeline's lines, sorted, with back-to-back grant lines of one vCPU on one CPU joined."""
    lines, grants = [], []
    for line in path.read_text().splitlines():
        ev = json.loads(line)
        (grants if ev["ev"] == "grant" else lines).append(ev)
    joined: list[dict] = []
    last: dict[int, dict] = {}
    for g in sorted(grants, key=lambda e: (e["cpu"], e["boot"], e["ts"])):
        prev = last.get(g["cpu"])
        same = prev is not None and (prev["boot"], prev["p"], prev["v"], prev["end"]) == (
            g["boot"], g["p"], g["v"], g["ts"]
        )  # fmt: skip
        if same and prev["why"] == "budget":
            prev["end"], prev["why"] = g["end"], g["why"]
        else:
            joined.append(g)
            last[g["cpu"]] = g
    return "\n".join(sorted(json.dumps(e, sort_keys=True) for e in lines + joined)).encode()


def both(tmp_path: Path, config: Path, until: str, quantum_us: int = 10000) -> dict[str, bytes]:
    on = run(config, tmp_path / "on", until, True, quantum_us)
    off = run(config, tmp_path / "off", until, False, quantum_us)
    assert on.keys() == off.keys()
    for k in on:
        assert on[k] == off[k], k
    return on


def test_ipvis_between_spinning_cpus_arrive_at_the_same_times(tmp_path: Path) -> None:
    config = tmp_path / "tickers.xml"
    config.write_text(TICKERS)
    out = both(tmp_path, config, "1500ms")
    text = out["stdout"].decode().replace("\r", "")
    ticks = [ln for ln in text.splitlines() if " tick " in ln]
    arrivals = [ln for ln in text.splitlines() if " ipvi " in ln]
    assert len(ticks) >= 40  # 700 ms of each 1000 ms frame, a tick every 23.457 ms
    # Each reaches the listener at the next quantum boundary: all but one raised in the last quantum.
    assert len(ticks) - 1 <= len(arrivals) <= len(ticks)
    assert arrivals[0] == "[1] ipvi 1 at 30000" and ticks[0] == "[0] tick 1 at 24339"
    assert grant_lines(tmp_path / "on") < grant_lines(tmp_path / "off")  # between ticks: quanta joined


@pytest.mark.parametrize("quantum_us", [10000, 7000])  # 7 ms: slot ends between quantum boundaries
def test_spinning_vcpus_of_example_008_are_identical(tmp_path: Path, quantum_us: int) -> None:
    both(tmp_path, CONFIGS / "example.008" / "system.xml", "3s", quantum_us)
    assert grant_lines(tmp_path / "on") < grant_lines(tmp_path / "off") / 10


def test_a_system_that_does_not_spin_is_unchanged(tmp_path: Path) -> None:
    both(tmp_path, CONFIGS / "helloworld_smp" / "system.xml", "1s")
    assert grant_lines(tmp_path / "on") == grant_lines(tmp_path / "off")


def test_spinning_cpus_take_few_grants(tmp_path: Path) -> None:
    """example.008: both CPUs spin after their first output, so each slot needs about two grants per CPU."""
    run(CONFIGS / "example.008" / "system.xml", tmp_path / "r", "10s", True)
    assert grant_lines(tmp_path / "r") <= 20 * 2 * 2 + 8  # 20 slots; a quantum to prove the spin, then the rest
