"""Remote partitions: partition processes on other hosts, joined over ZeroMQ TCP with CURVE.

Rationale (docs/distributed.md)
-------------------------------
``pd:Placement`` names the partitions that run elsewhere. prtosd does not spawn them: it binds
its one vCPU ROUTER a second time, on ``--listen tcp://ADDR:PORT``, with CURVE (only the public
keys in ``--keys DIR/authorized`` are accepted), and waits a bounded time for a
``partitiond --connect`` per remote vCPU. ZeroMQ takes the security options of an endpoint when
it is bound, so the local ``ipc://`` endpoint stays as it was while the TCP one demands CURVE.

Because both endpoints are the same socket, a remote vCPU is served by exactly the code that
serves a local one: the same grants, hypercalls and deterministic ordering, hence the same
console output and traces byte for byte. What differs is kept here, behind the interfaces the
supervisor already uses:

* :class:`RemoteProcess` stands for the process (``poll``/``kill``/``wait`` like a ``Popen``).
  A link is alive while the ROUTER can still route to it (``ROUTER_MANDATORY``: a probe to a
  peer that is gone fails at once; ZMTP heartbeats find a silent network). A lost link or a
  remote that stays silent for longer than its grant timeout is the existing process fault
  (partition panic, HM event, action) — never a hang.
* :class:`RemoteMemory` stands for the partition's :class:`~partitiond.memory.AddressSpace`:
  the layout (``check``, ``find``, ``in_areas``) is a pure function of the configuration and is
  computed here; ``read``/``write`` become ``mem_read``/``mem_write`` messages, which the remote
  process answers whenever it waits for prtosd (between grants, or while its vCPU waits for a
  hypercall result) — exactly when the supervisor touches guest memory. Writes made before the
  partition joins (the image load at start) are kept and sent after the ``welcome``.
* :class:`RemotePhysical` routes the MEM-class copy by physical address to the owner's process
  when the range is one of a remote partition's areas.

The remote host has no ``system.xml`` and no run directory: the ``welcome`` that answers its
``hello`` carries the checked model as JSON, and its memory lives in files of its own.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import zmq

from ipc.messages import MEM_CHUNK, ProtocolError, decode, encode, make
from partitiond.memory import GDT_RESERVE, PAGE_SIZE, AddressSpace, Mapping, MemoryMapError
from partitiond.pct import PCT_ADDR, pct_array_size
from prtosd.commports import PhysicalMemory
from prtosd.config.model import AreaFlag, RemoteHost, System
from prtosd.config.serialize import to_data
from prtosd.keys import AUTHORIZED, HANDSHAKE_FAILED, CurveServer, KeysError, load_public, monitor_events

if TYPE_CHECKING:
    from prtosd.supervisor import Supervisor, VcpuKey, VcpuProcess

#: Wall time prtosd waits at start for the remote partitions (``pd:Placement@connectTimeout``).
CONNECT_TIMEOUT_S = 60.0
#: ZMTP heartbeats on the TCP endpoint: a peer silent at the transport level for this long is
#: disconnected (its process may be busy in a long grant: libzmq answers pings on its own thread).
HEARTBEAT_IVL_MS = 1000
HEARTBEAT_TIMEOUT_MS = 10_000
#: How often prtosd says which remote partitions it is still waiting for.
WAIT_REPORT_S = 5.0
LISTEN_FILE = "listen"  # the bound TCP endpoint (port chosen by the OS with port 0 or *)
_REFUSALS = {
    zmq.EVENT_HANDSHAKE_FAILED_AUTH: "key not authorised",
    zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL: "handshake failed (wrong server key?)",
    zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL: "handshake failed",
}


class RemoteError(Exception):
    """A bad --listen / --keys combination; the message is for the user."""


def grant_timeout_s(host: RemoteHost) -> float:
    """Wall seconds a remote vCPU may stay silent in a grant (``pd:Host@grantTimeout``)."""
    from prtosd.supervisor import REPLY_TIMEOUT_S

    return host.grant_timeout_us / 1e6 if host.grant_timeout_us else REPLY_TIMEOUT_S


class RemoteProcess:
    """The ``Popen`` of a remote vCPU as the supervisor sees it: alive while its link is."""

    def __init__(self, link: RemoteLink, key: VcpuKey, host: RemoteHost):
        self.link, self.key, self.host = link, key, host
        self.identity = b""
        self.pid = 0  # the process id on its own host (from its hello)
        self.returncode: int | None = None
        self.reason = ""
        self.timeout_s = grant_timeout_s(host)

    def lost(self, reason: str) -> None:
        if self.returncode is None:
            self.returncode, self.reason = -1, f'link to remote partition on host "{self.host.name}" lost: {reason}'

    def poll(self) -> int | None:
        if self.returncode is None and self.identity and not self.link.reachable(self.identity):
            self.lost("connection closed")
        return self.returncode

    def kill(self) -> None:
        """A hung remote: we cannot kill it, we stop listening to it (and ask it to quit)."""
        if self.returncode is not None:
            return
        if self.identity:
            self.link.send(self.identity, "quit")
        self.returncode = -1
        self.reason = f'remote partition on host "{self.host.name}" stopped answering for {self.timeout_s:g} s'

    def wait(self, timeout: float | None = None) -> int | None:
        return self.returncode

    def send_signal(self, sig: int) -> None:
        """Signals do not cross hosts; ``quit`` was sent by the supervisor's close."""


class RemoteLinkLost(Exception):
    """The link of a remote partition dropped while prtosd accessed its memory."""

    def __init__(self, key: VcpuKey, reason: str):
        super().__init__(reason)
        self.key, self.reason = key, reason


class RemoteMemory(AddressSpace):
    """A remote partition's address space, reached through its process (see the module docstring).

    The layout is the one :class:`AddressSpace` builds (same mappings, same checks); only host
    access differs, so hypercall handlers use it unchanged.
    """

    def __init__(self, link: RemoteLink, system: System, partition_id: int) -> None:
        self.link = link
        self.system = system
        self.partition = system.partitions[partition_id]
        self.run_dir = Path()
        self._maps, self._anchors = [], []
        mappings = []
        for area in self.partition.areas:
            if area.flags & AreaFlag.UNMAPPED:
                continue
            self._check_area(area.start, area.virt, area.size, area.name)
            writable = not area.flags & (AreaFlag.READ_ONLY | AreaFlag.ROM)
            mappings.append(Mapping(area.virt, area.size, writable, 0, area.name or f"area@{area.start:#x}"))
        self.pct_array_bytes = pct_array_size(self.partition)
        self.gdt_addr = PCT_ADDR + -(-self.pct_array_bytes // 16) * 16
        pct_size = -(-(self.gdt_addr - PCT_ADDR + GDT_RESERVE) // PAGE_SIZE) * PAGE_SIZE
        mappings.append(Mapping(PCT_ADDR, pct_size, False, 0, "PCT"))
        self.mappings = tuple(sorted(mappings, key=lambda m: m.virt))
        self.pending: list[tuple[int, bytes]] = []  # writes made before the partition joined

    @property
    def proc(self) -> RemoteProcess | None:
        """Its (only) vCPU's process; None before start-up has registered it."""
        handle = self.link.handles.get((self.partition.id, 0))
        return handle.handle if handle is not None else None  # type: ignore[return-value]

    def _must_be_mapped(self, addr: int, length: int) -> None:
        for _ in self._span(addr, length):  # raises MemoryMapError like a local address space
            pass

    def read(self, addr: int, length: int) -> bytes:
        """Guest bytes from the remote process; zeros once its link is lost (it is halted then)."""
        self._must_be_mapped(addr, length)
        proc = self.proc
        if proc is None or not proc.identity or proc.returncode is not None:
            return bytes(length)
        out = bytearray()
        for pos in range(addr, addr + length, MEM_CHUNK):
            out += self.link.read(proc, pos, min(MEM_CHUNK, addr + length - pos))
        return bytes(out)

    def write(self, addr: int, data: bytes) -> None:
        """Guest bytes to the remote process (in order with the grant messages that follow)."""
        self._must_be_mapped(addr, len(data))
        proc = self.proc
        if proc is None or not proc.identity:
            self.pending.append((addr, bytes(data)))
            return
        if proc.returncode is not None:
            return  # its link is lost: the partition is halted and cannot be restarted by us
        for off in range(0, len(data), MEM_CHUNK):
            chunk = bytes(data[off : off + MEM_CHUNK])
            if not self.link.send(proc.identity, "mem_write", addr=addr + off, data=chunk):
                proc.lost("connection closed")  # noticed by the grant check; nothing to write to
                return

    def flush(self) -> None:
        pending, self.pending = self.pending, []
        for addr, data in pending:
            self.write(addr, data)

    def map_into(self, uc: Any) -> None:
        raise MemoryMapError("a remote partition's memory cannot be mapped on prtosd's host")

    def close(self) -> None:
        self.pending.clear()


class RemotePhysical:
    """Physical memory for the MEM copy: remote partitions' areas through their processes."""

    def __init__(self, local: PhysicalMemory, memories: dict[int, RemoteMemory]):
        self.local = local
        self.areas = [
            (a.start, a.start + a.size, a.virt, memories[p.id])
            for p in next(iter(memories.values())).system.partitions
            if p.id in memories
            for a in p.areas
            if not a.flags & AreaFlag.UNMAPPED
        ]

    def _remote(self, addr: int, length: int) -> tuple[RemoteMemory, int] | None:
        for start, end, virt, mem in self.areas:
            if start <= addr and addr + length <= end:
                return mem, virt + addr - start
        return None

    def read(self, addr: int, length: int) -> bytes:
        hit = self._remote(addr, length)
        return hit[0].read(hit[1], length) if hit else self.local.read(addr, length)

    def write(self, addr: int, data: bytes) -> None:
        hit = self._remote(addr, len(data))
        if hit:
            hit[0].write(hit[1], data)
        else:
            self.local.write(addr, data)


class RemoteLink:
    """The TCP endpoint of the supervisor's vCPU socket and the remote vCPUs behind it."""

    def __init__(self, sup: Supervisor, listen: str, keys_dir: Path):
        if not listen.startswith("tcp://"):
            raise RemoteError(f"--listen {listen}: expected tcp://ADDRESS:PORT")
        self.sup = sup
        self.listen_spec = listen
        self.keys_dir = keys_dir
        self.curve: CurveServer | None = None
        self.monitor: zmq.Socket | None = None
        self.endpoint = ""
        self.handles: dict[VcpuKey, VcpuProcess] = {}
        self.memories: dict[int, RemoteMemory] = {}
        self.refused: dict[str, int] = {}
        self.host_keys: dict[str, str] = {}  # pd:Host name → the z85 public key it must present
        self._read_id = 0

    # -- start-up -------------------------------------------------------------------------------

    def listen(self) -> None:
        """Bind the CURVE TCP endpoint on the supervisor's socket (after its ipc:// bind)."""
        sock = self.sup.sock
        try:
            self.curve = CurveServer(self.sup.ctx, self.keys_dir)
        except KeysError as exc:
            raise RemoteError(str(exc)) from None
        self.curve.secure(sock)
        for host in self.sup.system.placement.hosts if self.sup.system.placement else ():
            if host.key is None:
                continue
            path = self.keys_dir / AUTHORIZED / f"{host.key}.key"
            if not path.is_file():
                where = f'{self.sup.config_path}:{host.line}: pd:Host "{host.name}"'
                raise RemoteError(f'{where}: key "{host.key}" is not authorised ({path} is missing)')
            self.host_keys[host.name] = load_public(path).decode("ascii")  # z85, as ZAP reports it
        sock.setsockopt(zmq.HEARTBEAT_IVL, HEARTBEAT_IVL_MS)
        sock.setsockopt(zmq.HEARTBEAT_TIMEOUT, HEARTBEAT_TIMEOUT_MS)
        self.monitor = sock.get_monitor_socket(HANDSHAKE_FAILED)
        spec = self.listen_spec
        if spec.endswith(":0"):
            spec = spec[:-2] + ":*"  # ZeroMQ's spelling of "any free port"
        try:
            sock.bind(spec)
        except zmq.ZMQError as exc:
            raise RemoteError(f"cannot listen on {self.listen_spec}: {exc}") from None
        self.endpoint = sock.getsockopt_string(zmq.LAST_ENDPOINT)
        fd = os.open(self.sup.run_dir / LISTEN_FILE, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(self.endpoint + "\n")

    def memory(self, pid: int) -> RemoteMemory:
        mem = self.memories[pid] = RemoteMemory(self, self.sup.system, pid)
        return mem

    def physical(self, local: PhysicalMemory) -> PhysicalMemory:
        return RemotePhysical(local, self.memories) if self.memories else local

    def expect(self, key: VcpuKey) -> None:
        """A remote vCPU prtosd waits for instead of spawning it."""
        from prtosd.supervisor import VcpuProcess

        host = self.sup.system.host_of(key[0])
        assert host is not None
        self.handles[key] = VcpuProcess(key, b"", RemoteProcess(self, key, host))  # type: ignore[arg-type]

    def hello(self, identity: bytes, msg: dict[str, Any], frame: zmq.Frame) -> None:
        """A ``hello`` with no token: a remote partition process joining (it passed CURVE)."""
        key = (msg["partition"], msg["vcpu"])
        try:
            client_key = frame.get("User-Id")  # the z85 public key ZAP accepted; absent over ipc://
        except zmq.ZMQError:
            client_key = ""
        proc = self.handles.get(key)
        if proc is None:
            host = self.sup.system.host_of(key[0]) if key[0] < len(self.sup.system.partitions) else None
            if key[0] >= len(self.sup.system.partitions):
                reason = f"there is no partition {key[0]}"
            elif host is None:
                reason = f"partition {key[0]} is not placed on another host (pd:Placement)"
            else:
                reason = f"partition {key[0]} has no vCPU {key[1]} placed on a host"
            self._refuse(identity, reason)
            return
        remote: RemoteProcess = proc.handle  # type: ignore[assignment]
        if not client_key:
            self._refuse(identity, "a remote partition joins over --listen with a CURVE key")
            return
        wanted = self.host_keys.get(remote.host.name)
        if wanted is not None and client_key != wanted:
            host = remote.host
            self._refuse(identity, f'partition {key[0]} runs on host "{host.name}": only key "{host.key}" may run it')
            return
        if proc.connected:
            self._refuse(identity, f"partition {key[0]} vCPU {key[1]} is already connected")
            return
        remote.identity, remote.pid = identity, msg["pid"]
        proc.identity, proc.connected = identity, True
        self.sup.by_identity[identity] = proc
        self.send(identity, "welcome", config=json.dumps(to_data(self.sup.system), separators=(",", ":")))
        self.memories[key[0]].flush()
        print(f'prtosd: partition {key[0]} joined from host "{remote.host.name}"', file=sys.stderr)

    def _refuse(self, identity: bytes, reason: str) -> None:
        self.sup.stats.rejected += 1
        self.send(identity, "refused", reason=reason)
        print(f"prtosd: refused a remote partition: {reason}", file=sys.stderr)

    def wait(self) -> None:
        """Wait (bounded) until every remote vCPU has joined, then hand them to the supervisor."""
        placement = self.sup.system.placement
        limit = placement.connect_timeout_us / 1e6 if placement and placement.connect_timeout_us else CONNECT_TIMEOUT_S
        start = time.monotonic()
        next_report = start + WAIT_REPORT_S
        while missing := [k for k, p in self.handles.items() if not p.connected]:
            now = time.monotonic()
            self.drain_monitor()
            if now - start >= limit:
                raise RemoteError(f"remote partitions did not connect within {limit:g} s: {self._describe(missing)}")
            if now >= next_report:
                next_report = now + WAIT_REPORT_S
                print(f"prtosd: waiting for {self._describe(missing)}", file=sys.stderr)
            if self.sup.sock.poll(int(min(limit - (now - start), 0.2) * 1000)):
                self.sup._accept_hello()
        self.sup.procs = dict(sorted({**self.sup.procs, **self.handles}.items()))

    def _describe(self, missing: list[VcpuKey]) -> str:
        names = ", ".join(f'partition {k[0]} (host "{self.handles[k].handle.host.name}")' for k in missing)  # type: ignore[attr-defined]
        text = f"{names} on {self.endpoint}"
        if self.refused:
            text += "; refused connections: " + ", ".join(f"{n} × {why}" for why, n in sorted(self.refused.items()))
        return text

    def drain_monitor(self) -> None:
        """Count refused connection attempts (ZAP denials, failed CURVE handshakes)."""
        if self.monitor is None:
            return
        for event in monitor_events(self.monitor):
            why = _REFUSALS.get(event)
            if why is not None:
                self.refused[why] = self.refused.get(why, 0) + 1
                if self.refused[why] == 1:  # peers retry every 100 ms: the rest are counted, not printed
                    print(f"prtosd: refused a connection on {self.endpoint}: {why}", file=sys.stderr)

    # -- the run --------------------------------------------------------------------------------

    def send(self, identity: bytes, t: str, **fields: Any) -> bool:
        """Send to a remote peer; False if it cannot be routed to any more (its link is gone)."""
        try:
            self.sup.sock.send_multipart([identity, encode(make(t, **fields))], flags=zmq.NOBLOCK)
        except zmq.Again:
            return True  # queue full: the peer is slow, not gone (the grant timeout decides)
        except zmq.ZMQError:
            return False
        return True

    def reachable(self, identity: bytes) -> bool:
        return self.send(identity, "ping")

    def read(self, proc: RemoteProcess, addr: int, length: int) -> bytes:
        """One ``mem_read`` round trip; other messages that arrive meanwhile are kept for later."""
        self._read_id += 1
        rid = self._read_id
        if not self.send(proc.identity, "mem_read", id=rid, addr=addr, len=length):
            proc.lost("connection closed")
            raise RemoteLinkLost(proc.key, proc.reason)
        deadline = time.monotonic() + proc.timeout_s
        sock = self.sup.sock
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                proc.kill()
                raise RemoteLinkLost(proc.key, proc.reason)
            if not sock.poll(int(min(left, 0.2) * 1000)):
                if not self.reachable(proc.identity):
                    proc.lost("connection closed")
                    raise RemoteLinkLost(proc.key, proc.reason)
                continue
            identity, *frames = sock.recv_multipart()
            if identity == proc.identity and len(frames) == 1:
                with contextlib.suppress(ProtocolError):
                    msg = decode(frames[0])
                    if msg["t"] == "mem_data" and msg["id"] == rid:
                        if not msg["ok"] or len(msg["data"]) != length:
                            raise MemoryMapError(f"remote partition {proc.key[0]} cannot read {addr:#x}+{length}")
                        return msg["data"]
            self.sup._stash.append([identity, *frames])  # for the loop that serves grants

    def close(self) -> None:
        """Before the context is terminated: let the ``quit`` reach the remote processes (they
        disconnect on it; bounded), then stop the authenticator and the monitor."""
        for key, h in self.handles.items():
            if h.connected and key not in self.sup.procs:  # joined, but start-up was interrupted
                self.send(h.identity, "quit")
        deadline = time.monotonic() + 2.0
        while time.monotonic() < deadline and any(
            h.connected and h.handle.returncode is None and self.reachable(h.identity) for h in self.handles.values()
        ):
            self.sup.sock.poll(20)  # nothing to read; just a bounded pause between probes
        if self.monitor is not None:
            with contextlib.suppress(zmq.ZMQError):
                self.sup.sock.disable_monitor()
            self.monitor.close(0)
            self.monitor = None
        if self.curve is not None:
            self.curve.close()
            self.curve = None
