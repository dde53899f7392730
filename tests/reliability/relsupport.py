"""Helpers of the reliability suite: system.xml around its guests, partition processes, memory files."""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable, Mapping
from pathlib import Path

import psutil

GUESTS = Path(__file__).resolve().parent / "guests"
#: Physical start of partition ``i``'s 1 MB area; areas are 2 MB apart so each has its own memory file.
AREA_BASE = 0x6000000
AREA_STRIDE = 0x200000
AREA_SIZE = 0x100000


def area_start(i: int) -> int:
    return AREA_BASE + i * AREA_STRIDE


def rel_xml(
    partitions: list[dict],
    slots: list[tuple[int, int, int]],
    maf_ms: int,
    *,
    name: str = "rel",
    processors: int = 1,
) -> str:
    """A system on one CPU (or ``processors`` CPUs with the same plan each, for slot ids per CPU).

    ``partitions``: dicts with ``name``, ``source`` (a file in ``guests/``), ``flags``, ``hm`` (XML).
    ``slots``: ``(start_ms, duration_ms, partition)``; each slot's partition must run on CPU 0.
    """
    slot_xml = "".join(
        f'<Slot id="{j}" start="{s}ms" duration="{d}ms" partitionId="{p}"/>' for j, (s, d, p) in enumerate(slots)
    )
    plan = f'<CyclicPlanTable><Plan id="0" majorFrame="{maf_ms}ms">{slot_xml}</Plan></CyclicPlanTable>'
    procs = "".join(f'<Processor id="{c}">{plan if c == 0 else ""}</Processor>' for c in range(processors))
    parts = ""
    for i, p in enumerate(partitions):
        src = f' pd:sources="{GUESTS / p["source"]}"' if p.get("source") else ""
        flags = f' flags="{p["flags"]}"' if p.get("flags") else ""
        parts += (
            f'<Partition id="{i}" name="{p["name"]}" console="Uart"{flags}{src}>'
            f'<PhysicalMemoryAreas><Area start="0x{area_start(i):x}" size="1MB"/></PhysicalMemoryAreas>'
            f"{p.get('hm', '')}</Partition>"
        )
    return f"""<?xml version="1.0"?>
<SystemDescription xmlns="http://www.prtos.org/prtos-1.x" xmlns:pd="urn:prtosd:1" version="1.0.0" name="{name}">
<HwDescription><MemoryLayout><Region type="ram" start="0x0" size="512MB"/></MemoryLayout>
<ProcessorTable>{procs}</ProcessorTable>
<Devices><Uart id="0" baudRate="115200" name="Uart"/><MemoryBlock name="hmlog" start="0x2000000" size="64KB"/></Devices>
</HwDescription>
<PRTOSHypervisor console="Uart" healthMonitorDevice="hmlog"><PhysicalMemoryArea size="4MB"/></PRTOSHypervisor>
<PartitionTable>{parts}</PartitionTable>
</SystemDescription>
"""


def memory_file(run_dir: Path, i: int) -> Path:
    """The backing file of partition ``i``'s area (see :func:`rel_xml`)."""
    return run_dir / f"phys-{area_start(i):08x}-{AREA_SIZE:08x}.mem"


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def console_log(run_dir: Path, i: int) -> bytes:
    """Partition ``i``'s own console writes so far."""
    path = run_dir / "console" / f"P{i}.log"
    return path.read_bytes() if path.exists() else b""


def partition_processes(daemon_pid: int) -> dict[int, psutil.Process]:
    """The live partitiond processes of a daemon, by partition id.

    Read-only: found through the process table, so the runtime needs no extra interface. A
    partition process writes its stdout to ``partitiond-P-V.log`` in the run directory whichever
    way it was started (fork server or ``python -m partitiond``), so that file names it.
    """
    found: dict[int, psutil.Process] = {}
    for child in psutil.Process(daemon_pid).children(recursive=True):
        try:
            files = child.open_files()
        except psutil.Error:
            continue
        for f in files:
            m = re.fullmatch(r"partitiond-(\d+)-(\d+)\.log", Path(f.path).name)
            if m and f.fd == 1:
                found[int(m.group(1))] = child
    return found


def wait_until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll ``predicate`` until it holds; fail after ``timeout`` wall seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.01)  # polling interval, not synchronisation


def soak_requested(env: Mapping[str, str]) -> bool:
    """``PRTOSD_SOAK=1``, or a CI machine (``CI=true``, as CI services set it) unless ``PRTOSD_SOAK=0``."""
    if env.get("PRTOSD_SOAK") in ("0", "1"):
        return env["PRTOSD_SOAK"] == "1"
    return env.get("CI", "").lower() == "true"
