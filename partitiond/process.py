"""The partition process: one vCPU, executing guest code only inside grants from prtosd.

Protocol (ipc.messages): the process connects a DEALER socket to the supervisor's ROUTER and says
``hello``. Then it only reacts:

* ``reset`` / ``halt`` change the vCPU between grants (prtosd has already put the image in the
  shared memory files for a cold reset);
* ``run`` grants execution from virtual µs ``now`` to ``until``. Guest code runs in the engine;
  local hypercalls never leave the process; a console write is sent as a ``console`` message
  (no answer needed); any other hypercall, and every CPU exception, is sent to prtosd and the
  vCPU waits for ``hcall_ret``. The grant ends with a ``result`` (budget used up, idle, stopped
  by prtosd, halted);
* ``quit`` ends the process.

Strict gating: outside a grant the process is blocked in ``recv``; it never executes guest code
on its own. Time inside a grant is the engine's instruction clock, so every reply carries an
exact virtual time. If the supervisor goes away the process exits (receive timeout + parent check).

Every grant costs one round trip and every forwarded hypercall another, so the transport is kept
lean: one blocking ``recv`` per message (``RCVTIMEO`` is the tick of the parent check, no poller),
one validation per message sent (:func:`ipc.messages.pack`). Queuing sends and receives that
prtosd gave credit for are completed here and logged on the next message (partitiond.credits).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

import zmq

from hm.audit import EVENT, SHIP_MAX
from ipc.messages import PROTOCOL_VERSION, SPIN_NEVER, ProtocolError, decode, pack, pack_unchecked
from partitiond.credits import PortCredits
from partitiond.memory import AddressSpace
from partitiond.vcpu import ResetMode, RunKind, VCpu
from prtosd.config import ConfigError, load_system
from prtosd.config.model import System

HC_WRITE_OBJECT = 12
OBJ_CLASS_CONSOLE = 1
MAX_CONSOLE_WRITE = 4096
PERM_ERROR, INVALID_PARAM = -4, -3
POLL_MS = 1000
#: Virtual cost of delivering a CPU exception to the health monitor (like a hypercall's). It
#: guarantees progress: an action that re-executes the faulting instruction (IGNORE, SHUTDOWN,
#: SWITCH_TO_MAINTENANCE) makes the same fault again, but never at the same virtual instant, so
#: the slot still ends on time.
FAULT_COST_CYCLES = 1000
# The run results compared on every grant, as plain names (no class attribute lookups).
_BUDGET, _IDLE, _HALTED, _HYPERCALL = RunKind.BUDGET, RunKind.IDLE, RunKind.HALTED, RunKind.HYPERCALL


class _HypervisorConsole:
    """Engine messages such as ``Hypercall (n) unknown`` go to the hypervisor console via prtosd."""

    def __init__(self, proc: PartitionProcess):
        self.proc = proc

    def write(self, text: str, /) -> int:
        self.proc.send("console", now=self.proc.now, data=text.encode(), hyp=1)
        return len(text)


class SupervisorGone(Exception):
    """The supervisor stopped answering and our parent is gone: exit quietly."""


class PartitionProcess:
    def __init__(
        self, system: System, run_dir: Path, endpoint: str, partition: int, vcpu: int, token: str, parent: int | None
    ):
        """``system`` is loaded by the caller: a fork server loads it once for all its children.

        ``parent`` is the pid whose disappearance ends this process (default: our parent now);
        a fork server passes its own pid, so a server that died before we got here is noticed.
        """
        self.setup_vcpu(system, partition, vcpu, run_dir)
        self.ctx = zmq.Context.instance()
        self.sock = self.ctx.socket(zmq.DEALER)
        self.sock.setsockopt(zmq.LINGER, 1000)
        self.sock.setsockopt(zmq.RCVTIMEO, POLL_MS)  # a blocking receive doubles as the parent check's tick
        self.sock.connect(endpoint)
        self.parent = os.getppid() if parent is None else parent
        self.send("hello", partition=partition, vcpu=vcpu, pid=os.getpid(), token=token)

    def setup_vcpu(self, system: System, partition: int, vcpu: int, memory_dir: Path) -> None:
        """The vCPU and its memory (files in ``memory_dir``); shared with the remote variant."""
        self.system = system
        self.partition = system.partitions[partition]
        self.pid, self.vid = partition, vcpu
        self.memory = AddressSpace(system, partition, memory_dir)
        self.vcpu = VCpu(system, partition, vcpu, self.memory, console=_HypervisorConsole(self))
        self.now = 0
        self.has_console = self.partition.console not in (None, "NULL")
        self.credits = PortCredits(self.partition, self.memory)  # queuing calls completed here (prtosd.credits)
        self.until = 0  # end of the current grant (µs)
        self.vcpu.port_credit = self._port_credit  # served inside the engine's interrupt hook when it can

    # -- transport ----------------------------------------------------------------------------

    def send(self, t: str, **fields: Any) -> None:
        self.sock.send(pack(t, **fields))

    def recv(self) -> dict[str, Any]:
        while True:
            try:
                frame = self.sock.recv()  # one call per message: no poller on the hot path
            except zmq.Again:
                if os.getppid() != self.parent:
                    raise SupervisorGone from None
                continue
            try:
                return decode(frame)
            except ProtocolError as exc:  # never fatal: report and wait for the next message
                print(f"partitiond: rejected a malformed message: {exc}", file=sys.stderr)

    # -- main loop ----------------------------------------------------------------------------

    def serve(self) -> None:
        while True:
            msg = self.recv()
            t = msg["t"]
            if t == "run":  # nearly every message
                self.grant(msg)
            elif t == "quit":
                return
            else:
                self.control(msg)

    def control(self, msg: dict[str, Any]) -> bool:
        """Apply reset/halt; True if the message was one of them."""
        if msg["t"] in ("reset", "halt"):
            self.credits.clear()
        if msg["t"] == "reset":
            if msg.get("system"):
                self.vcpu.exec_cycles = 0  # a system reset restarts every clock
            self.vcpu.reset(ResetMode(msg["mode"]), msg["entry"], reset_status=msg["status"], cr3=msg["cr3"])
            return True
        if msg["t"] == "halt":
            self.vcpu.halt()
            return True
        return False

    def wait_reply(self, seq: int) -> dict[str, Any]:
        while True:
            msg = self.recv()
            if msg["t"] == "hcall_ret" and msg["seq"] == seq:
                return msg
            if msg["t"] == "quit":
                raise SystemExit(0)
            self.control(msg)

    def grant(self, msg: dict[str, Any]) -> None:
        v = self.vcpu
        seq, until = msg["seq"], msg["until"]
        self.now = msg["now"]
        credits = self.credits
        credits.load(msg)
        self.until = until
        if msg["ext_irqs"]:
            _raise_ext(v, msg["ext_irqs"])
        if "slot" in msg:
            v.set_slot(*msg["slot"])
        hw = v.to_cycles(self.now)
        end = v.to_cycles(until)
        instructions = 0
        while True:
            if hw >= end:
                return self.finish(seq, "budget", until, instructions)
            r = v.run(end - hw, hw)
            hw += r.cycles
            instructions += r.instructions
            self.now = min(v.to_us(hw), until)
            kind = r.kind
            if kind is _IDLE:  # the most frequent end of a grant: prtos_idle_self
                return self.finish(seq, "idle", self.now, instructions)
            if kind is _BUDGET:
                wake = v.spin_wake()  # in a proven spin: the HW µs of its next timer (prtosd.supervisor)
                spin = None if wake is None else min(v.to_us(hw + wake), SPIN_NEVER)
                return self.finish(seq, "budget", until, instructions, spin)
            if kind is _HALTED:
                return self.finish(seq, "halted", self.now, instructions)
            if kind is _HYPERCALL:
                assert r.hypercall is not None
                h = r.hypercall
                if h.nr == HC_WRITE_OBJECT and (h.args[0] >> 24) & 0x7F == OBJ_CLASS_CONSOLE:
                    result = self.console_write(*h.args[:3])
                    v.complete_hypercall(result)
                    if v.audit_hcalls:  # served here, so the supervisor would not see it
                        v.audit_hcall(h.nr, h.args, result)
                    continue
                if credits.ports and (result := credits.serve(h.nr, h.args, self.now)) is not None:
                    v.complete_hypercall(result)  # a queuing call on credit: logged for the next message
                    continue
                self.send(
                    "hcall", seq=seq, now=self.now, nr=h.nr, args=list(h.args), **self.audit(seq), **credits.take_log()
                )
            else:  # EXCEPTION
                assert r.trap is not None
                hw = min(hw + FAULT_COST_CYCLES, end)
                self.now = min(v.to_us(hw), until)
                tr = r.trap
                fields: dict[str, Any] = {"cr2": tr.cr2} if tr.cr2 is not None else {}
                self.send(
                    "fault",
                    seq=seq,
                    now=self.now,
                    event=tr.event,
                    trap=-1 if tr.trap is None else tr.trap,
                    pc=tr.pc,
                    eflags=tr.eflags,
                    error_code=tr.error_code,
                    **fields,
                    **self.audit(seq),
                    **credits.take_log(),
                )
            reply = self.wait_reply(seq)
            credits.load(reply)
            _raise_ext(v, reply.get("ext_irqs", 0))
            if "ret" in reply and r.kind == RunKind.HYPERCALL:
                v.complete_hypercall(reply["ret"])
            if "trap" in reply:
                v.propagate_trap(*reply["trap"])
            if not reply["cont"]:
                return self.finish(seq, "stopped", self.now, instructions)

    def _port_credit(self, nr: int, args: tuple[int, ...], now: int) -> int | None:
        """A queuing call inside the engine (VCpu._fast_credit), stamped as the grant loop would stamp it."""
        if not self.credits.ports:
            return None
        return self.credits.serve(nr, args, min(now, self.until))

    def finish(self, seq: int, reason: str, now: int, instructions: int, spin: int | None = None) -> None:
        self.now = now
        msg = {
            "t": "result",
            "v": PROTOCOL_VERSION,
            "seq": seq,
            "reason": reason,
            "now": now,
            "instructions": instructions,
        }
        if spin is not None:
            msg["spin"] = spin
        if self.vcpu.audit_log:
            msg.update(self.audit(seq))
        if self.credits.ops:
            msg.update(self.credits.take_log())
        self.sock.send(pack_unchecked(msg))

    def audit(self, seq: int) -> dict[str, bytes]:
        """The vCPU's audit events for the next message (an ``audit`` field; empty: none).

        More than one message carries go ahead in ``audit`` messages of the grant.
        """
        log = self.vcpu.take_audit()
        chunk = SHIP_MAX * EVENT.size
        while len(log) > chunk:
            self.send("audit", seq=seq, events=log[:chunk])
            log = log[chunk:]
        return {"audit": log} if log else {}

    def console_write(self, desc: int, buf: int, size: int) -> int:
        """partition-api.md §8.3: checks in order, then one console unit to prtosd."""
        if (desc >> 10) & 0x3FF != self.pid:
            return PERM_ERROR
        if size > MAX_CONSOLE_WRITE:
            return INVALID_PARAM
        if not self.memory.check(buf, size):
            return INVALID_PARAM
        if not self.has_console:
            return 0
        self.send("console", now=self.now, data=self.memory.read(buf, size))
        return size


def _raise_ext(v: VCpu, bits: int) -> None:
    """Raise the ext IRQs set in ``bits``, lowest first (only the set bits are visited)."""
    while bits:
        low = bits & -bits
        v.raise_ext_irq(low.bit_length() - 1)
        bits ^= low


def run(
    system: System,
    run_dir: Path,
    endpoint: str,
    partition: int,
    vcpu: int,
    token_file: Path,
    parent: int | None = None,
) -> int:
    """Connect to prtosd and serve one vCPU until ``quit`` or until prtosd is gone; the exit status.

    Shared by ``python -m partitiond`` and the fork server (prtosd/spawner.py), whose children
    arrive here with every module already imported and ``system`` already loaded.
    """
    if not 0 <= partition < len(system.partitions):
        print(f"partitiond: no partition {partition} in the configuration", file=sys.stderr)
        return 2
    try:
        token = token_file.read_text().strip()
        proc = PartitionProcess(system, run_dir, endpoint, partition, vcpu, token, parent)
    except (OSError, ConfigError) as exc:
        print(f"partitiond: {exc}", file=sys.stderr)
        return 2
    try:
        proc.serve()
    except (SupervisorGone, KeyboardInterrupt):
        pass
    finally:
        proc.sock.close(0)
    return 0


def main(argv: list[str] | None = None) -> int:
    words = sys.argv[1:] if argv is None else argv
    if any(w == "--connect" or w.startswith("--connect=") for w in words):
        from partitiond.remote import main as remote_main  # a partition on another host (docs/distributed.md)

        return remote_main(words)
    parser = argparse.ArgumentParser(prog="partitiond", description="One partition vCPU (started by prtosd).")
    parser.add_argument("--config", type=Path, required=True)
    parser.add_argument("--run-dir", type=Path, required=True)
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--partition", type=int, required=True)
    parser.add_argument("--vcpu", type=int, default=0)
    parser.add_argument("--token-file", type=Path, required=True)
    args = parser.parse_args(argv)
    try:
        system = load_system(args.config, checks=False)
    except (OSError, ConfigError) as exc:
        print(f"partitiond: {exc}", file=sys.stderr)
        return 2
    return run(system, args.run_dir, args.endpoint, args.partition, args.vcpu, args.token_file)


if __name__ == "__main__":
    sys.exit(main())
