"""Address space: only configured areas, permissions, shared backing, guest-pointer checks."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from unicorn import UC_ARCH_X86, UC_MODE_32, Uc
from vcpu_support import MEMBLOCK, P0_BASE, P0_RO, P1_BASE, SHARED, SHARED_P1_VIRT, make_system

from partitiond.memory import AddressSpace, MemoryMapError, physical_ranges
from partitiond.pct import PCT_ADDR
from prtosd.config.model import Area


def regions(uc: Uc) -> list[tuple[int, int, int]]:
    return sorted((a, b, p) for a, b, p in uc.mem_regions())


def test_only_configured_areas_are_mapped(tmp_path: Path) -> None:
    mem = AddressSpace(make_system(), 0, tmp_path)
    uc = Uc(UC_ARCH_X86, UC_MODE_32)
    mem.map_into(uc)
    assert regions(uc) == [
        (P0_BASE, P0_BASE + 0xFFFF, 7),
        (P0_RO, P0_RO + 0xFFF, 5),  # read-only: read + exec
        (SHARED, SHARED + 0xFFF, 7),
        (MEMBLOCK, MEMBLOCK + 0xFFF, 7),
        (PCT_ADDR, PCT_ADDR + 0xFFF, 5),  # the unmapped area at 0xB00000 is absent
    ]


def test_guest_pointer_checks(tmp_path: Path) -> None:
    mem = AddressSpace(make_system(), 0, tmp_path)
    assert mem.check(P0_BASE, 8, write=True)
    assert not mem.check(0, 4)  # NULL
    assert mem.check(0, 0, allow_null=True)
    assert not mem.check(P0_BASE + 0xFFFC, 8)  # runs off the area
    assert not mem.check(0x300000, 1)  # unmapped
    assert not mem.check(P1_BASE, 4)  # neighbour partition
    assert mem.check(P0_RO, 4) and not mem.check(P0_RO, 4, write=True)
    assert mem.check(PCT_ADDR, 336) and not mem.check(PCT_ADDR, 4, write=True)
    assert not mem.check(0xFC000000, 1) and not mem.check(0xFBFFFFFF, 2)
    assert not mem.check(0xB00000, 4)  # flagged unmapped


def test_shared_area_visible_across_engines(tmp_path: Path) -> None:
    system = make_system()
    m0, m1 = AddressSpace(system, 0, tmp_path), AddressSpace(system, 1, tmp_path)
    u0, u1 = Uc(UC_ARCH_X86, UC_MODE_32), Uc(UC_ARCH_X86, UC_MODE_32)
    m0.map_into(u0)
    m1.map_into(u1)
    u0.mem_write(SHARED + 0x10, b"hello")
    assert bytes(u1.mem_read(SHARED_P1_VIRT + 0x10, 5)) == b"hello"
    u1.mem_write(SHARED_P1_VIRT, b"back")
    assert bytes(u0.mem_read(SHARED, 4)) == b"back"
    # Private areas are not shared between partitions.
    assert bytes(u1.mem_read(P1_BASE, 4)) == bytes(4)


def test_memory_block_is_a_file(tmp_path: Path) -> None:
    system = make_system()
    mem = AddressSpace(system, 0, tmp_path)
    mem.write(MEMBLOCK + 4, b"log!")
    mem.close()
    files = {p.name for p in tmp_path.glob("phys-*.mem")}
    assert f"phys-{MEMBLOCK:08x}-{0x2000:08x}.mem" in files
    again = AddressSpace(system, 0, tmp_path)
    assert again.read(MEMBLOCK + 4, 4) == b"log!"


def test_physical_ranges_merge_overlaps() -> None:
    ranges = physical_ranges(make_system())
    assert (SHARED, SHARED + 0x1000) in ranges
    assert (MEMBLOCK, MEMBLOCK + 0x2000) in ranges
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(ranges))


def test_misaligned_area_rejected(tmp_path: Path) -> None:
    from dataclasses import replace

    system = make_system()
    bad = replace(system.partitions[0], areas=(Area(0x100800, 0x1000),))
    system = replace(system, partitions=(bad, system.partitions[1]))
    with pytest.raises(MemoryMapError, match="multiples of 4096"):
        AddressSpace(system, 0, tmp_path)
