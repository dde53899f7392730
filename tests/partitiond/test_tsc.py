"""Host-dependent instructions are virtualised: rdtsc/rdtscp read the virtual clock, rdrand/rdseed do not exist.

docs/abi.md: the time-stamp counter is the HW clock in cycles of the configured frequency,
counting the ``rdtsc`` itself; ``rdtscp`` sets ECX to the vCPU id; the CPU model does not offer
RDRAND/RDSEED, so they raise #UD like on a CPU without them.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from vcpu_support import Console, assemble, make_system

from partitiond.image import load_image, read_image
from partitiond.memory import AddressSpace
from partitiond.vcpu import ResetMode, RunKind, VCpu

DATA = 0x10F000  # a free, zeroed page of P0's area
# Two rdtsc with three instructions between them, get_time of the HW clock, an rdtscp; results stored.
TSC = f"""
main:
    movl $0x11111111, %ecx
    rdtsc
    movl %eax, {DATA}
    movl %edx, {DATA + 4}
    rdtsc
    movl %eax, {DATA + 8}
    movl %edx, {DATA + 12}
    movl $0, %ebx
    movl ${DATA + 16}, %ecx
    HC 9
    rdtscp
    movl %eax, {DATA + 24}
    movl %edx, {DATA + 28}
    movl %ecx, {DATA + 32}
    cli
"""


def make_cpu(tmp_path: Path, body: str, name: str, *, khz: int = 1000, **kw: bool) -> VCpu:
    out = tmp_path / name
    out.mkdir()
    system = make_system(khz=khz)
    image = read_image(assemble(out, body, name))
    mem = AddressSpace(system, 0, out)
    load_image(image, mem)
    cpu = VCpu(system, 0, 0, mem, Console(), **kw)
    cpu.reset(ResetMode.COLD, image.entry, cr3=image.page_table)
    return cpu


def words(cpu: VCpu) -> tuple[int, int, int, int, int]:
    """First rdtsc, second rdtsc, get_time (µs), rdtscp, rdtscp's ECX."""
    raw = cpu.read_guest(DATA, 36)
    q = [int.from_bytes(raw[i : i + 8], "little") for i in (0, 8, 16, 24)]
    return q[0], q[1], q[2], q[3], int.from_bytes(raw[32:36], "little")


@pytest.mark.parametrize("kw", [{}, {"block_counting": False}, {"native_hooks": False}, {"fast_hypercalls": False}])
def test_rdtsc_reads_the_virtual_clock(tmp_path: Path, kw: dict[str, bool]) -> None:
    runs = []
    for i in range(2):
        cpu = make_cpu(tmp_path, TSC, f"tsc{i}", **kw)
        r = cpu.run(100_000, 5_000)  # HW clock at 5000 cycles
        assert r.kind == RunKind.EXCEPTION and r.trap is not None and r.trap.trap == 13  # the cli
        assert cpu.time_stamps == 3
        runs.append(words(cpu))
    assert runs[0] == runs[1]  # the same values in every run: nothing comes from the host
    first, second, now_us, tscp, aux = runs[0]
    assert first == 5_000 + 3  # jmp main, movl, rdtsc
    assert second == first + 3  # two stores and the rdtsc
    assert now_us == second + 6  # two stores, three movs and the int (1 cycle = 1 µs at 1 MHz)
    assert tscp == second + 6 + 100 + 1  # the hypercall's cost and the rdtscp
    assert aux == 0  # the vCPU id


def test_rdtsc_is_in_cycles_of_the_configured_frequency(tmp_path: Path) -> None:
    cpu = make_cpu(tmp_path, TSC, "ghz", khz=1_000_000)  # 1 GHz: 1000 cycles per µs
    cpu.run(100_000, 7_000_000)  # HW clock at 7 ms
    first, second, now_us, tscp, _ = words(cpu)
    assert (first, second) == (7_000_003, 7_000_006)
    assert now_us == (second + 6) // 1000 and tscp == second + 107


def test_rdtsc_monotonic_across_runs_and_resumes(tmp_path: Path) -> None:
    body = f"main:\n1: rdtsc\n movl %eax, {DATA}(,%ecx,4)\n incl %ecx\n cmpl $64, %ecx\n jl 1b\n cli"
    cpu = make_cpu(tmp_path, body, "mono")
    hw = 0
    for budget in (7, 1, 50, 3, 1000):
        hw += cpu.run(budget, hw).cycles
    raw = cpu.read_guest(DATA, 256)
    values = [int.from_bytes(raw[i : i + 4], "little") for i in range(0, 256, 4)]
    assert values == [2 + 5 * i for i in range(64)]  # jmp main, rdtsc; then 5 instructions per turn


@pytest.mark.parametrize("insn", ["rdrand %eax", "rdseed %eax", "rdrand %bx"])
def test_rdrand_and_rdseed_are_invalid_opcodes(tmp_path: Path, insn: str) -> None:
    cpu = make_cpu(tmp_path, f"main:\n nop\n {insn}\n nop", insn.split()[0] + insn[-2:])
    r = cpu.run(1000, 0)
    assert r.kind == RunKind.EXCEPTION and r.trap is not None and r.trap.trap == 6 and r.instructions == 2


def test_cpuid_offers_neither_rdrand_nor_rdseed(tmp_path: Path) -> None:
    body = f"""
main:
    movl $1, %eax
    cpuid
    movl %ecx, {DATA}
    movl $7, %eax
    xorl %ecx, %ecx
    cpuid
    movl %ebx, {DATA + 4}
    cli
"""
    cpu = make_cpu(tmp_path, body, "cpuid")
    cpu.run(1000, 0)
    raw = cpu.read_guest(DATA, 8)
    leaf1_ecx, leaf7_ebx = int.from_bytes(raw[:4], "little"), int.from_bytes(raw[4:], "little")
    assert not leaf1_ecx & (1 << 30) and not leaf7_ebx & (1 << 18)
