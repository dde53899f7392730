"""Soak: a long run of short slots; no process of the run may keep growing.

A separation kernel runs for months: memory that grows with every slot switch is a slow crash.
Two 100 µs slots per 200 µs major frame make 10 000 slot switches per virtual second; RSS of
prtosd and of every partition process is sampled after a warm-up (caches, the first grants) and
at the end, and may grow by less than 5 %.
"""

from __future__ import annotations

import psutil
import pytest
from relsupport import console_log, partition_processes, rel_xml

SLOT_US = 100
SYSTEM = (
    rel_xml(
        [{"name": "Count", "source": "relcount.c"}, {"name": "Quiet", "source": "relquiet.c"}],
        [(0, 1, 0), (1, 1, 1)],
        2,
        name="soak",
    )
    .replace('start="0ms" duration="1ms"', f'start="0us" duration="{SLOT_US}us"')
    .replace('start="1ms" duration="1ms"', f'start="{SLOT_US}us" duration="{SLOT_US}us"')
    .replace('majorFrame="2ms"', f'majorFrame="{2 * SLOT_US}us"')
)
#: Allowed RSS growth between the end of the warm-up and the end of the run.
MAX_GROWTH = 0.05


def _rss(procs: dict[str, psutil.Process]) -> dict[str, int]:
    return {name: p.memory_info().rss for name, p in procs.items()}


def _soak(rel_system, switches: int, chunks: int = 20) -> dict[str, tuple[int, int]]:
    system = rel_system(SYSTEM)
    procs = {"prtosd": psutil.Process(system.proc.pid)}
    procs.update({f"partition {i}": p for i, p in partition_processes(system.proc.pid).items()})
    assert len(procs) == 3
    end_us = switches * SLOT_US
    warmup_us = end_us // chunks
    system.run_until(warmup_us)
    base = _rss(procs)
    for k in range(2, chunks + 1):
        st = system.run_until(warmup_us * k)
    assert st["vtime_us"] == end_us and st["state"] == "paused"
    assert st["current_maf"] >= switches // 2 - 1
    final = _rss(procs)
    lines = console_log(system.run_dir, 0).decode().splitlines()
    assert lines[-1] == f"[0] slot {switches // 2}"  # every one of its slots was run, in order
    assert all(p.is_running() for p in procs.values())  # no process was replaced along the way
    return {name: (base[name], final[name]) for name in procs}


def test_short_soak_keeps_memory_flat(rel_system) -> None:
    rss = _soak(rel_system, 10_000, chunks=5)
    for name, (before, after) in rss.items():
        assert after < before * (1 + MAX_GROWTH), (name, before, after)


@pytest.mark.soak
def test_million_slot_switches_keep_memory_flat(rel_system) -> None:
    rss = _soak(rel_system, 1_000_000, chunks=100)  # short chunks: each run_until ends well within its timeout
    for name, (before, after) in rss.items():
        assert after < before * (1 + MAX_GROWTH), (name, before, after)
