"""Partition and vCPU state: flags, reported states, op modes, resets, EXEC clocks, status counters.

Rationale: the supervisor is the only authority on system state (ARCHITECTURE.md), and the
partition-management hypercalls have exact, guest-visible check orders and return codes
(partition-api.md §6.2, §6.5). Keeping that state machine pure — no processes, no memory, no
wall clock — lets every rule of semantics.md §3, §4 and §11 be tested exactly, and lets the HM,
``prtosctl`` and the hypercall layer share one implementation.

Contract with the supervisor:

* Hypercall operations take the caller as a :data:`VcpuKey` ``(partition, vcpu)`` and return an
  :class:`Outcome`: the PRTOS code for EAX, whether the caller gets that value back at all
  (``returns`` is False after a self-halt or a self-reset), the console lines to print and the
  :class:`Effect` / :class:`ResetEffect` records the supervisor applies to the vCPU processes
  (stop them, raise ext IRQ SHUTDOWN, reload the image and rebuild the PCT, close ports, disarm
  timers, audit the matching SCHED event). Unchecked variants (:meth:`PartitionTable.halt`,
  :meth:`~PartitionTable.suspend`, :meth:`~PartitionTable.reset`, ...) serve the HM and prtosctl.
* After any operation the supervisor re-runs the scheduler's decision on the affected CPUs with
  :meth:`PartitionTable.is_ready` as the readiness predicate.
* EXEC clocks (semantics.md §2.1) advance only between :meth:`PartitionTable.dispatch` and
  :meth:`PartitionTable.switch_out`, which the supervisor calls as the scheduler reports context
  switches (:meth:`PartitionTable.apply_decision` does both from a scheduler decision).
* Image loading and memory are the supervisor's business: this module only knows, per partition,
  whether its image is present and valid (:class:`ImageStatus`).

Choices where the specification is silent: a reset (partition or vCPU) clears SUSPENDED as well
as HALTED on the vCPU it starts, because §4.2 says that vCPU "becomes ready"; a failed partition
reset still halts the partition (step 1 precedes the image check) and reports PART_HALT; the
partition op mode turns NORMAL only when one of its vCPUs is chosen at a slot start (§1.4), not
when a self-reset program continues mid-slot; ``prtos_reset_vcpu`` accepts ``ptdl1`` at either
the physical or the mapped address of one of the caller's areas; a system reset gives every vCPU
a fresh PCT (reset counter 0) and EXEC clock.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum, IntEnum
from typing import NamedTuple

from prtosd.config.model import Partition, System
from prtosd.errors import PrtosError
from prtosd.sched import Decision, SchedInfo, VcpuKey

#: Descriptor partition id meaning "the hypervisor / the whole system" (partition-api.md §10.4).
HYPERVISOR_ID = 0xFF

#: ``PRTOS_HM_RESET_STATUS_MODULE_RESTART << 16``, ORed with the event id for HM system resets (§4.6).
HM_RESET_STATUS_MODULE_RESTART = 0x20000

#: PCT ``cyclic_sched_info`` before the first dispatch.
NO_SCHED_INFO = SchedInfo(0, 0, 0)


class VcpuStatus(IntEnum):
    """``PRTOS_STATUS_*`` as reported for vCPUs and partitions (§3.2; IDLE is never reported)."""

    IDLE = 0
    READY = 1
    SUSPENDED = 2
    HALTED = 3


class OpMode(IntEnum):
    """``PRTOS_OPMODE_*`` (§3.3)."""

    IDLE = 0
    COLD_RESET = 1
    WARM_RESET = 2
    NORMAL = 3


class ResetMode(IntEnum):
    """``PRTOS_COLD_RESET`` / ``PRTOS_WARM_RESET``, for partition and system resets."""

    COLD = 0
    WARM = 1


class ImageStatus(Enum):
    """What the supervisor found for a partition's image (§4.1 step 5, §4.2 step 2)."""

    MISSING = "missing"
    INVALID = "invalid"
    OK = "ok"


class Action(Enum):
    """Effects on running vCPUs; the names are the SCHED audit events they correspond to (§10.5)."""

    PART_HALT = "PART_HALT"  # vCPUs stop for good (until a reset)
    PART_SUSPEND = "PART_SUSPEND"  # vCPUs stop until resumed
    PART_RESUME = "PART_RESUME"  # vCPUs may run again (if still owners of their slot)
    PART_SHUTDOWN = "PART_SHUTDOWN"  # raise ext IRQ 3 (PRTOS_VT_EXT_SHUTDOWN) on the listed vCPUs
    VCPU_HALT = "VCPU_HALT"
    VCPU_SUSPEND = "VCPU_SUSPEND"
    VCPU_RESUME = "VCPU_RESUME"


class Effect(NamedTuple):
    """An effect on some vCPUs of one partition."""

    action: Action
    partition: int
    vcpus: tuple[int, ...]


class ResetEffect(NamedTuple):
    """Restart one vCPU (audit VCPU_RESET). The supervisor disarms its timers (D-18) and rebuilds its PCT.

    ``mode`` COLD/WARM: a partition reset of vCPU 0 — close the partition's ports; COLD reloads the
    image and custom files, WARM leaves memory untouched; start at the image entry point.
    ``mode`` None: ``prtos_reset_vcpu`` — memory and ports untouched, start at ``entry`` with
    ``arch.cr3`` = ``ptdl1``.
    """

    partition: int
    vcpu: int
    mode: ResetMode | None
    status: int  # PCT reset_status
    reset_counter: int  # PCT reset_counter
    entry: int | None = None
    ptdl1: int | None = None


@dataclass(frozen=True, slots=True)
class Outcome:
    """Result of an operation: the code, whether the caller sees it, and what to apply."""

    code: PrtosError
    effects: tuple[Effect | ResetEffect, ...] = ()
    console: tuple[str, ...] = ()
    returns: bool = True
    value: int | None = None  # the call's result when it is not just ``code`` (an id, a byte count)

    @property
    def result(self) -> int:
        """What the guest's EAX receives."""
        return int(self.code) if self.value is None else self.value


class PartStatus(NamedTuple):
    """``prtos_part_status_t`` contents (§11)."""

    state: VcpuStatus
    op_mode: OpMode
    num_of_virqs: int
    reset_counter: int
    reset_status: int
    exec_clock: int
    num_of_sampling_port_msgs_read: int
    num_of_sampling_port_msgs_written: int
    num_of_queuing_port_msgs_sent: int
    num_of_queuing_port_msgs_received: int


class SysStatus(NamedTuple):
    """``prtos_sys_status_t`` contents (§11)."""

    reset_counter: int
    num_of_hm_events: int
    num_of_irqs: int
    current_maf: int
    num_of_sampling_port_msgs_read: int
    num_of_sampling_port_msgs_written: int
    num_of_queuing_port_msgs_sent: int
    num_of_queuing_port_msgs_received: int


@dataclass(slots=True)
class Counters:
    """Port-traffic counters, kept per partition and for the whole system (§11)."""

    sampling_read: int = 0
    sampling_written: int = 0
    queuing_sent: int = 0
    queuing_received: int = 0


@dataclass(slots=True)
class SystemCounters(Counters):
    """System-wide counters; ``current_maf`` lives in the scheduler and is joined in :meth:`snapshot`."""

    reset_counter: int = 0
    num_of_hm_events: int = 0
    num_of_irqs: int = 0

    def snapshot(self, current_maf: int) -> SysStatus:
        return SysStatus(
            self.reset_counter,
            self.num_of_hm_events,
            self.num_of_irqs,
            current_maf,
            self.sampling_read,
            self.sampling_written,
            self.queuing_sent,
            self.queuing_received,
        )


@dataclass(slots=True)
class Vcpu:
    """One vCPU: its two independent flags (§3.1), op mode, PCT reset fields and EXEC clock."""

    partition: int
    vcpu: int
    halted: bool = True  # created HALTED at boot
    suspended: bool = False
    op_mode: OpMode = OpMode.IDLE
    reset_counter: int = 0
    reset_status: int = 0
    sched_info: SchedInfo = NO_SCHED_INFO  # 0 until first dispatched (partition-api.md §12.2)
    exec_total: int = 0  # µs accumulated up to the last switch-out
    exec_since: int | None = None  # virtual time of the dispatch while running

    @property
    def key(self) -> VcpuKey:
        return (self.partition, self.vcpu)

    @property
    def ready(self) -> bool:
        return not self.halted and not self.suspended

    @property
    def state(self) -> VcpuStatus:
        if self.halted:
            return VcpuStatus.HALTED
        return VcpuStatus.SUSPENDED if self.suspended else VcpuStatus.READY

    def exec_clock(self, now: int) -> int:
        """EXEC clock (§2.1): time spent as the running vCPU of its CPU."""
        return self.exec_total + (now - self.exec_since if self.exec_since is not None else 0)

    def start_exec(self, now: int) -> None:
        if self.exec_since is None:
            self.exec_since = now

    def stop_exec(self, now: int) -> None:
        if self.exec_since is not None:
            self.exec_total += now - self.exec_since
            self.exec_since = None

    def halt(self) -> None:
        self.halted = True
        self.op_mode = OpMode.IDLE

    def restart(self, status: int, counter: int) -> None:
        """Start the vCPU afresh: it becomes ready (§4.2 step 6, §4.3)."""
        self.halted = False
        self.suspended = False
        self.reset_status = status
        self.reset_counter = counter


@dataclass(slots=True)
class PartitionState:
    """Run-time state of one partition."""

    config: Partition
    image: ImageStatus
    vcpus: list[Vcpu]
    op_mode: OpMode = OpMode.IDLE
    num_of_virqs: int = 0  # ext IRQs raised on its vCPUs; the interrupt layer increments it
    counters: Counters = field(default_factory=Counters)

    @property
    def id(self) -> int:
        return self.config.id

    @property
    def is_system(self) -> bool:
        return self.config.is_system

    @property
    def state(self) -> VcpuStatus:
        """§3.2: READY if any vCPU is, else SUSPENDED if any is, else HALTED."""
        states = {v.state for v in self.vcpus}
        for s in (VcpuStatus.READY, VcpuStatus.SUSPENDED):
            if s in states:
                return s
        return VcpuStatus.HALTED

    def status(self, now: int) -> PartStatus:
        """``prtos_get_partition_status`` at virtual time ``now``; PCT fields come from vCPU 0."""
        v0 = self.vcpus[0]
        c = self.counters
        return PartStatus(
            self.state,
            self.op_mode,
            self.num_of_virqs,
            v0.reset_counter,
            v0.reset_status,
            v0.exec_clock(now),
            c.sampling_read,
            c.sampling_written,
            c.queuing_sent,
            c.queuing_received,
        )


class PartitionTable:
    """All partitions' run-time state and the operations on it."""

    def __init__(self, partitions: Sequence[Partition], images: Mapping[int, ImageStatus] | None = None) -> None:
        images = images or {}
        self.partitions: tuple[PartitionState, ...] = tuple(
            PartitionState(
                config=p,
                image=images.get(p.id, ImageStatus.MISSING),
                vcpus=[Vcpu(p.id, v) for v in range(p.no_vcpus)],
            )
            for p in partitions
        )
        self.system = SystemCounters()

    @classmethod
    def from_system(cls, system: System, images: Mapping[int, ImageStatus] | None = None) -> PartitionTable:
        return cls(system.partitions, images)

    def __len__(self) -> int:
        return len(self.partitions)

    def __getitem__(self, pid: int) -> PartitionState:
        return self.partitions[pid]

    def vcpu(self, key: VcpuKey) -> Vcpu:
        return self.partitions[key[0]].vcpus[key[1]]

    def is_ready(self, key: VcpuKey) -> bool:
        """The scheduler's readiness predicate (§1.1)."""
        return self.vcpu(key).ready

    # -- boot and system reset (§4.1, §4.6) ---------------------------------------------------

    def boot(self, status: int = 0) -> Outcome:
        """§4.1 step 5: cold-reset every partition with a valid image (reset status ``status``)."""
        effects: list[Effect | ResetEffect] = []
        console: list[str] = []
        for p in self.partitions:
            if p.image is ImageStatus.OK:
                effects.extend(self.reset(p.id, ResetMode.COLD, status).effects)
            else:  # stays HALTED; an invalid image is worth a normative console line
                for v in p.vcpus:
                    v.halt()
                p.op_mode = OpMode.IDLE
                if p.image is ImageStatus.INVALID:
                    console.append(f"Unable to reset partition {p.id}")
        return Outcome(PrtosError.OK, tuple(effects), tuple(console))

    def system_reset(self, mode: ResetMode, status: int = 0) -> Outcome:
        """§4.6: every partition stops, counters restart (reset counter per ``mode``), boot again.

        ``status`` is 0 for ``prtos_reset_system`` and ``HM_RESET_STATUS_MODULE_RESTART | event``
        for the HM actions. EXEC clocks restart at 0 with the HW clock.
        """
        counter = 0 if mode is ResetMode.COLD else self.system.reset_counter + 1
        self.system = SystemCounters(reset_counter=counter)
        for p in self.partitions:
            p.op_mode = OpMode.IDLE
            p.num_of_virqs = 0
            p.counters = Counters()
            p.vcpus = [Vcpu(p.id, v.vcpu) for v in p.vcpus]  # fresh PCTs and EXEC clocks
        return self.boot(status)

    # -- unchecked operations (HM actions, prtosctl, and the hypercalls below) ----------------

    def halt(self, pid: int) -> Outcome:
        """Halt a partition: all vCPUs HALTED, op modes IDLE."""
        p = self.partitions[pid]
        for v in p.vcpus:
            v.halt()
        p.op_mode = OpMode.IDLE
        return Outcome(PrtosError.OK, (Effect(Action.PART_HALT, pid, _ids(p.vcpus)),))

    def suspend(self, pid: int) -> Outcome:
        """Suspend a partition: SUSPENDED set on every vCPU (halted ones stay halted too)."""
        p = self.partitions[pid]
        for v in p.vcpus:
            v.suspended = True
        return Outcome(PrtosError.OK, (Effect(Action.PART_SUSPEND, pid, _ids(p.vcpus)),))

    def resume(self, pid: int) -> Outcome:
        """Resume a partition: SUSPENDED cleared on every vCPU (a halted one stays halted)."""
        p = self.partitions[pid]
        for v in p.vcpus:
            v.suspended = False
        return Outcome(PrtosError.OK, (Effect(Action.PART_RESUME, pid, _ids(p.vcpus)),))

    def shutdown(self, pid: int) -> Outcome:
        """§4.4: ext IRQ SHUTDOWN on every non-halted vCPU; no state change."""
        p = self.partitions[pid]
        targets = tuple(v.vcpu for v in p.vcpus if not v.halted)
        return Outcome(PrtosError.OK, (Effect(Action.PART_SHUTDOWN, pid, targets),))

    def reset(self, pid: int, mode: ResetMode, status: int) -> Outcome:
        """§4.2: halt, then restart vCPU 0 (cold: counter 0; warm: counter + 1), or fail with INVALID_CONFIG."""
        p = self.partitions[pid]
        halted = self.halt(pid).effects
        if p.image is not ImageStatus.OK:  # the partition stays HALTED
            return Outcome(PrtosError.INVALID_CONFIG, halted)
        v0 = p.vcpus[0]
        counter = 0 if mode is ResetMode.COLD else v0.reset_counter + 1
        v0.restart(status, counter)
        p.op_mode = v0.op_mode = OpMode.COLD_RESET if mode is ResetMode.COLD else OpMode.WARM_RESET
        return Outcome(PrtosError.OK, (*halted, ResetEffect(pid, 0, mode, status, counter)))

    # -- partition hypercalls (partition-api.md §6.2) -----------------------------------------

    def _other_check(self, caller: VcpuKey, target: int) -> PrtosError | None:
        """The common "acting on another partition" checks: system caller, then target in range."""
        if not self.partitions[caller[0]].is_system:
            return PrtosError.PERM_ERROR
        if not 0 <= target < len(self.partitions):
            return PrtosError.INVALID_PARAM
        return None

    def halt_partition(self, caller: VcpuKey, target: int) -> Outcome:
        """Hypercall 1."""
        if target != caller[0]:
            if (err := self._other_check(caller, target)) is not None:
                return Outcome(err)
            if all(v.halted for v in self.partitions[target].vcpus):
                return Outcome(PrtosError.NO_ACTION)
        out = self.halt(target)
        return Outcome(PrtosError.OK, out.effects, (f"[HYPERCALL] (0x{target:x}) Halted",), target != caller[0])

    def suspend_partition(self, caller: VcpuKey, target: int) -> Outcome:
        """Hypercall 2; a self-suspend returns 0 once resumed and dispatched again."""
        if target != caller[0]:
            if (err := self._other_check(caller, target)) is not None:
                return Outcome(err)
            if all(v.suspended or v.halted for v in self.partitions[target].vcpus):
                return Outcome(PrtosError.NO_ACTION)
        return self.suspend(target)

    def resume_partition(self, caller: VcpuKey, target: int) -> Outcome:
        """Hypercall 3: resuming oneself is NO_ACTION for any caller (checked first)."""
        if target == caller[0]:
            return Outcome(PrtosError.NO_ACTION)
        if (err := self._other_check(caller, target)) is not None:
            return Outcome(err)
        if not any(v.suspended and not v.halted for v in self.partitions[target].vcpus):
            return Outcome(PrtosError.NO_ACTION)
        return self.resume(target)

    def reset_partition(self, caller: VcpuKey, target: int, mode: int, status: int) -> Outcome:
        """Hypercall 4; a successful (or failed) self-reset does not return to the old program."""
        if target != caller[0] and (err := self._other_check(caller, target)) is not None:
            return Outcome(err)
        if mode not in (ResetMode.COLD, ResetMode.WARM):
            return Outcome(PrtosError.INVALID_PARAM)
        out = self.reset(target, ResetMode(mode), status & 0xFFFFFFFF)
        return Outcome(out.code, out.effects, returns=target != caller[0])

    def shutdown_partition(self, caller: VcpuKey, target: int) -> Outcome:
        """Hypercall 5."""
        if target != caller[0] and (err := self._other_check(caller, target)) is not None:
            return Outcome(err)
        return self.shutdown(target)

    def check_system_call(self, caller: VcpuKey) -> PrtosError:
        """Hypercalls 6 and 7 need a system partition (the system halt/reset is the supervisor's)."""
        return PrtosError.OK if self.partitions[caller[0]].is_system else PrtosError.PERM_ERROR

    # -- vCPU hypercalls (partition-api.md §6.5, D-20, D-27) ----------------------------------

    def _own_vcpu(self, caller: VcpuKey, vcpu: int) -> Vcpu | None:
        vcpus = self.partitions[caller[0]].vcpus
        return vcpus[vcpu] if 0 <= vcpu < len(vcpus) else None

    def reset_vcpu(self, caller: VcpuKey, vcpu: int, ptdl1: int, entry: int, status: int) -> Outcome:
        """Hypercall 28: restart a vCPU of the caller's partition at ``entry`` (reset counter + 1)."""
        v = self._own_vcpu(caller, vcpu)
        if v is None:
            return Outcome(PrtosError.INVALID_PARAM)
        if not self._in_areas(caller[0], ptdl1):
            return Outcome(PrtosError.INVALID_PARAM)
        v.halt()
        status &= 0xFFFFFFFF
        v.restart(status, v.reset_counter + 1)
        eff = ResetEffect(caller[0], vcpu, None, status, v.reset_counter, entry=entry, ptdl1=ptdl1)
        return Outcome(PrtosError.OK, (eff,), returns=vcpu != caller[1])

    def halt_vcpu(self, caller: VcpuKey, vcpu: int) -> Outcome:
        """Hypercall 29; halting oneself never returns (only a reset revives the vCPU)."""
        v = self._own_vcpu(caller, vcpu)
        if v is None:
            return Outcome(PrtosError.INVALID_PARAM)
        if v.halted:
            return Outcome(PrtosError.NO_ACTION)
        v.halt()
        return Outcome(PrtosError.OK, (Effect(Action.VCPU_HALT, caller[0], (vcpu,)),), returns=vcpu != caller[1])

    def suspend_vcpu(self, caller: VcpuKey, vcpu: int) -> Outcome:
        """Hypercall 30 (D-20): NO_ACTION if already suspended or halted."""
        v = self._own_vcpu(caller, vcpu)
        if v is None:
            return Outcome(PrtosError.INVALID_PARAM)
        if v.suspended or v.halted:
            return Outcome(PrtosError.NO_ACTION)
        v.suspended = True
        return Outcome(PrtosError.OK, (Effect(Action.VCPU_SUSPEND, caller[0], (vcpu,)),))

    def resume_vcpu(self, caller: VcpuKey, vcpu: int) -> Outcome:
        """Hypercall 31 (D-20): acts only on a vCPU that is suspended and not halted."""
        v = self._own_vcpu(caller, vcpu)
        if v is None:
            return Outcome(PrtosError.INVALID_PARAM)
        if not (v.suspended and not v.halted):
            return Outcome(PrtosError.NO_ACTION)
        v.suspended = False
        return Outcome(PrtosError.OK, (Effect(Action.VCPU_RESUME, caller[0], (vcpu,)),))

    def _in_areas(self, pid: int, addr: int) -> bool:
        """Whether ``addr`` lies in one of the partition's areas (physical or mapped address)."""
        return any(a.start <= addr <= a.end or a.virt <= addr <= a.virt_end for a in self.partitions[pid].config.areas)

    # -- status object (partition-api.md §8.8) ------------------------------------------------

    def set_partition_opmode(self, caller: VcpuKey, target: int, mode: int) -> PrtosError:
        """``PRTOS_SET_PARTITION_OPMODE`` after the argument-size check, in the specified order."""
        if target != caller[0] and not self.partitions[caller[0]].is_system:
            return PrtosError.PERM_ERROR
        if target == HYPERVISOR_ID or not 0 <= target < len(self.partitions):
            return PrtosError.INVALID_PARAM
        if mode not in set(OpMode):
            return PrtosError.INVALID_PARAM
        self.partitions[target].op_mode = OpMode(mode)
        return PrtosError.OK

    def partition_status(self, pid: int, now: int) -> PartStatus:
        return self.partitions[pid].status(now)

    def vcpu_status(self, key: VcpuKey) -> tuple[VcpuStatus, OpMode]:
        """``prtos_virtual_cpu_status_t``: (state, op_mode)."""
        v = self.vcpu(key)
        return v.state, v.op_mode

    def system_status(self, current_maf: int) -> SysStatus:
        return self.system.snapshot(current_maf)

    # -- scheduling hooks (semantics.md §1.4, §2.1, D-19) -------------------------------------

    def dispatch(self, key: VcpuKey, now: int, *, slot_start: bool, sched_info: SchedInfo | None = None) -> None:
        """``key`` runs from ``now``: its EXEC clock runs; at a slot start its op modes become NORMAL."""
        v = self.vcpu(key)
        v.start_exec(now)
        if slot_start:
            v.op_mode = OpMode.NORMAL
            p = self.partitions[key[0]]
            if p.op_mode in (OpMode.COLD_RESET, OpMode.WARM_RESET):
                p.op_mode = OpMode.NORMAL
            if sched_info is not None:
                v.sched_info = sched_info

    def switch_out(self, key: VcpuKey, now: int) -> None:
        """``key`` stops being the running vCPU of its CPU: its EXEC clock stands still."""
        self.vcpu(key).stop_exec(now)

    def apply_decision(self, d: Decision) -> None:
        """Apply a scheduler decision's bookkeeping: switch-out, dispatch, op modes, sched info."""
        if d.context_switch and d.previous is not None:
            self.switch_out(d.previous, d.time)
        if d.owner is not None:
            self.dispatch(d.owner, d.time, slot_start=d.slot_start, sched_info=d.sched_info)


def _ids(vcpus: Sequence[Vcpu]) -> tuple[int, ...]:
    return tuple(v.vcpu for v in vcpus)


__all__ = [
    "HM_RESET_STATUS_MODULE_RESTART",
    "HYPERVISOR_ID",
    "Action",
    "Counters",
    "Effect",
    "ImageStatus",
    "OpMode",
    "Outcome",
    "PartStatus",
    "PartitionState",
    "PartitionTable",
    "ResetEffect",
    "ResetMode",
    "SysStatus",
    "SystemCounters",
    "Vcpu",
    "VcpuStatus",
]
