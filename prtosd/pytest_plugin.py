"""pytest plugin: start a prtosd system in a temporary run directory and drive it from a test.

Enabled by the ``pytest11`` entry point ``prtosd`` (or ``pytest_plugins = ["prtosd.pytest_plugin"]``
in a root conftest). The ``prtosd_system`` fixture is a factory::

    def test_worker_counts(prtosd_system):
        sys = prtosd_system("system.xml")            # a path, or the XML text itself
        sys.run_until("10ms")                         # virtual time; returns the status there
        sys.client.partition_suspend("Worker")
        sys.wait_for_console("slot 3", partition="Worker", within="100ms")
        assert sys.status()["partitions"][1]["state"] == "ready"

Design: the system runs as ``prtosd start --serve --until 0s`` — booted and standing still at
virtual time 0 — and advances only through ``run_until`` pause points. Every command of the
test therefore lands at a virtual time the test chose, so a test is as deterministic as a
plain run. Waiting for a console line advances in fixed virtual steps and reads the console
files, so the pause point where a line is first seen is the same on every run. Teardown stops
prtosd with SIGTERM (then SIGKILL) and kills any partition process it left behind, by pid.
"""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

from prtosd.client import Client, read_info
from prtosd.config.units import to_time

#: Wall-clock limit for prtosd to start (it may build partition images first).
START_TIMEOUT_S = 120.0
#: Wall-clock limit for prtosd to exit after SIGTERM before it is killed.
STOP_TIMEOUT_S = 10.0

Time = int | str


def _us(t: Time) -> int:
    """Virtual µs from an int or a string such as ``"10ms"``."""
    return t if isinstance(t, int) else to_time(t)


class RunningSystem:
    """One prtosd process started by the fixture, standing still until told to run."""

    def __init__(self, config: Path, run_dir: Path, args: tuple[str, ...], timeout: float = START_TIMEOUT_S):
        self.config = config
        self.run_dir = run_dir
        self.stdout_path = run_dir.with_name(run_dir.name + ".stdout")
        self.stderr_path = run_dir.with_name(run_dir.name + ".stderr")
        cmd = [sys.executable, "-m", "prtosd", "start", str(config), "--run-dir", str(run_dir)]
        cmd += ["--serve", "--until", "0s", *args]
        with self.stdout_path.open("wb") as out, self.stderr_path.open("wb") as err:
            self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=err, start_new_session=True)
        self._children: dict[int, psutil.Process] = {}
        self.client: Client
        deadline = time.monotonic() + timeout
        while (info := read_info(run_dir)) is None or info.pid != self.proc.pid:
            if self.proc.poll() is not None:
                raise RuntimeError(f"prtosd exited with status {self.proc.returncode}:\n{self.stderr()}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"prtosd did not start within {timeout:g} s:\n{self.stderr()}")
            time.sleep(0.02)  # polling for the file prtosd writes when it is ready
        self._remember_children()
        self.client = Client(run_dir)

    # -- driving ----------------------------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        return self.client.status()

    def run_until(self, t: Time, *, timeout: float = 120.0) -> dict[str, Any]:
        """Advance to virtual time ``t`` (since the first boot); returns the status there (``stopped``)."""
        return self.client.run_until(_us(t), timeout=timeout)

    def run_for(self, t: Time, *, timeout: float = 120.0) -> dict[str, Any]:
        return self.client.run_until(for_us=_us(t), timeout=timeout)

    def console(self, partition: int | str | None = None) -> str:
        """Console text so far: one partition's own writes, or (None) prtosd's standard output."""
        path = self.stdout_path if partition is None else self.client.console_path(partition)
        try:
            return path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def wait_for_console(
        self, text: str, *, partition: int | str | None = None, within: Time = "1s", step: Time = "1ms"
    ) -> dict[str, Any]:
        """Run in virtual steps of ``step`` until ``text`` appears; fail after ``within`` of virtual time.

        Returns the status at the pause point where the text was first seen.
        """
        st = self.status()
        limit = st["vtime_us"] + _us(within)
        while text not in self.console(partition):
            if st["vtime_us"] >= limit:
                raise AssertionError(f"{text!r} did not appear on the console within {within}")
            if st["state"] in ("idle", "all-halted", "halted"):
                raise AssertionError(f"{text!r} did not appear; the system is {st['state']}")
            st = self.client.run_until(min(st["vtime_us"] + _us(step), limit))
        return st

    # -- teardown ---------------------------------------------------------------------------------

    def _remember_children(self) -> None:
        with contextlib.suppress(psutil.Error):
            self._children.update((c.pid, c) for c in psutil.Process(self.proc.pid).children(recursive=True))

    def stop(self) -> int:
        """Stop prtosd (SIGTERM, then SIGKILL) and any partition process it left; returns its status."""
        if self.proc.poll() is None:
            self._remember_children()
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for child in self._children.values():  # psutil checks the creation time: never a reused pid
            with contextlib.suppress(psutil.Error):
                if child.is_running():
                    child.kill()
                    child.wait(STOP_TIMEOUT_S)
        if hasattr(self, "client"):
            self.client.close()
            del self.client
        return self.proc.returncode

    def stderr(self) -> str:
        try:
            return self.stderr_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""


@contextlib.contextmanager
def system_factory(tmp_path: Path) -> Iterator[Callable[..., RunningSystem]]:
    """What the fixture yields, for suites that prefer their own fixture name or scope."""
    started: list[RunningSystem] = []

    def start(config: str | Path, *args: str, tag: str = "system", timeout: float = START_TIMEOUT_S) -> RunningSystem:
        if isinstance(config, str) and config.lstrip().startswith("<"):
            path = tmp_path / f"{tag}.xml"
            path.write_text(config)
        else:
            path = Path(config)
        system = RunningSystem(path, tmp_path / tag, args, timeout)
        started.append(system)
        return system

    try:
        yield start
    finally:
        for system in reversed(started):
            system.stop()


@pytest.fixture
def prtosd_system(tmp_path: Path) -> Iterator[Callable[..., RunningSystem]]:
    """Factory: ``prtosd_system(config, *extra_start_args, tag="system")`` → a :class:`RunningSystem`.

    ``config`` is a path to a system.xml or the XML text itself. Every system started is stopped
    at teardown, with all its processes.
    """
    with system_factory(tmp_path) as start:
        yield start
