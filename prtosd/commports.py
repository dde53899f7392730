"""Inter-partition communication: sampling and queuing ports and channels, and the MEM copy object.

Rationale
---------
Ports are the one place where partitions exchange data through the hypervisor, so every check,
its order and its return code are guest-visible (semantics.md §6, partition-api.md §8.5-§8.6).
All of that state lives here, in the supervisor, and nowhere else: a channel's sampling buffer or
FIFO is a plain Python object, written and read only while the calling vCPU waits for its
hypercall result. The supervisor applies hypercalls one at a time in virtual-time order, so a
message written at virtual time *t* is seen by every later operation, whatever the host does; no
wall clock is ever consulted (message timestamps are the caller's virtual ``now``). Queuing calls
a partition process completed on port credit (prtosd.credits) come through the same methods, in
the same order, with the logged message bytes instead of guest memory accesses.

The static part of the model comes from the configuration: every port of the system is known at
start, numbered by its global index (config.md §5), and linked to its channel once. That makes
the upstream "registration" of senders and receivers a fixed fact, so re-creating a port after a
reset re-uses it by construction (D-36), and a failed create cannot leave anything half
registered (D-35). What changes at run time is only: whether a port is open, its NEW/CONSUMED
state, and the channel contents. A partition reset closes its ports and keeps the channels
(§4.2 step 3); notifications (ext IRQs 4/5 and comm-port bitmap bits) go only to open ports
(D-61), which also gives K-07 (a message sent before the receiver opened its port is kept but
announced to nobody).

The comm-port bitmap is guest memory: the words after each vCPU's PCT and memory map in the
partition's PCT array (partition-api.md §12.1). The supervisor updates them with host-side
writes through the partition's :class:`~partitiond.memory.AddressSpace`, which bypass the
read-only guest mapping; the vCPU processes only rewrite them when they rebuild a PCT at a reset.

The MEM class (prtos_memory_copy) copies by **physical** address, so it reads and writes the
physical backing files of the run directory rather than any partition's view; a partition area
flagged ``unmapped`` or a MemoryBlock can then be copied like any other range.
"""

from __future__ import annotations

import functools
import struct
from collections import deque
from dataclasses import dataclass, field
from enum import IntEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from partitiond.memory import backing_file, open_shared, physical_ranges
from partitiond.pct import comm_port_word, set_comm_port_bits
from prtosd.config.model import AreaFlag, PortDirection, PortType, QueuingChannel, SamplingChannel, System
from prtosd.errors import PrtosError
from prtosd.partition import Outcome

if TYPE_CHECKING:
    from prtosd.objdir import Descriptor
    from prtosd.supervisor import Supervisor, VcpuKey

#: Significant characters of a port name (CONFIG_ID_STRING_LENGTH, D-33, D-62).
NAME_LEN = 16
#: ``PRTOS_INFINITE_TIME`` = ``(prtos_u32_t)-1`` (partition-api.md §10.11).
INFINITE_TIME = 0xFFFFFFFF
#: Descriptor / copy id meaning "not tied to one partition" (UNCHECKED_ID).
UNCHECKED_ID = 0xFF

# ext IRQ numbers (partition-api.md §10.6).
EXT_SAMPLING_PORT = 4
EXT_QUEUING_PORT = 5

# ctrl commands and status flags (partition-api.md §10.11).
COMM_CREATE_PORT = 0
COMM_GET_PORT_STATUS = 1
COMM_GET_PORT_INFO = 2
COMM_EMPTY_PORT = 0
COMM_MSG_VALID = 1
COMM_CONSUMED_MSG = 2
COMM_NEW_MSG = 4
OBJ_MEM_CPY_AREA = 1

# Sizes of the argument blocks each command reads or writes (partition-api.md §8.5, §11.8, D-28).
SAMPLING_CREATE_SIZE = 20
QUEUING_CREATE_SIZE = 16
SAMPLING_STATUS_SIZE = 16
QUEUING_STATUS_SIZE = 4
SAMPLING_INFO_SIZE = 20
QUEUING_INFO_SIZE = 24
MEM_CMD_SIZE = 20


class MsgState(IntEnum):
    """Per-port message state used by the sampling status call (semantics.md §6.1)."""

    EMPTY = 0
    NEW = 1
    CONSUMED = 2


class GuestMemory(Protocol):
    """What the port code needs from a partition's address space (see AddressSpace)."""

    def check(self, addr: int, length: int, *, write: bool = False, allow_null: bool = False) -> bool: ...

    def check_string(self, addr: int, max_len: int = 16) -> bool: ...

    def read(self, addr: int, length: int) -> bytes: ...

    def write(self, addr: int, data: bytes) -> None: ...


class PhysicalMemory(Protocol):
    """Byte access by physical address (the MEM class copies between physical ranges)."""

    def read(self, addr: int, length: int) -> bytes: ...

    def write(self, addr: int, data: bytes) -> None: ...


class RunDirPhysical:
    """Physical memory as the run directory's backing files (partitiond.memory), opened per access.

    Copies are rare, so mapping the one range file per access keeps no mapping alive beyond the
    call and needs no clean-up hook in the supervisor.
    """

    def __init__(self, system: System, run_dir: Path) -> None:
        self.run_dir = Path(run_dir)
        self.ranges = physical_ranges(system)

    def _range(self, addr: int, length: int) -> tuple[int, int]:
        for start, end in self.ranges:
            if start <= addr and addr + length <= end:
                return start, end
        raise ValueError(f"physical range {addr:#x}+{length:#x} is not backed")

    def read(self, addr: int, length: int) -> bytes:
        start, end = self._range(addr, length)
        mm = open_shared(backing_file(self.run_dir, start, end), end - start)
        try:
            return bytes(mm[addr - start : addr - start + length])
        finally:
            mm.close()

    def write(self, addr: int, data: bytes) -> None:
        start, end = self._range(addr, len(data))
        mm = open_shared(backing_file(self.run_dir, start, end), end - start)
        try:
            mm[addr - start : addr - start + len(data)] = data
        finally:
            mm.close()


# -- channel and port state ---------------------------------------------------------------------


@dataclass(slots=True)
class SamplingBuffer:
    """One sampling channel: the latest message, its length and write time (§6.1)."""

    config: SamplingChannel
    source: int | None = None  # port id of the source
    destinations: list[int] = field(default_factory=list)
    data: bytes = b""
    written: bool = False
    write_time: int = 0

    def valid(self, now: int) -> bool:
        """D-32: written, and validPeriod 0 / infinite, or younger than validPeriod."""
        if not self.written:
            return False
        period = self.config.valid_period
        return period in (0, INFINITE_TIME) or now - self.write_time < period

    def clear(self) -> None:
        self.data, self.written, self.write_time = b"", False, 0


@dataclass(slots=True)
class QueuingFifo:
    """One queuing channel: a FIFO of at most ``maxNoMessages`` messages (§6.1)."""

    config: QueuingChannel
    source: int | None = None
    destination: int | None = None
    messages: deque[bytes] = field(default_factory=deque)

    @property
    def full(self) -> bool:
        return len(self.messages) >= self.config.max_no_messages

    def clear(self) -> None:
        self.messages.clear()


ChannelState = SamplingBuffer | QueuingFifo


@dataclass(slots=True)
class PortState:
    """Run-time state of one configured port."""

    id: int  # global port id
    partition: int
    index: int  # local index: bit in the partition's comm-port bitmap (D-34)
    name: str
    type: PortType
    direction: PortDirection
    channel: ChannelState | None
    open: bool = False
    state: MsgState = MsgState.EMPTY


def _u32(raw: bytes, off: int) -> int:
    return struct.unpack_from("<I", raw, off)[0]


def _s64(raw: bytes, off: int) -> int:
    return struct.unpack_from("<q", raw, off)[0]


# Outcomes are immutable: the plain ones of the port calls (a send or receive per message) are
# made once; the cache is bounded, whatever values a guest's calls produce.
@functools.lru_cache(maxsize=256)
def _err(code: PrtosError) -> Outcome:
    return Outcome(code)


@functools.lru_cache(maxsize=256)
def _ok(value: int | None = None) -> Outcome:
    return Outcome(PrtosError.OK, value=value)


class CommPorts:
    """All ports and channels of a running system, and the port/MEM object operations.

    ``sup`` is the supervisor (or a test double) providing ``system``, ``memory`` (pid →
    :class:`GuestMemory`), ``table`` (the PartitionTable: vCPU flags and counters) and
    ``raise_ext(key, n)``. ``phys`` gives physical access for the MEM copy; by default the run
    directory's backing files.
    """

    def __init__(self, sup: Any, phys: PhysicalMemory | None = None) -> None:
        self.sup = sup
        self.system: System = sup.system
        self.phys: PhysicalMemory = phys if phys is not None else RunDirPhysical(sup.system, sup.run_dir)
        self.ports: list[PortState] = []
        self.channels: list[ChannelState] = []
        self._words: dict[int, list[tuple[int, int]]] = {}  # port id → its bitmap (address, bit) per vCPU
        by_endpoint: dict[tuple[int, str], ChannelState] = {}
        for ch in self.system.channels:
            state: ChannelState = SamplingBuffer(ch) if isinstance(ch, SamplingChannel) else QueuingFifo(ch)
            self.channels.append(state)
            for ep in ch.endpoints:
                by_endpoint[(ep.partition_id, ep.port_name)] = state
        for part in self.system.partitions:
            for p in part.ports:
                ch_state = by_endpoint.get((part.id, p.name))
                port = PortState(p.global_id, part.id, p.index, p.name, p.type, p.direction, ch_state)
                self.ports.append(port)
        self.ports.sort(key=lambda p: p.id)
        assert all(p.id == i for i, p in enumerate(self.ports)), "port ids must be the global indices"
        for port in self.ports:  # the fixed sender/receiver registration (D-36)
            ch_state = port.channel
            if isinstance(ch_state, SamplingBuffer):
                if port.direction is PortDirection.SOURCE:
                    ch_state.source = port.id
                else:
                    ch_state.destinations.append(port.id)
            elif isinstance(ch_state, QueuingFifo):
                if port.direction is PortDirection.SOURCE:
                    ch_state.source = port.id
                else:
                    ch_state.destination = port.id

    # -- resets (semantics.md §4.2 step 3, §4.6, §6.6) ------------------------------------------

    def reset_partition(self, pid: int) -> None:
        """Close every port of ``pid``; channel contents are kept (D-36)."""
        for port in self.ports:
            if port.partition == pid:
                port.open = False
                port.state = MsgState.EMPTY

    def reset_system(self) -> None:
        """A system reset: every channel emptied, every port closed."""
        for ch in self.channels:
            ch.clear()
        for port in self.ports:
            port.open = False
            port.state = MsgState.EMPTY

    # -- helpers --------------------------------------------------------------------------------

    def _mem(self, pid: int) -> GuestMemory:
        return self.sup.memory[pid]

    def _find_by_name(self, pid: int, raw: bytes) -> PortState | None:
        """The caller's own port whose name matches in its first 16 characters (D-33, D-62)."""
        for port in self.ports:
            if port.partition == pid and port.name.encode()[:NAME_LEN] == raw[:NAME_LEN]:
                return port
        return None

    def _read_name(self, mem: GuestMemory, addr: int) -> bytes | None:
        """A NUL-terminated guest name (16 significant characters), or None if NULL or unreadable."""
        if not mem.check_string(addr, NAME_LEN):
            return None
        out = bytearray()
        while len(out) < NAME_LEN and (b := mem.read(addr + len(out), 1)) != b"\0":
            out += b
        return bytes(out)

    def _port_by_id(self, port_id: int) -> PortState | None:
        return self.ports[port_id] if 0 <= port_id < len(self.ports) else None

    def _bitmap(self, port: PortState, on: bool) -> None:
        """Set or clear the port's bit in the comm-port bitmap of every vCPU of its partition."""
        words = self._words.get(port.id)
        if words is None:  # fixed by the configuration: computed once per port
            part = self.system.partitions[port.partition]
            words = self._words[port.id] = [comm_port_word(part, v, port.index) for v in range(part.no_vcpus)]
        set_comm_port_bits(self._mem(port.partition), words, on)

    def _notify(self, pid: int, irq: int) -> None:
        """Raise ext IRQ ``irq`` on every non-halted vCPU of ``pid`` (§5; coalescing is K-04)."""
        for v in self.sup.table[pid].vcpus:
            if not v.halted:
                self.sup.raise_ext((pid, v.vcpu), irq)

    def _count(self, pid: int, name: str) -> None:
        """One more successful port operation for the partition and the system (§11)."""
        c = self.sup.table[pid].counters
        setattr(c, name, getattr(c, name) + 1)
        c = self.sup.table.system
        setattr(c, name, getattr(c, name) + 1)

    def _op_port(
        self, key: VcpuKey, desc: Descriptor, kind: PortType, direction: PortDirection | None
    ) -> tuple[PortState | None, PrtosError]:
        """The leading checks of read/write/send/receive/status: desc partition, id, open, type, direction.

        Returns the port, or None with the error. (Read checks ``flags`` between the id and the
        open checks, so it calls the pieces itself.)
        """
        if desc.partition != key[0]:
            return None, PrtosError.PERM_ERROR
        port = self._port_by_id(desc.id)
        if port is None:
            return None, PrtosError.INVALID_PARAM
        return self._own_port(key, port, kind, direction)

    def _outgoing(
        self, key: VcpuKey, desc: Descriptor, kind: PortType, buf: int, size: int, logged: bytes | None = None
    ) -> tuple[Outcome, tuple[PortState, SamplingBuffer | QueuingFifo, bytes] | None]:
        """The checks a sampling write and a queuing send share, in their order, then the message.

        Returns ``(outcome, None)`` when the call ends here — an error, or success on a port with
        no channel (K-08) — else ``(_ok(), (port, channel, message bytes))``. ``logged``: the
        bytes of a send the partition process completed on credit (prtosd.credits); it checked
        the buffer and read it then, so guest memory is not read again.
        """
        port, err = self._op_port(key, desc, kind, PortDirection.SOURCE)
        if port is None:
            return _err(err), None
        if size == 0:
            return _err(PrtosError.INVALID_CONFIG), None
        ch = port.channel
        if ch is None:  # K-08
            return _ok(), None
        if size > ch.config.max_message_length:
            return _err(PrtosError.INVALID_CONFIG), None
        if logged is not None:
            return (_ok(), (port, ch, logged)) if len(logged) == size else (_err(PrtosError.INVALID_PARAM), None)
        mem = self._mem(key[0])
        if not mem.check(buf, size):
            return _err(PrtosError.INVALID_PARAM), None
        return _ok(), (port, ch, mem.read(buf, size))

    def _own_port(
        self, key: VcpuKey, port: PortState, kind: PortType, direction: PortDirection | None
    ) -> tuple[PortState | None, PrtosError]:
        if not port.open or port.partition != key[0]:
            return None, PrtosError.INVALID_PARAM
        if port.type is not kind:
            return None, PrtosError.INVALID_PARAM
        if direction is not None and port.direction is not direction:
            return None, PrtosError.INVALID_PARAM
        return port, PrtosError.OK

    # -- create (§6.2) --------------------------------------------------------------------------

    def create(self, key: VcpuKey, desc: Descriptor, kind: PortType, arg: int) -> Outcome:
        """ctrl PRTOS_COMM_CREATE_PORT; every check first, then open (D-35). Returns the port id."""
        mem = self._mem(key[0])
        size = SAMPLING_CREATE_SIZE if kind is PortType.SAMPLING else QUEUING_CREATE_SIZE
        if not mem.check(arg, size):
            return _err(PrtosError.INVALID_PARAM)
        if desc.partition != key[0]:
            return _err(PrtosError.PERM_ERROR)
        raw = mem.read(arg, size)
        name_addr = _u32(raw, 0)
        if kind is PortType.SAMPLING:
            max_msg_size, direction, valid_period = _u32(raw, 4), _u32(raw, 8), _s64(raw, 12)
            max_msgs = 0
        else:
            max_msgs, max_msg_size, direction = _u32(raw, 4), _u32(raw, 8), _u32(raw, 12)
            valid_period = 0
        name = self._read_name(mem, name_addr)
        if name is None:
            return _err(PrtosError.INVALID_PARAM)
        if direction not in (PortDirection.SOURCE, PortDirection.DESTINATION):
            return _err(PrtosError.INVALID_PARAM)
        port = self._find_by_name(key[0], name)
        if port is None:
            return _err(PrtosError.INVALID_PARAM)
        if port.type is not kind or port.direction != direction:
            return _err(PrtosError.INVALID_CONFIG)
        if port.open:
            return _err(PrtosError.NO_ACTION)
        ch = port.channel
        if isinstance(ch, SamplingBuffer) and (
            max_msg_size != ch.config.max_message_length or valid_period != ch.config.valid_period
        ):
            return _err(PrtosError.INVALID_CONFIG)
        if isinstance(ch, QueuingFifo) and (
            max_msgs != ch.config.max_no_messages or max_msg_size != ch.config.max_message_length
        ):
            return _err(PrtosError.INVALID_CONFIG)
        port.open = True
        port.state = MsgState.EMPTY
        return _ok(port.id)

    # -- sampling (§6.3) ------------------------------------------------------------------------

    def sampling_write(self, key: VcpuKey, desc: Descriptor, buf: int, size: int, now: int) -> Outcome:
        """prtos_write_sampling_message: overwrite the buffer, announce to open destinations."""
        early, message = self._outgoing(key, desc, PortType.SAMPLING, buf, size)
        if message is None:
            return early
        port, ch, data = message
        assert isinstance(ch, SamplingBuffer)
        ch.data, ch.written, ch.write_time = data, True, now
        for dst_id in ch.destinations:
            dst = self.ports[dst_id]
            if dst.open:  # D-61, K-07
                dst.state = MsgState.NEW
                self._bitmap(dst, True)
                self._notify(dst.partition, EXT_SAMPLING_PORT)
        self._bitmap(port, True)
        self._count(key[0], "sampling_written")
        return _ok()

    def sampling_read(self, key: VcpuKey, desc: Descriptor, buf: int, size: int, flags: int, now: int) -> Outcome:
        """prtos_read_sampling_message: copy the current message (it stays); returns bytes copied."""
        if desc.partition != key[0]:
            return _err(PrtosError.PERM_ERROR)
        port = self._port_by_id(desc.id)
        if port is None:
            return _err(PrtosError.INVALID_PARAM)
        mem = self._mem(key[0])
        if flags != 0 and not mem.check(flags, 4, write=True):
            return _err(PrtosError.INVALID_PARAM)
        port, err = self._own_port(key, port, PortType.SAMPLING, PortDirection.DESTINATION)
        if port is None:
            return _err(err)
        if size == 0:
            return _err(PrtosError.INVALID_CONFIG)
        ch = port.channel
        if ch is None:  # K-08: *flags untouched
            return _ok(0)
        assert isinstance(ch, SamplingBuffer)
        if size > ch.config.max_message_length:
            return _err(PrtosError.INVALID_CONFIG)
        if not mem.check(buf, size, write=True):
            return _err(PrtosError.INVALID_PARAM)
        data = ch.data[:size]
        if data:
            mem.write(buf, data)
        port.state = MsgState.CONSUMED
        self._bitmap(port, False)
        src = self.ports[ch.source] if ch.source is not None else None
        if src is not None and src.open:  # D-61
            self._bitmap(src, False)
            self._notify(src.partition, EXT_SAMPLING_PORT)
        if flags != 0:
            mem.write(flags, struct.pack("<I", COMM_MSG_VALID if ch.valid(now) else 0))
        self._count(key[0], "sampling_read")
        return _ok(len(data))

    def sampling_status(self, key: VcpuKey, desc: Descriptor, arg: int, now: int) -> Outcome:
        """ctrl PRTOS_COMM_GET_PORT_STATUS on a sampling port (no direction check)."""
        mem = self._mem(key[0])
        if not mem.check(arg, SAMPLING_STATUS_SIZE, write=True):
            return _err(PrtosError.INVALID_PARAM)
        port, err = self._op_port(key, desc, PortType.SAMPLING, None)
        if port is None:
            return _err(err)
        ch = port.channel
        if ch is None:
            mem.write(arg, bytes(SAMPLING_STATUS_SIZE))
            return _ok()
        assert isinstance(ch, SamplingBuffer)
        flags = {MsgState.NEW: COMM_NEW_MSG, MsgState.CONSUMED: COMM_CONSUMED_MSG}.get(port.state, COMM_EMPTY_PORT)
        if ch.valid(now):
            flags |= COMM_MSG_VALID
        mem.write(arg, struct.pack("<qII", ch.write_time, len(ch.data), flags))
        return _ok()

    def _info_port(self, key: VcpuKey, desc: Descriptor, kind: PortType, arg: int, size: int) -> PortState | PrtosError:
        """Common checks of the info calls: block, desc partition, name, lookup, type."""
        mem = self._mem(key[0])
        if not mem.check(arg, size, write=True):
            return PrtosError.INVALID_PARAM
        if desc.partition != key[0]:
            return PrtosError.PERM_ERROR
        name = self._read_name(mem, _u32(mem.read(arg, 4), 0))
        if name is None:
            return PrtosError.INVALID_PARAM
        port = self._find_by_name(key[0], name)
        if port is None or port.type is not kind:
            return PrtosError.INVALID_PARAM
        return port

    def sampling_info(self, key: VcpuKey, desc: Descriptor, arg: int) -> Outcome:
        """ctrl PRTOS_COMM_GET_PORT_INFO on class 3; the port need not be open."""
        port = self._info_port(key, desc, PortType.SAMPLING, arg, SAMPLING_INFO_SIZE)
        if isinstance(port, PrtosError):
            return _err(port)
        ch = port.channel
        if ch is None:
            fields = struct.pack("<qII", INFINITE_TIME, 0, 0)
        else:
            assert isinstance(ch, SamplingBuffer)
            fields = struct.pack("<qII", ch.config.valid_period, ch.config.max_message_length, int(port.direction))
        self._mem(key[0]).write(arg + 4, fields)
        return _ok()

    # -- queuing (§6.4) -------------------------------------------------------------------------

    def queuing_send(self, key: VcpuKey, desc: Descriptor, buf: int, size: int, logged: bytes | None = None) -> Outcome:
        """prtos_send_queuing_message: append, or OP_NOT_ALLOWED when the queue is full.

        ``logged``: the message of a send completed on credit (see :meth:`_outgoing`).
        """
        early, message = self._outgoing(key, desc, PortType.QUEUING, buf, size, logged)
        if message is None:
            return early
        port, ch, data = message
        assert isinstance(ch, QueuingFifo)
        if ch.full:
            return _err(PrtosError.OP_NOT_ALLOWED)
        ch.messages.append(data)
        dst = self.ports[ch.destination] if ch.destination is not None else None
        if dst is not None and dst.open:  # K-07: a closed receiver still gets the message, silently
            self._bitmap(dst, True)
            self._notify(dst.partition, EXT_QUEUING_PORT)
        self._bitmap(port, True)
        self._count(key[0], "queuing_sent")
        return _ok()

    def queuing_receive(self, key: VcpuKey, desc: Descriptor, buf: int, size: int, logged: bool = False) -> Outcome:
        """prtos_receive_queuing_message: remove the oldest message; returns bytes copied.

        ``logged``: a receive the partition process completed on credit (prtosd.credits); it
        checked the buffer and wrote the message itself, so guest memory is not touched here.
        """
        port, err = self._op_port(key, desc, PortType.QUEUING, PortDirection.DESTINATION)
        if port is None:
            return _err(err)
        if size == 0:
            return _err(PrtosError.INVALID_CONFIG)
        ch = port.channel
        if ch is None:  # K-08
            return _ok(0)
        assert isinstance(ch, QueuingFifo)
        if size > ch.config.max_message_length:
            return _err(PrtosError.INVALID_CONFIG)
        mem = self._mem(key[0])
        if not logged and not mem.check(buf, size, write=True):
            return _err(PrtosError.INVALID_PARAM)
        if not ch.messages:
            return _err(PrtosError.OP_NOT_ALLOWED)
        data = ch.messages.popleft()[:size]  # the rest of a longer message is lost
        if not logged:
            mem.write(buf, data)
        src = self.ports[ch.source] if ch.source is not None else None
        if src is not None and src.open:
            self._notify(src.partition, EXT_QUEUING_PORT)
        if not ch.messages:
            self._bitmap(port, False)
            if src is not None and src.open:  # D-61
                self._bitmap(src, False)
        self._count(key[0], "queuing_received")
        return _ok(len(data))

    def queuing_status(self, key: VcpuKey, desc: Descriptor, arg: int) -> Outcome:
        """ctrl PRTOS_COMM_GET_PORT_STATUS on class 4: only ``num_of_msgs`` is written (D-37)."""
        mem = self._mem(key[0])
        if not mem.check(arg, QUEUING_STATUS_SIZE, write=True):
            return _err(PrtosError.INVALID_PARAM)
        port, err = self._op_port(key, desc, PortType.QUEUING, None)
        if port is None:
            return _err(err)
        ch = port.channel
        n = len(ch.messages) if isinstance(ch, QueuingFifo) else 0
        mem.write(arg, struct.pack("<I", n))
        return _ok()

    def queuing_info(self, key: VcpuKey, desc: Descriptor, arg: int) -> Outcome:
        """ctrl PRTOS_COMM_GET_PORT_INFO on class 4; ``valid_period`` is not written."""
        port = self._info_port(key, desc, PortType.QUEUING, arg, QUEUING_INFO_SIZE)
        if isinstance(port, PrtosError):
            return _err(port)
        ch = port.channel
        if ch is None:
            fields = struct.pack("<III", 0, 0, 0)
        else:
            assert isinstance(ch, QueuingFifo)
            fields = struct.pack("<III", ch.config.max_message_length, ch.config.max_no_messages, int(port.direction))
        self._mem(key[0]).write(arg + 4, fields)
        return _ok()

    def ctrl(self, key: VcpuKey, desc: Descriptor, kind: PortType, cmd: int, arg: int, now: int) -> Outcome:
        """Dispatch a port ctrl command; an unknown command is INVALID_PARAM (§8.5)."""
        if cmd == COMM_CREATE_PORT:
            return self.create(key, desc, kind, arg)
        if cmd == COMM_GET_PORT_STATUS:
            if kind is PortType.SAMPLING:
                return self.sampling_status(key, desc, arg, now)
            return self.queuing_status(key, desc, arg)
        if cmd == COMM_GET_PORT_INFO:
            if kind is PortType.SAMPLING:
                return self.sampling_info(key, desc, arg)
            return self.queuing_info(key, desc, arg)
        return _err(PrtosError.INVALID_PARAM)

    # -- MEM copy (partition-api.md §8.6, semantics.md §8) --------------------------------------

    def _area_of(self, pid: int, addr: int, size: int) -> tuple[bool, bool]:
        """(inside one area of ``pid``, that area is writable) for the physical range."""
        for a in self.system.partitions[pid].areas:
            if a.start <= addr and addr + size <= a.start + a.size:
                return True, not a.flags & (AreaFlag.READ_ONLY | AreaFlag.ROM)
        return False, False

    def _unchecked_range(self, addr: int, size: int, *, write: bool) -> bool:
        """For id 0xFF: the range lies in one partition area (writable if written) or one MemoryBlock."""
        for part in self.system.partitions:
            inside, writable = self._area_of(part.id, addr, size)
            if inside and (writable or not write):
                return True
        return any(
            d.kind == "MemoryBlock" and d.start <= addr and addr + size <= d.start + d.size for d in self.system.devices
        )

    def _copy_side(self, pid: int, addr: int, size: int, *, write: bool) -> PrtosError | None:
        if pid == UNCHECKED_ID:
            return None if self._unchecked_range(addr, size, write=write) else PrtosError.INVALID_PARAM
        if pid >= len(self.system.partitions):
            return PrtosError.INVALID_PARAM
        inside, writable = self._area_of(pid, addr, size)
        if not inside or (write and not writable):
            return PrtosError.INVALID_PARAM
        return None

    def mem_copy(self, key: VcpuKey, cmd: int, arg: int) -> Outcome:
        """ctrl PRTOS_OBJ_MEM_CPY_AREA: copy by physical address; returns ``size``."""
        mem = self._mem(key[0])
        if not mem.check(arg, MEM_CMD_SIZE):
            return _err(PrtosError.INVALID_PARAM)
        if cmd != OBJ_MEM_CPY_AREA:
            return _err(PrtosError.INVALID_PARAM)
        raw = mem.read(arg, MEM_CMD_SIZE)
        dst_id, dst_addr, src_id, src_addr, size = struct.unpack("<IIIIi", raw)
        if size <= 0:
            return _ok(0)
        system_caller = self.sup.table[key[0]].is_system
        if dst_id != key[0] and not system_caller:
            return _err(PrtosError.PERM_ERROR)
        if src_id != key[0] and not system_caller:
            return _err(PrtosError.PERM_ERROR)
        for pid, addr, write in ((dst_id, dst_addr, True), (src_id, src_addr, False)):
            if (e := self._copy_side(pid, addr, size, write=write)) is not None:
                return _err(e)
        data = self.phys.read(src_addr, size)  # read whole first: overlapping ranges copy correctly
        self.phys.write(dst_addr, data)
        return _ok(size)


# -- object-directory entry points (partition-api.md §8.2; registered in prtosd.objdir) --------


def _ports(sup: Supervisor) -> CommPorts:
    return sup.ports


def sampling_read_op(sup: Supervisor, key: VcpuKey, desc: Descriptor, a: list[int], now: int) -> Outcome:
    return _ports(sup).sampling_read(key, desc, a[1], a[2], a[3], now)


def sampling_write_op(sup: Supervisor, key: VcpuKey, desc: Descriptor, a: list[int], now: int) -> Outcome:
    return _ports(sup).sampling_write(key, desc, a[1], a[2], now)


def sampling_ctrl_op(sup: Supervisor, key: VcpuKey, desc: Descriptor, a: list[int], now: int) -> Outcome:
    return _ports(sup).ctrl(key, desc, PortType.SAMPLING, a[1], a[2], now)


def queuing_read_op(sup: Supervisor, key: VcpuKey, desc: Descriptor, a: list[int], now: int) -> Outcome:
    return _ports(sup).queuing_receive(key, desc, a[1], a[2])


def queuing_write_op(sup: Supervisor, key: VcpuKey, desc: Descriptor, a: list[int], now: int) -> Outcome:
    return _ports(sup).queuing_send(key, desc, a[1], a[2])


def queuing_ctrl_op(sup: Supervisor, key: VcpuKey, desc: Descriptor, a: list[int], now: int) -> Outcome:
    return _ports(sup).ctrl(key, desc, PortType.QUEUING, a[1], a[2], now)


def mem_ctrl_op(sup: Supervisor, key: VcpuKey, desc: Descriptor, a: list[int], now: int) -> Outcome:
    return _ports(sup).mem_copy(key, a[1], a[2])


__all__ = [
    "INFINITE_TIME",
    "CommPorts",
    "MsgState",
    "PortState",
    "QueuingFifo",
    "RunDirPhysical",
    "SamplingBuffer",
    "mem_ctrl_op",
    "queuing_ctrl_op",
    "queuing_read_op",
    "queuing_write_op",
    "sampling_ctrl_op",
    "sampling_read_op",
    "sampling_write_op",
]
