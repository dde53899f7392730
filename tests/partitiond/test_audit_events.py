"""Audit events of the vCPU (semantics.md §10.5): local hypercalls (HCALLS) and injected vectors (IRQ_EMUL).

The vCPU produces them only when the hypervisor trace selects their module, stamped with the HW
clock in µs; the partition process ships them to the supervisor (tests/prtosd/test_audit_vcpu.py).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from test_fast_hypercalls import DATA, drive
from vcpu_support import Console, assemble, make_system

from hm.audit import HCALL_BEGIN, HCALL_BEGIN2, HCALL_END, IRQ_EMUL, MOD_HCALLS, MOD_IRQS, unpack_events
from partitiond.image import load_image, read_image
from partitiond.memory import AddressSpace
from partitiond.vcpu import ResetMode, RunKind, VCpu
from prtosd.config.model import HypervisorTrace

# get_time, then a one-shot HW timer 500 µs ahead whose handler counts; get_vcpuid in a loop until it ran.
GUEST = f"""
main:
    SETUP
    SETGATE 0x90, h90
    movl $0, %ebx
    movl $1, %ecx
    HC 15
    HC 42
    movl $0, %ebx
    movl ${DATA}, %ecx
    HC 9
    movl $0, %ebx
    movl {DATA}, %ecx
    addl $500, %ecx
    movl $0, %edx
    movl $0, %esi
    movl $0, %edi
    HC 10
1:  HC 32
    cmpl $0, {DATA + 8}
    je 1b
    cli
h90: incl {DATA + 8}
    IRET_ENTRY
"""


def make_cpu(tmp_path: Path, name: str, bitmask: int, **kw: bool) -> VCpu:
    out = tmp_path / name
    out.mkdir()
    base = make_system(khz=1000)  # 1 cycle = 1 µs
    trace = HypervisorTrace("hyptr", bitmask) if bitmask else None
    system = dataclasses.replace(base, hypervisor=dataclasses.replace(base.hypervisor, trace=trace))
    image = read_image(assemble(out, GUEST, name))
    mem = AddressSpace(system, 0, out)
    load_image(image, mem)
    cpu = VCpu(system, 0, 0, mem, Console(), **kw)
    cpu.reset(ResetMode.COLD, image.entry, cr3=image.page_table)
    return cpu


def events(cpu: VCpu) -> list[tuple[int, int, int, tuple[int, int, int, int]]]:
    return unpack_events(cpu.take_audit())


def test_local_hypercalls_and_injections_are_recorded(tmp_path: Path) -> None:
    cpu = make_cpu(tmp_path, "all", 0b11)
    r = cpu.run(100_000, 1_000)  # the HW clock starts at 1000 µs
    assert r.kind == RunKind.EXCEPTION  # the cli after the handler ran
    log = events(cpu)
    now0 = int.from_bytes(cpu.read_guest(DATA, 8), "little")  # what get_time returned
    begins = [(t, p[0] >> 16) for t, m, e, p in log if (m, e) == (MOD_HCALLS, HCALL_BEGIN)]
    assert [nr for _, nr in begins[:5]] == [38, 15, 42, 9, 10]  # load_idtr, clear_irqmask, set_if, get_time, set_timer
    assert {nr for _, nr in begins[5:]} == {32}
    # get_time: stamped after its cost, so 100 µs after the value it returned
    t_get = next(t for t, nr in begins if nr == 9)
    assert t_get == now0 + 100
    # set_timer: five argument words, so BEGIN (nr, words, 3 words) and BEGIN2 (2 words), then END (0)
    i = next(i for i, (t, m, e, p) in enumerate(log) if (m, e) == (MOD_HCALLS, HCALL_BEGIN) and p[0] >> 16 == 10)
    assert log[i][3] == ((10 << 16) | 5, 0, now0 + 500, 0)
    assert log[i + 1][1:] == (MOD_HCALLS, HCALL_BEGIN2, (0, 0, 0, 0))
    assert log[i + 2][1:] == (MOD_HCALLS, HCALL_END, (0, 0, 0, 0))
    # set_if (42) is void: no END; get_vcpuid returns 0
    j = next(i for i, (t, m, e, p) in enumerate(log) if (m, e) == (MOD_HCALLS, HCALL_BEGIN) and p[0] >> 16 == 42)
    assert log[j + 1][1:3] == (MOD_HCALLS, HCALL_BEGIN)
    # the timer: vector 0x90 injected once, at the first injection point at or after now0 + 500 (the
    # loop's hypercalls cost 100 µs each, and one in progress when the timer expires is not cut short)
    irqs = [(t, p[0]) for t, m, e, p in log if (m, e) == (MOD_IRQS, IRQ_EMUL)]
    assert len(irqs) == 1 and irqs[0][1] == 0x90 and now0 + 500 <= irqs[0][0] < now0 + 500 + 105
    # in time order, and the IRET entry is not a hypercall
    assert [t for t, *_ in log] == sorted(t for t, *_ in log)


@pytest.mark.parametrize("kw", [{"fast_hypercalls": False}, {"block_counting": False}, {"native_hooks": False}])
def test_the_same_records_with_every_engine_path(tmp_path: Path, kw: dict[str, bool]) -> None:
    ref = make_cpu(tmp_path, "ref", 0b11)
    other = make_cpu(tmp_path, "other", 0b11, **kw)
    budgets = [7, 300, 1, 1000, 50_000]
    assert drive(ref, budgets) == drive(other, budgets)
    assert events(ref) == events(other) != []


@pytest.mark.parametrize(("bitmask", "modules"), [(0, set()), (0b1, {MOD_IRQS}), (0b10, {MOD_HCALLS}), (0b1100, set())])
def test_only_selected_modules_are_recorded(tmp_path: Path, bitmask: int, modules: set[int]) -> None:
    cpu = make_cpu(tmp_path, f"m{bitmask}", bitmask)
    cpu.run(100_000, 0)
    assert {m for _, m, _, _ in events(cpu)} == modules
    assert events(cpu) == []  # taken: the log starts again empty
