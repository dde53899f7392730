"""Native Unicorn hooks: the exact instruction counters, the stop recorders and the spin-probe write recorder.

Why native: a Python ``UC_HOOK_CODE`` callback costs 0.35-0.5 µs per guest instruction, and
``emu_start(count=N)`` stops exactly but cannot tell how many instructions ran when something else
stopped the run first. A few lines of C (``counter.c``) registered through ``uc_hook_add`` give an
exact, readable counter and a stop exactly at the budget at the price of ``count=N``.

Two counting methods (``install(block=...)``): the per-instruction counter (``pd_count_hook`` on all
code, the reference method) and the block counter (``pd_block_hook``: one call per translated-block
execution, adding the block's instruction count from a table the engine fills), which runs close to
raw Unicorn speed. The engine turns block counts into exact instruction counts (partitiond.vcpu).

The library is compiled at first use with the Zig compiler of the ``ziglang`` wheel for the host,
cached under ``$PRTOSD_CACHE_DIR`` (default ``~/.cache/prtosd``) by source hash, and loaded with
ctypes. If the build fails, :func:`install` falls back to equivalent Python callbacks (correct but
slow) and warns once.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import tempfile
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from unicorn import UC_HOOK_BLOCK, UC_HOOK_CODE, UC_HOOK_INTR, UC_HOOK_MEM_INVALID, UC_HOOK_MEM_WRITE, Uc
from unicorn import x86_const as X
from unicorn.unicorn_py3.unicorn import uc_hook_h, uclib

from partitiond.toolchain import run_zig

SOURCE = Path(__file__).resolve().parent / "counter.c"
#: PD_PROBE_MAX of counter.c: the longest loop iteration (instructions) a spin probe records.
PROBE_MAX = 256
#: PD_TABLE_BITS of counter.c: the block table has 1 << TABLE_BITS slots.
TABLE_BITS = 12
TABLE_SIZE = 1 << TABLE_BITS
#: Why pd_block_hook stopped (``HookState.stop_why``).
STOP_MISS = 1
STOP_BUDGET = 2
STOP_LEFT = 3


#: The registers read for ``hc_fn``: EAX (the hypercall number, and the result) then the arguments.
HC_REGS = (X.UC_X86_REG_EAX, X.UC_X86_REG_EBX, X.UC_X86_REG_ECX, X.UC_X86_REG_EDX, X.UC_X86_REG_ESI, X.UC_X86_REG_EDI)
#: C type of ``pd_state.hc_fn``: (site key, counter, EAX, EBX, ECX, EDX, ESI, EDI) -> answer.
FAST_HYPERCALL = ctypes.CFUNCTYPE(ctypes.c_uint64, ctypes.c_uint64, ctypes.c_uint64, *(ctypes.c_uint32,) * 6)
#: Bits of the answer (PD_FAST_* of counter.c); 0 means "not served: stop as usual".
FAST_SERVED, FAST_END, FAST_EAX, FAST_CHARGE_SHIFT = 1, 2, 4, 8


class NativeBuildWarning(UserWarning):
    """The native hook library could not be built; the slow Python hooks are used."""


class BlockEntry(ctypes.Structure):
    """Mirror of ``struct pd_block``: one translated block's instruction count."""

    _fields_ = (("pc", ctypes.c_uint32), ("size", ctypes.c_uint32), ("n", ctypes.c_uint32), ("pad", ctypes.c_uint32))


def _slot(pc: int, size: int) -> int:
    """pd_slot of counter.c."""
    return (((pc ^ (size << 20)) & 0xFFFFFFFF) * 2654435761 & 0xFFFFFFFF) >> (32 - TABLE_BITS)


class HookState(ctypes.Structure):
    """Mirror of ``struct pd_state`` in counter.c (shared by the native and Python hooks)."""

    _fields_ = (
        ("count", ctypes.c_uint64),  # @0 instructions started in this run
        ("budget", ctypes.c_uint64),  # @8 stop before instruction budget + 1
        ("emu_stop", ctypes.c_void_p),  # @16 uc_emu_stop
        ("last_pc", ctypes.c_uint64),  # @24 latest counted instruction
        ("last_size", ctypes.c_uint32),  # @32 its length
        ("stopped", ctypes.c_uint32),  # @36 budget stop requested
        ("intno", ctypes.c_int32),  # @40 interrupt seen, -1 if none
        ("mem_type", ctypes.c_int32),  # @44 invalid access type, -1 if none
        ("mem_addr", ctypes.c_uint64),  # @48 its address
        ("mem_size", ctypes.c_int32),  # @56 its size
        ("pad", ctypes.c_int32),  # @60
        ("blk_pc", ctypes.c_uint64),  # @64 latest block counted by the block hook
        ("blk_size", ctypes.c_uint32),  # @72 its length in bytes
        ("blk_n", ctypes.c_uint32),  # @76 its instruction count
        ("tail_on", ctypes.c_uint32),  # @80 1 while the last partial block runs
        ("exact", ctypes.c_uint32),  # @84 1 while the instruction counter counts [exact_lo, exact_hi) (spin probe)
        ("probe_pc", ctypes.c_uint64),  # @88 spin probe: stop when this address comes round again
        ("probe", ctypes.c_uint32),  # @96 1 while a spin probe runs
        ("probe_hit", ctypes.c_uint32),  # @100 the probe stop was requested
        ("wrote", ctypes.c_uint32),  # @104 guest memory was written during the probe
        ("pad2", ctypes.c_uint32),  # @108
        ("probe_pcs", ctypes.c_uint32 * PROBE_MAX),  # @112 instruction addresses of the probed iteration
        ("stop_pc", ctypes.c_uint64),  # block the block hook stopped before
        ("stop_size", ctypes.c_uint32),  # its length in bytes
        ("stop_why", ctypes.c_uint32),  # STOP_MISS, STOP_BUDGET or 0
        ("tail_pc", ctypes.c_uint64),  # block left to the instruction counter while tail_on
        ("entries", ctypes.c_uint32),  # used slots of the table
        ("pad3", ctypes.c_uint32),
        ("exact_lo", ctypes.c_uint64),
        ("exact_hi", ctypes.c_uint64),
        ("table", BlockEntry * TABLE_SIZE),  # (pc, size) -> instruction count, open addressing
        ("hc_fn", ctypes.c_void_p),  # serves a hypercall in place (nonzero: served), see set_fast_hypercall
        ("hc_vec", ctypes.c_uint32),  # the hypercall vector
        ("hc_on", ctypes.c_uint32),  # 1 while hc_fn may be called
        ("reg_read", ctypes.c_void_p),  # uc_reg_read
        ("reg_write", ctypes.c_void_p),  # uc_reg_write
        ("hc_ids", ctypes.c_int32 * 6),  # EAX EBX ECX EDX ESI EDI
    )

    def arm(self, budget: int) -> None:
        """Prepare for one ``emu_start``: zero the counter, clear the stop records."""
        self.count = 0
        self.budget = budget
        self.stopped = 0
        self.intno = -1
        self.mem_type = -1
        self.probe_hit = 0
        self.stop_why = 0
        self.blk_n = self.blk_size = 0  # no block to repeat without a lookup
        self.tail_on = 0

    def learn(self, pc: int, size: int, n: int) -> None:
        """Enter a block's instruction count into the table (emptied first when it is 3/4 full)."""
        if self.entries >= TABLE_SIZE * 3 // 4:
            self.forget()
        i = _slot(pc, size)
        while True:
            e = self.table[i]
            if e.size == 0 or (e.pc == pc and e.size == size):
                if e.size == 0:
                    self.entries += 1
                e.pc, e.size, e.n = pc, size, n
                return
            i = (i + 1) & (TABLE_SIZE - 1)

    def forget(self) -> None:
        """Empty the block table (guest code may have changed)."""
        ctypes.memset(ctypes.addressof(self.table), 0, ctypes.sizeof(self.table))
        self.entries = 0
        self.blk_n = self.blk_size = 0  # nor the latest block's count


def cache_dir() -> Path:
    """Where compiled helpers are kept (``$PRTOSD_CACHE_DIR`` or ``~/.cache/prtosd``)."""
    env = os.environ.get("PRTOSD_CACHE_DIR")
    return Path(env) if env else Path.home() / ".cache" / "prtosd"


def library_path() -> Path:
    """The cached library for the current source (the name carries the source hash)."""
    digest = hashlib.sha256(SOURCE.read_bytes()).hexdigest()[:16]
    return cache_dir() / f"libpdhooks-{digest}.so"


def build() -> Path:
    """Compile counter.c unless the cached copy exists; raise OSError with the compiler's message."""
    out = library_path()
    if out.exists():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    # Build to a private name, then rename: parallel builders never see half a file.
    fd, tmp = tempfile.mkstemp(prefix=".pdhooks-", suffix=".so", dir=out.parent)
    os.close(fd)
    try:
        res = run_zig(["cc", "-shared", "-fPIC", "-O2", "-nostdlib", "-o", tmp, str(SOURCE)])
        if res.returncode != 0:
            raise OSError(f"zig cc failed building {SOURCE.name}: {res.stderr.strip()}")
        os.replace(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return out


@cache
def _native_library() -> ctypes.CDLL | None:
    """The loaded native library, or None (with one warning) if it cannot be built or loaded."""
    try:
        return ctypes.CDLL(str(build()))
    except Exception as exc:  # any failure means: use the Python hooks
        warnings.warn(
            f"native instruction counter unavailable ({exc}); using slow Python hooks", NativeBuildWarning, stacklevel=3
        )
        return None


@dataclass
class InstalledHooks:
    """Keeps the hook handles and every object the callbacks need alive."""

    native: bool
    state: HookState
    handles: list[int]
    keepalive: list[object]
    write_hook: int = 0  # address of the native write recorder (0 with the Python hooks)
    uc: Uc | None = None
    block: bool = False  # the block counter is installed instead of the per-instruction counter
    count_hook: int = 0  # address of the native per-instruction counter
    stop_hook: int = 0  # address of the native stop point
    fast: list[Callable[..., int]] = field(default_factory=list)  # the in-place hypercall server, if any

    def set_fast_hypercall(self, vector: int, fn: Callable[..., int]) -> None:
        """Offer interrupt ``vector`` to ``fn`` before stopping (see :data:`FAST_HYPERCALL` for the call).

        ``fn`` runs inside Unicorn's interrupt handling, between two translated blocks, with the
        counter exact at the ``int``; it must never raise. Not offered during a spin probe.
        """
        self.fast[:] = [fn]
        if self.native:
            cb = FAST_HYPERCALL(fn)
            self.keepalive.append(cb)
            self.state.hc_fn = ctypes.cast(cb, ctypes.c_void_p).value
        self.state.hc_vec = vector
        self.state.hc_on = 1

    def stop_point(self, addr: int) -> int:
        """Add an empty native code hook on the instruction at ``addr`` (where a requested stop takes effect)."""
        assert self.uc is not None and self.block
        return _hook_add(self.uc, UC_HOOK_CODE, self.stop_hook, self.state, addr, addr)

    def count_range(self, begin: int, end: int) -> int:
        """Add the per-instruction counter on ``[begin, end]`` (block counting: the tail, the spin probe).

        Unicorn compiles hook calls into code when it translates it: the caller drops the affected
        translated code before and after (``ctl_remove_cache`` / ``ctl_flush_tb``).
        """
        assert self.uc is not None and self.block
        return _hook_add(self.uc, UC_HOOK_CODE, self.count_hook, self.state, begin, end)

    def drop(self, handle: int) -> None:
        """Remove a hook added by :meth:`count_range`."""
        assert self.uc is not None
        uclib.uc_hook_del(self.uc._uch, uc_hook_h(handle))

    def watch_writes(self) -> int:
        """Install the write recorder (clears ``state.wrote``); returns the handle for :meth:`unwatch`.

        It exists only for the few instructions of a spin probe: a permanent write hook would send
        every guest store through Unicorn's slow path.
        """
        assert self.uc is not None
        self.state.wrote = 0
        if self.native:
            return _hook_add(self.uc, UC_HOOK_MEM_WRITE, self.write_hook, self.state)
        state = self.state

        def on_write(_u: Uc, _access: int, _address: int, _size: int, _value: int, _data: object) -> None:
            state.wrote = 1

        return self.uc.hook_add(UC_HOOK_MEM_WRITE, on_write)

    def unwatch(self, handle: int) -> None:
        """Remove the write recorder installed by :meth:`watch_writes`."""
        assert self.uc is not None
        if self.native:
            uclib.uc_hook_del(self.uc._uch, uc_hook_h(handle))
        else:
            self.uc.hook_del(handle)


def _hook_add(uc: Uc, htype: int, fn: int, state: HookState, begin: int = 1, end: int = 0) -> int:
    handle = uc_hook_h()
    status = uclib.uc_hook_add(
        uc._uch,
        ctypes.byref(handle),
        htype,
        ctypes.c_void_p(fn),
        ctypes.c_void_p(ctypes.addressof(state)),
        ctypes.c_uint64(begin),
        ctypes.c_uint64(end),
    )
    if status != 0:
        raise OSError(f"uc_hook_add failed: {uclib.uc_strerror(status).decode()}")
    return handle.value


def install(uc: Uc, *, force_python: bool = False, block: bool = False) -> InstalledHooks:
    """Register the counter, interrupt and invalid-memory hooks on ``uc``.

    ``block``: count with the native block counter (ignored by the Python fallback, which always
    counts per instruction).
    """
    state = HookState()
    state.emu_stop = ctypes.cast(uclib.uc_emu_stop, ctypes.c_void_p).value
    state.reg_read = ctypes.cast(uclib.uc_reg_read, ctypes.c_void_p).value
    state.reg_write = ctypes.cast(uclib.uc_reg_write, ctypes.c_void_p).value
    state.hc_ids[:] = HC_REGS
    state.arm(0)
    lib = None if force_python else _native_library()
    if lib is not None:
        count_hook = ctypes.cast(lib.pd_count_hook, ctypes.c_void_p).value or 0
        block_hook = ctypes.cast(lib.pd_block_hook, ctypes.c_void_p).value or 0
        counter = (UC_HOOK_BLOCK, block_hook) if block else (UC_HOOK_CODE, count_hook)
        handles = [
            _hook_add(uc, counter[0], counter[1], state),
            _hook_add(uc, UC_HOOK_INTR, ctypes.cast(lib.pd_intr_hook, ctypes.c_void_p).value, state),
            _hook_add(uc, UC_HOOK_MEM_INVALID, ctypes.cast(lib.pd_mem_hook, ctypes.c_void_p).value, state),
        ]
        write = ctypes.cast(lib.pd_write_hook, ctypes.c_void_p).value or 0
        stop = ctypes.cast(lib.pd_stop_point, ctypes.c_void_p).value or 0
        return InstalledHooks(True, state, handles, [lib], write, uc, block, count_hook, stop)
    return _install_python(uc, state)


def _install_python(uc: Uc, state: HookState) -> InstalledHooks:
    """The same three hooks in Python: slow, and careful never to raise inside Unicorn."""

    def on_code(u: Uc, address: int, size: int, _data: object) -> None:
        if state.stopped:
            return
        if state.count >= state.budget or (state.probe and state.count and address == state.probe_pc):
            state.probe_hit = int(state.count < state.budget)
            state.stopped = 1
            u.emu_stop()
            return
        if state.probe and state.count < PROBE_MAX:
            state.probe_pcs[state.count] = address
        state.count += 1
        state.last_pc = address
        state.last_size = size

    fast: list[Callable[..., int]] = []

    def on_intr(u: Uc, intno: int, _data: object) -> None:
        if state.hc_on and intno == state.hc_vec and not state.probe and not state.stopped and state.intno < 0 and fast:
            answer = fast[0](state.last_pc | (1 << 63), state.count, *(u.reg_read(r) for r in HC_REGS))
            if answer & FAST_SERVED:
                if answer & FAST_EAX:
                    u.reg_write(X.UC_X86_REG_EAX, answer >> 32)
                charged = (answer >> FAST_CHARGE_SHIFT) & 0xFFFFFF
                if answer & FAST_END or charged >= state.budget - state.count:
                    state.budget = state.count
                else:
                    state.budget -= charged
                return
        if state.intno < 0:
            state.intno = intno
        u.emu_stop()

    def on_mem(u: Uc, access: int, address: int, size: int, _value: int, _data: object) -> bool:
        if state.mem_type < 0:
            state.mem_type = access
            state.mem_addr = address
            state.mem_size = size
        u.emu_stop()
        return False

    handles = [
        uc.hook_add(UC_HOOK_CODE, on_code),
        uc.hook_add(UC_HOOK_INTR, on_intr),
        uc.hook_add(UC_HOOK_MEM_INVALID, on_mem),
    ]
    return InstalledHooks(False, state, handles, [on_code, on_intr, on_mem], 0, uc, fast=fast)
