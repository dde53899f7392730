"""A hostile partition: a long seeded stream of raw hypercalls with garbage numbers and arguments.

The separation kernel's promise (ARCHITECTURE "Faults", partition-api §1.2) is that whatever a
guest passes, the call returns a PRTOS code and no byte of another partition is touched. The
neighbour's memory file and console must be byte-identical to a run in which the hostile
partition only idles, and its marker string must not reach the hostile partition or any output.
"""

from __future__ import annotations

import re

import pytest
from relsupport import console_log, digest, memory_file, rel_xml

#: Virtual time allowed per 10 000 calls: the hostile partition owns 1 ms of every 2 ms, and about
#: one call in a hundred is ``prtos_idle_self``, which gives up the rest of its slot.
WITHIN_PER_10K_US = 400_000


def _systems(hostile: str) -> tuple[str, str]:
    parts = [{"name": "Hostile", "source": hostile}, {"name": "Victim", "source": "relvictim.c"}]
    quiet = [{"name": "Hostile", "source": "relquiet.c"}, parts[1]]
    slots = [(0, 1, 0), (1, 1, 1)]
    return rel_xml(parts, slots, 2, name="hostile"), rel_xml(quiet, slots, 2, name="quiet")


def _hostile_run(rel_system, source: str, calls: int) -> None:
    hostile_xml, quiet_xml = _systems(source)
    system = rel_system(hostile_xml, tag="hostile")
    within = WITHIN_PER_10K_US * (calls // 10_000 + 1)
    st = system.wait_for_console("hostile done", partition=0, within=within, step=within // 20)
    out = system.console(0)
    assert f"[0] hostile calls {calls}" in out
    counts = {int(c): int(n) for c, n in re.findall(r"\[0\] code (\d+) count (\d+)", out)}
    assert sum(counts.values()) == calls  # every call came back
    assert counts[10] == 0, counts  # no return value outside the PRTOS codes
    assert counts[11] == 0, counts  # every unknown number gave PRTOS_UNKNOWN_HYPERCALL
    assert counts[2] > calls // 3  # the unknown numbers really were tried
    assert "LEAK" not in out
    assert st["partitions"][0]["state"] == "ready"  # it was never faulted: every call returned
    assert st["num_of_hm_events"] == 0
    assert system.proc.poll() is None and st["state"] == "paused"
    t = st["vtime_us"]
    victim_mem, victim_out = digest(memory_file(system.run_dir, 1)), console_log(system.run_dir, 1)
    everything = system.console().encode() + b"".join(p.read_bytes() for p in (system.run_dir / "console").iterdir())
    assert b"VICTIM-SECRET" not in everything
    assert "Traceback" not in system.stderr()
    assert system.stop() == 0
    quiet = rel_system(quiet_xml, tag="quiet")
    assert quiet.run_until(t)["vtime_us"] == t
    assert console_log(quiet.run_dir, 1) == victim_out
    assert digest(memory_file(quiet.run_dir, 1)) == victim_mem


def test_random_hypercalls_return_codes_and_never_reach_the_neighbour(rel_system) -> None:
    _hostile_run(rel_system, "relhostile.c", 20_000)


@pytest.mark.soak
def test_two_hundred_thousand_random_hypercalls(rel_system) -> None:
    _hostile_run(rel_system, "relhostile_soak.c", 200_000)
