"""Host resources of the partition processes: CPU pinning and resident memory (psutil).

Why: a partition process is the partition's "hardware". Pinning system CPU ``c`` to host CPU
``c mod n`` (``n`` = the host CPUs prtosd may use) keeps the vCPUs of one system CPU from
migrating between host CPUs and spreads the system CPUs over the host the way the configuration
spreads them; ``prtosd start --no-affinity`` leaves placement to the host scheduler. Resident
memory is what limits how many partitions one host can run, so it is sampled and shown in
``prtosctl status``, and a process whose RSS grows past :data:`RSS_LOG_MIB` gets a line in
``run_dir/resources.log`` (a leak in a long run shows there). None of this is visible to guests.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

#: A partition process whose RSS grows past this many MiB is logged in ``resources.log``
#: (once per crossing). ``PRTOSD_RSS_LOG_MIB`` overrides it.
RSS_LOG_MIB = 64.0
#: Wall seconds between two RSS samples of the background sampler.
SAMPLE_INTERVAL_S = 1.0

VcpuKey = tuple[int, int]


@dataclass
class Tracked:
    key: VcpuKey
    proc: psutil.Process
    host_cpu: int | None
    rss: int = 0
    above: bool = False  # above the threshold at the last sample (a line was logged)


def rss_log_mib() -> float:
    """The RSS threshold in MiB (``PRTOSD_RSS_LOG_MIB`` or :data:`RSS_LOG_MIB`); ValueError names a bad value."""
    text = os.environ.get("PRTOSD_RSS_LOG_MIB")
    if text is None:
        return RSS_LOG_MIB
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value > 0:
        raise ValueError(f'PRTOSD_RSS_LOG_MIB must be a positive number of MiB, not "{text}"')
    return value


def host_cpus() -> list[int]:
    """The host CPUs this process may run on, in order."""
    try:
        return sorted(psutil.Process().cpu_affinity() or [])
    except (AttributeError, psutil.Error):  # a platform without affinity
        return list(range(psutil.cpu_count() or 1))


class ProcessResources:
    """Pins the partition processes and samples their RSS (a background thread; stop with :meth:`close`)."""

    def __init__(self, run_dir: Path, *, affinity: bool = True, threshold_mib: float | None = None):
        self.run_dir = run_dir
        self.affinity = affinity
        self.threshold = int((rss_log_mib() if threshold_mib is None else threshold_mib) * 1024 * 1024)
        self.cpus = host_cpus()
        self.tracked: dict[VcpuKey, Tracked] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._t0 = time.monotonic()

    def host_cpu(self, cpu: int) -> int:
        """Host CPU of system CPU ``cpu``."""
        return self.cpus[cpu % len(self.cpus)]

    def track(self, key: VcpuKey, pid: int, cpu: int | None) -> None:
        """A new partition process for ``key`` (replacing any earlier one); pin it to its CPU."""
        try:
            proc = psutil.Process(pid)
        except psutil.Error:
            return  # already gone: the supervisor notices by its exit status
        host = None
        if self.affinity and cpu is not None and self.cpus:
            host = self.host_cpu(cpu)
            try:
                proc.cpu_affinity([host])
            except psutil.Error:
                host = None  # it exited meanwhile, or the host refuses: not pinned
        with self._lock:
            self.tracked[key] = Tracked(key, proc, host)
        if self._thread is None:
            self._thread = threading.Thread(target=self._sampler, name="prtosd-rss", daemon=True)
            self._thread.start()

    def info(self, key: VcpuKey) -> dict[str, Any] | None:
        """pid, host CPU (None: not pinned) and current RSS of ``key``'s process, or None."""
        with self._lock:
            t = self.tracked.get(key)
        if t is None:
            return None
        self._sample(t)
        return {"pid": t.proc.pid, "host_cpu": t.host_cpu, "rss_bytes": t.rss}

    def _sample(self, t: Tracked) -> None:
        try:
            t.rss = t.proc.memory_info().rss
        except psutil.Error:
            t.rss = 0  # exited
            return
        if t.rss > self.threshold and not t.above:
            self._log(
                f"partition {t.key[0]} vcpu {t.key[1]} pid {t.proc.pid}: RSS {t.rss / 2**20:.1f} MiB "
                f"exceeds {self.threshold / 2**20:g} MiB"
            )
        t.above = t.rss > self.threshold

    def _log(self, line: str) -> None:
        with contextlib.suppress(OSError), (self.run_dir / "resources.log").open("a") as f:
            f.write(f"[{time.monotonic() - self._t0:10.3f} s wall] {line}\n")

    def sample_all(self) -> None:
        with self._lock:
            items = list(self.tracked.values())
        for t in items:
            self._sample(t)

    def _sampler(self) -> None:
        while not self._stop.wait(SAMPLE_INTERVAL_S):
            self.sample_all()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
