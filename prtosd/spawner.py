"""Starting partition processes: from a pre-loaded fork server, or as fresh interpreters.

Why a fork server
-----------------
A partition process started as ``python -m partitiond`` pays an interpreter start, the imports
of Unicorn, ZeroMQ, lxml and the configuration model, and a reload of ``system.xml`` — about
0.5 s of CPU per vCPU, which dominated the start-up of every run. The fork server is started
once per run as a fresh interpreter (``python -m prtosd.spawner``, fork+exec from prtosd, so it
never inherits prtosd's ZeroMQ context or threads). It imports partitiond and loads the
configuration once, then forks one child per request; a child is ready to connect within
milliseconds and shares the server's pages copy-on-write.

Supervision is unchanged: every child is tracked by pid (signals go through psutil, which
refuses a reused pid), writes its stdout/stderr to ``run_dir/partitiond-P-V.log``, runs in its
own session, and is reaped by the fork server, which reports its exit status to prtosd (so
"exited with status -9" still names the signal). The fork server exits when prtosd closes the
request pipe — also when prtosd is killed -9 — and each child notices its parent is gone
(partitiond's parent check) and exits: no orphans.

:class:`ExecSpawner` keeps the old way (``PRTOSD_SPAWN=exec``); it is the reference of the
start-up benchmark. Both hand out the same small :class:`ProcessHandle` interface (pid, poll,
wait, kill, send_signal), which is all the supervisor uses, so a partition process that is not
a local child can fit behind it too.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import gc
import os
import selectors
import signal
import subprocess
import sys
import time
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import msgpack

if TYPE_CHECKING:
    import psutil

#: Wall seconds the fork server may take to import partitiond and load the configuration.
READY_TIMEOUT_S = 60.0
#: Exit status reported for a child whose fork server vanished before reporting it.
STATUS_LOST = 255

VcpuKey = tuple[int, int]


class SpawnError(Exception):
    """A partition process could not be started; the message is for the user."""


class ProcessHandle(Protocol):
    """What the supervisor needs of one partition process."""

    pid: int

    def poll(self) -> int | None:
        """The exit status (negative: killed by that signal), or None while it runs."""

    def wait(self, timeout: float | None = None) -> int:
        """Wait for the exit status; raises :class:`subprocess.TimeoutExpired` after ``timeout``."""

    def kill(self) -> None: ...

    def send_signal(self, sig: int) -> None: ...


class Spawner(Protocol):
    """Starts the partition process of one vCPU."""

    def request(self, key: VcpuKey) -> None:
        """Ask for the process now; :meth:`spawn` of the same key takes it (meanwhile, the caller
        goes on with its own start-up)."""

    def spawn(self, key: VcpuKey) -> ProcessHandle: ...

    def close(self) -> None: ...


def log_path(run_dir: Path, key: VcpuKey) -> Path:
    """Where a partition process's stdout and stderr go."""
    return run_dir / f"partitiond-{key[0]}-{key[1]}.log"


# -- the old way: one fresh interpreter per vCPU ----------------------------------------------------


class ExecSpawner:
    """``python -m partitiond`` per vCPU (no shared state; about 0.5 s of CPU each)."""

    def __init__(self, config: Path, run_dir: Path, endpoint: str, token_file: Path):
        self.config, self.run_dir, self.endpoint, self.token_file = config, run_dir, endpoint, token_file

    def request(self, key: VcpuKey) -> None:
        pass  # a fresh interpreter is started by spawn(), which does not wait for it anyway

    def spawn(self, key: VcpuKey) -> subprocess.Popen[bytes]:
        cmd = [
            sys.executable, "-m", "partitiond",
            "--config", str(self.config), "--run-dir", str(self.run_dir), "--endpoint", self.endpoint,
            "--partition", str(key[0]), "--vcpu", str(key[1]), "--token-file", str(self.token_file),
        ]  # fmt: skip
        with log_path(self.run_dir, key).open("wb") as log:
            return subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)

    def close(self) -> None:
        pass


# -- the fork server, prtosd's side -----------------------------------------------------------------


class ForkedProcess:
    """A child of the fork server; its exit status arrives through the server's reply pipe."""

    def __init__(self, server: ForkServer, pid: int):
        self.server = server
        self.pid = pid
        self.returncode: int | None = None
        import psutil  # here: `prtosd start` imports this module before launching the fork server

        try:
            self._ps: psutil.Process | None = psutil.Process(pid)
        except psutil.Error:
            self._ps = None  # already gone: its exit report is on the way

    def poll(self) -> int | None:
        if self.returncode is None:
            self.server.drain(0)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                raise subprocess.TimeoutExpired(f"partition process {self.pid}", timeout or 0.0)
            self.server.drain(0.5 if left is None else min(left, 0.5))
        assert self.returncode is not None
        return self.returncode

    def send_signal(self, sig: int) -> None:
        if self.poll() is None and self._ps is not None:
            import psutil

            with contextlib.suppress(psutil.NoSuchProcess):  # psutil checks the pid was not reused
                self._ps.send_signal(sig)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


class ForkServer:
    """prtosd's end of the fork server: spawn requests out, pids and exit statuses back."""

    def __init__(self, config: Path | None, log: Path | None = None):
        """Start the server; it imports and loads while the caller goes on (see :func:`prestart`).

        ``config`` None: the server imports, then waits for :meth:`load` to name the configuration
        (see :func:`prelaunch`). ``log``: the server's own stderr (default: ours — it is quiet
        unless something is wrong).
        """
        self.config = config.resolve() if config is not None else None
        self.run_dir: Path | None = None
        self.endpoint = ""
        self.token_file = Path()
        self.log = log
        with contextlib.ExitStack() as stack:
            err = stack.enter_context(log.open("wb")) if log is not None else None
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "prtosd.spawner", *(["--config", str(self.config)] if self.config else [])],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err, start_new_session=True,
            )  # fmt: skip
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self._out = self.proc.stdin
        self._in = self.proc.stdout.fileno()
        os.set_blocking(self._in, False)
        self._unpacker = msgpack.Unpacker()
        self._children: dict[int, ForkedProcess] = {}
        self._early: dict[int, int] = {}  # exit statuses that arrived before their spawn reply
        self._spawned: list[dict[str, Any]] = []
        self._requested: set[VcpuKey] = set()
        self.ready = False
        self.error: str | None = None
        self.gone = False

    def load(self, config: Path) -> None:
        """Name the configuration to a server started without one (it loads it once imported)."""
        self.config = config.resolve()
        self._out.write(msgpack.packb({"op": "load", "config": str(self.config)}))
        self._out.flush()

    def bind(self, run_dir: Path, endpoint: str, token_file: Path) -> ForkServer:
        """The run its children belong to: their logs, the supervisor's endpoint, the token."""
        self.run_dir, self.endpoint, self.token_file = run_dir, endpoint, token_file
        if self.log is None:  # started before the run directory existed: its diagnostics go there now
            self.log = run_dir / "forkserver.log"
            with contextlib.suppress(OSError):
                self._out.write(msgpack.packb({"op": "log", "path": str(self.log)}))
                self._out.flush()
        return self

    def _handle(self, msg: dict[str, Any]) -> None:
        if msg["t"] == "ready":
            self.ready = True
        elif msg["t"] == "error":
            self.error = msg["msg"]
        elif msg["t"] in ("spawned", "failed"):
            self._spawned.append(msg)
        elif msg["t"] == "exit":
            child = self._children.get(msg["pid"])
            if child is not None:
                child.returncode = msg["status"]
            else:
                self._early[msg["pid"]] = msg["status"]

    def drain(self, timeout: float) -> None:
        """Read whatever the server has said, waiting up to ``timeout`` seconds for something."""
        if self.gone:
            return
        if timeout > 0:
            with selectors.DefaultSelector() as sel:
                sel.register(self._in, selectors.EVENT_READ)
                sel.select(timeout)
        while True:
            try:
                data = os.read(self._in, 65536)
            except BlockingIOError:
                return
            if not data:
                self._lost()
                return
            self._unpacker.feed(data)
            for msg in self._unpacker:
                self._handle(msg)

    def _lost(self) -> None:
        """The server is gone: its children exit on their own (their parent is gone)."""
        self.gone = True
        for child in self._children.values():
            if child.returncode is None:
                child.returncode = STATUS_LOST

    def _failure(self) -> str:
        if self.error:
            return self.error
        if self.log is not None:
            with contextlib.suppress(OSError):
                tail = self.log.read_text(errors="replace")[-2000:].strip()
                if tail:
                    return f"the partition fork server exited:\n{tail}"
        return "the partition fork server exited"

    def request(self, key: VcpuKey) -> None:
        """Send the spawn request: the server forks as soon as it is ready, while we go on."""
        assert self.run_dir is not None, "bind() the fork server to a run first"
        request = {"op": "spawn", "partition": key[0], "vcpu": key[1], "log": str(log_path(self.run_dir, key))}
        request |= {"run_dir": str(self.run_dir), "endpoint": self.endpoint, "token_file": str(self.token_file)}
        try:
            self._out.write(msgpack.packb(request))
            self._out.flush()
        except OSError:
            self.drain(0)
            raise SpawnError(self._failure()) from None
        self._requested.add(key)

    def spawn(self, key: VcpuKey) -> ForkedProcess:
        if key not in self._requested:
            self.request(key)
        self._requested.discard(key)
        deadline = time.monotonic() + READY_TIMEOUT_S
        while True:
            for i, msg in enumerate(self._spawned):
                if tuple(msg["key"]) == key:
                    del self._spawned[i]
                    if msg["t"] == "failed":
                        raise SpawnError(f"partition {key[0]} vCPU {key[1]}: {msg['msg']}")
                    child = ForkedProcess(self, msg["pid"])
                    self._children[child.pid] = child
                    if child.pid in self._early:
                        child.returncode = self._early.pop(child.pid)
                    return child
            if self.error or self.gone:
                raise SpawnError(self._failure())
            left = deadline - time.monotonic()
            if left <= 0:
                raise SpawnError(f"the partition fork server did not answer within {READY_TIMEOUT_S:g} s")
            self.drain(min(left, 0.5))

    def discard(self) -> None:
        """Stop a server that has no children yet (no run took it): no need to let it finish loading."""
        with contextlib.suppress(OSError):
            self._out.close()
        self.proc.kill()  # ours, by pid
        self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self.gone = True

    def close(self) -> None:
        """Close the request pipe: the server exits (its children have been stopped by then)."""
        with contextlib.suppress(OSError):
            self._out.close()
        deadline = time.monotonic() + 5.0
        while not self.gone and (left := deadline - time.monotonic()) > 0:
            self.drain(left)  # its reply pipe closes as it exits: no polling of its pid meanwhile
        try:
            self.proc.wait(timeout=max(0.0, deadline - time.monotonic()) + 0.1)
        except subprocess.TimeoutExpired:
            self.proc.kill()  # ours, by pid
            self.proc.wait()
        self.drain(0)
        if self.proc.stdout is not None:
            self.proc.stdout.close()


#: A fork server started early by :func:`prestart`, waiting for :func:`make_spawner` to take it.
_prestarted: ForkServer | None = None


def _mode() -> str:
    mode = os.environ.get("PRTOSD_SPAWN", "fork")
    if mode not in ("fork", "exec"):
        raise SpawnError(f'PRTOSD_SPAWN must be "fork" or "exec", not "{mode}"')
    return mode


def prelaunch() -> None:
    """Start the fork server before anything else of ``prtosd start`` is imported (the command's
    own imports and the server's then overlap from the first millisecond); :func:`prestart` names
    the configuration once the command line is parsed."""
    global _prestarted
    with contextlib.suppress(SpawnError, OSError):
        if _prestarted is None and _mode() == "fork":
            _prestarted = ForkServer(None)


def prestart(config: Path) -> None:
    """Start the fork server now, so that its imports overlap prtosd's own start-up (imports,
    configuration checks, image builds); :func:`make_spawner` picks it up. Harmless if prtosd
    never gets that far: the server exits when prtosd does (its request pipe closes), and
    :func:`discard_prestarted` stops it at once when prtosd goes on living (an in-process caller).
    A server :func:`prelaunch` started is told the configuration instead."""
    global _prestarted
    if _prestarted is not None and _prestarted.config is None and not _prestarted.gone:
        try:
            _prestarted.load(config)
            return
        except OSError:
            discard_prestarted()
    if _prestarted is not None and (_prestarted.config != config.resolve() or _prestarted.gone):
        discard_prestarted()  # left by an earlier start in this process that stopped before running
    with contextlib.suppress(SpawnError, OSError):
        if _prestarted is None and _mode() == "fork":
            _prestarted = ForkServer(config)


def discard_prestarted() -> None:
    """Stop a fork server :func:`prestart` started that no run took (the start stopped early)."""
    global _prestarted
    server, _prestarted = _prestarted, None
    if server is not None:
        server.discard()


def make_spawner(config: Path, run_dir: Path, endpoint: str, token_file: Path) -> Spawner:
    """The fork server (the one :func:`prestart` started for this config, if any), or fresh
    interpreters with ``PRTOSD_SPAWN=exec``."""
    global _prestarted
    if _mode() == "exec":
        return ExecSpawner(config, run_dir, endpoint, token_file)
    server, _prestarted = _prestarted, None
    if server is None or server.config != config.resolve() or server.gone:
        if server is not None:
            server.close()
        server = ForkServer(config, run_dir / "forkserver.log")
    return server.bind(run_dir, endpoint, token_file)


# -- the fork server itself (python -m prtosd.spawner) ----------------------------------------------


PR_SET_THP_DISABLE = 41


def _no_huge_pages() -> None:
    """Transparent huge pages off for this process: Unicorn reserves a 1 GiB code buffer per
    engine and the first translation would fault in a whole 2 MiB page of it (twice per vCPU);
    with 4 KiB pages a small guest's code costs what it uses."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0)


def _child(req: dict[str, Any], system: Any, parent: int, close_fds: list[int], ready: int) -> None:
    """In the forked child: become the partition process of one vCPU; never returns.

    Closing ``ready`` tells the server the child is in its own session, so the pid it reports
    is already that of a session leader.
    """
    code = 1
    try:
        os.setsid()
        os.close(ready)
        _no_huge_pages()
        for fd in close_fds:
            with contextlib.suppress(OSError):
                os.close(fd)
        log = os.open(req["log"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(log, 1)
        os.dup2(log, 2)
        os.close(log)
        os.close(null)
        from partitiond.process import run

        run_dir, token_file = Path(req["run_dir"]), Path(req["token_file"])
        code = run(system, run_dir, req["endpoint"], req["partition"], req["vcpu"], token_file, parent)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:
        traceback.print_exc()
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


def _await_config(req_fd: int, unpacker: msgpack.Unpacker) -> Path | None:
    """The configuration named by the first request (``load``), or None if the pipe closes first."""
    while True:
        for req in unpacker:
            if req.get("op") == "load":
                return Path(req["config"])
        data = os.read(req_fd, 65536)
        if not data:
            return None
        unpacker.feed(data)


def serve(config: Path | None) -> int:
    """Pre-load, say ``ready``, then fork a child per request and report exits until stdin closes.

    Without ``config``, the first request names it (``load``): the server was started before
    prtosd had parsed its command line, and imports meanwhile.
    """
    req_fd, reply_fd = os.dup(0), os.dup(1)
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(2, 1)  # our own prints go to forkserver.log, never into the reply pipe
    os.close(null)

    def reply(msg: dict[str, Any]) -> None:
        data = msgpack.packb(msg)
        while data:
            data = data[os.write(reply_fd, data) :]

    try:
        import partitiond.process  # noqa: F401  (the point: every child starts with it imported)
        from prtosd.config import ConfigError, load_system

        unpacker = msgpack.Unpacker()
        if config is None and (config := _await_config(req_fd, unpacker)) is None:
            return 0  # prtosd stopped before naming a configuration

        try:
            system = load_system(config, checks=False)
        except ConfigError as exc:
            reply({"t": "error", "msg": f"partition fork server: {config}: {len(exc.errors)} configuration error(s)"})
            return 2
        except OSError as exc:
            reply({"t": "error", "msg": f"partition fork server: {exc}"})
            return 2
        gc.collect()
        gc.freeze()  # children's collections skip what we loaded: its pages stay shared, not copied
        reply({"t": "ready"})
        sel = selectors.DefaultSelector()
        sel.register(req_fd, selectors.EVENT_READ, None)

        def handle(req: dict[str, Any]) -> None:
            sys.stdout.flush()
            sys.stderr.flush()
            if req["op"] == "log":
                log = os.open(req["path"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
                os.dup2(log, 1)
                os.dup2(log, 2)
                os.close(log)
                return
            me = os.getpid()
            ready_r, ready_w = os.pipe()
            try:
                pid = os.fork()
            except OSError as exc:  # out of processes or memory: that vCPU's start fails
                os.close(ready_r)
                os.close(ready_w)
                reply({"t": "failed", "key": [req["partition"], req["vcpu"]], "msg": f"fork: {exc}"})
                return
            if pid == 0:
                pidfds = [k.fd for k in sel.get_map().values() if k.data is not None]
                _child(req, system, me, [req_fd, reply_fd, sel.fileno(), ready_r, *pidfds], ready_w)
            os.close(ready_w)
            os.read(ready_r, 1)  # EOF once the child has its own session (or has died)
            os.close(ready_r)
            sel.register(os.pidfd_open(pid), selectors.EVENT_READ, pid)
            reply({"t": "spawned", "key": [req["partition"], req["vcpu"]], "pid": pid})

        while True:
            for req in unpacker:  # also those that came along with the configuration's name
                handle(req)
            for skey, _ in sel.select():
                if skey.data is not None:  # a child's pidfd: it exited
                    pid = skey.data
                    sel.unregister(skey.fd)
                    os.close(skey.fd)
                    _, status = os.waitpid(pid, 0)
                    reply({"t": "exit", "pid": pid, "status": os.waitstatus_to_exitcode(status)})
                    continue
                data = os.read(req_fd, 65536)
                if not data:
                    return 0  # prtosd closed the pipe or is gone: our children notice on their own
                unpacker.feed(data)
    except BrokenPipeError:
        return 0  # prtosd is gone


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="prtosd.spawner", description="Partition fork server (started by prtosd).")
    parser.add_argument("--config", type=Path, help="default: named by the first request")
    args = parser.parse_args(argv)
    code = serve(args.config)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)  # nothing to clean up: skip the interpreter's teardown of every module


if __name__ == "__main__":
    sys.exit(main())
