"""Health-monitor events and actions with PRTOS's names and values, their default tables and the
matrix of permitted (event, action) pairs at partition and hypervisor level.

One home for these facts: the configuration checker (check V-47..V-50), the supervisor applying
actions and the log decoder all read them from here.
"""

from __future__ import annotations

from enum import IntEnum


class HmEvent(IntEnum):
    """``PRTOS_HM_EV_*`` (partition-api.md §10.8); x86 events are 6 + trap number."""

    FATAL_ERROR = 0
    SYSTEM_ERROR = 1
    PARTITION_ERROR = 2
    FP_ERROR = 3
    MEM_PROTECTION = 4
    UNEXPECTED_TRAP = 5
    X86_DIVIDE_ERROR = 6
    X86_DEBUG = 7
    X86_NMI_INTERRUPT = 8
    X86_BREAKPOINT = 9
    X86_OVERFLOW = 10
    X86_BOUND_RANGE_EXCEEDED = 11
    X86_INVALID_OPCODE = 12
    X86_DEVICE_NOT_AVAILABLE = 13
    X86_DOUBLE_FAULT = 14
    X86_COPROCESSOR_SEGMENT_OVERRUN = 15
    X86_INVALID_TSS = 16
    X86_SEGMENT_NOT_PRESENT = 17
    X86_STACK_FAULT = 18
    X86_GENERAL_PROTECTION = 19
    X86_PAGE_FAULT = 20
    # 21: x86 vector 15 is reserved and has no event name (K-11).
    X86_X87_FPU_ERROR = 22
    X86_ALIGNMENT_CHECK = 23
    X86_MACHINE_CHECK = 24
    X86_SIMD_FLOATING_POINT = 25

    @property
    def full_name(self) -> str:
        return f"PRTOS_HM_EV_{self.name}"


class HmAction(IntEnum):
    """``PRTOS_HM_AC_*`` (partition-api.md §10.8)."""

    IGNORE = 0
    SHUTDOWN = 1
    PARTITION_COLD_RESET = 2
    PARTITION_WARM_RESET = 3
    HYPERVISOR_COLD_RESET = 4
    HYPERVISOR_WARM_RESET = 5
    SUSPEND = 6
    PARTITION_HALT = 7
    HYPERVISOR_HALT = 8
    PROPAGATE = 9
    SWITCH_TO_MAINTENANCE = 10

    @property
    def full_name(self) -> str:
        return f"PRTOS_HM_AC_{self.name}"


#: Number of event slots in a table (``PRTOS_HM_MAX_EVENTS``); slot 21 exists but has no name.
HM_MAX_EVENTS = 26
HM_MAX_GENERIC_EVENTS = 6
#: The schema accepts this name, the checker rejects it (D-02).
WATCHDOG_EVENT_NAME = "PRTOS_HM_EV_WATCHDOG_TIMER"

EVENT_BY_NAME: dict[str, HmEvent] = {e.full_name: e for e in HmEvent}
ACTION_BY_NAME: dict[str, HmAction] = {a.full_name: a for a in HmAction}

_ALL = frozenset(HmAction)
_X86 = frozenset(e for e in HmEvent if e >= HM_MAX_GENERIC_EVENTS)

#: semantics.md §9.4, partition level.
PARTITION_PERMITTED: dict[HmEvent, frozenset[HmAction]] = {
    HmEvent.FATAL_ERROR: frozenset({HmAction.PARTITION_HALT, HmAction.HYPERVISOR_HALT}),
    HmEvent.SYSTEM_ERROR: _ALL - {HmAction.IGNORE, HmAction.PROPAGATE},
    HmEvent.FP_ERROR: _ALL - {HmAction.IGNORE, HmAction.PROPAGATE},
    HmEvent.MEM_PROTECTION: _ALL - {HmAction.IGNORE, HmAction.PROPAGATE},
    HmEvent.PARTITION_ERROR: _ALL - {HmAction.PROPAGATE},
    HmEvent.UNEXPECTED_TRAP: _ALL - {HmAction.PROPAGATE},
    **{e: _ALL for e in _X86},
}

_HV_RESET_HALT = frozenset({HmAction.HYPERVISOR_COLD_RESET, HmAction.HYPERVISOR_WARM_RESET, HmAction.HYPERVISOR_HALT})
#: semantics.md §9.4, hypervisor level (upstream's matrix minus the actions that panic, D-08).
HYPERVISOR_PERMITTED: dict[HmEvent, frozenset[HmAction]] = {
    HmEvent.FATAL_ERROR: _HV_RESET_HALT,
    HmEvent.SYSTEM_ERROR: frozenset({HmAction.HYPERVISOR_HALT}),
    HmEvent.PARTITION_ERROR: frozenset({HmAction.HYPERVISOR_HALT}),
    HmEvent.FP_ERROR: frozenset({HmAction.HYPERVISOR_HALT}),
    HmEvent.MEM_PROTECTION: frozenset({HmAction.HYPERVISOR_HALT}),
    HmEvent.UNEXPECTED_TRAP: _HV_RESET_HALT | {HmAction.IGNORE, HmAction.SWITCH_TO_MAINTENANCE},
    **{e: _HV_RESET_HALT for e in _X86},
}


def default_partition_entry(event: int) -> tuple[HmAction, bool]:
    """Default (action, log) of a partition table slot (semantics.md §9.3)."""
    return HmAction.PARTITION_HALT, event < HM_MAX_GENERIC_EVENTS


def default_hypervisor_entry(event: int) -> tuple[HmAction, bool]:
    """Default (action, log) of a hypervisor table slot (semantics.md §9.3)."""
    return HmAction.HYPERVISOR_HALT, True
