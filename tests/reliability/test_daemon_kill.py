"""SIGKILL of prtosd itself: no orphaned partition processes, and the HM log on disk stays whole.

prtosd cannot clean up after SIGKILL, so each partition process watches its parent (getppid) and
exits on its own. The HM log lives in a memory block file written through a shared mapping with
a double control block (hm/log.py), so every record the daemon reported before it died must be
found, intact and in sequence, in the run directory afterwards.
"""

from __future__ import annotations

import threading
from pathlib import Path

import psutil
from relsupport import partition_processes, rel_xml, wait_until

from hm.log import LogStream
from hm.record import is_intact
from prtosd.client import Client, CommandFailed, DaemonNotFound
from prtosd.control.records import decode_hm, snapshot

HM = (
    '<HealthMonitor><Event name="PRTOS_HM_EV_X86_DIVIDE_ERROR" action="PRTOS_HM_AC_PARTITION_WARM_RESET" log="yes"/>'
    "</HealthMonitor>"
)
SYSTEM = rel_xml(
    [
        {"name": "Count", "source": "relcount.c"},
        {"name": "Divide", "source": "reldivide.c", "hm": HM},
        {"name": "Busy", "source": "relbusy.c"},
    ],
    [(0, 1, 0), (1, 1, 1), (2, 1, 2)],
    3,
    name="dkill",
)
HM_FILE = "phys-02000000-00010000.mem"


def _hm_on_disk(run_dir: Path) -> tuple[list[dict], list[bytes]]:
    """Decode the HM log from the memory block file, as a later tool would after a crash."""
    stream = LogStream(bytearray((run_dir / HM_FILE).read_bytes()))
    assert stream.resumed, "the HM log header is not valid"
    raws, _ = snapshot(stream, 0, stream.capacity)
    return [decode_hm(r) for r in raws], raws


def _kill_daemon(system) -> list[psutil.Process]:
    children = list(partition_processes(system.proc.pid).values())
    assert len(children) == 3
    system.proc.kill()  # SIGKILL, by pid
    system.proc.wait(30)
    for child in children:  # they notice the parent is gone; nobody else stops them
        wait_until(lambda c=child: _gone(c), 30, f"partition process {child.pid} to exit")
    return children


def _gone(proc: psutil.Process) -> bool:
    """Exited (a zombie waiting for whoever adopted it counts: it runs nothing any more)."""
    try:
        return not proc.is_running() or proc.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def _check_log(run_dir: Path, reported: list[dict]) -> None:
    records, raws = _hm_on_disk(run_dir)
    assert all(is_intact(r) for r in raws)
    seqs = [r["sequence"] for r in records]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))  # no gap, nothing torn
    on_disk = {r["sequence"]: r for r in records}
    for rec in reported:  # every record the daemon reported is there, unchanged
        if rec["sequence"] >= seqs[0]:  # (older ones may have been overwritten by the wrapping log)
            assert on_disk[rec["sequence"]] == rec
    assert reported and max(seqs) >= reported[-1]["sequence"]


def test_sigkill_at_a_pause_point(rel_system) -> None:
    system = rel_system(SYSTEM)
    system.run_until("20ms")
    reported = system.client.hm_log()["records"]
    assert reported and all(r["event_name"] == "PRTOS_HM_EV_X86_DIVIDE_ERROR" for r in reported)
    _kill_daemon(system)
    _check_log(system.run_dir, reported)


def test_sigkill_while_running(rel_system) -> None:
    system = rel_system(SYSTEM)
    run_dir = system.run_dir

    def run_far() -> None:
        try:
            with Client(run_dir) as c:
                c.run_until(10_000_000, timeout=60)
        except (DaemonNotFound, CommandFailed, OSError):
            pass  # the daemon is killed under it: that is the point

    runner = threading.Thread(target=run_far, daemon=True)
    runner.start()
    seen: list[dict] = []

    def some_records() -> bool:
        seen[:] = system.client.hm_log()["records"]
        return len(seen) >= 20

    wait_until(some_records, 60, "HM records while running")
    assert system.status()["state"] == "running"
    _kill_daemon(system)
    runner.join(70)
    _check_log(run_dir, seen)
