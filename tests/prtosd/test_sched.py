"""Unit tests of the cyclic scheduler (semantics.md §1): pure, virtual time only."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from prtosd.config.model import Plan, Processor, Slot
from prtosd.errors import PrtosError
from prtosd.sched import NEVER, NO_PLAN_WORD, CpuScheduler, PlanStatus, SchedInfo, SystemScheduler, VcpuKey

MS = 1000


def slot(sid: int, start_ms: float, dur_ms: float, pid: int, vcpu: int = 0) -> Slot:
    return Slot(id=sid, start=int(start_ms * MS), duration=int(dur_ms * MS), partition_id=pid, vcpu_id=vcpu)


def plan(pid: int, maf_ms: float, *slots: tuple[float, float, int] | tuple[float, float, int, int]) -> Plan:
    return Plan(id=pid, major_frame=int(maf_ms * MS), slots=tuple(slot(i, *s) for i, s in enumerate(slots)))


def cpu(cid: int, *plans: Plan) -> Processor:
    return Processor(id=cid, plans=plans)


def always(_: VcpuKey) -> bool:
    return True


def ready_set(keys: set[VcpuKey]) -> Callable[[VcpuKey], bool]:
    return lambda k: k in keys


A, B, C = (0, 0), (1, 0), (2, 0)


# -- slot decisions (§1.4) ---------------------------------------------------------------------


@pytest.fixture
def gapped() -> CpuScheduler:
    # MAF 1000 ms: gap [0,100), A [100,300), B [300,500), gap, C [700,900), tail gap [900,1000)
    return CpuScheduler(cpu(0, plan(0, 1000, (100, 200, 0), (300, 200, 1), (700, 200, 2))))


def test_slot_boundaries_and_gaps_exact(gapped: CpuScheduler) -> None:
    s = gapped
    expect = [
        (0, None, 100 * MS),
        (100 * MS, A, 300 * MS),
        (300 * MS, B, 500 * MS),
        (500 * MS, None, 700 * MS),
        (700 * MS, C, 900 * MS),
        (900 * MS, None, 1000 * MS),
        (1000 * MS, None, 1100 * MS),
        (1100 * MS, A, 1300 * MS),
    ]
    for now, owner, until in expect:
        d = s.decide(now, always)
        assert (d.owner, d.until) == (owner, until), now
        assert s.next_point == until
    assert s.current_maf == 2


def test_sched_info_and_slot_start(gapped: CpuScheduler) -> None:
    s = gapped
    s.decide(0, always)
    d = s.decide(100 * MS, always)
    assert d.slot_start and d.sched_info == SchedInfo(0, 0, 200 * MS)
    d = s.decide(700 * MS, always)
    assert d.sched_info == SchedInfo(2, 2, 200 * MS)
    d = s.decide(900 * MS, always)
    assert not d.slot_start and d.sched_info is None


def test_slot_index_uses_plan_position_and_slot_id() -> None:
    p = Plan(id=0, major_frame=1000, slots=(Slot(id=7, start=0, duration=10, partition_id=0),))
    d = CpuScheduler(cpu(0, p)).decide(0, always)
    assert d.sched_info == SchedInfo(0, 7, 10)


def test_not_ready_owner_leaves_slot_idle_k01(gapped: CpuScheduler) -> None:
    s = gapped
    ready = {B, C}
    s.decide(0, ready_set(ready))
    d = s.decide(100 * MS, ready_set(ready))
    # A not ready: idle until the *following* slot's start, B's time is not brought forward
    assert d.owner is None and d.until == 300 * MS
    ready.add(A)  # A becomes ready mid-slot: still nothing (K-01)
    d = s.decide(150 * MS, ready_set(ready))
    assert d.owner is None and d.until == 300 * MS and not d.context_switch
    d = s.decide(300 * MS, ready_set(ready))
    assert d.owner == B
    d = s.decide(1100 * MS, ready_set(ready))  # A runs at its next slot
    assert d.owner == A


def test_not_ready_last_slot_idles_to_frame_end() -> None:
    s = CpuScheduler(cpu(0, plan(0, 1000, (0, 200, 0), (300, 200, 1))))
    s.decide(0, always)
    d = s.decide(300 * MS, ready_set({A}))
    assert d.owner is None and d.until == 1000 * MS


def test_not_ready_with_gap_after_idles_to_next_slot_start() -> None:
    s = CpuScheduler(cpu(0, plan(0, 1000, (0, 200, 0), (600, 200, 1))))
    d = s.decide(0, ready_set({B}))
    assert d.owner is None and d.until == 600 * MS


def test_owner_halted_then_resumed_mid_slot_continues(gapped: CpuScheduler) -> None:
    s = gapped
    ready = {A, B, C}
    s.decide(0, ready_set(ready))
    d = s.decide(100 * MS, ready_set(ready))
    assert d.owner == A and d.context_switch and d.previous is None
    ready.discard(A)  # halted/suspended by someone
    d = s.decide(150 * MS, ready_set(ready))
    assert d.owner is None and d.until == 300 * MS and d.context_switch and d.previous == A
    ready.add(A)  # resumed/reset while its slot is in progress: still the owner
    d = s.decide(200 * MS, ready_set(ready))
    assert d.owner == A and d.until == 300 * MS and d.context_switch and not d.slot_start


def test_idle_self_gives_up_the_rest_of_the_slot(gapped: CpuScheduler) -> None:
    s = gapped
    s.decide(0, always)
    s.decide(100 * MS, always)
    s.idle_self()
    d = s.decide(120 * MS, always)
    assert d.owner is None and d.until == 300 * MS and d.context_switch and d.previous == A
    d = s.decide(300 * MS, always)
    assert d.owner == B


def test_same_vcpu_in_adjacent_slots_is_no_context_switch() -> None:
    s = CpuScheduler(cpu(0, plan(0, 1000, (0, 200, 0), (200, 200, 0), (400, 200, 1))))
    d0 = s.decide(0, always)
    d1 = s.decide(200 * MS, always)
    d2 = s.decide(400 * MS, always)
    assert d0.context_switch and d0.slot_start
    assert d1.owner == A and d1.slot_start and not d1.context_switch and d1.sched_info == SchedInfo(1, 1, 200 * MS)
    assert d2.owner == B and d2.context_switch and d2.previous == A


def test_zero_length_slot_is_skipped() -> None:
    s = CpuScheduler(cpu(0, plan(0, 1000, (0, 0, 0), (0, 500, 1))))
    d = s.decide(0, always)
    assert d.owner == B and d.sched_info == SchedInfo(1, 1, 500 * MS)


def test_late_decision_inside_a_slot_runs_to_slot_end(gapped: CpuScheduler) -> None:
    s = gapped
    s.decide(0, always)
    d = s.decide(350 * MS, always)  # past next_point (100): ended slot A skipped, B's remainder
    assert d.owner == B and d.until == 500 * MS


def test_time_must_not_go_backwards(gapped: CpuScheduler) -> None:
    gapped.decide(100 * MS, always)
    with pytest.raises(ValueError):
        gapped.decide(50 * MS, always)


# -- major frames (§1.3) -----------------------------------------------------------------------


def test_frames_continue_without_drift_and_missed_frames_are_skipped(gapped: CpuScheduler) -> None:
    s = gapped
    s.decide(0, always)
    assert (s.maf_start, s.maf_end, s.current_maf) == (0, 1000 * MS, 1)
    # nothing was decided for 2.5 frames: frames 1 and 2 skipped whole, frame 3 starts at 3000
    d = s.decide(3150 * MS, always)
    assert (s.maf_start, s.maf_end) == (3000 * MS, 4000 * MS)
    assert s.current_maf == 2  # one boundary processed
    assert d.owner == A and d.until == 3300 * MS
    assert s.plan_status().switch_time == 0  # no switch, only continuation


def test_first_frame_anchored_at_first_decision() -> None:
    s = CpuScheduler(cpu(0, plan(0, 1000, (0, 500, 0))))
    d = s.decide(7, always)
    assert (s.maf_start, d.until) == (7, 7 + 500 * MS)
    assert s.plan_status() == PlanStatus(7, 0, 0, -1)


def test_idle_plan_at_boot_idles_forever() -> None:
    s = CpuScheduler(cpu(0, Plan(id=0, major_frame=0)))
    d = s.decide(0, always)
    assert d.owner is None and d.until == NEVER and s.next_point == NEVER
    assert s.decide(10**12, always).owner is None
    assert s.current_maf == 1


def test_processor_without_plans_rejected() -> None:
    with pytest.raises(ValueError):
        CpuScheduler(cpu(0))


# -- plan switching (§1.6, partition-api.md §6.5) ---------------------------------------------


def three_plans(cid: int = 0) -> Processor:
    return cpu(
        cid,
        plan(0, 1000, (0, 500, 0), (500, 500, 1)),
        plan(1, 600, (0, 300, 2)),
        plan(2, 400, (0, 400, 1)),
    )


def test_switch_at_end_of_the_frame_in_which_it_was_requested() -> None:
    ss = SystemScheduler([three_plans()])
    s = ss.cpus[0]
    s.decide(0, always)
    assert ss.switch_sched_plan(0, 1, caller_is_system=True, now=100 * MS) == (PrtosError.OK, 0)
    assert s.plan_status() == PlanStatus(0, 1, 0, -1)
    d = s.decide(500 * MS, always)  # rest of the frame keeps the old plan
    assert d.owner == B and d.until == 1000 * MS
    d = s.decide(1000 * MS, always)
    assert d.owner == C and d.until == 1300 * MS
    assert (s.maf_start, s.maf_end) == (1000 * MS, 1600 * MS)
    assert s.plan_status() == PlanStatus(1000 * MS, 1, 1, 0)


def test_last_request_in_a_frame_wins() -> None:
    ss = SystemScheduler([three_plans()])
    s = ss.cpus[0]
    s.decide(0, always)
    assert ss.switch_sched_plan(0, 1, caller_is_system=True, now=0)[0] == PrtosError.OK
    assert ss.switch_sched_plan(0, 2, caller_is_system=True, now=1)[0] == PrtosError.OK
    s.decide(500 * MS, always)
    d = s.decide(1000 * MS, always)
    assert s.current is not None and s.current.id == 2 and d.owner == B and d.until == 1400 * MS


def test_requesting_current_is_no_action_even_with_a_pending_switch() -> None:
    ss = SystemScheduler([three_plans()])
    s = ss.cpus[0]
    s.decide(0, always)
    assert ss.switch_sched_plan(0, 2, caller_is_system=True, now=0)[0] == PrtosError.OK
    assert ss.switch_sched_plan(0, 0, caller_is_system=True, now=0) == (PrtosError.NO_ACTION, None)
    assert s.plan_status().next == 2  # the pending switch stays
    s.decide(1000 * MS, always)
    assert s.plan_status().current == 2


@pytest.mark.parametrize(
    ("plan_id", "system", "buffer_ok", "code"),
    [
        (0, False, True, PrtosError.PERM_ERROR),  # permission first, even for plan 0
        (5, False, False, PrtosError.PERM_ERROR),
        (0, True, False, PrtosError.INVALID_PARAM),  # buffer before NO_ACTION
        (0, True, True, PrtosError.NO_ACTION),  # plan 0 is current: NO_ACTION before range
        (3, True, True, PrtosError.INVALID_PARAM),
        (-1, True, True, PrtosError.INVALID_PARAM),
        (2, True, True, PrtosError.OK),
    ],
)
def test_switch_request_checks_in_order(plan_id: int, system: bool, buffer_ok: bool, code: PrtosError) -> None:
    ss = SystemScheduler([three_plans()])
    ss.cpus[0].decide(0, always)
    res, cur = ss.switch_sched_plan(0, plan_id, caller_is_system=system, now=0, buffer_ok=buffer_ok)
    assert res == code
    assert cur == (0 if code == PrtosError.OK else None)
    assert ss.cpus[0].plan_status().next == (plan_id if code == PrtosError.OK else 0)


def test_plan_zero_can_never_be_requested_k02() -> None:
    ss = SystemScheduler([three_plans()])
    s = ss.cpus[0]
    s.decide(0, always)
    ss.switch_sched_plan(0, 1, caller_is_system=True, now=0)
    s.decide(1000 * MS, always)
    assert ss.switch_sched_plan(0, 0, caller_is_system=True, now=1000 * MS) == (PrtosError.INVALID_PARAM, None)


def test_each_cpu_switches_at_its_own_frame_end_and_missing_plan_gives_idle_plan() -> None:
    ss = SystemScheduler([three_plans(0), cpu(1, plan(0, 300, (0, 300, 3)))])
    c0, c1 = ss.cpus
    c0.decide(0, always)
    c1.decide(0, always)
    assert ss.switch_sched_plan(0, 2, caller_is_system=True, now=100 * MS)[0] == PrtosError.OK
    assert c1.plan_status() == PlanStatus(0, 2, 0, -1)
    d1 = c1.decide(300 * MS, always)  # CPU 1's frame ends first: it idles for ever from here
    assert d1.owner is None and d1.until == NEVER
    assert c1.plan_status() == PlanStatus(300 * MS, 2, 2, 0)
    d0 = c0.decide(500 * MS, always)  # CPU 0 still in plan 0
    assert d0.owner == B
    d0 = c0.decide(1000 * MS, always)
    assert c0.plan_status() == PlanStatus(1000 * MS, 2, 2, 0) and d0.until == 1400 * MS
    # no later switch can rescue the idle CPU
    assert ss.switch_sched_plan(0, 1, caller_is_system=True, now=1000 * MS)[0] == PrtosError.OK
    assert c1.decide(5000 * MS, always).owner is None
    assert c1.plan_status().current == 2
    assert ss.current_maf == c0.current_maf + c1.current_maf == 2 + 2


def test_switch_checks_use_the_callers_cpu() -> None:
    ss = SystemScheduler([cpu(0, plan(0, 300, (0, 300, 3))), three_plans(1)])
    for c in ss.cpus:
        c.decide(0, always)
    assert ss.switch_sched_plan(0, 1, caller_is_system=True, now=0)[0] == PrtosError.INVALID_PARAM
    assert ss.switch_sched_plan(1, 1, caller_is_system=True, now=0)[0] == PrtosError.OK
    assert ss.cpus[0].plan_status().next == 1  # idle plan request named after plan 1


def test_audit_events_for_requests_and_switches() -> None:
    ss = SystemScheduler([three_plans()])
    s = ss.cpus[0]
    s.decide(0, always)
    ss.switch_sched_plan(0, 2, caller_is_system=True, now=50)
    s.decide(500 * MS, always)
    s.decide(1000 * MS, always)
    ev = ss.drain_events()
    assert [(e.time, e.kind, e.payload) for e in ev] == [
        (0, "PLAN_SWITCH_DONE", (NO_PLAN_WORD, 0)),
        (50, "PLAN_SWITCH_REQ", (2,)),
        (1000 * MS, "PLAN_SWITCH_DONE", (0, 2)),
    ]
    assert ev[0].running is None and ev[1].running == A and ev[2].running == B
    assert ss.drain_events() == []


def test_no_switch_event_when_a_request_is_cancelled_by_no_action_rules() -> None:
    ss = SystemScheduler([three_plans()])
    s = ss.cpus[0]
    s.decide(0, always)
    ss.drain_events()
    ss.switch_sched_plan(0, 0, caller_is_system=True, now=0)  # NO_ACTION
    s.decide(1000 * MS, always)
    assert [e.kind for e in ss.drain_events()] == []


def test_plan_status_before_boot() -> None:
    ss = SystemScheduler([three_plans()])
    assert ss.plan_status(0) == PlanStatus(0, 0, -1, -1)


def test_system_reset_returns_to_plan_zero() -> None:
    ss = SystemScheduler([three_plans()])
    s = ss.cpus[0]
    s.decide(0, always)
    ss.switch_sched_plan(0, 1, caller_is_system=True, now=0)
    s.decide(1000 * MS, always)
    ss.reset()
    assert ss.plan_status(0) == PlanStatus(0, 0, -1, -1) and ss.current_maf == 0
    d = s.decide(0, always)  # the HW clock restarts at 0
    assert d.owner == A and s.plan_status() == PlanStatus(0, 0, 0, -1)


# -- maintenance plan (§1.7) -------------------------------------------------------------------


def test_maintenance_switch_is_immediate_but_keeps_next_point() -> None:
    ss = SystemScheduler([three_plans(0), three_plans(1)])
    c0, c1 = ss.cpus
    c0.decide(0, always)
    c1.decide(0, always)
    assert ss.switch_to_maintenance(0, 200 * MS) == PrtosError.OK
    assert c0.plan_status() == PlanStatus(200 * MS, 1, 1, 0)
    assert c1.plan_status() == PlanStatus(0, 1, 0, -1)  # others: at their frame end
    d = c0.decide(250 * MS, always)  # the slot in progress runs to its planned end
    assert d.owner == A and d.until == 500 * MS
    d = c0.decide(500 * MS, always)  # plan 1's first frame anchored at that point
    assert d.owner == C and d.until == 800 * MS and d.sched_info == SchedInfo(0, 0, 300 * MS)
    assert (c0.maf_start, c0.maf_end) == (500 * MS, 1100 * MS)
    assert c0.decide(800 * MS, always).until == 1100 * MS
    assert c0.decide(1100 * MS, always).owner == C
    d = c1.decide(500 * MS, always)
    assert d.owner == B  # CPU 1 still finishes its plan-0 frame
    assert c1.decide(1000 * MS, always).owner == C
    assert c1.plan_status() == PlanStatus(1000 * MS, 1, 1, 0)
    kinds = [(e.cpu, e.kind, e.payload) for e in ss.drain_events() if e.time > 0]
    assert kinds == [(0, "PLAN_SWITCH_REQ", (1,)), (0, "PLAN_SWITCH_DONE", (0, 1)), (1, "PLAN_SWITCH_DONE", (0, 1))]


def test_maintenance_in_a_gap_anchors_at_the_gap_end(gapped: CpuScheduler) -> None:
    proc = Processor(id=0, plans=(gapped.processor.plans[0], plan(1, 100, (0, 50, 3))))
    ss = SystemScheduler([proc])
    s = ss.cpus[0]
    s.decide(0, always)
    assert s.decide(500 * MS, always).until == 700 * MS  # gap [500, 700)
    ss.switch_to_maintenance(0, 550 * MS)
    assert s.decide(600 * MS, always).until == 700 * MS
    d = s.decide(700 * MS, always)
    assert d.owner == (3, 0) and d.until == 750 * MS


def test_maintenance_when_already_current_changes_nothing() -> None:
    ss = SystemScheduler([three_plans()])
    s = ss.cpus[0]
    s.decide(0, always)
    ss.switch_to_maintenance(0, 10)
    s.decide(500 * MS, always)
    before = s.plan_status()
    assert ss.switch_to_maintenance(0, 600 * MS) == PrtosError.NO_ACTION
    assert s.plan_status() == before


# -- example.006 (scenarios.md §8) as a pure scheduler timeline ------------------------------


def example006() -> Processor:
    return cpu(
        0,
        plan(0, 2000, (0, 400, 2), (400, 400, 0), (800, 400, 1), (1200, 400, 0), (1600, 400, 1)),
        plan(1, 1200, (0, 400, 2), (400, 400, 0), (800, 400, 1)),
        plan(2, 800, (0, 400, 2), (400, 400, 1)),
    )


def run_example006(proc: Processor) -> tuple[list[tuple[int, int, str]], SystemScheduler]:
    """Simulate the programs of example.006: P0/P1 run 10 steps then halt; P2 requests plans."""
    ss = SystemScheduler([proc])
    s = ss.cpus[0]
    halted: set[int] = set()
    steps = {0: 0, 1: 0, 2: 0}
    plan_id = 0
    log: list[tuple[int, int, str]] = []
    now = 0
    while now < 12_000 * MS:
        d = s.decide(now, lambda k: k[0] not in halted)
        if d.owner is not None:
            pid = d.owner[0]
            seq = steps[pid]
            steps[pid] += 1
            if pid == 2 and seq < 6:
                text = f"Run {seq}"
                if seq % 2 == 0:
                    plan_id = (plan_id + 1) % 3
                    code, _ = ss.switch_sched_plan(0, plan_id, caller_is_system=True, now=now)
                    text += f" / switch {plan_id} {'OK' if code >= 0 else 'FAILED'}"
                    if code < 0:
                        assert code == PrtosError.INVALID_PARAM
                log.append((now // MS, pid, text))
                s.idle_self()
            elif pid != 2 and seq < 10:
                log.append((now // MS, pid, f"Run {seq}"))
                s.idle_self()
            else:
                log.append((now // MS, pid, "halt"))
                halted.add(pid)
            assert s.decide(now, lambda k: k[0] not in halted).owner is None  # rest of the slot is idle
        now = s.next_point
    return log, ss


EXAMPLE006_TIMELINE = [
    (0, 2, "Run 0 / switch 1 OK"),
    (400, 0, "Run 0"),
    (800, 1, "Run 0"),
    (1200, 0, "Run 1"),
    (1600, 1, "Run 1"),
    (2000, 2, "Run 1"),  # plan 1 from here
    (2400, 0, "Run 2"),
    (2800, 1, "Run 2"),
    (3200, 2, "Run 2 / switch 2 OK"),
    (3600, 0, "Run 3"),
    (4000, 1, "Run 3"),
    (4400, 2, "Run 3"),  # plan 2 from here
    (4800, 1, "Run 4"),
    (5200, 2, "Run 4 / switch 0 FAILED"),
    (5600, 1, "Run 5"),
    (6000, 2, "Run 5"),
    (6400, 1, "Run 6"),
    (6800, 2, "halt"),  # Verification Passed, Halting
    (7200, 1, "Run 7"),
    (8000, 1, "Run 8"),
    (8800, 1, "Run 9"),
    (9600, 1, "halt"),
]


def test_example006_timeline() -> None:
    log, ss = run_example006(example006())
    assert log == EXAMPLE006_TIMELINE
    assert all(pid != 0 for t, pid, _ in log if t > 3600)  # P0 has no slot in plan 2
    assert ss.plan_status(0) == PlanStatus(4400 * MS, 2, 2, 1)
    done = [(e.time // MS, e.payload) for e in ss.drain_events() if e.kind == "PLAN_SWITCH_DONE"]
    assert done == [(0, (NO_PLAN_WORD, 0)), (2000, (0, 1)), (4400, (1, 2))]


def test_example006_config_file_matches_the_hand_built_plans() -> None:
    from pathlib import Path

    from prtosd.config import load_system

    xml = Path(__file__).resolve().parents[2] / "configs" / "example.006" / "system.xml"
    if not xml.is_file():
        pytest.skip("example configuration not present")
    proc = load_system(xml).processors[0]
    got = [(p.id, p.major_frame, [(s.start, s.end, s.partition_id) for s in p.slots]) for p in proc.plans]
    want = [(p.id, p.major_frame, [(s.start, s.end, s.partition_id) for s in p.slots]) for p in example006().plans]
    assert got == want
    assert run_example006(proc)[0] == EXAMPLE006_TIMELINE
