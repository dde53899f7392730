"""The control endpoint of a running supervisor: ``ctl.sock`` in the run directory.

Rationale
---------
The supervisor is a single-threaded discrete-event loop, so the control socket is polled from
that loop, between two grants: a command never races a partition process and takes effect at
one well-defined virtual time (the CPU furthest behind, :func:`~prtosd.control.base.vnow`).
Polling is gated by the wall clock: a step of the loop looks at the socket (one ``ZMQ_EVENTS``
read) at most once per :data:`POLL_S`, because a partition switch takes a few hundred µs and a
socket read per switch was a measurable part of it; wall time never reaches the guests, so this
only delays when a command is seen, never what it does. A run is deterministic
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

``prtosd start --control tcp://ADDR:PORT --keys DIR`` adds a second ROUTER socket, a CURVE
server (:mod:`prtosd.keys`). ZeroMQ checks the client's key against ``DIR/authorized`` during the
handshake, so a request that arrives on it comes from an authorised key: the key is the
credential and no run token is needed. Everything else is the one code path of the Unix socket.
Clients that fail the handshake (key not authorised, no CURVE, wrong server key, not ZeroMQ at
all) never reach :meth:`ControlServer._handle`; a socket monitor counts them instead. The TCP
socket has its own ZeroMQ context because a context has only one ZAP authenticator.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import zmq

from ipc.messages import MAX_FRAME, ProtocolError, decode, encode, make
from prtosd.control.base import Command, vnow
from prtosd.control.errors import REASONS, CommandError, CtlErrno
from prtosd.control.registry import COMMANDS
from prtosd.control.status import system_status
from prtosd.keys import HANDSHAKE_FAILED, CurveServer, KeysError, authorized_names, monitor_events

if TYPE_CHECKING:
    from prtosd.supervisor import Supervisor

SOCKET_NAME = "ctl.sock"
INFO_NAME = "ctl.json"
AUDIT_NAME = "audit.log"
#: Requests handled per poll, so a flood of requests cannot stall virtual time.
BATCH = 16
#: How long closing waits for the last replies to leave (ms).
CLOSE_LINGER_MS = 500
#: How often (wall s) a step of the run loop looks at the Unix socket when nothing waits.
POLL_S = 0.001
#: How often (wall s) a step of the run loop looks at the TCP endpoint when nothing waits.
TCP_POLL_S = 0.001
# Plain ints: pyzmq's enum members cost an Enum construction per use.
_EVENTS, _POLLIN = int(zmq.EVENTS), int(zmq.POLLIN)
#: Handshake failures the TCP endpoint's monitor reports, by the counter they go to.
HANDSHAKE_EVENTS = {
    zmq.EVENT_HANDSHAKE_FAILED_AUTH: "handshake_refused_auth",
    zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL: "handshake_refused_protocol",
    zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL: "handshake_refused_other",
}


class ControlSetupError(Exception):
    """The control endpoint cannot be set up (bad address, port in use, unusable keys)."""


@dataclass(frozen=True)
class TcpControl:
    """``--control tcp://ADDR:PORT --keys DIR``: where the CURVE control endpoint listens."""

    endpoint: str
    keys: Path


def parse_tcp_endpoint(text: str) -> str:
    """Check ``tcp://HOST:PORT`` (PORT 0 or ``*``: any free port); returns it in ZeroMQ's form."""
    if not text.startswith("tcp://"):
        raise ValueError(f"{text!r}: expected tcp://HOST:PORT")
    host, sep, port = text[len("tcp://") :].rpartition(":")
    if not sep or not host:
        raise ValueError(f"{text!r}: expected tcp://HOST:PORT")
    if port == "*":
        port = "0"
    if not port.isdecimal() or int(port) > 65535:
        raise ValueError(f"{text!r}: port must be 0..65535 (0: any free port)")
    return f"tcp://{host}:{int(port)}"


def _write_private(path: Path, text: str) -> None:
    """Write a 0600 file atomically (readers never see half of it)."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.replace(tmp, path)


class ControlServer:
    """The ROUTER socket for ``prtosctl`` and the client API, served from the supervisor's loop."""

    def __init__(self, sup: Supervisor, tcp: TcpControl | None = None):
        self.sup = sup
        self.path = sup.run_dir / SOCKET_NAME
        self.endpoint = f"ipc://{self.path}"
        if len(str(self.path)) >= zmq.IPC_PATH_MAX_LEN:
            raise ValueError(f"run directory path too long for a socket: {sup.run_dir}")
        self._token = sup.token.encode()
        self.requests = 0
        self.rejected = 0
        self.unauthorised = 0
        self.handshakes = dict.fromkeys(HANDSHAKE_EVENTS.values(), 0)
        self.waiters: list[tuple[zmq.Socket, bytes, int]] = []  # run_until requests waiting for the run to stop
        self.sock = sup.ctx.socket(zmq.ROUTER)
        self.sock.setsockopt(zmq.LINGER, 0)
        self.sock.setsockopt(zmq.MAXMSGSIZE, MAX_FRAME)  # larger frames are dropped by ZeroMQ itself
        self.sock.bind(self.endpoint)
        os.chmod(self.path, 0o600)
        self.tcp: _TcpEndpoint | None = None
        self._due = 0.0  # wall time of the next look at the socket from a step of the loop
        if tcp is not None:
            try:
                self.tcp = _TcpEndpoint(tcp)
            except ControlSetupError:
                self.sock.close(0)
                raise
            self._tcp_due = 0.0
            self._poller = zmq.Poller()
            for s in (self.sock, self.tcp.sock, self.tcp.monitor):
                self._poller.register(s, zmq.POLLIN)
        fd = os.open(sup.run_dir / AUDIT_NAME, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        self._audit = os.fdopen(fd, "a", buffering=1)
        info = {
            "pid": os.getpid(),
            "system": sup.system.name,
            "config": str(sup.config_path),
            "endpoint": self.endpoint,
            "serve": bool(getattr(sup, "serve", False)),
            "tcp": self.tcp.endpoint if self.tcp is not None else None,
        }
        _write_private(sup.run_dir / INFO_NAME, json.dumps(info) + "\n")

    def counters(self) -> dict[str, int]:
        return {
            "requests": self.requests,
            "rejected": self.rejected,
            "unauthorised": self.unauthorised,
            **self.handshakes,
        }

    # -- serving --------------------------------------------------------------------------------

    def poll(self, timeout_ms: int = 0) -> None:
        """Answer waiting requests; with ``timeout_ms`` wait that long for the first one.

        Called once per step of the supervisor's loop; without a timeout it looks at the socket at
        most once per :data:`POLL_S` of wall time (one ``ZMQ_EVENTS`` read), the TCP endpoint and
        its monitor once per :data:`TCP_POLL_S` (and on every wait), which only delays when a
        request is seen, never its effect.
        """
        if timeout_ms <= 0:
            t = time.monotonic()
            if t < self._due:
                return  # the common case: one clock read per step
            self._due = t + POLL_S
        tcp = self.tcp
        if timeout_ms > 0:
            if tcp is None:
                if not self.sock.poll(timeout_ms):
                    return
            else:
                self._poller.poll(timeout_ms)
        if tcp is not None and (timeout_ms > 0 or time.monotonic() >= self._tcp_due):
            self._tcp_due = time.monotonic() + TCP_POLL_S
            tcp.count_refusals(self.handshakes)  # first, so a status asked for afterwards shows them
            self._serve(self.sock, None)
            if not self.sup.halted:
                self._serve(tcp.sock, tcp)
        elif self.sock.get(_EVENTS) & _POLLIN:
            self._serve(self.sock, None)

    def _serve(self, sock: zmq.Socket, tcp: _TcpEndpoint | None) -> None:
        """Handle up to BATCH requests waiting on one socket."""
        for _ in range(BATCH):
            try:
                parts = sock.recv_multipart(zmq.NOBLOCK, copy=tcp is None)
            except zmq.Again:
                return
            if tcp is None:
                self._handle(parts)
            else:  # frames, not bytes: the last one carries the client's key (User-Id)
                self._handle([p.bytes for p in parts], tcp.client_name(parts[-1]), tcp.sock)
            if self.sup.halted:
                return

    def _handle(self, frames: list[bytes], peer: str | None = None, sock: zmq.Socket | None = None) -> None:
        """One request from the Unix socket (``peer`` None: the run token decides) or from an
        authorised CURVE client (``peer``: its key's name; the key already decided)."""
        sock = sock if sock is not None else self.sock
        self.requests += 1
        if len(frames) != 2:
            self.rejected += 1
            if frames:
                self._reply(sock, frames[0], 0, CtlErrno.BAD_REQUEST, "malformed request: expected one frame")
            return
        identity, frame = frames
        try:
            msg = decode(frame)
            if msg["t"] != "request":
                raise ProtocolError(f"expected a request, not {msg['t']}")
        except ProtocolError as exc:
            self.rejected += 1
            self._reply(sock, identity, 0, CtlErrno.BAD_REQUEST, f"malformed request: {exc}")
            return
        rid, name = msg["id"], msg["cmd"]
        if peer is None and not secrets.compare_digest(msg["token"].encode(), self._token):
            self.rejected += 1
            self.unauthorised += 1
            self._record(name, None, CtlErrno.UNAUTHORISED, REASONS[CtlErrno.UNAUTHORISED], peer)
            self._reply(sock, identity, rid, CtlErrno.UNAUTHORISED)
            return
        cmd = COMMANDS.get(name)
        if cmd is None:
            self.rejected += 1
            self._reply(sock, identity, rid, CtlErrno.UNKNOWN_COMMAND, f"unknown command {name!r}")
            return
        self._run(cmd, sock, identity, rid, msg["props"], peer)

    def _run(
        self, cmd: Command, sock: zmq.Socket, identity: bytes, rid: int, raw_props: dict[Any, Any], peer: str | None
    ) -> None:
        props: dict[str, Any] | None = None
        try:
            props = cmd.validate(raw_props)
            data = cmd.execute(self.sup, props)
        except CommandError as exc:
            if exc.errno == CtlErrno.BAD_REQUEST:
                self.rejected += 1
            if cmd.changes_state:
                self._record(cmd.name, props, exc.errno, exc.reason, peer)
            self._reply(sock, identity, rid, exc.errno, exc.reason)
            return
        except Exception as exc:  # a bug in a command must not take the run down; it is reported
            print(f"prtosd: control command {cmd.name} failed: {type(exc).__name__}: {exc}", file=sys.stderr)
            self._reply(sock, identity, rid, CtlErrno.INTERNAL)
            return
        if cmd.changes_state:
            self._record(cmd.name, props, 0, "ok", peer)
        if data is None and cmd.deferred:
            self.waiters.append((sock, identity, rid))
        else:
            self._reply(sock, identity, rid, 0, "ok", data or {})

    def _reply(
        self,
        sock: zmq.Socket,
        identity: bytes,
        rid: int,
        errno: int,
        reason: str | None = None,
        data: dict[str, Any] | None = None,
    ) -> None:
        fields: dict[str, Any] = {"data": data} if data is not None else {}
        text = reason if reason is not None else REASONS.get(errno, f"error {errno}")
        msg = make("reply", id=rid, status="ok" if errno == 0 else "error", errno=int(errno), reason=text[:4096],
                   **fields)  # fmt: skip
        with contextlib.suppress(zmq.ZMQError):  # a client that went away just misses its reply
            sock.send_multipart([identity, encode(msg)], flags=zmq.NOBLOCK)

    def _record(self, name: str, props: dict[str, Any] | None, errno: int, reason: str, peer: str | None) -> None:
        """One audit line for a state-changing command (or an unauthorised request)."""
        entry = {
            "via": "ipc" if peer is None else f"tcp:{peer}",
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
        for sock, identity, rid in waiters:
            self._reply(sock, identity, rid, 0, "ok", data)

    def close(self) -> None:
        """Answer the last waiters, remove ``ctl.json`` and close the socket (before the context ends)."""
        self.stopped(self.sup.stats.exit_reason or "stopped")
        with contextlib.suppress(FileNotFoundError):
            (self.sup.run_dir / INFO_NAME).unlink()
        self.sock.close(CLOSE_LINGER_MS)
        if self.tcp is not None:
            self.tcp.close()
        self._audit.close()


class _TcpEndpoint:
    """The CURVE-secured ROUTER socket of ``--control``, with the monitor that counts refusals."""

    def __init__(self, conf: TcpControl):
        self.ctx = zmq.Context()
        try:
            self.curve = CurveServer(self.ctx, conf.keys)
        except KeysError as exc:
            self.ctx.term()
            raise ControlSetupError(str(exc)) from None
        self.keys = conf.keys
        self.names = authorized_names(conf.keys)
        self.sock = self.ctx.socket(zmq.ROUTER)
        self.sock.setsockopt(zmq.LINGER, 0)
        self.sock.setsockopt(zmq.MAXMSGSIZE, MAX_FRAME)
        self.curve.secure(self.sock)
        try:
            self.sock.bind(conf.endpoint)
        except zmq.ZMQError as exc:
            self.sock.close(0)
            self.curve.close()
            self.ctx.term()
            raise ControlSetupError(f"cannot listen on {conf.endpoint}: {exc}") from None
        self.endpoint = self.sock.getsockopt(zmq.LAST_ENDPOINT).decode()
        self.monitor = self.sock.get_monitor_socket(HANDSHAKE_FAILED)

    def client_name(self, frame: zmq.Frame) -> str:
        """The authorised key a message came from (its name in ``DIR/authorized``)."""
        try:
            key = frame.get("User-Id")
        except zmq.ZMQError:
            return "?"
        if key not in self.names:  # a key authorised since the start
            self.names = authorized_names(self.keys)
        return self.names.get(key, key)

    def count_refusals(self, counters: dict[str, int]) -> None:
        for event in monitor_events(self.monitor):
            name = HANDSHAKE_EVENTS.get(event)
            if name is not None:
                counters[name] += 1

    def close(self) -> None:
        with contextlib.suppress(zmq.ZMQError):
            self.sock.disable_monitor()
        self.monitor.close(0)
        self.sock.close(CLOSE_LINGER_MS)
        self.curve.close()
        self.ctx.term()
