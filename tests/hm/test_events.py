"""HM event and action numbering (partition-api.md §10.8), default tables (semantics.md §9.3) and
the permitted-action matrices (semantics.md §9.4, D-08), written out here independently."""

from __future__ import annotations

import pytest

from hm.events import (
    ACTION_BY_NAME,
    EVENT_BY_NAME,
    HM_MAX_EVENTS,
    HM_MAX_GENERIC_EVENTS,
    HYPERVISOR_PERMITTED,
    PARTITION_PERMITTED,
    WATCHDOG_EVENT_NAME,
    HmAction,
    HmEvent,
    default_hypervisor_entry,
    default_partition_entry,
)

EVENTS = {
    0: "PRTOS_HM_EV_FATAL_ERROR",
    1: "PRTOS_HM_EV_SYSTEM_ERROR",
    2: "PRTOS_HM_EV_PARTITION_ERROR",
    3: "PRTOS_HM_EV_FP_ERROR",
    4: "PRTOS_HM_EV_MEM_PROTECTION",
    5: "PRTOS_HM_EV_UNEXPECTED_TRAP",
    6: "PRTOS_HM_EV_X86_DIVIDE_ERROR",
    7: "PRTOS_HM_EV_X86_DEBUG",
    8: "PRTOS_HM_EV_X86_NMI_INTERRUPT",
    9: "PRTOS_HM_EV_X86_BREAKPOINT",
    10: "PRTOS_HM_EV_X86_OVERFLOW",
    11: "PRTOS_HM_EV_X86_BOUND_RANGE_EXCEEDED",
    12: "PRTOS_HM_EV_X86_INVALID_OPCODE",
    13: "PRTOS_HM_EV_X86_DEVICE_NOT_AVAILABLE",
    14: "PRTOS_HM_EV_X86_DOUBLE_FAULT",
    15: "PRTOS_HM_EV_X86_COPROCESSOR_SEGMENT_OVERRUN",
    16: "PRTOS_HM_EV_X86_INVALID_TSS",
    17: "PRTOS_HM_EV_X86_SEGMENT_NOT_PRESENT",
    18: "PRTOS_HM_EV_X86_STACK_FAULT",
    19: "PRTOS_HM_EV_X86_GENERAL_PROTECTION",
    20: "PRTOS_HM_EV_X86_PAGE_FAULT",
    22: "PRTOS_HM_EV_X86_X87_FPU_ERROR",
    23: "PRTOS_HM_EV_X86_ALIGNMENT_CHECK",
    24: "PRTOS_HM_EV_X86_MACHINE_CHECK",
    25: "PRTOS_HM_EV_X86_SIMD_FLOATING_POINT",
}

ACTIONS = {
    0: "PRTOS_HM_AC_IGNORE",
    1: "PRTOS_HM_AC_SHUTDOWN",
    2: "PRTOS_HM_AC_PARTITION_COLD_RESET",
    3: "PRTOS_HM_AC_PARTITION_WARM_RESET",
    4: "PRTOS_HM_AC_HYPERVISOR_COLD_RESET",
    5: "PRTOS_HM_AC_HYPERVISOR_WARM_RESET",
    6: "PRTOS_HM_AC_SUSPEND",
    7: "PRTOS_HM_AC_PARTITION_HALT",
    8: "PRTOS_HM_AC_HYPERVISOR_HALT",
    9: "PRTOS_HM_AC_PROPAGATE",
    10: "PRTOS_HM_AC_SWITCH_TO_MAINTENANCE",
}


def test_event_values_and_names() -> None:
    assert {int(e): e.full_name for e in HmEvent} == EVENTS
    assert {name: int(e) for name, e in EVENT_BY_NAME.items()} == {n: i for i, n in EVENTS.items()}


def test_event_21_is_reserved() -> None:
    # K-11: x86 vector 15 has no event
    assert 21 not in {int(e) for e in HmEvent}
    with pytest.raises(ValueError):
        HmEvent(21)


def test_x86_events_are_6_plus_the_trap_number() -> None:
    traps = {
        "DIVIDE_ERROR": 0,
        "DEBUG": 1,
        "NMI_INTERRUPT": 2,
        "BREAKPOINT": 3,
        "PAGE_FAULT": 14,
        "X87_FPU_ERROR": 16,
        "SIMD_FLOATING_POINT": 19,
    }
    for name, trap in traps.items():
        assert HmEvent[f"X86_{name}"] == 6 + trap


def test_watchdog_is_not_an_event() -> None:
    assert WATCHDOG_EVENT_NAME == "PRTOS_HM_EV_WATCHDOG_TIMER"
    assert WATCHDOG_EVENT_NAME not in EVENT_BY_NAME


def test_action_values_and_names() -> None:
    assert {int(a): a.full_name for a in HmAction} == ACTIONS
    assert {name: int(a) for name, a in ACTION_BY_NAME.items()} == {n: i for i, n in ACTIONS.items()}
    assert len(HmAction) == 11  # PRTOS_HM_MAX_ACTIONS


def test_table_sizes() -> None:
    assert (HM_MAX_EVENTS, HM_MAX_GENERIC_EVENTS) == (26, 6)


@pytest.mark.parametrize("event", range(HM_MAX_EVENTS))
def test_partition_defaults(event: int) -> None:
    # generic events 0-5 log, x86 events 6-25 do not; the action is always PARTITION_HALT
    assert default_partition_entry(event) == (HmAction.PARTITION_HALT, event < 6)


@pytest.mark.parametrize("event", range(HM_MAX_EVENTS))
def test_hypervisor_defaults(event: int) -> None:
    assert default_hypervisor_entry(event) == (HmAction.HYPERVISOR_HALT, True)


A = HmAction
ALL = set(HmAction)
HV_RESET_HALT = {A.HYPERVISOR_COLD_RESET, A.HYPERVISOR_WARM_RESET, A.HYPERVISOR_HALT}

PARTITION = {
    HmEvent.FATAL_ERROR: {A.PARTITION_HALT, A.HYPERVISOR_HALT},
    HmEvent.SYSTEM_ERROR: ALL - {A.IGNORE, A.PROPAGATE},
    HmEvent.FP_ERROR: ALL - {A.IGNORE, A.PROPAGATE},
    HmEvent.MEM_PROTECTION: ALL - {A.IGNORE, A.PROPAGATE},
    HmEvent.PARTITION_ERROR: ALL - {A.PROPAGATE},
    HmEvent.UNEXPECTED_TRAP: ALL - {A.PROPAGATE},
}
HYPERVISOR = {
    HmEvent.FATAL_ERROR: HV_RESET_HALT,
    HmEvent.SYSTEM_ERROR: {A.HYPERVISOR_HALT},
    HmEvent.PARTITION_ERROR: {A.HYPERVISOR_HALT},
    HmEvent.FP_ERROR: {A.HYPERVISOR_HALT},
    HmEvent.MEM_PROTECTION: {A.HYPERVISOR_HALT},
    HmEvent.UNEXPECTED_TRAP: {A.IGNORE, A.SWITCH_TO_MAINTENANCE} | HV_RESET_HALT,
}


@pytest.mark.parametrize("event", list(HmEvent))
def test_partition_matrix(event: HmEvent) -> None:
    assert set(PARTITION_PERMITTED[event]) == PARTITION.get(event, ALL)


@pytest.mark.parametrize("event", list(HmEvent))
def test_hypervisor_matrix(event: HmEvent) -> None:
    assert set(HYPERVISOR_PERMITTED[event]) == HYPERVISOR.get(event, HV_RESET_HALT)


def test_hypervisor_never_permits_actions_that_would_panic() -> None:
    # D-08
    panicking = {A.SHUTDOWN, A.PARTITION_COLD_RESET, A.PARTITION_WARM_RESET, A.SUSPEND, A.PROPAGATE}
    assert all(not (set(permitted) & panicking) for permitted in HYPERVISOR_PERMITTED.values())


def test_defaults_are_permitted() -> None:
    for event in HmEvent:
        assert default_partition_entry(event)[0] in PARTITION_PERMITTED[event]
        assert default_hypervisor_entry(event)[0] in HYPERVISOR_PERMITTED[event]
