"""Fixtures of the vCPU engine tests (helpers live in vcpu_support, importable by test modules)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from vcpu_support import Console, assemble, make_system

from partitiond.image import load_image, read_image
from partitiond.memory import AddressSpace
from partitiond.vcpu import ResetMode, VCpu
from prtosd.config.model import System


@pytest.fixture
def system() -> System:
    return make_system()


@pytest.fixture
def guest(tmp_path: Path) -> Callable[..., VCpu]:
    """Build, load and reset a guest of partition 0; returns the ready VCpu."""
    created: list[AddressSpace] = []

    def factory(
        body: str,
        *,
        sys: System | None = None,
        pid: int = 0,
        header: str = "HDR",
        run_dir: Path | None = None,
        native_hooks: bool = True,
    ) -> VCpu:
        sys = sys or make_system()
        elf = assemble(tmp_path, body, header=header)
        if run_dir is None:  # a private run directory per vCPU unless sharing is wanted
            run_dir = tmp_path / f"run{len(created)}"
            run_dir.mkdir()
        mem = AddressSpace(sys, pid, run_dir)
        created.append(mem)
        image = read_image(elf)
        load_image(image, mem)
        cpu = VCpu(sys, pid, 0, mem, Console(), native_hooks=native_hooks)
        cpu.reset(ResetMode.COLD, image.entry, cr3=image.page_table)
        return cpu

    return factory
