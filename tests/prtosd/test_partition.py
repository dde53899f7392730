"""Unit tests of partition and vCPU state (semantics.md §2.1, §3, §4, §11; partition-api.md §6.2, §6.5)."""

from __future__ import annotations

import pytest

from prtosd.config.model import Area, Partition, PartitionFlag, Plan, Processor, Slot
from prtosd.errors import PrtosError
from prtosd.partition import (
    HM_RESET_STATUS_MODULE_RESTART,
    HYPERVISOR_ID,
    Action,
    Effect,
    ImageStatus,
    OpMode,
    PartitionTable,
    ResetEffect,
    ResetMode,
    VcpuStatus,
)
from prtosd.sched import CpuScheduler, SchedInfo

OK, NO_ACTION, INVALID_PARAM, PERM, INVALID_CONFIG = (
    PrtosError.OK,
    PrtosError.NO_ACTION,
    PrtosError.INVALID_PARAM,
    PrtosError.PERM_ERROR,
    PrtosError.INVALID_CONFIG,
)
READY, SUSPENDED, HALTED = VcpuStatus.READY, VcpuStatus.SUSPENDED, VcpuStatus.HALTED


def part(pid: int, *, system: bool = False, vcpus: int = 1) -> Partition:
    area = Area(start=0x6000000 + pid * 0x100000, size=0x100000)
    return Partition(
        id=pid,
        name=f"Partition{pid}",
        flags=PartitionFlag.SYSTEM if system else 0,
        no_vcpus=vcpus,
        areas=(area,),
    )


def table(*parts: Partition, images: dict[int, ImageStatus] | None = None, boot: bool = True) -> PartitionTable:
    imgs = images if images is not None else {p.id: ImageStatus.OK for p in parts}
    t = PartitionTable(parts, imgs)
    if boot:
        t.boot()
    return t


@pytest.fixture
def t007() -> PartitionTable:
    """example.007's partitions: P0 system, P1 and P2 ordinary."""
    return table(part(0, system=True), part(1), part(2))


def states(t: PartitionTable, *pids: int) -> tuple[VcpuStatus, ...]:
    return tuple(t[p].state for p in pids)


# -- boot (§4.1) -------------------------------------------------------------------------------


def test_boot_cold_resets_partitions_with_an_image() -> None:
    t = table(part(0), part(1, vcpus=2), boot=False)
    assert states(t, 0, 1) == (HALTED, HALTED)  # created HALTED
    out = t.boot(status=7)
    assert out.code == OK and out.console == ()
    assert ResetEffect(0, 0, ResetMode.COLD, 7, 0) in out.effects
    assert ResetEffect(1, 0, ResetMode.COLD, 7, 0) in out.effects
    assert states(t, 0, 1) == (READY, READY)
    assert t.vcpu((1, 1)).state == HALTED  # other vCPUs wait for prtos_reset_vcpu
    st = t.partition_status(0, now=0)
    assert (st.op_mode, st.reset_counter, st.reset_status, st.exec_clock) == (OpMode.COLD_RESET, 0, 7, 0)
    assert t.vcpu_status((0, 0)) == (READY, OpMode.COLD_RESET)
    assert t.vcpu_status((1, 1)) == (HALTED, OpMode.IDLE)


def test_boot_missing_and_invalid_images_stay_halted() -> None:
    t = table(part(0), part(1), part(2), images={0: ImageStatus.OK, 2: ImageStatus.INVALID}, boot=False)
    out = t.boot()
    assert out.console == ("Unable to reset partition 2",)
    assert states(t, 0, 1, 2) == (READY, HALTED, HALTED)
    assert t.partition_status(1, 0).op_mode == OpMode.IDLE


# -- reported states (§3.2) --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("flags", "expect"),
    [
        ([(False, False), (True, False)], READY),
        ([(True, True), (False, True)], SUSPENDED),
        ([(True, False), (True, True)], HALTED),
        ([(False, True), (False, False)], READY),
    ],
)
def test_partition_state_from_vcpu_states(flags: list[tuple[bool, bool]], expect: VcpuStatus) -> None:
    t = table(part(0, vcpus=2))
    for v, (h, s) in zip(t[0].vcpus, flags, strict=True):
        v.halted, v.suspended = h, s
    assert t[0].state == expect
    assert t.partition_status(0, 0).state == expect


def test_vcpu_state_halted_wins_over_suspended() -> None:
    t = table(part(0))
    v = t.vcpu((0, 0))
    v.suspended = True
    assert v.state == SUSPENDED and not t.is_ready((0, 0))
    v.halted = True
    assert v.state == HALTED


# -- hypercall 1: halt partition ---------------------------------------------------------------


def test_halt_self(t007: PartitionTable) -> None:
    out = t007.halt_partition((1, 0), 1)
    assert out.code == OK and not out.returns
    assert out.console == ("[HYPERCALL] (0x1) Halted",)
    assert out.effects == (Effect(Action.PART_HALT, 1, (0,)),)
    assert t007[1].state == HALTED and t007[1].op_mode == OpMode.IDLE
    assert t007.vcpu_status((1, 0)) == (HALTED, OpMode.IDLE)


def test_halt_other_checks_in_order(t007: PartitionTable) -> None:
    assert t007.halt_partition((1, 0), 7).code == PERM  # permission before range
    assert t007.halt_partition((1, 0), 2).code == PERM
    assert t007.halt_partition((0, 0), 3).code == INVALID_PARAM
    out = t007.halt_partition((0, 0), 2)
    assert out.code == OK and out.returns and out.console == ("[HYPERCALL] (0x2) Halted",)
    # example.007 step 8: the partition is already halted
    again = t007.halt_partition((0, 0), 2)
    assert again.code == NO_ACTION and again.console == () and again.effects == ()


def test_halt_hex_id_in_console() -> None:
    t = table(*(part(i, system=i == 0) for i in range(12)))
    assert t.halt_partition((0, 0), 11).console == ("[HYPERCALL] (0xb) Halted",)


# -- hypercall 2 and 3: suspend / resume -------------------------------------------------------


def test_suspend_checks_and_effect(t007: PartitionTable) -> None:
    assert t007.suspend_partition((1, 0), 2).code == PERM
    assert t007.suspend_partition((0, 0), 3).code == INVALID_PARAM
    out = t007.suspend_partition((0, 0), 1)
    assert out.code == OK and out.effects == (Effect(Action.PART_SUSPEND, 1, (0,)),)
    assert t007[1].state == SUSPENDED
    assert t007.suspend_partition((0, 0), 1).code == NO_ACTION
    t007.halt_partition((2, 0), 2)
    assert t007.suspend_partition((0, 0), 2).code == NO_ACTION  # halted counts as "already"


def test_suspend_self_by_non_system(t007: PartitionTable) -> None:
    out = t007.suspend_partition((1, 0), 1)
    assert out.code == OK and out.returns and t007[1].state == SUSPENDED


def test_suspend_sets_flag_on_halted_vcpus_too() -> None:
    t = table(part(0, system=True), part(1, vcpus=2))
    assert t.vcpu((1, 1)).halted
    t.suspend_partition((0, 0), 1)
    assert t.vcpu((1, 1)).halted and t.vcpu((1, 1)).suspended


def test_resume_checks_in_order(t007: PartitionTable) -> None:
    assert t007.resume_partition((1, 0), 1).code == NO_ACTION  # self first, for any caller
    assert t007.resume_partition((0, 0), 0).code == NO_ACTION
    assert t007.resume_partition((1, 0), 2).code == PERM  # resume always needs system
    assert t007.resume_partition((0, 0), 3).code == INVALID_PARAM
    assert t007.resume_partition((0, 0), 1).code == NO_ACTION  # not suspended
    t007.suspend_partition((0, 0), 1)
    assert t007.resume_partition((1, 0), 1).code == NO_ACTION
    out = t007.resume_partition((0, 0), 1)
    assert out.code == OK and out.effects == (Effect(Action.PART_RESUME, 1, (0,)),)
    assert t007[1].state == READY


def test_resume_does_not_revive_a_halted_partition(t007: PartitionTable) -> None:
    t007.suspend_partition((0, 0), 1)
    t007.halt_partition((0, 0), 1)
    assert t007.resume_partition((0, 0), 1).code == NO_ACTION  # suspended but halted
    t007.resume(1)  # unchecked: clears SUSPENDED only
    assert t007[1].state == HALTED and not t007.vcpu((1, 0)).suspended


# -- hypercall 4: reset partition --------------------------------------------------------------


def test_reset_checks_in_order(t007: PartitionTable) -> None:
    assert t007.reset_partition((1, 0), 2, 9, 0).code == PERM  # permission before mode
    assert t007.reset_partition((0, 0), 3, 0, 0).code == INVALID_PARAM
    assert t007.reset_partition((0, 0), 1, 2, 0).code == INVALID_PARAM
    assert t007.reset_partition((1, 0), 1, 2, 0).code == INVALID_PARAM  # self: only the mode check
    assert states(t007, 1, 2) == (READY, READY)  # nothing happened


def test_warm_reset_counts_up_and_cold_reset_zeroes(t007: PartitionTable) -> None:
    out = t007.reset_partition((0, 0), 1, ResetMode.WARM, 0x1234)
    assert out.code == OK and out.returns
    assert out.effects == (Effect(Action.PART_HALT, 1, (0,)), ResetEffect(1, 0, ResetMode.WARM, 0x1234, 1))
    st = t007.partition_status(1, 0)
    assert (st.state, st.op_mode, st.reset_counter, st.reset_status) == (READY, OpMode.WARM_RESET, 1, 0x1234)
    assert t007.vcpu_status((1, 0)) == (READY, OpMode.WARM_RESET)
    t007.reset_partition((0, 0), 1, ResetMode.WARM, 0)
    assert t007.partition_status(1, 0).reset_counter == 2
    t007.reset_partition((0, 0), 1, ResetMode.COLD, 5)
    st = t007.partition_status(1, 0)
    assert (st.op_mode, st.reset_counter, st.reset_status) == (OpMode.COLD_RESET, 0, 5)


def test_self_reset_does_not_return(t007: PartitionTable) -> None:
    out = t007.reset_partition((2, 0), 2, ResetMode.COLD, 3)
    assert out.code == OK and not out.returns
    assert t007[2].state == READY


def test_reset_without_image_fails_and_leaves_partition_halted() -> None:
    t = table(part(0, system=True), part(1), images={0: ImageStatus.OK, 1: ImageStatus.OK})
    t[1].image = ImageStatus.INVALID
    out = t.reset_partition((0, 0), 1, ResetMode.WARM, 0)
    assert out.code == INVALID_CONFIG and out.effects == (Effect(Action.PART_HALT, 1, (0,)),)
    assert t[1].state == HALTED
    t[1].image = ImageStatus.MISSING
    assert t.reset_partition((0, 0), 1, ResetMode.COLD, 0).code == INVALID_CONFIG


def test_reset_restarts_vcpu0_only_and_clears_suspend() -> None:
    t = table(part(0, system=True), part(1, vcpus=3))
    t.vcpu((1, 1)).halted = False  # as if started by prtos_reset_vcpu
    t.suspend_partition((0, 0), 1)
    t.reset_partition((0, 0), 1, ResetMode.COLD, 0)
    assert [v.state for v in t[1].vcpus] == [READY, HALTED, HALTED]


def test_hm_reset_uses_event_id_as_status(t007: PartitionTable) -> None:
    out = t007.reset(1, ResetMode.COLD, 12)
    assert out.code == OK and out.effects[-1] == ResetEffect(1, 0, ResetMode.COLD, 12, 0)
    assert t007.partition_status(1, 0).reset_status == 12


# -- hypercall 5: shutdown; 6/7 permission ------------------------------------------------------


def test_shutdown_raises_on_non_halted_vcpus_only() -> None:
    t = table(part(0, system=True), part(1, vcpus=2))
    assert t.shutdown_partition((1, 0), 0).code == PERM
    assert t.shutdown_partition((0, 0), 2).code == INVALID_PARAM
    out = t.shutdown_partition((0, 0), 1)
    assert out.code == OK and out.effects == (Effect(Action.PART_SHUTDOWN, 1, (0,)),)
    assert t[1].state == READY  # no state change
    assert t.shutdown_partition((1, 0), 1).code == OK  # self needs no system flag


def test_system_calls_need_system(t007: PartitionTable) -> None:
    assert t007.check_system_call((0, 0)) == OK
    assert t007.check_system_call((1, 0)) == PERM


# -- example.007 (scenarios.md §9): the supervisor partition's steps --------------------------


def test_example007_sequence(t007: PartitionTable) -> None:
    p0 = (0, 0)
    assert states(t007, 1, 2) == (READY, READY)
    assert t007.suspend_partition(p0, 1).code == OK and states(t007, 1, 2) == (SUSPENDED, READY)
    assert t007.suspend_partition(p0, 2).code == OK and states(t007, 1, 2) == (SUSPENDED, SUSPENDED)
    assert t007.resume_partition(p0, 1).code == OK and states(t007, 1, 2) == (READY, SUSPENDED)
    assert t007.resume_partition(p0, 2).code == OK and states(t007, 1, 2) == (READY, READY)
    t007.halt_partition((1, 0), 1)  # P1 and P2 end their programs
    t007.halt_partition((2, 0), 2)
    assert t007.halt_partition(p0, 1).code == NO_ACTION
    assert t007.halt_partition(p0, 2).code == NO_ACTION
    assert t007.reset_partition(p0, 1, ResetMode.WARM, 0).code == OK and states(t007, 1, 2) == (READY, HALTED)
    assert t007.reset_partition(p0, 2, ResetMode.WARM, 0).code == OK and states(t007, 1, 2) == (READY, READY)
    assert t007.partition_status(1, 0).reset_counter == 1


# -- vCPU hypercalls 28-31 (D-20, D-23, D-27) ---------------------------------------------------


@pytest.fixture
def smp() -> PartitionTable:
    return table(part(0, vcpus=2), part(1, vcpus=2))


def test_reset_vcpu(smp: PartitionTable) -> None:
    base = 0x6000000
    assert smp.reset_vcpu((0, 0), 2, base, 0x1000, 0).code == INVALID_PARAM
    assert smp.reset_vcpu((0, 0), 1, 0x6100000, base, 0).code == INVALID_PARAM  # P1's area, not ours
    out = smp.reset_vcpu((0, 0), 1, base + 0x2000, base + 0x40, 9)
    assert out.code == OK and out.returns
    assert out.effects == (ResetEffect(0, 1, None, 9, 1, entry=base + 0x40, ptdl1=base + 0x2000),)
    assert smp.vcpu_status((0, 1)) == (READY, OpMode.IDLE)
    assert smp.vcpu((0, 1)).reset_status == 9
    again = smp.reset_vcpu((0, 1), 1, base, base, 0)  # self: restarts at once, no return
    assert again.code == OK and not again.returns and smp.vcpu((0, 1)).reset_counter == 2


def test_reset_vcpu_accepts_mapped_address() -> None:
    p = Partition(id=0, no_vcpus=2, areas=(Area(start=0x6000000, size=0x1000, mapped_at=0x400000),))
    t = table(p)
    assert t.reset_vcpu((0, 0), 1, 0x400800, 0x400000, 0).code == OK
    assert t.reset_vcpu((0, 0), 1, 0x401000, 0x400000, 0).code == INVALID_PARAM  # one past the end


def test_halt_vcpu(smp: PartitionTable) -> None:
    assert smp.halt_vcpu((0, 0), 2).code == INVALID_PARAM
    assert smp.halt_vcpu((0, 0), 1).code == NO_ACTION  # never started
    out = smp.halt_vcpu((0, 0), 0)
    assert out.code == OK and not out.returns and out.effects == (Effect(Action.VCPU_HALT, 0, (0,)),)
    assert smp.vcpu_status((0, 0)) == (HALTED, OpMode.IDLE)
    assert smp[0].state == HALTED


def test_suspend_vcpu_d20(smp: PartitionTable) -> None:
    assert smp.suspend_vcpu((0, 0), 2).code == INVALID_PARAM
    assert smp.suspend_vcpu((0, 0), 1).code == NO_ACTION  # halted
    out = smp.suspend_vcpu((0, 0), 0)  # a ready (running) vCPU is suspended
    assert out.code == OK and out.effects == (Effect(Action.VCPU_SUSPEND, 0, (0,)),)
    assert smp.vcpu((0, 0)).state == SUSPENDED
    assert smp.suspend_vcpu((0, 0), 0).code == NO_ACTION  # already suspended


def test_resume_vcpu_d20(smp: PartitionTable) -> None:
    assert smp.resume_vcpu((0, 0), 4).code == INVALID_PARAM
    assert smp.resume_vcpu((0, 0), 0).code == NO_ACTION  # running: nothing to resume
    smp.suspend_vcpu((0, 0), 0)
    out = smp.resume_vcpu((0, 0), 0)
    assert out.code == OK and out.effects == (Effect(Action.VCPU_RESUME, 0, (0,)),)
    assert smp.vcpu((0, 0)).state == READY
    v1 = smp.vcpu((0, 1))
    v1.suspended = True  # halted and suspended
    assert smp.resume_vcpu((0, 0), 1).code == NO_ACTION and v1.suspended


def test_vcpu_calls_act_on_own_partition_only(smp: PartitionTable) -> None:
    smp.halt_vcpu((1, 0), 0)
    assert smp.vcpu((0, 0)).ready and not smp.vcpu((1, 0)).ready


# -- op modes (§3.3, D-19) and the status object -----------------------------------------------


def test_d19_op_mode_normal_at_first_dispatch_after_reset(t007: PartitionTable) -> None:
    assert t007[1].op_mode == OpMode.COLD_RESET
    t007.dispatch((1, 0), 0, slot_start=False)  # continuing mid-slot is not a slot start
    assert t007[1].op_mode == OpMode.COLD_RESET
    t007.dispatch((1, 0), 0, slot_start=True, sched_info=SchedInfo(2, 2, 500))
    assert t007[1].op_mode == OpMode.NORMAL
    assert t007.vcpu_status((1, 0)) == (READY, OpMode.NORMAL)
    assert t007.vcpu((1, 0)).sched_info == SchedInfo(2, 2, 500)
    t007.set_partition_opmode((1, 0), 1, OpMode.IDLE)
    t007.dispatch((1, 0), 10, slot_start=True)
    assert t007[1].op_mode == OpMode.IDLE  # only a reset mode is turned into NORMAL


def test_d19_secondary_vcpu_dispatch_normalises_partition() -> None:
    t = table(part(0, vcpus=2))
    t.reset_vcpu((0, 0), 1, 0x6000000, 0x6000000, 0)
    t.dispatch((0, 1), 0, slot_start=True)
    assert t[0].op_mode == OpMode.NORMAL
    assert t.vcpu_status((0, 0)) == (READY, OpMode.COLD_RESET)  # vCPU 0 not yet chosen


def test_set_partition_opmode_checks(t007: PartitionTable) -> None:
    assert t007.set_partition_opmode((1, 0), 2, 3) == PERM
    assert t007.set_partition_opmode((1, 0), HYPERVISOR_ID, 3) == PERM
    assert t007.set_partition_opmode((0, 0), HYPERVISOR_ID, 3) == INVALID_PARAM
    assert t007.set_partition_opmode((0, 0), 3, 3) == INVALID_PARAM
    assert t007.set_partition_opmode((1, 0), 1, 4) == INVALID_PARAM
    assert t007.set_partition_opmode((1, 0), 1, -1) == INVALID_PARAM
    assert t007.set_partition_opmode((1, 0), 1, 2) == OK
    assert t007[1].op_mode == OpMode.WARM_RESET and t007[1].state == READY  # no other effect


# -- EXEC clock (§2.1) -------------------------------------------------------------------------


def run_cpu(t: PartitionTable, s: CpuScheduler, now: int) -> None:
    t.apply_decision(s.decide(now, t.is_ready))


def test_exec_clock_advances_only_while_dispatched() -> None:
    t = table(part(0), part(1))
    p = Plan(
        id=0,
        major_frame=1000,
        slots=(
            Slot(id=0, start=0, duration=300, partition_id=0),
            Slot(id=1, start=300, duration=300, partition_id=1),
            Slot(id=2, start=700, duration=200, partition_id=0),
        ),
    )
    s = CpuScheduler(Processor(id=0, plans=(p,)))
    run_cpu(t, s, 0)
    assert t.vcpu((0, 0)).exec_clock(150) == 150
    run_cpu(t, s, 300)
    assert t.vcpu((0, 0)).exec_clock(450) == 300  # stands still outside its slots
    assert t.vcpu((1, 0)).exec_clock(450) == 150
    run_cpu(t, s, 600)  # gap
    run_cpu(t, s, 700)
    s.idle_self()  # P0 yields at 750
    run_cpu(t, s, 750)
    assert t.partition_status(0, 900).exec_clock == 350
    run_cpu(t, s, 900)
    run_cpu(t, s, 1000)  # next frame, P0 runs again
    t.halt_partition((0, 0), 0)  # halts itself at 1100
    run_cpu(t, s, 1100)
    assert t.vcpu((0, 0)).exec_clock(1300) == 450
    t.reset(0, ResetMode.COLD, 0)  # a reset keeps the EXEC clock
    assert t.vcpu((0, 0)).exec_clock(1300) == 450
    assert t.vcpu((1, 0)).exec_clock(2000) == 300


def test_exec_clock_halted_then_reset_in_same_slot_continues() -> None:
    t = table(part(0, system=True), part(1))
    p = Plan(id=0, major_frame=1000, slots=(Slot(id=0, start=0, duration=1000, partition_id=1),))
    s = CpuScheduler(Processor(id=0, plans=(p,)))
    run_cpu(t, s, 0)
    t.halt(1)
    run_cpu(t, s, 100)
    t.reset(1, ResetMode.WARM, 0)  # by a partition on another CPU
    run_cpu(t, s, 400)
    assert s.running == (1, 0)
    assert t.vcpu((1, 0)).exec_clock(500) == 200


# -- counters and system reset (§4.6, §11) ------------------------------------------------------


def test_status_counters_are_plain_fields(t007: PartitionTable) -> None:
    t007[1].counters.sampling_written += 2
    t007[1].num_of_virqs += 3
    t007.system.num_of_hm_events += 1
    t007.system.queuing_sent += 4
    st = t007.partition_status(1, 0)
    assert (st.num_of_virqs, st.num_of_sampling_port_msgs_written) == (3, 2)
    sys_st = t007.system_status(current_maf=17)
    assert (sys_st.num_of_hm_events, sys_st.current_maf, sys_st.num_of_queuing_port_msgs_sent) == (1, 17, 4)
    assert sys_st.reset_counter == 0


def test_system_reset_counters_and_reboot(t007: PartitionTable) -> None:
    t007.system.num_of_hm_events = 5
    t007[1].counters.queuing_received = 2
    t007.reset_partition((0, 0), 1, ResetMode.WARM, 0)
    t007.halt_partition((0, 0), 2)
    v = t007.vcpu((1, 0))
    v.start_exec(0)
    v.stop_exec(100)
    out = t007.system_reset(ResetMode.WARM, HM_RESET_STATUS_MODULE_RESTART | 4)
    assert t007.system.reset_counter == 1 and t007.system.num_of_hm_events == 0
    assert states(t007, 0, 1, 2) == (READY, READY, READY)
    st = t007.partition_status(1, 0)
    assert (st.reset_counter, st.reset_status, st.exec_clock, st.num_of_queuing_port_msgs_received) == (
        0,
        0x20004,
        0,
        0,
    )
    assert ResetEffect(2, 0, ResetMode.COLD, 0x20004, 0) in out.effects
    t007.system_reset(ResetMode.WARM)
    assert t007.system.reset_counter == 2
    t007.system_reset(ResetMode.COLD)
    assert t007.system.reset_counter == 0
