"""The trace service: filtering, stamping (D-38), one global sequence (K-05), persistence."""

from __future__ import annotations

from hm.log import HEADER_SIZE, LogStream
from hm.record import RECORD_SIZE, TRACE_SIGNATURE, Record, is_intact
from hm.trace import TraceService


def event(code: int, criticality: int, payload: tuple[int, int, int, int] = (1, 2, 3, 4)) -> bytes:
    # the caller's own fields, plus garbage where the kernel stamps (partition, vCPU, sequence)
    return Record(0, 0xFFFFFFF0 | (criticality << 1), (code << 16) | 0xABCD, 0, payload).pack(with_checksum=False)


def service() -> TraceService:
    dev = lambda: bytearray(HEADER_SIZE + RECORD_SIZE * 8)  # noqa: E731
    return TraceService({0: LogStream(dev()), 1: LogStream(dev())}, {0: 0x1, 1: 0x6}, LogStream(dev()))


def test_stamping_and_global_sequence() -> None:
    t = service()
    a, stored_a = t.write(0, 2, 0x1, event(7, 2), now=500)
    b, stored_b = t.write(1, 0, 0x4, event(9, 1), now=900)
    assert stored_a and stored_b
    assert (a.signature, a.op_code_hi, a.event_id, a.vcpu_id, a.partition_id, a.timestamp) == (
        TRACE_SIGNATURE,
        0x04,
        7,
        2,
        0,
        500,
    )
    assert (b.op_code_hi, b.partition_id) == (0x12, 1)  # sequence 1 over DEBUG criticality
    assert is_intact(a.pack())
    assert Record.unpack(t.stream(0).read()) == Record.unpack(a.pack())


def test_filtered_records_are_not_stored_and_use_no_sequence_number() -> None:
    t = service()
    _, stored = t.write(0, 0, 0x2, event(1, 0), now=1)
    assert not stored and t.stream(0).status()[0] == 0
    rec, stored = t.write(0, 0, 0x3, event(1, 0), now=2)
    assert stored and rec.sequence == 0


def test_unrecoverable_criticality() -> None:
    assert TraceService.is_unrecoverable(event(1, 3))
    assert not TraceService.is_unrecoverable(event(1, 2))


def test_partition_without_trace_device_has_an_empty_stream() -> None:
    t = service()
    _, stored = t.write(5, 0, 0xFFFFFFFF, event(1, 0), now=1)
    assert not stored
    assert t.stream(5).status() == (0, 0, 0)
