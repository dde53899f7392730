"""Engine throughput measurements (a script, not a test): run with ``.venv/bin/python bench/engine.py``.

1. Compute-bound guest: one finite loop (7 instructions per iteration, ended by ``cli``), executed in
   one process by raw Unicorn with no hook (stopped by ``until``), by ``emu_start(count=N)``, by raw
   Unicorn with the cheapest native block hook, and by the engine. The instruction count is the
   same in every case (checked), so the printed rates compare like with like; best of five each,
   the four measured in turn. Times are the process's CPU time (see ``CLOCK``).
2. Wall cost of a local hypercall (get_time) versus a bare ``int`` round trip through a Python
   UC_HOOK_INTR hook that only returns; best of five each, alternating.
3. Spin fast-forward: virtual seconds per wall second of a guest that busy-waits for a 1 s timer.
"""

from __future__ import annotations

import ctypes
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from unicorn import UC_ARCH_X86, UC_HOOK_BLOCK, UC_HOOK_INTR, UC_MODE_32, Uc
from unicorn.unicorn_py3.unicorn import uc_hook_h, uclib

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "partitiond"))

from vcpu_support import Console, assemble, make_system  # noqa: E402

from partitiond.image import Image, load_image, read_image  # noqa: E402
from partitiond.memory import AddressSpace  # noqa: E402
from partitiond.toolchain import run_zig  # noqa: E402
from partitiond.vcpu import ResetMode, RunKind, VCpu  # noqa: E402

#: CPU time of this process: the engine, Unicorn and the references all run in it, single-threaded,
#: so this leaves out the time other processes of a loaded machine take from it.
CLOCK = time.process_time
ITERATIONS = 3_000_000
COMPUTE = f"""
main:
    movl $stack_top, %esp
    movl ${ITERATIONS}, %ecx
1:  incl %ebx
    movl %ebx, %eax
    imull %eax, %eax
    xorl %eax, %edx
    addl %edx, %esi
    decl %ecx
    jnz 1b
    .globl done
done:
    cli
"""
INSTRUCTIONS = 1 + 2 + 7 * ITERATIONS  # jmp main, two movs, the loop (cli not included)
HYPERCALLS = """
main:
    movl $stack_top, %esp
1:  movl $0, %ebx
    movl $t, %ecx
    HC 9
    jmp 1b
    .data
t: .quad 0
"""
BARE_INT = """
main:
1:  int $0x80
    jmp 1b
"""
SPIN = """
main:
    SETUP
    SETGATE 0x90, h90
    movl $0, %ebx
    movl $1, %ecx
    HC 15
    movl $0, %ebx
    movl $1000000, %ecx
    movl $0, %edx
    movl $1000000, %esi
    movl $0, %edi
    HC 10
    HC 42
1:  cmpl $0, ticks
    jge 1b
h90: incl ticks
    IRET_ENTRY
    .data
ticks: .long 0
"""


def engine(tmp: Path, body: str, name: str) -> tuple[VCpu, Image]:
    system = make_system()
    run_dir = tmp / name
    run_dir.mkdir()
    mem = AddressSpace(system, 0, run_dir)
    image = read_image(assemble(tmp, body, name))
    load_image(image, mem)
    cpu = VCpu(system, 0, 0, mem, Console())
    cpu.reset(ResetMode.COLD, image.entry)
    return cpu, image


def raw(image: Image) -> Uc:
    uc = Uc(UC_ARCH_X86, UC_MODE_32)
    uc.mem_map(0x100000, 0x10000)
    for s in image.segments:
        uc.mem_write(s.vaddr, s.data)
    return uc


def best(prepares: dict[str, Callable[[], Callable[[], int]]], repeat: int = 5) -> dict[str, float]:
    """Best rate (instructions per second) of each, over ``repeat`` rounds that run every one in turn.

    Alternating makes a change in the machine's load hit all of them alike; set-up by the
    ``prepare`` functions is not timed.
    """
    rates: dict[str, float] = dict.fromkeys(prepares, 0.0)
    for _ in range(repeat):
        for name, prepare in prepares.items():
            fn = prepare()
            t0 = CLOCK()
            n = fn()
            rates[name] = max(rates[name], n / (CLOCK() - t0))
    return rates


def block_hook_library(tmp: Path) -> ctypes.CDLL:
    out = tmp / "libbenchblock.so"
    res = run_zig(
        ["cc", "-shared", "-fPIC", "-O2", "-nostdlib", "-o", str(out), str(Path(__file__).with_name("blockcount.c"))]
    )
    if res.returncode != 0:
        raise OSError(res.stderr)
    return ctypes.CDLL(str(out))


def compute(tmp: Path) -> None:
    elf = assemble(tmp, COMPUTE, "compute")
    image = read_image(elf)
    from elftools.elf.elffile import ELFFile

    with open(elf, "rb") as fh:
        done = ELFFile(fh).get_section_by_name(".symtab").get_symbol_by_name("done")[0]["st_value"]

    def run_raw() -> Callable[[], int]:
        uc = raw(image)

        def go() -> int:
            uc.emu_start(image.entry, done)
            return INSTRUCTIONS

        return go

    def run_count() -> Callable[[], int]:
        uc = raw(image)

        def go() -> int:
            uc.emu_start(image.entry, done, count=INSTRUCTIONS + 10)
            return INSTRUCTIONS

        return go

    lib = block_hook_library(tmp)
    blocks = ctypes.c_uint64()

    def run_block() -> Callable[[], int]:
        uc = raw(image)
        h = uc_hook_h()
        status = uclib.uc_hook_add(
            uc._uch,
            ctypes.byref(h),
            UC_HOOK_BLOCK,
            ctypes.c_void_p(ctypes.cast(lib.bench_block_hook, ctypes.c_void_p).value),
            ctypes.c_void_p(ctypes.addressof(blocks)),
            ctypes.c_uint64(1),
            ctypes.c_uint64(0),
        )
        assert status == 0

        def go() -> int:
            blocks.value = 0
            uc.emu_start(image.entry, done)
            assert blocks.value >= ITERATIONS, blocks.value  # the hook really ran once per block
            return INSTRUCTIONS

        return go

    def run_engine() -> Callable[[], int]:
        cpu, _ = engine(tmp, COMPUTE, f"eng{time.perf_counter_ns()}")

        def go() -> int:
            r = cpu.run(10 * INSTRUCTIONS, 0)
            assert r.kind == RunKind.EXCEPTION and r.instructions == INSTRUCTIONS, r
            return r.instructions

        return go

    rates = best(
        {
            "raw (no hook, until=)": run_raw,
            "emu_start(count=N)": run_count,
            "native block hook": run_block,
            "engine VCpu.run": run_engine,
        }
    )
    base = rates["raw (no hook, until=)"]
    print(f"compute guest, {INSTRUCTIONS} instructions each, best of 5 alternating (translation included):")
    for name, rate in rates.items():
        print(f"  {name:24s} {rate / 1e6:8.1f} M instr/s   {rate / base:5.3f}x raw")


def hypercalls(tmp: Path, repeat: int = 5) -> None:
    """Best of ``repeat`` for each side, measured alternately so that both see the same load."""
    calls = 20_000
    cpu, _ = engine(tmp, HYPERCALLS, "hc")
    cpu.run(10_000, 0)
    served = cpu.served_in_place
    uc = raw(read_image(assemble(tmp, BARE_INT, "int")))
    count = [0]

    def on_int(u: Uc, intno: int, _d: object) -> None:
        count[0] += 1

    uc.hook_add(UC_HOOK_INTR, on_int)
    t_hc = t_int = float("inf")
    for _ in range(repeat):
        t0 = CLOCK()
        cpu.run(calls * (5 + 100), 0)  # 5 instructions + 100 cycles of cost per iteration
        t_hc = min(t_hc, (CLOCK() - t0) / calls)
        count[0] = 0
        t0 = CLOCK()
        uc.emu_start(0x100000, 0xFFFFFFFF, count=2 * calls)
        t_int = min(t_int, (CLOCK() - t0) / count[0])
    in_place = (cpu.served_in_place - served) / (repeat * calls)
    print(
        f"hypercall: get_time {t_hc * 1e6:.2f} µs/call, bare int hook round trip {t_int * 1e6:.2f} µs, "
        f"ratio = {t_hc / t_int:.1f} (best of {repeat}; {in_place:.3f} of the calls served in place)"
    )


def spin(tmp: Path) -> None:
    cpu, _ = engine(tmp, SPIN, "spin")
    hw = 0
    t0 = time.perf_counter()
    for _ in range(200):  # 100 virtual seconds in 500 ms slots at 1 GHz
        hw += cpu.run(500_000_000, hw).cycles
    wall = time.perf_counter() - t0
    print(
        f"spin with a 1 s timer: {hw / 1e9 / wall:.0f} virtual s per wall s "
        f"({cpu.spin_skipped / cpu.instructions:.6f} of the instructions fast-forwarded)"
    )


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="prtosd-bench-"))
    compute(tmp)
    hypercalls(tmp)
    spin(tmp)


if __name__ == "__main__":
    main()
