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
