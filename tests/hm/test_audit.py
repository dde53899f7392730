"""Hypervisor audit records (semantics.md §10.5): layout, module filter, global sequence."""

from __future__ import annotations

from hm.audit import (
    EVENT_RAISED,
    HCALL_BEGIN,
    HCALL_BEGIN2,
    HCALL_END,
    MOD_HCALLS,
    MOD_HM,
    MOD_IRQS,
    MOD_SCHED,
    PART_ACTION,
    SCHED_EVENTS,
    TRAP_RAISED,
    AuditTrail,
    audit_record,
    vcpu_word,
)
from hm.log import LogStream
from hm.record import TRACE_SIGNATURE, Record, hm_record, is_intact
from hm.trace import HYPERVISOR_STREAM, TraceService


def _service() -> TraceService:
    return TraceService({0: LogStream(bytearray(4096))}, {0: 1}, LogStream(bytearray(4096)))


def _stored(trace: TraceService) -> list[Record]:
    stream = trace.streams[HYPERVISOR_STREAM]
    out = []
    while (raw := stream.read()) is not None:
        assert is_intact(raw)
        out.append(Record.unpack(raw))
    return out


def test_record_fields_follow_the_table() -> None:
    rec = audit_record(MOD_SCHED, SCHED_EVENTS["PLAN_SWITCH_DONE"], (3, 1), 1234, 5, (0xFFFFFFFF, 1))
    assert rec.signature == TRACE_SIGNATURE
    assert rec.op_code_lo == (((2 << 8) | 0xA) << 16) | (1 << 8) | 3
    assert rec.op_code_hi == 5 << 4 | 1  # NOTIFY, SYS
    assert rec.timestamp == 1234
    assert rec.payload == (0xFFFFFFFF, 1, 0, 0)
    idle = audit_record(MOD_IRQS, TRAP_RAISED, None, 0, 0, (3, 0x6000010))
    assert idle.partition_id == 0xFF and idle.vcpu_id == 0xFF
    assert is_intact(idle.pack())


def test_vcpu_word() -> None:
    assert vcpu_word((2, 1)) == 0x102
    assert vcpu_word(None) == 0xFFFFFFFF


def test_only_selected_modules_are_stored_and_they_share_the_sequence() -> None:
    trace = _service()
    audit = AuditTrail(lambda: trace, 1 << MOD_HM | 1 << MOD_IRQS)
    audit.trap_raised((0, 0), 10, 14, 0x6000100)
    audit.sched("PART_HALT", (0, 0), 11, 0)  # SCHED not selected: no record, no number
    trace.write(0, 0, 1, Record(0, 0, 7 << 16, 0).pack(), 12)  # a partition record takes number 1
    audit.hm_event((0, 0), 13, hm_record(20, 0, 0, 13, pc=0x6000100, psr=0x202))
    audit.hm_action((0, 0), 13, 9, True)
    recs = _stored(trace)
    assert [r.sequence for r in recs] == [0, 2, 3]
    assert [r.event_id for r in recs] == [
        (MOD_IRQS << 8) | TRAP_RAISED,
        (MOD_HM << 8) | EVENT_RAISED,
        (MOD_HM << 8) | PART_ACTION,
    ]
    assert recs[0].payload == (14, 0x6000100, 0, 0)
    assert recs[1].payload == ((20 << 16), 0x2, 0x6000100, 0)
    assert recs[2].payload == (1 << 31 | 9, 0, 0, 0)
    assert trace.sequence == 4


def test_hypercall_words() -> None:
    trace = _service()
    audit = AuditTrail(lambda: trace, 1 << MOD_HCALLS)
    audit.hcall_begin((1, 0), 5, 10, [1, 2, 3, 4, 5])  # set_timer: 5 words
    audit.hcall_begin((1, 0), 6, 1, [7, 9, 9, 9, 9])  # halt_partition: 1 word
    audit.hcall_begin((1, 0), 7, 99, [1, 2, 3, 4, 5])  # unknown: 0 words
    audit.hcall_end((1, 0), 8, 1, -3)
    audit.hcall_end((1, 0), 8, 42, 0)  # void call: no END
    audit.hcall_end((1, 0), 8, 6, None)  # does not return: no END
    recs = _stored(trace)
    codes = [r.event_id & 0xFF for r in recs]
    assert codes == [HCALL_BEGIN, HCALL_BEGIN2, HCALL_BEGIN, HCALL_BEGIN, HCALL_END]
    assert recs[0].payload == ((10 << 16) | 5, 1, 2, 3)
    assert recs[1].payload == (4, 5, 0, 0)
    assert recs[2].payload == ((1 << 16) | 1, 7, 0, 0)
    assert recs[3].payload == (99 << 16, 0, 0, 0)
    assert recs[4].payload == (0xFFFFFFFD, 0, 0, 0)
    assert all(r.partition_id == 1 and r.vcpu_id == 0 for r in recs)


def test_no_bitmask_means_nothing_and_no_numbers() -> None:
    trace = _service()
    audit = AuditTrail(lambda: trace, 0)
    audit.trap_raised((0, 0), 1, 0, 0)
    audit.hcall_begin((0, 0), 1, 1, [0])
    audit.sched("HYP_HALT", None, 1)
    assert trace.sequence == 0 and _stored(trace) == []
