"""Port credits on the partition side: queuing calls completed without asking the supervisor.

prtosd (prtosd.credits) may attach to a ``run`` or ``hcall_ret`` a credit per queuing port of the
partition: so many sends the channel has room for, or so many receives of messages it hands over
(``inbox``). A ``prtos_send_queuing_message`` or ``prtos_receive_queuing_message`` that passes
every check of its success path here — a queuing-port descriptor of this partition for a credited
port of the right direction, a size from 1 to the channel's message length, a buffer the guest
can access, credit left — is completed at once and logged; so is the one OP_NOT_ALLOWED that
follows a *final* credit (the queue then full or empty). Anything else (any other error, an
exhausted credit) is forwarded as before and the supervisor answers it. The checks are those
the supervisor would make, in effect: a call completed here is one that would have had the same
result there. A send also sets the port's bit in the partition's own comm-port bitmap, and the
receive that empties the queue clears it, as the supervisor would.

The log — virtual time, the four argument words, the result, the bytes sent — rides on the next
``hcall``, ``fault`` or ``result``; the supervisor applies it before that message. Every
``hcall_ret`` replaces the credits (its state is the one after the forwarded call), and a reset
or halt of the vCPU drops them.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Any

from partitiond.memory import AddressSpace
from partitiond.pct import comm_port_word, set_comm_port_bits

if TYPE_CHECKING:
    from prtosd.config.model import Partition

HC_READ_OBJECT, HC_WRITE_OBJECT = 11, 12
OBJ_CLASS_QUEUING_PORT = 4
SOURCE, DESTINATION = 0, 1
OP_NOT_ALLOWED = -7  # PrtosError.OP_NOT_ALLOWED


class Credit:
    """What one port may still do on credit.

    ``final``: the credit reaches the end of the channel (full after the sends, empty after the
    receives); the next call is answered OP_NOT_ALLOWED here, once — a guest polling a full or
    empty queue goes back to the supervisor, which bounds the log.
    """

    __slots__ = ("direction", "final", "inbox", "left", "max_len")

    def __init__(self, direction: int, max_len: int, left: int, inbox: deque[bytes], final: bool):
        self.direction = direction
        self.max_len = max_len
        self.left = left
        self.inbox = inbox
        self.final = final


class PortCredits:
    """The credits of one vCPU's grant and the log of the calls completed on them."""

    def __init__(self, partition: Partition, memory: AddressSpace):
        self.pid = partition.id
        self.memory = memory
        # Global port id → the (address, bit) of its comm-port bitmap bit in each vCPU's PCT.
        self.bits = {
            p.global_id: [comm_port_word(partition, v, p.index) for v in range(partition.no_vcpus)]
            for p in partition.ports
        }
        self.ports: dict[int, Credit] = {}
        self._bits_set: set[int] = set()  # ports whose bit this grant has set (nobody else writes it meanwhile)
        self.ops: list[list[int]] = []
        self.sent: list[bytes] = []

    def load(self, msg: dict[str, Any]) -> None:
        """Take the credits of a ``run``/``hcall_ret`` (none if absent); malformed entries are ignored."""
        self.ports = {}
        self._bits_set.clear()
        credits = msg.get("credits")
        if not credits:
            return
        inbox = iter(msg.get("inbox", ()))
        for entry in credits:
            if len(entry) != 5 or entry[1] not in (SOURCE, DESTINATION) or entry[3] < 0:
                continue
            port, direction, max_len, left, final = entry
            msgs: deque[bytes] = deque()
            if direction == DESTINATION:
                msgs.extend(m for m, _ in zip(inbox, range(left), strict=False))
                if len(msgs) != left:  # fewer messages than announced: not the end of the queue
                    final = 0
                left = len(msgs)
            if left or final:
                self.ports[port] = Credit(direction, max_len, left, msgs, bool(final))

    def clear(self) -> None:
        self.ports = {}
        self._bits_set.clear()

    def serve(self, nr: int, args: tuple[int, ...] | list[int], now: int) -> int | None:
        """Complete a queuing send/receive on credit and return its result, or None to forward it."""
        if not self.ports or nr not in (HC_READ_OBJECT, HC_WRITE_OBJECT):
            return None
        desc, buf, size = args[0], args[1], args[2]
        if (desc >> 24) & 0x7F != OBJ_CLASS_QUEUING_PORT or (desc >> 10) & 0x3FF != self.pid:
            return None
        port = desc & 0x3FF
        credit = self.ports.get(port)
        if credit is None or not 0 < size <= credit.max_len:
            return None
        if credit.left <= 0 and not credit.final:
            return None
        if nr == HC_WRITE_OBJECT:
            if credit.direction != SOURCE or not self.memory.check(buf, size):
                return None
            data = self.memory.read(buf, size)
            if credit.left > 0:
                # As the supervisor's send does: its replay then finds the bit set.
                if port not in self._bits_set:
                    set_comm_port_bits(self.memory, self.bits.get(port, ()), True)
                    self._bits_set.add(port)
                result = 0
            else:
                result = OP_NOT_ALLOWED  # the queue is full
            self.sent.append(data)
        else:
            if credit.direction != DESTINATION or not self.memory.check(buf, size, write=True):
                return None
            if credit.left > 0:
                data = credit.inbox.popleft()[:size]  # the rest of a longer message is lost, as in prtosd
                self.memory.write(buf, data)
                result = len(data)
                if credit.left == 1 and credit.final:  # the queue is now empty: as the supervisor's receive
                    set_comm_port_bits(self.memory, self.bits.get(port, ()), False)
            else:
                result = OP_NOT_ALLOWED  # the queue is empty
        if credit.left > 0:
            credit.left -= 1
        else:
            credit.final = False  # answered once; the next call goes to the supervisor
        self.ops.append([now, nr, *args[:4], result])
        return result

    def take_log(self) -> dict[str, Any]:
        """The ``ops``/``sent`` fields for the next message (empty: nothing was done on credit)."""
        if not self.ops:
            return {}
        fields: dict[str, Any] = {"ops": self.ops}
        if self.sent:
            fields["sent"] = self.sent
        self.ops, self.sent = [], []
        return fields
