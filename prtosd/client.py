"""Python API of the control plane: find a running system and drive it, as ``prtosctl`` does.

Rationale
---------
A running ``prtosd`` serves ``ctl.sock`` in its run directory (0700) and writes ``ctl.json``
(its pid, system name and endpoint) next to it; the run token in ``token`` (0600) authorises
requests, so only the user who started the run can control it. :class:`Client` speaks the
request/reply envelope of :mod:`ipc.messages` over a DEALER socket: every request carries a
fresh id, replies are matched by id, every wait has a wall-clock timeout and notices when the
daemon's process is gone — a client never hangs on a dead system.

Errors are exceptions with the ``prtosctl`` exit code attached (:attr:`ClientError.exit_code`):
:class:`DaemonNotFound` (3: nothing running, or it does not answer), :class:`Unauthorised` (4)
and :class:`CommandFailed` (1: the daemon refused the command; ``errno`` is a PRTOS code or a
:class:`~prtosd.control.errors.CtlErrno`).
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
import zmq

from ipc.messages import ProtocolError, decode, encode, make
from prtosd.control.errors import EXIT_NO_DAEMON, EXIT_REFUSED, EXIT_UNAUTHORISED, CtlErrno, exit_code
from prtosd.control.server import INFO_NAME, SOCKET_NAME

#: Default wall-clock limit of one request (s).
DEFAULT_TIMEOUT = 10.0
#: How often followers (hm log, trace, console) look for new data (wall s).
FOLLOW_INTERVAL = 0.2


class ClientError(Exception):
    """Any failure of a control request; ``exit_code`` is what ``prtosctl`` exits with."""

    exit_code = EXIT_REFUSED


class DaemonNotFound(ClientError):
    """No system is running where we looked, or it stopped answering."""

    exit_code = EXIT_NO_DAEMON


class Unauthorised(ClientError):
    """The run token is unreadable or was refused."""

    exit_code = EXIT_UNAUTHORISED


class CommandFailed(ClientError):
    """The daemon refused the command (``errno``: a PRTOS code, or a CtlErrno)."""

    def __init__(self, errno: int, reason: str):
        super().__init__(reason)
        self.errno = errno
        self.reason = reason
        self.exit_code = exit_code(errno)


@dataclass(frozen=True)
class SystemInfo:
    """A running system, as its ``ctl.json`` describes it."""

    run_dir: Path
    pid: int
    system: str
    config: str
    serve: bool


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` exists and has not exited (a zombie waiting to be reaped has)."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
    except psutil.Error:
        return True  # someone else's process: alive, though not ours to control


def read_info(run_dir: Path) -> SystemInfo | None:
    """The system served in ``run_dir``, or None if no live prtosd serves it."""
    try:
        data = json.loads((run_dir / INFO_NAME).read_text())
        info = SystemInfo(run_dir, int(data["pid"]), str(data["system"]), str(data["config"]), bool(data["serve"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not pid_alive(info.pid) or not (run_dir / SOCKET_NAME).exists():
        return None
    return info


def default_root() -> Path:
    from prtosd.cli import default_run_root

    return default_run_root()


def list_systems(root: Path | None = None) -> list[SystemInfo]:
    """Running systems whose run directories are directly under ``root`` (default: the run-dir root)."""
    root = root if root is not None else default_root()
    try:
        dirs = sorted(p for p in root.iterdir() if p.is_dir())
    except OSError:
        return []
    return [info for d in dirs if (info := read_info(d)) is not None]


def find_run_dir(run_dir: str | Path | None = None, system: str | None = None, root: Path | None = None) -> Path:
    """The run directory to control: ``run_dir`` itself, or the one running system named ``system``.

    With neither, the only running system under the root is chosen. Raises DaemonNotFound with a
    message that says what was looked for.
    """
    if run_dir is not None:
        path = Path(run_dir)
        if read_info(path) is None:
            raise DaemonNotFound(f"no prtosd is running in {path}")
        return path
    found = list_systems(root)
    where = root if root is not None else default_root()
    if system is not None:
        found = [s for s in found if s.system == system]
    if not found:
        what = f'no system named "{system}" is running' if system else "no system is running"
        raise DaemonNotFound(f"{what} under {where} (give --run-dir?)")
    if len(found) > 1:
        dirs = ", ".join(str(s.run_dir) for s in found)
        raise DaemonNotFound(f"several systems are running ({dirs}); choose one with --run-dir")
    return found[0].run_dir


class Client:
    """A connection to the control endpoint of one running system."""

    def __init__(self, run_dir: str | Path, *, timeout: float = DEFAULT_TIMEOUT, token: str | None = None):
        self.run_dir = Path(run_dir)
        info = read_info(self.run_dir)
        if info is None:
            raise DaemonNotFound(f"no prtosd is running in {self.run_dir}")
        self.info = info
        self.timeout = timeout
        if token is None:
            try:
                token = (self.run_dir / "token").read_text().strip()
            except OSError as exc:
                raise Unauthorised(f"cannot read the run token: {exc.strerror}") from None
        self._token = token
        self._next_id = 0
        self._ctx = zmq.Context()
        self._sock = self._ctx.socket(zmq.DEALER)
        self._sock.setsockopt(zmq.LINGER, 0)
        self._sock.connect(f"ipc://{self.run_dir / SOCKET_NAME}")

    def alive(self) -> bool:
        """Whether the daemon still serves the run directory (it removes ``ctl.json`` when it stops)."""
        return pid_alive(self.info.pid) and (self.run_dir / INFO_NAME).exists()

    def close(self) -> None:
        self._sock.close(0)
        self._ctx.term()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the request/reply exchange ---------------------------------------------------------------

    def call(self, cmd: str, props: dict[str, Any] | None = None, *, timeout: float | None = None) -> dict[str, Any]:
        """Send one request and return the reply's data; raise a ClientError otherwise."""
        self._next_id += 1
        rid = self._next_id
        msg = make("request", id=rid, cmd=cmd, props=props or {}, token=self._token)
        self._sock.send(encode(msg))
        limit = self.timeout if timeout is None else timeout
        deadline = time.monotonic() + limit
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise DaemonNotFound(f"prtosd (pid {self.info.pid}) did not answer {cmd} within {limit:g} s")
            if not self._sock.poll(int(min(left, 0.2) * 1000) + 1):
                if not self.alive():
                    raise DaemonNotFound(f"prtosd (pid {self.info.pid}) has exited")
                continue
            try:
                reply = decode(self._sock.recv())
            except ProtocolError:
                continue
            if reply["t"] != "reply" or reply["id"] not in (rid, 0):
                continue  # a late answer to an earlier request that timed out
            if reply["status"] == "ok":
                return reply.get("data") or {}
            if reply["errno"] == CtlErrno.UNAUTHORISED:
                raise Unauthorised(reply["reason"])
            raise CommandFailed(reply["errno"], reply["reason"])

    # -- operations (one per control command) -------------------------------------------------------

    def status(self) -> dict[str, Any]:
        return self.call("status")

    def partition_halt(self, partition: int | str) -> dict[str, Any]:
        return self.call("partition_halt", {"partition": partition})

    def partition_suspend(self, partition: int | str) -> dict[str, Any]:
        return self.call("partition_suspend", {"partition": partition})

    def partition_resume(self, partition: int | str) -> dict[str, Any]:
        return self.call("partition_resume", {"partition": partition})

    def partition_reset(self, partition: int | str, mode: str = "cold", status: int = 0) -> dict[str, Any]:
        return self.call("partition_reset", {"partition": partition, "mode": mode, "status": status})

    def system_halt(self) -> dict[str, Any]:
        return self.call("system_halt")

    def system_reset(self, mode: str = "cold") -> dict[str, Any]:
        return self.call("system_reset", {"mode": mode})

    def plan_switch(self, plan: int) -> dict[str, Any]:
        return self.call("plan_switch", {"plan": plan})

    def plan_status(self) -> dict[str, Any]:
        return self.call("plan_status")

    def hm_log(self, start: int = 0, limit: int = 1000) -> dict[str, Any]:
        return self.call("hm_log", {"start": start, "limit": limit})

    def trace_dump(self, stream: int | str = "hyp", start: int = 0, limit: int = 1000) -> dict[str, Any]:
        return self.call("trace_dump", {"stream": stream, "start": start, "limit": limit})

    def run_until(
        self, until_us: int | None = None, *, for_us: int | None = None, timeout: float = 120.0
    ) -> dict[str, Any]:
        """Let a ``--serve`` run advance to a pause point; returns the status there (plus ``stopped``)."""
        props = {"until_us": until_us} if until_us is not None else {"for_us": for_us}
        return self.call("run_until", props, timeout=timeout)

    # -- followers ------------------------------------------------------------------------------------

    def records(self, cmd: str, props: dict[str, Any], *, follow: bool = False) -> Iterator[dict[str, Any]]:
        """Every record of the HM log (``hm_log``) or a trace stream (``trace_dump``), oldest first.

        With ``follow``, keep polling for new records until the daemon exits. Positions count from
        the oldest record present, so records overwritten in a full (wrapping) log may be missed.
        """
        pos = 0
        while True:
            try:
                data = self.call(cmd, {**props, "start": pos})
            except DaemonNotFound:
                if follow and pos:
                    return
                raise
            pos = min(pos, data["count"])
            yield from data["records"]
            pos += len(data["records"])
            if pos < data["count"]:
                continue
            if not follow:
                return
            if not _wait(FOLLOW_INTERVAL, self.alive):
                return

    def console_path(self, partition: int | str) -> Path:
        """The file with everything partition ``partition`` (id or name) wrote to its console."""
        parts = self.status()["partitions"]
        for p in parts:
            if str(partition) in (str(p["id"]), p["name"]):
                return self.run_dir / "console" / f"P{p['id']}.log"
        raise CommandFailed(CtlErrno.NO_SUCH_PARTITION, f"no partition {partition}")

    def console(self, partition: int | str, *, follow: bool = False) -> Iterator[bytes]:
        """A partition's console output; with ``follow``, new output as it comes, until the daemon exits."""
        yield from follow_file(self.console_path(partition), self.alive if follow else lambda: False)


def _wait(seconds: float, alive: Callable[[], bool]) -> bool:
    """Wait a polling interval; False when ``alive()`` says the daemon is gone."""
    if not alive():
        return False
    time.sleep(seconds)  # a polling interval for a human watching, not synchronisation
    return True


def follow_file(path: Path, alive: Callable[[], bool]) -> Iterator[bytes]:
    """Chunks of ``path`` from its start; keeps reading new data while ``alive()`` is true."""
    pos = 0
    while True:
        chunk = b""
        with contextlib.suppress(FileNotFoundError), path.open("rb") as f:
            f.seek(pos)
            chunk = f.read()
        if chunk:
            pos += len(chunk)
            yield chunk
            continue
        if not _wait(FOLLOW_INTERVAL, alive):
            # one last read: output written just before the daemon exited
            with contextlib.suppress(FileNotFoundError), path.open("rb") as f:
                f.seek(pos)
                if rest := f.read():
                    yield rest
            return


__all__ = [
    "Client",
    "ClientError",
    "CommandFailed",
    "DaemonNotFound",
    "SystemInfo",
    "Unauthorised",
    "find_run_dir",
    "follow_file",
    "list_systems",
    "read_info",
]
