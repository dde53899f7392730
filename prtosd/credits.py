"""Port credits: queuing sends and receives a partition process completes without a round trip.

Rationale
---------
Every forwarded hypercall is one ZeroMQ round trip, and a queuing message costs two of them (the
send on one side, the receive on the other). When a grant is the only one of its scheduling step,
nothing but that grant's own calls can touch a channel until it reports, so the supervisor can
tell the partition process in advance how a run of sends or receives would end: a *credit* per
open queuing port of the partition whose peer is another partition,

* for a source: the free places of the channel (a send also sets the port's own bit in the
  partition's comm-port bitmap: the process sets it itself, so the replay finds it set);
* for a destination: the waiting messages except the last one (with their bytes), because the
  last receive clears bitmap bits, the receiver's own among them.

The partition process (partitiond.credits) completes a call that passes every check of the success
path on credit and logs it (virtual time, arguments, result, the bytes sent); anything else is
forwarded as before. The log rides on the next ``hcall``/``fault``/``result``, and
:func:`replay` applies the logged operations in order at their virtual times before that message —
through the same port code, from the logged bytes, never reading or writing guest memory again —
so timeline, counters, notifications and bitmaps are those of the one-call-at-a-time run.

Credit is an optimisation, never a semantic: it is withheld when ``PRTOSD_PORT_CREDITS=0``, when
the HCALLS audit module is selected (the audit stream records each call as the supervisor serves
it), for partitions on other hosts, and for grants that share their step with another one.
"""

from __future__ import annotations

import os
import sys
from itertools import islice
from typing import TYPE_CHECKING, Any

from hm.audit import MOD_HCALLS
from ipc.messages import MAX_CREDIT_BYTES, MAX_CREDIT_OPS
from prtosd.commports import CommPorts, PortState, QueuingFifo
from prtosd.config.model import PortDirection, PortType

if TYPE_CHECKING:
    from prtosd.supervisor import Grant, Supervisor, VcpuKey

#: ``PRTOSD_PORT_CREDITS=0`` turns credits off (every port call is forwarded).
CREDITS_ENV = "PRTOSD_PORT_CREDITS"
HC_READ_OBJECT, HC_WRITE_OBJECT = 11, 12
OBJ_CLASS_QUEUING_PORT = 4


def enabled_by_env() -> bool:
    return os.environ.get(CREDITS_ENV, "1") != "0"


class PortCredits:
    """The supervisor's side: which ports may be credited, the credit fields, and the replay."""

    def __init__(self, sup: Supervisor, ports: CommPorts, *, enabled: bool):
        self.sup = sup
        self.ports = ports
        hcalls_audited = bool(sup.obs.audit.bitmask >> MOD_HCALLS & 1)
        self.enabled = enabled and not hcalls_audited
        # Per partition: its queuing ports whose channel's other end is another partition.
        self.candidates: dict[int, list[PortState]] = {}
        for port in ports.ports:
            ch = port.channel
            if port.type is not PortType.QUEUING or not isinstance(ch, QueuingFifo):
                continue
            peer = ch.destination if port.direction is PortDirection.SOURCE else ch.source
            if sup._is_remote(port.partition):  # its process's memory is not ours to read cheaply
                continue
            if peer is not None and ports.ports[peer].partition != port.partition:
                self.candidates.setdefault(port.partition, []).append(port)

    def fields(self, key: VcpuKey) -> dict[str, Any]:
        """The ``credits``/``inbox`` fields for a ``run`` or ``hcall_ret`` of a grant alone in its step."""
        ports = self.candidates.get(key[0]) if self.enabled else None
        if not ports:
            return {}
        credits: list[list[int]] = []
        inbox: list[bytes] = []
        ops, size = 0, 0
        for port in ports:
            ch = port.channel
            assert isinstance(ch, QueuingFifo)
            if not port.open:
                continue
            length = ch.config.max_message_length
            if port.direction is PortDirection.SOURCE:
                n = min(ch.config.max_no_messages - len(ch.messages), MAX_CREDIT_OPS - ops)
                n = min(n, (MAX_CREDIT_BYTES - size) // max(length, 1))
                if n <= 0:
                    continue
                credits.append([port.id, 0, length, n])
                size += n * length
            else:
                n = min(len(ch.messages) - 1, MAX_CREDIT_OPS - ops)
                given = []
                for m in islice(ch.messages, max(n, 0)):
                    if size + len(m) > MAX_CREDIT_BYTES:
                        break
                    given.append(m)
                    size += len(m)
                if not given:
                    continue
                credits.append([port.id, 1, length, len(given)])
                inbox.extend(given)
                n = len(given)
            ops += n
        if not credits:
            return {}
        return {"credits": credits, "inbox": inbox} if inbox else {"credits": credits}

    def replay(self, g: Grant, msg: dict[str, Any]) -> None:
        """Apply the port operations logged on ``msg`` (a head message of ``g``), in order.

        Each goes through what :meth:`Supervisor.hypercall` does for a forwarded call — audit of
        the due vCPU events, hypercall timeline line, the port operation, its effects — except
        the reply. A log that does not fit the grant (times out of order, another call, a
        result that differs) is a protocol error of the process: counted, reported, and the
        rest of the log is dropped.
        """
        sup, key = self.sup, g.key
        sent = iter(msg.get("sent", ()))
        last = g.start
        for entry in msg["ops"]:
            problem = self._bad_entry(entry, last, msg["now"])
            if problem is None:
                now, nr, *args, ret = entry
                data = next(sent, None) if nr == HC_WRITE_OBJECT else b""
                if data is None:
                    problem = "a credited send without its bytes"
            if problem is not None:
                sup.stats.rejected += 1
                print(f"prtosd: partition {key[0]}: credited port operations dropped: {problem}", file=sys.stderr)
                return
            last = now
            sup.stats.credited += 1
            sup.obs.vcpu_audit_due(now)
            sup.console.cpu = g.cpu
            call = {"seq": msg["seq"], "now": now, "nr": nr, "args": args}
            sup.obs.hcall_begin(key, call)
            out = self._operation(key, nr, args, now, data)
            sup.apply(out, key, now)
            sup.obs.hcall_end(key, call, out.result)
            if out.result != ret:  # the process's view of the channel differed: never expected
                sup.stats.rejected += 1
                print(
                    f"prtosd: partition {key[0]}: credited port call {nr} returned {ret}, the channel says "
                    f"{out.result}",
                    file=sys.stderr,
                )

    @staticmethod
    def _bad_entry(entry: list[int], last: int, head: int) -> str | None:
        if len(entry) != 7:
            return "malformed entry"
        if not last <= entry[0] <= head:
            return "virtual time out of order"
        if entry[1] not in (HC_READ_OBJECT, HC_WRITE_OBJECT) or (entry[2] >> 24) & 0x7F != OBJ_CLASS_QUEUING_PORT:
            return "not a queuing port call"
        if any(not 0 <= a <= 0xFFFFFFFF for a in entry[2:6]):
            return "argument out of range"
        return None

    def _operation(self, key: VcpuKey, nr: int, args: list[int], now: int, data: bytes) -> Any:
        """The port call as the object directory would make it (prtosd.objdir.object_call), from the log."""
        from prtosd.objdir import Descriptor

        desc = Descriptor.decode(args[0])
        if nr == HC_WRITE_OBJECT:
            out = self.ports.queuing_send(key, desc, args[1], args[2], logged=data)
        else:
            out = self.ports.queuing_receive(key, desc, args[1], args[2], logged=True)
        op = "write" if nr == HC_WRITE_OBJECT else "read"
        self.sup.obs.port(key, OBJ_CLASS_QUEUING_PORT, desc.id, op, out.result, now)
        return out
