"""Helpers for tests that start whole systems: a system.xml around test guests, and prtosd as a child."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

GUESTS = Path(__file__).resolve().parent / "guests"


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str
    run_dir: Path

    def lines(self) -> list[str]:
        return self.stdout.replace("\r", "").splitlines()


def system_xml(
    partitions: list[dict],
    slots: list[tuple[int, int, int]],
    maf_ms: int,
    *,
    name: str = "test",
    plans: list[tuple[int, list[tuple[int, int, int]]]] | None = None,
) -> str:
    """A one-CPU system; ``partitions``: dicts with name, source, flags, hm (XML), extra (attrs)."""
    plan_list = plans if plans is not None else [(maf_ms, slots)]
    plan_xml = "".join(
        f'<Plan id="{i}" majorFrame="{maf}ms">'
        + "".join(
            f'<Slot id="{j}" start="{s}ms" duration="{d}ms" partitionId="{p}"/>' for j, (s, d, p) in enumerate(sl)
        )
        + "</Plan>"
        for i, (maf, sl) in enumerate(plan_list)
    )
    parts = ""
    for i, p in enumerate(partitions):
        src = f' pd:sources="{GUESTS / p["source"]}"' if p.get("source") else ""
        flags = f' flags="{p["flags"]}"' if p.get("flags") else ""
        parts += (
            f'<Partition id="{i}" name="{p["name"]}" console="Uart"{flags}{src} {p.get("extra", "")}>'
            f'<PhysicalMemoryAreas><Area start="0x{0x6000000 + i * 0x100000:x}" size="1MB"/></PhysicalMemoryAreas>'
            f"{p.get('hm', '')}</Partition>"
        )
    return f"""<?xml version="1.0"?>
<SystemDescription xmlns="http://www.prtos.org/prtos-1.x" xmlns:pd="urn:prtosd:1" version="1.0.0" name="{name}">
<HwDescription><MemoryLayout><Region type="ram" start="0x0" size="512MB"/></MemoryLayout>
<ProcessorTable><Processor id="0"><CyclicPlanTable>{plan_xml}</CyclicPlanTable></Processor></ProcessorTable>
<Devices><Uart id="0" baudRate="115200" name="Uart"/><MemoryBlock name="hmlog" start="0x2000000" size="64KB"/></Devices>
</HwDescription>
<PRTOSHypervisor console="Uart" healthMonitorDevice="hmlog"><PhysicalMemoryArea size="4MB"/></PRTOSHypervisor>
<PartitionTable>{parts}</PartitionTable>
</SystemDescription>
"""


def run_prtosd(config: Path, run_dir: Path, *args: str, timeout: float = 120) -> Run:
    """``prtosd start`` as a child process of the test, with its own run directory."""
    proc = subprocess.run(
        [sys.executable, "-m", "prtosd", "start", str(config), "--run-dir", str(run_dir), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return Run(proc.returncode, proc.stdout, proc.stderr, run_dir)
