"""Semantic checks V-01..V-54 (config.md §8.2) and warnings W-01, W-02, W-04 (§9).

Every check has a configuration that violates it (exact ``file:line: message``, the line being
the one of the element config.md names) and one that only just passes it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sysxml import (
    SysXml,
    area,
    diagnostics,
    errors,
    expect_error,
    expect_errors,
    expect_ok,
    hm,
    line_of,
    load,
    partition,
    plan,
    ports,
    processor,
    slot,
)

from hm.events import HmAction, HmEvent

# -- helpers ------------------------------------------------------------------------------------


def idle_cpu(cid: int, n_plans: int = 1) -> str:
    """A processor whose plans have no slots."""
    return processor(cid, [plan(i, "1s", []) for i in range(n_plans)])


def with_body(x: SysXml, pid: int, *body: str) -> SysXml:
    """Replace partition ``pid`` by one with the given extra children."""
    x.partitions[pid] = partition(pid, body=list(body))
    return x


def channel_system(channel: list[str], p0: str = "out:source:sampling", p1: str = "in:destination:sampling") -> SysXml:
    """Partition 0 has port ``out``, partition 1 port ``in`` (by default), linked by ``channel``."""
    x = SysXml(channels=channel)
    with_body(x, 0, ports(*p0.split()))
    with_body(x, 1, ports(*p1.split()))
    return x


def sampling(*endpoints: str, extra: str = 'maxMessageLength="16B"') -> list[str]:
    return [f"<SamplingChannel {extra}>", *endpoints, "</SamplingChannel>"]


def queuing(*endpoints: str, extra: str = 'maxMessageLength="16B" maxNoMessages="4"') -> list[str]:
    return [f"<QueuingChannel {extra}>", *endpoints, "</QueuingChannel>"]


SRC = '<Source partitionId="0" portName="out"/>'
DST = '<Destination partitionId="1" portName="in"/>'


def test_base_system_is_valid(tmp_path: Path) -> None:
    system = expect_ok(tmp_path, SysXml())
    assert [p.name for p in system.partitions] == ["P0", "P1"]


# -- V-01 .. V-07: ids and counts --------------------------------------------------------------


def test_v01_processor_ids_consecutive(tmp_path: Path) -> None:
    x = SysXml()
    x.processors.append(idle_cpu(2))
    expect_error(tmp_path, x, '<Processor id="2"', "processor id (2) shall be consecutive starting at 0")


def test_v01_first_processor_must_be_0(tmp_path: Path) -> None:
    x = SysXml(processors=[processor(1, [plan(0, "1s", [slot(0, "0ms", "500ms", 0), slot(1, "500ms", "1ms", 1)])])])
    expect_error(tmp_path, x, '<Processor id="1"', "processor id (1) shall be consecutive starting at 0")


def test_v01_passes_with_consecutive_ids(tmp_path: Path) -> None:
    x = SysXml()
    x.processors += [idle_cpu(1), idle_cpu(2)]
    expect_ok(tmp_path, x)


def test_v02_four_processors_pass(tmp_path: Path) -> None:
    x = SysXml()
    x.processors += [idle_cpu(i) for i in (1, 2, 3)]
    assert len(expect_ok(tmp_path, x).processors) == 4


def test_v02_fifth_processor_fails(tmp_path: Path) -> None:
    x = SysXml()
    x.processors += [idle_cpu(i) for i in (1, 2, 3, 4)]
    expect_error(tmp_path, x, '<Processor id="4"', "no more than 4 cpus are supported")


def test_v03_plan_ids_consecutive(tmp_path: Path) -> None:
    x = SysXml()
    x.processors.append(processor(1, [plan(0, "1s", []), plan(2, "1s", [])]))
    expect_error(tmp_path, x, '<Plan id="2"', "Cyclic plan id (2) shall be consecutive starting at 0")


def test_v03_plan_ids_restart_per_processor(tmp_path: Path) -> None:
    x = SysXml()
    x.processors.append(processor(1, [plan(0, "1s", []), plan(1, "1s", [])]))
    expect_ok(tmp_path, x)


def test_v04_slot_ids_consecutive(tmp_path: Path) -> None:
    x = SysXml(processors=[processor(0, [plan(0, "1s", [slot(0, "0ms", "500ms", 0), slot(2, "500ms", "500ms", 1)])])])
    expect_error(tmp_path, x, '<Slot id="2"', "slot id (2) shall be consecutive starting at 0")


def test_v04_slot_ids_restart_per_plan(tmp_path: Path) -> None:
    p0 = plan(0, "1s", [slot(0, "0ms", "500ms", 0), slot(1, "500ms", "500ms", 1)])
    p1 = plan(1, "2s", [slot(0, "0ms", "1s", 1), slot(1, "1s", "1s", 0)])
    expect_ok(tmp_path, SysXml(processors=[processor(0, [p0, p1])]))


def test_v05_partition_ids_consecutive(tmp_path: Path) -> None:
    x = SysXml(partitions=[partition(0), partition(2)])
    expect_error(tmp_path, x, '<Partition id="2"', "partition id (2) shall be consecutive starting at 0")


def test_v05_first_partition_must_be_0(tmp_path: Path) -> None:
    x = SysXml(partitions=[partition(1), partition(0)])
    expect_errors(
        tmp_path,
        x,
        [
            ('<Partition id="1"', "partition id (1) shall be consecutive starting at 0"),
            ('<Partition id="0"', "partition id (0) shall be consecutive starting at 0"),
        ],
    )


def test_v06_four_vcpus_pass(tmp_path: Path) -> None:
    slots = [slot(i, f"{i * 100}ms", "100ms", 0, f'vCpuId="{i}"') for i in range(4)]
    x = SysXml(
        processors=[processor(0, [plan(0, "1s", [*slots, slot(4, "500ms", "500ms", 1)])])],
        partitions=[partition(0, extra='noVCpus="4"'), partition(1)],
    )
    assert expect_ok(tmp_path, x).partitions[0].no_vcpus == 4


def test_v06_five_vcpus_fail(tmp_path: Path) -> None:
    x = SysXml(partitions=[partition(0, extra='noVCpus="5"'), partition(1)])
    expect_error(tmp_path, x, '<Partition id="0"', "too many virtual Cpus (5) allocated to the partition")


def _many_partitions(n: int, vcpus_of_first: int) -> SysXml:
    parts = [partition(0, extra=f'noVCpus="{vcpus_of_first}"')]
    parts += [partition(i, areas=[area(0x6000000 + i * 0x1000, "4KB")]) for i in range(1, n)]
    parts[0] = partition(0, extra=f'noVCpus="{vcpus_of_first}"', areas=[area(0x5000000, "4KB")])
    return SysXml(partitions=parts)


def test_v07_255_kthreads_pass(tmp_path: Path) -> None:
    # 127 partitions + 128 vCPUs = 255
    assert errors(tmp_path, _many_partitions(127, 2)) == []


def test_v07_256_kthreads_fail(tmp_path: Path) -> None:
    x = _many_partitions(128, 1)
    expect_error(
        tmp_path,
        x,
        "<PartitionTable>",
        "prtos only supports a maximum of 255 kthreads, the configuration file defines a total of 256 kthreads",
    )


# -- V-08 .. V-13: plans and slots -------------------------------------------------------------


def one_plan(*slots: str, maf: str | None = "1s") -> list[str]:
    return [processor(0, [plan(0, maf, list(slots))])]


def test_v08_slot_starting_at_previous_end_passes(tmp_path: Path) -> None:
    x = SysXml(processors=one_plan(slot(0, "0us", "500000us", 0), slot(1, "500000us", "500000us", 1)))
    expect_ok(tmp_path, x)


def test_v08_overlapping_slot(tmp_path: Path) -> None:
    x = SysXml(processors=one_plan(slot(0, "0us", "500000us", 0), slot(1, "499999us", "1us", 1)))
    expect_error(tmp_path, x, '<Slot id="1"', "slot 1 ([499999 - 500000] usec) overlaps slot 0 ([0 - 500000] usec)")


def test_v08_slots_out_of_time_order(tmp_path: Path) -> None:
    x = SysXml(processors=one_plan(slot(0, "500ms", "500ms", 1), slot(1, "0ms", "500ms", 0)))
    expect_error(tmp_path, x, '<Slot id="1"', "slot 1 ([0 - 500000] usec) overlaps slot 0 ([500000 - 1000000] usec)")


def test_v08_compares_with_previous_slot_only(tmp_path: Path) -> None:
    x = SysXml(
        processors=one_plan(
            slot(0, "0ms", "100ms", 0), slot(1, "200ms", "100ms", 1), slot(2, "250ms", "10ms", 0), maf="1s"
        )
    )
    expect_error(
        tmp_path, x, '<Slot id="2"', "slot 2 ([250000 - 260000] usec) overlaps slot 1 ([200000 - 300000] usec)"
    )


def test_v09_slot_ending_at_major_frame_passes(tmp_path: Path) -> None:
    x = SysXml(processors=one_plan(slot(0, "0ms", "500ms", 0), slot(1, "500ms", "500ms", 1), maf="1000000us"))
    expect_ok(tmp_path, x)


def test_v09_slot_past_major_frame(tmp_path: Path) -> None:
    x = SysXml(processors=one_plan(slot(0, "0ms", "500ms", 0), slot(1, "500ms", "500001us", 1)))
    expect_error(tmp_path, x, '<Slot id="1"', "last slot ([500000 - 1000001] usec) overlaps major frame (1000000 usec)")


def test_v09_default_major_frame_is_zero(tmp_path: Path) -> None:
    x = SysXml(processors=one_plan(slot(0, "0ms", "1ms", 0), slot(1, "1ms", "1ms", 1), maf=None))
    expect_errors(
        tmp_path,
        x,
        [
            ('<Slot id="0"', "last slot ([0 - 1000] usec) overlaps major frame (0 usec)"),
            ('<Slot id="1"', "last slot ([1000 - 2000] usec) overlaps major frame (0 usec)"),
        ],
    )


def test_v09_idle_plan_without_slots_passes(tmp_path: Path) -> None:
    x = SysXml()
    x.processors.append(processor(1, [plan(0, None, [])]))
    assert expect_ok(tmp_path, x).processors[1].plans[0].major_frame == 0


def test_v10_slot_partition_out_of_range(tmp_path: Path) -> None:
    x = SysXml(
        processors=one_plan(slot(0, "0ms", "500ms", 0), slot(1, "500ms", "100ms", 1), slot(2, "600ms", "1ms", 2))
    )
    expect_error(tmp_path, x, '<Slot id="2"', "incorrect partition id (2)")


def test_v10_last_partition_passes(tmp_path: Path) -> None:
    expect_ok(tmp_path, SysXml(processors=one_plan(slot(0, "0ms", "500ms", 1), slot(1, "600ms", "1ms", 0))))


def test_v11_vcpu_out_of_range(tmp_path: Path) -> None:
    x = SysXml(processors=one_plan(slot(0, "0ms", "500ms", 0), slot(1, "500ms", "500ms", 1, 'vCpuId="1"')))
    expect_error(tmp_path, x, '<Slot id="1"', "incorrect vCpu id (1)")


def test_v11_last_vcpu_passes(tmp_path: Path) -> None:
    x = SysXml(
        processors=one_plan(
            slot(0, "0ms", "500ms", 0), slot(1, "500ms", "200ms", 1, 'vCpuId="1"'), slot(2, "700ms", "1ms", 1)
        ),
        partitions=[partition(0), partition(1, extra='noVCpus="2"')],
    )
    expect_ok(tmp_path, x)


def test_v12_vcpu_on_two_processors(tmp_path: Path) -> None:
    x = SysXml()
    x.processors.append(processor(1, [plan(0, "1s", [slot(0, "0ms", "10ms", 0)])]))
    first = line_of(x, 'start="0ms" duration="500ms" partitionId="0"')
    expect_error(tmp_path, x, 'duration="10ms"', f"vCpu (0, 0) assigned to CPU 0 and 1 (line {first})")


def test_v12_vcpu_in_several_plans_of_one_processor_passes(tmp_path: Path) -> None:
    p0 = plan(0, "1s", [slot(0, "0ms", "500ms", 0), slot(1, "500ms", "500ms", 1)])
    p1 = plan(1, "1s", [slot(0, "0ms", "500ms", 0)])
    x = SysXml(
        processors=[processor(0, [p0, p1]), processor(1, [plan(0, "1s", [slot(0, "0ms", "1s", 0, 'vCpuId="1"')])])],
        partitions=[partition(0, extra='noVCpus="2"'), partition(1)],
    )
    system = expect_ok(tmp_path, x)
    assert system.cpu_of(0, 0) == 0 and system.cpu_of(0, 1) == 1 and system.cpu_of(1, 0) == 0


def test_v12_reported_once_per_processor_pair(tmp_path: Path) -> None:
    x = SysXml()
    x.processors.append(processor(1, [plan(0, "1s", [slot(0, "0ms", "10ms", 0), slot(1, "10ms", "10ms", 0)])]))
    path, errs, _ = diagnostics(tmp_path, x)
    second_cpu = line_of(x, 'start="0ms" duration="10ms"')
    assert len(errs) == 1 and errs[0].startswith(f"{path}:{second_cpu}:")


@pytest.mark.parametrize(
    ("where", "spec"),
    [("partition", "SYSTEM_ERROR:SWITCH_TO_MAINTENANCE"), ("hypervisor", "UNEXPECTED_TRAP:SWITCH_TO_MAINTENANCE")],
)
def test_v13_maintenance_plan_required(tmp_path: Path, where: str, spec: str) -> None:
    x = SysXml()
    if where == "partition":
        with_body(x, 0, hm(spec))
    else:
        x.hypervisor.append(hm(spec))
    x.processors.append(idle_cpu(1, 2))
    expect_error(tmp_path, x, '<Processor id="0"', 'Although required, a maintenance plan is not defined for CPU "0"')


def test_v13_two_plans_pass(tmp_path: Path) -> None:
    x = with_body(SysXml(), 0, hm("SYSTEM_ERROR:SWITCH_TO_MAINTENANCE"))
    x.processors = [
        processor(0, [plan(0, "1s", [slot(0, "0ms", "500ms", 0), slot(1, "500ms", "1ms", 1)]), plan(1, "1s", [])])
    ]
    expect_ok(tmp_path, x)


def test_v13_one_plan_passes_without_the_action(tmp_path: Path) -> None:
    expect_ok(tmp_path, with_body(SysXml(), 0, hm("SYSTEM_ERROR:PARTITION_COLD_RESET")))


# -- V-14 .. V-17: regions ---------------------------------------------------------------------


def test_v14_region_start_alignment(tmp_path: Path) -> None:
    x = SysXml()
    x.regions.append('<Region type="ram" start="0x20000800" size="4KB"/>')
    expect_error(tmp_path, x, "0x20000800", "memory region start address (0x20000800) shall be aligned to 0x1000")
    x.regions[1] = '<Region type="ram" start="0x20001000" size="4KB"/>'
    expect_ok(tmp_path, x)


def test_v15_region_size_multiple_of_4096(tmp_path: Path) -> None:
    x = SysXml()
    x.regions.append('<Region type="rom" start="0x20000000" size="4097B"/>')
    expect_error(tmp_path, x, "4097B", "memory region size (4097) is not multiple of 4096")
    x.regions[1] = '<Region type="rom" start="0x20000000" size="4096B"/>'
    expect_ok(tmp_path, x)


def test_v16_regions_touching_pass(tmp_path: Path) -> None:
    x = SysXml()
    x.regions.append('<Region type="ram" start="0x20000000" size="4KB"/>')
    expect_ok(tmp_path, x)


def test_v16_regions_overlap(tmp_path: Path) -> None:
    x = SysXml()
    x.regions.append('<Region type="ram" start="0x1ffff000" size="8KB"/>')
    first = line_of(x, 'start="0x0"')
    expect_error(
        tmp_path, x, "0x1ffff000", f"memory region [0x1ffff000 - 0x20000fff] overlaps [0x0 - 0x1fffffff] (line {first})"
    )


def test_v16_one_byte_overlap(tmp_path: Path) -> None:
    x = SysXml(
        regions=[
            '<Region type="ram" start="0x0" size="536866817B"/>',
            '<Region type="ram" start="0x1ffff000" size="4KB"/>',
        ]
    )
    first = line_of(x, "536866817B")
    expect_errors(
        tmp_path,
        x,
        [
            ("536866817B", "memory region size (536866817) is not multiple of 4096"),
            (
                'start="0x1ffff000"',
                f"memory region [0x1ffff000 - 0x1fffffff] overlaps [0x0 - 0x1ffff000] (line {first})",
            ),
        ],
    )


def test_v17_regions_with_same_start(tmp_path: Path) -> None:
    x = SysXml()
    x.regions.append('<Region type="rom" start="0x0" size="4KB"/>')
    expect_error(tmp_path, x, 'type="rom"', "memory region (0x0) unsorted")


def test_regions_in_any_address_order_pass(tmp_path: Path) -> None:
    x = SysXml(
        regions=['<Region type="ram" start="0x20000000" size="4KB"/>', '<Region type="ram" start="0x0" size="512MB"/>']
    )
    expect_ok(tmp_path, x)


# -- V-18 .. V-26: memory areas ----------------------------------------------------------------


def test_v18_partition_area_alignment(tmp_path: Path) -> None:
    x = SysXml(partitions=[partition(0, areas=[area(0x6000800, "4KB")]), partition(1)])
    expect_error(tmp_path, x, "0x6000800", "memory area start address (0x6000800) shall be aligned to 0x1000")


def test_v18_memory_block_alignment(tmp_path: Path) -> None:
    x = SysXml()
    x.devices.append('<MemoryBlock name="mb" start="0x8000800" size="4KB"/>')
    expect_error(tmp_path, x, "<MemoryBlock", "memory area start address (0x8000800) shall be aligned to 0x1000")


def test_v18_resident_sw_alignment(tmp_path: Path) -> None:
    x = SysXml(resident_sw=[area(0x8000010, "4KB")])
    expect_error(tmp_path, x, "0x8000010", "memory area start address (0x8000010) shall be aligned to 0x1000")


@pytest.mark.parametrize("where", ["partition", "rsw", "block", "hypervisor"])
def test_v19_area_size_multiple_of_4096(tmp_path: Path, where: str) -> None:
    x = SysXml()
    if where == "partition":
        x.partitions[0] = partition(0, areas=[area(0x6000000, "4097B")])
    elif where == "rsw":
        x.resident_sw = [area(0x8000000, "4097B")]
    elif where == "block":
        x.devices.append('<MemoryBlock name="mb" start="0x8000000" size="4097B"/>')
    else:
        x.hypervisor = ['<PhysicalMemoryArea size="4097B"/>']
    expect_error(tmp_path, x, "4097B", "memory area size (4097) is not multiple of 4096")


def test_v18_v19_valid_resident_sw_and_memory_block_pass(tmp_path: Path) -> None:
    x = SysXml(resident_sw=[area(0x8000000, "4KB")])
    x.devices.append('<MemoryBlock name="mb" start="0x8001000" size="4KB"/>')
    expect_ok(tmp_path, x)


HIGH_REGION = '<Region type="ram" start="0xfe000000" size="16MB"/>'


@pytest.mark.parametrize("page", [0xFEC00000, 0xFED00000, 0xFEE00000])
def test_v20_reserved_pages(tmp_path: Path, page: int) -> None:
    x = SysXml(regions=['<Region type="ram" start="0x0" size="512MB"/>', HIGH_REGION])
    x.devices.append(f'<MemoryBlock name="mb" start="0x{page - 0x1000:x}" size="8KB"/>')
    expect_error(
        tmp_path,
        x,
        "<MemoryBlock",
        f"memory area [0x{page - 0x1000:x} - 0x{page + 0xFFF:x}] overlaps a memory area "
        f"[0x{page:x} - 0x{page + 0xFFF:x}] reserved for PRTOS",
    )


def test_v20_partition_area_on_reserved_page(tmp_path: Path) -> None:
    x = SysXml(regions=['<Region type="ram" start="0x0" size="512MB"/>', HIGH_REGION])
    x.partitions[1] = partition(1, areas=[area(0xFEE00000, "4KB", 'mappedAt="0x7000000"')])
    expect_error(
        tmp_path,
        x,
        "0xfee00000",
        "memory area [0xfee00000 - 0xfee00fff] overlaps a memory area [0xfee00000 - 0xfee00fff] reserved for PRTOS",
    )


def test_v20_areas_next_to_reserved_pages_pass(tmp_path: Path) -> None:
    x = SysXml(regions=['<Region type="ram" start="0x0" size="512MB"/>', HIGH_REGION])
    x.devices += [
        '<MemoryBlock name="below" start="0xfebff000" size="4KB"/>',
        '<MemoryBlock name="between" start="0xfec01000" size="1020KB"/>',
        '<MemoryBlock name="above" start="0xfee01000" size="4KB"/>',
    ]
    expect_ok(tmp_path, x)


def test_v21_area_outside_every_region(tmp_path: Path) -> None:
    x = SysXml(partitions=[partition(0), partition(1, areas=[area(0x1FFFF000, "8KB")])])
    expect_error(tmp_path, x, "0x1ffff000", "memory area [0x1ffff000 - 0x20000fff] is not covered by any memory region")


def test_v21_area_ending_at_region_end_passes(tmp_path: Path) -> None:
    expect_ok(tmp_path, SysXml(partitions=[partition(0), partition(1, areas=[area(0x1FFFF000, "4KB")])]))


def test_v21_area_spanning_two_regions_fails(tmp_path: Path) -> None:
    x = SysXml(
        regions=['<Region type="ram" start="0x0" size="512MB"/>', '<Region type="ram" start="0x20000000" size="1MB"/>']
    )
    x.partitions[1] = partition(1, areas=[area(0x1FFFF000, "8KB")])
    expect_error(tmp_path, x, "0x1ffff000", "memory area [0x1ffff000 - 0x20000fff] is not covered by any memory region")


def test_v21_memory_block_outside_regions(tmp_path: Path) -> None:
    x = SysXml()
    x.devices.append('<MemoryBlock name="mb" start="0x30000000" size="4KB"/>')
    expect_error(
        tmp_path, x, "<MemoryBlock", "memory area [0x30000000 - 0x30000fff] is not covered by any memory region"
    )


def test_v21_resident_sw_outside_regions(tmp_path: Path) -> None:
    x = SysXml(resident_sw=[area(0x30000000, "4KB")])
    expect_error(tmp_path, x, "0x30000000", "memory area [0x30000000 - 0x30000fff] is not covered by any memory region")


def test_v21_hypervisor_area_outside_regions(tmp_path: Path) -> None:
    x = SysXml(regions=['<Region type="ram" start="0x2000000" size="256MB"/>'])
    expect_error(
        tmp_path,
        x,
        "<PhysicalMemoryArea size",
        "memory area [0x1000000 - 0x13fffff] is not covered by any memory region",
    )


def test_v22_areas_touching_pass(tmp_path: Path) -> None:
    # the base system: [0x6000000 - 0x60fffff] and [0x6100000 - 0x61fffff]
    system = expect_ok(tmp_path, SysXml())
    assert system.partitions[0].areas[0].end + 1 == system.partitions[1].areas[0].start


def test_v22_one_byte_overlap(tmp_path: Path) -> None:
    x = SysXml(partitions=[partition(0, areas=[area(0x6000000, "1048577B")]), partition(1)])
    first = line_of(x, "1048577B")
    expect_errors(
        tmp_path,
        x,
        [
            ("1048577B", "memory area size (1048577) is not multiple of 4096"),
            ("0x6100000", f"memory area [0x6100000 - 0x61fffff] overlaps [0x6000000 - 0x6100000] (line {first})"),
        ],
    )


def test_v22_areas_of_two_partitions_overlap(tmp_path: Path) -> None:
    x = SysXml(partitions=[partition(0), partition(1, areas=[area(0x60FF000, "4KB")])])
    first = line_of(x, "0x6000000")
    expect_error(
        tmp_path, x, "0x60ff000", f"memory area [0x60ff000 - 0x60fffff] overlaps [0x6000000 - 0x60fffff] (line {first})"
    )


def test_v22_both_shared_may_overlap(tmp_path: Path) -> None:
    x = SysXml(
        partitions=[
            partition(0, areas=[area(0x6000000), area(0x8000000, "1MB", 'flags="shared"')]),
            partition(1, areas=[area(0x6100000), area(0x8080000, "1MB", 'flags="uncacheable shared"')]),
        ]
    )
    expect_ok(tmp_path, x)


def test_v22_only_one_shared_fails(tmp_path: Path) -> None:
    x = SysXml(
        partitions=[
            partition(0, areas=[area(0x6000000), area(0x8000000, "1MB", 'flags="shared"')]),
            partition(1, areas=[area(0x6100000), area(0x8080000, "1MB")]),
        ]
    )
    first = line_of(x, "0x8000000")
    expect_error(
        tmp_path, x, "0x8080000", f"memory area [0x8080000 - 0x817ffff] overlaps [0x8000000 - 0x80fffff] (line {first})"
    )


def test_v22_shared_area_may_cover_a_memory_block(tmp_path: Path) -> None:
    x = SysXml(
        partitions=[partition(0, areas=[area(0x6000000), area(0x8000000, "1MB", 'flags="shared"')]), partition(1)]
    )
    x.devices.append('<MemoryBlock name="log" start="0x8010000" size="64KB"/>')
    expect_ok(tmp_path, x)


def test_v22_unshared_area_over_a_memory_block(tmp_path: Path) -> None:
    x = SysXml(partitions=[partition(0, areas=[area(0x6000000), area(0x8000000, "1MB")]), partition(1)])
    x.devices.append('<MemoryBlock name="log" start="0x8010000" size="64KB"/>')
    block = line_of(x, "<MemoryBlock")
    expect_error(
        tmp_path, x, "0x8000000", f"memory area [0x8000000 - 0x80fffff] overlaps [0x8010000 - 0x801ffff] (line {block})"
    )


def test_v22_memory_block_declared_after_the_area_is_reported_on_the_later_line(tmp_path: Path) -> None:
    x = SysXml(order=("parts", "hyp", "hw"))
    x.partitions[1] = partition(1, areas=[area(0x6100000), area(0x8000000, "1MB")])
    x.devices.append('<MemoryBlock name="log" start="0x8010000" size="64KB"/>')
    first = line_of(x, "0x8000000")
    expect_error(
        tmp_path,
        x,
        "<MemoryBlock",
        f"memory area [0x8010000 - 0x801ffff] overlaps [0x8000000 - 0x80fffff] (line {first})",
    )


def test_v22_two_memory_blocks_may_overlap(tmp_path: Path) -> None:
    x = SysXml()
    x.devices += [
        '<MemoryBlock name="a" start="0x8000000" size="64KB"/>',
        '<MemoryBlock name="b" start="0x8000000" size="4KB"/>',
    ]
    expect_ok(tmp_path, x)


def test_v22_shared_area_over_the_hypervisor(tmp_path: Path) -> None:
    x = SysXml(partitions=[partition(0, areas=[area(0x1300000, "1MB", 'flags="shared"')]), partition(1)])
    hyp = line_of(x, "<PhysicalMemoryArea size")
    expect_error(
        tmp_path, x, "0x1300000", f"memory area [0x1300000 - 0x13fffff] overlaps [0x1000000 - 0x13fffff] (line {hyp})"
    )


def test_v22_resident_sw_overlap(tmp_path: Path) -> None:
    # ResidentSw comes before the PartitionTable here, so the partition's area is the later one
    x = SysXml(resident_sw=[area(0x6080000, "4KB")])
    rsw = line_of(x, "0x6080000")
    expect_error(
        tmp_path, x, "0x6000000", f"memory area [0x6000000 - 0x60fffff] overlaps [0x6080000 - 0x6080fff] (line {rsw})"
    )


def test_v22_areas_of_one_partition_overlap_physically(tmp_path: Path) -> None:
    x = SysXml(
        partitions=[partition(0, areas=[area(0x6000000), area(0x6080000, "4KB", 'mappedAt="0x7000000"')]), partition(1)]
    )
    first = line_of(x, "0x6000000")
    expect_error(
        tmp_path, x, "0x6080000", f"memory area [0x6080000 - 0x6080fff] overlaps [0x6000000 - 0x60fffff] (line {first})"
    )


def test_v23_virtual_overlap(tmp_path: Path) -> None:
    x = SysXml(
        partitions=[partition(0, areas=[area(0x6000000), area(0x8000000, "4KB", 'mappedAt="0x60ff000"')]), partition(1)]
    )
    first = line_of(x, "0x6000000")
    expect_error(
        tmp_path,
        x,
        "0x8000000",
        f"virtual memory area [0x60ff000 - 0x60fffff] overlaps [0x6000000 - 0x60fffff] (line {first})",
    )


def test_v23_virtually_touching_areas_pass(tmp_path: Path) -> None:
    x = SysXml(
        partitions=[partition(0, areas=[area(0x6000000), area(0x8000000, "4KB", 'mappedAt="0x6100000"')]), partition(1)]
    )
    expect_ok(tmp_path, x)


def test_v23_areas_of_different_partitions_may_share_virtual_addresses(tmp_path: Path) -> None:
    x = SysXml(
        partitions=[
            partition(0, areas=[area(0x6000000, extra='mappedAt="0x0"')]),
            partition(1, areas=[area(0x6100000, extra='mappedAt="0x0"')]),
        ]
    )
    expect_ok(tmp_path, x)


def test_v24_two_areas_with_the_same_start(tmp_path: Path) -> None:
    x = SysXml(
        partitions=[partition(0, areas=[area(0x6000000), area(0x6000000, "4KB", 'mappedAt="0x7000000"')]), partition(1)]
    )
    expect_error(tmp_path, x, 'mappedAt="0x7000000"', "memory area (0x6000000) unsorted")


@pytest.mark.parametrize("flag", ["shared", "read-only", "unmapped"])
def test_v25_hypervisor_area_flags(tmp_path: Path, flag: str) -> None:
    x = SysXml(hypervisor=[f'<PhysicalMemoryArea size="4MB" flags="uncacheable {flag}"/>'])
    expect_error(tmp_path, x, "<PhysicalMemoryArea size", f'"{flag}" flag not permitted')


def test_v25_all_three_flags_reported(tmp_path: Path) -> None:
    x = SysXml(hypervisor=['<PhysicalMemoryArea size="4MB" flags="unmapped read-only shared"/>'])
    path, errs, _ = diagnostics(tmp_path, x)
    line = line_of(x, "<PhysicalMemoryArea size")
    assert errs == [f'{path}:{line}: "{f}" flag not permitted' for f in ("shared", "read-only", "unmapped")]


def test_v25_other_flags_pass(tmp_path: Path) -> None:
    x = SysXml(
        hypervisor=['<PhysicalMemoryArea size="4MB" flags="uncacheable rom flag0 flag1 flag2 flag3 iommu none"/>']
    )
    expect_ok(tmp_path, x)


def test_v26_area_below_the_window_passes(tmp_path: Path) -> None:
    x = SysXml(partitions=[partition(0, areas=[area(0x6000000, "4KB", 'mappedAt="0xfbfbf000"')]), partition(1)])
    expect_ok(tmp_path, x)


def test_v26_area_reaching_the_window(tmp_path: Path) -> None:
    x = SysXml(partitions=[partition(0, areas=[area(0x6000000, "8KB", 'mappedAt="0xfbfbf000"')]), partition(1)])
    expect_error(
        tmp_path,
        x,
        "0xfbfbf000",
        "virtual memory area [0xfbfbf000 - 0xfbfc0fff] overlaps the hypervisor window [0xfbfc0000 - 0xffffffff]",
    )


def test_v26_identity_mapped_area_in_the_window(tmp_path: Path) -> None:
    x = SysXml(
        regions=['<Region type="ram" start="0x0" size="512MB"/>', '<Region type="ram" start="0xfc000000" size="4KB"/>']
    )
    x.partitions[1] = partition(1, areas=[area(0xFC000000, "4KB")])
    expect_error(
        tmp_path,
        x,
        "0xfc000000",
        "virtual memory area [0xfc000000 - 0xfc000fff] overlaps the hypervisor window [0xfbfc0000 - 0xffffffff]",
        nth=2,
    )


# -- V-27 .. V-29: devices ---------------------------------------------------------------------


def test_v27_device_name_twice(tmp_path: Path) -> None:
    x = SysXml()
    x.devices.append('<Vga name="Uart"/>')
    expect_error(tmp_path, x, "<Vga", f"device name already registered (line {line_of(x, '<Uart')})")


def test_v27_null_name_is_taken(tmp_path: Path) -> None:
    x = SysXml()
    x.devices.append('<MemoryBlock name="Null" start="0x8000000" size="4KB"/>')
    # The built-in Null device has no line in the file; the message says so instead.
    expect_error(tmp_path, x, "<MemoryBlock", "device name already registered (built-in Null device)")


def test_v27_null_element_is_ignored(tmp_path: Path) -> None:
    x = SysXml()
    x.devices += [
        "<Null/>",
        '<Null name="Uart"/>',
        '<Vga name="Screen"/>',
        '<Uart id="1" baudRate="9600" name="Uart1"/>',
    ]
    system = expect_ok(tmp_path, x)
    assert {d.name for d in system.devices if d.kind != "Null"} == {"Uart", "Screen", "Uart1"}


@pytest.mark.parametrize("uart_id", ["2", "-1", "x", "0_1", "1.0", "\u0661", "10", "1" * 5000])
def test_v28_invalid_uart_id(tmp_path: Path, uart_id: str) -> None:
    x = SysXml()
    x.devices.append(f'<Uart id="{uart_id}" baudRate="9600" name="U2"/>')
    expect_error(tmp_path, x, 'name="U2"', f"invalid uart id {uart_id}")


@pytest.mark.parametrize(("text", "value"), [("+1", 1), ("01", 1), ("00", 0)])
def test_v28_other_spellings_of_0_and_1_pass(tmp_path: Path, text: str, value: int) -> None:
    x = SysXml()
    x.devices.append(f'<Uart id="{text}" baudRate="9600" name="U1"/>')
    assert expect_ok(tmp_path, x).devices[1].uart_id == value


def test_v28_uart_ids_0_and_1_pass(tmp_path: Path) -> None:
    x = SysXml()
    x.devices.append('<Uart id="1" baudRate="9600" name="U1"/>')
    system = expect_ok(tmp_path, x)
    assert [d.uart_id for d in system.devices] == [0, 1]


@pytest.mark.parametrize("where", ["hyp-console", "hyp-hm", "hyp-trace", "part-console", "part-trace"])
def test_v29_unknown_device(tmp_path: Path, where: str) -> None:
    x = SysXml()
    marker = {"hyp-console": "<PRTOSHypervisor", "hyp-hm": "<PRTOSHypervisor", "part-console": '<Partition id="1"'}.get(
        where, "<Trace"
    )
    if where == "hyp-console":
        x.hypervisor_extra = 'console="Nope"'
    elif where == "hyp-hm":
        x.hypervisor_extra = 'console="Uart" healthMonitorDevice="Nope"'
    elif where == "hyp-trace":
        x.hypervisor.append('<Trace device="Nope" bitmask="HYP_IRQS"/>')
    elif where == "part-console":
        x.partitions[1] = partition(1, extra='console="Nope"')
    else:
        with_body(x, 1, '<Trace device="Nope" bitmask="0x3"/>')
    expect_error(tmp_path, x, marker, '"Nope" not found in the device table')


def test_v29_null_and_known_devices_pass(tmp_path: Path) -> None:
    x = SysXml(hypervisor_extra='console="NULL" healthMonitorDevice="log"')
    x.devices.append('<MemoryBlock name="log" start="0x8000000" size="64KB"/>')
    x.hypervisor.append('<Trace device="Null" bitmask="HYP_IRQS HYP_HM"/>')
    x.partitions = [
        partition(0, extra='console="NULL"', body=['<Trace device="log" bitmask="0x1"/>']),
        partition(1, extra='console="Uart"', body=['<Trace device="NULL" bitmask="0x0"/>']),
    ]
    expect_ok(tmp_path, x)


def test_v29_device_names_are_case_sensitive(tmp_path: Path) -> None:
    x = SysXml(hypervisor_extra='console="uart"')
    expect_error(tmp_path, x, "<PRTOSHypervisor", '"uart" not found in the device table')


# -- V-30 .. V-36: partitions and hardware resources -------------------------------------------


def test_v30_duplicate_partition_name(tmp_path: Path) -> None:
    x = SysXml(partitions=[partition(0, "A"), partition(1, "A")])
    first = line_of(x, '<Partition id="0"')
    expect_error(tmp_path, x, '<Partition id="1"', f'partition name "A" duplicated (line {first})')


def test_v30_unnamed_partitions_and_system_name_pass(tmp_path: Path) -> None:
    x = SysXml(name="test", partitions=[partition(0, None), partition(1, None), partition(2, "test")])
    x.processors = one_plan(slot(0, "0ms", "300ms", 0), slot(1, "300ms", "300ms", 1), slot(2, "600ms", "300ms", 2))
    system = expect_ok(tmp_path, x)
    assert [p.name for p in system.partitions] == ["", "", "test"]


def test_v31_duplicate_port_name(tmp_path: Path) -> None:
    x = with_body(SysXml(), 0, ports("a:source:sampling", "a:destination:queuing"))
    first = line_of(x, 'direction="source"')
    expect_error(tmp_path, x, 'direction="destination"', f'port name "a" duplicated (line {first})')


def test_v31_same_port_name_in_two_partitions_passes(tmp_path: Path) -> None:
    x = channel_system(
        sampling('<Source partitionId="0" portName="p"/>', '<Destination partitionId="1" portName="p"/>'),
        "p:source:sampling",
        "p:destination:sampling",
    )
    expect_ok(tmp_path, x)


def interrupts(lines: str) -> str:
    return f'<HwResources>\n<Interrupts lines="{lines}"/>\n</HwResources>'


def test_v32_line_32(tmp_path: Path) -> None:
    x = with_body(SysXml(), 0, interrupts("3 32"))
    expect_error(tmp_path, x, "<Interrupts", "invalid hw interrupt line (32)")


def test_v32_line_31_passes(tmp_path: Path) -> None:
    system = expect_ok(tmp_path, with_body(SysXml(), 0, interrupts("31 1")))
    assert system.partitions[0].interrupt_lines == (31, 1)


def test_v33_line_owned_twice(tmp_path: Path) -> None:
    x = with_body(SysXml(), 0, interrupts("5 6"))
    with_body(x, 1, '<HwResources>\n<Interrupts lines="7 5"/>\n</HwResources>')
    first = line_of(x, 'lines="5 6"')
    expect_error(tmp_path, x, 'lines="7 5"', f"hw interrupt line (5) already assigned (line {first})")


def test_v33_distinct_lines_pass(tmp_path: Path) -> None:
    x = with_body(SysXml(), 0, interrupts("5 6"))
    with_body(x, 1, '<HwResources>\n<Interrupts lines="7 8"/>\n</HwResources>')
    expect_ok(tmp_path, x)


@pytest.mark.parametrize("line", [0, 2, 4, 24, 26, 27])
def test_v34_reserved_lines(tmp_path: Path, line: int) -> None:
    x = with_body(SysXml(), 0, interrupts(str(line)))
    expect_error(tmp_path, x, "<Interrupts", f"hw interrupt line {line} reserved for PRTOS")


def test_v34_other_lines_pass(tmp_path: Path) -> None:
    free = " ".join(str(n) for n in range(32) if n not in (0, 2, 4, 24, 26, 27))
    expect_ok(tmp_path, with_body(SysXml(), 0, interrupts(free)))


def io(*ranges: str) -> str:
    return "\n".join(["<HwResources>", "<IoPorts>", *ranges, "</IoPorts>", "</HwResources>"])


RESERVED_IO = [(0x20, 2), (0x40, 4), (0xA0, 2), (0x3F8, 5)]


@pytest.mark.parametrize(("rbase", "rn"), RESERVED_IO)
def test_v35_range_ending_on_first_reserved_port(tmp_path: Path, rbase: int, rn: int) -> None:
    x = with_body(SysXml(), 0, io(f'<Range base="0x{rbase - 4:x}" noPorts="5"/>'))
    expect_error(tmp_path, x, "<Range", f"io-ports [0x{rbase - 4:x}:5] reserved for prtos ([0x{rbase:x}:{rn}])")


@pytest.mark.parametrize(("rbase", "rn"), RESERVED_IO)
def test_v35_range_starting_on_last_reserved_port(tmp_path: Path, rbase: int, rn: int) -> None:
    # D-06: upstream missed this case
    last = rbase + rn - 1
    x = with_body(SysXml(), 0, io(f'<Range base="0x{last:x}" noPorts="1"/>'))
    expect_error(tmp_path, x, "<Range", f"io-ports [0x{last:x}:1] reserved for prtos ([0x{rbase:x}:{rn}])")


@pytest.mark.parametrize(("rbase", "rn"), RESERVED_IO)
def test_v35_ranges_around_reserved_ports_pass(tmp_path: Path, rbase: int, rn: int) -> None:
    x = with_body(
        SysXml(), 0, io(f'<Range base="0x{rbase - 4:x}" noPorts="4"/>', f'<Range base="0x{rbase + rn:x}" noPorts="3"/>')
    )
    expect_ok(tmp_path, x)


def test_v35_range_covering_two_reserved_ranges(tmp_path: Path) -> None:
    x = with_body(SysXml(), 0, io('<Range base="0x0" noPorts="256"/>'))
    path, errs, _ = diagnostics(tmp_path, x)
    line = line_of(x, "<Range")
    assert errs == [f"{path}:{line}: io-ports [0x0:256] reserved for prtos ([0x{b:x}:{n}])" for b, n in RESERVED_IO[:3]]


def test_v36_restricted(tmp_path: Path) -> None:
    x = with_body(SysXml(), 0, io('<Range base="0x100" noPorts="8"/>', '<Restricted address="0x300" mask="0xff"/>'))
    expect_error(tmp_path, x, "<Restricted", "Restricted IoPorts not supported")


def test_io_range_derived_extent(tmp_path: Path) -> None:
    system = expect_ok(tmp_path, with_body(SysXml(), 0, io('<Range base="0x100" noPorts="8"/>')))
    rng = system.partitions[0].io_ranges[0]
    assert (rng.base, rng.no_ports, rng.last) == (0x100, 8, 0x107)  # D-05: inclusive last port


# -- V-37 .. V-43: channels --------------------------------------------------------------------


def test_channel_base_passes(tmp_path: Path) -> None:
    system = expect_ok(tmp_path, channel_system(sampling(SRC, DST)))
    assert system.channel_of(1, "in") is system.channels[0]


def test_v37_endpoint_partition_out_of_range(tmp_path: Path) -> None:
    x = channel_system(sampling(SRC, '<Destination partitionId="2" portName="in"/>'))
    path, errs, _warns = diagnostics(tmp_path, x)
    assert errs == [f"{path}:{line_of(x, '<Destination')}: incorrect partition id (2)"]


def test_v38_partition_name_mismatch(tmp_path: Path) -> None:
    x = channel_system(sampling(SRC, '<Destination partitionId="1" partitionName="P0" portName="in"/>'))
    expect_error(tmp_path, x, "<Destination", 'partition name "P0" mismatches with the expected one "P1"')


def test_v38_partition_name_of_unnamed_partition(tmp_path: Path) -> None:
    x = channel_system(sampling(SRC, '<Destination partitionId="1" partitionName="P1" portName="in"/>'))
    x.partitions[1] = partition(1, None, body=[ports("in:destination:sampling")])
    expect_error(tmp_path, x, "<Destination", 'partition name "P1" mismatches with the expected one ""')


def test_v38_matching_partition_names_pass(tmp_path: Path) -> None:
    x = channel_system(
        sampling(
            '<Source partitionId="0" partitionName="P0" portName="out"/>',
            '<Destination partitionId="1" partitionName="P1" portName="in"/>',
        )
    )
    expect_ok(tmp_path, x)


def test_v39_port_not_found(tmp_path: Path) -> None:
    x = channel_system(sampling(SRC, '<Destination partitionId="1" portName="nope"/>'))
    path, errs, _ = diagnostics(tmp_path, x)
    assert errs == [f'{path}:{line_of(x, "<Destination")}: port "nope" not found']


def test_v39_port_of_another_partition_is_not_found(tmp_path: Path) -> None:
    x = channel_system(sampling(SRC, '<Destination partitionId="0" portName="in"/>'))
    path, errs, _ = diagnostics(tmp_path, x)
    assert errs == [f'{path}:{line_of(x, "<Destination")}: port "in" not found']


def test_v40_channel_type_mismatch(tmp_path: Path) -> None:
    x = channel_system(queuing(SRC, DST))
    expect_errors(
        tmp_path,
        x,
        [
            ("<Source", "channel type mismatches with the type of the port"),
            ("<Destination", "channel type mismatches with the type of the port"),
        ],
    )


def test_v40_queuing_ports_pass(tmp_path: Path) -> None:
    x = channel_system(queuing(SRC, DST), "out:source:queuing", "in:destination:queuing")
    expect_ok(tmp_path, x)


def test_v41_direction_mismatch(tmp_path: Path) -> None:
    x = channel_system(
        sampling('<Source partitionId="1" portName="in"/>', '<Destination partitionId="0" portName="out"/>')
    )
    expect_errors(
        tmp_path,
        x,
        [
            ("<Source", "channel direction mismatches with the direction of the port"),
            ("<Destination", "channel direction mismatches with the direction of the port"),
        ],
    )


def test_v42_port_in_two_channels(tmp_path: Path) -> None:
    second = '<Destination partitionId="1" portName="in2"/>'
    x = channel_system(
        sampling(SRC, DST) + sampling('<Source partitionId="0" portName="out"/>', second),
        p1="in:destination:sampling in2:destination:sampling",
    )
    src_lines = [line_of(x, "<Source", 1), line_of(x, "<Source", 2)]
    path, errs, _ = diagnostics(tmp_path, x)
    assert errs == [f'{path}:{src_lines[1]}: port "out" is already connected to a channel (line {src_lines[0]})']


def test_v42_destination_listed_twice(tmp_path: Path) -> None:
    x = channel_system(sampling(SRC, DST, DST))
    path, errs, _ = diagnostics(tmp_path, x)
    first, second = line_of(x, "<Destination", 1), line_of(x, "<Destination", 2)
    assert errs == [f'{path}:{second}: port "in" is already connected to a channel (line {first})']


def test_v42_channel_within_one_partition_passes(tmp_path: Path) -> None:
    # K-14: a partition may talk to itself
    x = SysXml(
        channels=queuing('<Source partitionId="0" portName="a"/>', '<Destination partitionId="0" portName="b"/>')
    )
    with_body(x, 0, ports("a:source:queuing", "b:destination:queuing"))
    expect_ok(tmp_path, x)


@pytest.mark.parametrize("kind", ["sampling", "queuing"])
def test_v43_zero_message_length(tmp_path: Path, kind: str) -> None:
    if kind == "sampling":
        x = channel_system(sampling(SRC, DST, extra='maxMessageLength="0B"'))
    else:
        x = channel_system(
            queuing(SRC, DST, extra='maxMessageLength="0KB" maxNoMessages="1"'),
            "out:source:queuing",
            "in:destination:queuing",
        )
    expect_error(tmp_path, x, "Channel max", "maxMessageLength must be greater than 0")


def test_v43_one_byte_passes(tmp_path: Path) -> None:
    system = expect_ok(tmp_path, channel_system(sampling(SRC, DST, extra='maxMessageLength="1B" validPeriod="1ms"')))
    assert (system.channels[0].max_message_length, system.channels[0].valid_period) == (1, 1000)


# -- V-44 .. V-46: IPVIs ----------------------------------------------------------------------


def ipvi_system(*ipvis: str) -> SysXml:
    """The base system (two partitions) with these Ipvi elements."""
    return SysXml(channels=list(ipvis))


def test_v44_ipvi_id_7_passes(tmp_path: Path) -> None:
    system = expect_ok(tmp_path, ipvi_system('<Ipvi id="7" sourceId="0" destinationId="1"/>'))
    assert system.ipvi_routes() == {(7, 0): (1,)}


def test_v44_ipvi_id_8_fails(tmp_path: Path) -> None:
    expect_error(tmp_path, ipvi_system('<Ipvi id="8" sourceId="0" destinationId="1"/>'), "<Ipvi", "Invalid ipvi id 8")


def test_v45_merged_ipvi_elements(tmp_path: Path) -> None:
    x = ipvi_system(
        '<Ipvi id="0" sourceId="0" destinationId="1"/>',
        '<Ipvi id="0" sourceId="0" destinationId="0"/>',
        '<Ipvi id="0" sourceId="1" destinationId="1 0"/>',
        '<Ipvi id="1" sourceId="0" destinationId="1"/>',
    )
    system = expect_ok(tmp_path, x)
    assert system.ipvi_routes() == {(0, 0): (1, 0), (0, 1): (1, 0), (1, 0): (1,)}


def test_v45_duplicate_across_elements(tmp_path: Path) -> None:
    x = ipvi_system('<Ipvi id="3" sourceId="0" destinationId="1"/>', '<Ipvi id="3" sourceId="0" destinationId="0 1"/>')
    expect_error(tmp_path, x, 'destinationId="0 1"', "Duplicated ipvi partition destination")


def test_v45_duplicate_within_one_element(tmp_path: Path) -> None:
    x = ipvi_system('<Ipvi id="3" sourceId="0" destinationId="1 1"/>')
    expect_error(tmp_path, x, "<Ipvi", "Duplicated ipvi partition destination")


def test_v46_source_partition(tmp_path: Path) -> None:
    x = ipvi_system('<Ipvi id="0" sourceId="2" destinationId="1"/>')
    expect_error(tmp_path, x, "<Ipvi", "source partition 2 doesn't exist")


def test_v46_destination_partition(tmp_path: Path) -> None:
    x = ipvi_system('<Ipvi id="0" sourceId="1" destinationId="0 2"/>')
    expect_error(tmp_path, x, "<Ipvi", "destination partition 2 doesn't exist")


def test_ipvi_with_empty_destination_list_passes(tmp_path: Path) -> None:
    system = expect_ok(tmp_path, ipvi_system('<Ipvi id="0" sourceId="1" destinationId=""/>'))
    assert system.ipvi_routes() == {(0, 1): ()}


# -- V-47 .. V-50: health monitor --------------------------------------------------------------


def event_line(name: str, action: str, log: str = "yes") -> str:
    return f'<HealthMonitor>\n<Event name="{name}" action="{action}" log="{log}"/>\n</HealthMonitor>'


def test_v47_unknown_event(tmp_path: Path) -> None:
    x = with_body(SysXml(), 0, event_line("PRTOS_HM_EV_BOGUS", "PRTOS_HM_AC_IGNORE"))
    expect_error(tmp_path, x, "<Event", "Expected a valid Health Monitor event")


def test_v47_reserved_event_21_has_no_name(tmp_path: Path) -> None:
    x = with_body(SysXml(), 0, event_line("PRTOS_HM_EV_X86_RESERVED", "PRTOS_HM_AC_IGNORE"))
    expect_error(tmp_path, x, "<Event", "Expected a valid Health Monitor event")


@pytest.mark.parametrize("where", ["partition", "hypervisor"])
def test_v48_watchdog(tmp_path: Path, where: str) -> None:
    x = SysXml()
    ev = event_line("PRTOS_HM_EV_WATCHDOG_TIMER", "PRTOS_HM_AC_HYPERVISOR_HALT")
    if where == "partition":
        with_body(x, 1, ev)
    else:
        x.hypervisor.append(ev)
    expect_error(tmp_path, x, "<Event", 'health monitor event "PRTOS_HM_EV_WATCHDOG_TIMER" is not supported')


def test_v49_unknown_action(tmp_path: Path) -> None:
    x = with_body(SysXml(), 0, event_line("PRTOS_HM_EV_FATAL_ERROR", "PRTOS_HM_AC_REBOOT"))
    expect_error(tmp_path, x, "<Event", "Expected a valid Health Monitor action")


#: semantics.md §9.4, written out independently of hm.events.
_ALL = {a.name for a in HmAction}
_GENERIC_PARTITION = {
    "FATAL_ERROR": {"PARTITION_HALT", "HYPERVISOR_HALT"},
    "SYSTEM_ERROR": _ALL - {"IGNORE", "PROPAGATE"},
    "FP_ERROR": _ALL - {"IGNORE", "PROPAGATE"},
    "MEM_PROTECTION": _ALL - {"IGNORE", "PROPAGATE"},
    "PARTITION_ERROR": _ALL - {"PROPAGATE"},
    "UNEXPECTED_TRAP": _ALL - {"PROPAGATE"},
}
_HV_RESET_HALT = {"HYPERVISOR_COLD_RESET", "HYPERVISOR_WARM_RESET", "HYPERVISOR_HALT"}
_GENERIC_HYPERVISOR = {
    "FATAL_ERROR": _HV_RESET_HALT,
    "SYSTEM_ERROR": {"HYPERVISOR_HALT"},
    "PARTITION_ERROR": {"HYPERVISOR_HALT"},
    "FP_ERROR": {"HYPERVISOR_HALT"},
    "MEM_PROTECTION": {"HYPERVISOR_HALT"},
    "UNEXPECTED_TRAP": {"IGNORE", *_HV_RESET_HALT, "SWITCH_TO_MAINTENANCE"},
}


def permitted(level: str, event: str) -> bool | set[str]:
    generic = _GENERIC_PARTITION if level == "partition" else _GENERIC_HYPERVISOR
    if event in generic:
        return generic[event]
    return _ALL if level == "partition" else _HV_RESET_HALT


MATRIX = [(level, ev.name, ac.name) for level in ("partition", "hypervisor") for ev in HmEvent for ac in HmAction]


def test_matrix_covers_every_named_event() -> None:
    assert len({e for _, e, _ in MATRIX}) == 25  # 26 slots, id 21 has no name (K-11)


@pytest.mark.parametrize(("level", "event", "action"), MATRIX)
def test_v50_permitted_matrix(tmp_path: Path, level: str, event: str, action: str) -> None:
    x = SysXml()
    ev = event_line(f"PRTOS_HM_EV_{event}", f"PRTOS_HM_AC_{action}", "no")
    if level == "partition":
        with_body(x, 0, ev)
    else:
        x.hypervisor.append(ev)
    # a maintenance plan, so that V-13 never interferes
    x.processors = [
        processor(0, [plan(0, "1s", [slot(0, "0ms", "500ms", 0), slot(1, "500ms", "1ms", 1)]), plan(1, "1s", [])])
    ]
    path, errs, _ = diagnostics(tmp_path, x)
    if action in permitted(level, event):
        assert errs == []
    else:
        msg = f'Action "PRTOS_HM_AC_{action}" on event "PRTOS_HM_EV_{event}" is not permitted'
        assert errs == [f"{path}:{line_of(x, '<Event')}: {msg}"]


@pytest.mark.parametrize("action", ["SHUTDOWN", "PARTITION_COLD_RESET", "PARTITION_WARM_RESET", "SUSPEND", "PROPAGATE"])
def test_v50_hypervisor_rejects_actions_that_would_panic(tmp_path: Path, action: str) -> None:
    # D-08: upstream accepts these at hypervisor level and then panics
    for event in ("FATAL_ERROR", "UNEXPECTED_TRAP", "X86_PAGE_FAULT"):
        assert action not in permitted("hypervisor", event)
        x = SysXml()
        x.hypervisor.append(event_line(f"PRTOS_HM_EV_{event}", f"PRTOS_HM_AC_{action}"))
        expect_error(
            tmp_path, x, "<Event", f'Action "PRTOS_HM_AC_{action}" on event "PRTOS_HM_EV_{event}" is not permitted'
        )


def test_v50_every_event_of_a_table_is_checked(tmp_path: Path) -> None:
    x = with_body(
        SysXml(), 0, hm("X86_DEBUG:IGNORE", "FATAL_ERROR:IGNORE", "SYSTEM_ERROR:PROPAGATE", "FP_ERROR:SUSPEND")
    )
    expect_errors(
        tmp_path,
        x,
        [
            ("FATAL_ERROR", 'Action "PRTOS_HM_AC_IGNORE" on event "PRTOS_HM_EV_FATAL_ERROR" is not permitted'),
            ("SYSTEM_ERROR", 'Action "PRTOS_HM_AC_PROPAGATE" on event "PRTOS_HM_EV_SYSTEM_ERROR" is not permitted'),
        ],
    )


def test_v51_invalid_log(tmp_path: Path) -> None:
    x = with_body(SysXml(), 0, event_line("PRTOS_HM_EV_FATAL_ERROR", "PRTOS_HM_AC_PARTITION_HALT", "1"))
    expect_error(tmp_path, x, "<Event", "expected yes|no|true|false")


@pytest.mark.parametrize(("value", "expected"), [("yes", True), ("true", True), ("no", False), ("false", False)])
def test_v51_yntf_values(tmp_path: Path, value: str, expected: bool) -> None:
    x = with_body(SysXml(), 0, event_line("PRTOS_HM_EV_X86_DEBUG", "PRTOS_HM_AC_IGNORE", value))
    assert expect_ok(tmp_path, x).partitions[0].hm_table()[HmEvent.X86_DEBUG].log is expected


@pytest.mark.parametrize(
    ("where", "marker"),
    [
        ('<Area start="0x6000000" size="1MB" flags="shared bogus"/>', "bogus"),
        ("partition", '<Partition id="1"'),
        ("hyptrace", "<Trace"),
        ("pma", "<PhysicalMemoryArea size"),
    ],
)
def test_v53_unknown_flag(tmp_path: Path, where: str, marker: str) -> None:
    x = SysXml()
    if where.startswith("<Area"):
        x.partitions[0] = partition(0, areas=[where])
    elif where == "partition":
        x.partitions[1] = partition(1, extra='flags="fp bogus system"')
    elif where == "hyptrace":
        x.hypervisor.append('<Trace device="Uart" bitmask="HYP_SCHED bogus"/>')
    else:
        x.hypervisor = ['<PhysicalMemoryArea size="4MB" flags="bogus"/>']
    expect_error(tmp_path, x, marker, "expected valid flag (bogus)")


def test_v53_flags_are_case_sensitive(tmp_path: Path) -> None:
    x = SysXml(partitions=[partition(0, extra='flags="System"'), partition(1)])
    expect_error(tmp_path, x, '<Partition id="0"', "expected valid flag (System)")


def test_v54_region_type(tmp_path: Path) -> None:
    x = SysXml(regions=['<Region type="flash" start="0x0" size="512MB"/>'])
    expect_error(tmp_path, x, "<Region", "Expected valid region type (flash)")


# -- warnings W-01, W-02, W-04 -----------------------------------------------------------------


@pytest.mark.parametrize(("base", "count"), [(0xFFF8, 1), (0xFFF0, 9), (0xFFFF, 1), (0xFF00, 256)])
def test_w01_never_granted_ports(tmp_path: Path, base: int, count: int) -> None:
    x = with_body(SysXml(), 0, io(f'<Range base="0x{base:x}" noPorts="{count}"/>'))
    path, errs, warns = diagnostics(tmp_path, x)
    assert errs == []
    assert warns == [f"{path}:{line_of(x, '<Range')}: warning: io-ports 0xfff8-0xffff are never granted"]


def test_w01_range_ending_before_fff8_is_silent(tmp_path: Path) -> None:
    expect_ok(tmp_path, with_body(SysXml(), 0, io('<Range base="0xfff0" noPorts="8"/>')))


def test_w02_vcpu_in_no_slot(tmp_path: Path) -> None:
    x = SysXml(partitions=[partition(0, extra='noVCpus="3"'), partition(1), partition(2)])
    x.processors = one_plan(slot(0, "0ms", "100ms", 0, 'vCpuId="1"'), slot(1, "100ms", "100ms", 1))
    path, errs, warns = diagnostics(tmp_path, x)
    p0, p2 = line_of(x, '<Partition id="0"'), line_of(x, '<Partition id="2"')
    assert errs == []
    assert warns == [
        f"{path}:{p0}: warning: vCpu (0, 0) is not assigned to any CPU and will never run",
        f"{path}:{p0}: warning: vCpu (0, 2) is not assigned to any CPU and will never run",
        f"{path}:{p2}: warning: vCpu (2, 0) is not assigned to any CPU and will never run",
    ]
    system = load(tmp_path, x)
    assert [system.cpu_of(0, v) for v in range(3)] == [None, 0, None]


def test_w04_unconnected_port(tmp_path: Path) -> None:
    x = channel_system(sampling(SRC, DST), p1="in:destination:sampling spare:source:queuing")
    path, errs, warns = diagnostics(tmp_path, x)
    assert errs == []
    assert warns == [
        f'{path}:{line_of(x, "spare")}: warning: port "spare" of partition 1 is not connected to any channel'
    ]


def test_warnings_do_not_hide_errors(tmp_path: Path) -> None:
    x = with_body(SysXml(), 0, ports("lonely:source:sampling"))
    x.partitions[1] = partition(1, extra='noVCpus="5"')
    path, errs, warns = diagnostics(tmp_path, x)
    p1 = line_of(x, '<Partition id="1"')
    assert errs == [f"{path}:{p1}: too many virtual Cpus (5) allocated to the partition"]
    assert (
        f'{path}:{line_of(x, "lonely")}: warning: port "lonely" of partition 0 is not connected to any channel' in warns
    )


def test_independent_errors_are_all_reported_in_document_order(tmp_path: Path) -> None:
    x = SysXml(
        regions=['<Region type="ram" start="0x0" size="512MB"/>', '<Region type="ram" start="0x20000800" size="4KB"/>']
    )
    x.partitions[1] = partition(1, extra='console="Nope"')
    x.channels = ['<Ipvi id="9" sourceId="0" destinationId="1"/>']
    expect_errors(
        tmp_path,
        x,
        [
            ("0x20000800", "memory region start address (0x20000800) shall be aligned to 0x1000"),
            ('<Partition id="1"', '"Nope" not found in the device table'),
            ("<Ipvi", "Invalid ipvi id 9"),
        ],
    )
