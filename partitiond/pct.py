"""The Partition Control Table (partition-api.md §11.1-§11.4, §12).

The structures mirror the C layouts of the guest headers field by field (i386, little-endian;
offsets in the comments), so the bytes the guest reads at 0xFBFC0000 are exactly these ctypes
objects laid over the shared buffer that backs the read-only PCT mapping.

Block ``e`` of the array (one per vCPU) holds the PCT of vCPU ``e``, then the memory-map entries of
the partition's areas, then the comm-port bitmap; blocks are ``part_ctrl_table_size`` bytes apart
(D-46).
"""

from __future__ import annotations

import ctypes
from collections.abc import Iterable
from ctypes import LittleEndianStructure, c_int8, c_int32, c_uint8, c_uint16, c_uint32
from typing import Protocol

from prtosd.config.model import AreaFlag, Partition, PartitionFlag, System


class GuestBytes(Protocol):
    """Reads and writes of guest memory (an AddressSpace, or the supervisor's view of one)."""

    def read(self, addr: int, size: int) -> bytes: ...

    def write(self, addr: int, data: bytes) -> None: ...


PCT_ADDR = 0xFBFC0000
KTHREAD_MAGIC = 0xA5A55A5A
PRTOS_VERSION = 0x00010000
PRTOS_ABI_VERSION = 0x00010000
PRTOS_API_VERSION = 0x00010000

# PCT ``flags`` bits (§10.13).
KTHREAD_FP_F = 0x2
KTHREAD_DCACHE_ENABLED_F = 0x80
KTHREAD_ICACHE_ENABLED_F = 0x100
KTHREAD_NO_PARTITIONS_SHIFT = 16

# Virtual IF and CR0 bits (§10.7).
CPU_FLAG_IF = 0x200
CR0_PE = 0x1
CR0_EM = 0x4
CR0_ET = 0x10
CR0_PG = 0x80000000

PCT_SIZE = 336
MEM_MAP_SIZE = 32
NO_VECTORS = 32


class X86DescReg(LittleEndianStructure):
    """``struct x86_desc_reg`` (packed, 6 bytes)."""

    _pack_ = 1
    _fields_ = (
        ("limit", c_uint16),  # @0
        ("linear_base", c_uint32),  # @2
    )


class PctArch(LittleEndianStructure):
    """``struct pct_arch`` (36 bytes)."""

    _fields_ = (
        ("gdtr", X86DescReg),  # @0
        ("idtr", X86DescReg),  # @6
        ("max_idt_vec", c_uint32),  # @12
        ("tr", c_uint32),  # @16
        ("cr4", c_uint32),  # @20
        ("cr3", c_uint32),  # @24
        ("cr2", c_uint32),  # @28
        ("cr0", c_uint32),  # @32
    )


class CyclicSchedInfo(LittleEndianStructure):
    """``struct cyclic_sched_info`` (12 bytes)."""

    _fields_ = (
        ("num_of_slots", c_uint32),  # @0 index of the current slot (despite the name)
        ("id", c_uint32),  # @4 the slot's id attribute
        ("slot_duration", c_uint32),  # @8 µs
    )


class PartitionControlTable(LittleEndianStructure):
    """``partition_control_table_t`` (336 bytes)."""

    _fields_ = (
        ("magic", c_uint32),  # @0
        ("prtos_version", c_uint32),  # @4
        ("prtos_abi_version", c_uint32),  # @8
        ("prtos_api_version", c_uint32),  # @12
        ("part_ctrl_table_size", c_uint32),  # @16
        ("reset_counter", c_uint32),  # @20
        ("reset_status", c_uint32),  # @24
        ("cpu_khz", c_uint32),  # @28
        ("id", c_uint32),  # @32 vcpu << 8 | partition
        ("num_of_vcpus", c_uint32),  # @36
        ("flags", c_uint32),  # @40
        ("image_start", c_uint32),  # @44
        ("hw_irqs", c_uint32),  # @48
        ("num_of_physical_mem_areas", c_int32),  # @52
        ("num_of_comm_ports", c_int32),  # @56
        ("name", c_uint8 * 16),  # @60
        ("iflags", c_uint32),  # @76
        ("hw_irqs_pend", c_uint32),  # @80
        ("hw_irqs_mask", c_uint32),  # @84
        ("ext_irqs_pend", c_uint32),  # @88
        ("ext_irqs_to_mask", c_uint32),  # @92
        ("arch", PctArch),  # @96
        ("cyclic_sched_info", CyclicSchedInfo),  # @132
        ("trap_to_vector", c_uint16 * NO_VECTORS),  # @144
        ("hw_irq_to_vector", c_uint16 * NO_VECTORS),  # @208
        ("ext_irq_to_vector", c_uint16 * NO_VECTORS),  # @272
    )


class PhysicalMemMap(LittleEndianStructure):
    """``struct prtos_physical_mem_map`` (32 bytes)."""

    _fields_ = (
        ("name", c_int8 * 16),  # @0
        ("start_addr", c_uint32),  # @16
        ("mapped_at", c_uint32),  # @20
        ("size", c_uint32),  # @24
        ("flags", c_uint32),  # @28
    )


assert ctypes.sizeof(X86DescReg) == 6
assert ctypes.sizeof(PctArch) == 36
assert ctypes.sizeof(CyclicSchedInfo) == 12
assert ctypes.sizeof(PartitionControlTable) == PCT_SIZE
assert ctypes.sizeof(PhysicalMemMap) == MEM_MAP_SIZE
assert PartitionControlTable.arch.offset == 96 and PartitionControlTable.ext_irq_to_vector.offset == 272


def part_ctrl_table_size(partition: Partition) -> int:
    """Distance between consecutive vCPU blocks: PCT + memory map + port bitmap words (D-46)."""
    return PCT_SIZE + MEM_MAP_SIZE * len(partition.areas) + 4 * ((len(partition.ports) + 31) // 32)


def comm_port_word(partition: Partition, vcpu: int, index: int) -> tuple[int, int]:
    """(address, bit) of local port ``index`` in the comm-port bitmap of ``vcpu``'s PCT (§12.1).

    The bitmap words follow each vCPU's PCT and memory map in the partition's PCT array.
    """
    word = PCT_SIZE + MEM_MAP_SIZE * len(partition.areas) + 4 * (index // 32)
    return PCT_ADDR + vcpu * part_ctrl_table_size(partition) + word, 1 << (index % 32)


def set_comm_port_bits(memory: GuestBytes, words: Iterable[tuple[int, int]], on: bool) -> None:
    """Set (``on``) or clear a port's bit at each (address, bit) of :func:`comm_port_word`.

    Words already right are not written: the supervisor and a partition process completing a
    credited send may both set the same bit.
    """
    for addr, bit in words:
        w = int.from_bytes(memory.read(addr, 4), "little")
        new = (w | bit) if on else (w & ~bit)
        if new != w:
            memory.write(addr, new.to_bytes(4, "little"))


def pct_array_size(partition: Partition) -> int:
    """Bytes of the whole array (one block per vCPU)."""
    return part_ctrl_table_size(partition) * partition.no_vcpus


def pct_flags(system: System, partition: Partition) -> int:
    """The PCT ``flags`` word (§10.13): FP, both cache bits, N for a system partition."""
    flags = KTHREAD_DCACHE_ENABLED_F | KTHREAD_ICACHE_ENABLED_F
    if partition.flags & PartitionFlag.FP:
        flags |= KTHREAD_FP_F
    if partition.is_system:
        flags |= (len(system.partitions) & 0xFF) << KTHREAD_NO_PARTITIONS_SHIFT
    return flags


def initial_cr0(partition: Partition) -> int:
    """``arch.cr0`` after a reset: PG|PE, plus EM without the ``fp`` flag (§12.2)."""
    return CR0_PG | CR0_PE | (0 if partition.flags & PartitionFlag.FP else CR0_EM)


def _fill_name(dst: ctypes.Array, name: str) -> None:
    """``strncpy(dst, name, 16)``: zero-padded, not terminated at 16 characters (D-01)."""
    raw = name.encode("latin-1", "replace")[:16].ljust(16, b"\0")
    ctypes.memmove(ctypes.addressof(dst), raw, 16)


class PctArray:
    """Typed views of the PCT array of one partition over a writable host buffer."""

    def __init__(self, system: System, partition: Partition, buffer: object) -> None:
        self.system = system
        self.partition = partition
        self.block_size = part_ctrl_table_size(partition)
        self.buffer = buffer
        self._pcts = [PartitionControlTable.from_buffer(buffer, e * self.block_size) for e in range(partition.no_vcpus)]

    def pct(self, vcpu: int) -> PartitionControlTable:
        """The PCT of ``vcpu`` (a live view: writes go straight to guest-visible memory)."""
        return self._pcts[vcpu]

    def mem_map(self, vcpu: int, index: int) -> PhysicalMemMap:
        """Entry ``index`` of the memory map that follows the PCT of ``vcpu``."""
        off = vcpu * self.block_size + PCT_SIZE + index * MEM_MAP_SIZE
        return PhysicalMemMap.from_buffer(self.buffer, off)

    def port_bitmap_offset(self, vcpu: int) -> int:
        """Byte offset in the array of the comm-port bitmap of ``vcpu``."""
        return vcpu * self.block_size + PCT_SIZE + MEM_MAP_SIZE * len(self.partition.areas)

    def reset(self, vcpu: int, *, reset_counter: int, reset_status: int, cr3: int) -> PartitionControlTable:
        """Write the block of ``vcpu`` as after a reset (§12.2) and return its PCT."""
        p, system = self.partition, self.system
        ctypes.memset(ctypes.addressof(self._pcts[vcpu]), 0, self.block_size)
        t = self._pcts[vcpu]
        t.magic = KTHREAD_MAGIC
        t.prtos_version = PRTOS_VERSION
        t.prtos_abi_version = PRTOS_ABI_VERSION
        t.prtos_api_version = PRTOS_API_VERSION
        t.part_ctrl_table_size = self.block_size
        t.reset_counter = reset_counter & 0xFFFFFFFF
        t.reset_status = reset_status & 0xFFFFFFFF
        t.cpu_khz = system.cpu_khz
        t.id = (vcpu << 8) | p.id
        t.num_of_vcpus = p.no_vcpus
        t.flags = pct_flags(system, p)
        t.image_start = p.areas[0].start if p.areas else 0
        t.hw_irqs = sum(1 << line for line in set(p.interrupt_lines) if 0 <= line < 32)
        t.num_of_physical_mem_areas = len(p.areas)
        t.num_of_comm_ports = len(p.ports)
        _fill_name(t.name, p.name)
        t.iflags = 0
        t.hw_irqs_pend = t.ext_irqs_pend = 0
        t.hw_irqs_mask = t.ext_irqs_to_mask = 0xFFFFFFFF
        t.arch.cr3 = cr3 & 0xFFFFFFFF
        t.arch.cr0 = initial_cr0(p)
        for i in range(NO_VECTORS):
            t.trap_to_vector[i] = i
            t.hw_irq_to_vector[i] = 0x20 + i
            t.ext_irq_to_vector[i] = 0x90 + i
        for i, area in enumerate(p.areas):
            m = self.mem_map(vcpu, i)
            _fill_name(m.name, area.name)
            m.start_addr = area.start
            m.mapped_at = area.virt
            m.size = area.size
            m.flags = area.flags | (AreaFlag.TAGGED if area.name else 0)
        return t
