"""The immutable, typed model of a ``system.xml`` (config.md §3), with defaults applied.

Every object keeps the source line of the element it came from, so checks and later run-time
diagnostics can point at the configuration. Values are in the units the rest of the system uses:
times in µs, sizes in bytes, frequencies in kHz, addresses as integers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum, IntFlag

from hm.events import (
    HM_MAX_EVENTS,
    HmAction,
    HmEvent,
    default_hypervisor_entry,
    default_partition_entry,
)
from prtosd.config.diagnostics import Diagnostic

#: The PRTOS configuration namespace and the project's own extension namespace (config.md §10).
PRTOS_NS = "http://www.prtos.org/prtos-1.x"
PD_NS = "urn:prtosd:1"

#: Fixed facts of the x86 reference build used by the checks (config.md §7, partition-api.md §2).
HYPERVISOR_LOAD_ADDR = 0x1000000
PCT_ADDR = 0xFBFC0000
MAX_CPUS = 4
MAX_VCPUS = 4
MAX_KTHREADS = 255
MAX_IPVI = 8
ID_STRING_LENGTH = 16


class PartitionFlag(IntFlag):
    """``Partition@flags`` items."""

    NONE = 0
    SYSTEM = 0x100
    FP = 0x200


class AreaFlag(IntFlag):
    """``Area@flags`` items; TAGGED is added by the loader to every named area."""

    NONE = 0
    SHARED = 0x1
    UNMAPPED = 0x2
    READ_ONLY = 0x4
    UNCACHEABLE = 0x8
    ROM = 0x10
    FLAG0 = 0x20
    FLAG1 = 0x40
    FLAG2 = 0x80
    FLAG3 = 0x100
    TAGGED = 0x200
    IOMMU = 0x400


class HypTraceModule(IntFlag):
    """Hypervisor ``Trace@bitmask`` items (audit modules)."""

    NONE = 0
    HYP_IRQS = 1 << 0
    HYP_HCALLS = 1 << 1
    HYP_SCHED = 1 << 2
    HYP_HM = 1 << 3


PARTITION_FLAG_NAMES = {"system": PartitionFlag.SYSTEM, "fp": PartitionFlag.FP, "none": 0}
AREA_FLAG_NAMES = {
    "shared": AreaFlag.SHARED,
    "unmapped": AreaFlag.UNMAPPED,
    "read-only": AreaFlag.READ_ONLY,
    "uncacheable": AreaFlag.UNCACHEABLE,
    "rom": AreaFlag.ROM,
    "flag0": AreaFlag.FLAG0,
    "flag1": AreaFlag.FLAG1,
    "flag2": AreaFlag.FLAG2,
    "flag3": AreaFlag.FLAG3,
    "iommu": AreaFlag.IOMMU,
    "none": 0,
}
HYP_TRACE_NAMES = {m.name: m for m in HypTraceModule if m.name and m is not HypTraceModule.NONE}


class PortDirection(IntEnum):
    """``PRTOS_SOURCE_PORT`` / ``PRTOS_DESTINATION_PORT`` values."""

    SOURCE = 0x2
    DESTINATION = 0x1


class PortType(IntEnum):
    """Sampling or queuing; the values are the object classes of partition-api.md §8."""

    SAMPLING = 3
    QUEUING = 4


@dataclass(frozen=True, slots=True)
class Region:
    type: str  # "ram" | "rom"
    start: int
    size: int
    line: int = 0

    @property
    def end(self) -> int:
        """Inclusive last byte."""
        return self.start + self.size - 1


@dataclass(frozen=True, slots=True)
class Slot:
    id: int
    start: int  # µs from the start of the major frame
    duration: int  # µs
    partition_id: int
    vcpu_id: int = 0
    line: int = 0

    @property
    def end(self) -> int:
        return self.start + self.duration


@dataclass(frozen=True, slots=True)
class Plan:
    id: int
    name: str = ""
    major_frame: int = 0  # µs; 0 = idle plan
    slots: tuple[Slot, ...] = ()
    line: int = 0

    @property
    def busy_time(self) -> int:
        return sum(s.duration for s in self.slots)


@dataclass(frozen=True, slots=True)
class Processor:
    id: int
    frequency_khz: int | None = None
    plans: tuple[Plan, ...] = ()
    line: int = 0


@dataclass(frozen=True, slots=True)
class Device:
    """A device of ``HwDescription/Devices``; ``kind`` is MemoryBlock, Uart, Vga or Null."""

    kind: str
    name: str
    start: int = 0  # MemoryBlock
    size: int = 0  # MemoryBlock
    uart_id: int = 0  # Uart
    baud_rate: int = 0  # Uart
    console_file: str | None = None  # pd:consoleFile on Uart/Vga
    line: int = 0


@dataclass(frozen=True, slots=True)
class HmEventConfig:
    """One ``Event`` element as written (the table is derived, see :func:`hm_table`)."""

    event: HmEvent
    action: HmAction
    log: bool
    line: int = 0


@dataclass(frozen=True, slots=True)
class HmEntry:
    action: HmAction
    log: bool


@dataclass(frozen=True, slots=True)
class Area:
    start: int
    size: int
    flags: int = 0
    name: str = ""
    mapped_at: int | None = None  # None = same as start
    line: int = 0

    @property
    def virt(self) -> int:
        return self.start if self.mapped_at is None else self.mapped_at

    @property
    def end(self) -> int:
        """Inclusive last physical byte."""
        return self.start + self.size - 1

    @property
    def virt_end(self) -> int:
        return self.virt + self.size - 1


@dataclass(frozen=True, slots=True)
class Port:
    name: str
    direction: PortDirection
    type: PortType
    index: int  # position in the partition's PortTable
    global_id: int  # position in the system-wide port sequence (config.md §5)
    line: int = 0


@dataclass(frozen=True, slots=True)
class IoRange:
    base: int
    no_ports: int
    line: int = 0

    @property
    def last(self) -> int:
        return self.base + self.no_ports - 1


@dataclass(frozen=True, slots=True)
class PartitionTrace:
    device: str
    bitmask: int
    line: int = 0


@dataclass(frozen=True, slots=True)
class Partition:
    id: int
    name: str = ""
    console: str | None = None
    flags: int = 0
    no_vcpus: int = 1
    areas: tuple[Area, ...] = ()
    ports: tuple[Port, ...] = ()
    hm_events: tuple[HmEventConfig, ...] = ()
    io_ranges: tuple[IoRange, ...] = ()
    restricted_lines: tuple[int, ...] = ()  # lines of Restricted elements (always an error)
    interrupt_lines: tuple[int, ...] = ()
    interrupts_line: int = 0
    trace: PartitionTrace | None = None
    image: str | None = None  # pd:image, absolute path
    sources: tuple[str, ...] = ()  # pd:sources, absolute paths
    custom_files: tuple[str, ...] = ()  # pd:customFiles, absolute paths
    line: int = 0

    @property
    def is_system(self) -> bool:
        return bool(self.flags & PartitionFlag.SYSTEM)

    def hm_table(self) -> tuple[HmEntry, ...]:
        return _hm_table(self.hm_events, default_partition_entry)

    def port(self, name: str) -> Port | None:
        return next((p for p in self.ports if p.name == name), None)


@dataclass(frozen=True, slots=True)
class HypervisorTrace:
    device: str
    bitmask: int
    line: int = 0


@dataclass(frozen=True, slots=True)
class Hypervisor:
    area_size: int
    area_flags: int = 0
    console: str | None = None
    hm_device: str | None = None
    hm_events: tuple[HmEventConfig, ...] = ()
    trace: HypervisorTrace | None = None
    line: int = 0
    area_line: int = 0

    @property
    def area(self) -> Area:
        return Area(HYPERVISOR_LOAD_ADDR, self.area_size, self.area_flags, line=self.area_line)

    def hm_table(self) -> tuple[HmEntry, ...]:
        return _hm_table(self.hm_events, default_hypervisor_entry)


@dataclass(frozen=True, slots=True)
class Endpoint:
    partition_id: int
    port_name: str
    partition_name: str | None = None
    line: int = 0


@dataclass(frozen=True, slots=True)
class SamplingChannel:
    max_message_length: int
    source: Endpoint
    destinations: tuple[Endpoint, ...]
    valid_period: int = 0  # µs
    line: int = 0

    @property
    def endpoints(self) -> tuple[Endpoint, ...]:
        return (self.source, *self.destinations)


@dataclass(frozen=True, slots=True)
class QueuingChannel:
    max_message_length: int
    max_no_messages: int
    source: Endpoint
    destination: Endpoint
    line: int = 0

    @property
    def endpoints(self) -> tuple[Endpoint, ...]:
        return (self.source, self.destination)


Channel = SamplingChannel | QueuingChannel


@dataclass(frozen=True, slots=True)
class Ipvi:
    """One ``Ipvi`` element; same (id, sourceId) elements are merged by :meth:`System.ipvi_routes`."""

    id: int
    source_id: int
    destination_ids: tuple[int, ...]
    line: int = 0


@dataclass(frozen=True, slots=True)
class RemoteHost:
    """One ``pd:Host`` of ``pd:Placement``: partitions whose processes run on another machine.

    prtosd does not spawn them; a ``partitiond --connect`` on that host joins over TCP (with a
    CURVE key) instead (docs/distributed.md). The name is a label for messages only.
    """

    name: str
    partitions: tuple[int, ...]
    grant_timeout_us: int | None = None  # wall time a remote vCPU may stay silent; None: default
    key: str | None = None  # the only client key (authorized/<key>.key) that may run these partitions
    line: int = 0


@dataclass(frozen=True, slots=True)
class Placement:
    """``pd:Placement``: which partitions run on other hosts; all others run on prtosd's host."""

    hosts: tuple[RemoteHost, ...] = ()
    connect_timeout_us: int | None = None  # wall time prtosd waits at start; None: default
    line: int = 0

    def host_of(self, partition_id: int) -> RemoteHost | None:
        return next((h for h in self.hosts if partition_id in h.partitions), None)


@dataclass(frozen=True, slots=True)
class System:
    name: str
    version: int
    regions: tuple[Region, ...]
    processors: tuple[Processor, ...]
    devices: tuple[Device, ...]
    hypervisor: Hypervisor
    partitions: tuple[Partition, ...]
    rsw_areas: tuple[Area, ...] = ()
    channels: tuple[Channel, ...] = ()
    ipvis: tuple[Ipvi, ...] = ()
    placement: Placement | None = None  # pd:Placement (project extension)
    file: str = ""
    line: int = 0
    # Source lines of container elements, for checks that report on them.
    partition_table_line: int = field(default=0, compare=False)
    warnings: tuple[Diagnostic, ...] = field(default=(), compare=False)

    # -- derived information (config.md §5) -------------------------------------------------

    def device(self, name: str) -> Device | None:
        return next((d for d in self.devices if d.name == name), None)

    def channel_of(self, partition_id: int, port_name: str) -> Channel | None:
        """The first channel linking that port (a port may be linked only once, V-42)."""
        for ch in self.channels:
            for ep in ch.endpoints:
                if ep.partition_id == partition_id and ep.port_name == port_name:
                    return ch
        return None

    def host_of(self, partition_id: int) -> RemoteHost | None:
        """The remote host a partition is placed on, or None if prtosd spawns it."""
        return self.placement.host_of(partition_id) if self.placement else None

    def cpu_of(self, partition_id: int, vcpu: int) -> int | None:
        """The processor whose plans run this vCPU, or None if no slot names it (D-13)."""
        for cpu in self.processors:
            for plan in cpu.plans:
                if any(s.partition_id == partition_id and s.vcpu_id == vcpu for s in plan.slots):
                    return cpu.id
        return None

    def ipvi_routes(self) -> dict[tuple[int, int], tuple[int, ...]]:
        """(ipvi id, source partition) → destination partitions, merged across elements (D-04)."""
        routes: dict[tuple[int, int], tuple[int, ...]] = {}
        for ipvi in self.ipvis:
            key = (ipvi.id, ipvi.source_id)
            routes[key] = routes.get(key, ()) + ipvi.destination_ids
        return routes

    @property
    def cpu_khz(self) -> int:
        """``cpu_khz`` reported in the PCT: processor 0's frequency, else a nominal 1 GHz."""
        f = self.processors[0].frequency_khz if self.processors else None
        return f if f is not None else 1_000_000


def _hm_table(events: tuple[HmEventConfig, ...], default) -> tuple[HmEntry, ...]:
    table = [HmEntry(*default(e)) for e in range(HM_MAX_EVENTS)]
    for ev in events:  # later elements override earlier ones
        table[ev.event] = HmEntry(ev.action, ev.log)
    return tuple(table)
