"""Reading HM-log and trace records for the control plane without disturbing the guests.

A stream has one read cursor, shared with the partitions that read it through the object
interface; moving it from the control plane would change what a guest reads next. So records
are copied straight from the device buffer at positions counted from the oldest record present
(position 0), leaving the stream's cursor and header untouched.
"""

from __future__ import annotations

from typing import Any

from hm.log import HEADER_SIZE, LogStream
from hm.monitor import event_name
from hm.record import RECORD_SIZE, Record, is_intact

#: Most records in one reply (keeps a reply far below the protocol's frame limit).
MAX_RECORDS = 1000


def snapshot(stream: LogStream, start: int, limit: int) -> tuple[list[bytes], int]:
    """Raw records at positions ``start`` … ``start + limit - 1`` and the number of records present."""
    if not stream.capacity or stream.dev is None:
        return [], 0
    count = stream.elem
    out = []
    for i in range(start, min(count, start + limit)):
        off = HEADER_SIZE + RECORD_SIZE * ((stream.head + i) % stream.capacity)
        out.append(bytes(stream.dev[off : off + RECORD_SIZE]))
    return out, count


def decode_hm(raw: bytes) -> dict[str, Any]:
    rec = Record.unpack(raw)
    return {
        "sequence": rec.sequence,
        "timestamp_us": rec.timestamp,
        "event": rec.event_id,
        "event_name": event_name(rec.event_id),
        "partition": rec.partition_id,
        "vcpu": rec.vcpu_id,
        "system": rec.is_system,
        "cpu_context": rec.has_cpu_context,
        "payload": list(rec.payload),
        "intact": is_intact(raw),
    }


def decode_trace(raw: bytes) -> dict[str, Any]:
    rec = Record.unpack(raw)
    return {
        "sequence": rec.sequence,
        "timestamp_us": rec.timestamp,
        "code": rec.event_id,
        "criticality": rec.criticality,
        "partition": rec.partition_id,
        "vcpu": rec.vcpu_id,
        "system": rec.is_system,
        "payload": list(rec.payload),
        "intact": is_intact(raw),
    }
