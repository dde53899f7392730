"""The vCPU engine: one partition vCPU under Unicorn, driven run by run by the process loop.

The process loop (not this module) talks to the supervisor. It calls :meth:`VCpu.run` with a budget
of virtual cycles and the HW clock at the start of the run; the engine executes guest code until
the budget is used up exactly, the guest idles, a CPU exception needs the health monitor, or a
hypercall needs the supervisor, and says which in a :class:`RunResult`. Local hypercalls, timers,
virtual interrupt injection and the virtual IRET are served inside the run without a round trip.

Virtual time: one guest instruction is one cycle at ``System.cpu_khz``; every hypercall and the
IRET entry cost :data:`HYPERCALL_COST_CYCLES` more (clamped to what is left of the budget, so a run
never overshoots). µs = cycles * 1000 // khz, computed from integer cycle counts so no remainder is
ever lost. Nothing guest-visible depends on wall-clock time.

CPU model: protected mode at privilege level 1 with flat segments CS = 0x139 and DS = ES = SS =
0x141 (a 41-entry GDT kept read-only right after the PCT array), IOPL 0 and no TSS. So ``cli``,
``sti``, ``hlt``, ``in``/``out``, CR/DR moves and the descriptor-table instructions raise a real #GP
in the emulated CPU. All interrupts and exceptions stop the run through native hooks
(partitiond.native) and are decided in Python after ``emu_start`` returns; after an exception the
CPU is put back into a clean saved context (registers carried over), because Unicorn never
completes the exception delivery and the next fault would otherwise escalate to a double fault.

Counting: by default (``block_counting``) a native block hook adds each translated block's
instruction count, from a table keyed by (start, byte size) that the engine fills from Unicorn's
own translation (``ctl_request_cache``; blocks that may hold an in/out are decoded, see below), and stops
before a block that is not in the table yet or that would overrun the chunk. The last, partial
block of a chunk runs under the per-instruction counter added for that block's range only (its
translated code is dropped before and after). A stop inside a block (a fault, a trap, a
hypercall, an ungranted in/out) is turned into per-instruction terms from EIP and the block's
instruction boundaries, read from the encoding when they agree with Unicorn's count of the block
(partitiond.decoder), else found by Unicorn's decoder on a private CPU in the guest's context
(:class:`_Decoder`): the count, the faulting pc and size are exactly those of the
per-instruction counter, which stays available (``block_counting=False``, and always with the
Python fallback hooks) as the reference method. Unicorn honours a stop requested from the Python
port hooks only after a code hook or at a block start, so the instruction after each in/out gets
an empty native code hook. The table is emptied when guest code is rewritten through the engine
(``write_guest``, ``flush_code_cache``, reset). Not covered: a guest rewriting its own code so that
a block keeps its start and byte size but changes its instruction count; use the per-instruction
counter for such guests.

Spin fast-forward: guests busy-wait (``while (ticks < 5) ;``, ``for (;;) ;``) for whole slots, which
at 1 GHz is billions of instructions. Inside one ``_execute`` chunk nothing outside the vCPU can act
on it: chunks end at every injection point, at the budget and at the cycle a timer fires. Every
``_spin_window`` instructions the engine probes: it notes the state S at EIP = e, then executes (for
real, counted) until e comes round again, L instructions later, with a native write recorder
installed and the iteration's instruction addresses recorded. The state after the iteration is a
deterministic function of the state before it when nothing else feeds it: no memory write, no
interrupt, no hypercall, no fault, no instruction with a time- or host-dependent result (``rdtsc``,
``rdtscp``, ``rdpmc``, ``rdrand``, ``rdseed``; all of them trap anyway, see below; ``in`` on a
granted port is a constant, ``cpuid`` too).
If in addition the registers the guest can change at ring 1 are identical (general registers, EIP,
EFLAGS, segment selectors, and x87/SSE state for FP partitions; CRs, descriptor tables and MSRs
cannot change without a hypercall or a #GP) and memory is unchanged (nothing was written), the CPU
is back in state S: the next iteration is the same function applied to the same state, and so on
until something outside changes. So the remaining ``left`` instructions of the chunk are ``left //
L`` identical iterations followed by ``left % L`` instructions of one more: the engine adds
``(left // L) * L`` to the counter and both clocks without executing them and executes the rest, so
the chunk ends at the same instruction, in the same state, as without fast-forward (timers fire and
interrupts are injected at exactly the same instruction boundary). A failed probe (or one a
hypercall, IRET or fault ends) multiplies the window by :data:`SPIN_WINDOW_GROWTH` (up to
:data:`SPIN_WINDOW_MAX`), a successful one resets it to :data:`SPIN_WINDOW_MIN`, so a guest that
never spins pays one short probe per ~16 M instructions. With block counting, the
probe's iteration runs under the per-instruction counter on the pages around e (the addresses of
its instructions are needed); an iteration that leaves those pages is not taken for a spin.

Kept proofs: a spinning guest on a multi-CPU system gets one 10 ms grant after another, and each
used to prove its spin again (a probe drops and retranslates the code around it). So after a
successful probe one more iteration is executed with a read recorder, and the proof is kept
(:class:`_SpinProof`): the state S at e, L, the CPU state only hypercalls change, and the bytes
of the memory the iteration reads and of its code. A later chunk that starts in the loop executes
up to e (less than one iteration) and, if the state, the hidden state and those bytes are all equal
to the kept ones, skips the whole iterations at once: the same function of the same input, so the
same result as probing again. Nothing that happens in between needs tracking (an interrupt
handler that returns into the loop, a write by the supervisor or by another partition, a changed
register): it counts only through what is compared. Resets and code changes drop the proof.

Host-dependent instructions (docs/abi.md): CR4.TSD makes ``rdtsc``/``rdtscp`` raise #GP at ring 1;
the engine answers with the virtual HW clock in cycles (:meth:`VCpu._time_stamp`) and the guest
never sees the fault. ``rdpmc`` faults (CR4.PCE is clear). The CPU model (:data:`CPU_MODEL`) has no
RDRAND/RDSEED: CPUID does not offer them and they raise #UD.

Local hypercalls in place: the native interrupt hook offers ``int $0x82`` to
:meth:`VCpu._fast_hypercall` before stopping. The ``int`` ends its translated block, so the
counter is exact there; every call but ``idle_self`` is served there and the emulation goes on
after the ``int``, the chunk's instruction budget shrunk by the cycles charged. The first call at
each site takes the stopping path, which checks that it is a plain ``int $0x82`` and remembers
the site (by block, forgotten with the block counts). Where the stopping path would act at the
injection point after the call (something deliverable, a timer due within the chunk, the chunk
used up), the hook ends the emulation before the next block instead, so the outcome is the same.

Memory another process writes while this one runs: the supervisor changes guest memory only while
the vCPU is stopped (grant boundaries, forwarded hypercalls), so within a chunk the only concurrent
writers are vCPUs of the same partition, or partitions sharing an area, running on another CPU at
the same time. Their writes reach a spinning vCPU at a point that depends on the relative wall-clock
speed of two processes, which prtosd does not order within a quantum (the documented exception). A
fast-forward never crosses the end of the chunk, so it never reaches past the run's budget, which
is at most one quantum: the write is seen no later than the end of the current run, an outcome that
executing the loop could also produce if the writer's process had been descheduled.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import os
import struct
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import IntEnum, StrEnum
from typing import Protocol

from unicorn import (
    UC_ARCH_X86,
    UC_ERR_INSN_INVALID,
    UC_HOOK_CODE,
    UC_HOOK_INSN,
    UC_HOOK_MEM_READ,
    UC_MODE_32,
    Uc,
    UcError,
)
from unicorn import x86_const as X
from unicorn.unicorn_const import UC_CTL_IO_WRITE, UC_CTL_TB_REMOVE_CACHE
from unicorn.unicorn_py3.unicorn import uclib

from hm.audit import IRQ_EMUL, MOD_HCALLS, MOD_IRQS, hcall_begin_records, hcall_end_record, pack_event
from partitiond import decoder, native
from partitiond.hypercalls import (
    HYPERCALL_VECTOR,
    IRET_VECTOR,
    PRTOS_INVALID_PARAM,
    PRTOS_OK,
    PRTOS_OP_NOT_ALLOWED,
    PRTOS_UNKNOWN_HYPERCALL,
    VOID_CALLS,
    lookup,
)
from partitiond.memory import PRTOS_OFFSET, AddressSpace, MemoryMapError
from partitiond.pct import CPU_FLAG_IF, CR0_EM, CR0_ET, CR0_PE, CR0_PG, PCT_ADDR, PctArray
from prtosd.config.model import PartitionFlag, System

#: Extra virtual cycles charged for each hypercall and for the IRET entry.
HYPERCALL_COST_CYCLES = 100

#: Spin probes (module docstring): instructions executed between probes after a found spin, the
#: ceiling the interval doubles to while none is found, and the longest iteration looked for.
SPIN_WINDOW_MIN = 4096
SPIN_WINDOW_MAX = 1 << 24
#: A failed probe multiplies the interval by this: a guest that does not spin reaches the ceiling
#: after six probes (each drops and retranslates the code around it).
SPIN_WINDOW_GROWTH = 4
SPIN_MAX_PERIOD = native.PROBE_MAX
#: A proof is kept for later runs only if one iteration reads at most this many memory places and
#: its code spans at most this many bytes: checking them must stay far cheaper than a new probe.
SPIN_PROOF_MAX_READS = 64
SPIN_PROOF_MAX_CODE = 0x2000

#: The emulated CPU (docs/abi.md): Sandy Bridge, the last Intel core without RDRAND/RDSEED, so that
#: CPUID does not offer them and executing them raises #UD (Unicorn's default model returns host
#: random numbers, which would make runs differ).
CPU_MODEL = X.UC_CPU_X86_SANDYBRIDGE
#: CR4.TSD: rdtsc/rdtscp at ring 1 raise #GP, which the engine turns into a read of the virtual clock.
CR4_TSD = 0x4

GUEST_CS_SEL = 0x139
GUEST_DS_SEL = 0x141
_GDT_ENTRIES = 41
_RING0_DS = 0x10  # used only while dropping to ring 1

#: Traps whose injection pushes an error code (ERRCODE_TAB = 0x27D00).
ERRCODE_TRAPS = frozenset({8, 10, 11, 12, 13, 14, 17})
PRTOS_EXT_TRAPS = 1 << 16
TRAP_GP = 13
TRAP_PF = 14

# HM events (partition-api.md §10.8).
HM_EV_FATAL_ERROR = 0
HM_EV_MEM_PROTECTION = 4
HM_EV_X86_BASE = 6
HM_EV_X86_GENERAL_PROTECTION = 6 + TRAP_GP
HM_EV_X86_PAGE_FAULT = 6 + TRAP_PF

# Flags the virtual IRET restores from the popped EFLAGS: CF PF AF ZF SF TF DF OF.
_IRET_FLAGS = 0x0FD5
_UNTIL = 0xFFFFFFFF  # never reached: that page can never be mapped
_FETCH_TYPES = (21, 24)  # UC_MEM_FETCH_UNMAPPED, UC_MEM_FETCH_PROT
_PROT_TYPES = (22, 23, 24)  # UC_MEM_WRITE_PROT, UC_MEM_READ_PROT, UC_MEM_FETCH_PROT
_WRITE_TYPES = (20, 22)  # UC_MEM_WRITE_UNMAPPED, UC_MEM_WRITE_PROT
#: uc_ctl code of UC_CTL_TB_REMOVE_CACHE with two arguments (the binding's ctl wrapper costs µs per call).
_CTL_REMOVE_CACHE = UC_CTL_TB_REMOVE_CACHE | (2 << 26) | (UC_CTL_IO_WRITE << 30)
_I64 = struct.Struct("<q")
#: Local hypercalls that change what can be delivered: the IRQ masks and pending bits, the virtual IF.
_IRQ_STATE_CALLS = frozenset({15, 16, 17, 18, 42, 43})
#: read_object and write_object: the queuing receive and send a port credit may cover.
_CREDIT_CALLS = frozenset({11, 12})
_SEG_IDS = (X.UC_X86_REG_DS, X.UC_X86_REG_ES, X.UC_X86_REG_FS, X.UC_X86_REG_GS, X.UC_X86_REG_SS)
#: CPU state a ring-1 guest changes only through hypercalls; part of a kept spin proof all the same.
_HIDDEN_IDS = (X.UC_X86_REG_CR0, X.UC_X86_REG_CR3, X.UC_X86_REG_CR4, X.UC_X86_REG_CS)


@dataclass(frozen=True, slots=True)
class _SpinProof:
    """A proven fixed-point loop, kept so that a later run resuming it need not probe it again.

    One iteration from (``pc``, ``state``) returns to them after ``period`` instructions, writes no
    memory and depends on nothing but the registers, the ``hidden`` CPU state, its code and the
    memory it reads. When all of these are equal again (``reads``/``code``: host address, length,
    bytes then), the iteration is the same function of the same input and the loop may be
    skipped at once; whatever happened in between (an interrupt handler that returned to the
    loop, a write by the supervisor or another partition) matters only through them.
    """

    pc: int
    period: int
    state: tuple[object, ...]
    hidden: tuple[object, ...]
    index: dict[int, int]  # address → position in the iteration, for addresses it passes once
    memory: tuple[tuple[int, int, bytes], ...]  # the memory read and the code, as host spans


class ResetMode(IntEnum):
    """PRTOS_COLD_RESET / PRTOS_WARM_RESET; VCPU is ``prtos_reset_vcpu`` (counter + 1, no reload)."""

    COLD = 0
    WARM = 1
    VCPU = 2


class RunKind(StrEnum):
    """Why :meth:`VCpu.run` returned."""

    BUDGET = "budget"  # the budget is used up exactly
    IDLE = "idle"  # prtos_idle_self: rest of the slot is idle; EAX already holds 0
    HYPERCALL = "hypercall"  # a call for the supervisor; answer with complete_hypercall()
    EXCEPTION = "exception"  # an HM event (CPU exception or partition panic), see RunResult.trap
    HALTED = "halted"  # the vCPU cannot run until it is reset (after a panic)


@dataclass(frozen=True, slots=True)
class HypercallRequest:
    """A hypercall forwarded to the supervisor: number, table name, raw argument words."""

    nr: int
    name: str
    args: tuple[int, int, int, int, int]  # EBX, ECX, EDX, ESI, EDI


@dataclass(frozen=True, slots=True)
class TrapInfo:
    """An HM event raised by the vCPU (partition-api.md §14.3; semantics.md §9.5)."""

    event: int  # HM event id
    trap: int | None  # x86 trap number, None for FATAL_ERROR
    pc: int  # faulting EIP (next EIP for traps such as int3)
    eflags: int  # EFLAGS with bit 9 = the virtual IF
    error_code: int = 0
    cr2: int | None = None  # faulting address of a page fault / memory protection event
    reason: str = ""


@dataclass(frozen=True, slots=True)
class RunResult:
    """Outcome of one :meth:`VCpu.run`: ``cycles`` of virtual time used, of which ``instructions``."""

    kind: RunKind
    cycles: int
    instructions: int
    hypercall: HypercallRequest | None = None
    trap: TrapInfo | None = None


@dataclass(slots=True)
class Timer:
    """One armed timer: fires when its clock (µs) reaches ``value``; ``fire_cycle`` is that moment."""

    value: int
    interval: int
    fire_cycle: int


class ConsoleStream(Protocol):
    def write(self, text: str, /) -> object: ...


class EngineError(Exception):
    """The engine was driven wrongly (a bug of the caller, never of the guest)."""


_REG_IDS = (
    X.UC_X86_REG_EAX,
    X.UC_X86_REG_EBX,
    X.UC_X86_REG_ECX,
    X.UC_X86_REG_EDX,
    X.UC_X86_REG_ESI,
    X.UC_X86_REG_EDI,
    X.UC_X86_REG_EBP,
    X.UC_X86_REG_ESP,
    X.UC_X86_REG_EIP,
    X.UC_X86_REG_EFLAGS,
)
REG_NAMES = ("eax", "ebx", "ecx", "edx", "esi", "edi", "ebp", "esp", "eip", "eflags")
_FP_REGS = (
    *(getattr(X, f"UC_X86_REG_FP{i}") for i in range(8)),
    X.UC_X86_REG_FPSW,
    X.UC_X86_REG_FPCW,
    X.UC_X86_REG_FPTAG,
    *(getattr(X, f"UC_X86_REG_XMM{i}") for i in range(8)),
    X.UC_X86_REG_MXCSR,
)


class _Regs:
    """Register access through raw ctypes calls (the binding's reg_read costs several µs)."""

    def __init__(self, uc: Uc, ids: tuple[int, ...] = _REG_IDS) -> None:
        self.uch = uc._uch
        n = len(ids)
        self.ids = (ctypes.c_int32 * n)(*ids)
        self.vals = (ctypes.c_uint32 * n)()
        base = ctypes.addressof(self.vals)
        self.ptrs = (ctypes.c_void_p * n)(*(base + 4 * i for i in range(n)))
        self.one = ctypes.c_uint32()

    def read_all(self) -> list[int]:
        uclib.uc_reg_read_batch(self.uch, self.ids, self.ptrs, len(self.ids))
        return self.vals[:]  # slicing a ctypes array is 5x faster than list()

    def write_all(self, values: list[int]) -> None:
        for i, v in enumerate(values):
            self.vals[i] = v & 0xFFFFFFFF
        uclib.uc_reg_write_batch(self.uch, self.ids, self.ptrs, len(self.ids))

    def read(self, reg: int) -> int:
        uclib.uc_reg_read(self.uch, reg, ctypes.byref(self.one))
        return self.one.value

    def write(self, reg: int, value: int) -> None:
        self.one.value = value & 0xFFFFFFFF
        uclib.uc_reg_write(self.uch, reg, ctypes.byref(self.one))


def _s64(lo: int, hi: int) -> int:
    v = (hi << 32) | lo
    return v - (1 << 64) if v & (1 << 63) else v


def _s32(v: int) -> int:
    return v - (1 << 32) if v & 0x80000000 else v


def _lowest_bit(word: int) -> int:
    return (word & -word).bit_length() - 1


def _descriptor(base: int, limit: int, access: int) -> bytes:
    """A flat 32-bit segment descriptor, 4 KiB granular (G=1, D=1)."""
    return struct.pack(
        "<HHBBBB",
        limit & 0xFFFF,
        base & 0xFFFF,
        (base >> 16) & 0xFF,
        access,
        0xC0 | ((limit >> 16) & 0xF),
        (base >> 24) & 0xFF,
    )


def _new_cpu() -> Uc:
    """A 32-bit x86 CPU of :data:`CPU_MODEL` (set before its first use, as Unicorn requires)."""
    uc = Uc(UC_ARCH_X86, UC_MODE_32)
    uc.ctl_set_cpu_model(CPU_MODEL)
    return uc


@contextmanager
def _pct_setup_lock(memory: AddressSpace) -> Iterator[None]:
    """An exclusive lock per partition (a lock file next to its PCT file) for CPU set-up."""
    fd = os.open(memory.run_dir / f"pct-{memory.partition.id}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


class _Decoder:
    """Instruction boundaries of a translated block, found by Unicorn's own decoder.

    A private CPU in the guest's clean context (ring 1, the same CR0/CR4, so instructions that
    fault at translation report the same size) gets a copy of the block's bytes; a code hook
    records each instruction and moves EIP past it before it executes, so nothing of the block
    runs and every instruction is seen exactly as the guest's per-instruction counter sees it.
    """

    BASE = 0x10000
    SPAN = 0x4000
    _shared: dict[bool, _Decoder] = {}  # noqa: RUF012 - one per FPU setting and process

    @classmethod
    def shared(cls, context: object, fp: bool) -> _Decoder:
        """The process's decoder for guests with this FPU setting (a new CPU costs milliseconds).

        Clean contexts differ only in the GDT base (not used to decode) and in CR0/CR4, which
        depend on the FPU flag alone.
        """
        decoder = cls._shared.get(fp)
        if decoder is None:
            decoder = cls._shared[fp] = cls(context)
        return decoder

    def __init__(self, context: object) -> None:
        self.uc = _new_cpu()
        self.uc.context_restore(context)  # type: ignore[arg-type]
        self.uc.mem_map(self.BASE, self.SPAN)
        self.found: list[tuple[int, int]] = []
        self.end = 0
        self.uc.hook_add(UC_HOOK_CODE, self._on_code)

    def _on_code(self, uc: Uc, address: int, size: int, _data: object) -> None:
        try:
            self.found.append((address, size))
            if address + size >= self.end or len(self.found) > 4096:
                uc.emu_stop()
            else:
                uc.reg_write(X.UC_X86_REG_EIP, address + size)
        except Exception:  # never let an exception cross Unicorn
            uc.emu_stop()

    def decode(self, pc: int, code: bytes) -> tuple[tuple[int, int], ...]:
        """(address, size) of the instructions of ``code`` located at ``pc`` (same page offset)."""
        if not code or (pc & 0xFFF) + len(code) + 16 > self.SPAN:
            return ()
        base = self.BASE + (pc & 0xFFF)
        self.uc.ctl_flush_tb()
        self.uc.mem_write(base, code + bytes(16))
        self.found, self.end = [], base + len(code)
        with contextlib.suppress(UcError):
            self.uc.emu_start(base, _UNTIL)
        return tuple((pc + a - base, s) for a, s in self.found)


class VCpu:
    """One partition vCPU: Unicorn CPU, PCT block, timers, virtual interrupts, local hypercalls."""

    def __init__(
        self,
        system: System,
        partition_id: int,
        vcpu_id: int,
        memory: AddressSpace,
        console: ConsoleStream | None = None,
        *,
        native_hooks: bool = True,
        spin_fast_forward: bool = True,
        block_counting: bool = True,
        fast_hypercalls: bool = True,
    ) -> None:
        self.system = system
        self.partition = system.partitions[partition_id]
        self.partition_id = partition_id
        self.vcpu_id = vcpu_id
        self.memory = memory
        self.console = console
        self.khz = system.cpu_khz
        self.fp = bool(self.partition.flags & PartitionFlag.FP)
        self.pcts = PctArray(system, self.partition, memory.pct_map)
        self.pct = self.pcts.pct(vcpu_id)
        self.uc = _new_cpu()
        memory.map_into(self.uc)
        self.hooks = native.install(self.uc, force_python=not native_hooks, block=block_counting)
        self._hs = self.hooks.state
        self.block_counting = self.hooks.block  # False: the per-instruction counter (the reference method)
        self._decoder: _Decoder | None = None
        self._decoded: dict[tuple[int, int], tuple[tuple[int, int], ...]] = {}  # (pc, size) → instructions
        self._code_pages: dict[int, set[tuple[int, int]]] = {}  # page → blocks of the table on it
        self._io_stops: set[int] = set()  # addresses with a stop point after an in/out, see _learn
        self._io_pc = 0  # address of an ungranted in/out
        self._regs = _Regs(self.uc)
        self._segs = _Regs(self.uc, _SEG_IDS)
        self.spin_fast_forward = spin_fast_forward
        self.spin_skipped = 0  # instructions accounted by fast-forward instead of executed (a statistic)
        self.served_in_place = 0  # local hypercalls served inside the interrupt hook (a statistic)
        self.time_stamps = 0  # rdtsc/rdtscp executed (a statistic)
        # Audit events of the hypervisor trace (hm.audit) that happen here, only for the modules the
        # configuration selects: packed records the process ships to the supervisor (take_audit).
        htrace = system.hypervisor.trace
        modules = htrace.bitmask if htrace is not None else 0
        self.audit_hcalls = bool(modules >> MOD_HCALLS & 1)
        self.audit_irqs = bool(modules >> MOD_IRQS & 1)
        self.audit_log = bytearray()
        self._spin_window = SPIN_WINDOW_MIN
        # The latest proven spin (None: none, or forgotten with the code); spin_resume=False always
        # probes again (the reference method of the tests).
        self._proof: _SpinProof | None = None
        self.spin_resume = True
        self.spin_resumed = 0  # chunks that resumed a kept proof without a probe (a statistic)
        # (EIP, elapsed) at the end of the latest chunk that skipped iterations of a proven spin
        # (spin_wake): still equal at the end of the run, the vCPU is in its loop, unchanged.
        self._spun_at: tuple[int, int] | None = None
        self._spun = False
        self._hidden = _Regs(self.uc, _HIDDEN_IDS)
        self._mmr = ctypes.create_string_buffer(32)  # a uc_x86_mmr (GDTR, IDTR), read raw
        self._io = tuple((r.base, r.base + r.no_ports) for r in self.partition.io_ranges)
        self._io_fault: int | None = None  # EAX before an ungranted in/out (to undo the access)
        self.uc.hook_add(UC_HOOK_INSN, self._on_in, None, 1, 0, X.UC_X86_INS_IN)
        self.uc.hook_add(UC_HOOK_INSN, self._on_out, None, 1, 0, X.UC_X86_INS_OUT)
        # The entry stub and a temporary ring-0 descriptor live for a moment in the PCT page that
        # all vCPU processes of this partition share: set up one vCPU at a time.
        with _pct_setup_lock(memory):
            self._clean = self._enter_ring1()
        # Run-independent state.
        self.exec_cycles = 0  # EXEC clock of this vCPU, in cycles (kept across resets, D-18)
        self.instructions = 0  # guest instructions retired since creation
        self.timers: list[Timer | None] = [None, None]  # [HW, EXEC]
        self.trap_pending: tuple[int, int] | None = None
        self.idt_gates: dict[int, tuple[int, int]] = {}  # vector → (selector, offset), call 41
        self.gdt_entries: dict[int, bytes] = {}
        self.tss_stacks: dict[int, tuple[int, int]] = {}  # level → (ss, sp), calls 36/39
        self.halted = True  # until the first reset
        self._eip = 0
        self._awaiting: int | None = None  # hypercall number awaiting complete_hypercall()
        self._last_fault: tuple[int, int] | None = None  # (pc, size) of the latest fault
        # Per-run state.
        self._hw_base = 0
        self._elapsed = 0
        self._budget = 0
        self._run_instr = 0
        self._acct = 0  # instructions of the current _emulate already accounted (by in-place hypercalls)
        self._chunk_end = 0  # _elapsed at which the current _execute chunk ends
        self._break = False  # an in-place hypercall ended the chunk early (an injection point is due)
        self._quiet = False  # nothing deliverable since the last check (only local hypercalls change that)
        self._hc_sites: set[int] = set()  # keys (_site_key) of verified plain ``int $0x82`` (cleared with the code)
        self._time_ptr = -1  # get_time's latest buffer (checked) ...
        self._time_cell: ctypes.c_int64 | None = None  # ... and a view of its host memory (None if split)
        self._code_gen = 0  # changes whenever the block table does
        self._time_gen = -1  # _code_gen when get_time's buffer was last seen not to overlap counted code
        self._local: dict[int, Callable[[list[int]], int | None]] = {
            8: self._hc_idle_self,
            9: self._hc_get_time,
            10: self._hc_set_timer,
            15: self._hc_clear_irqmask,
            16: self._hc_set_irqmask,
            17: self._hc_set_irqpend,
            18: self._hc_clear_irqpend,
            19: self._hc_route_irq,
            20: self._hc_not_allowed,
            21: self._hc_not_allowed,
            22: self._hc_ok,
            25: self._hc_ok,
            32: self._hc_get_vcpuid,
            33: self._hc_load_cr0,
            34: self._hc_load_cr3,
            35: self._hc_load_cr4,
            36: self._hc_load_tss,
            37: self._hc_load_gdt,
            38: self._hc_load_idtr,
            39: self._hc_update_ss_sp,
            40: self._hc_update_gdt,
            41: self._hc_update_idt,
            42: self._hc_set_if,
            43: self._hc_clear_if,
        }
        # Every local call but idle_self (it ends the run) can be served without stopping.
        self._fast = {nr: fn for nr, fn in self._local.items() if nr != 8}
        # Queuing calls on port credit (partitiond.credits): ``(nr, args, now) -> result``, None
        # to forward the call. Set by the partition process; served in the hook like a local call.
        self.port_credit: Callable[[int, tuple[int, ...], int], int | None] | None = None
        self.fast_hypercalls = fast_hypercalls
        if fast_hypercalls:
            self.hooks.set_fast_hypercall(HYPERCALL_VECTOR, self._fast_hypercall)

    # -- CPU set-up -----------------------------------------------------------------------------

    def _enter_ring1(self) -> object:
        """Install the flat GDT, drop to ring 1 with a one-instruction iret, save the clean context."""
        gdt = self.memory.gdt_addr
        table = bytearray(_GDT_ENTRIES * 8)
        for sel, access in ((GUEST_CS_SEL, 0xBB), (GUEST_DS_SEL, 0xB3), (_RING0_DS, 0x93)):
            # code DPL 1, data DPL 1, ring-0 stack for the drop (removed below); all "accessed"
            table[(sel >> 3) * 8 : (sel >> 3) * 8 + 8] = _descriptor(0, 0xFFFFF, access)
        stub = gdt + len(table)
        frame = stub + 8
        self.memory.write(gdt, bytes(table))
        self.memory.write(stub, b"\xcf")  # iret
        self.memory.write(frame, struct.pack("<5I", stub, GUEST_CS_SEL, 0x2, 0, GUEST_DS_SEL))
        uc = self.uc
        uc.reg_write(X.UC_X86_REG_GDTR, (0, gdt, len(table) - 1, 0))
        uc.reg_write(X.UC_X86_REG_SS, _RING0_DS)
        uc.reg_write(X.UC_X86_REG_ESP, frame)
        for seg in (X.UC_X86_REG_DS, X.UC_X86_REG_ES):
            uc.reg_write(seg, GUEST_DS_SEL)
        self._hs.arm(1)
        self._hs.learn(stub, 1, 1)  # the block counter needs the iret's block before any decoding
        uc.emu_start(stub, _UNTIL)
        self._hs.forget()
        if uc.reg_read(X.UC_X86_REG_CS) != GUEST_CS_SEL or uc.reg_read(X.UC_X86_REG_SS) != GUEST_DS_SEL:
            raise EngineError("could not enter ring 1")
        self.memory.write(gdt + (_RING0_DS >> 3) * 8, bytes(8))
        self.memory.write(stub, bytes(8 + 20))
        cr0 = uc.reg_read(X.UC_X86_REG_CR0)
        uc.reg_write(X.UC_X86_REG_CR4, uc.reg_read(X.UC_X86_REG_CR4) | CR4_TSD)  # rdtsc traps (_time_stamp)
        if self.fp:
            uc.reg_write(X.UC_X86_REG_CR4, uc.reg_read(X.UC_X86_REG_CR4) | 0x600)  # OSFXSR, OSXMMEXCPT
            uc.reg_write(X.UC_X86_REG_CR0, cr0 & ~CR0_EM)
        else:
            uc.reg_write(X.UC_X86_REG_CR0, cr0 | CR0_EM)  # x87 → #NM, SSE → #UD (§14.4)
        uc.ctl_flush_tb()
        return uc.context_save()

    def _recover(self) -> None:
        """Restore the clean context, carrying the guest's registers (and FPU state) over."""
        regs = self._regs.read_all()
        fpu = [self.uc.reg_read(r) for r in _FP_REGS] if self.fp else None
        self.uc.context_restore(self._clean)
        self._regs.write_all(regs)
        if fpu is not None:
            for r, v in zip(_FP_REGS, fpu, strict=True):
                self.uc.reg_write(r, v)

    # -- control by the process loop ---------------------------------------------------------------

    def reset(self, mode: ResetMode, entry: int, *, reset_status: int = 0, cr3: int = 0) -> None:
        """Restart the vCPU at ``entry`` with the entry state of §14.1 and a fresh PCT (§12.2).

        Cold: ``reset_counter`` = 0; warm and vCPU reset: previous + 1. Timers are disarmed (D-18);
        the EXEC clock is kept. The caller reloads the image before a cold reset.
        """
        counter = 0 if mode == ResetMode.COLD else self.pct.reset_counter + 1
        self.uc.context_restore(self._clean)
        regs = [0] * len(_REG_IDS)
        regs[1] = PCT_ADDR  # EBX
        regs[8] = entry
        regs[9] = 0x2
        self._regs.write_all(regs)
        self.pcts.reset(self.vcpu_id, reset_counter=counter, reset_status=reset_status, cr3=cr3)
        self.timers = [None, None]
        self.trap_pending = None
        self.idt_gates.clear()
        self.gdt_entries.clear()
        self.tss_stacks.clear()
        self._eip = entry
        self._awaiting = None
        self._last_fault = None
        self.halted = False
        self._flush()  # the image may have been reloaded host-side

    def flush_code_cache(self) -> None:
        """Drop translated code (after guest code was rewritten host-side)."""
        self._flush()

    def _flush(self) -> None:
        """Drop translated code and every block count learnt from it."""
        self.uc.ctl_flush_tb()
        self._forget()

    def complete_hypercall(self, result: int | None) -> None:
        """Finish a forwarded hypercall: ``result`` goes to EAX (None: leave EAX, e.g. a void call)."""
        if self._awaiting is None:
            raise EngineError("no hypercall is waiting for completion")
        if result is not None and self._awaiting not in VOID_CALLS:
            self._regs.write(X.UC_X86_REG_EAX, result)
        self._awaiting = None

    def propagate_trap(self, trap: int, error_code: int = 0) -> None:
        """Make ``trap`` pending (HM action PROPAGATE); it is injected at the next injection point."""
        self.trap_pending = (trap, error_code)

    def skip_instruction(self) -> bool:
        """Resume after the latest faulting instruction instead of re-executing it."""
        if self._last_fault is None or self._last_fault[0] != self._eip:
            return False
        self._eip = (self._last_fault[0] + self._last_fault[1]) & 0xFFFFFFFF
        self._last_fault = None
        return True

    def raise_ext_irq(self, n: int) -> None:
        """Make extended IRQ ``n`` pending (coalescing, K-04); delivered at the next injection point."""
        if not self.halted:
            self.pct.ext_irqs_pend |= 1 << n

    def set_slot(self, index: int, slot_id: int, duration_us: int) -> None:
        """Record the dispatching slot in ``cyclic_sched_info`` (semantics.md §1.4)."""
        info = self.pct.cyclic_sched_info
        info.num_of_slots, info.id, info.slot_duration = index, slot_id, duration_us

    def halt(self) -> None:
        """Stop for good until the next reset."""
        self.halted = True

    @property
    def eip(self) -> int:
        return self._eip

    def registers(self) -> dict[str, int]:
        """The guest registers (EIP as the engine will resume)."""
        regs = dict(zip(REG_NAMES, self._regs.read_all(), strict=True))
        regs["eip"] = self._eip
        return regs

    def set_register(self, name: str, value: int) -> None:
        """Write one guest register by name (``eip`` moves the resume point)."""
        if name == "eip":
            self._eip = value & 0xFFFFFFFF
        else:
            self._regs.write(_REG_IDS[REG_NAMES.index(name)], value)

    def read_guest(self, addr: int, length: int) -> bytes:
        """Guest bytes (the caller checked the range with ``memory.check``)."""
        return self.memory.read(addr, length)

    def write_guest(self, addr: int, data: bytes) -> None:
        """Write guest bytes through Unicorn (after rewriting code, call :meth:`flush_code_cache`).

        A write over a block the block counter has counted also drops that translated code and
        every count, so that no count outlives the code it was learnt from.
        """
        self.uc.mem_write(addr, data)
        end = addr + len(data)
        if self._overlaps_code(addr, end):
            self._remove_cache(addr, end)
            self._forget()

    def _overlaps_code(self, addr: int, end: int) -> bool:
        """True if ``[addr, end)`` overlaps a block of the block table."""
        first, last = addr >> 12, (end - 1) >> 12
        if last - first >= len(self._code_pages):  # a long range (a guest may pass any size): the pages with code
            pages: Iterable[int] = [p for p in self._code_pages if first <= p <= last]
        else:
            pages = range(first, last + 1)
        blocks = self._code_pages
        return any(pc < end and addr < pc + size for page in pages for pc, size in blocks.get(page, ()))

    def _forget(self) -> None:
        """Drop every learnt block count (translated code is dropped by the caller)."""
        self._hs.forget()
        self._decoded.clear()
        self._code_pages.clear()
        self._hc_sites.clear()
        self._proof = None
        self._code_gen += 1

    # -- time -----------------------------------------------------------------------------------

    def to_us(self, cycles: int) -> int:
        """Cycles → µs (floor)."""
        return cycles * 1000 // self.khz

    def to_cycles(self, us: int) -> int:
        """The first cycle count whose µs value reaches ``us`` (ceil)."""
        return -(-us * self.khz // 1000)

    @property
    def exec_time_us(self) -> int:
        """EXEC clock of this vCPU in µs."""
        return self.to_us(self.exec_cycles)

    def _clock_cycles(self, clock: int) -> int:
        return self._hw_base + self._elapsed if clock == 0 else self.exec_cycles

    def _fire_timers(self) -> None:
        for clock, t in enumerate(self.timers):
            if t is None:
                continue
            now = self._clock_cycles(clock)
            if now < t.fire_cycle:
                continue
            self.pct.ext_irqs_pend |= 1 << clock  # ext IRQ 0 (HW timer) or 1 (EXEC timer)
            if t.interval > 0:
                now_us = self.to_us(now)
                t.value += ((now_us - t.value) // t.interval + 1) * t.interval  # missed periods collapse
                t.fire_cycle = self.to_cycles(t.value)
            else:
                self.timers[clock] = None

    def _cycles_to_timer(self) -> int:
        left = 1 << 62
        for clock, t in enumerate(self.timers):
            if t is not None:
                left = min(left, t.fire_cycle - self._clock_cycles(clock))
        return max(left, 0)

    def _charge(self, cycles: int) -> None:
        """Advance virtual time by a fixed cost, never past the end of the budget."""
        cycles = max(0, min(cycles, self._budget - self._elapsed))
        self._elapsed += cycles
        self.exec_cycles += cycles

    # -- running --------------------------------------------------------------------------------

    def _result(self, kind: RunKind, **kw: object) -> RunResult:
        return RunResult(kind, self._elapsed, self._run_instr, **kw)  # type: ignore[arg-type]

    def run(self, budget: int, hw_cycles: int) -> RunResult:
        """Execute for at most ``budget`` cycles; ``hw_cycles`` is the HW clock (cycles since boot) now."""
        if self._awaiting is not None:
            raise EngineError(f"hypercall {self._awaiting} is still waiting for complete_hypercall()")
        self._hw_base, self._elapsed, self._budget, self._run_instr = hw_cycles, 0, budget, 0
        self._spun_at = None
        if self.halted:
            return self._result(RunKind.HALTED)
        while True:
            self._fire_timers()
            fatal = self._inject()  # every loop start is an injection point
            if fatal is not None:
                return fatal
            remaining = budget - self._elapsed
            if remaining <= 0:
                return self._result(RunKind.BUDGET)
            outcome = self._execute(min(remaining, self._cycles_to_timer()))
            if outcome is not None:
                return outcome

    def _execute(self, chunk: int) -> RunResult | None:
        """:meth:`_execute_chunk`, noting where a chunk that skipped a proven spin ends (:meth:`spin_wake`)."""
        self._spun = False
        outcome = self._execute_chunk(chunk)
        self._spun_at = (self._eip, self._elapsed) if self._spun and outcome is None and not self._break else None
        return outcome

    def spin_wake(self) -> int | None:
        """Cycles to the next timer if the run just ended inside a proven spin, else None.

        A run that ends that way leaves the vCPU in a loop that only an interrupt or a write to
        the memory it reads can leave (module docstring, spin fast-forward). Its process tells
        prtosd (the ``spin`` field of ``result``): when every CPU's vCPU is in that state, the
        next grants can reach the next timer of any of them in one go (prtosd.supervisor).
        """
        if self._spun_at != (self._eip, self._elapsed):
            return None  # no skip in the last chunk, or an interrupt was delivered after it
        return self._cycles_to_timer()

    def _execute_chunk(self, chunk: int) -> RunResult | None:
        """Execute ``chunk`` cycles (no injection point inside), fast-forwarding a proven spin.

        Hypercalls served in place charge their cost inside the chunk, so what is left of it is
        measured on the clock (``_chunk_end``), not by counting instructions.
        """
        self._chunk_end = self._elapsed + chunk
        self._break = False
        self._quiet = False  # _inject may have left something deliverable
        if self._proof is not None and self.spin_fast_forward and self.spin_resume:
            outcome, left = self._resume()
            if left < 0:
                return outcome
        while self.spin_fast_forward and self._chunk_end - self._elapsed > self._spin_window + SPIN_MAX_PERIOD:
            outcome = self._emulate(self._spin_window)
            if outcome is not None or not self._hs.stopped or self._break:
                return outcome  # the run ends, or a hypercall / IRET ended the chunk early
            outcome, left = self._probe(self._chunk_end - self._elapsed)
            if left < 0:
                return outcome
        left = self._chunk_end - self._elapsed
        return self._emulate(left) if left > 0 and not self._break else None

    def _probe(self, left: int) -> tuple[RunResult | None, int]:
        """Look for a fixed-point loop at the current EIP and skip its whole iterations within ``left``.

        Returns the outcome and what is left of the chunk, or ``-1`` when the chunk ended early.
        """
        hs = self._hs
        pc = self._eip
        before = self._spin_state()
        hs.probe_pc, hs.probe = pc, 1
        counter = 0
        lo, hi = max((pc & ~0xFFF) - 0x1000, 0), (pc & ~0xFFF) + 0x2000
        if self.block_counting:  # the probe needs every instruction address: count per instruction
            hs.exact, hs.exact_lo, hs.exact_hi = 1, lo, hi  # a loop leaving these pages is no spin
            counter = self.hooks.count_range(lo, hi - 1)
            self._drop_code(lo, hi)  # translated code there has no per-instruction call yet
        handle = self.hooks.watch_writes()
        try:
            outcome = self._emulate(min(left, SPIN_MAX_PERIOD))
        finally:
            self.hooks.unwatch(handle)
            hs.probe = 0
            if counter:
                self.hooks.drop(counter)
                hs.exact = 0
                self._drop_code(lo, hi)  # back to code without per-instruction calls
        if outcome is not None or not hs.stopped:
            self._spin_window = min(SPIN_WINDOW_GROWTH * self._spin_window, SPIN_WINDOW_MAX)  # no spin here
            return outcome, -1
        period = hs.count
        left -= period
        if (
            hs.probe_hit
            and not hs.wrote
            and self._eip == pc
            and self._deterministic(period)
            and self._spin_state() == before
        ):
            skip = left - left % period
            if self.spin_resume and skip >= 2 * period:  # keep the proof for the next runs
                outcome, kept = self._keep(pc, before, period)
                if kept < 0:
                    return outcome, -1
                left -= kept
                skip = left - left % period
            self._account(skip)
            self.spin_skipped += skip
            self._spun = skip > 0
            self._spin_window = SPIN_WINDOW_MIN
            return None, left - skip
        self._spin_window = min(SPIN_WINDOW_GROWTH * self._spin_window, SPIN_WINDOW_MAX)
        return None, left

    def _keep(self, pc: int, before: tuple[object, ...], period: int) -> tuple[RunResult | None, int]:
        """Execute one more iteration of a proven spin, recording what it reads, and keep the proof.

        Returns the outcome and the instructions executed, or ``-1`` when the chunk ended (it
        cannot for a proven spin; checked all the same). The iteration is executed, not skipped,
        so the run's result is the same as without keeping.
        """
        pcs = self._hs.probe_pcs[:period]
        reads: set[tuple[int, int]] = set()

        def on_read(_u: Uc, _access: int, address: int, size: int, _value: int, _data: object) -> None:
            reads.add((address, size))

        lo, hi = min(pcs) & ~0xFFF, (max(pcs) & ~0xFFF) + 0x1000
        handle = self.uc.hook_add(UC_HOOK_MEM_READ, on_read)
        self._drop_code(lo, hi)  # translated without the read hook: it would not be called there
        start = self._elapsed
        try:
            outcome = self._emulate(period)
        finally:
            self.uc.hook_del(handle)
            self._drop_code(lo, hi)
        if outcome is not None or not self._hs.stopped or self._break:
            return outcome, -1
        done = self._elapsed - start
        code_lo, code_hi = min(pcs), max(pcs) + 16
        if (
            self._eip != pc
            or done != period
            or len(reads) > SPIN_PROOF_MAX_READS
            or code_hi - code_lo > SPIN_PROOF_MAX_CODE
            or self._spin_state() != before
        ):
            return None, done
        try:
            spans = [(host, n) for addr, size in sorted(reads) for host, _off, n in self.memory.host_spans(addr, size)]
            spans += [(host, n) for host, _off, n in self.memory.host_spans(code_lo, code_hi - code_lo)]
        except MemoryMapError:  # a place outside the partition's areas (the PCT page): not kept
            return None, done
        counts: dict[int, int] = {}
        for a in pcs:
            counts[a] = counts.get(a, 0) + 1
        index = {a: i for i, a in enumerate(pcs) if counts[a] == 1}
        self._proof = _SpinProof(
            pc,
            period,
            before,
            self._hidden_state(),
            index,
            tuple((host, n, ctypes.string_at(host, n)) for host, n in spans),
        )
        return None, done

    def _resume(self) -> tuple[RunResult | None, int]:
        """Skip the whole iterations of a kept spin proof if the vCPU is back in its loop, unchanged.

        From an address of the iteration, the instructions up to its start are executed first
        (at most one iteration). Returns like :meth:`_probe`; ``0`` when nothing was skipped.
        """
        proof = self._proof
        assert proof is not None
        at = proof.index.get(self._eip)
        if at is None or self._chunk_end - self._elapsed < 2 * proof.period:
            return None, 0
        if at:
            outcome = self._emulate(proof.period - at)
            if outcome is not None or not self._hs.stopped or self._break:
                return outcome, -1
        if self._eip != proof.pc:
            return None, 0
        self._regs.write(X.UC_X86_REG_EIP, self._eip)  # stale after a virtual IRET; emu_start sets it anyway
        if (
            self._spin_state() != proof.state
            or self._hidden_state() != proof.hidden
            or any(ctypes.string_at(host, n) != data for host, n, data in proof.memory)
        ):
            return None, 0
        left = self._chunk_end - self._elapsed
        skip = left - left % proof.period
        self._account(skip)
        self.spin_skipped += skip
        self.spin_resumed += 1
        self._spun = skip > 0
        return None, left - skip

    def _hidden_state(self) -> tuple[object, ...]:
        """CPU state outside :meth:`_spin_state` the iteration may depend on (changed only by hypercalls)."""
        uch, mmr = self.uc._uch, self._mmr  # raw reads: the binding's reg_read of a table register costs ~50 µs
        uclib.uc_reg_read(uch, X.UC_X86_REG_GDTR, mmr)
        gdtr = mmr.raw
        uclib.uc_reg_read(uch, X.UC_X86_REG_IDTR, mmr)
        return (
            *self._hidden.read_all(),
            gdtr,
            mmr.raw,
            tuple(self.gdt_entries.items()),
            tuple(self.tss_stacks.items()),
            tuple(self.idt_gates.items()),
        )

    def _remove_cache(self, lo: int, hi: int) -> None:
        """Drop the translated code of [lo, hi) (``ctl_remove_cache`` without the binding's overhead)."""
        status = uclib.uc_ctl(self.uc._uch, _CTL_REMOVE_CACHE, ctypes.c_uint64(lo), ctypes.c_uint64(hi))
        if status != 0:
            raise UcError(status)

    def _drop_code(self, lo: int, hi: int) -> None:
        """Drop the translated code of the mapped pages in [lo, hi) (Unicorn stops at an unmapped page)."""
        for page in range(lo, hi, 0x1000):
            if self.memory.find(page) is not None:
                self._remove_cache(page, page + 0x1000)

    def _spin_state(self) -> tuple[object, ...]:
        """Everything a ring-1 guest can change without a hypercall or a fault, except memory."""
        fpu = tuple(self.uc.reg_read(r) for r in _FP_REGS) if self.fp else ()
        return (*self._regs.read_all(), *self._segs.read_all(), *fpu)

    def _deterministic(self, period: int) -> bool:
        """No instruction of the probed iteration returns a host-dependent value (rdtsc, rdrand, ...)."""
        for addr in set(self._hs.probe_pcs[:period]):
            op = decoder.opcode(self._code(addr, 15))[:3]
            if op[:1] != b"\x0f" or len(op) < 2:
                continue
            if op[1] in (0x31, 0x33) or op[1:3] == b"\x01\xf9":  # rdtsc, rdpmc, rdtscp
                return False
            if op[1] == 0xC7 and len(op) == 3 and (op[2] >> 3) & 7 in (6, 7):  # rdrand, rdseed
                return False
        return True

    def _start(self, pc: int) -> UcError | None:
        try:
            self.uc.emu_start(pc, _UNTIL)
        except UcError as exc:
            return exc
        return None

    def _emulate(self, chunk: int) -> RunResult | None:
        """Execute at most ``chunk`` instructions from ``_eip``; a RunResult if the run must end.

        With block counting, the block counter may stop before a block: one it has no count for
        (learnt here, then the emulation resumes at that block) or one that would overrun the chunk
        (its first instructions run under the per-instruction counter, :meth:`_tail`). Any other
        stop inside a block counted whole is made exact by :meth:`_locate`. Afterwards the counter
        and the latest instruction read as the per-instruction counter would have left them.
        """
        hs = self._hs
        hs.arm(chunk)
        self._acct = 0
        self._io_fault = None
        error = self._start(self._eip)
        while hs.stop_why:
            pc, size, why = hs.stop_pc & 0xFFFFFFFF, hs.stop_size, hs.stop_why
            hs.stop_why = 0
            if why == native.STOP_LEFT or (why == native.STOP_BUDGET and hs.count >= hs.budget):
                break  # a probe left its pages, or the chunk is used up at a block boundary (stopped stays set)
            hs.stopped = 0
            if why == native.STOP_MISS:
                self._learn(pc, size)
                error = self._start(pc)
            else:
                error = self._tail(pc, size)
        if self.block_counting and hs.blk_n and not hs.stopped:
            self._locate()
        n = hs.count - self._acct
        self._run_instr += self._acct  # in-place hypercalls advanced only the clocks by these
        self.instructions += self._acct
        if hs.mem_type >= 0:
            if hs.mem_type not in _FETCH_TYPES:
                n -= 1  # the faulting instruction did not complete
            self._account(n)
            return self._memory_fault()
        if hs.intno >= 0:
            return self._interrupt(n, hs.intno)
        pc, size = hs.last_pc & 0xFFFFFFFF, hs.last_size
        if self._io_fault is not None:  # in/out on a port not granted: #GP, access undone
            self._regs.write(X.UC_X86_REG_EAX, self._io_fault)
            self._io_fault = None
            if pc != self._io_pc:  # the stop came after the next instruction of its block was counted
                n, size, pc = n - 1, (pc - self._io_pc) & 0xFFFFFFFF, self._io_pc
            self._account(n - 1)
            return self._exception(TRAP_GP, pc, size=size)
        if error is not None and error.errno == UC_ERR_INSN_INVALID:
            self._account(n - 1)
            if not 0 < size <= 15:  # Unicorn fills in no size for an opcode it rejects: the encoding's
                size = decoder.length(self._code(pc), 0) or 0
            return self._exception(6, pc, size=size)  # invalid opcode
        self._account(n)
        if hs.stopped:
            self._eip = self._regs.read(X.UC_X86_REG_EIP)
            return None
        self._eip = self._regs.read(X.UC_X86_REG_EIP)
        reason = f"emulator stopped unexpectedly at {self._eip:#x}" + (f": {error}" if error else "")
        return self._panic(reason)

    def _tail(self, pc: int, size: int) -> UcError | None:
        """Run the first ``budget - count`` instructions of the block at ``pc`` under the per-instruction counter.

        The counter is added for the block's range only and its translated code is dropped before
        and after, so only this block runs (once) with a call per instruction.
        """
        hs = self._hs
        hs.tail_pc, hs.tail_on, hs.blk_n = pc, 1, 0
        self._remove_cache(pc, pc + size)
        handle = self.hooks.count_range(pc, pc + size - 1)
        try:
            return self._start(pc)
        finally:
            self.hooks.drop(handle)
            hs.tail_on = 0
            self._remove_cache(pc, pc + size)

    def _learn(self, pc: int, size: int) -> None:
        """Enter the instruction count of the translated block (pc, size) into the block table.

        An ``in``/``out`` on a port that is not granted stops the run from a Python hook in the
        middle of its block, and Unicorn honours a stop only at a block start or after a code hook:
        the instruction after each in/out gets a (no-op) native code hook, so the stop takes effect
        before it executes, as with the per-instruction counter.
        """
        tb_pc, tb_count, tb_size = self.uc.ctl_request_cache(pc)  # the block stopped before, still cached
        n = tb_count if tb_pc == pc and tb_size == size else 0
        if not n or not decoder.PORT_IO.isdisjoint(self._code(pc, size)):  # maybe an in/out: find the instructions
            insns = self._instructions(pc, size, n)
            if not insns:
                raise EngineError(f"no instructions decoded in the block at {pc:#x} ({size} bytes)")
            n = len(insns)
            stops = {insns[i + 1][0] for i in range(n - 1) if self._is_port_io(*insns[i])}
            if stops:
                for addr in stops - self._io_stops:
                    self.hooks.stop_point(addr)
                    self._io_stops.add(addr)
                self._remove_cache(pc, pc + size)  # translated before the stop points existed
        if self._hs.entries >= native.TABLE_SIZE * 3 // 4:
            self._forget()  # the table is full: start again with the blocks in use from now on
        self._hs.learn(pc, size, n)
        for page in range(pc >> 12, ((pc + size - 1) >> 12) + 1):
            self._code_pages.setdefault(page, set()).add((pc, size))
        self._code_gen += 1

    def _is_port_io(self, addr: int, size: int) -> bool:
        op = decoder.opcode(self._code(addr, min(size, 15)))
        return bool(op) and op[0] in decoder.PORT_IO

    def _instructions(self, pc: int, size: int, count: int) -> tuple[tuple[int, int], ...]:
        """(address, size) of each instruction of a translated block, as the instruction counter sees them.

        ``count``: the block's instruction count by Unicorn (0: unknown). The encoding decides
        (partitiond.decoder) when it yields exactly that count; Unicorn's decoder otherwise.
        """
        key = (pc, size)
        insns = self._decoded.get(key)
        if insns is None:
            code = self._code(pc, size)
            insns = decoder.boundaries(pc, code, count) if count else None
            if insns is None:
                if self._decoder is None:
                    self._decoder = _Decoder.shared(self._clean, self.fp)
                insns = self._decoder.decode(pc, code)
            self._decoded[key] = insns
        return insns

    def _locate(self) -> None:
        """Turn a stop inside a block the block counter counted whole into per-instruction terms.

        The instruction that stopped the run is found from EIP (in/out: EIP in the port hook):
        a fault leaves EIP at the faulting instruction; a trap (``int n``, ``int3``, ``into``,
        a debug trap) leaves it after the trapping one. The counter then counts the block's
        instructions up to and including that one, which is what the instruction counter shows.
        """
        hs = self._hs
        insns = self._instructions(hs.blk_pc & 0xFFFFFFFF, hs.blk_size, hs.blk_n)
        eip = self._io_pc if self._io_fault is not None else self._regs.read(X.UC_X86_REG_EIP)
        trap = hs.intno >= 0 and hs.mem_type < 0 and (hs.intno in (1, 3, 4) or hs.intno >= 32)
        index = len(insns) - 1  # a stop after the block's last instruction (fetch fault, soft int)
        for i, (addr, length) in enumerate(insns):
            if (addr + length if trap else addr) & 0xFFFFFFFF == eip:
                index = i
                break
        hs.count = hs.count - hs.blk_n + index + 1
        hs.last_pc, hs.last_size = insns[index]

    def _account(self, n: int) -> None:
        self._elapsed += n
        self.exec_cycles += n
        self._run_instr += n
        self.instructions += n

    def _eflags(self) -> int:
        """EFLAGS as the guest sees it in frames and HM records: bit 9 is the virtual IF."""
        return (self._regs.read(X.UC_X86_REG_EFLAGS) & ~CPU_FLAG_IF) | (self.pct.iflags & CPU_FLAG_IF)

    def _exception(
        self,
        trap: int,
        pc: int,
        *,
        event: int | None = None,
        error_code: int = 0,
        cr2: int | None = None,
        size: int = 0,
        resume: int | None = None,
        reason: str = "",
    ) -> RunResult:
        """End the run with a CPU exception; the CPU is cleaned and set to resume at ``resume``."""
        self._recover()
        self._eip = pc if resume is None else resume
        self._last_fault = (pc, size) if size else None
        info = TrapInfo(
            HM_EV_X86_BASE + trap if event is None else event, trap, pc, self._eflags(), error_code, cr2, reason
        )
        return self._result(RunKind.EXCEPTION, trap=info)

    def _panic(self, reason: str) -> RunResult:
        """FATAL_ERROR: the vCPU cannot continue (§13.4 step 1, semantics.md §4.5)."""
        with contextlib.suppress(UcError):
            self._recover()
        self.halted = True
        info = TrapInfo(HM_EV_FATAL_ERROR, None, self._eip, self._eflags(), reason=reason)
        return self._result(RunKind.EXCEPTION, trap=info)

    def _memory_fault(self) -> RunResult:
        hs = self._hs
        addr, kind = hs.mem_addr & 0xFFFFFFFF, hs.mem_type
        if kind in _FETCH_TYPES:
            pc, size = addr, 0
        else:
            pc, size = hs.last_pc & 0xFFFFFFFF, hs.last_size
        code = 0x4 | (0x1 if kind in _PROT_TYPES else 0) | (0x2 if kind in _WRITE_TYPES else 0)
        self.pct.arch.cr2 = addr
        event = HM_EV_MEM_PROTECTION if addr >= PRTOS_OFFSET else HM_EV_X86_PAGE_FAULT
        return self._exception(TRAP_PF, pc, event=event, error_code=code, cr2=addr, size=size)

    def _code(self, pc: int, n: int = 16) -> bytes:
        """Up to ``n`` instruction bytes at ``pc`` (fewer at the end of a mapping)."""
        m = self.memory.find(pc)
        if m is None:
            return b""
        return ctypes.string_at(m.host + pc - m.virt, min(n, m.end - pc))  # on every interrupt: no copies

    def _interrupt(self, n: int, intno: int) -> RunResult | None:
        hs = self._hs
        pc, size = hs.last_pc & 0xFFFFFFFF, hs.last_size
        nxt = (pc + size) & 0xFFFFFFFF
        code = self._code(pc, 3)
        soft = len(code) >= 2 and code[0] == 0xCD and code[1] == intno
        if intno in (HYPERCALL_VECTOR, IRET_VECTOR) and soft:
            if intno == HYPERCALL_VECTOR and size == 2 and self.fast_hypercalls:
                self._hc_sites.add(self._site_key())  # a plain int $0x82: served in place from now on
            self._account(n)
            self._eip = nxt
            return self._hypercall() if intno == HYPERCALL_VECTOR else self._iret()
        if soft and intno not in (3, 4):
            gate = self.idt_gates.get(intno)
            if gate is None:  # int n without a gate from call 41 → #GP((n<<3)|2), a fault
                self._account(n - 1)
                return self._exception(TRAP_GP, pc, error_code=(intno << 3) | 2, size=size)
            self._account(n)
            return self._soft_gate(pc, nxt, size, gate)
        if soft or (code[:1] == b"\xcc" and intno == 3) or (code[:1] == b"\xce" and intno == 4) or intno == 1:
            self._account(n)  # traps: the instruction completed; report and resume after it
            resume = nxt if intno != 1 else self._regs.read(X.UC_X86_REG_EIP)
            return self._exception(intno, resume, resume=resume)
        if intno == TRAP_GP and (code[:size] == b"\x0f\x31" or code[:size] == b"\x0f\x01\xf9"):
            return self._time_stamp(n, nxt, rdtscp=size == 3)
        self._account(n - 1)  # faults: the instruction did not complete
        if intno >= 32:
            return self._panic(f"unexpected interrupt {intno} at {pc:#x}")
        return self._exception(intno, pc, size=size)

    def _time_stamp(self, n: int, nxt: int, *, rdtscp: bool) -> None:
        """``rdtsc`` / ``rdtscp`` (trapped by CR4.TSD): EDX:EAX = the HW clock in cycles, after the instruction.

        The virtual time-stamp counter is the clock ``get_time`` reads, in cycles of the
        configured CPU frequency since boot, counting the ``rdtsc`` itself (as ``get_time`` counts
        its ``int``). ``rdtscp`` also sets ECX (IA32_TSC_AUX) to the vCPU id. The #GP never
        reaches the guest; the CPU is cleaned as after any exception.
        """
        self._account(n)
        tsc = (self._hw_base + self._elapsed) & 0xFFFFFFFFFFFFFFFF
        self._recover()
        self._regs.write(X.UC_X86_REG_EAX, tsc & 0xFFFFFFFF)
        self._regs.write(X.UC_X86_REG_EDX, tsc >> 32)
        if rdtscp:
            self._regs.write(X.UC_X86_REG_ECX, self.vcpu_id)
        self._eip = nxt
        self.time_stamps += 1

    def _granted(self, port: int, size: int) -> bool:
        return any(lo <= port and port + size <= hi for lo, hi in self._io)

    def _on_in(self, uc: Uc, port: int, size: int, _data: object) -> int:
        """``in``: all ones on a granted port (no device behind it, §14.5), else a #GP after the stop."""
        try:
            if self._granted(port, size):
                return (1 << (8 * size)) - 1
            if self._io_fault is None:
                self._io_fault = self._regs.read(X.UC_X86_REG_EAX)
                self._io_pc = self._regs.read(X.UC_X86_REG_EIP)  # synced for in/out (port checks)
            uc.emu_stop()
        except Exception:  # never let an exception cross Unicorn
            uc.emu_stop()
        return 0

    def _on_out(self, uc: Uc, port: int, size: int, _value: int, _data: object) -> None:
        """``out``: ignored on a granted port, else a #GP after the stop."""
        try:
            if not self._granted(port, size) and self._io_fault is None:
                self._io_fault = self._regs.read(X.UC_X86_REG_EAX)
                self._io_pc = self._regs.read(X.UC_X86_REG_EIP)
                uc.emu_stop()
        except Exception:
            uc.emu_stop()

    def _push_frame(self, esp: int, words: list[int]) -> int:
        data = b"".join(struct.pack("<I", w & 0xFFFFFFFF) for w in reversed(words))
        esp = (esp - len(data)) & 0xFFFFFFFF
        self.memory.write(esp, data)
        return esp

    def _soft_gate(self, pc: int, nxt: int, size: int, gate: tuple[int, int]) -> RunResult | None:
        """``int n`` through a gate registered with call 41: a trap gate, no virtual-IF change."""
        esp = self._regs.read(X.UC_X86_REG_ESP)
        if esp < 12 or not self.memory.check(esp - 12, 12, write=True):
            return self._exception(TRAP_GP, pc, size=size, reason="no writable stack for the int frame")
        self._regs.write(X.UC_X86_REG_ESP, self._push_frame(esp, [self._eflags(), GUEST_CS_SEL, nxt]))
        self._eip = gate[1]
        return None

    # -- virtual interrupts (§13.4, §13.5) ----------------------------------------------------------

    def _inject(self) -> RunResult | None:
        """Inject at most one pending interrupt; a RunResult (FATAL_ERROR) if injection fails."""
        t = self.pct
        error: int | None = None
        if self.trap_pending is not None:
            trap, code = self.trap_pending
            self.trap_pending = None
            vector = t.trap_to_vector[trap]
            error = code if trap in ERRCODE_TRAPS else None
        elif t.ext_irqs_pend & PRTOS_EXT_TRAPS:
            bit = _lowest_bit(t.ext_irqs_pend & PRTOS_EXT_TRAPS)
            t.ext_irqs_pend &= ~(1 << bit)
            vector = t.ext_irq_to_vector[bit]
        elif not t.iflags & CPU_FLAG_IF:
            return None
        elif t.hw_irqs_pend & ~t.hw_irqs_mask:
            bit = _lowest_bit(t.hw_irqs_pend & ~t.hw_irqs_mask)
            t.hw_irqs_pend &= ~(1 << bit)
            vector = t.hw_irq_to_vector[bit]
        elif t.ext_irqs_pend & ~t.ext_irqs_to_mask:
            bit = _lowest_bit(t.ext_irqs_pend & ~t.ext_irqs_to_mask)
            t.ext_irqs_pend &= ~(1 << bit)
            vector = t.ext_irq_to_vector[bit]
        else:
            return None
        return self._deliver(vector, error)

    def _deliver(self, vector: int, error: int | None) -> RunResult | None:
        arch = self.pct.arch
        if vector >= arch.max_idt_vec:
            return self._panic(f"vector {vector} beyond the IDT limit")
        gate_addr = arch.idtr.linear_base + 8 * vector
        if not self.memory.check(gate_addr, 8, allow_null=True):
            return self._panic(f"IDT gate of vector {vector} at {gate_addr:#x} is not readable")
        lo, hi = struct.unpack("<II", self.memory.read(gate_addr, 8))
        offset, selector, access = (lo & 0xFFFF) | (hi & 0xFFFF0000), lo >> 16, (hi >> 8) & 0xFF
        if offset >= PRTOS_OFFSET or not selector & 3:
            return self._panic(f"invalid IDT gate for vector {vector}")
        esp = self._regs.read(X.UC_X86_REG_ESP)
        if esp < 16 or not self.memory.check(esp - 16, 16, write=True):
            return self._panic(f"stack at {esp:#x} not writable for vector {vector}")
        words = [self._eflags(), GUEST_CS_SEL, self._eip] + ([] if error is None else [error])
        self._regs.write(X.UC_X86_REG_ESP, self._push_frame(esp, words))
        if not access & 1:  # interrupt gate: virtual IF off
            self.pct.iflags &= ~CPU_FLAG_IF
        self._eip = offset
        if self.audit_irqs:
            self.audit_log += pack_event(self._now_us(), MOD_IRQS, IRQ_EMUL, vector)
        return None

    def _iret(self) -> RunResult | None:
        """The IRET entry: pop EIP, CS, EFLAGS; virtual IF from bit 9; then an injection point."""
        self._charge(HYPERCALL_COST_CYCLES)
        esp = self._regs.read(X.UC_X86_REG_ESP)
        if not self.memory.check(esp, 12):
            return self._panic(f"IRET frame at {esp:#x} is not readable")
        eip, _cs, flags = struct.unpack("<III", self.memory.read(esp, 12))
        cur = self._regs.read(X.UC_X86_REG_EFLAGS)
        self._regs.write(X.UC_X86_REG_EFLAGS, (cur & ~_IRET_FLAGS) | (flags & _IRET_FLAGS))
        self._regs.write(X.UC_X86_REG_ESP, esp + 12)
        self.pct.iflags = (self.pct.iflags & ~CPU_FLAG_IF) | (flags & CPU_FLAG_IF)
        self._eip = eip
        return None

    # -- hypercalls --------------------------------------------------------------------------------

    def _hypercall(self) -> RunResult | None:
        regs = self._regs.read_all()
        nr, args = regs[0], regs[1:6]
        row = lookup(nr)
        if row is None:
            if self.console is not None:
                self.console.write(f"Hypercall ({nr}) unknown\n")
            self._regs.write(X.UC_X86_REG_EAX, PRTOS_UNKNOWN_HYPERCALL)
            self._charge(HYPERCALL_COST_CYCLES)
            if self.audit_hcalls:
                self.audit_hcall(nr, args, PRTOS_UNKNOWN_HYPERCALL)
            return None
        handler = self._local.get(nr)
        if handler is None:
            self._charge(HYPERCALL_COST_CYCLES)
            self._awaiting = nr
            req = HypercallRequest(nr, row.name, (args[0], args[1], args[2], args[3], args[4]))
            return self._result(RunKind.HYPERCALL, hypercall=req)
        result = handler(args)  # clocks read by the call are those at the hypercall instruction
        self._charge(HYPERCALL_COST_CYCLES)
        if result is not None:
            self._regs.write(X.UC_X86_REG_EAX, result)
        if self.audit_hcalls:
            self.audit_hcall(nr, args, result)
        if nr == 8:
            return self._result(RunKind.IDLE)
        return None

    def _fast_hypercall(self, key: int, count: int, nr: int, b: int, c: int, d: int, si: int, di: int) -> int:
        """Serve a local hypercall inside the interrupt hook; 0 to stop as usual instead.

        Called by the native interrupt hook at ``int $0x82`` with the site's key, the counter
        (exact there: the ``int`` ends its translated block) and EAX, EBX, ECX, EDX, ESI, EDI.
        Everything happens as on the stopping path: the instructions up to the ``int`` are
        accounted before the handler reads the clocks, its cost is charged after, the result goes
        to EAX; Unicorn then resumes after the ``int``. The answer (:data:`native.FAST_SERVED`
        and friends) tells the hook the result and the cycles charged, by which it shrinks the
        chunk's instruction budget. When the stopping path would have found something to do at
        the injection point that follows every hypercall (an interrupt to deliver, a timer due
        within the chunk, the chunk used up), it also asks the hook to end the emulation before
        the next block, and the run loop takes over.
        """
        try:
            if key not in self._hc_sites:
                return 0  # not verified yet as a plain ``int $0x82``: the stopping path does that
            handler = self._fast.get(nr)
            if handler is None:
                if nr in _CREDIT_CALLS and self.port_credit is not None:
                    return self._fast_credit(count, nr, (b, c, d, si, di))
                return 0
            n = count - self._acct  # the clocks now; _emulate adds them to the instruction counts
            self._acct = count
            self._elapsed += n
            self.exec_cycles += n
            result = handler([b, c, d, si, di])  # the clocks read are those at the int
            charged = self._budget - self._elapsed
            if charged > HYPERCALL_COST_CYCLES:
                charged = HYPERCALL_COST_CYCLES
            self._elapsed += charged
            self.exec_cycles += charged
            if self.audit_hcalls:
                self.audit_hcall(nr, [b, c, d, si, di], result)
            stop = self._elapsed >= self._chunk_end
            if nr in _IRQ_STATE_CALLS:
                self._quiet = False
            if not (stop or self._quiet):
                stop = self._deliverable()
                self._quiet = not stop
            if nr == 10 and not stop:
                stop = self._elapsed + self._cycles_to_timer() < self._chunk_end
            self.served_in_place += 1
            answer = native.FAST_SERVED | (charged << native.FAST_CHARGE_SHIFT)
            if stop:
                self._break = True
                answer |= native.FAST_END
            if result is not None:
                answer |= native.FAST_EAX | ((result & 0xFFFFFFFF) << 32)
            return answer
        except Exception:  # never let an exception cross Unicorn: take the stopping path
            return 0

    def _fast_credit(self, count: int, nr: int, args: tuple[int, ...]) -> int:
        """A queuing send/receive on port credit, inside the interrupt hook; 0 to stop as usual.

        Timed as the forwarded call it replaces: the clocks advance to the ``int``, the call's
        cost is charged, and the call is stamped with the HW clock after the cost (the time the
        partition process would send with it). A buffer over counted code takes the stopping path,
        like every call the credit does not cover; nothing is changed before the credit accepts.
        """
        assert self.port_credit is not None
        if nr == 11 and self._overlaps_code(args[1], args[1] + max(args[2], 1)):
            return 0
        n = count - self._acct
        charged = min(self._budget - self._elapsed - n, HYPERCALL_COST_CYCLES)
        if charged < 0:
            return 0
        now = (self._hw_base + self._elapsed + n + charged) * 1000 // self.khz
        result = self.port_credit(nr, args, now)
        if result is None:
            return 0
        self._acct = count
        self._elapsed += n + charged
        self.exec_cycles += n + charged
        stop = self._elapsed >= self._chunk_end
        if not (stop or self._quiet):
            stop = self._deliverable()
            self._quiet = not stop
        self.served_in_place += 1
        answer = native.FAST_SERVED | (charged << native.FAST_CHARGE_SHIFT)
        if stop:
            self._break = True
            answer |= native.FAST_END
        return answer | native.FAST_EAX | ((result & 0xFFFFFFFF) << 32)

    def _site_key(self) -> int:
        """Identifies the ``int`` just executed: its translated block (block counting) or its address.

        Either identifies the instruction for as long as the code is unchanged (the sites are
        forgotten with the block counts). Unlike EIP, which Unicorn has already moved past the
        ``int`` when the hook runs, it also tells a plain ``int $0x82`` from a prefixed one.
        The native interrupt hook computes the same key (``hc_key``) for the in-place path.
        """
        hs = self._hs
        if hs.blk_n:
            return (hs.blk_pc << 32) | hs.blk_size
        return hs.last_pc | (1 << 63)

    def _deliverable(self) -> bool:
        """True if :meth:`_inject` would deliver something now."""
        t = self.pct
        if self.trap_pending is not None or t.ext_irqs_pend & PRTOS_EXT_TRAPS:
            return True
        if not t.iflags & CPU_FLAG_IF:
            return False
        return bool(t.hw_irqs_pend & ~t.hw_irqs_mask or t.ext_irqs_pend & ~t.ext_irqs_to_mask)

    # -- audit events (hm.audit) -------------------------------------------------------------------

    def _now_us(self) -> int:
        return (self._hw_base + self._elapsed) * 1000 // self.khz

    def audit_hcall(self, nr: int, args: list[int] | tuple[int, ...], result: int | None) -> None:
        """HCALL_BEGIN (and BEGIN2) and HCALL_END of a hypercall served without the supervisor.

        Stamped with the HW clock after the call's cost, as the supervisor stamps the calls it
        serves (their ``now`` is taken after the cost too). The caller checks ``audit_hcalls``.
        """
        now = self._now_us()
        for module, event, payload in hcall_begin_records(nr, args):
            self.audit_log += pack_event(now, module, event, *payload)
        end = hcall_end_record(nr, result)
        if end is not None:
            self.audit_log += pack_event(now, end[0], end[1], *end[2])

    def take_audit(self) -> bytes:
        """The audit events produced since the last call (:data:`hm.audit.EVENT` records), oldest first."""
        log, self.audit_log = bytes(self.audit_log), bytearray()
        return log

    def execute_local(self, nr: int, args: list[int]) -> int | None:
        """Run local hypercall ``nr`` with ``args`` (for a multicall batch); None if it is not local."""
        handler = self._local.get(nr)
        if handler is None or nr == 8:
            return None
        result = handler([*args, 0, 0, 0, 0, 0][:5])
        return PRTOS_OK if result is None else result

    @staticmethod
    def _hc_ok(_a: list[int]) -> int:
        return PRTOS_OK

    @staticmethod
    def _hc_not_allowed(_a: list[int]) -> int:
        return PRTOS_OP_NOT_ALLOWED

    def _hc_idle_self(self, _a: list[int]) -> int:
        return PRTOS_OK

    def _hc_get_time(self, a: list[int]) -> int:
        clock, ptr = a[0], a[1]
        if clock not in (0, 1):
            return PRTOS_INVALID_PARAM
        if ptr != self._time_ptr:  # a new buffer: check it once, keep a direct view of it
            if not self.memory.check(ptr, 8, write=True):
                return PRTOS_INVALID_PARAM
            m = self.memory.find(ptr)
            cell = ctypes.c_int64.from_address(m.host + ptr - m.virt) if m is not None and ptr + 8 <= m.end else None
            self._time_ptr, self._time_cell, self._time_gen = ptr, cell, -1
        cycles = self._hw_base + self._elapsed if clock == 0 else self.exec_cycles  # _clock_cycles, inlined
        value = cycles * 1000 // self.khz  # to_us
        cell = self._time_cell
        if cell is not None and (self._time_gen == self._code_gen or not self._overlaps_code(ptr, ptr + 8)):
            self._time_gen = self._code_gen  # no counted code there, until new blocks are learnt
            cell.value = value
        else:
            self.write_guest(ptr, _I64.pack(value))
        return PRTOS_OK

    def _hc_set_timer(self, a: list[int]) -> int:
        clock, value, interval = a[0], _s64(a[1], a[2]), _s64(a[3], a[4])
        if value < 0 or interval < 0 or clock not in (0, 1):
            return PRTOS_INVALID_PARAM
        if value == 0:
            self.timers[clock] = None  # disarm completely (D-17)
            return PRTOS_OK
        self.timers[clock] = Timer(value, interval, self.to_cycles(value))
        return PRTOS_OK

    def _hc_clear_irqmask(self, a: list[int]) -> int:
        self.pct.hw_irqs_mask &= ~a[0]
        self.pct.ext_irqs_to_mask &= ~a[1]
        return PRTOS_OK

    def _hc_set_irqmask(self, a: list[int]) -> int:
        self.pct.hw_irqs_mask |= a[0]
        self.pct.ext_irqs_to_mask |= a[1]
        return PRTOS_OK

    def _hc_set_irqpend(self, a: list[int]) -> int:
        self.pct.hw_irqs_pend |= a[0]
        self.pct.ext_irqs_pend |= a[1]
        return PRTOS_OK

    def _hc_clear_irqpend(self, a: list[int]) -> int:
        self.pct.hw_irqs_pend &= ~a[0]
        self.pct.ext_irqs_pend &= ~a[1]
        return PRTOS_OK

    def _hc_route_irq(self, a: list[int]) -> int:
        kind, irq, vector = a[0], a[1], a[2] & 0xFFFF
        if irq >= 32:
            return PRTOS_INVALID_PARAM
        tables = {0: self.pct.trap_to_vector, 1: self.pct.hw_irq_to_vector, 2: self.pct.ext_irq_to_vector}
        if kind not in tables:
            return PRTOS_INVALID_PARAM
        tables[kind][irq] = vector
        return PRTOS_OK

    def _hc_get_vcpuid(self, _a: list[int]) -> int:
        return self.vcpu_id

    def _hc_load_cr0(self, a: list[int]) -> int:
        val = a[0]
        if val & (CR0_PE | CR0_PG) != CR0_PE | CR0_PG:
            return PRTOS_OP_NOT_ALLOWED
        self.pct.arch.cr0 = val | CR0_ET | (0 if self.fp else CR0_EM)
        return PRTOS_OK

    def _hc_load_cr3(self, a: list[int]) -> int:
        return PRTOS_OK if a[0] == self.pct.arch.cr3 else PRTOS_OP_NOT_ALLOWED

    def _hc_load_cr4(self, a: list[int]) -> int:
        if a[0] & 0x20:  # PAE
            return PRTOS_OP_NOT_ALLOWED
        self.pct.arch.cr4 = a[0]
        return PRTOS_OK

    @staticmethod
    def _stack_ok(ss: int, sp: int) -> bool:
        return bool(ss & 3) and (ss >> 3) < 44 and sp < PRTOS_OFFSET

    def _hc_load_tss(self, a: list[int]) -> int:
        if not self.memory.check(a[0], 104):
            return PRTOS_INVALID_PARAM
        sp1, ss1, sp2, ss2 = struct.unpack("<4I", self.memory.read(a[0] + 12, 16))
        stacks = {1: (ss1 & 0xFFFF, sp1), 2: (ss2 & 0xFFFF, sp2)}
        if not all(self._stack_ok(ss, sp) for ss, sp in stacks.values()):
            return PRTOS_INVALID_PARAM
        self.tss_stacks.update(stacks)
        return PRTOS_OK

    @staticmethod
    def _descriptor_ok(raw: bytes) -> bool:
        """Present descriptors: DPL≠0 code/data within the guest window, or a TSS (§6.6 call 37)."""
        w0, w4 = struct.unpack("<II", raw)
        if not w4 & (1 << 15):
            return True
        if not w4 & (1 << 12):  # system descriptor
            return (w4 >> 8) & 0xF in (0x9, 0xB)
        if not (w4 >> 13) & 3:
            return False
        base = (w0 >> 16) | ((w4 & 0xFF) << 16) | (w4 & 0xFF000000)
        limit = (w0 & 0xFFFF) | (w4 & 0xF0000)
        if w4 & (1 << 23):
            limit = (limit << 12) | 0xFFF
        return base + limit <= PRTOS_OFFSET

    def _hc_load_gdt(self, a: list[int]) -> int:
        if not self.memory.check(a[0], 6):
            return PRTOS_INVALID_PARAM
        limit, base = struct.unpack("<HI", self.memory.read(a[0], 6))
        count = (limit + 1) // 8
        if count > 32 or not self.memory.check(base, limit + 1, allow_null=True):
            return PRTOS_INVALID_PARAM
        table = self.memory.read(base, limit + 1)
        if not all(self._descriptor_ok(table[8 * i : 8 * i + 8]) for i in range(count)):
            return PRTOS_INVALID_PARAM
        self.pct.arch.gdtr.limit, self.pct.arch.gdtr.linear_base = limit, base
        return PRTOS_OK

    def _hc_load_idtr(self, a: list[int]) -> int:
        if not self.memory.check(a[0], 6):
            return PRTOS_INVALID_PARAM
        limit, base = struct.unpack("<HI", self.memory.read(a[0], 6))
        arch = self.pct.arch
        arch.idtr.limit, arch.idtr.linear_base = limit, base
        arch.max_idt_vec = (limit + 1) // 8
        return PRTOS_OK

    def _hc_update_ss_sp(self, a: list[int]) -> int:
        ss, sp, level = a[0] & 0xFFFF, a[1], a[2]
        if level not in (1, 2) or not self._stack_ok(ss, sp):
            return PRTOS_INVALID_PARAM
        self.tss_stacks[level] = (ss, sp)
        return PRTOS_OK

    def _hc_update_gdt(self, a: list[int]) -> int:
        entry = _s32(a[0])
        if not 0 <= entry < 32 or not self.memory.check(a[1], 8):
            return PRTOS_INVALID_PARAM
        raw = self.memory.read(a[1], 8)
        if not self._descriptor_ok(raw):
            return PRTOS_INVALID_PARAM
        self.gdt_entries[entry] = raw
        return PRTOS_OK

    def _hc_update_idt(self, a: list[int]) -> int:
        entry = _s32(a[0])
        if not 0x30 <= entry < 256 or entry in (HYPERCALL_VECTOR, IRET_VECTOR) or not self.memory.check(a[1], 8):
            return PRTOS_INVALID_PARAM
        w0, w4 = struct.unpack("<II", self.memory.read(a[1], 8))
        offset = (w0 & 0xFFFF) | (w4 & 0xFFFF0000)
        present, gtype, dpl = w4 & (1 << 15), (w4 >> 8) & 0xF, (w4 >> 13) & 3
        if not present or gtype != 0xF or not dpl or offset >= PRTOS_OFFSET:
            return PRTOS_INVALID_PARAM
        self.idt_gates[entry] = (w0 >> 16, offset)
        return PRTOS_OK

    def _hc_set_if(self, _a: list[int]) -> None:
        self.pct.iflags |= CPU_FLAG_IF

    def _hc_clear_if(self, _a: list[int]) -> None:
        self.pct.iflags &= ~CPU_FLAG_IF
