"""The semantic checks of config.md §8.2 and the warnings of §9, run on a loaded model.

Each check is a small function named after what it checks; it appends every violation it finds
(message text normative, line of the element the spec names) so one run reports every
independent problem. Checks that need a valid id guard against the ones that report bad ids.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from hm.events import HYPERVISOR_PERMITTED, PARTITION_PERMITTED, HmAction
from prtosd.config.diagnostics import Diagnostic
from prtosd.config.model import (
    MAX_CPUS,
    MAX_IPVI,
    MAX_KTHREADS,
    MAX_VCPUS,
    PCT_ADDR,
    AreaFlag,
    HmEventConfig,
    PortDirection,
    PortType,
    RemoteHost,
    SamplingChannel,
    System,
)

#: Physical pages owned by the platform (config.md §7): IOAPIC, HPET, LAPIC.
RESERVED_PAGES = (0xFEC00000, 0xFED00000, 0xFEE00000)
RESERVED_HW_LINES = frozenset({0, 2, 4, 24, 26, 27})
#: (base, count) of the I/O ports reserved for the hypervisor.
RESERVED_IO = ((0x20, 2), (0x40, 4), (0xA0, 2), (0x3F8, 5))
NEVER_GRANTED_IO = (0xFFF8, 0xFFFF)
HW_LINES = 32


class _Report:
    def __init__(self, system: System):
        self.file = system.file
        self.errors: list[Diagnostic] = []
        self.warnings: list[Diagnostic] = []

    def error(self, line: int, message: str) -> None:
        self.errors.append(Diagnostic(self.file, line, message))

    def warn(self, line: int, message: str) -> None:
        self.warnings.append(Diagnostic(self.file, line, message, warning=True))


Check = Callable[[System, _Report], None]
CHECKS: list[Check] = []


def check(fn: Check) -> Check:
    """Register a check; they run in registration order."""
    CHECKS.append(fn)
    return fn


def run_checks(system: System) -> tuple[list[Diagnostic], list[Diagnostic]]:
    """All errors and warnings of the semantic layer."""
    report = _Report(system)
    for fn in CHECKS:
        fn(system, report)
    return report.errors, report.warnings


def _range(s: int, e: int) -> str:
    return f"[0x{s:x} - 0x{e:x}]"


# -- ids and counts (V-01..V-07) ------------------------------------------------------------------


@check
def check_processor_ids(system: System, r: _Report) -> None:
    for i, cpu in enumerate(system.processors):
        if cpu.id != i:
            r.error(cpu.line, f"processor id ({cpu.id}) shall be consecutive starting at 0")
    if len(system.processors) > MAX_CPUS:
        r.error(system.processors[MAX_CPUS].line, f"no more than {MAX_CPUS} cpus are supported")


@check
def check_plan_and_slot_ids(system: System, r: _Report) -> None:
    for cpu in system.processors:
        for i, plan in enumerate(cpu.plans):
            if plan.id != i:
                r.error(plan.line, f"Cyclic plan id ({plan.id}) shall be consecutive starting at 0")
            for j, slot in enumerate(plan.slots):
                if slot.id != j:
                    r.error(slot.line, f"slot id ({slot.id}) shall be consecutive starting at 0")


@check
def check_partition_ids(system: System, r: _Report) -> None:
    for i, part in enumerate(system.partitions):
        if part.id != i:
            r.error(part.line, f"partition id ({part.id}) shall be consecutive starting at 0")
        if part.no_vcpus > MAX_VCPUS:
            r.error(part.line, f"too many virtual Cpus ({part.no_vcpus}) allocated to the partition")
    kthreads = len(system.partitions) + sum(p.no_vcpus for p in system.partitions)
    if kthreads > MAX_KTHREADS:
        r.error(
            system.partition_table_line,
            f"prtos only supports a maximum of {MAX_KTHREADS} kthreads, "
            f"the configuration file defines a total of {kthreads} kthreads",
        )


# -- plans and slots (V-08..V-13) -----------------------------------------------------------------


@check
def check_slot_times(system: System, r: _Report) -> None:
    for cpu in system.processors:
        for plan in cpu.plans:
            prev = None
            for i, slot in enumerate(plan.slots):
                if prev is not None and slot.start < prev.end:
                    r.error(
                        slot.line,
                        f"slot {i} ([{slot.start} - {slot.end}] usec) overlaps slot {i - 1} "
                        f"([{prev.start} - {prev.end}] usec)",
                    )
                if slot.end > plan.major_frame:
                    r.error(
                        slot.line,
                        f"last slot ([{slot.start} - {slot.end}] usec) overlaps major frame ({plan.major_frame} usec)",
                    )
                prev = slot


@check
def check_slot_owners(system: System, r: _Report) -> None:
    n = len(system.partitions)
    first_cpu: dict[tuple[int, int], tuple[int, int]] = {}  # vcpu → (cpu, line)
    reported: set[tuple[int, int, int]] = set()
    for cpu in system.processors:
        for plan in cpu.plans:
            for slot in plan.slots:
                if slot.partition_id >= n:
                    r.error(slot.line, f"incorrect partition id ({slot.partition_id})")
                    continue
                if slot.vcpu_id >= system.partitions[slot.partition_id].no_vcpus:
                    r.error(slot.line, f"incorrect vCpu id ({slot.vcpu_id})")
                    continue
                key = (slot.partition_id, slot.vcpu_id)
                c1, l1 = first_cpu.setdefault(key, (cpu.id, slot.line))
                if c1 != cpu.id and (*key, cpu.id) not in reported:
                    reported.add((*key, cpu.id))
                    r.error(
                        slot.line,
                        f"vCpu ({key[0]}, {key[1]}) assigned to CPU {c1} and {cpu.id} (line {l1})",
                    )


def _all_hm_events(system: System) -> Iterator[HmEventConfig]:
    yield from system.hypervisor.hm_events
    for part in system.partitions:
        yield from part.hm_events


@check
def check_maintenance_plan(system: System, r: _Report) -> None:
    if not any(ev.action == HmAction.SWITCH_TO_MAINTENANCE for ev in _all_hm_events(system)):
        return
    for cpu in system.processors:
        if len(cpu.plans) < 2:
            r.error(cpu.line, f'Although required, a maintenance plan is not defined for CPU "{cpu.id}"')


@check
def check_vcpus_scheduled(system: System, r: _Report) -> None:
    scheduled = {(s.partition_id, s.vcpu_id) for cpu in system.processors for plan in cpu.plans for s in plan.slots}
    for part in system.partitions:
        for v in range(min(part.no_vcpus, MAX_VCPUS)):
            if (part.id, v) not in scheduled:
                r.warn(part.line, f"vCpu ({part.id}, {v}) is not assigned to any CPU and will never run")


# -- memory (V-14..V-26) --------------------------------------------------------------------------


@check
def check_regions(system: System, r: _Report) -> None:
    seen = []
    for reg in system.regions:
        if reg.start % 0x1000:
            r.error(reg.line, f"memory region start address (0x{reg.start:x}) shall be aligned to 0x1000")
        if reg.size % 4096:
            r.error(reg.line, f"memory region size ({reg.size}) is not multiple of 4096")
        for other in seen:
            if other.start == reg.start:
                r.error(reg.line, f"memory region (0x{reg.start:x}) unsorted")
            elif reg.start <= other.end and other.start <= reg.end:
                r.error(
                    reg.line,
                    f"memory region {_range(reg.start, reg.end)} overlaps "
                    f"{_range(other.start, other.end)} (line {other.line})",
                )
        seen.append(reg)


class _PhysArea:
    """An area taking part in the physical checks, whatever element it came from."""

    def __init__(self, start: int, size: int, shared: bool, line: int, owner: int | None):
        self.start, self.size, self.shared, self.line, self.owner = start, size, shared, line, owner
        self.end = start + size - 1


def _physical_areas(system: System) -> list[_PhysArea]:
    hyp = system.hypervisor.area
    areas = [_PhysArea(hyp.start, hyp.size, False, hyp.line, None)]
    areas += [_PhysArea(a.start, a.size, bool(a.flags & AreaFlag.SHARED), a.line, None) for a in system.rsw_areas]
    areas += [_PhysArea(d.start, d.size, True, d.line, None) for d in system.devices if d.kind == "MemoryBlock"]
    for part in system.partitions:
        areas += [_PhysArea(a.start, a.size, bool(a.flags & AreaFlag.SHARED), a.line, part.id) for a in part.areas]
    return sorted(areas, key=lambda a: a.line)


@check
def check_areas(system: System, r: _Report) -> None:
    areas = _physical_areas(system)
    for a in areas:
        if a.start % 0x1000:
            r.error(a.line, f"memory area start address (0x{a.start:x}) shall be aligned to 0x1000")
        if a.size % 4096:
            r.error(a.line, f"memory area size ({a.size}) is not multiple of 4096")
        for page in RESERVED_PAGES:
            if a.start <= page + 0xFFF and page <= a.end:
                r.error(
                    a.line,
                    f"memory area {_range(a.start, a.end)} overlaps a memory area "
                    f"{_range(page, page + 0xFFF)} reserved for PRTOS",
                )
        if not any(reg.start <= a.start and a.end <= reg.end for reg in system.regions):
            r.error(a.line, f"memory area {_range(a.start, a.end)} is not covered by any memory region")
    for i, a in enumerate(areas):
        for b in areas[:i]:
            if a.owner is not None and a.owner == b.owner and a.start == b.start:
                continue  # reported as "unsorted" by check_partition_areas
            if a.start <= b.end and b.start <= a.end and not (a.shared and b.shared):
                r.error(
                    a.line,
                    f"memory area {_range(a.start, a.end)} overlaps {_range(b.start, b.end)} (line {b.line})",
                )


@check
def check_partition_areas(system: System, r: _Report) -> None:
    for part in system.partitions:
        for i, a in enumerate(part.areas):
            if a.virt_end >= PCT_ADDR:
                r.error(
                    a.line,
                    f"virtual memory area {_range(a.virt, a.virt_end)} overlaps the hypervisor window "
                    f"[0x{PCT_ADDR:x} - 0xffffffff]",
                )
            for b in part.areas[:i]:
                if a.start == b.start:
                    r.error(a.line, f"memory area (0x{a.start:x}) unsorted")
                elif a.virt <= b.virt_end and b.virt <= a.virt_end:
                    r.error(
                        a.line,
                        f"virtual memory area {_range(a.virt, a.virt_end)} overlaps "
                        f"{_range(b.virt, b.virt_end)} (line {b.line})",
                    )


@check
def check_hypervisor_area_flags(system: System, r: _Report) -> None:
    flags = system.hypervisor.area_flags
    for flag, name in ((AreaFlag.SHARED, "shared"), (AreaFlag.READ_ONLY, "read-only"), (AreaFlag.UNMAPPED, "unmapped")):
        if flags & flag:
            r.error(system.hypervisor.area_line, f'"{name}" flag not permitted')


# -- devices (V-27, V-29) -------------------------------------------------------------------------


@check
def check_devices(system: System, r: _Report) -> None:
    names: dict[str, int] = {}
    for dev in system.devices:
        if dev.kind == "Null":
            continue  # the element is ignored (D-15); the built-in Null device always exists
        if dev.name == "Null":
            r.error(dev.line, "device name already registered (built-in Null device)")
        elif dev.name in names:
            r.error(dev.line, f"device name already registered (line {names[dev.name]})")
        else:
            names[dev.name] = dev.line
    known = set(names) | {"Null"}
    hyp = system.hypervisor
    refs = [(hyp.console, hyp.line), (hyp.hm_device, hyp.line)]
    if hyp.trace:
        refs.append((hyp.trace.device, hyp.trace.line))
    for part in system.partitions:
        refs.append((part.console, part.line))
        if part.trace:
            refs.append((part.trace.device, part.trace.line))
    for name, line in refs:
        if name is not None and name != "NULL" and name not in known:
            r.error(line, f'"{name}" not found in the device table')


# -- partitions, ports, hardware resources (V-30..V-36) -------------------------------------------


@check
def check_names(system: System, r: _Report) -> None:
    seen: dict[str, int] = {}
    for part in system.partitions:
        if part.name:
            if part.name in seen:
                r.error(part.line, f'partition name "{part.name}" duplicated (line {seen[part.name]})')
            else:
                seen[part.name] = part.line
        ports: dict[str, int] = {}
        for port in part.ports:
            if port.name in ports:
                r.error(port.line, f'port name "{port.name}" duplicated (line {ports[port.name]})')
            else:
                ports[port.name] = port.line


@check
def check_interrupts(system: System, r: _Report) -> None:
    owner: dict[int, int] = {}
    for part in system.partitions:
        line = part.interrupts_line
        for n in part.interrupt_lines:
            if n >= HW_LINES:
                r.error(line, f"invalid hw interrupt line ({n})")
            elif n in RESERVED_HW_LINES:
                r.error(line, f"hw interrupt line {n} reserved for PRTOS")
            elif n in owner and owner[n] != line:
                r.error(line, f"hw interrupt line ({n}) already assigned (line {owner[n]})")
            else:
                owner.setdefault(n, line)


@check
def check_io_ports(system: System, r: _Report) -> None:
    for part in system.partitions:
        for rng in part.io_ranges:
            for base, count in RESERVED_IO:
                if rng.base <= base + count - 1 and base <= rng.last:
                    r.error(
                        rng.line,
                        f"io-ports [0x{rng.base:x}:{rng.no_ports}] reserved for prtos ([0x{base:x}:{count}])",
                    )
            if rng.last > 0xFFFF:
                r.error(rng.line, f"io-ports [0x{rng.base:x}:{rng.no_ports}] exceed the I/O space [0x0 - 0xffff]")
            if rng.base <= NEVER_GRANTED_IO[1] and NEVER_GRANTED_IO[0] <= rng.last:
                r.warn(rng.line, "io-ports 0xfff8-0xffff are never granted")
        for line in part.restricted_lines:
            r.error(line, "Restricted IoPorts not supported")


# -- channels (V-37..V-43, W-04) ------------------------------------------------------------------


@check
def check_channels(system: System, r: _Report) -> None:
    n = len(system.partitions)
    linked: dict[tuple[int, str], int] = {}
    for ch in system.channels:
        if ch.max_message_length == 0:
            r.error(ch.line, "maxMessageLength must be greater than 0")
        kind = PortType.SAMPLING if isinstance(ch, SamplingChannel) else PortType.QUEUING
        for ep in ch.endpoints:
            if ep.partition_id >= n:
                r.error(ep.line, f"incorrect partition id ({ep.partition_id})")
                continue
            part = system.partitions[ep.partition_id]
            if ep.partition_name is not None and ep.partition_name != part.name:
                r.error(
                    ep.line,
                    f'partition name "{ep.partition_name}" mismatches with the expected one "{part.name}"',
                )
            port = part.port(ep.port_name)
            if port is None:
                r.error(ep.line, f'port "{ep.port_name}" not found')
                continue
            if port.type != kind:
                r.error(ep.line, "channel type mismatches with the type of the port")
            want = PortDirection.SOURCE if ep is ch.source else PortDirection.DESTINATION
            if port.direction != want:
                r.error(ep.line, "channel direction mismatches with the direction of the port")
            key = (part.id, port.name)
            if key in linked:
                r.error(ep.line, f'port "{port.name}" is already connected to a channel (line {linked[key]})')
            else:
                linked[key] = ep.line
    for part in system.partitions:
        for port in part.ports:
            if (part.id, port.name) not in linked:
                r.warn(port.line, f'port "{port.name}" of partition {part.id} is not connected to any channel')


# -- IPVI (V-44..V-46) ----------------------------------------------------------------------------


@check
def check_ipvis(system: System, r: _Report) -> None:
    n = len(system.partitions)
    dests: dict[tuple[int, int], set[int]] = {}
    for ipvi in system.ipvis:
        if ipvi.id >= MAX_IPVI:
            r.error(ipvi.line, f"Invalid ipvi id {ipvi.id}")
        if ipvi.source_id >= n:
            r.error(ipvi.line, f"source partition {ipvi.source_id} doesn't exist")
        seen = dests.setdefault((ipvi.id, ipvi.source_id), set())
        duplicated = False
        for d in ipvi.destination_ids:
            if d >= n:
                r.error(ipvi.line, f"destination partition {d} doesn't exist")
            if d in seen:
                duplicated = True
            seen.add(d)
        if duplicated:
            r.error(ipvi.line, "Duplicated ipvi partition destination")


# -- health monitor (V-50) ------------------------------------------------------------------------


@check
def check_hm_actions(system: System, r: _Report) -> None:
    tables = [(system.hypervisor.hm_events, HYPERVISOR_PERMITTED)]
    tables += [(p.hm_events, PARTITION_PERMITTED) for p in system.partitions]
    for events, permitted in tables:
        for ev in events:
            if ev.action not in permitted[ev.event]:
                r.error(
                    ev.line,
                    f'Action "{ev.action.full_name}" on event "{ev.event.full_name}" is not permitted',
                )


# -- project extension: pd:Placement (docs/distributed.md) ----------------------------------------


@check
def check_placement(system: System, r: _Report) -> None:
    """A remote partition's memory is private to its process on the other host: nothing may share it."""
    if system.placement is None:
        return
    ids = {p.id for p in system.partitions}
    placed: dict[int, RemoteHost] = {}
    names: dict[str, RemoteHost] = {}
    for host in system.placement.hosts:
        if host.name in names:
            r.error(host.line, f'pd:Host name "{host.name}" is used twice (line {names[host.name].line})')
        names.setdefault(host.name, host)
        if host.grant_timeout_us == 0:
            r.error(host.line, f'pd:Host "{host.name}": grantTimeout must be greater than 0')
        for pid in host.partitions:
            if pid not in ids:
                r.error(host.line, f'pd:Host "{host.name}": there is no partition {pid}')
            elif pid in placed:
                first = placed[pid]
                r.error(host.line, f'partition {pid} is placed twice (on "{first.name}", line {first.line})')
            else:
                placed[pid] = host
    if system.placement.connect_timeout_us == 0:
        r.error(system.placement.line, "pd:Placement: connectTimeout must be greater than 0")
    blocks = [d for d in system.devices if d.kind == "MemoryBlock" and d.size > 0]
    for part in system.partitions:
        host = placed.get(part.id)
        if host is None:
            continue
        where = f'partition {part.id} is placed on host "{host.name}" (line {host.line})'
        if part.no_vcpus > 1:
            r.error(part.line, f"{where} but has {part.no_vcpus} vCPUs; a remote partition has one vCPU")
        for a in part.areas:
            end = a.start + a.size - 1
            for other in system.partitions:
                if other.id == part.id:
                    continue
                for b in other.areas:
                    if a.start <= b.start + b.size - 1 and b.start <= end:
                        r.error(
                            a.line,
                            f"{where}: its memory area {_range(a.start, end)} is shared with partition "
                            f"{other.id} (line {b.line}); memory cannot be shared across hosts",
                        )
            for d in blocks:
                if a.start <= d.start + d.size - 1 and d.start <= end:
                    r.error(
                        a.line,
                        f'{where}: its memory area {_range(a.start, end)} maps MemoryBlock "{d.name}" '
                        f"(line {d.line}); memory cannot be shared across hosts",
                    )
