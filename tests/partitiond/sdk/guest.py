"""A minimal stand-in for partitiond, for testing the guest SDK on its own.

Why: BAIL and its libc can only be checked by running real partition code, and the real
emulator process needs the whole supervisor around it. This harness runs one vCPU of one
partition under Unicorn with just enough of the kernel side (partition-api.md §4, §12, §13) to
exercise the SDK: the PCT, the console, halting, the vCPU id, the clock, the x86 descriptor
calls, interrupt routing/masking/pending bits, delivery of CPU exceptions and virtual interrupts
through the guest IDT, and the virtual IRET.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path

from elftools.elf.elffile import ELFFile
from unicorn import UC_ARCH_X86, UC_HOOK_INTR, UC_MODE_32, UC_PROT_ALL, UC_PROT_READ, Uc, UcError
from unicorn.x86_const import (
    UC_X86_REG_EAX,
    UC_X86_REG_EBX,
    UC_X86_REG_ECX,
    UC_X86_REG_EDI,
    UC_X86_REG_EDX,
    UC_X86_REG_EFLAGS,
    UC_X86_REG_EIP,
    UC_X86_REG_ESI,
    UC_X86_REG_ESP,
)

PCT_ADDR = 0xFBFC0000
PCT_SIZE = 336
MEM_MAP_ENTRY = 32
GUEST_CS_SEL = 0x139
IF_BIT = 0x200

# PCT offsets (partition-api.md §11.1, §11.2).
OFF_ID = 32
OFF_IFLAGS = 76
OFF_HW_PEND = 80
OFF_HW_MASK = 84
OFF_EXT_PEND = 88
OFF_EXT_MASK = 92
OFF_GDTR = 96
OFF_IDTR = 102
OFF_MAX_IDT_VEC = 108
OFF_TRAP_TO_VECTOR = 144
OFF_HW_TO_VECTOR = 208
OFF_EXT_TO_VECTOR = 272

ERRCODE_TRAPS = {8, 10, 11, 12, 13, 14, 17}

HC_HALT_PARTITION = 1
HC_GET_TIME = 9
HC_WRITE_OBJECT = 12
HC_CLEAR_IRQMASK = 15
HC_SET_IRQMASK = 16
HC_SET_IRQPEND = 17
HC_CLEAR_IRQPEND = 18
HC_ROUTE_IRQ = 19
HC_GET_VCPUID = 32
HC_LOAD_GDT = 37
HC_LOAD_IDTR = 38
HC_SET_IF = 42
HC_CLEAR_IF = 43

PRTOS_INVALID_PARAM = -3
PRTOS_UNKNOWN_HYPERCALL = -2


class GuestError(AssertionError):
    """The guest did something the harness cannot continue from."""


@dataclass
class Guest:
    """One vCPU of one partition, loaded from an ELF image."""

    image: Path
    area_start: int = 0x6000000
    area_size: int = 0x100000
    partition_id: int = 0
    #: This vCPU's id, and how many the partition has (each gets its own PCT block).
    vcpu: int = 0
    vcpus: int = 1
    name: bytes = b"P0"
    time_us: int = 1_500_000
    #: Byte the partition area holds before the image is loaded (only the file-backed part of
    #: each segment is written, as at a cold reset over old memory contents).
    fill: int = 0
    #: Exceptions (trap numbers) the harness delivers through the guest IDT (PROPAGATE);
    #: any other exception stops the run with an error.
    propagate: frozenset[int] = frozenset(range(32))

    console: bytearray = field(default_factory=bytearray)
    writes: list[bytes] = field(default_factory=list)
    calls: list[tuple[int, tuple[int, ...]]] = field(default_factory=list)
    delivered: list[int] = field(default_factory=list)
    halted: bool = False
    error: str | None = None

    def __post_init__(self) -> None:
        self.uc = Uc(UC_ARCH_X86, UC_MODE_32)
        self.uc.mem_map(self.area_start, self.area_size, UC_PROT_ALL)
        if self.fill:
            self.uc.mem_write(self.area_start, bytes([self.fill]) * self.area_size)
        with self.image.open("rb") as f:
            elf = ELFFile(f)
            self.entry = elf.header["e_entry"]
            self.symbols = {s.name: s["st_value"] for s in elf.get_section_by_name(".symtab").iter_symbols() if s.name}
            for seg in elf.iter_segments():
                if seg["p_type"] != "PT_LOAD" or seg["p_memsz"] == 0:
                    continue
                start, memsz = seg["p_vaddr"], seg["p_memsz"]
                if start < self.area_start or start + memsz > self.area_start + self.area_size:
                    raise GuestError(f"segment {start:#x}+{memsz:#x} outside the partition area")
                self.uc.mem_write(start, seg.data())  # the rest up to memsz keeps `fill`
        self.uc.mem_map(PCT_ADDR, 0x1000, UC_PROT_READ)
        self._write_pct()
        self.uc.hook_add(UC_HOOK_INTR, self._on_interrupt)

    # -- PCT ---------------------------------------------------------------------------------

    @property
    def pct_size(self) -> int:
        """part_ctrl_table_size: one PCT and one memory-map entry per vCPU block (§12.1)."""
        return PCT_SIZE + MEM_MAP_ENTRY

    @property
    def pct_base(self) -> int:
        """Address of this vCPU's PCT."""
        return PCT_ADDR + self.vcpu * self.pct_size

    def _write_pct(self) -> None:
        """The PCT blocks as the kernel builds them after a reset (§12.2), one area, no ports."""
        for e in range(self.vcpus):
            pct = bytearray(self.pct_size)
            struct.pack_into(
                "<15I",
                pct,
                0,
                0xA5A55A5A,  # magic
                0x00010000,
                0x00010000,
                0x00010000,
                self.pct_size,  # part_ctrl_table_size
                0,  # reset_counter
                0,  # reset_status
                1_000_000,  # cpu_khz
                (e << 8) | self.partition_id,  # id
                self.vcpus,  # num_of_vcpus
                0x180,  # flags: cache-enabled bits, not a system partition
                self.area_start,  # image_start
                0,  # hw_irqs
                1,  # num_of_physical_mem_areas
                0,  # num_of_comm_ports
            )
            pct[60:76] = self.name.ljust(16, b"\0")[:16]
            struct.pack_into("<5I", pct, OFF_IFLAGS, 0, 0, 0xFFFFFFFF, 0, 0xFFFFFFFF)
            struct.pack_into("<I", pct, 96 + 32, 0x80000001)  # arch.cr0
            for i in range(32):
                struct.pack_into("<H", pct, OFF_TRAP_TO_VECTOR + 2 * i, i)
                struct.pack_into("<H", pct, OFF_HW_TO_VECTOR + 2 * i, 0x20 + i)
                struct.pack_into("<H", pct, OFF_EXT_TO_VECTOR + 2 * i, 0x90 + i)
            struct.pack_into("<16sIIII", pct, PCT_SIZE, b"", self.area_start, self.area_start, self.area_size, 0)
            self.uc.mem_write(PCT_ADDR + e * self.pct_size, bytes(pct))

    def pct_u32(self, off: int) -> int:
        """A 32-bit PCT field."""
        return struct.unpack("<I", self.uc.mem_read(self.pct_base + off, 4))[0]

    def _set_pct_u32(self, off: int, value: int) -> None:
        self.uc.mem_write(self.pct_base + off, struct.pack("<I", value & 0xFFFFFFFF))

    def pct_u16(self, off: int) -> int:
        """A 16-bit PCT field."""
        return struct.unpack("<H", self.uc.mem_read(self.pct_base + off, 2))[0]

    @property
    def virtual_if(self) -> bool:
        """The vCPU's virtual interrupt flag."""
        return bool(self.pct_u32(OFF_IFLAGS) & IF_BIT)

    def idtr(self) -> tuple[int, int]:
        """(limit, base) registered with prtos_x86_load_idtr."""
        limit, base = struct.unpack("<HI", self.uc.mem_read(self.pct_base + OFF_IDTR, 6))
        return limit, base

    def gdtr(self) -> tuple[int, int]:
        """(limit, base) registered with prtos_x86_load_gdt."""
        limit, base = struct.unpack("<HI", self.uc.mem_read(self.pct_base + OFF_GDTR, 6))
        return limit, base

    def gate(self, vector: int) -> tuple[int, int, int]:
        """(handler offset, selector, access byte) of a gate of the guest IDT."""
        _, base = self.idtr()
        lo, sel, _, access, hi = struct.unpack("<HHBBH", self.uc.mem_read(base + 8 * vector, 8))
        return lo | (hi << 16), sel, access

    # -- guest memory helpers ----------------------------------------------------------------

    def read(self, addr: int, size: int) -> bytes:
        """Guest memory."""
        return bytes(self.uc.mem_read(addr, size))

    def read_symbol(self, name: str, size: int) -> bytes:
        """Guest memory at a symbol of the image."""
        return self.read(self.symbols[name], size)

    def _push(self, value: int) -> None:
        esp = (self.uc.reg_read(UC_X86_REG_ESP) - 4) & 0xFFFFFFFF
        self.uc.mem_write(esp, struct.pack("<I", value & 0xFFFFFFFF))
        self.uc.reg_write(UC_X86_REG_ESP, esp)

    # -- interrupts --------------------------------------------------------------------------

    def _inject(self, vector: int, error_code: int | None = None) -> None:
        """Deliver `vector` through the guest IDT like the kernel does (§13.4)."""
        limit, _ = self.idtr()
        if vector >= (limit + 1) // 8:
            raise GuestError(f"vector {vector} beyond the guest IDT")
        handler, sel, access = self.gate(vector)
        if not access & 0x80 or not sel & 3:
            raise GuestError(f"bad gate for vector {vector}")
        eflags = self.uc.reg_read(UC_X86_REG_EFLAGS) & ~IF_BIT
        if self.virtual_if:
            eflags |= IF_BIT
        self._push(eflags)
        self._push(GUEST_CS_SEL)
        self._push(self.uc.reg_read(UC_X86_REG_EIP))
        if error_code is not None:
            self._push(error_code)
        if access & 0xF == 0xE:  # interrupt gate
            self._set_pct_u32(OFF_IFLAGS, self.pct_u32(OFF_IFLAGS) & ~IF_BIT)
        self.delivered.append(vector)
        self.uc.reg_write(UC_X86_REG_EIP, handler)

    def _injection_point(self) -> None:
        """At most one pending, unmasked ext IRQ is delivered when the virtual IF is on."""
        if not self.virtual_if:
            return
        ready = self.pct_u32(OFF_EXT_PEND) & ~self.pct_u32(OFF_EXT_MASK)
        if not ready:
            return
        n = (ready & -ready).bit_length() - 1
        self._set_pct_u32(OFF_EXT_PEND, self.pct_u32(OFF_EXT_PEND) & ~(1 << n))
        self._inject(self.pct_u16(OFF_EXT_TO_VECTOR + 2 * n))

    def _iret(self) -> None:
        esp = self.uc.reg_read(UC_X86_REG_ESP)
        eip, _cs, eflags = struct.unpack("<III", self.uc.mem_read(esp, 12))
        self.uc.reg_write(UC_X86_REG_ESP, esp + 12)
        iflags = self.pct_u32(OFF_IFLAGS) & ~IF_BIT
        self._set_pct_u32(OFF_IFLAGS, iflags | (eflags & IF_BIT))
        self.uc.reg_write(UC_X86_REG_EFLAGS, (eflags & ~0x3000) | IF_BIT)
        self.uc.reg_write(UC_X86_REG_EIP, eip)

    def raise_ext(self, n: int) -> None:
        """Make ext IRQ n pending (as a timer or port would)."""
        self._set_pct_u32(OFF_EXT_PEND, self.pct_u32(OFF_EXT_PEND) | (1 << n))

    def _on_interrupt(self, uc: Uc, intno: int, _user: object) -> None:
        try:
            if intno == 0x82:
                self._hypercall()
                if not self.halted:
                    self._injection_point()
            elif intno == 0x83:
                self._iret()
                self._injection_point()
            elif intno < 32 and intno in self.propagate and self.idtr()[0]:
                vector = self.pct_u16(OFF_TRAP_TO_VECTOR + 2 * intno)
                self._inject(vector, 0 if intno in ERRCODE_TRAPS else None)
            elif intno >= 32 and 13 in self.propagate and self.idtr()[0]:
                # "int n" without a gate is a GENERAL_PROTECTION fault at the instruction (§14.3)
                uc.reg_write(UC_X86_REG_EIP, uc.reg_read(UC_X86_REG_EIP) - 2)
                self._inject(self.pct_u16(OFF_TRAP_TO_VECTOR + 2 * 13), (intno << 3) | 2)
            else:
                raise GuestError(f"CPU exception {intno} at {uc.reg_read(UC_X86_REG_EIP):#x}")
        except GuestError as exc:
            self.error = str(exc)
            uc.emu_stop()

    def _hypercall(self) -> None:
        uc = self.uc
        nr = uc.reg_read(UC_X86_REG_EAX)
        args = tuple(
            uc.reg_read(r) for r in (UC_X86_REG_EBX, UC_X86_REG_ECX, UC_X86_REG_EDX, UC_X86_REG_ESI, UC_X86_REG_EDI)
        )
        self.calls.append((nr, args))
        result: int | None = 0
        if nr == HC_HALT_PARTITION:
            self.halted = True
            uc.emu_stop()
        elif nr == HC_GET_TIME:
            uc.mem_write(args[1], struct.pack("<q", self.time_us))
        elif nr == HC_WRITE_OBJECT:
            desc, buf, size = args[0], args[1], args[2]
            if (desc >> 24) & 0x7F != 1 or size > 4096:
                result = PRTOS_INVALID_PARAM
            else:
                data = bytes(uc.mem_read(buf, size))
                self.writes.append(data)
                self.console += data
                result = size
        elif nr == HC_CLEAR_IRQMASK:
            self._set_pct_u32(OFF_HW_MASK, self.pct_u32(OFF_HW_MASK) & ~args[0])
            self._set_pct_u32(OFF_EXT_MASK, self.pct_u32(OFF_EXT_MASK) & ~args[1])
        elif nr == HC_SET_IRQMASK:
            self._set_pct_u32(OFF_HW_MASK, self.pct_u32(OFF_HW_MASK) | args[0])
            self._set_pct_u32(OFF_EXT_MASK, self.pct_u32(OFF_EXT_MASK) | args[1])
        elif nr == HC_SET_IRQPEND:
            self._set_pct_u32(OFF_HW_PEND, self.pct_u32(OFF_HW_PEND) | args[0])
            self._set_pct_u32(OFF_EXT_PEND, self.pct_u32(OFF_EXT_PEND) | args[1])
        elif nr == HC_CLEAR_IRQPEND:
            self._set_pct_u32(OFF_HW_PEND, self.pct_u32(OFF_HW_PEND) & ~args[0])
            self._set_pct_u32(OFF_EXT_PEND, self.pct_u32(OFF_EXT_PEND) & ~args[1])
        elif nr == HC_ROUTE_IRQ:
            kind, irq, vector = args[0], args[1], args[2] & 0xFFFF
            table = {0: OFF_TRAP_TO_VECTOR, 1: OFF_HW_TO_VECTOR, 2: OFF_EXT_TO_VECTOR}.get(kind)
            if table is None or irq >= 32:
                result = PRTOS_INVALID_PARAM
            else:
                uc.mem_write(self.pct_base + table + 2 * irq, struct.pack("<H", vector))
        elif nr == HC_GET_VCPUID:
            result = self.vcpu
        elif nr in (HC_LOAD_GDT, HC_LOAD_IDTR):
            limit, base = struct.unpack("<HI", uc.mem_read(args[0], 6))
            uc.mem_write(self.pct_base + (OFF_GDTR if nr == HC_LOAD_GDT else OFF_IDTR), struct.pack("<HI", limit, base))
            if nr == HC_LOAD_IDTR:
                self._set_pct_u32(OFF_MAX_IDT_VEC, (limit + 1) // 8)
        elif nr == HC_SET_IF:
            self._set_pct_u32(OFF_IFLAGS, self.pct_u32(OFF_IFLAGS) | IF_BIT)
            result = None
        elif nr == HC_CLEAR_IF:
            self._set_pct_u32(OFF_IFLAGS, self.pct_u32(OFF_IFLAGS) & ~IF_BIT)
            result = None
        elif nr >= 44:
            result = PRTOS_UNKNOWN_HYPERCALL
        if result is not None:
            uc.reg_write(UC_X86_REG_EAX, result & 0xFFFFFFFF)

    # -- running -----------------------------------------------------------------------------

    def run(self, timeout_s: float = 10.0, max_instructions: int = 200_000_000) -> Guest:
        """Run from the entry point (EBX = PCT base) until the partition halts."""
        self.uc.reg_write(UC_X86_REG_EBX, PCT_ADDR)
        self.uc.reg_write(UC_X86_REG_EFLAGS, 0x2)
        try:
            self.uc.emu_start(self.entry, 0xFFFFFFFF, timeout=int(timeout_s * 1_000_000), count=max_instructions)
        except UcError as exc:
            self.error = f"{exc} at {self.uc.reg_read(UC_X86_REG_EIP):#x}"
        return self

    @property
    def text(self) -> str:
        """Everything written to the console."""
        return self.console.decode("latin-1")

    def hypercall_numbers(self) -> list[int]:
        """The numbers of the hypercalls made, in order."""
        return [nr for nr, _ in self.calls]


# -- building test programs --------------------------------------------------------------------

C_DIR = Path(__file__).resolve().parent / "c"


def shared_cache(base_temp: Path) -> Path:
    """A build cache shared by the pytest-xdist workers of one run (the cache is concurrency-safe).

    Each worker's base temp dir is ``.../pytest-N/popen-gwK``; their parent belongs to this run
    only, so the SDK libraries are compiled once per run rather than once per worker.
    """
    root = base_temp.parent if base_temp.name.startswith("popen-gw") else base_temp
    path = root / "prtosd-build-cache"
    path.mkdir(parents=True, exist_ok=True)
    return path
