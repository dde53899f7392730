"""``hm_log``: decoded records of the HM log."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from prtosd.control.base import Command, Prop
from prtosd.control.records import MAX_RECORDS, decode_hm, snapshot

if TYPE_CHECKING:
    from prtosd.supervisor import Supervisor


class HmLog(Command):
    """Decoded HM log records (sequence, virtual timestamp, event, partition, vCPU, payload).

    The log's read cursor, which partitions share, is not moved. Wire: ``{cmd: "hm_log", props:
    {start: N, limit: N}}`` → ``data: {count, capacity, start, records: [...]}``; ``start`` is the
    position from the oldest record present (default 0), ``limit`` at most 1000.

    Usage: ``prtosctl hm log [--follow] [--json]``
    """

    name = "hm_log"
    props: ClassVar[dict[str, Prop]] = {
        "start": Prop(int, default=0),
        "limit": Prop(int, lo=1, hi=MAX_RECORDS, default=MAX_RECORDS),
    }

    def execute(self, sup: Supervisor, props: dict[str, Any]) -> dict[str, Any]:
        stream = sup.hm.stream
        raws, count = snapshot(stream, props["start"], props["limit"])
        return {
            "count": count,
            "capacity": stream.capacity,
            "start": props["start"],
            "records": [decode_hm(r) for r in raws],
        }
