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
* for a destination: the waiting messages (with their bytes); the receive that empties the queue
  also clears the port's own bit, as the supervisor's receive does (the source's bit is cleared
  by the replay: the source partition is not running);
* when the credit reaches the end of the channel (*final*), the call after the last credited one
  is answered OP_NOT_ALLOWED, queue full or empty, as the supervisor would answer it.

The partition process (partitiond.credits) completes a call that passes every check of the success
path (or, on a final credit, every check before the full/empty one) on credit and logs it
(virtual time, arguments, result, the bytes sent); anything else is forwarded as before. The
log rides on the next ``hcall``/``fault``/``result``, and :func:`replay` applies the logged
operations in order at their virtual times before that message — through the same port code,
from the logged bytes, never reading or writing guest memory again —
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
from prtosd.objdir import Descriptor

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
        """The ``credits``/``inbox`` fields for a ``run`` or ``hcall_ret`` of a grant alone in its step.

        A credit is [port id, direction, max message length, operations, final]. ``final`` 1:
        the operations reach the end of the channel — a full queue after the sends, an empty one
        after the receives — so the next call is answered OP_NOT_ALLOWED on credit too, and the
        receive that empties the queue clears the receiver's own bitmap bit as prtosd would.
        """
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
                free = ch.config.max_no_messages - len(ch.messages)
                # Room for one operation more than the free places: the refused send is logged too.
                room = min(MAX_CREDIT_OPS - ops, (MAX_CREDIT_BYTES - size) // max(length, 1))
                n = min(free, room)
                final = free < room
                if n <= 0 and not final:  # out of room in the message: nothing to give
                    continue
                credits.append([port.id, 0, length, n, int(final)])
                size += (n + final) * length
                ops += final
            else:
                given = []
                for m in islice(ch.messages, max(0, MAX_CREDIT_OPS - ops - 1)):  # room for the refused one
                    if size + len(m) > MAX_CREDIT_BYTES:
                        break
                    given.append(m)
                    size += len(m)
                final = len(given) == len(ch.messages) and ops + len(given) < MAX_CREDIT_OPS
                if not given and not final:
                    continue
                credits.append([port.id, 1, length, len(given), int(final)])
                ops += final
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
        the reply. (The HCALLS audit records are left out: credits are never given while that
        module is selected.) A log that does not fit the grant (times out of order, another
        call, a result that differs) is a protocol error of the process: counted, reported, and
        the rest of the log is dropped.
        """
        sup, key = self.sup, g.key
        obs, stats = sup.obs, sup.stats
        sent = iter(msg.get("sent", ()))
        last, head, seq = g.start, msg["now"], msg["seq"]
        sup.console.cpu = g.cpu
        for entry in msg["ops"]:
            problem = self._bad_entry(entry, last, head)
            if problem is None:
                now, nr, *args, ret = entry
                data = next(sent, None) if nr == HC_WRITE_OBJECT else b""
                if data is None:
                    problem = "a credited send without its bytes"
            if problem is not None:
                stats.rejected += 1
                print(f"prtosd: partition {key[0]}: credited port operations dropped: {problem}", file=sys.stderr)
                return
            last = now
            stats.credited += 1
            obs.vcpu_audit_due(now)
            out = self._operation(key, nr, args, now, data)
            if out.effects or out.console:
                sup.apply(out, key, now)
            obs.hcall_end(key, {"seq": seq, "now": now, "nr": nr, "args": args}, out.result)
            if out.result != ret:  # the process's view of the channel differed: never expected
                stats.rejected += 1
                print(
                    f"prtosd: partition {key[0]}: credited port call {nr} returned {ret}, the channel says "
                    f"{out.result}",
                    file=sys.stderr,
                )

    @staticmethod
    def _bad_entry(entry: list[int], last: int, head: int) -> str | None:
        if len(entry) != 7:
            return "malformed entry"
        now, nr, desc, a1, a2, a3 = entry[:6]
        if not last <= now <= head:
            return "virtual time out of order"
        if (nr != HC_READ_OBJECT and nr != HC_WRITE_OBJECT) or (desc >> 24) & 0x7F != OBJ_CLASS_QUEUING_PORT:
            return "not a queuing port call"
        if not (0 <= desc <= 0xFFFFFFFF and 0 <= a1 <= 0xFFFFFFFF and 0 <= a2 <= 0xFFFFFFFF and 0 <= a3 <= 0xFFFFFFFF):
            return "argument out of range"
        return None

    def _operation(self, key: VcpuKey, nr: int, args: list[int], now: int, data: bytes) -> Any:
        """The port call as the object directory would make it (prtosd.objdir.object_call), from the log."""
        desc = Descriptor.decode(args[0])
        if nr == HC_WRITE_OBJECT:
            out = self.ports.queuing_send(key, desc, args[1], args[2], logged=data)
        else:
            out = self.ports.queuing_receive(key, desc, args[1], args[2], logged=True)
        op = "write" if nr == HC_WRITE_OBJECT else "read"
        self.sup.obs.port(key, OBJ_CLASS_QUEUING_PORT, desc.id, op, out.result, now)
        return out
