"""Helpers of the vCPU engine tests: a small system model and tiny assembled guests."""

from __future__ import annotations

from pathlib import Path

from partitiond.toolchain import run_zig
from prtosd.config.model import (
    Area,
    AreaFlag,
    Device,
    Hypervisor,
    IoRange,
    Partition,
    Processor,
    Region,
    System,
)

GUESTS = Path(__file__).resolve().parent / "guests"
P0_BASE = 0x100000  # P0: code/data 64 KiB rw at 0x100000, read-only page at 0x200000
P0_RO = 0x200000
P1_BASE = 0x400000  # P1: 64 KiB rw
SHARED = 0x800000  # shared page in both partitions
SHARED_P1_VIRT = 0x900000  # P1 maps the shared page elsewhere
MEMBLOCK = 0xA00000  # a MemoryBlock device, covered by an area of P0


def make_system(*, khz: int | None = 1_000_000, p0_flags: int = 0, vcpus: int = 1) -> System:
    """Two partitions with private, read-only, shared and memory-block areas."""
    p0 = Partition(
        id=0,
        name="P0",
        flags=p0_flags,
        no_vcpus=vcpus,
        areas=(
            Area(P0_BASE, 0x10000),
            Area(P0_RO, 0x1000, AreaFlag.READ_ONLY, name="ro"),
            Area(SHARED, 0x1000, AreaFlag.SHARED, name="shm"),
            Area(MEMBLOCK, 0x1000),
            Area(0xB00000, 0x1000, AreaFlag.UNMAPPED),
        ),
        io_ranges=(IoRange(0x3F8, 8),),
    )
    p1 = Partition(
        id=1,
        name="P1",
        no_vcpus=1,
        areas=(Area(P1_BASE, 0x10000), Area(SHARED, 0x1000, AreaFlag.SHARED, mapped_at=SHARED_P1_VIRT)),
    )
    return System(
        name="t",
        version=1,
        regions=(Region("ram", 0, 0x10000000),),
        processors=(Processor(0, khz),),
        devices=(Device("MemoryBlock", "blk", start=MEMBLOCK, size=0x2000),),
        hypervisor=Hypervisor(area_size=0x100000),
        partitions=(p0, p1),
    )


def assemble(out_dir: Path, body: str, name: str = "guest", header: str = "HDR") -> Path:
    """Assemble a test guest (prelude + ``body``) into an ELF image linked at 0x100000."""
    src = out_dir / f"{name}.S"
    src.write_text(f'#include "prelude.S"\n{header}\n{body}\n')
    elf = out_dir / f"{name}.elf"
    res = run_zig(
        [
            "cc",
            "-target",
            "x86-freestanding-none",
            "-mcpu=i686",
            "-ffreestanding",
            "-nostdlib",
            "-I",
            str(GUESTS),
            "-T",
            str(GUESTS / "guest.ld"),
            "-Wl,-e,start",
            "-Wl,-u,start",
            "-Wl,--build-id=none",
            "-o",
            str(elf),
            str(src),
        ]
    )
    if res.returncode != 0:
        raise RuntimeError(f"assembling {src} failed:\n{res.stderr}")
    return elf


class Console:
    """Collects the hypervisor console output."""

    def __init__(self) -> None:
        self.text = ""

    def write(self, text: str) -> int:
        self.text += text
        return len(text)
