"""The client API and the pytest fixture against real systems: pause points, partition, plan and system commands."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from systems import system_xml

from prtosd.client import CommandFailed, Unauthorised
from prtosd.control.errors import CtlErrno
from prtosd.errors import PrtosError
from prtosd.pytest_plugin import system_factory

BOSS_WORKER = system_xml(
    [{"name": "Boss", "source": "ticker.c", "flags": "system"}, {"name": "Worker", "source": "counter.c"}],
    [(0, 2, 0), (2, 2, 1)],
    4,
    name="bw",
)

TWO_PLANS = system_xml(
    [{"name": "A", "source": "counter.c"}, {"name": "B", "source": "counter.c"}],
    [],
    4,
    name="plans",
    plans=[(4, [(0, 2, 0)]), (4, [(0, 2, 1)])],
)


@pytest.fixture
def prtosd_system(tmp_path: Path):
    """The plugin's fixture (this suite does not rely on the installed pytest11 entry point)."""
    with system_factory(tmp_path) as start:
        yield start


def _slots(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("[1] slot")]


def test_pause_points_and_partition_commands(prtosd_system) -> None:
    sys = prtosd_system(BOSS_WORKER)
    st = sys.status()
    assert (st["state"], st["vtime_us"], st["serve"]) == ("paused", 0, True)
    assert [p["state"] for p in st["partitions"]] == ["ready", "ready"]

    st = sys.run_until("10ms")
    assert (st["stopped"], st["vtime_us"], st["current_maf"]) == ("until", 10_000, 3)
    assert _slots(sys.console(1)) == ["[1] slot 1", "[1] slot 2"]  # its slots start at 2 and 6 ms

    assert sys.client.partition_suspend("Worker")["vtime_us"] == 10_000
    st = sys.run_for("8ms")
    worker = st["partitions"][1]
    assert worker["state"] == "suspended"
    assert len(_slots(sys.console(1))) == 2  # a suspended partition does not run

    sys.client.partition_resume(1)
    with pytest.raises(CommandFailed) as info:
        sys.client.partition_resume(1)
    assert info.value.errno == PrtosError.NO_ACTION and info.value.exit_code == 1

    sys.client.partition_reset("Worker", mode="warm")
    st = sys.run_for("4ms")
    assert st["partitions"][1]["reset_counter"] == 1
    assert st["partitions"][1]["state"] == "ready"
    assert _slots(sys.console(1))[-1] == "[1] slot 1"  # the counter lives on the stack: restarted

    sys.client.partition_halt("Worker")
    with pytest.raises(CommandFailed) as info:
        sys.client.partition_halt("Worker")
    assert info.value.errno == PrtosError.NO_ACTION
    with pytest.raises(CommandFailed) as info:
        sys.client.partition_halt("Nobody")
    assert info.value.errno == CtlErrno.NO_SUCH_PARTITION

    # Boss halts itself after three ticks: nothing can run any more, virtual time stands still.
    st = sys.run_until("1s")
    assert st["stopped"] == "all partitions halted"
    assert st["state"] == "all-halted"
    assert sys.status()["vtime_us"] == st["vtime_us"] < 1_000_000

    audit = [json.loads(line) for line in (sys.run_dir / "audit.log").read_text().splitlines()]
    assert [(a["cmd"], a["errno"]) for a in audit if a["cmd"] != "run_until"] == [
        ("partition_suspend", 0),
        ("partition_resume", 0),
        ("partition_resume", -1),
        ("partition_reset", 0),
        ("partition_halt", 0),
        ("partition_halt", -1),
        ("partition_halt", CtlErrno.NO_SUCH_PARTITION),
    ]
    assert audit[1]["vtime_us"] == 10_000
    assert sys.stop() == 0


def test_driven_runs_are_byte_identical(prtosd_system) -> None:
    outputs = []
    for tag in ("a", "b"):
        sys = prtosd_system(BOSS_WORKER, tag=tag)
        sys.run_until("6ms")
        sys.client.partition_suspend(1)
        sys.run_until("13ms")
        sys.client.partition_resume(1)
        sys.wait_for_console("[1] slot 4", partition=1, within="50ms")
        assert sys.stop() == 0
        outputs.append(sys.console())
    assert outputs[0] == outputs[1]
    assert "[1] slot 4" in outputs[0]


def test_plan_switch_and_system_reset_and_halt(prtosd_system) -> None:
    sys = prtosd_system(TWO_PLANS)
    c = sys.client
    sys.run_until("5ms")
    with pytest.raises(CommandFailed) as info:
        c.plan_switch(0)  # current already
    assert info.value.errno == PrtosError.NO_ACTION
    with pytest.raises(CommandFailed) as info:
        c.plan_switch(7)
    assert info.value.errno == PrtosError.INVALID_PARAM
    assert c.plan_switch(1)["current"] == 0
    assert c.plan_status()["cpus"][0]["next"] == 1
    st = sys.run_until("9ms")
    assert st["cpus"][0]["plan"] == 1 and st["cpus"][0]["prev_plan"] == 0
    assert "[1] slot 1" in sys.console("B")

    c.system_reset(mode="warm")
    st = sys.status()
    assert (st["reset_counter"], st["boot_vtime_us"]) == (1, 0)
    assert st["vtime_us"] == 9_000  # the reset happened at the pause point
    st = sys.run_for("1ms")
    assert st["cpus"][0]["plan"] == 0

    c.system_halt()
    assert sys.proc.wait(30) == 0
    assert "System halted." in sys.console()
    assert "system halted" in sys.stderr()


def test_hm_log_is_decoded_without_moving_the_guest_cursor(prtosd_system) -> None:
    hm = '<HealthMonitor><Event name="PRTOS_HM_EV_X86_DIVIDE_ERROR" action="PRTOS_HM_AC_PARTITION_HALT" log="yes"/></HealthMonitor>'
    sys = prtosd_system(system_xml([{"name": "Div", "source": "divzero.c", "hm": hm}], [(0, 2, 0)], 4))
    st = sys.wait_for_console("[HM] Partition 0 halted", within="20ms")
    assert st["num_of_hm_events"] == 1
    for _ in range(2):  # reading twice gives the same: the shared cursor is untouched
        log = sys.client.hm_log()
        assert log["count"] == 1
        (rec,) = log["records"]
        assert rec["event_name"] == "PRTOS_HM_EV_X86_DIVIDE_ERROR"
        assert (rec["partition"], rec["vcpu"], rec["cpu_context"], rec["intact"]) == (0, 0, True, True)
        assert 4_000 <= rec["timestamp_us"] < 6_000
    assert list(sys.client.records("hm_log", {})) == log["records"]
    trace = sys.client.trace_dump()
    assert trace["stream"] == "hyp" and trace["records"] == []


def test_unauthorised_client_is_refused_and_counted(prtosd_system) -> None:
    from prtosd.client import Client

    sys = prtosd_system(BOSS_WORKER)
    with Client(sys.run_dir, token="0" * 32) as intruder:
        with pytest.raises(Unauthorised):
            intruder.partition_halt(0)
        with pytest.raises(Unauthorised):
            intruder.status()
    st = sys.status()
    assert st["control"]["unauthorised"] == 2
    assert st["partitions"][0]["state"] == "ready"
    audit = (sys.run_dir / "audit.log").read_text()
    assert '"cmd": "partition_halt"' in audit and f'"errno": {int(CtlErrno.UNAUTHORISED)}' in audit


def test_follow_keeps_up_when_the_hm_log_wraps(prtosd_system) -> None:
    hm = '<HealthMonitor><Event name="PRTOS_HM_EV_X86_GENERAL_PROTECTION" action="PRTOS_HM_AC_IGNORE" log="yes"/></HealthMonitor>'
    xml = system_xml([{"name": "F", "source": "hm_refault.c", "hm": hm}], [(0, 2, 0)], 4)
    sys = prtosd_system(
        xml.replace('name="hmlog" start="0x2000000" size="64KB"', 'name="hmlog" start="0x2000000" size="4KB"')
    )
    capacity = sys.client.hm_log()["capacity"]  # 112 records; F faults once per virtual µs
    st = sys.run_until(300)
    assert st["num_of_hm_events"] > capacity + 3  # the log is full and has wrapped
    gaps: list[int] = []
    follower = sys.client.records("hm_log", {}, follow=True, on_gap=lambda: gaps.append(1))
    seen = [next(follower) for _ in range(capacity)]
    assert [r["sequence"] for r in seen] == list(range(seen[0]["sequence"], seen[0]["sequence"] + capacity))

    sys.run_for(10)  # a few more records; the oldest ones are dropped, positions shift
    new = sys.status()["num_of_hm_events"] - st["num_of_hm_events"]
    assert 0 < new < capacity
    more = [next(follower) for _ in range(new)]
    assert [r["sequence"] for r in more] == list(range(seen[-1]["sequence"] + 1, seen[-1]["sequence"] + 1 + new))
    assert gaps == []

    st = sys.run_for(300)  # more records than the log holds: the ones in between are lost
    after_gap = next(follower)
    assert gaps == [1]
    assert after_gap["sequence"] == st["num_of_hm_events"] - capacity  # the oldest record still present
    assert after_gap["sequence"] > more[-1]["sequence"] + 1
    sys.client.system_halt()
    rest = list(follower)  # ends with the daemon
    assert [r["sequence"] for r in rest] == list(range(after_gap["sequence"] + 1, st["num_of_hm_events"]))
