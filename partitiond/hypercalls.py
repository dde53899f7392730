"""The fixed hypercall table (partition-api.md §6.1, §10.2) and the ABI constants (§4).

The table is indexed by number only: the engine never looks a handler up by a guest-supplied name.
``local`` calls are served inside the vCPU process; the others are handed to the supervisor.
"""

from __future__ import annotations

from dataclasses import dataclass

#: ``int $0x82`` enters a hypercall, ``int $0x83`` is the virtual IRET (recommended ABI).
HYPERCALL_VECTOR = 0x82
IRET_VECTOR = 0x83
NR_HYPERCALLS = 44

# Return codes (§5).
PRTOS_OK = 0
PRTOS_NO_ACTION = -1
PRTOS_UNKNOWN_HYPERCALL = -2
PRTOS_INVALID_PARAM = -3
PRTOS_PERM_ERROR = -4
PRTOS_INVALID_CONFIG = -5
PRTOS_INVALID_MODE = -6
PRTOS_OP_NOT_ALLOWED = -7
PRTOS_MULTICALL_ERROR = -8


@dataclass(frozen=True, slots=True)
class Hypercall:
    """One row of the table: number, upstream ``*_nr`` name, argument words, where it is served."""

    nr: int
    name: str
    words: int
    local: bool


def _table() -> tuple[Hypercall, ...]:
    rows = (
        ("multicall", 2, False),
        ("halt_partition", 1, False),
        ("suspend_partition", 1, False),
        ("resume_partition", 1, False),
        ("reset_partition", 3, False),
        ("shutdown_partition", 1, False),
        ("halt_system", 0, False),
        ("reset_system", 1, False),
        ("idle_self", 0, True),
        ("get_time", 2, True),
        ("set_timer", 5, True),
        ("read_object", 4, False),
        ("write_object", 4, False),
        ("seek_object", 3, False),
        ("ctrl_object", 3, False),
        ("clear_irqmask", 2, True),
        ("set_irqmask", 2, True),
        ("set_irqpend", 2, True),
        ("clear_irqpend", 2, True),
        ("route_irq", 3, True),
        ("update_page32", 2, True),
        ("set_page_type", 2, True),
        ("invld_tlb", 1, True),
        ("raise_ipvi", 1, False),
        ("raise_partition_ipvi", 2, False),
        ("override_trap_hndl", 2, True),
        ("switch_sched_plan", 2, False),
        ("get_gid_by_name", 2, False),
        ("reset_vcpu", 4, False),
        ("halt_vcpu", 1, False),
        ("suspend_vcpu", 1, False),
        ("resume_vcpu", 1, False),
        ("get_vcpuid", 0, True),
        ("x86_load_cr0", 1, True),
        ("x86_load_cr3", 1, True),
        ("x86_load_cr4", 1, True),
        ("x86_load_tss", 1, True),
        ("x86_load_gdt", 1, True),
        ("x86_load_idtr", 1, True),
        ("x86_update_ss_sp", 3, True),
        ("x86_update_gdt", 2, True),
        ("x86_update_idt", 2, True),
        ("x86_set_if", 0, True),
        ("x86_clear_if", 0, True),
    )
    return tuple(Hypercall(nr, name, words, local) for nr, (name, words, local) in enumerate(rows))


#: Number → row; ``TABLE[nr]`` for 0 <= nr < NR_HYPERCALLS.
TABLE: tuple[Hypercall, ...] = _table()
assert len(TABLE) == NR_HYPERCALLS

#: Calls 42 and 43 are ``void``: EAX keeps its value (§4).
VOID_CALLS = frozenset({42, 43})


def lookup(nr: int) -> Hypercall | None:
    """The table row of ``nr`` (an unsigned EAX value), or None for an unknown number."""
    return TABLE[nr] if 0 <= nr < NR_HYPERCALLS else None
