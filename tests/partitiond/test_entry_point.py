"""The ``partitiond`` command a remote host runs (docs/distributed.md) is installed with the package."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def test_partitiond_command_is_installed_and_checks_its_arguments() -> None:
    exe = Path(sys.executable).parent / "partitiond"
    assert exe.exists(), "pip install -e . installs the partitiond command"
    proc = subprocess.run(
        [str(exe), "--connect", "tcp://127.0.0.1:1", "--partition", "0"], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 2
    assert "required: --key, --server-key" in proc.stderr
    assert "Traceback" not in proc.stderr
