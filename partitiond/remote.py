"""``partitiond --connect``: a partition vCPU on another host, joining prtosd over TCP with CURVE.

Why a variant of :class:`~partitiond.process.PartitionProcess` and not a new engine: the grant
loop, the hypercall forwarding and the console path are the same code, so a remote partition
behaves exactly like a local one (docs/distributed.md). What differs:

* it connects a CURVE client socket (``--key`` client secret, ``--server-key`` prtosd's public
  key) and says ``hello`` without a token; prtosd answers ``welcome`` with the checked model as
  JSON (this host has no ``system.xml``) or ``refused`` with the reason;
* its memory is private: the files behind its address space live in a fresh directory of its
  own (made under ``--work-dir`` or the temp dir, removed at exit), and prtosd reads and
  writes guest memory — hypercall buffers, images at a cold reset — with ``mem_read`` /
  ``mem_write`` messages, answered whenever the process waits for prtosd;
* it has no parent to watch: a lost link (ZMTP heartbeats, a closed connection) ends it.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import zmq

from ipc.messages import ProtocolError, decode, encode, make
from partitiond.memory import MemoryMapError
from partitiond.process import POLL_MS, PartitionProcess, SupervisorGone
from prtosd.config.model import System
from prtosd.config.serialize import from_data
from prtosd.keys import HANDSHAKE_FAILED, KeysError, monitor_events, secure_client

#: Must be at least prtosd's HEARTBEAT_IVL_MS; a silent link is dropped after HEARTBEAT_TIMEOUT_MS.
HEARTBEAT_IVL_MS = 1000
HEARTBEAT_TIMEOUT_MS = 10_000
CONNECT_TIMEOUT_S = 60.0
EXIT_USAGE, EXIT_REFUSED, EXIT_LINK = 2, 3, 4


class JoinError(Exception):
    """The partition could not join prtosd; the message is for the user."""

    def __init__(self, message: str, code: int = EXIT_REFUSED):
        super().__init__(message)
        self.code = code


class LinkLost(Exception):
    """The connection to prtosd dropped during the run."""


def join(sock: zmq.Socket, monitor: zmq.Socket, partition: int, vcpu: int, timeout_s: float) -> System:
    """Say hello and wait for the model; refusals and failed handshakes are clear errors."""
    sock.send(encode(make("hello", partition=partition, vcpu=vcpu, pid=os.getpid(), token="")))
    deadline = time.monotonic() + timeout_s
    failed_handshakes = 0
    while (left := deadline - time.monotonic()) > 0:
        for event in monitor_events(monitor):
            if event == zmq.EVENT_HANDSHAKE_FAILED_AUTH:
                raise JoinError("prtosd refused our key (it is not in its authorized keys: check --key)")
            if event in (zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL, zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL):
                failed_handshakes += 1
        if not sock.poll(int(min(left, 0.2) * 1000)):
            continue
        try:
            msg = decode(sock.recv())
        except ProtocolError as exc:
            raise JoinError(f"prtosd sent a malformed answer: {exc}") from None
        if msg["t"] == "refused":
            raise JoinError(f"prtosd refused partition {partition} vCPU {vcpu}: {msg['reason']}")
        if msg["t"] == "welcome":
            try:
                return from_data(json.loads(msg["config"]))
            except (ValueError, KeyError, TypeError) as exc:
                raise JoinError(f"prtosd sent a configuration this partitiond cannot read: {exc}") from None
    hint = " (CURVE handshakes failed: wrong --server-key?)" if failed_handshakes else ""
    raise JoinError(f"no answer from prtosd within {timeout_s:g} s{hint}", EXIT_LINK)


class RemotePartitionProcess(PartitionProcess):
    """One remote vCPU: the local process's grant loop, plus memory requests and link watch."""

    def __init__(self, sock: zmq.Socket, monitor: zmq.Socket, system: System, partition: int, vcpu: int,
                 work_dir: Path) -> None:  # fmt: skip
        self.setup_vcpu(system, partition, vcpu, work_dir)  # from the model prtosd sent
        self.sock = sock
        self.monitor = monitor

    def recv(self) -> dict[str, Any]:
        """The next grant-level message; memory requests are answered on the way."""
        while True:
            if not self.sock.poll(POLL_MS):
                if zmq.EVENT_DISCONNECTED in monitor_events(self.monitor):
                    raise LinkLost
                continue
            try:
                msg = decode(self.sock.recv())
            except ProtocolError as exc:  # never fatal: report and wait for the next message
                print(f"partitiond: rejected a malformed message: {exc}", file=sys.stderr)
                continue
            t = msg["t"]
            if t == "mem_read":
                self.mem_read(msg)
            elif t == "mem_write":
                try:
                    self.memory.write(msg["addr"], msg["data"])
                except MemoryMapError as exc:
                    print(f"partitiond: {exc}", file=sys.stderr)
            elif t != "ping":
                return msg

    def mem_read(self, msg: dict[str, Any]) -> None:
        try:
            data, ok = self.memory.read(msg["addr"], msg["len"]), 1
        except MemoryMapError:
            data, ok = b"", 0
        self.send("mem_data", id=msg["id"], data=data, ok=ok)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="partitiond --connect", description="Run one vCPU of a partition placed on this host (pd:Placement)."
    )
    parser.add_argument("--connect", required=True, metavar="tcp://ADDR:PORT", help="prtosd's --listen endpoint")
    parser.add_argument("--partition", type=int, required=True, help="partition id")
    parser.add_argument("--vcpu", type=int, default=0, help="vCPU id (default 0)")
    parser.add_argument("--key", type=Path, required=True, help="this host's client key pair (NAME.key_secret)")
    parser.add_argument("--server-key", type=Path, required=True, help="prtosd's public key (server.key)")
    parser.add_argument("--timeout", type=float, default=CONNECT_TIMEOUT_S, help="seconds to wait for prtosd")
    parser.add_argument(
        "--work-dir", type=Path, help="where the fresh directory for the memory files is made (default: the temp dir)"
    )
    args = parser.parse_args(argv)
    if not args.connect.startswith("tcp://"):
        print(f"partitiond: --connect {args.connect}: expected tcp://ADDRESS:PORT", file=sys.stderr)
        return EXIT_USAGE
    ctx = zmq.Context()
    sock = ctx.socket(zmq.DEALER)
    sock.setsockopt(zmq.LINGER, 1000)
    sock.setsockopt(zmq.HEARTBEAT_IVL, HEARTBEAT_IVL_MS)
    sock.setsockopt(zmq.HEARTBEAT_TIMEOUT, HEARTBEAT_TIMEOUT_MS)
    monitor = sock.get_monitor_socket(zmq.EVENT_DISCONNECTED | HANDSHAKE_FAILED)  # fmt: skip
    proc: RemotePartitionProcess | None = None
    work: Path | None = None
    try:
        secure_client(sock, args.key, args.server_key)
        sock.connect(args.connect)
        system = join(sock, monitor, args.partition, args.vcpu, args.timeout)
        if args.work_dir is not None:
            args.work_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        # Always a new, empty directory: memory starts zeroed, as in a local run directory.
        work = Path(tempfile.mkdtemp(prefix=f"partitiond-{args.partition}-{args.vcpu}-", dir=args.work_dir))
        proc = RemotePartitionProcess(sock, monitor, system, args.partition, args.vcpu, work)
        print(f"partitiond: partition {args.partition} vCPU {args.vcpu} joined {args.connect}", file=sys.stderr)
        proc.serve()
    except (KeysError, OSError, zmq.ZMQError) as exc:
        print(f"partitiond: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except JoinError as exc:
        print(f"partitiond: {exc}", file=sys.stderr)
        return exc.code
    except LinkLost:
        print(f"partitiond: link to prtosd at {args.connect} lost", file=sys.stderr)
        return EXIT_LINK
    except (SupervisorGone, KeyboardInterrupt):
        pass
    finally:
        if proc is not None:
            proc.memory.close()
        sock.disable_monitor()
        monitor.close(0)
        sock.close(0)
        ctx.term()
        if work is not None:
            shutil.rmtree(work, ignore_errors=True)
    return 0
