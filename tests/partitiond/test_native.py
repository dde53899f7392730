"""The native hook library: build, cache, exact counting; the Python fallback counts the same."""

from __future__ import annotations

from pathlib import Path

import pytest

from partitiond import native


def test_build_is_cached_by_source_hash(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRTOSD_CACHE_DIR", str(tmp_path / "cache"))
    lib = native.build()
    assert lib.parent == tmp_path / "cache" and lib.exists()
    assert lib.name.startswith("libpdhooks-")
    mtime = lib.stat().st_mtime_ns
    assert native.build() == lib and lib.stat().st_mtime_ns == mtime


LOOP = """
main:
    xorl %ecx, %ecx
1:  incl %ecx
    addl %ecx, %edx
    jmp 1b
"""


@pytest.mark.parametrize("budget", [1, 2, 7, 1000, 12345])
def test_exact_budget(guest, budget: int) -> None:
    cpu = guest(LOOP)
    r = cpu.run(budget, 0)
    assert r.kind == "budget" and r.instructions == budget and r.cycles == budget
    assert cpu.instructions == budget


def test_python_fallback_counts_identically(guest) -> None:
    fast = guest(LOOP)
    slow = guest(LOOP, native_hooks=False)
    assert not slow.hooks.native and fast.hooks.native
    for cpu in (fast, slow):
        cpu.run(5001, 0)
    assert fast.registers() == slow.registers()


@pytest.mark.parametrize("native_hooks", [True, False])
def test_write_recorder_sees_stores_in_translated_code(guest, native_hooks: bool) -> None:
    """The spin probe's soundness rests on this: a recorder added after translation still sees stores."""
    cpu = guest("main:\n movl $stack_top, %esp\n1: movl %ecx, (%esp)\n jmp 1b", native_hooks=native_hooks)
    cpu.spin_fast_forward = False
    cpu.run(10_000, 0)  # the loop is translated and its TLB entries are warm
    handle = cpu.hooks.watch_writes()
    try:
        cpu.run(2, 0)
        assert cpu.hooks.state.wrote == 1
    finally:
        cpu.hooks.unwatch(handle)
    cpu.hooks.state.wrote = 0
    cpu.run(1000, 0)
    assert cpu.hooks.state.wrote == 0  # removed: stores go unrecorded again
