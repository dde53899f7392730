"""P6 — scale: 8 → 16 → 32 → 64 partitions on one CPU with a 1000-slot plan.

Each system is generated into a temporary directory: partition ``i`` is a tiny SDK-built C
program that spins through its slots (even ``i``) or gives each slot up at once (odd ``i``);
slot ``j`` of the 1000 belongs to partition ``j mod N``. The system runs under ``--serve`` and is
driven with ``run_until``, so the figure excludes start-up and image builds:

* slot switches per wall second over whole major frames (one switch per slot);
* memory per partition process: RSS (what ``top`` shows; counts the pages shared with the fork
  server), USS (pages only that process has) and PSS (shared pages split among their users);
* the reference, measured in the same run: ZeroMQ msgpack round trips per second between two
  processes (every switch costs at least one), and the ratio of the two rates;
* how the total grows with the number of partitions: least-squares line of total RSS (and USS)
  against N, with its slope (MiB per partition) and R² (1.0 = linear).

Goals (docs/performance.md): ≥ 2000 switches/s, ≤ 35 MiB RSS per partition process, linear.
"""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil

from bench.system import zmq_round_trip
from prtosd.client import Client, read_info

GUESTS = Path(__file__).resolve().parent / "guests"
SIZES = (8, 16, 32, 64)
SLOTS = 1000
SLOT_US = 100
MAF_US = SLOTS * SLOT_US
#: Major frames timed per size, after one of warm-up (first translations, first hellos).
MAFS = 4
MIB = 1024 * 1024


def scale_xml(n: int) -> str:
    """``n`` partitions, 1 MB each, on CPU 0's 1000-slot plan."""
    parts = "".join(
        f'<Partition id="{i}" name="P{i}" console="Uart" pd:sources="{GUESTS / ("yield.c" if i % 2 else "spin.c")}">'
        f'<PhysicalMemoryAreas><Area start="0x{0x6000000 + i * 0x100000:x}" size="1MB"/></PhysicalMemoryAreas>'
        "</Partition>"
        for i in range(n)
    )
    slots = "".join(
        f'<Slot id="{j}" start="{j * SLOT_US}us" duration="{SLOT_US}us" partitionId="{j % n}"/>' for j in range(SLOTS)
    )
    return f"""<?xml version="1.0"?>
<SystemDescription xmlns="http://www.prtos.org/prtos-1.x" xmlns:pd="urn:prtosd:1" version="1.0.0" name="scale{n}">
<HwDescription><MemoryLayout><Region type="ram" start="0x0" size="512MB"/></MemoryLayout>
<ProcessorTable><Processor id="0"><CyclicPlanTable><Plan id="0" majorFrame="{MAF_US}us">{slots}</Plan>
</CyclicPlanTable></Processor></ProcessorTable><Devices><Uart id="0" baudRate="115200" name="Uart"/></Devices>
</HwDescription><PRTOSHypervisor console="Uart"><PhysicalMemoryArea size="4MB"/></PRTOSHypervisor>
<PartitionTable>{parts}</PartitionTable></SystemDescription>
"""


def _start(config: Path, run_dir: Path) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "prtosd", "start", str(config), "--run-dir", str(run_dir), "--serve"]
    with (run_dir.parent / f"{run_dir.name}.stderr").open("wb") as err:
        proc = subprocess.Popen(
            [*cmd, "--until", "0s"], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err,
            start_new_session=True,
        )  # fmt: skip
    deadline = time.monotonic() + 600  # the first start builds every image
    while (info := read_info(run_dir)) is None or info.pid != proc.pid:
        if proc.poll() is not None or time.monotonic() > deadline:
            _stop(proc)
            err = (run_dir.parent / f"{run_dir.name}.stderr").read_text()
            raise RuntimeError(f"prtosd did not start on {config}:\n{err}")
        time.sleep(0.05)  # polling for the file prtosd writes when it is ready
    return proc


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _memory(pids: list[int]) -> list[Any]:
    out = []
    for pid in pids:
        with contextlib.suppress(psutil.Error):
            out.append(psutil.Process(pid).memory_full_info())
    return out


def measure(n: int, tmp: Path) -> dict[str, float]:
    """One size: switches per wall second and memory per partition process."""
    config = tmp / f"scale{n}.xml"
    config.write_text(scale_xml(n))
    run_dir = Path(tempfile.mkdtemp(dir=tmp)) / "run"
    proc = _start(config, run_dir)
    try:
        with Client(run_dir, timeout=300) as client:
            client.run_until(MAF_US, timeout=300)
            t0 = time.perf_counter()
            st = client.run_until(MAF_US * (1 + MAFS), timeout=600)
            wall = time.perf_counter() - t0
            pids = [v["process"]["pid"] for p in st["partitions"] for v in p["vcpus"] if v.get("process")]
            mem = _memory(pids)
            server = psutil.Process(pids[0]).parent() if pids else None
            server_mem = _memory([server.pid]) if server is not None and server.pid != proc.pid else []
            daemon = _memory([proc.pid])
    finally:
        _stop(proc)
    if len(mem) != n:
        raise RuntimeError(f"expected {n} partition processes, measured {len(mem)}")
    return {
        "partitions": n,
        "switches_per_s": MAFS * SLOTS / wall,
        "rss_mib": sum(m.rss for m in mem) / n / MIB,
        "uss_mib": sum(m.uss for m in mem) / n / MIB,
        "pss_mib": sum(m.pss for m in mem) / n / MIB,
        "total_rss_mib": sum(m.rss for m in mem) / MIB,
        "total_uss_mib": sum(m.uss for m in mem) / MIB,
        "forkserver_rss_mib": server_mem[0].rss / MIB if server_mem else 0.0,
        "prtosd_rss_mib": daemon[0].rss / MIB if daemon else 0.0,
    }


def linear_fit(xs: list[float], ys: list[float]) -> tuple[float, float, float]:
    """Least-squares line ``y = slope·x + intercept``; returns (slope, intercept, R²)."""
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
    slope = sxy / sxx if sxx else 0.0
    intercept = my - slope * mx
    ss_tot = sum((y - my) ** 2 for y in ys)
    ss_res = sum((y - (slope * x + intercept)) ** 2 for x, y in zip(xs, ys, strict=True))
    return slope, intercept, 1.0 - ss_res / ss_tot if ss_tot else 1.0


def p6_scale(tmp: Path, sizes: tuple[int, ...] = SIZES) -> dict[str, float]:
    rows = []
    for n in sizes:
        row = measure(n, tmp)
        rows.append(row)
        print(
            f"    {n:3d} partitions: {row['switches_per_s']:7.0f} switches/s  per process RSS {row['rss_mib']:5.1f} "
            f"USS {row['uss_mib']:5.1f} PSS {row['pss_mib']:5.1f} MiB  (fork server {row['forkserver_rss_mib']:.1f}, "
            f"prtosd {row['prtosd_rss_mib']:.1f} MiB)",
            flush=True,
        )
    xs = [float(r["partitions"]) for r in rows]
    slope, intercept, r2 = linear_fit(xs, [r["total_rss_mib"] for r in rows])
    uslope, _, ur2 = linear_fit(xs, [r["total_uss_mib"] for r in rows])
    last = rows[-1]
    rt = zmq_round_trip(tmp)  # the reference: every switch is at least one such round trip
    out = {f"switches_per_s_{r['partitions']}": r["switches_per_s"] for r in rows}
    out |= {
        "zmq_round_trips_per_s": 1.0 / rt,
        "ratio": last["switches_per_s"] * rt,
        "rss_mib_per_process": last["rss_mib"],
        "uss_mib_per_process": last["uss_mib"],
        "pss_mib_per_process": last["pss_mib"],
        "rss_slope_mib": slope,
        "rss_intercept_mib": intercept,
        "rss_r2": r2,
        "uss_slope_mib": uslope,
        "uss_r2": ur2,
    }
    return out


def main(argv: list[str]) -> int:
    sizes = tuple(int(a) for a in argv) or SIZES
    with tempfile.TemporaryDirectory(prefix="prtosd-scale-") as d:
        res = p6_scale(Path(d), sizes)
    print("  P6: " + ", ".join(f"{k}={v:.4g}" for k, v in res.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
