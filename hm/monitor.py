"""The health monitor at run time: raising events, the HM log, and the actions (semantics.md §9).

:class:`HealthMonitor` owns the HM log stream and the system-wide HM sequence number; it builds
and logs records and prints the normative ``[HM]`` console lines. Applying an action to the
system (halting a partition, switching plans, ...) is the supervisor's business; the monitor
tells it which action the tables select, so policy lives in one place: the tables here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hm.events import HmAction, HmEvent
from hm.log import LogStream
from hm.record import RECORD_SIZE, Record, hm_record

if TYPE_CHECKING:
    from prtosd.supervisor import Supervisor, VcpuKey

_EVENT_IDS = frozenset(int(e) for e in HmEvent)
HM_RESET_STATUS_MODULE_RESTART = 2
_ACTION_LINES = {
    HmAction.PARTITION_HALT: "halted",
    HmAction.SUSPEND: "suspended",
    HmAction.PARTITION_COLD_RESET: "cold reseted",
    HmAction.PARTITION_WARM_RESET: "warm reseted",
}


def event_name(event: int) -> str:
    return HmEvent(event).full_name if event in _EVENT_IDS else "unknown"


class HealthMonitor:
    """HM log stream on ``PRTOSHypervisor@healthMonitorDevice`` plus the HM sequence counter."""

    def __init__(self, stream: LogStream):
        self.stream = stream
        self.sequence = 0  # one counter for the whole system, restarting at boot

    def log(self, record: Record) -> Record:
        """Stamp the next HM sequence number and append the record to the log (§9.5 step 5)."""
        hi = (record.op_code_hi & 0xF) | ((self.sequence << 4) & 0xFFFFFFF0)
        self.sequence += 1
        stamped = Record(record.signature, hi, record.op_code_lo, record.timestamp, record.payload)
        self.stream.append(stamped.pack())
        return stamped

    @staticmethod
    def console_lines(record: Record, action: HmAction, log: bool, level: str = "PART") -> list[str]:
        """The normative ``[HM]`` lines of semantics.md §13 for one raised record."""
        ev = record.event_id
        lines = [f"[HM] {record.timestamp}:{event_name(ev)} ({ev}):{level}({record.partition_id})"]
        if record.has_cpu_context:
            lines.append(f"ip: 0x{record.payload[0]:x} flags: 0x{record.payload[1]:x}")
        else:
            lines.append("".join(f"0x{w:x} " for w in record.payload))
        state = "PRTOS_HM_LOG_ENABLED" if log else "PRTOS_HM_LOG_DISABLED"
        lines.append(f"[HM] {action.full_name}({int(action)}) {state}")
        return lines

    def read(self, max_records: int) -> bytes:
        out = bytearray()
        while len(out) // RECORD_SIZE < max_records:
            rec = self.stream.read()
            if rec is None:
                break
            out += rec
        return bytes(out)


@dataclass(frozen=True, slots=True)
class FaultReply:
    """How the faulting vCPU continues: at all (``cont``) and with a propagated trap or not."""

    cont: bool
    trap: list[int] | None = None


def raise_record(
    sup: Supervisor, key: VcpuKey, record: Record, now: int, trap: int = -1, error_code: int = 0
) -> FaultReply:
    """§9.5 "raising a record": audit, count, ``[HM]`` lines, log if enabled, then the partition's action."""
    entry = sup.system.partitions[key[0]].hm_table()[record.event_id]
    sup.obs.hm_raised(key, record, entry.action, entry.log, now)  # audit EVENT_RAISED, PART_ACTION; timeline
    sup.table.system.num_of_hm_events += 1
    for line in HealthMonitor.console_lines(record, entry.action, entry.log):
        sup.console.hypervisor(line, now)
    if entry.log:
        sup.hm.log(record)
    return apply_partition_action(sup, key, entry.action, record.event_id, now, trap, error_code)


def raise_cpu_exception(sup: Supervisor, key: VcpuKey, msg: dict[str, Any]) -> FaultReply:
    """§9.5: a CPU exception (or panic) of a partition vCPU, from raising to the action."""
    pid, vcpu = key
    event, trap, now = msg["event"], msg["trap"], msg["now"]
    if trap >= 0:
        sup.obs.trap(key, now, trap, msg["pc"])  # §9.5 step 1: audit TRAP_RAISED
    entry = sup.system.partitions[pid].hm_table()[event]
    if entry.action is HmAction.PROPAGATE and not entry.log and trap >= 0:
        return FaultReply(True, [trap, msg["error_code"]])  # fast path: no record, no console
    record = hm_record(event, pid, vcpu, now, pc=msg["pc"], psr=msg["eflags"])
    return raise_record(sup, key, record, now, trap, msg["error_code"])


def raise_partition_error(sup: Supervisor, key: VcpuKey, now: int, payload: tuple[int, int, int, int]) -> FaultReply:
    """PARTITION_ERROR for an UNRECOVERABLE trace record (semantics.md §10.3 step 2, D-39)."""
    return raise_record(sup, key, hm_record(HmEvent.PARTITION_ERROR, key[0], key[1], now, payload=payload), now)


def raise_fatal_error(sup: Supervisor, key: VcpuKey, now: int) -> FaultReply:
    """FATAL_ERROR at partition level for a vCPU that cannot continue (semantics.md §4.5, §9.5)."""
    return raise_record(sup, key, hm_record(HmEvent.FATAL_ERROR, key[0], key[1], now), now)


def apply_partition_action(
    sup: Supervisor, key: VcpuKey, action: HmAction, event: int, now: int, trap: int = -1, error_code: int = 0
) -> FaultReply:
    """Execute a partition-level action (§9.2) for the event raised by ``key``."""
    from prtosd.partition import ResetMode

    pid = key[0]
    if action is HmAction.IGNORE:
        return FaultReply(True)
    if action is HmAction.SHUTDOWN:
        sup.apply(sup.table.shutdown(pid), None, now)
        return FaultReply(True)
    if action in (HmAction.PARTITION_COLD_RESET, HmAction.PARTITION_WARM_RESET):
        mode = ResetMode.COLD if action is HmAction.PARTITION_COLD_RESET else ResetMode.WARM
        out = sup.table.reset(pid, mode, event)
        sup.apply(out, key, now)
        if sup.table.is_ready(key):
            sup.console.hypervisor(f"[HM] Partition {pid} {_ACTION_LINES[action]}", now)
            return FaultReply(True)
        sup.console.hypervisor(f"[HM] Partition {pid} halted", now)
        return FaultReply(False)
    if action is HmAction.SUSPEND:
        sup.apply(sup.table.suspend(pid), key, now)
        sup.console.hypervisor(f"[HM] Partition {pid} suspended", now)
        return FaultReply(False)
    if action is HmAction.PARTITION_HALT:
        sup.apply(sup.table.halt(pid), key, now)
        sup.console.hypervisor(f"[HM] Partition {pid} halted", now)
        return FaultReply(False)
    if action is HmAction.PROPAGATE:
        return FaultReply(True, [trap, error_code] if trap >= 0 else None)
    if action is HmAction.SWITCH_TO_MAINTENANCE:
        cpu = sup.system.cpu_of(*key)
        assert cpu is not None
        sup.sched.switch_to_maintenance(cpu, now)
        return FaultReply(True)
    if action in (HmAction.HYPERVISOR_COLD_RESET, HmAction.HYPERVISOR_WARM_RESET):
        mode = ResetMode.COLD if action is HmAction.HYPERVISOR_COLD_RESET else ResetMode.WARM
        sup.reset_system(mode, HM_RESET_STATUS_MODULE_RESTART << 16 | event, now)
        return FaultReply(False)
    sup.halt_system(now)  # HYPERVISOR_HALT
    return FaultReply(False)
