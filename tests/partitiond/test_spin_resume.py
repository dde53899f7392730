"""Kept spin proofs: a run that resumes a proven spin skips it at once, with the result of probing again.

Every test drives two vCPUs of the same guest grant by grant, one resuming kept proofs and one
probing every time (``spin_resume = False``, the reference), and compares what the guest can see.
"""

from __future__ import annotations

import pytest
from test_spin import snapshot, spin_guest
from vcpu_support import SHARED

from partitiond.vcpu import ResetMode, RunKind, VCpu

QUANTUM = 10_000_000  # one 10 ms grant at 1 GHz

# Spins until the word at SHARED is non-zero, then stops with a #GP (cli at ring 1).
FLAG_LOOP = f"main:\n movl $stack_top, %esp\n movl $7, %ecx\n1: movl {SHARED:#x}, %eax\n testl %eax, %eax\n jz 1b\n cli"
# A one-instruction spin whose only input is memory: it jumps through the word at SHARED, which
# holds its own address until something writes there the exit's address (kept in EDX).
JUMP_LOOP = f"main:\n movl $1f, {SHARED:#x}\n movl $2f, %edx\n1: jmp *{SHARED:#x}\n2: cli"


def pair(guest, body: str) -> tuple[VCpu, VCpu]:
    """(resuming, reference) vCPUs of the same guest."""
    fast, ref = guest(body), guest(body)
    ref.spin_resume = False
    return fast, ref


def step(cpus: tuple[VCpu, ...], budget: int, hw: int) -> list[tuple[str, int, int]]:
    out = []
    for cpu in cpus:
        r = cpu.run(budget, hw)
        out.append((str(r.kind), r.cycles, r.instructions))
    assert all(o == out[0] for o in out), out
    return out


def same(a: VCpu, b: VCpu) -> None:
    assert (a.registers(), a.instructions, a.exec_cycles) == (b.registers(), b.instructions, b.exec_cycles)


@pytest.mark.parametrize(
    "body",
    [
        "main:\n movl $7, %ecx\n1: jmp 1b",  # one instruction
        "main:\n1: movl %ebx, %eax\n cmpl $5, %eax\n jne 1b\n cli",  # three: grants end mid-iteration
        FLAG_LOOP,  # reads memory
        JUMP_LOOP,  # jumps through memory
    ],
)
@pytest.mark.parametrize("budget", [QUANTUM, 1_000_003, 333_334])
def test_resumed_grants_count_like_probing_ones(guest, body: str, budget: int) -> None:
    fast, ref = pair(guest, body)
    hw = 0
    for _ in range(30):
        hw += step((fast, ref), budget, hw)[0][1]
        same(fast, ref)
    assert ref.spin_resumed == 0 and fast.spin_resumed >= 25
    assert fast.spin_skipped >= ref.spin_skipped > 0.9 * ref.instructions


@pytest.mark.parametrize("budgets", [[333_333] * 40, [1_000_003, 7, 2_500_001, 10**8]])
def test_timer_interrupts_between_grants_are_honoured(guest, budgets: list[int]) -> None:
    """The spin reads a counter the timer handler increments: every tick changes the loop's input."""
    fast, ref = spin_guest(guest), spin_guest(guest)
    ref.spin_resume = False
    hw = 0
    for budget in budgets:
        kind = step((fast, ref), budget, hw)[0]
        hw += kind[1]
        if kind[0] == RunKind.EXCEPTION:
            break
    assert kind[0] == RunKind.EXCEPTION
    assert snapshot(fast) == snapshot(ref)


@pytest.mark.parametrize("how", ["write_guest", "host"])
def test_memory_written_between_grants_ends_the_spin(guest, how: str) -> None:
    """A write into the word the loop reads (by the supervisor, or by another process's mapping)."""
    fast, ref = pair(guest, JUMP_LOOP)
    hw = 0
    for _ in range(5):
        hw += step((fast, ref), QUANTUM, hw)[0][1]
    assert fast.spin_resumed >= 3
    for cpu in (fast, ref):
        exit_ = cpu.registers()["edx"].to_bytes(4, "little")
        if how == "write_guest":
            cpu.write_guest(SHARED, exit_)
        else:
            cpu.memory.write(SHARED, exit_)
    kind = step((fast, ref), QUANTUM, hw)[0]
    assert kind[0] == RunKind.EXCEPTION and kind[2] == 1  # the jump out, then the #GP of cli
    same(fast, ref)


def test_interrupt_injected_between_grants_is_delivered(guest) -> None:
    """An ext IRQ raised between grants runs its handler (which ends the spin) at the next grant.

    The handler changes only the memory the loop jumps through and returns into the loop with the
    registers it had: only the kept memory tells the resumed loop from the proven one.
    """
    body = (
        "main:\n SETUP\n SETGATE 0x90, h90\n movl $0, %ebx\n movl $1, %ecx\n HC 15\n HC 42\n"
        f" movl $1f, {SHARED:#x}\n1: jmp *{SHARED:#x}\n2: cli\n"
        f"h90: movl $2b, {SHARED:#x}\n IRET_ENTRY"
    )
    fast, ref = pair(guest, body)
    hw = 0
    for _ in range(5):
        hw += step((fast, ref), QUANTUM, hw)[0][1]
    assert fast.spin_resumed >= 3
    for cpu in (fast, ref):
        cpu.raise_ext_irq(0)
    kind = step((fast, ref), QUANTUM, hw)[0]
    assert kind[0] == RunKind.EXCEPTION
    same(fast, ref)


def test_register_changed_between_grants_is_honoured(guest) -> None:
    body = "main:\n1: movl %ebx, %eax\n cmpl $5, %eax\n jne 1b\n cli"
    fast, ref = pair(guest, body)
    hw = 0
    for _ in range(5):
        hw += step((fast, ref), QUANTUM, hw)[0][1]
    for cpu in (fast, ref):
        cpu.set_register("ebx", 5)
    kind = step((fast, ref), QUANTUM, hw)[0]
    assert kind[0] == RunKind.EXCEPTION
    same(fast, ref)


def test_reset_forgets_the_proof(guest) -> None:
    """After a reset the guest starts again from its entry; a kept proof does not survive it."""
    fast, ref = pair(guest, FLAG_LOOP)
    entry = fast.eip
    hw = 0
    for _ in range(5):
        hw += step((fast, ref), QUANTUM, hw)[0][1]
    assert fast._proof is not None
    for cpu in (fast, ref):
        cpu.reset(ResetMode.WARM, entry)
    assert fast._proof is None
    for _ in range(3):
        hw += step((fast, ref), QUANTUM, hw)[0][1]
        same(fast, ref)
    assert fast.spin_resumed >= 4
