"""Hypervisor audit events (semantics.md §10.5) on the hypervisor trace stream.

When ``PRTOSHypervisor/Trace`` is configured, its ``bitmask`` selects audit *modules* (IRQ 0,
HCALLS 1, SCHED 2, HM 3). Each selected event becomes one 36-byte trace record on stream 0xFF
with the **global** trace sequence number (the counter every partition stream shares, K-05), so
the hypervisor's view interleaves exactly with what partitions traced.

Why a separate module: the supervisor and the HM code only say *what happened*; the record
layout, the module/event codes and the filter live here in one place. Without a hypervisor
``Trace`` element the bitmask is 0 and every call returns at the first test, so runs that do not
ask for audit pay nothing and consume no sequence numbers (partition-visible sequences stay the
same).

Events that happen inside a partition process — the HCALLS events of hypercalls served there
(``local`` rows of :data:`partitiond.hypercalls.TABLE`, e.g. ``get_time``, ``set_timer``, and the
console write) and IRQ_EMUL for each vector the vCPU injects — are produced by the vCPU when the
module is selected, packed as :data:`EVENT` records and shipped with the process's next message
to the supervisor, which stores them through :meth:`AuditTrail.vcpu_event` in virtual-time order
(prtosd.timeline). Never recorded: IRQ_RAISED (no hardware interrupts) and PART_RESET (defined only).
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

from hm.record import TRACE_SIGNATURE, Record
from hm.trace import HYPERVISOR_STREAM

if TYPE_CHECKING:
    from hm.trace import TraceService

# Modules: the bit numbers of PRTOSHypervisor/Trace@bitmask.
MOD_IRQS, MOD_HCALLS, MOD_SCHED, MOD_HM = 0, 1, 2, 3

# IRQ module.
IRQ_RAISED, TRAP_RAISED, IRQ_EMUL = 1, 2, 3
# HCALLS module.
HCALL_BEGIN, HCALL_BEGIN2, HCALL_END = 1, 2, 3
# HM module.
EVENT_RAISED, HPV_ACTION, PART_ACTION = 1, 2, 3
# SCHED module, by name (the names of prtosd.partition.Action and prtosd.sched.SchedEvent.kind).
SCHED_EVENTS: dict[str, int] = {
    "PART_SUSPEND": 0x1,
    "PART_RESUME": 0x2,
    "PART_HALT": 0x3,
    "PART_RESET": 0x4,
    "PART_SHUTDOWN": 0x5,
    "PART_IDLE": 0x6,
    "HYP_HALT": 0x7,
    "HYP_RESET": 0x8,
    "PLAN_SWITCH_REQ": 0x9,
    "PLAN_SWITCH_DONE": 0xA,
    "CONTEXT_SWITCH": 0xB,
    "VCPU_SUSPEND": 0xC,
    "VCPU_RESUME": 0xD,
    "VCPU_HALT": 0xE,
    "VCPU_RESET": 0xF,
}

TRACE_NOTIFY = 0
IDLE_WORD = 0xFFFFFFFF
VOID_CALLS = frozenset({42, 43})

Who = tuple[int, int] | None  # the vCPU current on the CPU where it happens; None = idle

#: One event produced in a partition process, as shipped to the supervisor: HW clock (µs), module,
#: event, four payload words.
EVENT = struct.Struct("<QBBxxIIII")
#: Events a partition process ships in one message at most (well under ipc.messages.MAX_AUDIT).
SHIP_MAX = 16384
#: Modules whose events a partition process may ship.
VCPU_MODULES = frozenset({MOD_IRQS, MOD_HCALLS})


def pack_event(now: int, module: int, event: int, *payload: int) -> bytes:
    """One :data:`EVENT` record (unused payload words 0, D-41)."""
    words = [w & 0xFFFFFFFF for w in payload[:4]] + [0] * (4 - len(payload[:4]))
    return EVENT.pack(now, module, event, *words)


def unpack_events(data: bytes) -> list[tuple[int, int, int, tuple[int, int, int, int]]]:
    """The records of a shipment; ValueError if it is not a whole number of records."""
    if len(data) % EVENT.size:
        raise ValueError(f"audit shipment of {len(data)} bytes is not a multiple of {EVENT.size}")
    return [(now, module, event, (a, b, c, d)) for now, module, event, a, b, c, d in EVENT.iter_unpack(data)]


def hcall_begin_records(nr: int, args: Sequence[int]) -> list[tuple[int, int, tuple[int, ...]]]:
    """(module, event, payload) of HCALL_BEGIN, and HCALL_BEGIN2 for calls of more than 3 argument words."""
    from partitiond.hypercalls import lookup

    row = lookup(nr)
    words = row.words if row is not None else 0
    argv = list(args[:words]) + [0] * max(0, words - len(args))
    out = [(MOD_HCALLS, HCALL_BEGIN, ((nr << 16) | words, *argv[:3]))]
    if words > 3:
        out.append((MOD_HCALLS, HCALL_BEGIN2, tuple(argv[3:5])))
    return out


def hcall_end_record(nr: int, result: int | None) -> tuple[int, int, tuple[int, ...]] | None:
    """(module, event, payload) of HCALL_END; None for the void calls or a call that does not return."""
    if result is None or nr in VOID_CALLS:
        return None
    return (MOD_HCALLS, HCALL_END, (result,))


def vcpu_word(key: tuple[int, int] | None) -> int:
    """``vcpu << 8 | partition``, or 0xFFFFFFFF for an idle CPU (CONTEXT_SWITCH payload)."""
    return IDLE_WORD if key is None else ((key[1] & 0xFF) << 8) | (key[0] & 0xFF)


def audit_record(module: int, event: int, who: Who, now: int, sequence: int, payload: Sequence[int] = ()) -> Record:
    """The record of §10.5 (without checksum; :meth:`Record.pack` adds it)."""
    part, vcpu = (0xFF, 0xFF) if who is None else (who[0] & 0xFF, who[1] & 0xFF)
    lo = ((((module & 0xFF) << 8) | (event & 0xFF)) << 16) | (vcpu << 8) | part
    hi = ((sequence << 4) & 0xFFFFFFF0) | (TRACE_NOTIFY << 1) | 1
    words = [w & 0xFFFFFFFF for w in payload][:4]
    words += [0] * (4 - len(words))
    return Record(TRACE_SIGNATURE, hi, lo, now, (words[0], words[1], words[2], words[3]))


class AuditTrail:
    """Writes the audit events selected by ``bitmask`` to the hypervisor stream.

    ``service`` returns the current :class:`~hm.trace.TraceService`: the supervisor replaces it
    when it closes (to drop the views of the memory blocks), so no reference is kept here.
    """

    def __init__(self, service: Callable[[], TraceService], bitmask: int):
        self._service = service
        self.bitmask = bitmask & 0xF  # module 4 (VMM) cannot be selected

    def enabled(self, module: int) -> bool:
        return bool(self.bitmask >> module & 1)

    def record(self, module: int, event: int, who: Who, now: int, *payload: int) -> Record | None:
        """Store one audit event if its module is selected; it takes the next global sequence number."""
        if not self.bitmask >> module & 1:
            return None
        trace = self._service()
        rec = audit_record(module, event, who, now, trace.sequence, payload)
        trace.sequence += 1
        trace.stream(HYPERVISOR_STREAM).append(rec.pack())
        return rec

    # -- IRQ ----------------------------------------------------------------------------------------

    def trap_raised(self, who: Who, now: int, trap: int, pc: int) -> None:
        self.record(MOD_IRQS, TRAP_RAISED, who, now, trap, pc)

    # -- HCALLS -------------------------------------------------------------------------------------

    def hcall_begin(self, who: Who, now: int, nr: int, args: Sequence[int]) -> None:
        """HCALL_BEGIN, and HCALL_BEGIN2 for calls of more than 3 argument words."""
        if not self.bitmask >> MOD_HCALLS & 1:
            return
        for module, event, payload in hcall_begin_records(nr, args):
            self.record(module, event, who, now, *payload)

    def hcall_end(self, who: Who, now: int, nr: int, result: int | None) -> None:
        """HCALL_END with the result; none for the void calls or a call that does not return."""
        if not self.bitmask >> MOD_HCALLS & 1:  # every hypercall comes here: the usual answer first
            return
        rec = hcall_end_record(nr, result)
        if rec is not None:
            self.record(rec[0], rec[1], who, now, *rec[2])

    # -- shipped by a partition process -------------------------------------------------------------

    def vcpu_event(self, who: Who, now: int, module: int, event: int, payload: Sequence[int]) -> None:
        """An event a vCPU produced (local hypercall, IRQ_EMUL); other modules are not accepted from it."""
        if module in VCPU_MODULES:
            self.record(module, event, who, now, *payload)

    # -- SCHED --------------------------------------------------------------------------------------

    def sched(self, name: str, who: Who, now: int, *payload: int) -> None:
        self.record(MOD_SCHED, SCHED_EVENTS[name], who, now, *payload)

    def sched_events(self, events: Iterable[object]) -> None:
        """The scheduler's PLAN_SWITCH_* events (:class:`prtosd.sched.SchedEvent`), in order."""
        for ev in events:
            self.sched(ev.kind, ev.running, ev.time, *ev.payload)  # type: ignore[attr-defined]

    # -- HM -----------------------------------------------------------------------------------------

    def hm_event(self, who: Who, now: int, record: Record) -> None:
        """EVENT_RAISED with the HM record's ``op_code_lo``, ``op_code_hi`` and pc."""
        pc = record.payload[0] if record.has_cpu_context else 0
        self.record(MOD_HM, EVENT_RAISED, who, now, record.op_code_lo, record.op_code_hi, pc)

    def hm_action(self, who: Who, now: int, action: int, log: bool, *, hypervisor: bool = False) -> None:
        self.record(MOD_HM, HPV_ACTION if hypervisor else PART_ACTION, who, now, (int(log) << 31) | int(action))
