"""The trace service (semantics.md §10): one stream per partition plus the hypervisor stream.

Streams are :class:`~hm.log.LogStream` objects on the ``Trace@device`` memory blocks, so trace
records persist in the run directory like the HM log. One sequence counter serves every trace
stream (K-05) and only stored records consume a number. Stamping (D-38): the kernel sets the
signature, the partition and vCPU fields, the timestamp and the sequence; the caller keeps its
event code, criticality and SYS bit; the stamped record is also written back to the caller
(K-10), which is why :meth:`TraceService.write` returns it.
"""

from __future__ import annotations

from hm.log import LogStream
from hm.record import TRACE_SIGNATURE, Record

TRACE_UNRECOVERABLE = 3
HYPERVISOR_STREAM = 0xFF


class TraceService:
    def __init__(self, partition_streams: dict[int, LogStream], bitmasks: dict[int, int], hypervisor: LogStream):
        self.streams: dict[int, LogStream] = dict(partition_streams)
        self.streams[HYPERVISOR_STREAM] = hypervisor
        self.bitmasks = bitmasks
        self.sequence = 0

    def stream(self, owner: int) -> LogStream:
        return self.streams.get(owner) or LogStream(None)

    def write(self, partition: int, vcpu: int, bitmask: int, raw: bytes, now: int) -> tuple[Record, bool]:
        """Stamp one record of ``partition``; store it if its filter passes. Returns (stamped, stored)."""
        rec = Record.unpack(raw)
        stored = bool(self.bitmasks.get(partition, 0) & bitmask)
        hi = rec.op_code_hi & 0xF
        if stored:
            hi |= (self.sequence << 4) & 0xFFFFFFF0
        lo = (rec.op_code_lo & 0xFFFF0000) | ((vcpu & 0xFF) << 8) | (partition & 0xFF)
        stamped = Record(TRACE_SIGNATURE, hi, lo, now, rec.payload)
        if stored:
            self.sequence += 1
            self.stream(partition).append(stamped.pack())
        return stamped, stored

    @staticmethod
    def is_unrecoverable(raw: bytes) -> bool:
        return Record.unpack(raw).criticality == TRACE_UNRECOVERABLE
