"""The vCPU engine: exceptions as HM events, local hypercalls, injection, IRET, timers, determinism."""

from __future__ import annotations

import struct

import pytest
from vcpu_support import P0_BASE, P0_RO, P1_BASE, make_system

from partitiond.pct import PCT_ADDR
from partitiond.vcpu import HYPERCALL_COST_CYCLES, ResetMode, RunKind


def sym(cpu, name: str) -> int:
    """Address of a guest label recorded in the ``syms`` table the test guests define."""
    return cpu._test_syms[name]


def u32(cpu, addr: int) -> int:
    return struct.unpack("<I", cpu.read_guest(addr, 4))[0]


# -- exceptions ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "event", "trap"),
    [
        ("xorl %ecx, %ecx\n divl %ecx", 6, 0),
        ("ud2", 12, 6),
        ("cli", 19, 13),
        ("sti", 19, 13),
        ("hlt", 19, 13),
        ("inb $0x60, %al", 19, 13),
        ("movl %cr0, %eax", 19, 13),
        ("lidt idtr", 19, 13),
        ("fld1", 13, 7),  # x87 without the fp flag
    ],
)
def test_cpu_exceptions(guest, code: str, event: int, trap: int) -> None:
    cpu = guest(f"main:\n nop\nfault:\n {code}\n jmp main")
    r = cpu.run(1000, 0)
    assert r.kind == RunKind.EXCEPTION and r.trap.event == event and r.trap.trap == trap
    again = cpu.run(1000, 0)  # IGNORE: the faulting instruction runs again
    assert again.kind == RunKind.EXCEPTION and again.trap.pc == r.trap.pc


def test_int3_reports_next_instruction(guest) -> None:
    cpu = guest("main:\n int3\n nop\n cli")
    r = cpu.run(100, 0)
    assert r.trap.event == 9 and r.trap.pc == P0_BASE + 2 + 1  # jmp main (2 bytes), int3 (1)
    r = cpu.run(100, 0)
    assert r.trap.event == 19 and r.trap.pc == P0_BASE + 4


def test_int_without_gate_is_gp(guest) -> None:
    cpu = guest("main:\n int $0x40")
    r = cpu.run(100, 0)
    assert (r.trap.event, r.trap.error_code, r.trap.pc) == (19, (0x40 << 3) | 2, P0_BASE + 2)


def test_granted_io_port_is_emulated(guest) -> None:
    cpu = guest("main:\n xorl %eax, %eax\n movw $0x3F9, %dx\n inb %dx, %al\n outb %al, %dx\n cli")
    r = cpu.run(100, 0)
    assert r.trap.event == 19 and cpu.registers()["eax"] == 0xFF
    assert r.instructions == 5  # jmp, xor, mov, in, out


@pytest.mark.parametrize("native_hooks", [True, False])
def test_ungranted_port_in_mid_block_faults_at_the_in(guest, native_hooks: bool) -> None:
    """The #GP names the in itself, which did not complete; nothing after it ran."""
    cpu = guest("main:\n movl $5, %ebx\n incl %ebx\n inb $0x60, %al\n incl %ebx\n jmp main", native_hooks=native_hooks)
    r = cpu.run(100, 0)
    assert (r.trap.event, r.trap.pc, r.instructions) == (19, P0_BASE + 2 + 5 + 1, 3)  # jmp, movl, incl
    assert cpu.registers()["ebx"] == 6 and cpu.eip == r.trap.pc


@pytest.mark.parametrize(
    ("code", "event", "addr", "err"),
    [
        ("movl 0x300000, %eax", 20, 0x300000, 0x4),  # unmapped read
        (f"movl %eax, {P1_BASE:#x}", 20, P1_BASE, 0x6),  # neighbour's area, write
        (f"movl %eax, {P0_RO:#x}", 20, P0_RO, 0x7),  # read-only area
        (f"movl %eax, {PCT_ADDR:#x}", 20, PCT_ADDR, 0x7),  # the PCT
        ("movl 0xB00000, %eax", 20, 0xB00000, 0x4),  # area flagged unmapped
        ("movl 0xFC000000, %eax", 4, 0xFC000000, 0x4),
        ("movl %eax, 0xFFFFF000", 4, 0xFFFFF000, 0x6),
    ],
)
def test_memory_isolation(guest, code: str, event: int, addr: int, err: int) -> None:
    cpu = guest(f"main:\n {code}\n jmp main")
    r = cpu.run(1000, 0)
    assert r.kind == RunKind.EXCEPTION
    assert (r.trap.event, r.trap.trap, r.trap.cr2, r.trap.error_code) == (event, 14, addr, err)
    assert r.trap.pc == P0_BASE + 2 and cpu.pct.arch.cr2 == addr
    assert r.instructions == 1  # only the jmp completed
    assert cpu.skip_instruction()
    r = cpu.run(1000, 0)  # skipped: jmp main, then the same fault again
    assert r.trap.event == event and r.instructions == 1


def test_fetch_from_unmapped(guest) -> None:
    cpu = guest("main:\n movl $0x300000, %eax\n jmp *%eax")
    r = cpu.run(100, 0)
    assert (r.trap.event, r.trap.pc, r.trap.cr2) == (20, 0x300000, 0x300000)
    cpu = guest("main:\n movl $0xFC001000, %eax\n jmp *%eax")
    assert cpu.run(100, 0).trap.event == 4


def test_many_exceptions_do_not_degrade(guest) -> None:
    """10 000 handled exceptions in a row leave the CPU exactly as healthy as after the first.

    Speed is measured by bench/, not asserted here; what must not degrade is the behaviour:
    every fault reports the same event at the same pc after the same number of instructions.
    """
    cpu = guest("main:\n xorl %ecx, %ecx\n1: divl %ecx\n incl %ebx\n jmp 1b")
    first = cpu.run(100, 0)
    assert first.trap.event == 6 and cpu.skip_instruction()
    for _ in range(9999):
        r = cpu.run(100, 0)
        assert (r.trap.event, r.trap.pc, r.instructions) == (6, first.trap.pc, 2)
        assert cpu.skip_instruction()
    assert cpu.registers()["ebx"] == PCT_ADDR + 9999  # every skip resumed correctly


# -- budget and determinism ----------------------------------------------------------------------------

LOOP = """
main:
    movl $stack_top, %esp
1:  incl %ecx
    pushl %ecx
    popl %edx
    imull %ecx, %edx
    jmp 1b
"""


def test_chunked_runs_equal_one_run(guest) -> None:
    a, b = guest(LOOP), guest(LOOP)
    a.run(100_000, 0)
    for chunk in (1, 999, 33_333, 65_667):
        b.run(chunk, 0)
    assert a.registers() == b.registers() and a.instructions == b.instructions == 100_000


# -- local hypercalls ----------------------------------------------------------------------------------


def test_get_time_and_costs(guest) -> None:
    cpu = guest(
        """
main:
    movl $0, %ebx
    movl $buf, %ecx
    HC 9
    movl %eax, res
    movl $1, %ebx
    movl $buf+8, %ecx
    HC 9
    movl $0, %ebx
    movl $0, %ecx
    HC 9
    movl %eax, res+4
    movl $7, %ebx
    movl $buf, %ecx
    HC 9
    movl %eax, res+8
    movl $0, %ebx
    movl $0x200000, %ecx
    HC 9
    movl %eax, res+12
    cli
    .data
buf: .quad 0, 0
res: .long 9, 9, 9, 9
""",
        sys=make_system(khz=1000),
    )  # 1 MHz: 1 µs per cycle
    r = cpu.run(10_000, hw_cycles=5000)
    assert r.trap.event == 19
    data = cpu.memory.read(P0_BASE + 0x1000, 0)  # noqa: F841 - keep read path exercised
    buf = _find_data(cpu)
    hw, ex = struct.unpack("<qq", cpu.read_guest(buf, 16))
    assert hw == 5000 + 5  # jmp, 3 movs, int: the time is read at the call
    assert ex == 5 + HYPERCALL_COST_CYCLES + 5  # EXEC clock of this vCPU
    res = struct.unpack("<4i", cpu.read_guest(buf + 16, 16))
    assert res == (0, -3, -3, -3)
    assert r.cycles == r.instructions + 5 * HYPERCALL_COST_CYCLES


def _find_data(cpu) -> int:
    """Address of ``buf`` (first bytes of .data) found from the image: .data follows .rodata."""
    blob = cpu.memory.read(P0_BASE, 0x4000)
    return P0_BASE + blob.index(struct.pack("<4i", 0, -3, -3, -3)) - 16


def test_unknown_hypercall_and_vcpuid(guest) -> None:
    cpu = guest(
        "main:\n HC 44\n movl %eax, %esi\n HC 32\n movl %eax, %edi\n HC 25\n movl %eax, %ebp\n"
        " HC 20\n movl %eax, %ecx\n movl $0x12345678, %eax\n HC 42\n HC 43\n cli"
    )
    r = cpu.run(1000, 0)
    regs = cpu.registers()
    assert r.trap.event == 19
    assert (regs["esi"], regs["edi"], regs["ebp"]) == (0xFFFFFFFE, 0, 0)
    assert regs["ecx"] == 0xFFFFFFF9  # update_page32 → -7
    assert regs["eax"] == 43  # 42/43 keep EAX (the number the macro loaded)
    assert cpu.console.text == "Hypercall (44) unknown\n"


def test_idle_and_forwarded_hypercall(guest) -> None:
    cpu = guest("main:\n HC 8\n movl %eax, %esi\n movl $3, %ebx\n movl $4, %ecx\n HC 4\n movl %eax, %edi\n cli")
    r = cpu.run(1000, 0)
    assert r.kind == RunKind.IDLE and r.instructions == 3 and r.cycles == 3 + HYPERCALL_COST_CYCLES
    r = cpu.run(1000, 0)
    assert r.kind == RunKind.HYPERCALL and r.hypercall.nr == 4 and r.hypercall.name == "reset_partition"
    assert r.hypercall.args[:2] == (3, 4)
    cpu.complete_hypercall(-5)
    r = cpu.run(1000, 0)
    assert r.trap.event == 19 and cpu.registers()["edi"] == 0xFFFFFFFB and cpu.registers()["esi"] == 0


def test_bad_pointers_and_x86_calls(guest) -> None:
    cpu = guest("""
main:
    movl $0xFBFFFFFC, %ebx
    HC 38
    movl %eax, %esi
    movl $desc, %ebx
    HC 38
    movl %eax, %edi
    movl $0x80000001, %ebx
    HC 33
    movl %eax, %ebp
    movl $1, %ebx
    HC 33
    movl %eax, %ecx
    movl $0x20, %ebx
    HC 35
    movl %eax, %edx
    cli
    .data
desc: .word 0x7FF
    .long 0x104000
""")
    r = cpu.run(1000, 0)
    regs = cpu.registers()
    assert r.trap.event == 19
    assert regs["esi"] == 0xFFFFFFFD and regs["edi"] == 0
    assert cpu.pct.arch.idtr.linear_base == 0x104000 and cpu.pct.arch.max_idt_vec == 256
    assert regs["ebp"] == 0 and cpu.pct.arch.cr0 == 0x80000001 | 0x10 | 0x4
    assert regs["ecx"] == 0xFFFFFFF9 and regs["edx"] == 0xFFFFFFF9


def test_route_and_masks(guest) -> None:
    cpu = guest("""
main:
    movl $2, %ebx
    movl $5, %ecx
    movl $0x1E5, %edx
    HC 19
    movl $3, %ebx
    HC 19
    movl %eax, %esi
    movl $0x3, %ebx
    movl $0x30, %ecx
    HC 15
    movl $0x1, %ebx
    movl $0x10, %ecx
    HC 17
    cli
""")
    cpu.run(1000, 0)
    t = cpu.pct
    assert t.ext_irq_to_vector[5] == 0x1E5 and cpu.registers()["esi"] == 0xFFFFFFFD
    assert t.hw_irqs_mask == 0xFFFFFFFC and t.ext_irqs_to_mask == 0xFFFFFFCF
    assert (t.hw_irqs_pend, t.ext_irqs_pend) == (1, 0x10)


# -- virtual interrupts --------------------------------------------------------------------------------

IRQ_GUEST = """
main:
    SETUP
    SETGATE 0x21, h21
    SETGATE 0x23, h23
    SETGATE 0x95, h95
    SETGATE 0x90, h90
    movl $0xFFFFFFFF, %ebx
    movl $0xFFFFFFFF, %ecx
    HC 15
    movl $0xA, %ebx
    movl $0x20, %ecx
    HC 17
    HC 42
after_sti:
    cli
h21: movl $0x21, %edx
    jmp common
h23: movl $0x23, %edx
    jmp common
h95: movl $0x95, %edx
    jmp common
h90: movl $0x90, %edx
    incl ticks
    jmp common
common:
    movl logn, %ecx
    movl %edx, log(,%ecx,4)
    movl (%esp), %edx
    movl %edx, frame(,%ecx,8)
    movl 8(%esp), %edx
    movl %edx, frame+4(,%ecx,8)
    incl logn
    IRET_ENTRY
    .data
logn: .long 0
ticks: .long 0
log: .space 64
frame: .space 128
"""


def guest_data(cpu, name: str, body: str) -> int:
    """Address of a label in .data (the guest's own symbol table is not kept; search the ELF)."""
    from elftools.elf.elffile import ELFFile

    with open(cpu._elf, "rb") as fh:
        return ELFFile(fh).get_section_by_name(".symtab").get_symbol_by_name(name)[0]["st_value"]


def test_irq_priority_order_and_frames(guest, tmp_path) -> None:
    cpu = guest(IRQ_GUEST)
    cpu._elf = next(tmp_path.glob("*.elf"))
    r = cpu.run(10_000, 0)
    assert r.trap.event == 19
    n = u32(cpu, guest_data(cpu, "logn", ""))
    log = struct.unpack("<3I", cpu.read_guest(guest_data(cpu, "log", ""), 12))
    assert n == 3 and log == (0x21, 0x23, 0x95)  # hw before ext, lowest bit first
    frames = struct.unpack("<6I", cpu.read_guest(guest_data(cpu, "frame", ""), 24))
    after = guest_data(cpu, "after_sti", "")
    assert frames[0] == after and frames[1] & 0x200  # EIP after the hypercall, virtual IF was on
    assert frames[2] == after and frames[3] & 0x200  # each IRET re-enables and re-injects
    assert cpu.pct.hw_irqs_pend == 0 and cpu.pct.ext_irqs_pend == 0
    assert cpu.pct.iflags & 0x200


def test_masked_or_if_off_not_injected(guest, tmp_path) -> None:
    cpu = guest(IRQ_GUEST.replace("HC 42", "nop"))
    cpu._elf = next(tmp_path.glob("*.elf"))
    cpu.run(10_000, 0)
    assert u32(cpu, guest_data(cpu, "logn", "")) == 0
    assert (cpu.pct.hw_irqs_pend, cpu.pct.ext_irqs_pend) == (0xA, 0x20)


def test_exception_propagate_handler_iret(guest, tmp_path) -> None:
    cpu = guest("""
main:
    SETUP
    SETGATE 13, h13
    SETGATE 6, h6
fault:
    ud2
    movl $0x55, %esi
    cli
    movl $0x66, %esi
    hlt
h6: addl $2, (%esp)
    IRET_ENTRY
h13: movl (%esp), %edi
    movl 4(%esp), %ebp
    addl $4, %esp
    addl $1, (%esp)
    IRET_ENTRY
""")
    r = cpu.run(10_000, 0)
    assert r.trap.event == 12
    cpu.propagate_trap(6)
    r = cpu.run(10_000, 0)  # handler skips ud2; then cli → GP
    assert r.trap.event == 19 and cpu.registers()["esi"] == 0x55
    cli_pc = r.trap.pc
    cpu.propagate_trap(13, 0x1234)  # error code pushed for trap 13
    r = cpu.run(10_000, 0)  # handler: error code, frame EIP = the cli; resumes after it, then hlt → GP
    regs = cpu.registers()
    assert (regs["edi"], regs["ebp"], regs["esi"]) == (0x1234, cli_pc, 0x66)
    assert r.trap.event == 19 and r.trap.pc == cli_pc + 1 + 5


def test_failed_injection_is_fatal(guest) -> None:
    cpu = guest("main:\n movl $1, %ebx\n HC 15\n HC 17\n HC 42\n jmp main")  # no IDT loaded
    r = cpu.run(1000, 0)
    assert r.kind == RunKind.EXCEPTION and r.trap.event == 0 and r.trap.trap is None
    assert cpu.run(1000, 0).kind == RunKind.HALTED
    cpu.reset(ResetMode.WARM, P0_BASE)
    assert cpu.pct.reset_counter == 1 and cpu.run(10, 0).kind == RunKind.BUDGET


# -- timers --------------------------------------------------------------------------------------------

TIMER_GUEST = """
main:
    SETUP
    SETGATE 0x90, h90
    SETGATE 0x91, h90
    movl $0, %ebx
    movl $3, %ecx
    HC 15
    movl $CLOCK, %ebx
    movl $ABS, %ecx
    movl $0, %edx
    movl $IVL, %esi
    movl $0, %edi
    HC 10
    HC 42
1:  incl %ebx
    jmp 1b
h90: incl ticks
    IRET_ENTRY
    .data
ticks: .long 0
"""


def timer_guest(guest, tmp_path, clock: int, abs_us: int, interval: int):
    body = TIMER_GUEST.replace("CLOCK", str(clock)).replace("ABS", str(abs_us)).replace("IVL", str(interval))
    cpu = guest(body, sys=make_system(khz=1000))  # 1 cycle = 1 µs
    cpu._elf = next(tmp_path.glob("*.elf"))
    return cpu, guest_data(cpu, "ticks", "")


def test_periodic_hw_timer(guest, tmp_path) -> None:
    cpu, ticks = timer_guest(guest, tmp_path, 0, 1000, 500)
    cpu.run(2999, 0)  # expiries at 1000, 1500, 2000, 2500
    assert u32(cpu, ticks) == 4
    cpu.run(50, 2999)  # 3000
    assert u32(cpu, ticks) == 5


def test_one_shot_and_collapse(guest, tmp_path) -> None:
    cpu, ticks = timer_guest(guest, tmp_path, 0, 200, 0)
    cpu.run(5000, 0)
    assert u32(cpu, ticks) == 1 and cpu.timers[0] is None
    cpu, ticks = timer_guest(guest, tmp_path, 0, 1000, 10)
    cpu.run(1005, 0)
    assert u32(cpu, ticks) == 1
    cpu.run(5, 1_000_000)  # not dispatched for a long time: missed periods collapse into one
    assert u32(cpu, ticks) == 2 and cpu.timers[0].value == 1_000_010


def test_exec_timer_and_disarm(guest, tmp_path) -> None:
    cpu, ticks = timer_guest(guest, tmp_path, 1, 600, 100)
    cpu.run(650, 0)
    cpu.run(40, 1_000_000)  # HW time jumps, EXEC time does not
    assert u32(cpu, ticks) == 1 and cpu.exec_time_us == 690
    cpu.timers[1] = None  # as set_timer(EXEC, 0, 0) does (D-17)
    cpu.run(1000, 2_000_000)
    assert u32(cpu, ticks) == 1
