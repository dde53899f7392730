"""Block counting against the per-instruction counter: the same runs, results and states, budget by budget.

The per-instruction counter (``VCpu(block_counting=False)``) is the reference: it stops before
instruction ``budget + 1`` and records every instruction. The block counter must be
indistinguishable from it: same RunResult (kind, cycles, instructions, trap record), same
registers, same memory, for any budget sequence, with faults in the middle of blocks, traps,
hypercalls, port accesses, timer interrupts injected at the exact stop points and spin probes.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from vcpu_support import Console, assemble, make_system

from partitiond.image import load_image, read_image
from partitiond.memory import AddressSpace
from partitiond.pct import PCT_ADDR
from partitiond.vcpu import ResetMode, RunKind, RunResult, VCpu

# A guest that picks one of 16 functions pseudo-randomly (an LCG in ESI) forever. The functions mix
# straight code, loops, calls, string instructions, local and forwarded hypercalls, in/out, and
# faults or traps in the middle of a block; a periodic HW timer interrupts it all along.
MIXED = """
main:
    SETUP
    SETGATE 0x90, h90
    movl $0, %ebx
    movl $1, %ecx
    HC 15
    movl $0, %ebx
    movl $97, %ecx
    movl $0, %edx
    movl $89, %esi
    movl $0, %edi
    HC 10
    HC 42
    movl $12345, %esi
loop:
    imull $1103515245, %esi, %esi
    addl $12345, %esi
    movl %esi, %eax
    shrl $16, %eax
    andl $15, %eax
    call *table(,%eax,4)
    incl %edi
    jmp loop
f0: addl $1, %ebx
    nop
    ret
f1: pushl %ecx
    movl $5, %ecx
1:  addl %ecx, %ebx
    loop 1b
    popl %ecx
    ret
f2: movl %esi, %ecx
    shrl $20, %ecx
    andl $3, %ecx
    movl $100, %eax
    xorl %edx, %edx
    divl %ecx
    addl %eax, %ebx
    ret
f3: nop
    movl 0x300000, %eax
    incl %ebx
    ret
f4: pushl %ebx
    pushl %ecx
    movl $0, %ebx
    movl $tbuf, %ecx
    HC 9
    popl %ecx
    popl %ebx
    ret
f5: nop
    int3
    incl %ebx
    ret
f6: incl %ebx
    cli
    incl %ebx
    ret
f7: incl %ebx
    inb $0x60, %al
    incl %ebx
    ret
f8: movw $0x3F9, %dx
    inb %dx, %al
    outb %al, %dx
    ret
f9: pushl %esi
    pushl %edi
    movl $src, %esi
    movl $dst, %edi
    movl $7, %ecx
    rep movsb
    popl %edi
    popl %esi
    ret
f10: movl $9, %ecx
1:  movl %ecx, dst(,%ecx,4)
    decl %ecx
    jnz 1b
    ret
f11: HC 32
    addl %eax, %ebx
    ret
f12: call f1
    call f0
    ret
f13: incl %ebx
    movl %eax, 0x200000
    ret
f14: jmp 1f
1:  jmp 2f
2:  movl $3, %ebx
    movl $4, %ecx
    HC 4
    ret
f15: HC 44
    ret
h90: incl ticks
    IRET_ENTRY
    .data
table: .long f0, f1, f2, f3, f4, f5, f6, f7, f8, f9, f10, f11, f12, f13, f14, f15
tbuf: .quad 0
src: .ascii "abcdefg"
dst: .space 64
ticks: .long 0
"""


def make_cpu(tmp_path: Path, body: str, *, block: bool, khz: int = 1000, name: str = "g") -> VCpu:
    """A ready guest of partition 0 with the chosen counting method (1 MHz: 1 cycle = 1 µs)."""
    system = make_system(khz=khz)
    tag = f"{name}-{'block' if block else 'insn'}"
    out = tmp_path / tag
    out.mkdir()
    image = read_image(assemble(out, body, tag))
    mem = AddressSpace(system, 0, out)
    load_image(image, mem)
    cpu = VCpu(system, 0, 0, mem, Console(), block_counting=block)
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
        elif r.kind == RunKind.HALTED:
            break
    return out


def compare(tmp_path: Path, body: str, budgets: list[int], name: str = "g", khz: int = 1000) -> tuple[VCpu, VCpu]:
    block = make_cpu(tmp_path, body, block=True, name=name, khz=khz)
    ref = make_cpu(tmp_path, body, block=False, name=name, khz=khz)
    assert block.block_counting and not ref.block_counting
    got, want = drive(block, budgets), drive(ref, budgets)
    for i, (g, w) in enumerate(zip(got, want, strict=True)):
        assert g == w, f"run {i} (budget {budgets[i]}) differs"
    assert block.read_guest(0x100000, 0x10000) == ref.read_guest(0x100000, 0x10000)
    assert block.console.text == ref.console.text and block.instructions == ref.instructions
    return block, ref


@pytest.mark.parametrize("seed", range(12))
def test_random_budgets_match_the_per_instruction_counter(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    budgets = [rng.choice((rng.randint(1, 12), rng.randint(1, 400), rng.randint(4000, 9000))) for _ in range(150)]
    compare(tmp_path, MIXED, budgets)


def test_the_mix_exercises_every_stop(tmp_path: Path) -> None:
    """The mixed guest really stops in every way the comparison is meant to cover."""
    cpu = make_cpu(tmp_path, MIXED, block=True)
    rng = random.Random(99)
    seen: set[object] = set()
    for r, _, _ in drive(cpu, [rng.randint(1, 300) for _ in range(400)]):
        seen.add(str(r.kind) if r.trap is None else (r.trap.event, r.trap.trap))
    assert {"budget", "hypercall", (6, 0), (20, 14), (9, 3), (19, 13)} <= seen, seen


@pytest.mark.parametrize("budget", [*range(1, 40), 97, 98, 99, 1000, 1001])
def test_every_stop_point_of_a_short_run(tmp_path: Path, budget: int) -> None:
    compare(tmp_path, MIXED, [budget] * 12)


def test_faults_at_every_position_of_a_block(tmp_path: Path) -> None:
    """A fault preceded by 0..9 instructions of the same block: count, pc and skip agree."""
    for k in range(10):
        body = "main:\n" + " incl %ebx\n" * k + " cli\n incl %ecx\n movl 0x300000, %eax\n ud2\n jmp main"
        compare(tmp_path, body, [1000] * 6 + [3] * 4, name=f"f{k}")


def test_an_opcode_unicorn_rejects_is_skipped_by_its_encoded_length(tmp_path: Path) -> None:
    """0F 00 /7 is undefined: #UD, reported without a size by Unicorn; skipping it resumes after its 7 bytes."""
    body = "main:\n xorl %ebx, %ebx\n1: incl %ecx\n .byte 0x0f, 0x00, 0x3d, 0, 0, 0x10, 0\n incl %ebx\n jmp 1b"
    block, _ = compare(tmp_path, body, [100] * 6)
    assert block.registers()["ebx"] == 5


def test_many_distinct_blocks_overflow_the_table(tmp_path: Path) -> None:
    """More blocks than the table holds: it is emptied and refilled, counts stay exact."""
    body = "main:\n .rept 5000\n incl %ebx\n jmp 1f\n1:\n .endr\n jmp main"
    block, _ = compare(tmp_path, body, [7, 40_000, 12_345, 3, 30_001])
    assert block.registers()["ebx"] > 20_000


@pytest.mark.parametrize("flush", [True, False])
def test_host_rewrite_of_code_changes_the_count(tmp_path: Path, flush: bool) -> None:
    """Code rewritten host-side (two nops → one 2-byte instruction): counts follow the new code.

    The block counter notices a write over a counted block by itself; the per-instruction
    counter needs flush_code_cache, the documented step after a host-side code rewrite.
    """
    body = "main:\n1: nop\n nop\n incl %ebx\n jmp 1b"
    cpus = [make_cpu(tmp_path, body, block=b, name=f"rw{flush}") for b in (True, False)]
    results = []
    for cpu in cpus:
        cpu.run(1000, 0)
        cpu.write_guest(0x100002, b"\x31\xc0")  # xorl %eax, %eax over the two nops
        if flush or not cpu.block_counting:
            cpu.flush_code_cache()
        r = cpu.run(1001, 0)
        results.append((r, cpu.registers()))
    assert results[0] == results[1]
    # 250 iterations of 4, then from the jmp: 333 iterations of 3 (xorl, incl, jmp) and one xorl
    assert results[0][1]["ebx"] == PCT_ADDR + 250 + 333 and results[0][1]["eip"] == 0x100004


def test_spin_fast_forward_identical_with_both_counters(tmp_path: Path) -> None:
    """A spinning guest fast-forwarded with block counting ends where the reference ends."""
    body = MIXED.replace("call *table(,%eax,4)", "call f0\n2: cmpl $3, ticks\n jl 2b")
    block, ref = compare(tmp_path, body, [50_000, 123_457, 1, 400_000], name="spin", khz=1_000_000)
    assert block.spin_skipped > 0 and block.spin_skipped == ref.spin_skipped


def test_python_fallback_counts_per_instruction(tmp_path: Path) -> None:
    system = make_system()
    image = read_image(assemble(tmp_path, "main:\n jmp main"))
    mem = AddressSpace(system, 0, tmp_path)
    load_image(image, mem)
    cpu = VCpu(system, 0, 0, mem, Console(), native_hooks=False, block_counting=True)
    assert not cpu.block_counting
