"""Python API of the control plane: find a running system and drive it, as ``prtosctl`` does.

Rationale
---------
A running ``prtosd`` serves ``ctl.sock`` in its run directory (0700) and writes ``ctl.json``
(its pid, system name and endpoint) next to it; the run token in ``token`` (0600) authorises
requests, so only the user who started the run can control it. :class:`Client` speaks the
request/reply envelope of :mod:`ipc.messages` over a DEALER socket: every request carries a
fresh id, replies are matched by id, every wait has a wall-clock timeout and notices when the
daemon's process is gone — a client never hangs on a dead system.

:meth:`Client.connect_tcp` reaches a daemon started with ``--control tcp://...`` instead: a
CURVE client whose key pair is the credential (no run token). A refused key never gets an
answer from ZeroMQ, so a monitor on the socket watches the handshake and turns its failure into
:class:`Unauthorised` at once rather than a timeout; a connection lost after the handshake means
the daemon went away.

Errors are exceptions with the ``prtosctl`` exit code attached (:attr:`ClientError.exit_code`):
:class:`DaemonNotFound` (3: nothing running, or it does not answer), :class:`Unauthorised` (4:
run token or CURVE key refused), :class:`BadOption` (2: an endpoint or key file given cannot be
used) and :class:`CommandFailed` (1: the daemon refused the command; ``errno`` is a PRTOS code or
a :class:`~prtosd.control.errors.CtlErrno`).
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
from prtosd.control.errors import (
    EXIT_NO_DAEMON,
    EXIT_REFUSED,
    EXIT_UNAUTHORISED,
    EXIT_USAGE,
    CtlErrno,
    exit_code,
)
from prtosd.control.server import INFO_NAME, SOCKET_NAME, parse_tcp_endpoint
from prtosd.keys import HANDSHAKE_FAILED, KeysError, monitor_events, secure_client

#: Default wall-clock limit of one request (s).
DEFAULT_TIMEOUT = 10.0
#: Most records one hm_log/trace_dump reply holds (the commands' ``limit``).
MAX_RECORDS = 1000
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


class BadOption(ClientError):
    """An endpoint or key file given for a TCP connection cannot be used (a usage error)."""

    exit_code = EXIT_USAGE


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


class _Handshake:
    """What a TCP client socket's monitor has said: handshake done, refused, or connection lost."""

    EVENTS = zmq.EVENT_HANDSHAKE_SUCCEEDED | HANDSHAKE_FAILED | zmq.EVENT_DISCONNECTED

    def __init__(self, sock: zmq.Socket, endpoint: str):
        self.endpoint = endpoint
        self.monitor = sock.get_monitor_socket(self.EVENTS)
        self.up = False
        self.lost = False
        self.refused: int | None = None  # the failure event, if the handshake failed

    def update(self) -> None:
        for event in monitor_events(self.monitor):
            if event == zmq.EVENT_HANDSHAKE_SUCCEEDED:
                self.up = True
            elif event == zmq.EVENT_DISCONNECTED:
                self.lost = self.lost or self.up
                self.up = False
            elif self.refused is None:
                self.refused = event

    def check(self) -> None:
        """Raise if the daemon refused us or went away."""
        self.update()
        if self.refused == zmq.EVENT_HANDSHAKE_FAILED_AUTH:
            raise Unauthorised(f"{self.endpoint} refused the client key: key not authorised")
        if self.refused is not None:
            raise Unauthorised(f"no answer from {self.endpoint}: key not authorised or wrong server key?")
        if self.lost:
            raise DaemonNotFound(f"prtosd at {self.endpoint} closed the connection (it has stopped?)")

    def close(self) -> None:
        self.monitor.close(0)


class Client:
    """A connection to the control endpoint of one running system."""

    def __init__(self, run_dir: str | Path, *, timeout: float = DEFAULT_TIMEOUT, token: str | None = None):
        path = Path(run_dir)
        self.run_dir: Path | None = path
        info = read_info(path)
        if info is None:
            raise DaemonNotFound(f"no prtosd is running in {path}")
        self.info: SystemInfo | None = info
        self.timeout = timeout
        if token is None:
            try:
                token = (path / "token").read_text().strip()
            except OSError as exc:
                raise Unauthorised(f"cannot read the run token: {exc.strerror}") from None
        self._token = token
        self._open(f"ipc://{path / SOCKET_NAME}")

    @classmethod
    def connect_tcp(
        cls,
        endpoint: str,
        key_file: str | Path,
        server_key_file: str | Path,
        *,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> Client:
        """Connect to ``prtosd start --control tcp://...`` with a client key pair (``*.key_secret``)
        from ``prtosd keys`` and the daemon's public ``server.key``."""
        try:
            endpoint = parse_tcp_endpoint(endpoint)
        except ValueError as exc:
            raise BadOption(str(exc)) from None
        if endpoint.endswith(":0"):
            raise BadOption(f"{endpoint}: give the port the daemon listens on (see its ctl.json)")
        self = cls.__new__(cls)
        self.run_dir = None
        self.info = None
        self.timeout = timeout
        self._token = ""  # the CURVE key is the credential
        self._open(endpoint, (Path(key_file), Path(server_key_file)))
        return self

    def _open(self, endpoint: str, curve: tuple[Path, Path] | None = None) -> None:
        self.endpoint = endpoint
        self._next_id = 0
        self._ctx = zmq.Context()
        self._sock = self._ctx.socket(zmq.DEALER)
        self._sock.setsockopt(zmq.LINGER, 0)
        self._link: _Handshake | None = None
        if curve is not None:
            try:
                secure_client(self._sock, *curve)
            except KeysError as exc:
                self._sock.close(0)
                self._ctx.term()
                raise BadOption(str(exc)) from None
            self._link = _Handshake(self._sock, endpoint)
        try:
            self._sock.connect(endpoint)
        except zmq.ZMQError as exc:
            self.close()
            raise BadOption(f"cannot connect to {endpoint}: {exc}") from None

    @property
    def where(self) -> str:
        """The daemon, for messages."""
        return f"prtosd (pid {self.info.pid})" if self.info is not None else f"prtosd at {self.endpoint}"

    def alive(self) -> bool:
        """Whether the daemon still serves the run directory (it removes ``ctl.json`` when it stops),
        or, over TCP, whether the connection has not been refused or lost."""
        if self._link is not None:
            self._link.update()
            return not self._link.lost and self._link.refused is None
        assert self.info is not None and self.run_dir is not None
        return pid_alive(self.info.pid) and (self.run_dir / INFO_NAME).exists()

    def close(self) -> None:
        if self._link is not None:
            with contextlib.suppress(zmq.ZMQError):
                self._sock.disable_monitor()
            self._link.close()
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
                hint = " (is prtosd listening there?)" if self._link is not None and not self._link.up else ""
                raise DaemonNotFound(f"{self.where} did not answer {cmd} within {limit:g} s{hint}")
            if not self._sock.poll(int(min(left, 0.2) * 1000) + 1):
                if self._link is not None:
                    self._link.check()
                elif not self.alive():
                    raise DaemonNotFound(f"{self.where} has exited")
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

    def records(
        self,
        cmd: str,
        props: dict[str, Any],
        *,
        follow: bool = False,
        on_gap: Callable[[], None] | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Every record of the HM log (``hm_log``) or a trace stream (``trace_dump``), oldest first.

        With ``follow``, keep polling for new records until the daemon exits. Positions count from
        the oldest record present, so they shift when a full log wraps; the last record seen is
        therefore found again before each read (:meth:`_relocate`). When it has been overwritten
        before it could be found, ``on_gap`` is called and reading restarts at the oldest record.
        """
        pos = 0  # position of the next record to read, if nothing was dropped since
        last: dict[str, Any] | None = None  # the last record yielded
        while True:
            try:
                if last is not None:
                    pos = self._relocate(cmd, props, last, pos, on_gap)
                data = self.call(cmd, {**props, "start": pos})
            except DaemonNotFound:
                if follow and last is not None:
                    return
                raise
            records = data["records"]
            yield from records
            if records:
                last = records[-1]
                pos += len(records)
            if pos < data["count"]:
                continue
            if not follow:
                return
            if not _wait(FOLLOW_INTERVAL, self.alive):
                return

    def _relocate(
        self, cmd: str, props: dict[str, Any], last: dict[str, Any], pos: int, on_gap: Callable[[], None] | None
    ) -> int:
        """Where reading continues: just after ``last``, which was at ``pos - 1`` when it was read.

        A log only drops its oldest records, so ``last`` is now at ``pos - 1`` or below; it is
        searched downwards from there (one request of one record when nothing was dropped).
        """
        if self.call(cmd, {**props, "start": pos - 1, "limit": 1})["records"] == [last]:
            return pos
        end = pos - 1  # positions below end still to search
        while end > 0:
            start = max(0, end - MAX_RECORDS)
            window = self.call(cmd, {**props, "start": start, "limit": end - start})["records"]
            for i in range(len(window) - 1, -1, -1):
                if window[i] == last:
                    return start + i + 1
            end = start
        if on_gap is not None:
            on_gap()
        return 0

    def console_path(self, partition: int | str) -> Path:
        """The file with everything partition ``partition`` (id or name) wrote to its console.

        Over TCP this is the path on the daemon's machine (as ``status`` reports its run directory).
        """
        st = self.status()
        run_dir = self.run_dir if self.run_dir is not None else Path(st["run_dir"])
        for p in st["partitions"]:
            if str(partition) in (str(p["id"]), p["name"]):
                return run_dir / "console" / f"P{p['id']}.log"
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
    "BadOption",
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
