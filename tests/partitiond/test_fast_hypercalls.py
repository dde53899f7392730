"""Local hypercalls served inside the interrupt hook against the stopping path: indistinguishable.

``VCpu(fast_hypercalls=False)`` is the reference: every local hypercall stops the emulation and
is served after ``emu_start`` returns, followed by an injection point. Served in place, the same
program must give the same RunResults, registers, memory (get_time values included), console
and clocks, run by run, with either counting method and with the Python fallback hooks.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from test_counting import MIXED
from vcpu_support import Console, assemble, make_system

from partitiond.image import load_image, read_image
from partitiond.memory import AddressSpace
from partitiond.vcpu import ResetMode, RunKind, RunResult, VCpu

# Local hypercalls in a loop: both clocks, the vCPU id, timers armed within the chunk (one-shot a
# few µs ahead, and one already due), the virtual IF and IRQ masks toggled so that an interrupt
# becomes deliverable right after a call, an IRQ made pending by the guest, and an unknown call
# (served on the stopping path, it writes to the console). Two timer handlers count ticks.
LOCAL = """
main:
    SETUP
    SETGATE 0x90, h90
    SETGATE 0x91, h91
    movl $0, %ebx
    movl $3, %ecx
    HC 15
    HC 42
loop:
    movl $0, %ebx
    movl $tbuf, %ecx
    HC 9
    movl $1, %ebx
    movl $tbuf2, %ecx
    HC 9
    movl tbuf, %eax
    addl %eax, sum
    movl tbuf2, %eax
    addl %eax, sum2
    HC 32
    addl %eax, sum
    incl iter
    testl $7, iter
    jnz 1f
    movl $0, %ebx
    movl tbuf, %ecx
    addl $3, %ecx
    movl tbuf+4, %edx
    adcl $0, %edx
    movl $0, %esi
    movl $0, %edi
    HC 10
1:  testl $15, iter
    jnz 2f
    HC 43
    movl $0, %ebx
    movl $1, %ecx
    HC 16
    movl $0, %ebx
    movl $2, %ecx
    HC 17
    HC 42
    movl $0, %ebx
    movl $1, %ecx
    HC 15
2:  testl $31, iter
    jnz 3f
    movl $1, %ebx
    movl $1, %ecx
    movl $0, %edx
    movl $0, %esi
    movl $0, %edi
    HC 10
3:  testl $63, iter
    jnz loop
    HC 44
    jmp loop
h90: incl ticks0
    IRET_ENTRY
h91: incl ticks1
    IRET_ENTRY
    .set tbuf, DATA
    .set tbuf2, DATA + 8
    .set sum, DATA + 16
    .set sum2, DATA + 20
    .set iter, DATA + 24
    .set ticks0, DATA + 28
    .set ticks1, DATA + 32
"""
#: Where the guests of this module keep their variables (a free, zeroed page of P0's area).
DATA = 0x10F000


def make_cpu(
    tmp_path: Path, body: str, *, fast: bool, block: bool = True, native_hooks: bool = True, name: str = "g"
) -> VCpu:
    """A ready guest of partition 0 (1 MHz: 1 cycle = 1 µs, so timers fire within short runs)."""
    system = make_system(khz=1000)
    tag = f"{name}-{int(fast)}{int(block)}{int(native_hooks)}"
    out = tmp_path / tag
    out.mkdir()
    image = read_image(assemble(out, body.replace("DATA", hex(DATA)), tag))
    mem = AddressSpace(system, 0, out)
    load_image(image, mem)
    cpu = VCpu(system, 0, 0, mem, Console(), block_counting=block, native_hooks=native_hooks, fast_hypercalls=fast)
    cpu.reset(ResetMode.COLD, image.entry, cr3=image.page_table)
    return cpu


def drive(cpu: VCpu, budgets: list[int]) -> list[tuple[RunResult, dict[str, int], int]]:
    """Run slot after slot; the HM skips faulting instructions, forwarded calls return 0."""
    hw, out = 0, []
    for budget in budgets:
        r = cpu.run(budget, hw)
        hw += r.cycles
        out.append((r, cpu.registers(), cpu.exec_cycles))
        if r.kind == RunKind.EXCEPTION:
            cpu.skip_instruction()
        elif r.kind == RunKind.HYPERCALL:
            cpu.complete_hypercall(0)
    return out


def compare(tmp_path: Path, body: str, budgets: list[int], **kw: bool) -> VCpu:
    fast = make_cpu(tmp_path, body, fast=True, **kw)
    ref = make_cpu(tmp_path, body, fast=False, **kw)
    got, want = drive(fast, budgets), drive(ref, budgets)
    for i, (g, w) in enumerate(zip(got, want, strict=True)):
        assert g == w, f"run {i} (budget {budgets[i]}) differs"
    assert fast.read_guest(0x100000, 0x10000) == ref.read_guest(0x100000, 0x10000)
    assert fast.console.text == ref.console.text and fast.instructions == ref.instructions
    assert ref.served_in_place == 0
    return fast


@pytest.mark.parametrize(("block", "native_hooks"), [(True, True), (False, True), (True, False)])
def test_local_calls_in_place_match_the_stopping_path(tmp_path: Path, block: bool, native_hooks: bool) -> None:
    budgets = [5_000, 1, 7, 333, 20_000, 104, 105, 3, 50_000] if native_hooks else [5_000, 1, 333, 20_000]
    cpu = compare(tmp_path, LOCAL, budgets, block=block, native_hooks=native_hooks)
    assert cpu.served_in_place > 100  # the in-place path really served most of them


@pytest.mark.parametrize("seed", range(4))
def test_random_budgets_match(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    budgets = [rng.choice((rng.randint(1, 12), rng.randint(1, 400), rng.randint(4000, 30000))) for _ in range(60)]
    compare(tmp_path, LOCAL, budgets)


def test_mixed_guest_matches(tmp_path: Path) -> None:
    """Faults, traps, port accesses and forwarded calls between the local ones."""
    rng = random.Random(7)
    compare(tmp_path, MIXED, [rng.randint(1, 9000) for _ in range(80)])


def test_timers_and_injections_happen(tmp_path: Path) -> None:
    """The LOCAL guest really takes both timer interrupts while calls are served in place."""
    cpu = make_cpu(tmp_path, LOCAL, fast=True)
    drive(cpu, [200_000])
    iterations, ticks0, ticks1 = (int.from_bytes(cpu.read_guest(DATA + off, 4), "little") for off in (24, 28, 32))
    assert iterations > 500 and ticks0 > 10 and ticks1 > 10 and cpu.served_in_place > 1000


def test_get_time_in_place_reads_the_clock_at_the_int(tmp_path: Path) -> None:
    """Instructions before the int count, the 100-cycle cost of the previous call too."""
    body = """
main:
    movl $0, %ebx
    movl $tbuf, %ecx
    HC 9
    movl $0, %ebx
    movl $tbuf+8, %ecx
    HC 9
    movl $1, %ebx
    movl $tbuf+16, %ecx
    HC 9
    cli
    jmp main
    .set tbuf, DATA
"""
    cpus = [make_cpu(tmp_path, body, fast=f, name="t") for f in (True, False)]
    for cpu in cpus:
        for _ in range(2):  # the second run finds the sites verified
            r = cpu.run(10_000, 40)
            assert r.kind == RunKind.EXCEPTION and r.instructions == 13 and cpu.skip_instruction()
    values = [cpu.read_guest(DATA, 24) for cpu in cpus]
    assert values[0] == values[1]
    # HW clock 40 + jmp main, 3 movs, the int = 45 µs; then 100 + 4 later; the EXEC clock goes on
    assert int.from_bytes(values[0][:8], "little") == 45
    assert int.from_bytes(values[0][8:16], "little") == 45 + 104
    assert int.from_bytes(values[0][16:24], "little") == 13 + 300 + 13 + 200  # all of the first run, then this one
    assert cpus[0].served_in_place == 3  # the first run verified the three sites
