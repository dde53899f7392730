"""The address space of one partition (partition-api.md §14.2, §1.2).

Only the configured areas are mapped, at ``mappedAt`` with their permissions (``read-only`` and
``rom`` → read-only, ``unmapped`` → absent), all executable; plus the PCT array, read-only, at
0xFBFC0000. Nothing else: every other access faults.

Every area is backed by a file of the run directory, mmap'ed shared and handed to Unicorn with
``mem_map_ptr``. Why files for all areas, not only ``shared`` ones: the vCPUs of one partition are
separate processes and share all of its memory (§14.6), shared areas and MemoryBlock devices are
seen by several partitions, and device contents must survive a crash. The physical ranges of all
areas of the system and of all MemoryBlock devices are merged into disjoint ranges (a pure
function of the configuration, so every process derives the same set), one file per range named
``phys-<start>-<size>.mem``; two areas covering the same physical bytes therefore share them, in
whatever process they are mapped. The PCT array of a partition is ``pct-<id>.mem`` (shared by its
vCPU processes; each writes only its own block).
"""

from __future__ import annotations

import contextlib
import ctypes
import itertools
import mmap
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from partitiond.pct import PCT_ADDR, pct_array_size
from prtosd.config.model import AreaFlag, Partition, System

if TYPE_CHECKING:
    from unicorn import Uc

PAGE_SIZE = 4096
PRTOS_OFFSET = 0xFC000000  # start of the hypervisor window, never accessible

#: Bytes reserved after the PCT array, inside its read-only mapping, for the guest's flat GDT
#: (41 descriptors) and the one-time privilege-drop stub of the vCPU engine.
GDT_RESERVE = 512


class MemoryMapError(Exception):
    """The configuration cannot be mapped (alignment, overlap); the message names the area."""


def _round_up(n: int, to: int) -> int:
    return (n + to - 1) // to * to


def physical_ranges(system: System) -> list[tuple[int, int]]:
    """Disjoint ``(start, end)`` physical ranges covering every area and MemoryBlock (merged)."""
    spans = [(a.start, a.start + a.size) for p in system.partitions for a in p.areas if a.size > 0]
    spans += [(d.start, d.start + d.size) for d in system.devices if d.kind == "MemoryBlock" and d.size > 0]
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if merged and start < merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(s, e) for s, e in merged]


def backing_file(run_dir: Path, start: int, end: int) -> Path:
    """File that holds the physical range ``[start, end)``."""
    return run_dir / f"phys-{start:08x}-{end - start:08x}.mem"


def open_shared(path: Path, size: int) -> mmap.mmap:
    """Map ``path`` shared, creating it zero-filled (sparse) at ``size`` bytes if needed."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        if os.fstat(fd).st_size < size:
            os.ftruncate(fd, size)
        return mmap.mmap(fd, size, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
    finally:
        os.close(fd)


@dataclass(frozen=True, slots=True)
class Mapping:
    """One guest-visible mapping: ``[virt, virt+size)`` with its host address."""

    virt: int
    size: int
    writable: bool
    host: int  # host address of the first byte
    name: str  # area name, or "PCT"

    @property
    def end(self) -> int:
        return self.virt + self.size


class AddressSpace:
    """Host backing and Unicorn mappings of one partition's memory."""

    def __init__(self, system: System, partition_id: int, run_dir: Path) -> None:
        self.system = system
        self.partition: Partition = system.partitions[partition_id]
        self.run_dir = Path(run_dir)
        self._maps: list[mmap.mmap] = []
        self._anchors: list[ctypes.c_char] = []  # exported buffers pinning the maps
        mappings: list[Mapping] = []
        ranges = physical_ranges(system)
        for area in self.partition.areas:
            if area.flags & AreaFlag.UNMAPPED:
                continue
            self._check_area(area.start, area.virt, area.size, area.name)
            start, end = next((s, e) for s, e in ranges if s <= area.start and area.start + area.size <= e)
            base = self._host_base(backing_file(self.run_dir, start, end), end - start)
            writable = not area.flags & (AreaFlag.READ_ONLY | AreaFlag.ROM)
            label = area.name or f"area@{area.start:#x}"
            mappings.append(Mapping(area.virt, area.size, writable, base + area.start - start, label))
        # The PCT array, plus room for the GDT the engine installs after it.
        self.pct_array_bytes = pct_array_size(self.partition)
        self.gdt_addr = PCT_ADDR + _round_up(self.pct_array_bytes, 16)
        pct_size = _round_up(self.gdt_addr - PCT_ADDR + GDT_RESERVE, PAGE_SIZE)
        self.pct_map = open_shared(self.run_dir / f"pct-{self.partition.id}.mem", pct_size)
        self._maps.append(self.pct_map)
        anchor = ctypes.c_char.from_buffer(self.pct_map)
        self._anchors.append(anchor)
        mappings.append(Mapping(PCT_ADDR, pct_size, False, ctypes.addressof(anchor), "PCT"))
        mappings.sort(key=lambda m: m.virt)
        for prev, cur in itertools.pairwise(mappings):
            if cur.virt < prev.end:
                raise MemoryMapError(
                    f"partition {self.partition.id}: {cur.name} at {cur.virt:#x} overlaps {prev.name} at {prev.virt:#x}"
                )
        self.mappings: tuple[Mapping, ...] = tuple(mappings)

    def _check_area(self, start: int, virt: int, size: int, name: str) -> None:
        label = f"partition {self.partition.id} area {name or hex(start)}"
        if start % PAGE_SIZE or virt % PAGE_SIZE or size % PAGE_SIZE or size == 0:
            raise MemoryMapError(f"{label}: start, mappedAt and size must be multiples of {PAGE_SIZE}")
        if virt + size > PCT_ADDR:
            raise MemoryMapError(f"{label}: mapped at {virt:#x}, reaches the PCT window at {PCT_ADDR:#x}")

    def _host_base(self, path: Path, size: int) -> int:
        mm = open_shared(path, size)
        self._maps.append(mm)
        anchor = ctypes.c_char.from_buffer(mm)
        self._anchors.append(anchor)
        return ctypes.addressof(anchor)

    # -- Unicorn ------------------------------------------------------------------------------

    def map_into(self, uc: Uc) -> None:
        """Map every mapping into ``uc`` (all executable; PCT and read-only areas not writable)."""
        # Imported here: the supervisor maps guest memory too but never runs Unicorn, and importing
        # it costs prtosd's start-up ~30 ms.
        from unicorn import UC_PROT_EXEC, UC_PROT_READ, UC_PROT_WRITE, UcError

        for m in self.mappings:
            perms = UC_PROT_READ | UC_PROT_EXEC | (UC_PROT_WRITE if m.writable else 0)
            try:
                uc.mem_map_ptr(m.virt, m.size, perms, m.host)
            except UcError as exc:
                raise MemoryMapError(f"cannot map {m.name} at {m.virt:#x}: {exc}") from exc

    # -- guest pointers (§1.2) ----------------------------------------------------------------

    def find(self, addr: int) -> Mapping | None:
        """The mapping containing ``addr``."""
        for m in self.mappings:
            if m.virt <= addr < m.virt + m.size:  # not ``m.end``: every guest access comes here
                return m
        return None

    def _within(self, addr: int, length: int) -> Mapping | None:
        """The mapping holding all of ``[addr, addr+length)``, if one does (the common case of every access)."""
        m = self.find(addr)
        return m if m is not None and addr + length <= m.virt + m.size else None

    def check(self, addr: int, length: int, *, write: bool = False, allow_null: bool = False) -> bool:
        """True if the guest buffer ``[addr, addr+length)`` passes the checks of §1.2."""
        if addr == 0 and not allow_null:
            return False
        if addr < 0 or length < 0 or addr + length > PRTOS_OFFSET:
            return False
        m = self._within(addr, length) if length else None
        if m is not None:
            return m.writable or not write
        pos, end = addr, addr + length
        while pos < end:
            m = self.find(pos)
            if m is None or (write and not m.writable):
                return False
            pos = m.end
        return True

    def check_string(self, addr: int, max_len: int = 16) -> bool:
        """True if a NUL-terminated name at ``addr`` is readable over its significant bytes."""
        if not self.check(addr, 1):
            return False
        for i in range(max_len):
            if not self.check(addr + i, 1):
                return False
            if self.read(addr + i, 1) == b"\0":
                return True
        return True

    # -- host-side access (bypasses guest permissions) -----------------------------------------

    def _span(self, addr: int, length: int) -> list[tuple[int, int, int]]:
        """``(host address, offset in data, count)`` pieces for ``[addr, addr+length)``."""
        out: list[tuple[int, int, int]] = []
        pos, end = addr, addr + length
        while pos < end:
            m = self.find(pos)
            if m is None:
                raise MemoryMapError(f"address {pos:#x} is not mapped in partition {self.partition.id}")
            n = min(end, m.end) - pos
            out.append((m.host + pos - m.virt, pos - addr, n))
            pos += n
        return out

    def host_spans(self, addr: int, length: int) -> list[tuple[int, int, int]]:
        """``(host address, offset, count)`` pieces of ``[addr, addr+length)`` (MemoryMapError if unmapped)."""
        return self._span(addr, length)

    def read(self, addr: int, length: int) -> bytes:
        """Read guest bytes (no permission check; the range must be mapped)."""
        m = self._within(addr, length)
        if m is not None:
            return ctypes.string_at(m.host + addr - m.virt, length)
        buf = bytearray(length)
        for host, off, n in self._span(addr, length):
            buf[off : off + n] = ctypes.string_at(host, n)
        return bytes(buf)

    def write(self, addr: int, data: bytes) -> None:
        """Write guest bytes, read-only areas included (loader use; callers check permissions)."""
        m = self._within(addr, len(data))
        if m is not None:
            ctypes.memmove(m.host + addr - m.virt, data, len(data))
            return
        for host, off, n in self._span(addr, len(data)):
            ctypes.memmove(host, data[off : off + n], n)

    def in_areas(self, addr: int, length: int) -> bool:
        """True if ``[addr, addr+length)`` lies entirely in the partition's mapped areas (not the PCT)."""
        pos, end = addr, addr + length
        while pos < end:
            m = self.find(pos)
            if m is None or m.virt == PCT_ADDR:
                return False
            pos = m.end
        return True

    def close(self) -> None:
        """Unmap the host views (Unicorn must not use them any more)."""
        self._anchors.clear()
        for mm in self._maps:
            with contextlib.suppress(BufferError):  # still exported somewhere; unmapped at exit
                mm.close()
        self._maps.clear()
