"""``trace_dump``: decoded records of a trace stream (a partition's, or the hypervisor's)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from hm.trace import HYPERVISOR_STREAM
from prtosd.control.base import Command, Prop, partition_id
from prtosd.control.records import MAX_RECORDS, decode_trace, snapshot

if TYPE_CHECKING:
    from prtosd.supervisor import Supervisor


class TraceDump(Command):
    """Decoded trace records of one stream; the stream's read cursor is not moved.

    Wire: ``{cmd: "trace_dump", props: {stream: ID|NAME|"hyp", start: N, limit: N}}`` → ``data:
    {stream, count, capacity, start, records: [{sequence, timestamp_us, code, criticality, ...}]}``;
    ``stream`` defaults to the hypervisor's. A partition without a trace stream has capacity 0.

    Usage: ``prtosctl trace dump [ID|NAME|hyp] [--json]``; ``prtosctl trace follow ...``
    """

    name = "trace_dump"
    props: ClassVar[dict[str, Prop]] = {
        "stream": Prop("partition", default="hyp"),
        "start": Prop(int, default=0),
        "limit": Prop(int, lo=1, hi=MAX_RECORDS, default=MAX_RECORDS),
    }

    def execute(self, sup: Supervisor, props: dict[str, Any]) -> dict[str, Any]:
        ref = props["stream"]
        owner = HYPERVISOR_STREAM if ref == "hyp" else partition_id(sup, ref)
        stream = sup.trace.stream(owner)
        raws, count = snapshot(stream, props["start"], props["limit"])
        return {
            "stream": "hyp" if owner == HYPERVISOR_STREAM else owner,
            "count": count,
            "capacity": stream.capacity,
            "start": props["start"],
            "records": [decode_trace(r) for r in raws],
        }
