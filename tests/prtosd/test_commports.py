"""Ports, channels, IPVI and MEM copy against the state classes, with a fake guest memory.

Every call goes through the object directory (hypercalls 11-14) or the hypercall table (23, 24)
exactly as the supervisor would make it, with a stand-in supervisor whose guest memory is a few
byte arrays with the permission rules of partition-api.md §1.2. Each test names the rule and the
return code it pins down (semantics.md §6-§8, decisions.md §4).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from partitiond.pct import MEM_MAP_SIZE, PCT_ADDR, PCT_SIZE, part_ctrl_table_size
from prtosd.commports import INFINITE_TIME, CommPorts, MsgState
from prtosd.config import System, load_system
from prtosd.hypercalls import HYPERCALLS
from prtosd.objdir import object_call
from prtosd.partition import ImageStatus, PartitionTable

OK, NO_ACTION, INVALID_PARAM, PERM_ERROR, INVALID_CONFIG, OP_NOT_ALLOWED = 0, -1, -3, -4, -5, -7
SAMPLING, QUEUING, MEM = 3, 4, 5
CREATE, STATUS, INFO = 0, 1, 2
SRC, DST = 2, 1
NEW, CONSUMED, VALID = 4, 2, 1

# Guest virtual layout of the fake memory (the same in every partition).
RW, RW_SIZE = 0x10000, 0x10000
RO, RO_SIZE = 0x30000, 0x1000
NAME, ARG, BUF, FLAGS = RW, RW + 0x100, RW + 0x200, RW + 0x300
UNMAPPED = 0x50000

SYSTEM_XML = """<?xml version="1.0"?>
<SystemDescription xmlns="http://www.prtos.org/prtos-1.x" version="1.0.0" name="ports">
<HwDescription><MemoryLayout><Region type="ram" start="0x0" size="512MB"/></MemoryLayout>
<ProcessorTable><Processor id="0"><CyclicPlanTable><Plan id="0" majorFrame="30ms">
<Slot id="0" start="0ms" duration="10ms" partitionId="0"/>
<Slot id="1" start="10ms" duration="10ms" partitionId="1"/>
<Slot id="2" start="20ms" duration="5ms" partitionId="2"/>
<Slot id="3" start="25ms" duration="5ms" partitionId="2" vCpuId="1"/>
</Plan></CyclicPlanTable></Processor></ProcessorTable>
<Devices><Uart id="0" baudRate="115200" name="Uart"/><MemoryBlock name="blk" start="0x2000000" size="64KB"/></Devices>
</HwDescription>
<PRTOSHypervisor console="Uart"><PhysicalMemoryArea size="4MB"/></PRTOSHypervisor>
<PartitionTable>
<Partition id="0" name="P0" flags="system" console="Uart">
  <PhysicalMemoryAreas><Area start="0x6000000" size="1MB"/></PhysicalMemoryAreas>
  <PortTable>
    <Port name="sS" direction="source" type="sampling"/>
    <Port name="qS" direction="source" type="queuing"/>
    <Port name="loose" direction="source" type="sampling"/>
    <Port name="selfS" direction="source" type="sampling"/>
    <Port name="selfD" direction="destination" type="sampling"/>
    <Port name="looseQ" direction="destination" type="queuing"/>
  </PortTable>
</Partition>
<Partition id="1" name="P1" console="Uart">
  <PhysicalMemoryAreas><Area start="0x6100000" size="1MB"/><Area start="0x6400000" size="4KB" flags="read-only"/></PhysicalMemoryAreas>
  <PortTable>
    <Port name="qD" direction="destination" type="queuing"/>
    <Port name="sD" direction="destination" type="sampling"/>
  </PortTable>
</Partition>
<Partition id="2" name="P2" console="Uart" noVCpus="2">
  <PhysicalMemoryAreas><Area start="0x6200000" size="1MB"/></PhysicalMemoryAreas>
  <PortTable>
    <Port name="long_port_name_123456" direction="destination" type="sampling"/>
    <Port name="looseD" direction="destination" type="sampling"/>
  </PortTable>
</Partition>
</PartitionTable>
<Channels>
  <SamplingChannel maxMessageLength="16B" validPeriod="1ms">
    <Source partitionId="0" portName="sS"/>
    <Destination partitionId="1" portName="sD"/>
    <Destination partitionId="2" portName="long_port_name_123456"/>
  </SamplingChannel>
  <QueuingChannel maxNoMessages="2" maxMessageLength="8B">
    <Source partitionId="0" portName="qS"/>
    <Destination partitionId="1" portName="qD"/>
  </QueuingChannel>
  <SamplingChannel maxMessageLength="4B">
    <Source partitionId="0" portName="selfS"/>
    <Destination partitionId="0" portName="selfD"/>
  </SamplingChannel>
  <Ipvi id="0" sourceId="0" destinationId="1 2"/>
  <Ipvi id="3" sourceId="1" destinationId="0"/>
</Channels>
</SystemDescription>
"""

# Global port ids (config.md §5).
S_S, Q_S, LOOSE, SELF_S, SELF_D, LOOSE_Q, Q_D, S_D, S_D2, LOOSE_D = range(10)
NO_PORT = 10


class FakeMemory:
    """A partition address space: one writable and one read-only area, plus the read-only PCT."""

    def __init__(self, pct_size: int) -> None:
        self.regions: list[tuple[int, bytearray, bool]] = [
            (RW, bytearray(RW_SIZE), True),
            (RO, bytearray(RO_SIZE), False),
            (PCT_ADDR, bytearray(pct_size), False),
        ]

    def _find(self, addr: int) -> tuple[int, bytearray, bool] | None:
        return next((r for r in self.regions if r[0] <= addr < r[0] + len(r[1])), None)

    def check(self, addr: int, length: int, *, write: bool = False, allow_null: bool = False) -> bool:
        if (addr == 0 and not allow_null) or addr + length > 0xFC000000:
            return False
        for a in range(addr, addr + length):
            r = self._find(a)
            if r is None or (write and not r[2]):
                return False
        return True

    def check_string(self, addr: int, max_len: int = 16) -> bool:
        for i in range(max_len):
            if not self.check(addr + i, 1):
                return False
            if self.read(addr + i, 1) == b"\0":
                return True
        return True

    def read(self, addr: int, length: int) -> bytes:
        r = self._find(addr)
        assert r is not None and addr + length <= r[0] + len(r[1])
        return bytes(r[1][addr - r[0] : addr - r[0] + length])

    def write(self, addr: int, data: bytes) -> None:  # host-side: ignores guest permissions
        r = self._find(addr)
        assert r is not None and addr + len(data) <= r[0] + len(r[1])
        r[1][addr - r[0] : addr - r[0] + len(data)] = data


class FakePhysical:
    """Physical memory as a sparse byte map."""

    def __init__(self) -> None:
        self.bytes: dict[int, int] = {}

    def read(self, addr: int, length: int) -> bytes:
        return bytes(self.bytes.get(addr + i, 0) for i in range(length))

    def write(self, addr: int, data: bytes) -> None:
        for i, b in enumerate(data):
            self.bytes[addr + i] = b


@dataclass
class FakeSup:
    """The parts of the supervisor the port code uses."""

    system: System
    run_dir: Path
    memory: dict[int, FakeMemory] = field(default_factory=dict)
    raised: list[tuple[tuple[int, int], int]] = field(default_factory=list)
    pending_ext: dict[tuple[int, int], int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.table = PartitionTable.from_system(self.system, {p.id: ImageStatus.OK for p in self.system.partitions})
        self.table.boot()
        for p in self.system.partitions:  # every vCPU running (a boot starts only vCPU 0)
            for v in self.table[p.id].vcpus:
                v.halted = False
            self.memory[p.id] = FakeMemory(part_ctrl_table_size(p) * p.no_vcpus)
        self.phys = FakePhysical()
        self.ports = CommPorts(self, phys=self.phys)

    def raise_ext(self, key: tuple[int, int], n: int) -> None:
        self.raised.append((key, n))
        self.pending_ext[key] = self.pending_ext.get(key, 0) | 1 << n

    # -- test helpers -----------------------------------------------------------------------

    def call(self, pid: int, op: str, klass: int, port: int, *args: int, now: int = 0, desc_pid: int | None = None):
        part = pid if desc_pid is None else desc_pid
        desc = (klass << 24) | (part << 10) | port
        words = [desc, *args, 0, 0, 0][:4]
        return object_call(self, (pid, 0), op, words, now).result  # type: ignore[arg-type]

    def put(self, pid: int, addr: int, data: bytes) -> None:
        self.memory[pid].write(addr, data)

    def get(self, pid: int, addr: int, n: int) -> bytes:
        return self.memory[pid].read(addr, n)

    def create_s(self, pid: int, name: str, size: int = 16, direction: int = SRC, period: int = 1000, **kw) -> int:
        self.put(pid, NAME, name.encode() + b"\0")
        self.put(pid, ARG, struct.pack("<IIIq", NAME, size, direction, period))
        return self.call(pid, "ctrl", SAMPLING, 0, CREATE, ARG, **kw)

    def create_q(self, pid: int, name: str, n: int = 2, size: int = 8, direction: int = SRC, **kw) -> int:
        self.put(pid, NAME, name.encode() + b"\0")
        self.put(pid, ARG, struct.pack("<IIII", NAME, n, size, direction))
        return self.call(pid, "ctrl", QUEUING, 0, CREATE, ARG, **kw)

    def write_s(self, pid: int, port: int, data: bytes, now: int = 0) -> int:
        self.put(pid, BUF, data)
        return self.call(pid, "write", SAMPLING, port, BUF, len(data), now=now)

    def read_s(self, pid: int, port: int, size: int = 16, flags: int = FLAGS, now: int = 0) -> int:
        return self.call(pid, "read", SAMPLING, port, BUF, size, flags, now=now)

    def send(self, pid: int, port: int, data: bytes) -> int:
        self.put(pid, BUF, data)
        return self.call(pid, "write", QUEUING, port, BUF, len(data))

    def receive(self, pid: int, port: int, size: int = 8) -> int:
        return self.call(pid, "read", QUEUING, port, BUF, size)

    def s_status(self, pid: int, port: int, now: int = 0) -> tuple[int, int, int, int]:
        rc = self.call(pid, "ctrl", SAMPLING, port, STATUS, ARG, now=now)
        return (rc, *struct.unpack("<qII", self.get(pid, ARG, 16)))

    def q_status(self, pid: int, port: int) -> tuple[int, int]:
        rc = self.call(pid, "ctrl", QUEUING, port, STATUS, ARG)
        return rc, struct.unpack("<I", self.get(pid, ARG, 4))[0]

    def bitmap(self, pid: int, vcpu: int = 0) -> int:
        part = self.system.partitions[pid]
        addr = PCT_ADDR + vcpu * part_ctrl_table_size(part) + PCT_SIZE + MEM_MAP_SIZE * len(part.areas)
        return struct.unpack("<I", self.get(pid, addr, 4))[0]

    def irqs(self) -> list[tuple[tuple[int, int], int]]:
        out, self.raised = self.raised, []
        return out

    def hcall(self, pid: int, nr: int, *args: int) -> int:
        return HYPERCALLS[nr](self, (pid, 0), list(args), 0).result  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory) -> System:
    path = tmp_path_factory.mktemp("cfg") / "system.xml"
    path.write_text(SYSTEM_XML)
    return load_system(path)


@pytest.fixture
def sup(system: System, tmp_path: Path) -> FakeSup:
    return FakeSup(system, tmp_path)


def open_all(s: FakeSup) -> None:
    assert s.create_s(0, "sS") == S_S
    assert s.create_q(0, "qS") == Q_S
    assert s.create_q(1, "qD", direction=DST) == Q_D
    assert s.create_s(1, "sD", direction=DST) == S_D
    assert s.create_s(2, "long_port_name_123456", direction=DST) == S_D2
    s.irqs()


# -- port ids and create (§6.1, §6.2) ------------------------------------------------------------


def test_port_ids_are_global_indices(sup: FakeSup) -> None:
    assert [(p.partition, p.index, p.name) for p in sup.ports.ports][:3] == [
        (0, 0, "sS"),
        (0, 1, "qS"),
        (0, 2, "loose"),
    ]
    assert sup.ports.ports[Q_D].partition == 1 and sup.ports.ports[Q_D].index == 0
    assert sup.ports.ports[S_D2].partition == 2


def test_create_returns_port_id_and_opens(sup: FakeSup) -> None:
    assert sup.create_s(1, "sD", direction=DST) == S_D
    assert sup.ports.ports[S_D].open and sup.ports.ports[S_D].state is MsgState.EMPTY
    assert sup.create_q(1, "qD", direction=DST) == Q_D


def test_create_argument_block_checked_before_descriptor(sup: FakeSup) -> None:
    assert sup.call(0, "ctrl", SAMPLING, 0, CREATE, UNMAPPED, desc_pid=1) == INVALID_PARAM
    assert sup.call(0, "ctrl", SAMPLING, 0, CREATE, 0) == INVALID_PARAM
    # 20 bytes for sampling, 16 for queuing: a block ending 16 bytes before the end of the area
    end = RW + RW_SIZE - 16
    sup.put(0, NAME, b"qS\0")
    sup.put(0, end, struct.pack("<IIII", NAME, 2, 8, SRC))
    assert sup.call(0, "ctrl", QUEUING, 0, CREATE, end) == Q_S
    sup.put(0, NAME, b"sS\0")
    assert sup.call(0, "ctrl", SAMPLING, 0, CREATE, end) == INVALID_PARAM


def test_create_descriptor_partition_must_be_caller(sup: FakeSup) -> None:
    assert sup.create_s(0, "sS", desc_pid=1) == PERM_ERROR
    assert sup.create_q(0, "qS", desc_pid=0xFF) == PERM_ERROR


def test_create_name_null_or_unreadable(sup: FakeSup) -> None:
    sup.put(0, ARG, struct.pack("<IIIq", 0, 16, SRC, 1000))
    assert sup.call(0, "ctrl", SAMPLING, 0, CREATE, ARG) == INVALID_PARAM
    sup.put(0, ARG, struct.pack("<IIIq", UNMAPPED, 16, SRC, 1000))
    assert sup.call(0, "ctrl", SAMPLING, 0, CREATE, ARG) == INVALID_PARAM
    # a name running into unmapped memory within its 16 significant bytes
    edge = RW + RW_SIZE - 3
    sup.put(0, edge, b"sSx")
    sup.put(0, ARG, struct.pack("<IIIq", edge, 16, SRC, 1000))
    assert sup.call(0, "ctrl", SAMPLING, 0, CREATE, ARG) == INVALID_PARAM


def test_create_direction_checked_before_name_lookup(sup: FakeSup) -> None:
    assert sup.create_s(0, "nosuch", direction=3) == INVALID_PARAM
    assert sup.create_s(0, "sS", direction=0) == INVALID_PARAM
    assert sup.create_s(0, "nosuch") == INVALID_PARAM


def test_create_only_own_port_table(sup: FakeSup) -> None:
    assert sup.create_s(0, "sD", direction=DST) == INVALID_PARAM  # P1's port (D-33)


def test_create_name_compares_sixteen_characters(sup: FakeSup) -> None:
    assert sup.create_s(2, "long_port_name_1XYZ", direction=DST) == S_D2
    assert sup.create_s(2, "long_port_name_", direction=DST) == INVALID_PARAM


def test_create_type_then_direction_mismatch_is_invalid_config(sup: FakeSup) -> None:
    assert sup.create_q(0, "sS") == INVALID_CONFIG  # a sampling port created as queuing
    assert sup.create_s(0, "sS", direction=DST) == INVALID_CONFIG
    assert sup.create_q(1, "qD", direction=SRC) == INVALID_CONFIG


def test_create_already_open_before_size_checks(sup: FakeSup) -> None:
    assert sup.create_s(0, "sS") == S_S
    assert sup.create_s(0, "sS") == NO_ACTION
    assert sup.create_s(0, "sS", size=3) == NO_ACTION


def test_create_channel_parameters(sup: FakeSup) -> None:
    assert sup.create_s(0, "sS", size=15) == INVALID_CONFIG
    assert sup.create_s(0, "sS", period=0) == INVALID_CONFIG
    assert sup.create_s(0, "selfS", size=4, period=1) == INVALID_CONFIG  # XML default validPeriod 0
    assert sup.create_s(0, "selfS", size=4, period=0) == SELF_S
    assert sup.create_q(0, "qS", n=3) == INVALID_CONFIG
    assert sup.create_q(0, "qS", size=9) == INVALID_CONFIG


def test_failed_create_opens_nothing(sup: FakeSup) -> None:
    assert sup.create_q(1, "qD", n=5, direction=DST) == INVALID_CONFIG  # D-35
    assert not sup.ports.ports[Q_D].open
    assert sup.q_status(1, Q_D)[0] == INVALID_PARAM


def test_create_port_without_channel_any_sizes(sup: FakeSup) -> None:
    assert sup.create_s(0, "loose", size=1234, period=7) == LOOSE  # K-08: nothing to compare
    assert sup.create_q(0, "looseQ", n=9, size=99, direction=DST) == LOOSE_Q


# -- sampling write/read (§6.3) -------------------------------------------------------------------


def test_sampling_write_checks_in_order(sup: FakeSup) -> None:
    open_all(sup)
    assert sup.call(0, "write", SAMPLING, S_S, BUF, 4, desc_pid=1) == PERM_ERROR
    assert sup.call(0, "write", SAMPLING, NO_PORT, BUF, 4) == INVALID_PARAM  # D-33
    assert sup.call(0, "write", SAMPLING, 0x3FF, BUF, 4) == INVALID_PARAM
    assert sup.call(0, "write", SAMPLING, S_D, BUF, 4) == INVALID_PARAM  # not the caller's
    assert sup.call(0, "write", SAMPLING, SELF_S, BUF, 4) == INVALID_PARAM  # not open
    assert sup.call(0, "write", SAMPLING, Q_S, BUF, 4) == INVALID_PARAM  # not a sampling port
    assert sup.create_s(0, "selfD", size=4, period=0, direction=DST) == SELF_D
    assert sup.call(0, "write", SAMPLING, SELF_D, BUF, 4) == INVALID_PARAM  # not a source
    assert sup.call(0, "write", SAMPLING, S_S, BUF, 0) == INVALID_CONFIG
    assert sup.call(0, "write", SAMPLING, S_S, BUF, 17) == INVALID_CONFIG
    assert sup.call(0, "write", SAMPLING, S_S, 0, 16) == INVALID_PARAM
    assert sup.call(0, "write", SAMPLING, S_S, RW + RW_SIZE - 8, 16) == INVALID_PARAM
    assert sup.call(0, "write", SAMPLING, S_S, RO, 16) == OK  # a read-only buffer is readable
    assert sup.table.system.sampling_written == 1


def test_sampling_write_without_channel_does_nothing(sup: FakeSup) -> None:
    assert sup.create_s(0, "loose") == LOOSE
    assert sup.call(0, "write", SAMPLING, LOOSE, 0, 100000) == OK  # K-08: before size/buffer checks
    assert sup.call(0, "write", SAMPLING, LOOSE, BUF, 0) == INVALID_CONFIG
    assert sup.table.system.sampling_written == 0 and sup.bitmap(0) == 0 and sup.irqs() == []


def test_sampling_write_notifies_open_destinations(sup: FakeSup) -> None:
    open_all(sup)
    assert sup.write_s(0, S_S, b"hello", now=100) == OK
    assert sup.irqs() == [((1, 0), 4), ((2, 0), 4), ((2, 1), 4)]
    assert sup.bitmap(1) == 1 << 1  # sD is P1's port index 1 (D-34)
    assert sup.bitmap(2, 0) == 1 and sup.bitmap(2, 1) == 1  # every vCPU
    assert sup.bitmap(0) == 1 << 0  # the writer's own bit
    assert sup.ports.ports[S_D].state is MsgState.NEW
    c = sup.table[0].counters
    assert (c.sampling_written, sup.table.system.sampling_written) == (1, 1)


def test_sampling_write_before_receiver_opened_is_kept_silently(sup: FakeSup) -> None:
    assert sup.create_s(0, "sS") == S_S
    assert sup.write_s(0, S_S, b"early", now=10) == OK
    assert sup.irqs() == [] and sup.bitmap(1) == 0  # K-07, D-61
    assert sup.create_s(1, "sD", direction=DST) == S_D
    assert sup.s_status(1, S_D, now=20) == (OK, 10, 5, VALID)  # EMPTY state, message present
    assert sup.read_s(1, S_D, now=20) == 5
    assert sup.get(1, BUF, 5) == b"early"


def test_sampling_halted_vcpu_gets_no_interrupt(sup: FakeSup) -> None:
    open_all(sup)
    sup.table[2].vcpus[1].halted = True
    sup.write_s(0, S_S, b"x")
    assert ((2, 1), 4) not in sup.irqs()
    assert sup.bitmap(2, 1) == 1  # the bitmap is in every vCPU's PCT


def test_sampling_overwrite_and_reread(sup: FakeSup) -> None:
    open_all(sup)
    sup.write_s(0, S_S, b"first message")
    sup.write_s(0, S_S, b"second")
    assert sup.read_s(1, S_D) == 6 and sup.get(1, BUF, 6) == b"second"
    assert sup.read_s(1, S_D) == 6  # the message stays
    assert sup.read_s(1, S_D, size=3) == 3
    assert sup.table.system.sampling_read == 3 and sup.table[1].counters.sampling_read == 3


def test_sampling_read_of_never_written_channel(sup: FakeSup) -> None:
    open_all(sup)
    sup.put(1, FLAGS, b"\xff\xff\xff\xff")
    assert sup.read_s(1, S_D) == 0
    assert sup.get(1, FLAGS, 4) == bytes(4)
    assert sup.ports.ports[S_D].state is MsgState.CONSUMED


def test_sampling_read_checks_in_order(sup: FakeSup) -> None:
    open_all(sup)
    sup.write_s(0, S_S, b"abc")
    assert sup.call(1, "read", SAMPLING, S_D, BUF, 16, FLAGS, desc_pid=0) == PERM_ERROR
    assert sup.call(1, "read", SAMPLING, 42, BUF, 16, RO) == INVALID_PARAM
    assert sup.call(1, "read", SAMPLING, S_S, BUF, 16, RO) == INVALID_PARAM  # flags before ownership
    assert sup.call(1, "read", SAMPLING, S_S, BUF, 16, UNMAPPED) == INVALID_PARAM
    assert sup.call(1, "read", SAMPLING, S_S, BUF, 16, FLAGS) == INVALID_PARAM  # not the caller's
    assert sup.call(1, "read", SAMPLING, Q_D, BUF, 16, 0) == INVALID_PARAM  # not sampling
    assert sup.call(0, "read", SAMPLING, S_S, BUF, 16, 0) == INVALID_PARAM  # not a destination
    assert sup.call(1, "read", SAMPLING, S_D, BUF, 0, 0) == INVALID_CONFIG
    assert sup.call(1, "read", SAMPLING, S_D, BUF, 17, 0) == INVALID_CONFIG
    assert sup.call(1, "read", SAMPLING, S_D, RO, 16, 0) == INVALID_PARAM  # msg not writable
    assert sup.call(1, "read", SAMPLING, S_D, BUF, 16, 0) == 3  # flags may be NULL
    assert sup.table.system.sampling_read == 1


def test_sampling_read_without_channel_leaves_flags(sup: FakeSup) -> None:
    assert sup.create_s(2, "looseD", size=1, period=1, direction=DST) == LOOSE_D
    sup.put(2, FLAGS, b"\x07\0\0\0")
    assert sup.call(2, "read", SAMPLING, LOOSE_D, BUF, 99, FLAGS) == 0  # K-08: before size checks
    assert sup.call(2, "read", SAMPLING, LOOSE_D, BUF, 0, FLAGS) == INVALID_CONFIG
    assert sup.get(2, FLAGS, 4) == b"\x07\0\0\0"
    assert sup.table.system.sampling_read == 0
    assert sup.ports.ports[LOOSE_D].state is MsgState.EMPTY
    assert sup.s_status(2, LOOSE_D) == (OK, 0, 0, 0)


def test_sampling_read_clears_bits_and_notifies_source(sup: FakeSup) -> None:
    open_all(sup)
    sup.write_s(0, S_S, b"abc")
    sup.irqs()
    assert sup.read_s(1, S_D) == 3
    assert sup.bitmap(1) == 0 and sup.bitmap(0) == 0
    assert sup.irqs() == [((0, 0), 4)]
    assert sup.bitmap(2, 0) == 1  # the other destination keeps its bit


def test_sampling_read_with_closed_source(sup: FakeSup) -> None:
    open_all(sup)
    sup.write_s(0, S_S, b"abc")
    sup.irqs()
    sup.ports.reset_partition(0)
    assert sup.read_s(1, S_D) == 3
    assert sup.irqs() == [] and sup.bitmap(0) == 1  # D-61: the closed source is left alone


def test_sampling_validity(sup: FakeSup) -> None:
    open_all(sup)
    sup.write_s(0, S_S, b"abc", now=1000)
    assert sup.read_s(1, S_D, now=1999) == 3 and sup.get(1, FLAGS, 4) == struct.pack("<I", VALID)
    assert sup.read_s(1, S_D, now=2000) == 3 and sup.get(1, FLAGS, 4) == bytes(4)  # age == validPeriod


def test_sampling_validity_period_zero_is_always_valid(sup: FakeSup) -> None:
    assert sup.create_s(0, "selfS", size=4, period=0) == SELF_S
    assert sup.create_s(0, "selfD", size=4, period=0, direction=DST) == SELF_D
    assert sup.write_s(0, SELF_S, b"me", now=5) == OK  # K-14: a channel within one partition
    assert sup.irqs() == [((0, 0), 4)]
    assert sup.bitmap(0) == (1 << 3) | (1 << 4)
    assert sup.read_s(0, SELF_D, size=4, now=10**9) == 2 and sup.get(0, FLAGS, 4) == struct.pack("<I", VALID)  # D-32
    assert sup.bitmap(0) == 0


# -- sampling status and info ---------------------------------------------------------------------


def test_sampling_status_flags(sup: FakeSup) -> None:
    open_all(sup)
    assert sup.s_status(1, S_D) == (OK, 0, 0, 0)  # EMPTY, nothing written
    sup.write_s(0, S_S, b"abcd", now=300)
    assert sup.s_status(1, S_D, now=400) == (OK, 300, 4, NEW | VALID)
    sup.read_s(1, S_D)
    assert sup.s_status(1, S_D, now=400) == (OK, 300, 4, CONSUMED | VALID)
    assert sup.s_status(1, S_D, now=1300) == (OK, 300, 4, CONSUMED)
    assert sup.s_status(0, S_S, now=400) == (OK, 300, 4, VALID)  # no direction check; source stays EMPTY


def test_sampling_status_checks(sup: FakeSup) -> None:
    open_all(sup)
    assert sup.call(1, "ctrl", SAMPLING, S_D, STATUS, RO, desc_pid=0) == INVALID_PARAM  # block first
    assert sup.call(1, "ctrl", SAMPLING, S_D, STATUS, ARG, desc_pid=0) == PERM_ERROR
    assert sup.call(1, "ctrl", SAMPLING, 100, STATUS, ARG) == INVALID_PARAM
    assert sup.call(1, "ctrl", SAMPLING, S_S, STATUS, ARG) == INVALID_PARAM
    assert sup.call(1, "ctrl", SAMPLING, Q_D, STATUS, ARG) == INVALID_PARAM
    assert sup.call(1, "ctrl", SAMPLING, S_D, 3, ARG) == INVALID_PARAM  # unknown command


def test_sampling_status_without_channel_is_zero(sup: FakeSup) -> None:
    assert sup.create_s(0, "loose") == LOOSE
    sup.put(0, ARG, b"\xaa" * 16)
    assert sup.s_status(0, LOOSE) == (OK, 0, 0, 0)


def test_sampling_info(sup: FakeSup) -> None:
    sup.put(1, NAME, b"sD\0")
    sup.put(1, ARG, struct.pack("<I", NAME) + b"\xaa" * 16)
    assert sup.call(1, "ctrl", SAMPLING, 0, INFO, ARG) == OK  # need not be open
    assert struct.unpack("<IqII", sup.get(1, ARG, 20)) == (NAME, 1000, 16, DST)
    sup.put(0, NAME, b"loose\0")
    sup.put(0, ARG, struct.pack("<I", NAME))
    assert sup.call(0, "ctrl", SAMPLING, 0, INFO, ARG) == OK
    assert struct.unpack("<IqII", sup.get(0, ARG, 20)) == (NAME, INFINITE_TIME, 0, 0)


def test_sampling_info_checks(sup: FakeSup) -> None:
    sup.put(1, NAME, b"sD\0")
    sup.put(1, ARG, struct.pack("<I", NAME))
    assert sup.call(1, "ctrl", SAMPLING, 0, INFO, RO, desc_pid=0) == INVALID_PARAM
    assert sup.call(1, "ctrl", SAMPLING, 0, INFO, RW + RW_SIZE - 16) == INVALID_PARAM  # 20 bytes
    assert sup.call(1, "ctrl", SAMPLING, 0, INFO, ARG, desc_pid=0) == PERM_ERROR
    sup.put(1, ARG, struct.pack("<I", 0))
    assert sup.call(1, "ctrl", SAMPLING, 0, INFO, ARG) == INVALID_PARAM
    sup.put(1, NAME, b"qD\0")
    sup.put(1, ARG, struct.pack("<I", NAME))
    assert sup.call(1, "ctrl", SAMPLING, 0, INFO, ARG) == INVALID_PARAM  # a queuing port
    sup.put(1, NAME, b"sS\0")
    assert sup.call(1, "ctrl", SAMPLING, 0, INFO, ARG) == INVALID_PARAM  # another partition's
    sup.put(2, NAME, b"long_port_name_1XYZ\0")
    sup.put(2, ARG, struct.pack("<I", NAME))
    assert sup.call(2, "ctrl", SAMPLING, 0, INFO, ARG) == OK  # 16 characters (D-62)


# -- queuing (§6.4) -------------------------------------------------------------------------------


def test_queuing_fifo_full_and_empty(sup: FakeSup) -> None:
    open_all(sup)
    assert sup.send(0, Q_S, b"one") == OK
    assert sup.send(0, Q_S, b"two22") == OK
    assert sup.send(0, Q_S, b"three") == OP_NOT_ALLOWED
    assert sup.q_status(1, Q_D) == (OK, 2) and sup.q_status(0, Q_S) == (OK, 2)
    assert sup.receive(1, Q_D) == 3 and sup.get(1, BUF, 3) == b"one"
    assert sup.receive(1, Q_D, size=2) == 2 and sup.get(1, BUF, 3) == b"twe"  # the rest is lost
    assert sup.receive(1, Q_D) == OP_NOT_ALLOWED
    t = sup.table
    assert (t.system.queuing_sent, t.system.queuing_received) == (2, 2)
    assert (t[0].counters.queuing_sent, t[1].counters.queuing_received) == (2, 2)


def test_queuing_notifications_and_bitmap(sup: FakeSup) -> None:
    open_all(sup)
    sup.send(0, Q_S, b"a")
    assert sup.irqs() == [((1, 0), 5)]
    assert sup.bitmap(1) == 1 and sup.bitmap(0) == 1 << 1
    sup.send(0, Q_S, b"b")
    sup.irqs()
    assert sup.receive(1, Q_D) == 1
    assert sup.irqs() == [((0, 0), 5)]
    assert sup.bitmap(1) == 1 and sup.bitmap(0) == 1 << 1  # not empty yet
    assert sup.receive(1, Q_D) == 1
    assert sup.bitmap(1) == 0 and sup.bitmap(0) == 0


def test_queuing_send_before_receiver_opened(sup: FakeSup) -> None:
    assert sup.create_q(0, "qS") == Q_S
    assert sup.send(0, Q_S, b"early") == OK
    assert sup.irqs() == [] and sup.bitmap(1) == 0  # K-07
    assert sup.bitmap(0) == 1 << 1
    assert sup.create_q(1, "qD", direction=DST) == Q_D
    assert sup.q_status(1, Q_D) == (OK, 1)
    assert sup.receive(1, Q_D) == 5


def test_queuing_send_checks_in_order(sup: FakeSup) -> None:
    open_all(sup)
    assert sup.call(0, "write", QUEUING, Q_S, BUF, 4, desc_pid=2) == PERM_ERROR
    assert sup.call(0, "write", QUEUING, NO_PORT, BUF, 4) == INVALID_PARAM
    assert sup.call(0, "write", QUEUING, Q_D, BUF, 4) == INVALID_PARAM
    assert sup.call(0, "write", QUEUING, S_S, BUF, 4) == INVALID_PARAM
    assert sup.create_q(0, "looseQ", direction=DST) == LOOSE_Q
    assert sup.call(0, "write", QUEUING, LOOSE_Q, BUF, 4) == INVALID_PARAM  # a destination
    assert sup.call(0, "write", QUEUING, Q_S, BUF, 0) == INVALID_CONFIG
    assert sup.call(0, "write", QUEUING, Q_S, BUF, 9) == INVALID_CONFIG
    assert sup.call(0, "write", QUEUING, Q_S, UNMAPPED, 8) == INVALID_PARAM
    sup.send(0, Q_S, b"1")
    sup.send(0, Q_S, b"2")
    assert sup.call(0, "write", QUEUING, Q_S, UNMAPPED, 8) == INVALID_PARAM  # buffer before "full"
    assert sup.call(0, "write", QUEUING, Q_S, BUF, 8) == OP_NOT_ALLOWED


def test_queuing_receive_checks_in_order(sup: FakeSup) -> None:
    open_all(sup)
    assert sup.call(1, "read", QUEUING, Q_D, BUF, 8, desc_pid=0) == PERM_ERROR
    assert sup.call(1, "read", QUEUING, NO_PORT, BUF, 8) == INVALID_PARAM
    assert sup.call(1, "read", QUEUING, Q_S, BUF, 8) == INVALID_PARAM
    assert sup.call(1, "read", QUEUING, S_D, BUF, 8) == INVALID_PARAM
    assert sup.call(0, "read", QUEUING, Q_S, BUF, 8) == INVALID_PARAM  # a source
    assert sup.call(1, "read", QUEUING, Q_D, BUF, 0) == INVALID_CONFIG
    assert sup.call(1, "read", QUEUING, Q_D, BUF, 9) == INVALID_CONFIG
    assert sup.call(1, "read", QUEUING, Q_D, RO, 8) == INVALID_PARAM
    assert sup.call(1, "read", QUEUING, Q_D, BUF, 8) == OP_NOT_ALLOWED


def test_queuing_without_channel(sup: FakeSup) -> None:
    assert sup.create_q(0, "looseQ", direction=DST) == LOOSE_Q
    assert sup.call(0, "read", QUEUING, LOOSE_Q, 0, 1000) == 0  # K-08
    sup.put(0, ARG, b"\xaa" * 8)
    assert sup.q_status(0, LOOSE_Q) == (OK, 0)
    assert sup.get(0, ARG + 4, 4) == b"\xaa" * 4  # only num_of_msgs written (D-37)
    assert sup.table.system.queuing_received == 0


def test_queuing_status_checks(sup: FakeSup) -> None:
    open_all(sup)
    assert sup.call(1, "ctrl", QUEUING, Q_D, STATUS, RO, desc_pid=0) == INVALID_PARAM
    assert sup.call(1, "ctrl", QUEUING, Q_D, STATUS, RW + RW_SIZE - 4) == OK  # exactly 4 bytes
    assert sup.call(1, "ctrl", QUEUING, Q_D, STATUS, ARG, desc_pid=0) == PERM_ERROR
    assert sup.call(1, "ctrl", QUEUING, 77, STATUS, ARG) == INVALID_PARAM
    assert sup.call(1, "ctrl", QUEUING, Q_S, STATUS, ARG) == INVALID_PARAM
    assert sup.call(1, "ctrl", QUEUING, S_D, STATUS, ARG) == INVALID_PARAM


def test_queuing_info(sup: FakeSup) -> None:
    sup.put(0, NAME, b"qS\0")
    sup.put(0, ARG, struct.pack("<I", NAME) + b"\xbb" * 20)
    assert sup.call(0, "ctrl", QUEUING, 0, INFO, ARG) == OK
    assert struct.unpack("<IIII", sup.get(0, ARG, 16)) == (NAME, 8, 2, SRC)
    assert sup.get(0, ARG + 16, 8) == b"\xbb" * 8  # valid_period not written
    sup.put(0, NAME, b"looseQ\0")
    assert sup.call(0, "ctrl", QUEUING, 0, INFO, ARG) == OK
    assert struct.unpack("<IIII", sup.get(0, ARG, 16)) == (NAME, 0, 0, 0)
    sup.put(0, NAME, b"sS\0")
    assert sup.call(0, "ctrl", QUEUING, 0, INFO, ARG) == INVALID_PARAM
    assert sup.call(0, "ctrl", QUEUING, 0, INFO, RW + RW_SIZE - 20) == INVALID_PARAM  # 24 bytes


# -- resets (§4.2, §6.6, D-36) --------------------------------------------------------------------


def test_partition_reset_closes_ports_and_keeps_messages(sup: FakeSup) -> None:
    open_all(sup)
    sup.send(0, Q_S, b"kept")
    sup.write_s(0, S_S, b"sample")
    sup.irqs()
    sup.ports.reset_partition(1)
    assert sup.q_status(1, Q_D)[0] == INVALID_PARAM  # closed
    assert sup.send(0, Q_S, b"more") == OK
    assert sup.irqs() == []  # D-61: the closed receiver is not notified
    assert sup.create_q(1, "qD", direction=DST) == Q_D  # re-created: the same registration (D-36)
    assert sup.create_s(1, "sD", direction=DST) == S_D
    assert sup.q_status(1, Q_D) == (OK, 2)
    assert sup.receive(1, Q_D) == 4 and sup.get(1, BUF, 4) == b"kept"
    assert sup.s_status(1, S_D)[3] & ~VALID == 0  # EMPTY again after the reset
    for _ in range(3):
        sup.ports.reset_partition(1)
        assert sup.create_s(1, "sD", direction=DST) == S_D
    sup.write_s(0, S_S, b"x")
    assert sup.irqs().count(((1, 0), 4)) == 1  # one registration, one interrupt


def test_system_reset_empties_channels(sup: FakeSup) -> None:
    open_all(sup)
    sup.send(0, Q_S, b"a")
    sup.write_s(0, S_S, b"b")
    sup.ports.reset_system()
    assert all(not p.open for p in sup.ports.ports)
    open_all(sup)
    assert sup.q_status(1, Q_D) == (OK, 0)
    assert sup.s_status(1, S_D) == (OK, 0, 0, 0)


# -- object directory ------------------------------------------------------------------------------


def test_ports_have_no_seek(sup: FakeSup) -> None:
    assert sup.call(0, "seek", SAMPLING, 0, 0, 0) == OP_NOT_ALLOWED
    assert sup.call(0, "read", MEM, 0, BUF, 4) == OP_NOT_ALLOWED


# -- IPVI (hypercalls 23, 24; semantics §7) ---------------------------------------------------------


def test_raise_ipvi(sup: FakeSup) -> None:
    assert sup.hcall(0, 23, 23) == INVALID_PARAM
    assert sup.hcall(0, 23, 32) == INVALID_PARAM
    assert sup.hcall(0, 23, 25) == NO_ACTION  # no route for IPVI 1 from P0
    assert sup.hcall(2, 23, 24) == NO_ACTION  # IPVI 0 belongs to P0 only
    assert sup.hcall(0, 23, 24) == OK
    assert sup.irqs() == [((1, 0), 24), ((2, 0), 24), ((2, 1), 24)]
    assert sup.hcall(0, 23, 24) == OK  # already pending everywhere: still 0, nothing raised again
    assert sup.irqs() == []


def test_raise_ipvi_sees_bits_pending_in_the_pct(sup: FakeSup) -> None:
    part = sup.system.partitions[1]
    sup.put(1, PCT_ADDR + 88, struct.pack("<I", 1 << 24))
    assert sup.hcall(0, 23, 24) == OK
    assert ((1, 0), 24) not in sup.irqs()
    assert part_ctrl_table_size(part) > 0


def test_raise_partition_ipvi(sup: FakeSup) -> None:
    assert sup.hcall(0, 24, 1, 40) == INVALID_PARAM
    assert sup.hcall(0, 24, 1, 27) == INVALID_CONFIG  # IPVI 3 has no destinations from P0
    assert sup.hcall(0, 24, 0, 24) == INVALID_CONFIG  # P0 is not a destination
    assert sup.hcall(0, 24, 999, 24) == INVALID_CONFIG  # D-29
    assert sup.hcall(0, 24, 2, 24) == OK
    assert sup.irqs() == [((2, 0), 24), ((2, 1), 24)]
    assert sup.hcall(0, 24, 2, 24) == NO_ACTION
    assert sup.hcall(1, 24, 0, 27) == OK
    assert sup.irqs() == [((0, 0), 27)]


def test_raise_partition_ipvi_partly_pending(sup: FakeSup) -> None:
    sup.pending_ext[(2, 0)] = 1 << 24
    assert sup.hcall(0, 24, 2, 24) == OK
    assert sup.irqs() == [((2, 1), 24)]  # only the vCPU that lacked it


def test_raise_ipvi_skips_halted_vcpus(sup: FakeSup) -> None:
    sup.table[2].vcpus[1].halted = True
    assert sup.hcall(0, 24, 2, 24) == OK
    assert sup.irqs() == [((2, 0), 24)]
    assert sup.hcall(0, 24, 2, 24) == NO_ACTION


# -- MEM copy (§8.6) --------------------------------------------------------------------------------


def mem_copy(s: FakeSup, pid: int, dst_id: int, dst: int, src_id: int, src: int, size: int, cmd: int = 1) -> int:
    s.put(pid, ARG, struct.pack("<IIIIi", dst_id, dst, src_id, src, size))
    return s.call(pid, "ctrl", MEM, 0, cmd, ARG)


def test_mem_copy_own_areas(sup: FakeSup) -> None:
    sup.phys.write(0x6100000, b"payload!")
    assert mem_copy(sup, 1, 1, 0x6100100, 1, 0x6100000, 8) == 8
    assert sup.phys.read(0x6100100, 8) == b"payload!"


def test_mem_copy_overlapping(sup: FakeSup) -> None:
    sup.phys.write(0x6100000, b"abcdef")
    assert mem_copy(sup, 1, 1, 0x6100002, 1, 0x6100000, 4) == 4
    assert sup.phys.read(0x6100000, 6) == b"ababcd"


def test_mem_copy_checks(sup: FakeSup) -> None:
    assert sup.call(1, "ctrl", MEM, 0, 1, UNMAPPED) == INVALID_PARAM
    assert sup.call(1, "ctrl", MEM, 0, 1, RW + RW_SIZE - 16) == INVALID_PARAM  # 20 bytes
    assert mem_copy(sup, 1, 1, 0x6100000, 1, 0x6100100, 4, cmd=2) == INVALID_PARAM
    assert mem_copy(sup, 1, 0, 0, 0, 0, 0) == 0  # size <= 0: nothing else checked
    assert mem_copy(sup, 1, 0, 0, 0, 0, -5) == 0
    assert mem_copy(sup, 1, 0, 0x6000000, 1, 0x6100000, 4) == PERM_ERROR  # dst not self
    assert mem_copy(sup, 1, 1, 0x6100000, 2, 0x6200000, 4) == PERM_ERROR  # src not self
    assert mem_copy(sup, 1, 0xFF, 0x6100000, 1, 0x6100000, 4) == PERM_ERROR
    assert mem_copy(sup, 1, 1, 0x6000000, 1, 0x6100000, 4) == INVALID_PARAM  # not P1's area
    assert mem_copy(sup, 1, 1, 0x61FFFFE, 1, 0x6100000, 4) == INVALID_PARAM  # crosses the end
    assert mem_copy(sup, 1, 1, 0x6400000, 1, 0x6100000, 4) == INVALID_PARAM  # read-only dst
    assert mem_copy(sup, 1, 1, 0x6100000, 1, 0x6400000, 4) == 4  # read-only src is fine
    assert mem_copy(sup, 1, 1, 0x6100000, 1, 0x6500000, 4) == INVALID_PARAM


def test_mem_copy_system_partition(sup: FakeSup) -> None:
    sup.phys.write(0x6200000, b"secret")
    assert mem_copy(sup, 0, 1, 0x6100000, 2, 0x6200000, 6) == 6
    assert sup.phys.read(0x6100000, 6) == b"secret"
    assert mem_copy(sup, 0, 3, 0x6100000, 2, 0x6200000, 6) == INVALID_PARAM  # dst id >= N
    assert mem_copy(sup, 0, 1, 0x6100000, 7, 0x6200000, 6) == INVALID_PARAM  # src id >= N
    assert mem_copy(sup, 0, 0xFF, 0x2000000, 0xFF, 0x6200000, 6) == 6  # a MemoryBlock
    assert sup.phys.read(0x2000000, 6) == b"secret"
    assert mem_copy(sup, 0, 0xFF, 0x6100010, 0xFF, 0x2000000, 6) == 6  # any partition area
    assert mem_copy(sup, 0, 0xFF, 0x3000000, 0, 0x6000000, 6) == INVALID_PARAM  # nowhere
    assert mem_copy(sup, 0, 0xFF, 0x6400000, 0, 0x6000000, 6) == INVALID_PARAM  # read-only area
    assert mem_copy(sup, 0, 0, 0x6000000, 0xFF, 0x200FFFE, 6) == INVALID_PARAM  # crosses the block end


def test_run_dir_physical_round_trip(system: System, tmp_path: Path) -> None:
    from prtosd.commports import RunDirPhysical

    phys = RunDirPhysical(system, tmp_path)
    phys.write(0x6100010, b"abc")
    assert phys.read(0x6100010, 3) == b"abc"
    with pytest.raises(ValueError):
        phys.read(0x3000000, 1)


# -- calls completed on port credit (prtosd.credits) ---------------------------------------------


def test_logged_calls_change_what_the_calls_change_without_touching_guest_memory(
    system: System, tmp_path: Path
) -> None:
    """A replayed send takes the logged bytes, a replayed receive writes nothing: the rest is the same."""
    from prtosd.objdir import Descriptor

    plain, logged = FakeSup(system, tmp_path), FakeSup(system, tmp_path)
    for s in (plain, logged):
        open_all(s)
    assert plain.send(0, Q_S, b"one") == OK
    plain.put(0, BUF, b"zzz")  # what guest memory holds now does not matter to a logged send
    logged.put(0, BUF, b"zzz")
    desc_s, desc_d = Descriptor.decode(4 << 24 | Q_S), Descriptor.decode(4 << 24 | 1 << 10 | Q_D)
    assert logged.ports.queuing_send((0, 0), desc_s, BUF, 3, logged=b"one").result == OK
    assert logged.ports.queuing_send((0, 0), desc_s, BUF, 3, logged=b"four").result == INVALID_PARAM
    assert plain.irqs() == logged.irqs()
    assert [plain.bitmap(p) for p in (0, 1)] == [logged.bitmap(p) for p in (0, 1)]
    assert plain.receive(1, Q_D, 2) == 2
    logged.put(1, BUF, b"--")
    assert logged.ports.queuing_receive((1, 0), desc_d, BUF, 2, logged=True).result == 2
    assert plain.get(1, BUF, 2) == b"on" and logged.get(1, BUF, 2) == b"--"
    assert plain.irqs() == logged.irqs()
    assert [plain.bitmap(p) for p in (0, 1)] == [logged.bitmap(p) for p in (0, 1)]
    assert plain.table.system.queuing_sent == logged.table.system.queuing_sent == 1
    assert plain.table.system.queuing_received == logged.table.system.queuing_received == 1
