"""The guest C toolchain: the Zig compiler shipped by the ``ziglang`` wheel.

Why Zig: it installs from PyPI (no apt, no root), cross-compiles to bare-metal i386 out of the
box and brings compiler-rt, so 64-bit division and friends link without a libgcc.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from functools import cache
from pathlib import Path

#: Flags every guest translation unit is compiled with: 32-bit x86, no host libc, no builtins
#: (BAIL's libc is the only libc), gnu89-friendly.
GUEST_TARGET = ("-target", "x86-freestanding-none", "-mcpu=i686")

#: The SDK directory shipped as package data.
SDK_DIR = Path(__file__).resolve().parent / "sdk"


class ToolchainError(Exception):
    """The compiler is missing or failed; the message is meant for the user."""


@cache
def zig_executable() -> Path:
    """Path of the ``zig`` binary inside the installed ``ziglang`` wheel."""
    try:
        import ziglang
    except ImportError as exc:  # pragma: no cover - ziglang is a hard dependency
        raise ToolchainError("the ziglang package is not installed (pip install ziglang)") from exc
    exe = Path(ziglang.__file__).resolve().parent / "zig"
    if not exe.exists():  # pragma: no cover - broken wheel
        raise ToolchainError(f"zig binary not found at {exe}")
    return exe


def run_zig(args: list[str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``zig <args>`` and return the completed process (never raises on a compiler error)."""
    env = None
    if "HOME" not in os.environ and "ZIG_GLOBAL_CACHE_DIR" not in os.environ:
        # zig keeps its global cache under $HOME; without one (some CI runners) give it a place.
        env = {**os.environ, "ZIG_GLOBAL_CACHE_DIR": str(Path(tempfile.gettempdir()) / f"prtosd-zig-{os.getuid()}")}
    return subprocess.run([str(zig_executable()), *args], cwd=cwd, capture_output=True, text=True, check=False, env=env)
