"""Partition processes that die (SIGKILL) or hang (SIGSTOP) at seeded virtual times, and a killed daemon.

A partition process is the partition's "hardware": its death is a fault of that partition only
(docs/running.md "Partition processes that die or hang"). The run is driven through pause points
(``--serve --until 0s`` and ``run_until``), so each fault lands at the virtual time the test
chose; the other partitions' console output must then be byte-identical to a fault-free run.
"""

from __future__ import annotations

import random
import re
import signal

import psutil
import pytest
from relsupport import console_log, partition_processes, rel_xml, wait_until

#: The slots: partitions 0 and 2 are bystanders, partition 1 is the one whose process is attacked.
SLOTS = [(0, 1, 0), (1, 1, 1), (2, 1, 2)]
MAF_US = 3000
#: Hang detection (wall seconds) in the daemons of the SIGSTOP test; long enough that a process
#: merely starved by a loaded host (a restarted one answering its first grant) is not taken for hung.
GRANT_TIMEOUT = "2"


def _system(action: str | None = None, name: str = "faults") -> str:
    """Bystanders 0 and 2 around the target 1; ``action`` overrides FATAL_ERROR's default (halt)."""
    hm = (
        f'<HealthMonitor><Event name="PRTOS_HM_EV_FATAL_ERROR" action="{action}" log="yes"/></HealthMonitor>'
        if action
        else ""
    )
    parts = [
        {"name": "Left", "source": "relcount.c"},
        {"name": "Target", "source": "relbusy.c", "hm": hm},
        {"name": "Right", "source": "relcount.c"},
    ]
    return rel_xml(parts, SLOTS, MAF_US // 1000, name=name)


def _fault_times(rng: random.Random, count: int, start_us: int) -> list[int]:
    """Seeded virtual times, at least two major frames apart (the previous fault is then handled)."""
    times, t = [], start_us
    for _ in range(count):
        t += 2 * MAF_US + rng.randrange(MAF_US * 2)
        times.append(t)
    return times


def _target_process(system) -> psutil.Process:
    """Partition 1's current, live process (after a reset a new one replaces the old)."""
    found: dict[int, psutil.Process] = {}

    def live() -> bool:
        found.clear()
        found.update(partition_processes(system.proc.pid))
        p = found.get(1)
        return p is not None and p.is_running() and p.status() != psutil.STATUS_ZOMBIE

    wait_until(live, 30, "partition 1's process")
    return found[1]


def _reference(rel_system, xml: str, end_us: int, tag: str = "reference") -> list[bytes]:
    ref = rel_system(xml, tag=tag)
    ref.run_until(end_us)
    logs = [console_log(ref.run_dir, i) for i in (0, 2)]
    ref.stop()
    return logs


def _fault_run(rel_system, monkeypatch, *, sig: int, trials: int, seed: int, mode: str = "cold") -> None:
    """One system, ``trials`` faults of partition 1, each followed by a ``mode`` reset of it.

    A killed process is noticed by its exit status at once; only a stopped one needs the short
    hang timeout (the default, 30 s, would make the test slow).
    """
    if sig == signal.SIGSTOP:
        monkeypatch.setenv("PRTOSD_GRANT_TIMEOUT", GRANT_TIMEOUT)
    rng = random.Random(seed)
    times = _fault_times(rng, trials, 1000)
    end = times[-1] + 3 * MAF_US
    xml = _system()
    expected = _reference(rel_system, xml, end, tag=f"reference-{seed}")
    system = rel_system(xml, tag=f"faulted-{seed}")
    killed: list[int] = []
    for t in times:
        system.run_until(t)
        proc = _target_process(system)
        assert proc.pid not in killed  # a new process after each reset
        killed.append(proc.pid)
        proc.send_signal(sig)  # by pid: only the process this test chose
        st = system.run_until(t + MAF_US + 1)  # partition 1 has had a slot since: the fault is handled
        assert st["partitions"][1]["state"] == "halted", st["partitions"][1]
        system.client.partition_reset("Target", mode)
    st = system.run_until(end)
    out = system.console()
    reason = "exited with status -9" if sig == signal.SIGKILL else f"stopped answering for {GRANT_TIMEOUT} s"
    assert out.count(f"Partition PANIC [1]: partition process {reason}") == trials, out[-3000:]
    assert len(re.findall(r"\[HM\] \d+:PRTOS_HM_EV_FATAL_ERROR \(0\):PART\(1\)", out)) == trials
    assert out.count("[HM] Partition 1 halted") == trials
    records = system.client.hm_log()["records"]
    assert len(records) == trials
    assert {(r["event_name"], r["partition"]) for r in records} == {("PRTOS_HM_EV_FATAL_ERROR", 1)}, records[0]
    for pid in killed:
        assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    assert [console_log(system.run_dir, i) for i in (0, 2)] == expected  # bystanders undisturbed
    assert st["partitions"][0]["state"] == st["partitions"][2]["state"] == "ready"
    assert st["partitions"][1]["state"] == "ready"  # restarted after the last fault
    assert "Traceback" not in system.stderr()
    assert system.stop() == 0  # SIGTERM: a clean exit after all the faults


def test_kill_then_cold_reset(rel_system, monkeypatch) -> None:
    _fault_run(rel_system, monkeypatch, sig=signal.SIGKILL, trials=15, seed=1)


def test_kill_then_warm_reset(rel_system, monkeypatch) -> None:
    _fault_run(rel_system, monkeypatch, sig=signal.SIGKILL, trials=10, seed=2, mode="warm")


def test_hang_then_cold_reset(rel_system, monkeypatch) -> None:
    _fault_run(rel_system, monkeypatch, sig=signal.SIGSTOP, trials=3, seed=3)


def test_kill_with_hypervisor_halt_action(rel_system, monkeypatch) -> None:
    """FATAL_ERROR configured as HYPERVISOR_HALT: the whole system halts, at the fault, cleanly."""
    xml = _system("PRTOS_HM_AC_HYPERVISOR_HALT")
    expected = _reference(rel_system, xml, 30_000)
    system = rel_system(xml, tag="faulted")
    t = _fault_times(random.Random(4), 1, 1000)[0]
    system.run_until(t)
    _target_process(system).send_signal(signal.SIGKILL)
    st = system.run_until(30_000)
    assert st["stopped"] == "system halted" and st["state"] == "halted"
    out = system.console()
    assert "Partition PANIC [1]: partition process exited with status -9" in out
    assert out.rstrip().endswith("System halted.")
    halted_at = st["vtime_us"]
    assert t < halted_at <= t + MAF_US + 1
    for i, ref in zip((0, 2), expected, strict=True):  # bystanders: the fault-free output up to the halt
        got = console_log(system.run_dir, i)
        assert ref.startswith(got) and got, i
    assert system.proc.wait(30) == 0  # prtosd ends on a system halt, even with --serve


@pytest.mark.soak
def test_many_kills_and_hangs(rel_system, monkeypatch) -> None:
    """110 faults: 70 SIGKILL + cold reset, 30 SIGKILL + warm reset, 10 SIGSTOP (hang) + cold reset."""
    _fault_run(rel_system, monkeypatch, sig=signal.SIGKILL, trials=70, seed=11)
    _fault_run(rel_system, monkeypatch, sig=signal.SIGKILL, trials=30, seed=12, mode="warm")
    _fault_run(rel_system, monkeypatch, sig=signal.SIGSTOP, trials=10, seed=13)
