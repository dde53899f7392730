"""Per-CPU cyclic scheduling and plan switching (semantics.md §1), as pure, deterministic logic.

Rationale: the schedule is the heart of temporal isolation, so it is kept free of processes,
sockets and wall-clock time. It only sees integer virtual µs and a readiness predicate, which makes
every rule (slot boundaries, K-01 idle slots, K-03 switches at the frame end) testable exactly.

Contract with the supervisor:

* At every scheduling point (``now >= cpu.next_point``, and once at boot) the supervisor calls
  :meth:`CpuScheduler.decide` with the virtual time and a predicate telling whether a vCPU is
  ready (neither HALTED nor SUSPENDED). The :class:`Decision` names the vCPU to run (or ``None``
  for idle) and ``until``, the end of its grant: no guest instruction of that vCPU may execute at
  or after ``until``.
* Between scheduling points the supervisor may call :meth:`CpuScheduler.decide` again whenever
  the readiness of the slot owner may have changed (halt, suspend, resume, reset). No new owner is
  ever chosen then (§1.5): the owner continues if it is ready again, otherwise the CPU idles.
  ``prtos_idle_self`` is reported with :meth:`CpuScheduler.idle_self` (the owner gives up the slot).
* ``Decision.context_switch`` says the running entity changed (the EXEC clock of ``previous``
  stops, the owner's resumes, its expired HW timers are processed, CONTEXT_SWITCH is audited);
  ``Decision.slot_start`` says the owner was chosen at a slot start (op modes NORMAL, PCT
  ``cyclic_sched_info`` = ``Decision.sched_info``, ext IRQ CYCLIC_SLOT_START).
* Plan requests from ``prtos_switch_sched_plan`` and the HM maintenance switch go through
  :class:`SystemScheduler`, which applies them to every CPU (§1.6, §1.7) and records the audit
  events PLAN_SWITCH_REQ / PLAN_SWITCH_DONE as :class:`SchedEvent` tuples for the supervisor to drain.

Choices where the specification is silent: the idle plan given to a CPU that lacks the requested
plan carries the requested id (its plan status names the plan the system is in); "the vCPU that
ran before" includes idle, so leaving or entering idle is a context switch; a maintenance switch
when the raising CPU is already in plan 1 changes nothing on any CPU (NO_ACTION); PLAN_SWITCH_REQ
is recorded once, on the requesting CPU.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import NamedTuple

from prtosd.config.model import Plan, Processor, System
from prtosd.errors import PrtosError

#: A schedulable entity: (partition id, vCPU id).
VcpuKey = tuple[int, int]

#: ``until`` of a CPU that idles for ever (idle plan, §1.3); later than any reachable virtual time.
NEVER: int = 2**63 - 1

#: Plan 1 of every CPU is the maintenance plan (§1.7).
MAINTENANCE_PLAN = 1

#: Audit payload for "no previous plan" (D-59).
NO_PLAN_WORD = 0xFFFFFFFF


class SchedInfo(NamedTuple):
    """PCT ``cyclic_sched_info`` (partition-api.md §11.3): the field named ``num_of_slots`` is the index."""

    index: int
    slot_id: int
    duration: int


class Decision(NamedTuple):
    """What a CPU does from ``time`` until ``until``."""

    time: int
    owner: VcpuKey | None  # vCPU to run, None = idle
    until: int  # absolute end of this run or idle period (NEVER = for ever)
    slot_start: bool  # owner was chosen at a slot start (§1.4)
    sched_info: SchedInfo | None  # cyclic_sched_info for the owner when slot_start
    context_switch: bool  # the running entity changed (idle counts as an entity)
    previous: VcpuKey | None  # what ran on this CPU before this decision


class PlanStatus(NamedTuple):
    """``prtos_plan_status_t`` contents (§1.8); ids are −1 where there is no plan."""

    switch_time: int
    next: int
    current: int
    prev: int


class SchedEvent(NamedTuple):
    """An audit event of the SCHED module produced by the scheduler (semantics.md §10.5)."""

    time: int
    cpu: int
    kind: str  # "PLAN_SWITCH_REQ" | "PLAN_SWITCH_DONE"
    payload: tuple[int, ...]
    running: VcpuKey | None  # the vCPU current on that CPU when it happened (None = idle)


def _idle_plan(plan_id: int) -> Plan:
    """The plan a CPU gets when it lacks the requested id: no slots, MAF 0 (idles for ever).

    It carries the requested id, so plan status on that CPU names the plan the system is in.
    """
    return Plan(id=plan_id, name="", major_frame=0, slots=())


class CpuScheduler:
    """The cyclic scheduler of one physical CPU (§1.2–§1.5, §1.7, §1.8)."""

    def __init__(self, processor: Processor, events: list[SchedEvent] | None = None) -> None:
        if not processor.plans:
            raise ValueError(f"processor {processor.id} has no plan")
        self.processor = processor
        self.cpu = processor.id
        # Shared with the SystemScheduler so events of all CPUs land in one ordered list.
        self.events: list[SchedEvent] = events if events is not None else []
        self.reset()

    # -- state --------------------------------------------------------------------------------

    def reset(self) -> None:
        """Boot state (also after a system reset): plan 0 requested, nothing current."""
        self.current: Plan | None = None
        self.requested: Plan = self.processor.plans[0]
        self.previous: Plan | None = None
        self.maf_start = 0
        self.maf_end = 0
        self.slot = 0
        self.owner: VcpuKey | None = None
        self.running: VcpuKey | None = None
        self.next_point = 0
        self.switch_time = 0
        self.current_maf = 0
        self._last_now = 0

    def plan(self, plan_id: int) -> Plan:
        """This CPU's plan with that id, or an idle plan when the CPU has fewer plans (§1.6)."""
        plans = self.processor.plans
        return plans[plan_id] if 0 <= plan_id < len(plans) else _idle_plan(plan_id)

    @property
    def num_plans(self) -> int:
        return len(self.processor.plans)

    # -- decisions ----------------------------------------------------------------------------

    def decide(self, now: int, is_ready: Callable[[VcpuKey], bool]) -> Decision:
        """The scheduling decision at ``now``: a new one at a scheduling point, else a re-evaluation."""
        if now < self._last_now:
            raise ValueError(f"CPU {self.cpu}: time went backwards ({now} < {self._last_now})")
        self._last_now = now
        if self.current is None or now >= self.next_point:
            return self._schedule(now, is_ready)
        # Mid-slot (§1.5): never a new owner; the owner runs again only if it is ready.
        runs = self.owner if self.owner is not None and is_ready(self.owner) else None
        return self._result(now, runs, self.next_point, slot_start=False, info=None)

    def idle_self(self) -> None:
        """The owner called ``prtos_idle_self``: it gives up the rest of its slot (K-01)."""
        self.owner = None

    def _schedule(self, now: int, is_ready: Callable[[VcpuKey], bool]) -> Decision:
        assert self.requested is not None
        if self.current is None or (self.current.major_frame > 0 and now >= self.maf_end):
            self._new_frame(now)
        plan = self.current
        assert plan is not None
        if plan.major_frame == 0:  # idle plan: nothing ever runs again on this CPU
            self.owner = None
            self.next_point = NEVER
            return self._result(now, None, NEVER, slot_start=False, info=None)
        t = now - self.maf_start
        slots = plan.slots
        i = self.slot
        while i < len(slots) and slots[i].end <= t:  # skip ended slots
            i += 1
        self.slot = i
        self.owner = None
        info = None
        if i == len(slots):  # no slot left in this frame
            rel_until = plan.major_frame
        elif t < slots[i].start:  # a gap before the next slot
            rel_until = slots[i].start
        else:
            s = slots[i]
            key: VcpuKey = (s.partition_id, s.vcpu_id)
            if is_ready(key):
                self.owner = key
                rel_until = s.end
                info = SchedInfo(i, s.id, s.duration)
            else:  # K-01: the slot stays idle up to the following slot
                rel_until = slots[i + 1].start if i + 1 < len(slots) else plan.major_frame
        self.next_point = self.maf_start + rel_until
        return self._result(now, self.owner, self.next_point, slot_start=self.owner is not None, info=info)

    def _new_frame(self, now: int) -> None:
        """§1.3: switch plans at a frame boundary, or continue the frames without drift."""
        if self.current is None or self.requested != self.current:  # plans compare by value
            self._switch(now, self.requested)
            self.maf_start = now
            self.maf_end = now + self.requested.major_frame
        else:
            maf = self.current.major_frame
            skipped = (now - self.maf_start) // maf  # ≥ 1; missed frames are skipped whole
            self.maf_start += skipped * maf
            self.maf_end = self.maf_start + maf
        self.slot = 0
        self.current_maf += 1

    def _switch(self, now: int, plan: Plan) -> None:
        self.previous = self.current
        self.current = plan
        self.requested = plan
        self.switch_time = now
        prev_word = NO_PLAN_WORD if self.previous is None else self.previous.id
        self.events.append(SchedEvent(now, self.cpu, "PLAN_SWITCH_DONE", (prev_word, plan.id), self.running))

    def _result(
        self, now: int, runs: VcpuKey | None, until: int, *, slot_start: bool, info: SchedInfo | None
    ) -> Decision:
        previous = self.running
        self.running = runs
        return Decision(now, runs, until, slot_start, info, runs != previous, previous)

    # -- plans --------------------------------------------------------------------------------

    def request_plan(self, plan_id: int) -> None:
        """Make ``plan_id`` the plan to switch to at this CPU's next frame end; the last request wins."""
        self.requested = self.plan(plan_id)

    def switch_to_maintenance(self, now: int) -> bool:
        """§1.7 on the CPU that raised the event: plan 1 now, its first frame anchored at ``next_point``.

        The slot or gap in progress keeps running to its planned end. Returns False when plan 1 is
        already current (nothing changes).
        """
        target = self.plan(MAINTENANCE_PLAN)
        if self.current is None:  # not started yet: plan 1 simply becomes the first plan
            self.requested = target
            return True
        if self.current == target:
            return False
        self._switch(now, target)
        # Place the frame so that the next scheduling point is a frame boundary of plan 1 and the
        # ordinary "continue without drift" rule starts plan 1's first frame exactly there.
        self.maf_start = self.next_point - target.major_frame
        self.maf_end = self.next_point
        return True

    def plan_status(self) -> PlanStatus:
        """§1.8 for this CPU."""
        cur = -1 if self.current is None else self.current.id
        prev = -1 if self.previous is None else self.previous.id
        return PlanStatus(self.switch_time, self.requested.id, cur, prev)


class SystemScheduler:
    """All CPUs' schedulers, plan requests applied system-wide, and the SCHED audit events."""

    def __init__(self, processors: Sequence[Processor]) -> None:
        self.events: list[SchedEvent] = []
        self.cpus: tuple[CpuScheduler, ...] = tuple(CpuScheduler(p, self.events) for p in processors)

    @classmethod
    def from_system(cls, system: System) -> SystemScheduler:
        return cls(system.processors)

    def reset(self) -> None:
        """System reset (§4.6): every CPU back to plan 0 at the next decision, counters 0."""
        for cpu in self.cpus:
            cpu.reset()
        self.events.clear()

    @property
    def current_maf(self) -> int:
        """System status ``current_maf``: frame boundaries processed by all CPUs together (§11)."""
        return sum(cpu.current_maf for cpu in self.cpus)

    def switch_sched_plan(
        self, cpu: int, plan_id: int, *, caller_is_system: bool, now: int, buffer_ok: bool = True
    ) -> tuple[PrtosError, int | None]:
        """Hypercall 26 for a caller on ``cpu`` (partition-api.md §6.5), checks in their order.

        ``buffer_ok`` is the guest-memory check of ``current_plan`` done by the caller of this
        method; it is passed in so that the checks keep their specified order. On success the
        second value is the caller CPU's current plan id, to be stored in ``*current_plan``.
        """
        sched = self.cpus[cpu]
        if not caller_is_system:
            return PrtosError.PERM_ERROR, None
        if not buffer_ok:
            return PrtosError.INVALID_PARAM, None
        current_id = -1 if sched.current is None else sched.current.id
        if plan_id == current_id:
            return PrtosError.NO_ACTION, None
        if plan_id < 1 or plan_id >= sched.num_plans:  # plan 0 can never be requested (K-02)
            return PrtosError.INVALID_PARAM, None
        self._request_all(plan_id, now, cpu)
        return PrtosError.OK, current_id

    def switch_to_maintenance(self, cpu: int, now: int) -> PrtosError:
        """HM action SWITCH_TO_MAINTENANCE raised on ``cpu`` (§1.7), without permission/range checks."""
        raising = self.cpus[cpu]
        if raising.current is not None and raising.current == raising.plan(MAINTENANCE_PLAN):
            return PrtosError.NO_ACTION
        self._request_all(MAINTENANCE_PLAN, now, cpu)
        raising.switch_to_maintenance(now)
        return PrtosError.OK

    def _request_all(self, plan_id: int, now: int, cpu: int) -> None:
        self.events.append(SchedEvent(now, cpu, "PLAN_SWITCH_REQ", (plan_id,), self.cpus[cpu].running))
        for sched in self.cpus:
            sched.request_plan(plan_id)

    def plan_status(self, cpu: int) -> PlanStatus:
        return self.cpus[cpu].plan_status()

    def drain_events(self) -> list[SchedEvent]:
        """Audit events since the last drain, in the order they happened."""
        out = list(self.events)
        self.events.clear()
        return out


__all__ = [
    "MAINTENANCE_PLAN",
    "NEVER",
    "NO_PLAN_WORD",
    "CpuScheduler",
    "Decision",
    "PlanStatus",
    "SchedEvent",
    "SchedInfo",
    "SystemScheduler",
    "VcpuKey",
]
