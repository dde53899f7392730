"""Audit events produced inside a partition process reach the hypervisor stream (semantics.md §10.5).

Local hypercalls (served by the vCPU, or the console write served by the process) give HCALLS
records and every injected vector an IRQ_EMUL record, stamped with the virtual HW clock, in
virtual-time order among the supervisor's own records, and identical from run to run.
"""

from __future__ import annotations

import re
from pathlib import Path

from systems import run_prtosd, system_xml
from test_hm_actions import _records, with_traces

from hm.audit import HCALL_BEGIN, HCALL_END, IRQ_EMUL, MOD_HCALLS, MOD_IRQS, MOD_SCHED, SCHED_EVENTS
from hm.record import Record

VECTOR = 224  # ext IRQ 0 (HW timer) as routed by the BAIL library


def run_twice(tmp_path: Path, bitmask: str) -> tuple[list[bytes], list[bytes], list[str]]:
    xml = system_xml([{"name": "A", "source": "audit_timer.c"}], [(0, 5, 0)], 5)
    config = tmp_path / "s.xml"
    config.write_text(with_traces(xml, bitmask))
    out = []
    for tag in ("a", "b"):
        run = run_prtosd(config, tmp_path / tag, "--until", "4ms")
        assert run.returncode == 0, run.stderr
        out.append((_records(tmp_path / tag, config, "hyptr"), run.lines()))
    assert out[0][1] == out[1][1]
    return out[0][0], out[1][0], out[0][1]


def test_local_hypercalls_and_the_timer_irq_are_audited(tmp_path: Path) -> None:
    first, second, lines = run_twice(tmp_path, "HYP_IRQS HYP_HCALLS HYP_SCHED")
    assert first == second  # byte for byte: same events, times and sequence numbers
    armed, fired = map(int, next(m.groups() for line in lines if (m := re.search(r"armed (\d+) fired (\d+)", line))))
    audit = [Record.unpack(r) for r in first]
    assert [r.sequence for r in audit] == list(range(len(audit)))
    assert [r.timestamp for r in audit] == sorted(r.timestamp for r in audit)  # virtual-time order
    ev = [(r.event_id >> 8, r.event_id & 0xFF) for r in audit]

    def begins(nr: int) -> list[Record]:
        return [
            r for r, e in zip(audit, ev, strict=True) if e == (MOD_HCALLS, HCALL_BEGIN) and r.payload[0] >> 16 == nr
        ]

    get_time = begins(9)
    assert len(get_time) == 2 and {r.payload[1] for r in get_time} == {0}  # the HW clock
    assert get_time[0].timestamp == armed and get_time[1].timestamp == fired  # stamped at 1 GHz: cost < 1 µs
    (set_timer,) = begins(10)
    assert set_timer.payload == ((10 << 16) | 5, 0, armed + 200, 0)
    irqs = [r for r, e in zip(audit, ev, strict=True) if e == (MOD_IRQS, IRQ_EMUL)]
    assert [r.payload[0] for r in irqs] == [VECTOR]
    assert armed + 200 <= irqs[0].timestamp <= fired
    assert audit.index(irqs[0]) < audit.index(get_time[1])  # injected, then the handler's get_time
    assert begins(12) and begins(1)  # the console write (served by the process) and the halt (by prtosd)
    assert all(r.partition_id == 0 for r, e in zip(audit, ev, strict=True) if e[0] != MOD_SCHED)
    halt = audit.index(begins(1)[0])
    sched = {v: k for k, v in SCHED_EVENTS.items()}
    assert sched[ev[halt + 1][1]] == "PART_HALT"  # the supervisor's own records follow in time order
    assert ev.count((MOD_HCALLS, HCALL_END)) >= len(get_time) + 1


def test_nothing_from_the_vcpu_without_the_modules(tmp_path: Path) -> None:
    first, second, _ = run_twice(tmp_path, "HYP_SCHED")
    assert first == second
    assert {Record.unpack(r).event_id >> 8 for r in first} == {MOD_SCHED}


def test_shipments_of_concurrent_grants_are_stored_in_virtual_time_order(tmp_path: Path) -> None:
    """Two CPUs' shipments arrive out of time order; each is stored once the supervisor reaches its time."""
    from types import SimpleNamespace

    from hm.audit import pack_event
    from hm.log import LogStream
    from hm.trace import HYPERVISOR_STREAM, TraceService
    from prtosd.config.model import HypervisorTrace
    from prtosd.timeline import RunRecorder

    trace = TraceService({}, {}, LogStream(bytearray(64 * 1024)))
    system = SimpleNamespace(
        name="t", processors=(0, 1), partitions=(), hypervisor=SimpleNamespace(trace=HypervisorTrace("hyptr", 0b11))
    )
    sup = SimpleNamespace(system=system, trace=trace, run_dir=tmp_path, stats=SimpleNamespace(rejected=0))
    obs = RunRecorder(sup)  # type: ignore[arg-type]
    cpu1 = pack_event(30, MOD_HCALLS, HCALL_BEGIN, 9 << 16 | 2) + pack_event(50, MOD_IRQS, IRQ_EMUL, 224)
    cpu0 = pack_event(10, MOD_HCALLS, HCALL_BEGIN, 32 << 16) + pack_event(40, MOD_HCALLS, HCALL_END, 0)
    obs.vcpu_audit(1, (1, 0), cpu1)  # CPU 1's message (time 60) arrives first
    obs.vcpu_audit(0, (0, 0), cpu0)  # then CPU 0's (time 45)
    obs.vcpu_audit(0, (0, 0), b"\x00" * 27)  # a torn shipment is dropped and counted
    assert sup.stats.rejected == 1
    obs.vcpu_audit_due(45)  # the supervisor handles CPU 0's message first
    stored = trace.stream(HYPERVISOR_STREAM)
    first = [Record.unpack(r) for r in iter(stored.read, None)]
    assert [(r.timestamp, r.partition_id) for r in first] == [(10, 0), (30, 1), (40, 0)]
    obs.vcpu_audit_due(60)
    rest = [Record.unpack(r) for r in iter(stored.read, None)]
    assert [(r.timestamp, r.event_id) for r in rest] == [(50, (MOD_IRQS << 8) | IRQ_EMUL)]
    assert [r.sequence for r in first + rest] == [0, 1, 2, 3]
    obs.close()
