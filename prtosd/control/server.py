"""The control endpoint of a running supervisor: ``ctl.sock`` in the run directory.

Rationale
---------
The supervisor is a single-threaded discrete-event loop, so the control socket is polled from
that loop, between two grants: a command never races a partition process and takes effect at
one well-defined virtual time (the CPU furthest behind, :func:`~prtosd.control.base.vnow`).
Polling costs one ``ZMQ_EVENTS`` read per step when nothing is waiting. A run is deterministic
apart from *when* commands arrive; with ``--serve`` and pause points (``run_until``) even that
is fixed, because every command then lands at a pause point.

Every request is ``{t: "request", id, cmd, props, token}`` (:mod:`ipc.messages`) and is checked
in this order: envelope (BAD_REQUEST), run token compared with :func:`secrets.compare_digest`
(UNAUTHORISED), command looked up in :data:`~prtosd.control.registry.COMMANDS` only
(UNKNOWN_COMMAND), props against the command's schema (BAD_REQUEST). Refused requests are
counted (``status`` → ``control``) and answered; nothing a client sends can stop the daemon.
Commands that change state, and unauthorised requests, are appended to ``audit.log`` (0600) as
JSON lines. ``ctl.json`` (0600) tells ``prtosctl list`` and the client which process serves the
run directory; it is removed when the endpoint closes.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import zmq

from ipc.messages import MAX_FRAME, ProtocolError, decode, encode, make
from prtosd.control.base import Command, vnow
from prtosd.control.errors import REASONS, CommandError, CtlErrno
from prtosd.control.registry import COMMANDS
from prtosd.control.status import system_status

if TYPE_CHECKING:
    from prtosd.supervisor import Supervisor

SOCKET_NAME = "ctl.sock"
INFO_NAME = "ctl.json"
AUDIT_NAME = "audit.log"
#: Requests handled per poll, so a flood of requests cannot stall virtual time.
BATCH = 16
#: How long closing waits for the last replies to leave (ms).
CLOSE_LINGER_MS = 500


def _write_private(path: Path, text: str) -> None:
    """Write a 0600 file atomically (readers never see half of it)."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.replace(tmp, path)


class ControlServer:
    """The ROUTER socket for ``prtosctl`` and the client API, served from the supervisor's loop."""

    def __init__(self, sup: Supervisor):
        self.sup = sup
        self.path = sup.run_dir / SOCKET_NAME
        self.endpoint = f"ipc://{self.path}"
        if len(str(self.path)) >= zmq.IPC_PATH_MAX_LEN:
            raise ValueError(f"run directory path too long for a socket: {sup.run_dir}")
        self._token = sup.token.encode()
        self.requests = 0
        self.rejected = 0
        self.unauthorised = 0
        self.waiters: list[tuple[bytes, int]] = []  # run_until requests waiting for the run to stop
        self.sock = sup.ctx.socket(zmq.ROUTER)
        self.sock.setsockopt(zmq.LINGER, 0)
        self.sock.setsockopt(zmq.MAXMSGSIZE, MAX_FRAME)  # larger frames are dropped by ZeroMQ itself
        self.sock.bind(self.endpoint)
        os.chmod(self.path, 0o600)
        fd = os.open(sup.run_dir / AUDIT_NAME, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        self._audit = os.fdopen(fd, "a", buffering=1)
        info = {
            "pid": os.getpid(),
            "system": sup.system.name,
            "config": str(sup.config_path),
            "endpoint": self.endpoint,
            "serve": bool(getattr(sup, "serve", False)),
        }
        _write_private(sup.run_dir / INFO_NAME, json.dumps(info) + "\n")

    def counters(self) -> dict[str, int]:
        return {"requests": self.requests, "rejected": self.rejected, "unauthorised": self.unauthorised}

    # -- serving --------------------------------------------------------------------------------

    def poll(self, timeout_ms: int = 0) -> None:
        """Answer waiting requests; with ``timeout_ms`` wait that long for the first one."""
        if timeout_ms <= 0:
            if not self.sock.get(zmq.EVENTS) & zmq.POLLIN:
                return
        elif not self.sock.poll(timeout_ms):
            return
        for _ in range(BATCH):
            try:
                frames = self.sock.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                return
            self._handle(frames)
            if self.sup.halted:
                return

    def _handle(self, frames: list[bytes]) -> None:
        self.requests += 1
        if len(frames) != 2:
            self.rejected += 1
            if frames:
                self._reply(frames[0], 0, CtlErrno.BAD_REQUEST, "malformed request: expected one frame")
            return
        identity, frame = frames
        try:
            msg = decode(frame)
            if msg["t"] != "request":
                raise ProtocolError(f"expected a request, not {msg['t']}")
        except ProtocolError as exc:
            self.rejected += 1
            self._reply(identity, 0, CtlErrno.BAD_REQUEST, f"malformed request: {exc}")
            return
        rid, name = msg["id"], msg["cmd"]
        if not secrets.compare_digest(msg["token"].encode(), self._token):
            self.rejected += 1
            self.unauthorised += 1
            self._record(name, None, CtlErrno.UNAUTHORISED, REASONS[CtlErrno.UNAUTHORISED])
            self._reply(identity, rid, CtlErrno.UNAUTHORISED)
            return
        cmd = COMMANDS.get(name)
        if cmd is None:
            self.rejected += 1
            self._reply(identity, rid, CtlErrno.UNKNOWN_COMMAND, f"unknown command {name!r}")
            return
        self._run(cmd, identity, rid, msg["props"])

    def _run(self, cmd: Command, identity: bytes, rid: int, raw_props: dict[Any, Any]) -> None:
        props: dict[str, Any] | None = None
        try:
            props = cmd.validate(raw_props)
            data = cmd.execute(self.sup, props)
        except CommandError as exc:
            if exc.errno == CtlErrno.BAD_REQUEST:
                self.rejected += 1
            if cmd.changes_state:
                self._record(cmd.name, props, exc.errno, exc.reason)
            self._reply(identity, rid, exc.errno, exc.reason)
            return
        except Exception as exc:  # a bug in a command must not take the run down; it is reported
            print(f"prtosd: control command {cmd.name} failed: {type(exc).__name__}: {exc}", file=sys.stderr)
            self._reply(identity, rid, CtlErrno.INTERNAL)
            return
        if cmd.changes_state:
            self._record(cmd.name, props, 0, "ok")
        if data is None and cmd.deferred:
            self.waiters.append((identity, rid))
        else:
            self._reply(identity, rid, 0, "ok", data or {})

    def _reply(
        self, identity: bytes, rid: int, errno: int, reason: str | None = None, data: dict[str, Any] | None = None
    ) -> None:
        fields: dict[str, Any] = {"data": data} if data is not None else {}
        text = reason if reason is not None else REASONS.get(errno, f"error {errno}")
        msg = make("reply", id=rid, status="ok" if errno == 0 else "error", errno=int(errno), reason=text[:4096],
                   **fields)  # fmt: skip
        with contextlib.suppress(zmq.ZMQError):  # a client that went away just misses its reply
            self.sock.send_multipart([identity, encode(msg)], flags=zmq.NOBLOCK)

    def _record(self, name: str, props: dict[str, Any] | None, errno: int, reason: str) -> None:
        """One audit line for a state-changing command (or an unauthorised request)."""
        entry = {
            "wall": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "vtime_us": self.sup.epoch_us + vnow(self.sup),
            "cmd": name,
            "props": props,
            "errno": int(errno),
            "reason": reason,
        }
        self._audit.write(json.dumps(entry, sort_keys=True) + "\n")

    # -- pause points ---------------------------------------------------------------------------

    def stopped(self, reason: str) -> None:
        """The run stopped advancing (pause point, idle, all halted, system halt): answer ``run_until``."""
        if not self.waiters:
            return
        data = {**system_status(self.sup), "stopped": reason}
        waiters, self.waiters = self.waiters, []
        for identity, rid in waiters:
            self._reply(identity, rid, 0, "ok", data)

    def close(self) -> None:
        """Answer the last waiters, remove ``ctl.json`` and close the socket (before the context ends)."""
        self.stopped(self.sup.stats.exit_reason or "stopped")
        with contextlib.suppress(FileNotFoundError):
            (self.sup.run_dir / INFO_NAME).unlink()
        self.sock.close(CLOSE_LINGER_MS)
        self._audit.close()
