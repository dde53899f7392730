"""Each HM action and each event source with real partitions (semantics.md §9), plus the crash
durability of the HM log and trace streams.

The guests are the ``hm_*.c`` programs: every round they print a line, provoke one event and,
if they survive it, print ``survived``; a propagated trap's handler skips the faulting
instruction and ext IRQ 3 (shutdown) prints a line.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from systems import system_xml

from hm.log import LogStream
from hm.record import RECORD_SIZE, Record, is_intact
from partitiond.memory import backing_file, open_shared, physical_ranges

HM_BLOCK = '<MemoryBlock name="hmlog" start="0x2000000" size="64KB"/>'
TRACE_BLOCKS = (
    '<MemoryBlock name="tr0" start="0x2100000" size="64KB"/><MemoryBlock name="hyptr" start="0x2200000" size="64KB"/>'
)


def hm_table(event: str, action: str, log: str = "yes") -> str:
    return (
        f'<HealthMonitor><Event name="PRTOS_HM_EV_{event}" action="PRTOS_HM_AC_{action}" log="{log}"/></HealthMonitor>'
    )


def faulty_system(source: str, event: str, action: str, *, extra: str = "", maintenance: bool = False) -> str:
    """Partition 0 runs ``source`` with one HM table entry; partition 1 runs the ticker.

    Plan 0: P0 at 0–2 ms, P1 at 2–4 ms of a 4 ms frame. Plan 1 (maintenance) gives P1 the slot
    1–4 ms of its frame, so a switch to it is visible in P1's tick times.
    """
    plans = [(4, [(0, 2, 0), (2, 2, 1)])] + ([(4, [(1, 3, 1)])] if maintenance else [])
    return system_xml(
        [{"name": "F", "source": source, "hm": hm_table(event, action) + extra}, {"name": "T", "source": "ticker.c"}],
        [],
        4,
        plans=plans,
    )


def with_traces(xml: str, hyp_bitmask: str | None = None) -> str:
    """Add trace memory blocks and, optionally, the hypervisor audit stream."""
    xml = xml.replace(HM_BLOCK, HM_BLOCK + TRACE_BLOCKS)
    if hyp_bitmask is not None:
        xml = xml.replace(
            '<PhysicalMemoryArea size="4MB"/></PRTOSHypervisor>',
            f'<PhysicalMemoryArea size="4MB"/><Trace device="hyptr" bitmask="{hyp_bitmask}"/></PRTOSHypervisor>',
        )
    return xml


def _hm_block(lines: list[str], event: str) -> list[int]:
    return [
        i for i, line in enumerate(lines) if re.fullmatch(rf"\[HM\] \d+:PRTOS_HM_EV_{event} \(\d+\):PART\(0\)", line)
    ]


def _ticks(lines: list[str]) -> list[int]:
    return [int(m.group(1)) for line in lines if (m := re.fullmatch(r"\[1\] tick \d hw=(\d+) exec=\d+", line))]


def test_ignore_on_a_breakpoint_lets_the_partition_continue(start_system) -> None:
    run = start_system(faulty_system("hm_brk.c", "X86_BREAKPOINT", "IGNORE"), "--until", "10ms")
    lines = run.lines()
    assert run.returncode == 0, run.stderr
    first = _hm_block(lines, "X86_BREAKPOINT")
    assert len(first) == 3  # one per round, at 0, 4 and 8 ms
    i = first[0]
    assert lines[i - 1] == "[0] round 1"
    assert re.fullmatch(r"ip: 0x6[0-9a-f]{6} flags: 0x[0-9a-f]+", lines[i + 1])
    assert lines[i + 2 : i + 4] == ["[HM] PRTOS_HM_AC_IGNORE(0) PRTOS_HM_LOG_ENABLED", "[0] survived 1"]
    assert "[0] survived 3" in lines


def test_shutdown_on_a_partition_error_raises_ext_irq_3(start_system) -> None:
    run = start_system(faulty_system("hm_unrec.c", "PARTITION_ERROR", "SHUTDOWN"), "--until", "6ms")
    lines = run.lines()
    assert run.returncode == 0, run.stderr
    i = _hm_block(lines, "PARTITION_ERROR")[0]
    assert lines[i + 1 : i + 5] == [
        "0xbad 0x0 0x0 0x0 ",  # the trace record's payload (D-39)
        "[HM] PRTOS_HM_AC_SHUTDOWN(1) PRTOS_HM_LOG_ENABLED",
        "[0] shutdown requested",  # the handler of ext IRQ 3 runs as the call returns
        "[0] survived 1",
    ]
    assert lines.count("[0] shutdown requested") == 2


def test_cold_reset_on_mem_protection_restarts_the_program(start_system, tmp_path: Path) -> None:
    run = start_system(faulty_system("hm_memprot.c", "MEM_PROTECTION", "PARTITION_COLD_RESET"), "--until", "500us")
    lines = run.lines()
    assert run.returncode == 0, run.stderr
    blocks = _hm_block(lines, "MEM_PROTECTION")
    assert len(blocks) >= 2
    i = blocks[0]
    assert lines[i + 2 : i + 5] == [
        "[HM] PRTOS_HM_AC_PARTITION_COLD_RESET(2) PRTOS_HM_LOG_ENABLED",
        "[HM] Partition 0 cold reseted",
        "[0] round 1",  # a cold reset reloads the image: the round counter starts again
    ]
    assert "[0] survived 1" not in lines
    assert "[0] round 2" not in lines


def test_suspend_on_a_page_fault_stops_only_that_partition(start_system) -> None:
    run = start_system(faulty_system("hm_pf.c", "X86_PAGE_FAULT", "SUSPEND"), "--until", "20ms")
    lines = run.lines()
    assert run.returncode == 0, run.stderr
    i = _hm_block(lines, "X86_PAGE_FAULT")[0]
    assert lines[i + 2 : i + 4] == ["[HM] PRTOS_HM_AC_SUSPEND(6) PRTOS_HM_LOG_ENABLED", "[HM] Partition 0 suspended"]
    assert len(_hm_block(lines, "X86_PAGE_FAULT")) == 1
    assert not any(line.startswith("[0] survived") or line == "[0] round 2" for line in lines)
    assert len(_ticks(lines)) == 3  # the other partition keeps its schedule


def test_propagate_on_a_page_fault_runs_the_guest_handler(start_system) -> None:
    run = start_system(faulty_system("hm_pf.c", "X86_PAGE_FAULT", "PROPAGATE"), "--until", "6ms")
    lines = run.lines()
    assert run.returncode == 0, run.stderr
    i = _hm_block(lines, "X86_PAGE_FAULT")[0]
    assert lines[i + 2 : i + 5] == [
        "[HM] PRTOS_HM_AC_PROPAGATE(9) PRTOS_HM_LOG_ENABLED",
        "[0] trap 14 code 0x4",  # not-present read from user level
        "[0] survived 1",
    ]


def test_general_protection_from_a_privileged_instruction_is_propagated(start_system) -> None:
    run = start_system(faulty_system("hm_gp.c", "X86_GENERAL_PROTECTION", "PROPAGATE"), "--until", "2ms")
    lines = run.lines()
    assert run.returncode == 0, run.stderr
    i = _hm_block(lines, "X86_GENERAL_PROTECTION")[0]
    assert lines[i + 2 : i + 5] == [
        "[HM] PRTOS_HM_AC_PROPAGATE(9) PRTOS_HM_LOG_ENABLED",
        "[0] trap 13 code 0x0",
        "[0] survived 1",
    ]


def test_hypervisor_halt_on_an_invalid_opcode_stops_the_system(start_system) -> None:
    run = start_system(faulty_system("hm_ud.c", "X86_INVALID_OPCODE", "HYPERVISOR_HALT"), "--until", "20ms")
    lines = run.lines()
    assert run.returncode == 0, run.stderr
    i = _hm_block(lines, "X86_INVALID_OPCODE")[0]
    assert lines[i + 2 :] == ["[HM] PRTOS_HM_AC_HYPERVISOR_HALT(8) PRTOS_HM_LOG_ENABLED", "System halted."]
    assert "system halted" in run.stderr
    assert _ticks(lines) == []


def test_switch_to_maintenance_takes_plan_1_at_once_on_the_raising_cpu(start_system) -> None:
    xml = faulty_system("hm_brk.c", "X86_BREAKPOINT", "SWITCH_TO_MAINTENANCE", maintenance=True)
    run = start_system(xml, "--until", "20ms")
    lines = run.lines()
    assert run.returncode == 0, run.stderr
    i = _hm_block(lines, "X86_BREAKPOINT")[0]
    assert lines[i + 2 : i + 4] == [
        "[HM] PRTOS_HM_AC_SWITCH_TO_MAINTENANCE(10) PRTOS_HM_LOG_ENABLED",
        "[0] survived 1",  # a trap: the vCPU continues after the int3, to the end of its slot
    ]
    assert "[0] round 2" not in lines  # plan 1 has no slot for partition 0
    # plan 1 is anchored at the end of the current slot (2 ms): its slot for P1 starts at 3, 7, 11 ms
    ticks = _ticks(lines)
    assert len(ticks) == 3
    assert [t // 1000 for t in ticks] == [3, 7, 11]


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
    run_dir.mkdir()

    def build(pid: int, sources: tuple[Path, ...]) -> Path:
        return build_partition(sources, tmp_path / f"p{pid}.elf", system.partitions[pid].areas[0].start)

    out = io.BytesIO()
    return Supervisor(system, config, resolve_images(system, [], build), run_dir, stdout=out, until_us=until_us), out


def test_fatal_error_with_hypervisor_halt_stops_the_system(tmp_path: Path) -> None:
    xml = faulty_system("hm_brk.c", "FATAL_ERROR", "HYPERVISOR_HALT")
    sup, out = _supervisor(tmp_path, xml, 20_000)
    try:
        sup.start()
        sup.procs[(0, 0)].handle.kill()  # the partition process dies: partition panic, FATAL_ERROR
        sup.procs[(0, 0)].handle.wait()
        stats = sup.run()
    finally:
        sup.close()
    lines = out.getvalue().decode().splitlines()
    i = lines.index("[HM] 0:PRTOS_HM_EV_FATAL_ERROR (0):PART(0)")
    assert lines[i + 2 :] == ["[HM] PRTOS_HM_AC_HYPERVISOR_HALT(8) PRTOS_HM_LOG_ENABLED", "System halted."]
    assert stats.exit_reason == "system halted"


def _device(run_dir: Path, config: Path, name: str):
    from prtosd.config import load_system

    system = load_system(config)
    dev = system.device(name)
    assert dev is not None
    start, end = next((s, e) for s, e in physical_ranges(system) if s <= dev.start < e)
    mm = open_shared(backing_file(run_dir, start, end), end - start)
    return mm, dev.start - start, dev.size


def _records(run_dir: Path, config: Path, name: str) -> list[bytes]:
    mm, off, size = _device(run_dir, config, name)
    try:
        view = bytes(mm[off : off + size])
    finally:
        mm.close()
    stream = LogStream(bytearray(view))
    assert stream.resumed  # the header of the killed run is valid
    out = []
    while (rec := stream.read()) is not None:
        out.append(rec)
    return out


def test_logs_survive_kill_9_of_prtosd(tmp_path: Path) -> None:
    xml = faulty_system("hm_unrec.c", "PARTITION_ERROR", "IGNORE", extra='<Trace device="tr0" bitmask="0x1"/>')
    config = tmp_path / "system.xml"
    config.write_text(with_traces(xml))
    run_dir = tmp_path / "run"
    proc = subprocess.Popen(
        [sys.executable, "-m", "prtosd", "start", str(config), "--run-dir", str(run_dir), "--until", "100s"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    seen = 0
    try:
        assert proc.stdout is not None
        for line in proc.stdout:  # console lines are written after the records of their step
            if re.fullmatch(r"\[HM\] \d+:PRTOS_HM_EV_PARTITION_ERROR \(2\):PART\(0\)", line.rstrip("\n")):
                seen += 1
                if seen == 20:
                    break
    finally:
        proc.kill()  # SIGKILL, by our own child's pid
        proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
    assert seen == 20
    hm = _records(run_dir, config, "hmlog")
    trace = _records(run_dir, config, "tr0")
    assert len(hm) >= 20 and len(trace) >= 20
    for raw in hm + trace:
        assert len(raw) == RECORD_SIZE and is_intact(raw)
    assert [Record.unpack(r).sequence for r in hm[:20]] == list(range(20))
    assert [Record.unpack(r).sequence for r in trace[:20]] == list(range(20))
    assert all(Record.unpack(r).event_id == 2 for r in hm)
    assert all(Record.unpack(r).payload[0] == 0xBAD for r in trace)
