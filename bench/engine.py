"""Engine throughput measurements (a script, not a test): run with ``.venv/bin/python bench/engine.py``.

1. Guest instructions per second of a compute-bound guest under the engine (native counting hooks)
   versus raw Unicorn with no hooks on the same ELF, in one run, printed as a ratio.
2. Wall cost of a local hypercall (get_time) versus a bare ``int`` round trip through a Python
   UC_HOOK_INTR hook that only returns.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from unicorn import UC_ARCH_X86, UC_HOOK_INTR, UC_MODE_32, Uc
from unicorn import x86_const as X

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "partitiond"))

from conftest import Console, assemble, make_system  # noqa: E402

from partitiond.image import load_image, read_image  # noqa: E402
from partitiond.memory import AddressSpace  # noqa: E402
from partitiond.vcpu import ResetMode, VCpu  # noqa: E402

COMPUTE = """
main:
    movl $stack_top, %esp
1:  incl %ecx
    movl %ecx, %eax
    imull %eax, %eax
    xorl %eax, %edx
    addl %edx, %ebx
    jmp 1b
"""
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
N = 20_000_000


def engine(tmp: Path, body: str, name: str) -> VCpu:
    system = make_system()
    run_dir = tmp / name
    run_dir.mkdir()
    mem = AddressSpace(system, 0, run_dir)
    image = read_image(assemble(tmp, body, name))
    load_image(image, mem)
    cpu = VCpu(system, 0, 0, mem, Console())
    cpu.reset(ResetMode.COLD, image.entry)
    return cpu


def raw(tmp: Path, body: str, name: str) -> tuple[Uc, int]:
    image = read_image(assemble(tmp, body, name))
    uc = Uc(UC_ARCH_X86, UC_MODE_32)
    uc.mem_map(0x100000, 0x10000)
    for s in image.segments:
        uc.mem_write(s.vaddr, s.data)
    return uc, image.entry


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="prtosd-bench-"))
    cpu = engine(tmp, COMPUTE, "eng")
    cpu.run(100_000, 0)  # warm up translation
    t0 = time.perf_counter()
    cpu.run(N, 0)
    t_engine = time.perf_counter() - t0
    uc, entry = raw(tmp, COMPUTE, "raw")
    uc.emu_start(entry, 0xFFFFFFFF, count=100_000)
    t0 = time.perf_counter()
    uc.emu_start(uc.reg_read(X.UC_X86_REG_EIP), 0xFFFFFFFF, timeout=int(t_engine * 1e6))
    t_raw_window = time.perf_counter() - t0
    # Raw Unicorn cannot count without a hook: time a fixed window and count loop iterations via ECX.
    raw_instr = uc.reg_read(X.UC_X86_REG_ECX) * 6
    eng_ips = N / t_engine
    raw_ips = raw_instr / t_raw_window
    print(f"compute: engine {eng_ips / 1e6:.1f} M instr/s, raw unicorn {raw_ips / 1e6:.1f} M instr/s, "
          f"ratio raw/engine = {raw_ips / eng_ips:.2f}")

    calls = 20_000
    cpu = engine(tmp, HYPERCALLS, "hc")
    cpu.run(10_000, 0)
    t0 = time.perf_counter()
    cpu.run(calls * (4 + 100), 0)  # 4 instructions + 100 cycles of cost per iteration
    t_hc = (time.perf_counter() - t0) / calls
    uc, entry = raw(tmp, BARE_INT, "int")
    count = [0]

    def on_int(u: Uc, intno: int, _d: object) -> None:
        count[0] += 1

    uc.hook_add(UC_HOOK_INTR, on_int)
    t0 = time.perf_counter()
    uc.emu_start(entry, 0xFFFFFFFF, count=2 * calls)
    t_int = (time.perf_counter() - t0) / count[0]
    print(f"hypercall: get_time {t_hc * 1e6:.2f} µs/call, bare int hook round trip {t_int * 1e6:.2f} µs, "
          f"ratio = {t_hc / t_int:.1f}")


if __name__ == "__main__":
    main()
