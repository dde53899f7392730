"""Spin fast-forward: a proven fixed-point loop is skipped with the same virtual result as executing it."""

from __future__ import annotations

import pytest
from vcpu_support import make_system

from partitiond.vcpu import SPIN_MAX_PERIOD, RunKind, VCpu

# A periodic HW timer (IRQ vector 0x90); the handler counts ticks and writes to the console through
# an unknown hypercall; main busy-waits until the handler has run TICKS times, then stops with a #GP.
SPIN_GUEST = """
main:
    SETUP
    SETGATE 0x90, h90
    movl $0, %ebx
    movl $1, %ecx
    HC 15
    movl $0, %ebx
    movl $FIRST, %ecx
    movl $0, %edx
    movl $PERIOD, %esi
    movl $0, %edi
    HC 10
    HC 42
1:  movl ticks, %eax
    cmpl $TICKS, %eax
    jl 1b
    cli
h90: incl ticks
    HC 44
    IRET_ENTRY
    .data
ticks: .long 0
"""


def spin_guest(
    guest,
    *,
    first: int = 1000,
    period: int = 700,
    ticks: int = 4,
    ff: bool = True,
    native_hooks: bool = True,
    khz: int = 1_000_000,
) -> VCpu:
    body = SPIN_GUEST.replace("FIRST", str(first)).replace("PERIOD", str(period)).replace("TICKS", str(ticks))
    return guest(body, sys=make_system(khz=khz), native_hooks=native_hooks)


def drive(cpu: VCpu, budgets: list[int], *, ff: bool) -> list[tuple[str, int, int]]:
    """Run slot after slot (HW time advancing by what each run used) until the guest's #GP."""
    cpu.spin_fast_forward = ff
    hw, trace = 0, []
    for budget in budgets:
        r = cpu.run(budget, hw)
        hw += r.cycles
        trace.append((str(r.kind), r.cycles, r.instructions))
        if r.kind == RunKind.EXCEPTION:
            break
    return trace


def snapshot(cpu: VCpu) -> tuple[object, ...]:
    return (cpu.registers(), cpu.instructions, cpu.exec_cycles, cpu.console.text, cpu.read_guest(0x100000, 0x10000))


@pytest.mark.parametrize("budgets", [[10**8], [333_333] * 40, [1_000_003, 7, 2_500_001, 10**8]])
def test_spin_with_timer_same_result_as_executing(guest, budgets: list[int]) -> None:
    """1 GHz, timer at 1 ms then every 0.7 ms: both ways give the same trace, state and console."""
    slow, fast = spin_guest(guest), spin_guest(guest)
    t_slow = drive(slow, budgets, ff=False)
    t_fast = drive(fast, budgets, ff=True)
    assert t_fast == t_slow and t_fast[-1][0] == RunKind.EXCEPTION
    assert snapshot(fast) == snapshot(slow)
    assert fast.console.text.count("Hypercall (44) unknown") == 4
    assert slow.spin_skipped == 0 and fast.spin_skipped > 0.9 * fast.instructions


def test_python_hooks_fast_forward_identically(guest) -> None:
    native = spin_guest(guest, first=200, period=150, ticks=2)
    python = spin_guest(guest, first=200, period=150, ticks=2, native_hooks=False)
    assert drive(native, [10**7], ff=True) == drive(python, [10**7], ff=True)
    assert snapshot(native) == snapshot(python) and python.spin_skipped > 0


def test_endless_loop_runs_the_budget_exactly_and_is_fast_forwarded(guest) -> None:
    cpu = guest("main:\n movl $7, %ecx\n1: jmp 1b")
    r = cpu.run(10**9 + 3, 0)  # one second of a 1 GHz CPU
    assert (r.kind, r.cycles, r.instructions) == (RunKind.BUDGET, 10**9 + 3, 10**9 + 3)
    assert cpu.eip == 0x100000 + 2 + 5 and cpu.registers()["ecx"] == 7  # jmp main, movl
    assert cpu.spin_skipped > 0.999 * 10**9  # how fast that is: python -m bench P1 (spin)


def test_budget_remainder_lands_mid_iteration(guest) -> None:
    """A 3-instruction loop and budgets that are not multiples of 3: same stop point both ways."""
    loop = "main:\n1: movl %ebx, %eax\n cmpl $5, %eax\n jne 1b\n cli"
    for budget in (100_000, 100_001, 100_002):
        a, b = guest(loop), guest(loop, native_hooks=True)
        b.spin_fast_forward = False
        ra, rb = a.run(budget, 0), b.run(budget, 0)
        assert (ra.cycles, ra.instructions) == (rb.cycles, rb.instructions) == (budget, budget)
        assert a.registers() == b.registers() and a.spin_skipped > 0


@pytest.mark.parametrize(
    "loop",
    [
        "1: movl $1, flag\n jmp 1b",  # writes memory (the same value every time)
        "1: incl %ecx\n jmp 1b",  # registers change
        "1: call f\n jmp 1b\nf: ret",  # the call writes its return address
        "1: rdtsc\n xorl %eax, %eax\n xorl %edx, %edx\n jmp 1b",  # time-dependent input (rdrand is #UD)
        f"1: .rept {SPIN_MAX_PERIOD + 1}\n nop\n .endr\n jmp 1b",  # iteration longer than a probe looks
    ],
)
def test_loops_that_must_not_be_skipped(guest, loop: str) -> None:
    body = f"main:\n movl $stack_top, %esp\n{loop}\n .data\nflag: .long 0"
    cpu, ref = guest(body), guest(body)
    ref.spin_fast_forward = False
    for budget in (200_000, 300_001):
        assert cpu.run(budget, 0).instructions == ref.run(budget, 0).instructions == budget
    regs, ref_regs = cpu.registers(), ref.registers()
    assert regs == ref_regs and cpu.spin_skipped == 0


def test_spin_with_one_second_timer_is_fast_forwarded(guest) -> None:
    """A spinning partition with a 1 s virtual timer period: 20 virtual seconds almost all skipped.

    How fast that is in wall time is measured by ``python -m bench P1`` (spin), not here.
    """
    cpu = spin_guest(guest, first=1_000_000, period=1_000_000, ticks=1 << 30)
    hw = 0
    for _ in range(40):  # 20 virtual seconds in 500 ms slots
        hw += cpu.run(500_000_000, hw).cycles
    assert hw == 20 * 10**9
    assert cpu.console.text.count("unknown") == 19  # at 1 s, ..., 19 s; the 20th is due at the next run
    assert cpu.spin_skipped > 0.999 * cpu.instructions
