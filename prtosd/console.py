"""Console devices (semantics.md §12): where partition and hypervisor output goes.

Every write is one unit (one BAIL line): it is written whole, to every sink of its device, in
the order the supervisor accepts writes — which is virtual-time order — so the output of a run
is byte-identical from one run to the next. UART 0 goes to prtosd's standard output; every
device's output is also kept in ``<run dir>/console/<device>.log`` and each partition's own
writes in ``<run dir>/console/P<id>.log``; a ``pd:consoleFile`` gets a copy too. UART 1, Vga
without a file, and Null are discarded (D-16). With ``timestamps``, stdout lines carry the
virtual time and the writer's name (files never do, so they stay comparable).
"""

from __future__ import annotations

import heapq
import itertools
from pathlib import Path
from typing import BinaryIO

from prtosd.config.model import System

HYPERVISOR = -1


class Consoles:
    def __init__(self, system: System, run_dir: Path, stdout: BinaryIO | None, *, timestamps: bool = False):
        self.system = system
        self.dir = run_dir / "console"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.stdout = stdout
        self.timestamps = timestamps
        self._files: dict[str, BinaryIO] = {}
        self._devices = {d.name: d for d in system.devices}
        self._partial: dict[str, bool] = {}  # stdout line not finished yet, per writer
        # Writes wait here until every CPU has passed their virtual time, then come out in
        # (time, cpu, order of arrival) order: the merged stream is the same on every run.
        self._queue: list[tuple[int, int, int, int, bytes]] = []
        self._order = itertools.count()
        #: The CPU on whose behalf writes are being made (set by the supervisor at each step).
        self.cpu = 0

    def _file(self, name: str, path: Path | None = None) -> BinaryIO:
        f = self._files.get(name)
        if f is None:
            target = path if path is not None else self.dir / f"{name}.log"
            target.parent.mkdir(parents=True, exist_ok=True)
            f = self._files[name] = target.open("ab", buffering=0)
        return f

    def device_of(self, writer: int) -> str | None:
        name = self.system.hypervisor.console if writer == HYPERVISOR else self.system.partitions[writer].console
        return None if name in (None, "NULL") else name

    def write(self, writer: int, data: bytes, now: int, cpu: int | None = None) -> int:
        """Queue one unit for ``writer`` (a partition id or HYPERVISOR); returns the byte count."""
        device = self.device_of(writer)
        if device is None:
            return 0
        heapq.heappush(self._queue, (now, self.cpu if cpu is None else cpu, next(self._order), writer, data))
        return len(data)

    def flush(self, upto: int | None = None) -> None:
        """Emit every queued write older than virtual time ``upto`` (all of them if None)."""
        while self._queue and (upto is None or self._queue[0][0] < upto):
            now, _cpu, _n, writer, data = heapq.heappop(self._queue)
            self._emit(writer, data, now)

    def _emit(self, writer: int, data: bytes, now: int) -> None:
        device = self.device_of(writer)
        assert device is not None
        if writer != HYPERVISOR:
            self._file(f"P{writer}").write(data)
        dev = self._devices.get(device)
        if dev is None:  # the built-in Null device
            return
        self._file(device).write(data)
        if dev.console_file:
            self._file(f"file:{dev.console_file}", Path(dev.console_file)).write(data)
        if dev.kind == "Uart" and dev.uart_id == 0 and self.stdout is not None:
            self._to_stdout(writer, data, now)

    def hypervisor(self, line: str, now: int) -> None:
        """One hypervisor message line (§13), on behalf of the current CPU."""
        self.write(HYPERVISOR, (line + "\n").encode(), now)

    def _to_stdout(self, writer: int, data: bytes, now: int) -> None:
        assert self.stdout is not None
        if self.timestamps:
            who = "hyp" if writer == HYPERVISOR else (self.system.partitions[writer].name or f"P{writer}")
            out = bytearray()
            key = str(writer)
            for line in data.splitlines(keepends=True):
                if not self._partial.get(key):
                    out += f"[{now / 1e6:12.6f} {who}] ".encode()
                out += line
                self._partial[key] = not line.endswith((b"\n", b"\r"))
            data = bytes(out)
        self.stdout.write(data)
        self.stdout.flush()

    def close(self) -> None:
        self.flush()
        for f in self._files.values():
            f.close()
        self._files.clear()
