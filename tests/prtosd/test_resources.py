"""Host resources of partition processes: CPU pinning, RSS in the status, the RSS log line."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from systems import system_xml

from prtosd.ctl import render_status
from prtosd.pytest_plugin import system_factory
from prtosd.resources import ProcessResources, host_cpus, rss_log_mib

TWO = system_xml(
    [{"name": "Boss", "source": "ticker.c", "flags": "system"}, {"name": "Worker", "source": "counter.c"}],
    [(0, 2, 0), (2, 2, 1)],
    4,
    name="res",
)


@pytest.fixture
def prtosd_system(tmp_path: Path):
    with system_factory(tmp_path) as start:
        yield start


def _processes(status: dict) -> list[tuple[int, int, dict]]:
    return [(p["id"], v["cpu"], v["process"]) for p in status["partitions"] for v in p["vcpus"]]


def test_host_cpu_of_a_system_cpu_wraps_around_the_available_cpus(tmp_path: Path) -> None:
    res = ProcessResources(tmp_path)
    cpus = host_cpus()
    assert cpus == sorted(psutil.Process().cpu_affinity())
    assert [res.host_cpu(c) for c in range(2 * len(cpus) + 1)] == [*cpus, *cpus, cpus[0]]


def test_status_shows_pid_host_cpu_and_rss_of_each_pinned_process(prtosd_system) -> None:
    system = prtosd_system(TWO)
    st = system.run_until("5ms")
    procs = _processes(st)
    assert len(procs) == 2
    for pid, cpu, pr in procs:
        proc = psutil.Process(pr["pid"])
        assert proc.pid != system.proc.pid and system.proc.pid in [p.pid for p in proc.parents()]
        assert any(f.fd == 1 and f.path.endswith(f"partitiond-{pid}-0.log") for f in proc.open_files())
        assert pr["host_cpu"] == host_cpus()[cpu % len(host_cpus())]
        assert proc.cpu_affinity() == [pr["host_cpu"]]
        assert 1 << 20 < pr["rss_bytes"] < 1 << 30
    text = render_status(st)
    assert "HOSTCPU" in text
    for pid, _, pr in procs:
        assert f"P{pid}.0" in text and str(pr["pid"]) in text


def test_no_affinity_leaves_placement_to_the_host(prtosd_system) -> None:
    system = prtosd_system(TWO, "--no-affinity")
    for _, _, pr in _processes(system.status()):
        assert pr["host_cpu"] is None
        assert psutil.Process(pr["pid"]).cpu_affinity() == psutil.Process(system.proc.pid).cpu_affinity()


def test_rss_past_the_threshold_is_logged_once_per_process(prtosd_system, monkeypatch) -> None:
    monkeypatch.setenv("PRTOSD_RSS_LOG_MIB", "1")
    system = prtosd_system(TWO)
    log = system.run_dir / "resources.log"
    deadline = time.monotonic() + 60
    while len(log.read_text().splitlines() if log.exists() else []) < 2:
        assert time.monotonic() < deadline, "no RSS line in resources.log"
        time.sleep(0.05)  # polling for the sampler's file, not synchronisation
    system.run_until("20ms")
    lines = log.read_text().splitlines()
    assert len(lines) == 2, lines  # still above: not logged again
    for pid, _, pr in _processes(system.status()):
        line = next(ln for ln in lines if f"partition {pid} vcpu 0 pid {pr['pid']}: RSS " in ln)
        assert line.endswith("exceeds 1 MiB")


@pytest.mark.parametrize("value", ["lots", "0", "-3", "nan"])
def test_a_bad_rss_threshold_is_refused(monkeypatch, value: str) -> None:
    monkeypatch.setenv("PRTOSD_RSS_LOG_MIB", value)
    with pytest.raises(ValueError, match=f'PRTOSD_RSS_LOG_MIB must be a positive number of MiB, not "{value}"'):
        rss_log_mib()
    monkeypatch.setenv("PRTOSD_RSS_LOG_MIB", "2.5")
    assert rss_log_mib() == 2.5


def test_prtosd_names_a_bad_rss_threshold(tmp_path: Path, monkeypatch) -> None:
    value = "lots"
    monkeypatch.setenv("PRTOSD_RSS_LOG_MIB", value)
    config = tmp_path / "system.xml"
    config.write_text(TWO)
    proc = subprocess.run(
        [sys.executable, "-m", "prtosd", "start", str(config), "--until", "1ms", "--run-dir", str(tmp_path / "r")],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert proc.returncode != 0
    assert f'PRTOSD_RSS_LOG_MIB must be a positive number of MiB, not "{value}"' in proc.stderr
    assert "Traceback" not in proc.stderr
