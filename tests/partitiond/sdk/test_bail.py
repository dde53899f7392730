"""Tests of the BAIL runtime (partition-api.md §15): start-up, IDT/GDT, traps, console, halting.

Why: every reference scenario runs on BAIL, so its start-up sequence, its trap frame layout and
IRET path, and its console line buffering decide what the scenarios print. Each test builds a
small C program with the real build driver and runs it under the harness in ``guest.py``, which
plays the kernel side of the recommended ABI.
"""

from __future__ import annotations

import re
import struct
from pathlib import Path

import pytest
from guest import C_DIR, OFF_EXT_TO_VECTOR, Guest, shared_cache

from partitiond.build import build_partition

LOAD = 0x6000000


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return shared_cache(tmp_path_factory.getbasetemp())


@pytest.fixture(scope="module")
def run(cache: Path, tmp_path_factory: pytest.TempPathFactory):
    """Build ``c/<name>.c`` and run it to its halt; results are memoised per module."""
    out = tmp_path_factory.mktemp("bail")
    done: dict[tuple, Guest] = {}

    def runner(name: str, defines: tuple[str, ...] = (), **kw: object) -> Guest:
        key = (name, defines, tuple(sorted(kw.items())))
        if key not in done:
            elf = build_partition(
                [C_DIR / f"{name}.c"], out / f"{name}-{len(done)}.elf", LOAD, defines=defines, cache=cache
            )
            done[key] = Guest(elf, fill=0xAA, **kw).run()  # type: ignore[arg-type]
        return done[key]

    return runner


def lines(g: Guest) -> list[str]:
    return g.text.splitlines()


def test_startup_clears_bss_keeps_noinit_and_halts(run) -> None:
    g = run("bail_startup", partition_id=3)
    assert g.error is None
    out = lines(g)
    assert out[0] == "bss nonzero=0 common=0"
    # .bss.noinit is not cleared: the harness filled memory with 0xaa before start
    noinit = g.symbols["kept"]
    assert noinit < g.symbols["_sbss"]
    assert out[1] == "noinit=aaaaaaaa"
    assert out[2] == "order=1"
    assert out[3] == "stack=1"
    assert out[4:7] == ["sti=0", "sti=200", "sti=0"]
    assert out[7] == "install=-1 -1 0 0"
    # the implicit halt: prtos_halt_partition(PRTOS_PARTITION_SELF) after partition_main returns
    assert g.halted
    assert g.calls[-1] == (1, (3, *g.calls[-1][1][1:]))
    # the first call of all is the vCPU id, on the early stack
    assert g.calls[0][0] == 32


def test_start_is_the_entry_at_the_load_address(run) -> None:
    g = run("bail_startup", partition_id=3)
    assert g.entry == g.symbols["start"] == LOAD == g.symbols["_sguest"]


def test_idt_gdt_and_ext_routing(run) -> None:
    g = run("bail_startup", partition_id=3)
    limit, _ = g.idtr()
    assert limit == 288 * 8 - 1
    assert g.pct_u32(108) == 288  # max_idt_vec
    stubs = g.symbols["__bail_trap_stubs"]
    trap_gates = {0, *range(3, 13), *range(15, 32)}
    for v in range(288):
        handler, sel, access = g.gate(v)
        assert handler == stubs + 16 * v
        assert sel == 0x139
        assert access == (0xAF if v in trap_gates else 0xAE), v
    glimit, gbase = g.gdtr()
    assert glimit == 23
    null, code, data = struct.unpack("<3Q", g.read(gbase, 24))
    assert null == 0
    for desc, typ in ((code, 0xA), (data, 0x2)):
        low = desc >> 32
        assert low & 0x8000  # present
        assert (low >> 13) & 3 == 1  # DPL 1
        assert (low >> 8) & 0xF == typ
        limit_pages = (desc & 0xFFFF) | (low & 0xF0000)
        assert (low >> 23) & 1 and (limit_pages + 1) * 4096 <= 0xFC000000
    for n in range(32):
        assert g.pct_u16(OFF_EXT_TO_VECTOR + 2 * n) == 224 + n


def test_trap_round_trip_restores_the_frame(run) -> None:
    g = run("bail_traps")
    assert g.error is None, g.text
    out = lines(g)
    assert out[0] == "size=72"
    assert out[1] == "frame ebx=11111111 ecx=0 edx=33333333 esi=44444444 edi=55555555 ebp=66666666 eax=77777777"
    assert out[2] == "frame vector=0 err=0 ip_ok=1 cs=139 if=200"
    # eax and esi were changed by the handler, ip moved past the div, IF cleared through flags
    assert out[3] == "after ebx=11111111 ecx=0 edx=33333333 esi=44444445 edi=55555555 ebp=66666666 eax=1234"
    assert out[4] == "after if=0"
    assert g.delivered[0] == 0
    assert g.hypercall_numbers().count(0x83) == 0  # IRET is its own vector, not a hypercall


def test_ext_interrupt_through_an_interrupt_gate(run) -> None:
    g = run("bail_traps")
    out = lines(g)
    assert out[5] == "irq vector=224 err=0"
    # IF is off inside the handler (interrupt gate) and back on after the virtual IRET
    assert out[6] == "handler if=0 after if=200"
    assert 224 in g.delivered


def test_trap_with_error_code(run) -> None:
    g = run("bail_traps")
    # vector 13 carries the CPU's error code; the frame is the same shape as for other vectors
    assert lines(g)[7] == "gp vector=13 err=202 ebx=5a5a after=b0b if=200"
    assert 13 in g.delivered


def test_unexpected_trap_report(run) -> None:
    g = run("bail_traps")
    out = lines(g)
    m = re.fullmatch(r"\[P0:0\] Unexpected trap 0xe1 \(ip: 0x([0-9a-f]+)\)", out[8])
    assert m, out[8]
    ip = int(m.group(1), 16)
    start = g.symbols["prtos_set_irqpend"]
    assert start < ip < start + 0x40  # resumes right after the hypercall
    assert out[9] == "done"
    assert g.halted


def test_console_one_write_per_line(run) -> None:
    g = run("bail_console")
    assert g.error is None
    assert g.writes[0] == b"[0] first line\n"
    long_line = "".join(chr(ord("a") + i % 26) for i in range(10000)).encode() + b"\n"
    assert [len(w) for w in g.writes[1:4]] == [4096, 4096, 1809]
    assert b"".join(g.writes[1:4]) == long_line
    # NUL is dropped, '\r' ends a line as well
    assert g.writes[4] == b"xy=121\r"
    # output without a line end stays in the buffer
    assert len(g.writes) == 5
    assert all(len(w) <= 4096 for w in g.writes)


def test_bail_halt_completes_the_line(run) -> None:
    g = run("bail_halt")
    assert g.writes == [b"before\n", b"stopping 7\n"]
    assert g.halted


def test_exit_halts(run) -> None:
    g = run("bail_exit")
    assert g.text == "exiting\n"
    assert g.halted


def test_assert_with_debug(run) -> None:
    g = run("bail_assert", defines=("_DEBUG_",))
    out = lines(g)
    assert out[0] == "passed"
    assert re.fullmatch(r".*bail_assert\.c:14: failed assertion 'two == 3'", out[1]), out[1]
    assert len(out) == 2
    assert g.halted


def test_assert_without_debug(run) -> None:
    g = run("bail_assert")
    assert lines(g) == ["passed", "not debug"]


def test_setup_vcpus_starts_the_secondary_vcpus(run) -> None:
    g = run("bail_vcpus", vcpus=3)
    assert g.text == "vcpu=0 self=0/3 stack=0 bss=0\n"
    resets = [args[:4] for nr, args in g.calls if nr == 28]
    page_table = struct.unpack("<I", g.read_symbol("prtos_image_hdr", 16)[12:16])[0]
    assert resets == [(v, page_table, g.symbols["start"], 0) for v in (1, 2)]


def test_secondary_vcpu_startup(run) -> None:
    """vCPU 2 entering at start after vCPU 0 ran: own stack and PCT, .bss left alone, no resets."""
    first = run("bail_vcpus", vcpus=3)
    g = Guest(first.image, vcpus=3, vcpu=2)
    g.uc.mem_write(LOAD, first.read(LOAD, g.area_size))  # the memory vCPU 0 left behind
    g.uc.mem_write(g.symbols["bss_marker"], struct.pack("<I", 0x12345678))
    g.run()
    assert g.error is None
    assert g.text == "vcpu=2 self=2/3 stack=2 bss=12345678\n"
    assert 28 not in g.hypercall_numbers()
    assert g.halted
