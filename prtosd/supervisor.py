"""The supervisor: virtual time, the cyclic plans, and the partition processes.

Rationale
---------
prtosd is the only authority on system state. It owns the virtual HW clock (µs), one
:class:`~prtosd.sched.CpuScheduler` per CPU and the :class:`~prtosd.partition.PartitionTable`.
Every partition vCPU is a separate ``partitiond`` process; it executes guest code only inside a
*grant* (``run`` message) for its own slot and reports back with exact virtual times.

Time advances as a discrete-event simulation. The CPUs whose virtual time is furthest behind
make the next step together: each takes its scheduling decision at that instant, then their
grants run at the same time, one process per CPU. A grant never exceeds one quantum on a
multi-CPU system, so the CPUs stay within a quantum of each other. A process stops at every
hypercall, fault and grant end; these are applied only when every running grant has reported
one, smallest (virtual time, CPU id) first — so global state changes in an order fixed by the
virtual times alone, and console output is byte-identical from one run to the next whatever
the host does. Idle time is skipped: an idle CPU jumps to its next scheduling point at once.
When every CPU of a step spins in a proven loop, their grants span the quanta up to the one
where the first of them can act again (:meth:`Supervisor._spin_horizon`).

Guest memory is shared with the partition processes through files in the run directory, so
the supervisor reads and writes hypercall buffers directly while the calling vCPU waits.

Each slot switch is one round trip (``run`` → ``result``) and each forwarded hypercall one more
(``hcall`` → ``hcall_ret``); as long as the supervisor applies every global operation itself,
that count is the minimum, because every next grant or reply depends on the state the previous
message left. The one exception is port credits (prtosd.credits): a grant alone in its step may
complete queuing sends and receives itself, which the supervisor replays, in order and at their
virtual times, before the grant's next message. What is left to save is per
message: one blocking receive under ``RCVTIMEO`` (its timeout is the tick of the hang check, no
poller), two plain sends, one validation (docs/performance.md, "What limits them"); ``run``
messages are validated by the receiver only, and a slot given up with ``prtos_idle_self`` is
jumped over in the same step of :meth:`Supervisor.run`.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import zmq

from hm.log import LogStream
from hm.monitor import HealthMonitor, raise_cpu_exception, raise_fatal_error
from hm.trace import TraceService
from ipc.messages import PROTOCOL_VERSION, ProtocolError, decode, encode, make, pack, pack_unchecked
from partitiond.image import ImageError, check_image, load_image, read_image
from partitiond.memory import AddressSpace, backing_file, open_shared, physical_ranges
from prtosd.commports import CommPorts
from prtosd.config.model import System
from prtosd.console import Consoles
from prtosd.control.server import ControlServer, TcpControl
from prtosd.credits import PortCredits, enabled_by_env
from prtosd.hypercalls import HYPERCALLS
from prtosd.images import PartitionImage
from prtosd.partition import Action, ImageStatus, Outcome, PartitionTable, ResetEffect, ResetMode
from prtosd.remote import RemoteLink, RemoteLinkLost, RemoteProcess
from prtosd.resources import ProcessResources
from prtosd.sched import NEVER, Decision, SystemScheduler
from prtosd.spawner import ProcessHandle, Spawner, SpawnError, log_path, make_spawner
from prtosd.timeline import RunRecorder

#: Longest grant on a multi-CPU system (µs). The order of global effects never depends on it
#: (hypercalls are applied in virtual-time order); it bounds how late an interrupt raised from
#: another CPU reaches a vCPU that is in the middle of a grant. ``PRTOSD_QUANTUM_US`` overrides it.
QUANTUM_US = int(os.environ.get("PRTOSD_QUANTUM_US", "10000"))
#: Grants of several quanta while every CPU spins (Supervisor._spin_horizon); ``PRTOSD_SPIN_GRANTS=0``
#: gives one quantum at a time, the reference the tests compare with.
SPIN_GRANTS = os.environ.get("PRTOSD_SPIN_GRANTS", "1") != "0"
#: Wall-clock limits of the supervision of partition processes.
START_TIMEOUT_S = 60.0
#: A partition process that does not answer within this many wall seconds has hung (it is then
#: killed and treated as dead). ``PRTOSD_GRANT_TIMEOUT`` overrides it.
REPLY_TIMEOUT_S = float(os.environ.get("PRTOSD_GRANT_TIMEOUT", "30"))
EXT_CYCLIC_SLOT_START = 8
#: How long (wall ms) the supervisor waits for a message before checking for dead or hung processes.
WAIT_MS = 200
# Plain ints: pyzmq's enum members cost an Enum construction per use on the hot path.
_SNDMORE = int(zmq.SNDMORE)

VcpuKey = tuple[int, int]


class SupervisorError(Exception):
    """Start-up or supervision failed; the message is for the user."""


class ProcessFault(Exception):
    """A partition process died or stopped answering: a fault of its partition, not of the run."""

    def __init__(self, key: VcpuKey, reason: str):
        super().__init__(reason)
        self.key = key
        self.reason = reason


@dataclass
class VcpuProcess:
    key: VcpuKey
    identity: bytes
    handle: ProcessHandle
    connected: bool = False


@dataclass(slots=True)
class Grant:
    """One vCPU's permission to execute on ``cpu`` from virtual µs ``start``."""

    cpu: int
    key: VcpuKey
    seq: int
    start: int
    generation: int
    head: dict[str, Any] | None = None  # the hcall/fault/result it waits on us for
    last: float = 0.0  # wall time of its latest message (hang detection)


@dataclass
class RunStats:
    """Figures reported at the end of a run."""

    virtual_us: int = 0
    wall_s: float = 0.0
    grants: int = 0
    instructions: int = 0
    rejected: int = 0
    credited: int = 0  # port calls the partition processes completed on credit (prtosd.credits)
    forwarded: int = 0  # hypercalls a partition process sent to the supervisor (one round trip each)
    exit_reason: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


class Supervisor:
    def __init__(
        self,
        system: System,
        config_path: Path,
        images: dict[int, PartitionImage],
        run_dir: Path,
        *,
        stdout: BinaryIO | None = None,
        until_us: int | None = None,
        timestamps: bool = False,
        pace: bool = False,
        serve: bool = False,
        affinity: bool = True,
    ):
        self.system = system
        self.config_path = config_path.resolve()
        self.images = images
        self.run_dir = run_dir
        self.until = until_us if until_us is not None else NEVER
        self.pace = pace  # tie virtual time to the wall clock (never changes what the guests see)
        self.affinity = affinity  # pin vCPU processes to host CPUs (--no-affinity: don't)
        self.serve = serve  # --serve: stand still and answer prtosctl instead of ending the run
        self.control: ControlServer | None = None  # ctl.sock, bound at the end of start()
        self.control_tcp: TcpControl | None = None  # --control: a CURVE endpoint next to ctl.sock
        self.remote: RemoteLink | None = None  # --listen: partitions on other hosts (prtosd.remote)
        self.console = Consoles(system, run_dir, stdout, timestamps=timestamps)
        self.sched = SystemScheduler.from_system(system)
        self.now = [0] * len(system.processors)
        self.memory: dict[int, AddressSpace] = {}
        self.entries: dict[int, tuple[int, int]] = {}  # partition → (entry, page_table)
        self.procs: dict[VcpuKey, VcpuProcess] = {}
        self.by_identity: dict[bytes, VcpuProcess] = {}
        self.pending_ext: dict[VcpuKey, int] = {}
        self.decisions: dict[int, Decision] = {}  # made at a CPU's current instant, not yet run
        self.dead: set[VcpuKey] = set()  # partition processes that died or hung
        self.generation = 0  # incremented by every system reset
        self._exec_reset: set[VcpuKey] = set()  # vCPUs whose next reset also zeroes the EXEC clock
        self.epoch_us = 0  # virtual time of the boots before the current one (for --until and reports)
        self.halted = False
        self.stats = RunStats()
        self.seq = 0
        self.ctx = zmq.Context()
        self.sock = self.ctx.socket(zmq.ROUTER)
        self.sock.setsockopt(zmq.LINGER, 0)
        self.sock.setsockopt(zmq.ROUTER_MANDATORY, 1)
        self.sock.setsockopt(zmq.RCVTIMEO, WAIT_MS)  # a blocking receive doubles as the hang check's tick
        self.endpoint = f"ipc://{run_dir / 'vcpu.sock'}"
        if len(self.endpoint) - len("ipc://") >= zmq.IPC_PATH_MAX_LEN:
            raise SupervisorError(f"run directory path too long for a socket: {run_dir}")
        self.token = secrets.token_hex(16)
        self._device_maps: list[Any] = []
        self._stash: list[list[bytes]] = []  # messages received while waiting for a hello
        self.table: PartitionTable
        self.obs = RunRecorder(self)  # audit stream and timeline file; never seen by guests
        self.port_credits = enabled_by_env()  # PRTOSD_PORT_CREDITS=0: every port call is forwarded
        self._credited: VcpuKey | None = None  # the vCPU whose grant is alone in its step (prtosd.credits)
        # vCPUs whose latest grant ended inside a proven spin: (its end, µs of the next timer,
        # control requests handled by then), and the end of this step's grants (_spin_horizon).
        self._spinning: dict[VcpuKey, tuple[int, int, int]] = {}
        self._horizon: int | None = None
        self._gave_up = False  # the latest grant ended with prtos_idle_self

    # -- start-up -------------------------------------------------------------------------------

    def start(self) -> None:
        """Map memory, check and load images, spawn the vCPU processes and wait for their hello."""
        token_file = self.run_dir / "token"
        fd = os.open(token_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(self.token)
        try:  # first: the fork server imports partitiond while we load the images
            self.resources = ProcessResources(self.run_dir, affinity=self.affinity)
            self.spawner: Spawner = make_spawner(self.config_path, self.run_dir, self.endpoint, token_file)
        except (ValueError, SpawnError, OSError) as exc:
            raise SupervisorError(str(exc)) from None
        self.sock.bind(self.endpoint)
        os.chmod(self.run_dir / "vcpu.sock", 0o600)
        if self.system.placement is not None:  # partitions on other hosts join over TCP (prtosd.remote)
            if self.remote is None:
                raise SupervisorError(
                    f"{self.config_path}:{self.system.placement.line}: pd:Placement puts partitions on other "
                    "hosts: start with --listen tcp://ADDRESS:PORT --keys DIR"
                )
            self.remote.listen()
        scheduled = [
            (part.id, v)
            for part in self.system.partitions
            for v in range(part.no_vcpus)
            if self.system.cpu_of(part.id, v) is not None
        ]
        local = [key for key in scheduled if not self._is_remote(key[0])]
        try:  # the fork server forks them while we load the images (they map memory, then wait)
            for key in local:
                self.spawner.request(key)
        except SpawnError as exc:
            raise SupervisorError(str(exc)) from None
        statuses: dict[int, ImageStatus] = {}
        for part in self.system.partitions:
            if self._is_remote(part.id):
                self.memory[part.id] = self.remote.memory(part.id)  # type: ignore[union-attr]
            else:
                self.memory[part.id] = AddressSpace(self.system, part.id, self.run_dir)
            statuses[part.id] = self._load(part.id) if part.id in self.images else ImageStatus.MISSING
        self.table = PartitionTable.from_system(self.system, statuses)
        self.ports = CommPorts(self)
        self.credits = PortCredits(self, self.ports, enabled=self.port_credits)
        if self.remote is not None:
            self.ports.phys = self.remote.physical(self.ports.phys)
        self.hm = HealthMonitor(LogStream(self.device_buffer(self.system.hypervisor.hm_device)))
        hyp_trace = self.system.hypervisor.trace
        self.trace = TraceService(
            {p.id: LogStream(self.device_buffer(p.trace.device)) for p in self.system.partitions if p.trace},
            {p.id: p.trace.bitmask for p in self.system.partitions if p.trace},
            LogStream(self.device_buffer(hyp_trace.device if hyp_trace else None)),
        )
        for key in scheduled:
            if key in local:
                self._spawn(key)
            else:
                self.remote.expect(key)  # type: ignore[union-attr]
        deadline = time.monotonic() + START_TIMEOUT_S
        while not all(p.connected for p in self.procs.values()):
            left = deadline - time.monotonic()
            self._check_children()
            if left <= 0:
                raise SupervisorError("partition processes did not start in time")
            if self.sock.poll(int(min(left, 0.5) * 1000)):
                self._accept_hello()
        if self.remote is not None:
            self.remote.wait()
        self.control = ControlServer(self, self.control_tcp)

    def _is_remote(self, pid: int) -> bool:
        """Whether the partition runs on another host (pd:Placement) and is reached over TCP."""
        return self.remote is not None and self.system.host_of(pid) is not None

    def device_buffer(self, name: str | None) -> memoryview | None:
        """The bytes of a MemoryBlock device (shared with partitions that map it), else None."""
        dev = self.system.device(name) if name else None
        if dev is None or dev.kind != "MemoryBlock" or dev.size == 0:
            return None
        start, end = next((s, e) for s, e in physical_ranges(self.system) if s <= dev.start < e)
        mm = open_shared(backing_file(self.run_dir, start, end), end - start)
        self._device_maps.append(mm)
        return memoryview(mm)[dev.start - start : dev.start - start + dev.size]

    def _load(self, pid: int) -> ImageStatus:
        """Check the image and load it (with its custom files) into the partition's memory."""
        img = self.images[pid]
        try:
            image = read_image(img.image)
            check_image(image, self.memory[pid], img.custom_files)
            load_image(image, self.memory[pid], img.custom_files)
        except ImageError as exc:
            print(f"prtosd: partition {pid}: {exc}", file=sys.stderr)
            return ImageStatus.INVALID
        self.entries[pid] = (image.entry, image.page_table)
        return ImageStatus.OK

    def _spawn(self, key: VcpuKey) -> None:
        """Start the vCPU's process (prtosd/spawner.py), pin it and track its resources."""
        try:
            handle = self.spawner.spawn(key)
        except SpawnError as exc:
            raise SupervisorError(str(exc)) from None
        self.procs[key] = VcpuProcess(key, b"", handle)
        self.resources.track(key, handle.pid, self.system.cpu_of(*key))

    def _accept_hello(self) -> None:
        parts = self.sock.recv_multipart(copy=False)  # frames: a remote hello's CURVE key is a property
        identity, *frames = [p.bytes for p in parts]
        if identity in self.by_identity:  # a running grant's message (during a respawn): keep it
            self._stash.append([identity, *frames])
            return
        try:
            msg = decode(frames[0]) if len(frames) == 1 else None
        except ProtocolError:
            msg = None
        if msg is None:
            self.stats.rejected += 1
            return
        if msg["t"] == "hello" and msg["token"] == "" and self.remote is not None:
            self.remote.hello(identity, msg, parts[-1])  # a remote partition: authenticated by CURVE
            return
        key = (msg.get("partition"), msg.get("vcpu"))
        proc = self.procs.get(key)  # type: ignore[arg-type]
        if msg["t"] != "hello" or proc is None or proc.connected or msg["token"] != self.token:
            self.stats.rejected += 1
            return
        proc.identity, proc.connected = identity, True
        self.by_identity[identity] = proc

    def _check_children(self) -> None:
        for proc in self.procs.values():
            rc = proc.handle.poll()
            if rc is not None:
                log = log_path(self.run_dir, proc.key)
                tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
                raise SupervisorError(f"partition process {proc.key} exited with status {rc}\n{tail}".rstrip())

    # -- messaging ------------------------------------------------------------------------------

    def send(self, key: VcpuKey, t: str, **fields: Any) -> None:
        if key in self.dead:
            return  # its partition is halted; a reset starts a new process first
        frame = pack(t, **fields)
        try:  # two plain sends rather than send_multipart: this runs for every grant and reply
            self.sock.send(self.procs[key].identity, _SNDMORE)
            self.sock.send(frame)
        except zmq.ZMQError:
            pass  # a peer that is gone is noticed when next waited for

    def _recv(self) -> list[bytes] | None:
        """The next message from a partition process (identity first), or None after WAIT_MS."""
        if self._stash:
            return self._stash.pop(0)
        sock = self.sock
        try:  # frames tell whether more parts follow: getsockopt(RCVMORE) builds an enum per call
            part = sock.recv(copy=False)
            frames = [part.bytes]
            while part.more:
                part = sock.recv(copy=False)
                frames.append(part.bytes)
        except zmq.Again:
            return None
        return frames

    # -- the run --------------------------------------------------------------------------------

    def boot(self) -> None:
        self.boot_banner()
        self.apply(self.table.boot(), None, 0)

    def boot_banner(self) -> None:
        self.console.hypervisor("PRTOS Hypervisor (1.0 r0)", 0)
        for part in self.system.partitions:
            words = "".join(w for w, on in ((" SYSTEM", part.is_system), (" FP", part.flags & 0x200)) if on)
            self.console.hypervisor(f'P{part.id} ("{part.name}":{part.id}:{part.no_vcpus}) flags: [{words} ]:', 0)
            for a in part.areas:
                self.console.hypervisor(
                    f"    [0x{a.start:x}:0x{a.virt:x} - 0x{a.end:x}:0x{a.virt_end:x}] flags: 0x{a.flags:x}", 0
                )

    def run(self, status: Callable[[int, float], None] | None = None) -> RunStats:
        """Run until --until, a system halt, or until nothing can run any more.

        ``status(virtual_us, wall_s)`` is called about twice a second of wall time (the terminal
        status line); it never influences the run.
        """
        wall0 = time.monotonic()
        next_status = wall0 + 0.5
        self.boot()
        multi = len(self.system.processors) > 1
        while not self.halted:
            if status is not None and (t := time.monotonic()) >= next_status:
                next_status = t + 0.5
                status(min(self.now), t - wall0)
            if self.control is not None:
                self.control.poll()  # commands act here, between grants
                if self.halted:
                    break
            now = min(self.now)
            if self.epoch_us + now >= self.until:
                self.stats.exit_reason = "until"
                if self._serve_wait():
                    continue
                break
            if now >= NEVER:
                self.stats.exit_reason = "idle"
                if self._serve_wait():
                    continue
                break
            if not any(self.table.is_ready(k) for k in self.procs) and not self._any_suspended():
                self.stats.exit_reason = "all partitions halted"
                if self._serve_wait():
                    continue
                break
            if multi:
                # Every CPU standing at this instant decides now, before any of them executes past
                # it: a slot-start decision sees the state at the slot start (K-01). Then all of
                # them run their grants at the same time, each in its own process.
                for c in range(len(self.now)):
                    if self.now[c] == now and c not in self.decisions:
                        self.decisions[c] = self._decide(c)
                self._horizon = self._spin_horizon(now)
                grants = [g for c in range(len(self.now)) if self.now[c] == now and (g := self._begin(c, multi))]
                if grants:
                    self._serve(grants)
            elif (grant := self._begin(0, False)) is not None:
                self._gave_up = False
                self._serve([grant])
                # prtos_idle_self gave up the slot: the jump to its end belongs to this step (the
                # next step would take exactly this decision, after the same checks).
                if (
                    self._gave_up
                    and not self.pace
                    and self._may_go_on()
                    and (grant := self._begin(0, False)) is not None
                ):
                    self._serve([grant])
            self.console.flush(min(self.now))
            self.obs.flush(force=False)
            if self.pace:
                self._pace(wall0)
        self.obs.flush()
        reached = [t for t in self.now if t < NEVER]
        self.stats.virtual_us = min(self.epoch_us + max(reached, default=0), self.until)
        self.console.flush()
        self.stats.wall_s = time.monotonic() - wall0
        return self.stats

    # -- control endpoint (prtosctl) ---------------------------------------------------------------

    def _serve_wait(self) -> bool:
        """The run cannot advance (pause point, idle, all halted): answer ``run_until`` waiters.

        With ``--serve``, stand still for up to 0.2 s of wall time answering control requests and
        go on with the loop (True); virtual time does not move meanwhile. Otherwise the run ends.
        """
        if self.control is None:
            return False
        if self.stats.exit_reason != "until":
            self.console.flush()  # nothing can be written before the next command
        self.obs.flush()
        self.control.stopped(self.stats.exit_reason)
        if not self.serve:
            return False
        self.control.poll(200)
        return True

    def _idle_end(self, until: int) -> int:
        """Where an idle CPU jumps to: its next scheduling point, but with ``--serve`` never past the
        pause point, so that ``run_until`` stops exactly there (re-deciding mid-gap changes nothing)."""
        if self.serve and self.until < NEVER:
            return min(until, self.until - self.epoch_us)
        return until

    def _pace(self, wall0: float) -> None:
        """Wait until the wall clock has caught up with the slowest CPU's virtual time."""
        virtual = self.epoch_us + min(min(self.now), self.until - self.epoch_us)
        if virtual >= NEVER:
            return
        delay = wall0 + virtual / 1e6 - time.monotonic()
        if delay > 0:
            time.sleep(min(delay, 1.0))  # short sleeps keep Ctrl-C and the status line responsive

    def _may_go_on(self) -> bool:
        """Whether the next step of a one-CPU run takes a decision (the checks of :meth:`run`)."""
        now = self.now[0]
        return (
            not self.halted
            and self.epoch_us + now < self.until
            and now < NEVER
            and any(self.table.is_ready(k) for k in self.procs)
        )

    def _any_suspended(self) -> bool:
        return any(self.table.vcpu(k).suspended and not self.table.vcpu(k).halted for k in self.procs)

    def _decide(self, cpu: int) -> Decision:
        d = self.sched.cpus[cpu].decide(self.now[cpu], self.table.is_ready)
        if self.sched.events:
            self.obs.sched_events(self.sched.drain_events())
        self.table.apply_decision(d)
        return d

    def _begin(self, cpu: int, multi: bool) -> Grant | None:
        """Take the CPU's decision at its current instant; start a grant, or jump over idle time."""
        now = self.now[cpu]
        self.console.cpu = cpu
        d = self.decisions.pop(cpu, None) or self._decide(cpu)
        if d.owner is None:
            self.now[cpu] = self._idle_end(d.until)
            self.obs.idle(cpu, now, self.now[cpu])
            return None
        key = d.owner
        end = min(d.until, self.until - self.epoch_us)
        if multi:
            end = min(end, self._horizon or now + QUANTUM_US)
        ext = self.pending_ext.pop(key, 0) if self.pending_ext else 0
        self.seq = seq = self.seq + 1
        self.stats.grants += 1
        run = {"t": "run", "v": PROTOCOL_VERSION, "seq": seq, "now": now, "until": end, "ext_irqs": ext}
        if d.slot_start and d.sched_info is not None:
            run["ext_irqs"] = ext | 1 << EXT_CYCLIC_SLOT_START
            run["slot"] = list(d.sched_info)
        grant = Grant(cpu, key, seq, now, self.generation, last=time.monotonic())
        self.obs.grant_start(grant, end)
        self._credited = key if self._alone(cpu, now) else None
        if self._credited is not None:
            run.update(self.credits.fields(key))
        if key not in self.dead:
            try:
                self.sock.send(self.procs[key].identity, _SNDMORE)
                self.sock.send(pack_unchecked(run))
            except zmq.ZMQError:
                pass  # a peer that is gone is noticed when next waited for
        return grant

    def _spin_horizon(self, now: int) -> int | None:
        """The end of this step's grants when they may span several quanta, else None.

        Quanta exist so that what one CPU does reaches the others at a quantum boundary. When
        every CPU stepping now resumes a vCPU whose previous grant ended at ``now`` inside a
        proven spin (partitiond.vcpu, ``VCpu.spin_wake``) — no interrupt pending for it, no new
        slot, nothing else applied since — none of them can act on anything before its next
        timer. Their grants then end at the first quantum boundary (counted from ``now``, as
        one quantum after another would) that is after the earliest of those timers, not after
        the next step of any other CPU, and not past any slot end or the run's end: so every
        grant ends where the quantum-by-quantum run ends one, and every process and the
        supervisor see the same events at the same virtual times, with fewer round trips.
        (Their timeline has one grant line where that run has one per quantum.)
        """
        if not self._spinning or not SPIN_GRANTS:
            return None
        requests = self._control_requests()
        wake, limit, others = NEVER, self.until - self.epoch_us, NEVER
        for c, t in enumerate(self.now):
            if t != now:
                others = min(others, t)
                continue
            d = self.decisions.get(c)
            if d is None or d.owner is None or d.slot_start:
                return None
            spin = self._spinning.get(d.owner)
            if spin is None or spin[0] != now or spin[2] != requests or self.pending_ext.get(d.owner):
                return None
            wake = min(wake, spin[1])
            limit = min(limit, d.until)
        quanta = min((wake + 1 - now) // QUANTUM_US + 1, -(-(others - now) // QUANTUM_US), (limit - now) // QUANTUM_US)
        return now + quanta * QUANTUM_US if quanta >= 2 else None

    def _control_requests(self) -> int:
        """Control requests handled so far: a spin noted before the latest one is not relied on."""
        return self.control.requests if self.control is not None else 0

    def _alone(self, cpu: int, now: int) -> bool:
        """Whether the grant starting on ``cpu`` will be the only one of this step (port credits).

        CPUs before ``cpu`` have started their grants (still at ``now``) or jumped over idle time;
        CPUs after it hold their decision: only an idle one leaves the grant alone.
        """
        for c, t in enumerate(self.now):
            if c == cpu or t > now:
                continue
            d = self.decisions.get(c) if c > cpu else None
            if d is None or d.owner is not None:
                return False
        return True

    def _serve(self, grants: list[Grant]) -> None:
        """Serve concurrent grants until each has ended, in a deterministic order.

        Each partition process runs on its own; it stops at every hypercall, fault and at the end
        of its grant and waits for us. Such a *head* message is processed only when every active
        grant has one, smallest (virtual time, CPU id) first — so the order in which hypercalls
        change global state depends on virtual times alone, never on which process was faster.
        Console messages need no answer and are queued at once (the console sorts them).
        """
        active = {self.procs[g.key].identity: g for g in grants}
        while active:
            if len(active) == 1:  # the common case (one CPU): no ordering to do
                ident, g = next(iter(active.items()))
                ready = g.head is not None
            else:
                ready = all(g.head is not None for g in active.values())
                if ready:
                    ident, g = min(active.items(), key=lambda item: (item[1].head["now"], item[1].cpu))  # type: ignore[index]
            if ready:
                msg, g.head = g.head, None
                assert msg is not None
                if msg["t"] != "result" or "ops" in msg:
                    self._spinning.clear()  # global state may change: no vCPU is known to spin on
                if "ops" in msg and g.generation == self.generation:  # calls completed on credit come first
                    self.credits.replay(g, msg)
                self.obs.vcpu_audit_due(msg["now"])  # what vCPUs did up to now comes first
                self.console.cpu = g.cpu
                if msg["t"] == "result":
                    self._finish(g, msg)
                    del active[ident]
                elif msg["t"] == "hcall":
                    self.hypercall(g.key, msg)
                else:
                    self.fault(g.key, msg)
                if self.halted:
                    return
                continue
            received = self._recv()
            if received is None:
                self._check_grants(active)
                continue
            identity, *frames = received
            g = active.get(identity)
            if g is None or len(frames) != 1:
                self.stats.rejected += 1
                continue
            try:
                msg = decode(frames[0])
            except ProtocolError:
                self.stats.rejected += 1
                continue
            g.last = time.monotonic()
            if msg["t"] == "console":
                self.console.cpu = g.cpu
                self.console.write(-1 if msg.get("hyp") else g.key[0], msg["data"], msg["now"])
            elif msg["t"] in ("hcall", "fault", "result") and msg["seq"] == g.seq and g.head is None:
                g.head = msg
                if "audit" in msg and g.generation == self.generation:  # not from before a system reset
                    self.obs.vcpu_audit(g.cpu, g.key, msg["audit"])
            elif msg["t"] == "audit" and msg["seq"] == g.seq and g.head is None:
                if g.generation == self.generation:
                    self.obs.vcpu_audit(g.cpu, g.key, msg["events"])
            else:
                self.stats.rejected += 1

    def _check_grants(self, active: dict[bytes, Grant]) -> None:
        """Dead or hung partition processes among the active grants become partition faults."""
        for ident, g in list(active.items()):
            if g.head is not None:
                continue
            proc = self.procs[g.key]
            remote = proc.handle if isinstance(proc.handle, RemoteProcess) else None
            limit = remote.timeout_s if remote else REPLY_TIMEOUT_S
            rc = proc.handle.poll()
            if rc is not None:
                reason = remote.reason if remote else f"partition process exited with status {rc}"
            elif time.monotonic() - g.last > limit:
                proc.handle.kill()  # hung (or stopped): ours, by pid
                proc.handle.wait()
                reason = remote.reason if remote else f"partition process stopped answering for {limit:g} s"
            else:
                continue
            del active[ident]
            self.console.cpu = g.cpu
            self.process_fault(ProcessFault(g.key, reason), g.cpu, g.start)

    def _finish(self, g: Grant, msg: dict[str, Any]) -> None:
        if self.generation != g.generation:
            return  # the system was reset during this grant: the clocks restarted at 0
        self.obs.grant_end(g, msg)
        self.now[g.cpu] = max(g.start, msg["now"])
        self.stats.instructions += msg["instructions"]
        if "spin" in msg and msg["reason"] == "budget":
            self._spinning[g.key] = (self.now[g.cpu], msg["spin"], self._control_requests())
        else:
            self._spinning.pop(g.key, None)
        if msg["reason"] == "idle":
            self.sched.cpus[g.cpu].idle_self()
            self._gave_up = True
        elif msg["reason"] == "halted":
            self.apply(self.table.halt(g.key[0]), None, msg["now"])

    # -- hypercalls and effects -------------------------------------------------------------------

    def hypercall(self, key: VcpuKey, msg: dict[str, Any]) -> None:
        handler: Callable[..., Outcome] | None = HYPERCALLS.get(msg["nr"])
        now = msg["now"]
        self.stats.forwarded += 1
        self.obs.hcall_begin(key, msg)
        if handler is None:
            self.console.hypervisor(f"Hypercall ({msg['nr']}) unknown", now)
            self.obs.hcall_end(key, msg, -2)
            self.reply(key, msg["seq"], -2, True)
            return
        try:
            out = handler(self, key, msg["args"], now)
        except RemoteLinkLost as lost:  # a remote partition's link dropped while we read its memory
            if lost.key == key:  # the caller's own: no reply; its grant check raises the fault
                self.obs.hcall_end(key, msg, None)
                return
            out = handler(self, key, msg["args"], now)  # the lost partition's memory now reads as zeros
        self.apply(out, key, now)
        if self.sched.events:
            self.obs.sched_events(self.sched.drain_events())
        if self.halted:
            self.obs.hcall_end(key, msg, None)
            return
        resets_self = bool(out.effects) and any(
            isinstance(e, ResetEffect) and (e.partition, e.vcpu) == key for e in out.effects
        )
        if resets_self:  # the program restarted: nothing to write back, it continues in this slot
            self.obs.hcall_end(key, msg, None)
            self.reply(key, msg["seq"], None, True)
        else:  # a caller that suspended itself gets its result when it runs again
            ready = self.table.is_ready(key)
            self.obs.hcall_end(key, msg, out.result if out.returns else None)
            self.reply(key, msg["seq"], out.result if out.returns else None, out.returns and ready)

    def fault(self, key: VcpuKey, msg: dict[str, Any]) -> None:
        reply = raise_cpu_exception(self, key, msg)
        if self.sched.events:
            self.obs.sched_events(self.sched.drain_events())
        if not self.halted:
            self.reply(key, msg["seq"], None, reply.cont, trap=reply.trap)

    def reply(self, key: VcpuKey, seq: int, ret: int | None, cont: bool, trap: list[int] | None = None) -> None:
        fields: dict[str, Any] = {}
        if ret is not None:
            fields["ret"] = ret
        if trap is not None:
            fields["trap"] = trap
        if cont and (ext := self.pending_ext.pop(key, 0)):
            fields["ext_irqs"] = ext  # raised on the caller itself: pending as the call returns
        if cont and key == self._credited:
            fields.update(self.credits.fields(key))
        self.send(key, "hcall_ret", seq=seq, cont=int(cont), **fields)

    def apply(self, out: Outcome, caller: VcpuKey | None, now: int) -> None:
        """Carry out an operation's effects on the vCPU processes, print its console lines."""
        if out.effects:
            self._spinning.clear()
        self.obs.effects(out, caller, now)
        for line in out.console:
            self.console.hypervisor(line, now)
        for e in out.effects:
            if isinstance(e, ResetEffect):
                self._reset_vcpu(e)
            elif e.action in (Action.PART_HALT, Action.VCPU_HALT):
                for v in e.vcpus:
                    if (e.partition, v) in self.procs:
                        self.send((e.partition, v), "halt")
            elif e.action is Action.PART_SHUTDOWN:
                for v in e.vcpus:
                    self.raise_ext((e.partition, v), 3)

    def _reset_vcpu(self, e: ResetEffect) -> None:
        key = (e.partition, e.vcpu)
        if e.mode is None:  # prtos_reset_vcpu
            mode, entry, cr3 = 2, e.entry or 0, e.ptdl1 or 0
        else:
            if e.mode is ResetMode.COLD and self._load(e.partition) is not ImageStatus.OK:
                self.apply(self.table.halt(e.partition), None, 0)
                return
            entry, cr3 = self.entries[e.partition]
            mode = int(e.mode)
            self.ports.reset_partition(e.partition)  # ports closed, channel contents kept (D-36)
        self.pending_ext.pop(key, None)
        if key in self.dead:
            try:
                self._respawn(key)
            except ProcessFault as fault:
                self.console.hypervisor(f"Partition PANIC [{key[0]}]: {fault.reason}", 0)
                self.table.halt(key[0])
                return
        if key in self.procs:
            extra = {"system": 1} if key in self._exec_reset else {}
            self._exec_reset.discard(key)
            self.send(key, "reset", mode=mode, status=e.status, entry=entry, cr3=cr3, **extra)

    def raise_ext(self, key: VcpuKey, n: int) -> None:
        """Make ext IRQ ``n`` pending on a vCPU (delivered with its next grant); lost if halted."""
        if key in self.procs and not self.table.vcpu(key).halted:
            self.pending_ext[key] = self.pending_ext.get(key, 0) | (1 << n)
            self.table[key[0]].num_of_virqs += 1

    def process_fault(self, fault: ProcessFault, cpu: int, now: int) -> None:
        """A dead or hung partition process: partition panic (semantics.md §4.5) at the grant's start."""
        key = fault.key
        self.dead.add(key)
        self.console.hypervisor(f"Partition PANIC [{key[0]}]: {fault.reason}", now)
        raise_fatal_error(self, key, now)
        if not self.halted and self.table.is_ready(key):
            self.apply(self.table.halt(key[0]), None, now)
        self.now[cpu] = now

    def _respawn(self, key: VcpuKey) -> None:
        """A new process for a vCPU whose process died, before its partition is reset."""
        old = self.procs[key]
        if isinstance(old.handle, RemoteProcess):
            host = old.handle.host.name
            raise ProcessFault(key, f'a remote partition is restarted on its host ("{host}"), not by prtosd')
        self.by_identity.pop(old.identity, None)
        try:
            self._spawn(key)
        except SupervisorError as exc:
            raise ProcessFault(key, f"partition process could not be restarted: {exc}") from None
        self.dead.discard(key)
        deadline = time.monotonic() + START_TIMEOUT_S
        while not self.procs[key].connected:
            left = deadline - time.monotonic()
            if left <= 0 or self.procs[key].handle.poll() is not None:
                self.dead.add(key)
                raise ProcessFault(key, "partition process could not be restarted")
            if self.sock.poll(int(min(left, 0.2) * 1000)):
                self._accept_hello()

    def reset_system(self, mode: ResetMode, status: int, now: int) -> None:
        """§4.6 system reset: every partition stops, the HW clock restarts at 0, boot again.

        Counters and sequence numbers restart (the system reset counter follows ``mode``), plans
        return to plan 0, channels are emptied and ports closed; memory blocks — and with them
        the HM and trace logs — keep their content. Console output of the old boot is flushed
        first, because the new boot's virtual times start again at 0.
        """
        self.console.flush()
        self.obs.system_reset(int(mode), now)
        self.epoch_us += now
        self.generation += 1
        for key in self.procs:
            self.send(key, "halt")
        self.pending_ext.clear()
        self.decisions.clear()
        self.sched.reset()
        self.ports.reset_system()
        self.obs.ports_emptied()
        self.hm.sequence = 0
        self.hm.stream.open()
        self.trace.sequence = 0
        for stream in self.trace.streams.values():
            if stream.capacity:
                stream.open()
        self.now = [0] * len(self.now)
        self.system_reset_status = status
        out = self.table.system_reset(mode, status)
        self._exec_reset = set(self.procs)  # EXEC clocks restart at 0 with the HW clock
        self.boot_banner()
        self.apply(out, None, 0)

    def halt_system(self, now: int) -> None:
        self.console.hypervisor("System halted.", now)
        self.obs.system_halt(now)
        self.halted = True
        self.stats.exit_reason = "system halted"

    # -- shutdown -------------------------------------------------------------------------------

    def close(self) -> None:
        """Stop every partition process (quit, then TERM, then KILL — by our own pids only), then the spawner."""
        for proc in self.procs.values():
            if proc.connected and proc.handle.poll() is None:
                with contextlib.suppress(zmq.ZMQError):
                    self.sock.send_multipart([proc.identity, encode(make("quit"))], flags=zmq.NOBLOCK)
        deadline = time.monotonic() + 3.0
        for proc in self.procs.values():
            try:
                proc.handle.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.handle.send_signal(signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.handle.wait(timeout=2.0)
            except subprocess.TimeoutExpired:
                proc.handle.kill()
                proc.handle.wait()
        if hasattr(self, "spawner"):
            self.spawner.close()
            self.resources.close()
        if self.remote is not None:
            self.remote.close()
        self.sock.close(0)
        if self.control is not None:
            self.control.close()
            self.control = None
        self.ctx.term()
        for mem in self.memory.values():
            mem.close()
        self.hm = HealthMonitor(LogStream(None))  # drop the views before unmapping
        self.trace = TraceService({}, {}, LogStream(None))
        self.obs.close()
        for mm in self._device_maps:
            mm.close()
        self.console.close()
