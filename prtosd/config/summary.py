"""A readable summary of a checked configuration, as printed by ``prtosd check``."""

from __future__ import annotations

from hm.events import HmEvent, default_hypervisor_entry, default_partition_entry
from prtosd.config.model import (
    AREA_FLAG_NAMES,
    AreaFlag,
    PartitionFlag,
    QueuingChannel,
    SamplingChannel,
    System,
)
from prtosd.config.units import format_size, format_time

_EVENT_IDS = frozenset(int(e) for e in HmEvent)


def _flags(value: int, table: dict[str, int]) -> str:
    names = [n for n, bit in table.items() if bit and value & bit]
    return " ".join(names) if names else "none"


def _version(v: int) -> str:
    return f"{v >> 16}.{(v >> 8) & 0xFF}.{v & 0xFF}"


def render(system: System) -> str:
    """Multi-line text: CPUs and plans, partitions, channels, HM tables, devices."""
    out: list[str] = []
    w = out.append
    w(f'System "{system.name}" (format {_version(system.version)}) — {system.file}')
    w("")
    w(f"CPUs: {len(system.processors)}")
    for cpu in system.processors:
        freq = f"{cpu.frequency_khz} kHz" if cpu.frequency_khz is not None else "no frequency (nominal 1 GHz)"
        w(f"  CPU {cpu.id}: {freq}, {len(cpu.plans)} plan(s)")
        for plan in cpu.plans:
            role = " (boot)" if plan.id == 0 else " (maintenance)" if plan.id == 1 else ""
            name = f' "{plan.name}"' if plan.name else ""
            if plan.major_frame:
                util = f"{100.0 * plan.busy_time / plan.major_frame:.1f}%"
                w(
                    f"    plan {plan.id}{name}{role}: major frame {format_time(plan.major_frame)}, "
                    f"{len(plan.slots)} slot(s), utilisation {util}"
                )
            else:
                w(f"    plan {plan.id}{name}{role}: idle plan (major frame 0)")
            for s in plan.slots:
                owner = system.partitions[s.partition_id].name if s.partition_id < len(system.partitions) else "?"
                w(
                    f"      slot {s.id}: [{format_time(s.start)}, {format_time(s.end)}) "
                    f'-> P{s.partition_id} "{owner}" vCPU {s.vcpu_id}'
                )
    w("")
    w(f"Partitions: {len(system.partitions)}")
    for p in system.partitions:
        flags = _flags(p.flags, {"system": PartitionFlag.SYSTEM, "fp": PartitionFlag.FP})
        w(f'  P{p.id} "{p.name}": flags {flags}, {p.no_vcpus} vCPU(s), console {p.console or "none"}')
        for a in p.areas:
            mode = (
                "unmapped"
                if a.flags & AreaFlag.UNMAPPED
                else ("ro" if a.flags & (AreaFlag.READ_ONLY | AreaFlag.ROM) else "rw")
            )
            name = f' "{a.name}"' if a.name else ""
            w(
                f"    area{name} 0x{a.start:x} {format_size(a.size)} at 0x{a.virt:x} {mode} "
                f"[{_flags(a.flags, AREA_FLAG_NAMES)}]"
            )
        for port in p.ports:
            linked = "linked" if system.channel_of(p.id, port.name) else "no channel"
            w(
                f"    port {port.global_id} {port.name}: {port.type.name.lower()} "
                f"{port.direction.name.lower()} ({linked})"
            )
        if p.interrupt_lines:
            w(f"    hw interrupt lines: {' '.join(map(str, p.interrupt_lines))}")
        for r in p.io_ranges:
            w(f"    io-ports 0x{r.base:x}..0x{r.last:x}")
        if p.trace:
            w(f"    trace: device {p.trace.device}, bitmask 0x{p.trace.bitmask:x}")
        if p.image:
            w(f"    image: {p.image}")
        if p.sources:
            w(f"    sources: {' '.join(p.sources)}")
        if (host := system.host_of(p.id)) is not None:
            w(f'    runs on host "{host.name}" (pd:Placement)')
        for i, f in enumerate(p.custom_files):
            w(f"    custom file {i}: {f}")
    w("")
    w(f"Channels: {len(system.channels)} port channel(s), {len(system.ipvis)} IPVI element(s)")
    for ch in system.channels:
        src = f"P{ch.source.partition_id}.{ch.source.port_name}"
        if isinstance(ch, SamplingChannel):
            dst = ", ".join(f"P{d.partition_id}.{d.port_name}" for d in ch.destinations)
            w(
                f"  sampling {src} -> {dst}: {format_size(ch.max_message_length)}, "
                f"valid period {format_time(ch.valid_period)}"
            )
        elif isinstance(ch, QueuingChannel):
            dst = f"P{ch.destination.partition_id}.{ch.destination.port_name}"
            w(f"  queuing  {src} -> {dst}: {ch.max_no_messages} x {format_size(ch.max_message_length)}")
    for (ipvi, src), dests in sorted(system.ipvi_routes().items()):
        w(f"  ipvi {ipvi}: P{src} -> {', '.join(f'P{d}' for d in dests)}")
    w("")
    w("Health monitor (entries differing from the defaults):")
    tables = [("hypervisor", system.hypervisor.hm_table(), default_hypervisor_entry)]
    tables += [(f'P{p.id} "{p.name}"', p.hm_table(), default_partition_entry) for p in system.partitions]
    for label, table, default in tables:
        changed = [
            f"{HmEvent(ev).full_name if ev in _EVENT_IDS else ev}: {e.action.full_name}, log {'yes' if e.log else 'no'}"
            for ev, e in enumerate(table)
            if (e.action, e.log) != default(ev)
        ]
        w(f"  {label}: {'defaults' if not changed else ''}".rstrip())
        for line in changed:
            w(f"    {line}")
    hyp = system.hypervisor
    w(f"  HM log device: {hyp.hm_device or 'none'}")
    w("")
    w(f"Devices: {len(system.devices)} (plus the built-in Null)")
    for d in system.devices:
        if d.kind == "MemoryBlock":
            w(f'  MemoryBlock "{d.name}": 0x{d.start:x} {format_size(d.size)}')
        elif d.kind == "Uart":
            w(f'  Uart "{d.name}": id {d.uart_id}, {d.baud_rate} baud')
        elif d.kind == "Vga":
            w(f'  Vga "{d.name}"')
    w(
        f"Hypervisor: area 0x1000000 {format_size(hyp.area_size)}, console {hyp.console or 'none'}"
        + (f", trace on {hyp.trace.device}" if hyp.trace else "")
    )
    return "\n".join(out) + "\n"
