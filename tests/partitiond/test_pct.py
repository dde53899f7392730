"""PCT layout and contents after a reset (partition-api.md §11.1-§11.4, §12)."""

from __future__ import annotations

import ctypes

from vcpu_support import make_system

from partitiond.pct import (
    CyclicSchedInfo,
    PartitionControlTable,
    PctArch,
    PctArray,
    PhysicalMemMap,
    X86DescReg,
    part_ctrl_table_size,
)
from prtosd.config.model import Area, Partition, Port, PortDirection, PortType


def test_struct_sizes_and_offsets() -> None:
    assert ctypes.sizeof(PartitionControlTable) == 336
    assert ctypes.sizeof(PctArch) == 36 and ctypes.sizeof(X86DescReg) == 6
    assert ctypes.sizeof(CyclicSchedInfo) == 12 and ctypes.sizeof(PhysicalMemMap) == 32
    offsets = {
        "magic": 0,
        "part_ctrl_table_size": 16,
        "cpu_khz": 28,
        "id": 32,
        "flags": 40,
        "hw_irqs": 48,
        "name": 60,
        "iflags": 76,
        "hw_irqs_pend": 80,
        "hw_irqs_mask": 84,
        "ext_irqs_pend": 88,
        "ext_irqs_to_mask": 92,
        "arch": 96,
        "cyclic_sched_info": 132,
        "trap_to_vector": 144,
        "hw_irq_to_vector": 208,
        "ext_irq_to_vector": 272,
    }
    for name, off in offsets.items():
        assert getattr(PartitionControlTable, name).offset == off, name
    assert PctArch.idtr.offset == 6 and PctArch.max_idt_vec.offset == 12 and PctArch.cr0.offset == 32
    assert PhysicalMemMap.start_addr.offset == 16 and PhysicalMemMap.flags.offset == 28


def test_block_size_d46() -> None:
    ports = tuple(Port(f"p{i}", PortDirection.SOURCE, PortType.SAMPLING, i, i) for i in range(2))
    p = Partition(id=0, areas=(Area(0x100000, 0x1000), Area(0x200000, 0x1000)), ports=ports)
    assert part_ctrl_table_size(p) == 404
    many = tuple(Port(f"p{i}", PortDirection.SOURCE, PortType.SAMPLING, i, i) for i in range(33))
    assert part_ctrl_table_size(Partition(id=0, ports=many)) == 336 + 8


def test_reset_contents() -> None:
    system = make_system(khz=500_000, vcpus=2)
    p = system.partitions[0]
    buf = bytearray(2 * part_ctrl_table_size(p))
    arr = PctArray(system, p, buf)
    t = arr.reset(1, reset_counter=3, reset_status=7, cr3=0x10F000)
    assert t.magic == 0xA5A55A5A and t.prtos_version == t.prtos_abi_version == t.prtos_api_version == 0x10000
    assert t.part_ctrl_table_size == 336 + 32 * 5
    assert (t.reset_counter, t.reset_status, t.cpu_khz) == (3, 7, 500_000)
    assert t.id == (1 << 8) | 0 and t.num_of_vcpus == 2
    assert t.flags == 0x180  # cache bits only: not fp, not system
    assert t.image_start == 0x100000
    assert bytes(t.name) == b"P0" + bytes(14)
    assert t.iflags == 0 and t.hw_irqs_pend == 0 and t.ext_irqs_pend == 0
    assert t.hw_irqs_mask == t.ext_irqs_to_mask == 0xFFFFFFFF
    assert t.arch.cr3 == 0x10F000 and t.arch.cr0 == 0x80000005 and t.arch.max_idt_vec == 0
    assert list(t.trap_to_vector) == list(range(32))
    assert list(t.hw_irq_to_vector) == [0x20 + i for i in range(32)]
    assert list(t.ext_irq_to_vector) == [0x90 + i for i in range(32)]
    # The block of vCPU 1 starts part_ctrl_table_size bytes in; vCPU 0's block is untouched.
    assert bytes(buf[:336]) == bytes(336)
    m = arr.mem_map(1, 1)
    assert bytes(m.name).rstrip(b"\0") == b"ro" and m.start_addr == 0x200000 and m.size == 0x1000
    assert m.flags == 0x4 | 0x200  # READ_ONLY | TAGGED
    m0 = arr.mem_map(1, 0)
    assert bytes(m0.name) == bytes(16) and m0.flags == 0


def test_flags_system_and_fp() -> None:
    from prtosd.config.model import PartitionFlag

    system = make_system(p0_flags=PartitionFlag.SYSTEM | PartitionFlag.FP)
    p = system.partitions[0]
    t = PctArray(system, p, bytearray(part_ctrl_table_size(p))).reset(0, reset_counter=0, reset_status=0, cr3=0)
    assert t.flags == 0x180 | 0x2 | (2 << 16)
    assert t.arch.cr0 == 0x80000001


def test_long_name_not_terminated() -> None:
    from dataclasses import replace

    system = make_system()
    p = replace(system.partitions[0], name="ABCDEFGHIJKLMNOPQRS")
    t = PctArray(system, p, bytearray(part_ctrl_table_size(p))).reset(0, reset_counter=0, reset_status=0, cr3=0)
    assert bytes(t.name) == b"ABCDEFGHIJKLMNOP"
