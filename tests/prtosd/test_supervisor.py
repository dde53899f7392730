"""The supervisor with real partition processes: slots, clocks, partition control, HM, determinism."""

from __future__ import annotations

import json
import re
from pathlib import Path

from systems import system_xml

TICKERS = system_xml(
    [{"name": "A", "source": "ticker.c", "flags": "system"}, {"name": "B", "source": "ticker.c"}],
    [(0, 3, 0), (5, 3, 1)],
    10,
)


def _ticks(lines: list[str]) -> list[tuple[int, int, int, int]]:
    out = []
    for line in lines:
        m = re.fullmatch(r"\[(\d)\] tick (\d) hw=(\d+) exec=(\d+)", line)
        if m:
            out.append(tuple(int(g) for g in m.groups()))
    return out


def test_slots_start_on_time_and_clocks_follow_the_plan(start_system) -> None:
    run = start_system(TICKERS, "--until", "1s")
    assert run.returncode == 0, run.stderr
    ticks = _ticks(run.lines())
    assert [(p, i) for p, i, _, _ in ticks] == [(0, 0), (1, 0), (0, 1), (1, 1), (0, 2), (1, 2)]
    for pid, i, hw, ex in ticks:
        slot_start = i * 10_000 + (0 if pid == 0 else 5_000)
        assert slot_start <= hw < slot_start + 100, (pid, i, hw)  # a few hundred instructions in
        assert 0 <= ex < 100 * (i + 1)  # the EXEC clock only runs while dispatched
    assert run.lines().count("[HYPERCALL] (0x0) Halted") == 1  # implicit halt after partition_main
    assert "all partitions halted" in run.stderr


def test_runs_are_byte_identical(start_system) -> None:
    a = start_system(TICKERS, "--until", "1s", tag="a")
    b = start_system(TICKERS, "--until", "1s", tag="b")
    assert a.returncode == b.returncode == 0
    assert a.stdout == b.stdout
    assert (a.run_dir / "console" / "P1.log").read_bytes() == (b.run_dir / "console" / "P1.log").read_bytes()


def test_system_partition_controls_another_partition(start_system) -> None:
    xml = system_xml(
        [{"name": "Boss", "source": "boss.c", "flags": "system"}, {"name": "Worker", "source": "counter.c"}],
        [(0, 2, 0), (2, 2, 1)],
        4,
    )
    run = start_system(xml, "--until", "1s")
    assert run.returncode == 0, run.stderr
    body = [line for line in run.lines() if line.startswith(("[0]", "[1]", "[HYPERCALL]", "System"))]
    assert body == [
        "[0] P1 state 1 resets 0",
        "[1] slot 1",
        "[0] suspend 0",
        "[0] P1 state 2 resets 0",
        "[0] resume 0",
        "[0] P1 state 1 resets 0",
        "[1] slot 2",
        "[0] warm reset 0",
        "[0] P1 state 1 resets 1",
        "[1] slot 1",
        "[HYPERCALL] (0x1) Halted",  # printed by the hypercall, before the caller prints its result
        "[0] halt 0",
        "[0] halt again -1",
        "System halted.",
    ]
    assert "system halted" in run.stderr


def test_divide_error_default_action_halts_the_partition(start_system) -> None:
    xml = system_xml(
        [{"name": "Div", "source": "divzero.c"}, {"name": "T", "source": "ticker.c"}], [(0, 2, 0), (2, 2, 1)], 4
    )
    run = start_system(xml, "--until", "100ms")
    lines = run.lines()
    assert run.returncode == 0, run.stderr
    i = lines.index("[0] dividing")
    assert re.fullmatch(r"\[HM\] \d+:PRTOS_HM_EV_X86_DIVIDE_ERROR \(6\):PART\(0\)", lines[i + 1])
    assert re.fullmatch(r"ip: 0x6[0-9a-f]{6} flags: 0x[0-9a-f]+", lines[i + 2])
    assert lines[i + 3 : i + 5] == [
        "[HM] PRTOS_HM_AC_PARTITION_HALT(7) PRTOS_HM_LOG_DISABLED",
        "[HM] Partition 0 halted",
    ]
    assert not any("result" in line for line in lines)
    assert len(_ticks(lines)) == 3  # the other partition is not disturbed


def test_divide_error_warm_reset_restarts_the_program(start_system) -> None:
    hm = '<HealthMonitor><Event name="PRTOS_HM_EV_X86_DIVIDE_ERROR" action="PRTOS_HM_AC_PARTITION_WARM_RESET" log="yes"/></HealthMonitor>'
    xml = system_xml([{"name": "Div", "source": "divzero.c", "hm": hm}], [(0, 2, 0)], 4)
    run = start_system(xml, "--until", "20ms")
    lines = run.lines()
    assert run.returncode == 0, run.stderr
    assert lines.count("[HM] PRTOS_HM_AC_PARTITION_WARM_RESET(3) PRTOS_HM_LOG_ENABLED") >= 2
    assert lines.count("[HM] Partition 0 warm reseted") >= 2
    # after each reset the program starts again in the same slot
    first = lines.index("[HM] Partition 0 warm reseted")
    assert lines[first + 1] == "[0] before"


def test_partition_without_image_stays_halted(start_system) -> None:
    xml = system_xml([{"name": "A", "source": "ticker.c"}, {"name": "NoImage"}], [(0, 2, 0), (2, 2, 1)], 4)
    run = start_system(xml, "--until", "1s")
    assert run.returncode == 0, run.stderr
    assert len(_ticks(run.lines())) == 3


def test_until_stops_a_running_system(start_system) -> None:
    xml = system_xml([{"name": "W", "source": "counter.c"}], [(0, 1, 0)], 2)
    run = start_system(xml, "--until", "9ms")
    assert run.returncode == 0, run.stderr
    assert [line for line in run.lines() if line.startswith("[1] slot")] == [f"[1] slot {n}" for n in range(1, 6)]
    assert "until at 0.009000 s virtual" in run.stderr


def test_configuration_and_option_errors_exit_2(start_system, tmp_path: Path) -> None:
    bad = TICKERS.replace('majorFrame="10ms"', 'majorFrame="7ms"')
    run = start_system(bad, "--until", "1s", tag="bad")
    assert run.returncode == 2
    assert re.search(r"bad\.xml:\d+: last slot \(\[5000 - 8000\] usec\) overlaps major frame \(7000 usec\)", run.stderr)
    run = start_system(TICKERS, "-p", "7:nothing.elf", tag="opt")
    assert run.returncode == 2
    assert "no partition 7" in run.stderr
    run = start_system(TICKERS, "--until", "soon", tag="until")
    assert run.returncode == 2
    assert "Traceback" not in run.stderr


def test_build_error_exits_3(start_system, tmp_path: Path) -> None:
    src = tmp_path / "broken.c"
    src.write_text("void partition_main(void) { this is not C; }\n")
    xml = system_xml([{"name": "X", "source": "ticker.c"}], [(0, 1, 0)], 2).replace(
        str(Path(__file__).parent / "guests" / "ticker.c"), str(src)
    )
    run = start_system(xml, "--until", "1ms")
    assert run.returncode == 3
    assert "broken.c:1" in run.stderr
    assert "Traceback" not in run.stderr


def _supervisor(tmp_path: Path, xml: str, until_us: int):
    import io

    from partitiond.build import build_partition
    from prtosd.config import load_system
    from prtosd.images import resolve_images
    from prtosd.supervisor import Supervisor

    config = tmp_path / "system.xml"
    config.write_text(xml)
    system = load_system(config)
    run_dir = tmp_path / "run"
    run_dir.mkdir(mode=0o700)

    def build(pid: int, sources: tuple[Path, ...]) -> Path:
        return build_partition(sources, tmp_path / f"p{pid}.elf", system.partitions[pid].areas[0].start)

    out = io.BytesIO()
    sup = Supervisor(system, config, resolve_images(system, [], build), run_dir, stdout=out, until_us=until_us)
    return sup, out


def test_a_dead_partition_process_is_a_fault_of_its_partition(tmp_path: Path) -> None:
    xml = system_xml(
        [{"name": "A", "source": "counter.c"}, {"name": "T", "source": "ticker.c"}], [(0, 2, 0), (2, 2, 1)], 4
    )
    sup, out = _supervisor(tmp_path, xml, 20_000)
    try:
        sup.start()
        sup.procs[(0, 0)].handle.kill()  # the partition process dies before its first slot
        sup.procs[(0, 0)].handle.wait()
        stats = sup.run()
        logged = sup.hm.stream.status()[0]
    finally:
        sup.close()
    lines = out.getvalue().decode().splitlines()
    assert "Partition PANIC [0]: partition process exited with status -9" in lines
    assert "[HM] 0:PRTOS_HM_EV_FATAL_ERROR (0):PART(0)" in lines
    assert "[HM] PRTOS_HM_AC_PARTITION_HALT(7) PRTOS_HM_LOG_ENABLED" in lines
    assert "[HM] Partition 0 halted" in lines
    assert len(_ticks(lines)) == 3  # the rest of the system keeps its schedule
    assert logged == 1  # the event is in the HM log
    assert stats.exit_reason == "all partitions halted"


def test_a_hung_partition_process_is_killed_and_faulted(tmp_path: Path, monkeypatch) -> None:
    import signal

    import prtosd.supervisor as supervisor

    monkeypatch.setattr(supervisor, "REPLY_TIMEOUT_S", 1.0)
    xml = system_xml(
        [{"name": "T", "source": "ticker.c"}, {"name": "B", "source": "counter.c"}], [(0, 2, 0), (2, 2, 1)], 4
    )
    sup, out = _supervisor(tmp_path, xml, 20_000)
    try:
        sup.start()
        sup.procs[(1, 0)].handle.send_signal(signal.SIGSTOP)
        sup.run()
        assert sup.procs[(1, 0)].handle.poll() is not None  # killed by pid, not left stopped
    finally:
        sup.close()
    lines = out.getvalue().decode().splitlines()
    assert "Partition PANIC [1]: partition process stopped answering for 1 s" in lines
    assert "[HM] Partition 1 halted" in lines
    assert len(_ticks(lines)) == 3


def test_system_reset_reboots_with_clocks_at_zero(start_system) -> None:
    xml = system_xml(
        [{"name": "R", "source": "rebooter.c", "flags": "system"}, {"name": "T", "source": "ticker.c"}],
        [(0, 2, 0), (2, 2, 1)],
        4,
    )
    run = start_system(xml, "--until", "1s")
    assert run.returncode == 0, run.stderr
    lines = run.lines()
    assert lines.count("PRTOS Hypervisor (1.0 r0)") == 2  # booted twice
    assert "[0] boot 0 at 0, status 0x0" in lines
    assert "[0] boot 1 at 0, status 0x0" in lines
    assert "[0] not reached" not in lines
    assert lines[-1] == "System halted."
    ticks = _ticks(lines)
    # partition 1 restarted with the system: its ticks (and EXEC clock) start again from zero
    assert [i for _, i, _, _ in ticks] == [0, 0]  # the reset came in the second frame
    assert 2000 <= ticks[1][2] < 2100 and ticks[1][3] < 100


def test_realtime_pacing_follows_the_wall_clock_without_changing_the_output(start_system) -> None:
    xml = system_xml([{"name": "W", "source": "counter.c"}], [(0, 1, 0)], 100)
    fast = start_system(xml, "--until", "300ms", tag="fast")
    paced = start_system(xml, "--until", "300ms", "--pace", "realtime", tag="paced")
    assert fast.returncode == paced.returncode == 0
    assert fast.stdout == paced.stdout
    wall = float(re.search(r"\((\d+\.\d+) s wall\)", paced.stderr).group(1))
    assert wall >= 0.2  # 300 ms of virtual time cannot pass in less wall time when paced


def test_a_fault_that_re_executes_still_lets_time_advance(start_system) -> None:
    hm = '<HealthMonitor><Event name="PRTOS_HM_EV_X86_GENERAL_PROTECTION" action="PRTOS_HM_AC_IGNORE" log="no"/></HealthMonitor>'
    xml = system_xml(
        [{"name": "F", "source": "hm_refault.c", "hm": hm}, {"name": "T", "source": "ticker.c"}],
        [(0, 1, 0), (2, 1, 1)],
        4,
    )
    run = start_system(xml, "--until", "3ms")
    assert run.returncode == 0, run.stderr
    lines = run.lines()
    assert len(_ticks(lines)) == 1  # the slot of the faulting partition ended; the other one ran
    # one fault per microsecond of its 1 ms slot (the fixed virtual cost of a fault)
    assert 900 <= lines.count("[HM] PRTOS_HM_AC_IGNORE(0) PRTOS_HM_LOG_DISABLED") <= 1000


YIELDERS = system_xml(
    [{"name": "A", "source": "counter.c"}, {"name": "B", "source": "counter.c"}],
    [(0, 1, 0), (2, 1, 1)],
    4,
)


def test_yielding_runs_are_byte_identical_and_idle_to_the_slot_end(start_system) -> None:
    """Partitions that give up every slot at once (the switch-heavy case): timeline, console and
    output are the same on every run, and each grant ended by prtos_idle_self is followed by one
    idle gap from where it ended to the end of its slot."""
    a = start_system(YIELDERS, "--until", "40ms", tag="a")
    b = start_system(YIELDERS, "--until", "40ms", tag="b")
    assert a.returncode == b.returncode == 0, a.stderr
    assert a.stdout == b.stdout
    for name in ("P0.log", "P1.log"):
        assert (a.run_dir / "console" / name).read_bytes() == (b.run_dir / "console" / name).read_bytes()
    timeline = (a.run_dir / "timeline.jsonl").read_bytes()
    assert timeline == (b.run_dir / "timeline.jsonl").read_bytes()
    events = [json.loads(line) for line in timeline.splitlines()]
    steps = [e for e in events if e["ev"] in ("grant", "idle")]
    grants = [i for i, e in enumerate(steps) if e["ev"] == "grant"]
    assert len(grants) == 20  # two slots per 4 ms frame, 40 ms
    for i in grants:
        g, gap = steps[i], steps[i + 1]
        assert g["why"] == "idle" and g["ts"] % 2000 == 0
        assert (gap["ev"], gap["ts"], gap["end"]) == ("idle", g["end"], g["ts"] + 1000)
    assert (a.run_dir / "console" / "P1.log").read_text().count("slot") == 10
