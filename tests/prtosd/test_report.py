"""``prtosd report --gantt``: the executed schedule as a PNG."""

from __future__ import annotations

import struct
import subprocess
import sys
from pathlib import Path

from systems import system_xml

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_gantt_of_a_run_with_hm_events_and_a_reset(start_system, tmp_path: Path) -> None:
    hm = '<HealthMonitor><Event name="PRTOS_HM_EV_X86_DIVIDE_ERROR" action="PRTOS_HM_AC_PARTITION_WARM_RESET" log="yes"/></HealthMonitor>'
    xml = system_xml(
        [{"name": "Div", "source": "divzero.c", "hm": hm}, {"name": "T", "source": "ticker.c"}],
        [(0, 2, 0), (2, 2, 1)],
        4,
    )
    run = start_system(xml, "--until", "20ms")
    assert run.returncode == 0, run.stderr
    out = tmp_path / "gantt.png"
    proc = subprocess.run(
        [sys.executable, "-m", "prtosd", "report", "--gantt", str(out), "--run-dir", str(run.run_dir)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    width, height = _png_size(out)
    assert 600 <= width <= 3000 and 100 <= height <= 1500
    assert 10_000 < out.stat().st_size < 2_000_000
    assert "hm" in proc.stderr and " 0 hm" not in proc.stderr  # HM events were marked
    assert " 0 resets" not in proc.stderr


def test_report_without_a_timeline_is_an_error(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "prtosd", "report", "--gantt", str(tmp_path / "g.png"), "--run-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "no timeline" in proc.stderr
    assert not (tmp_path / "g.png").exists()
