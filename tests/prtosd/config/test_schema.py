"""Loading layer: XML syntax, namespaces, the schema checks of config.md §8.1, project extensions
(§10) and W-03, defaults (§3) and derived information (§5), and the ``prtosd check`` command."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from sysxml import (
    NS,
    PD,
    SysXml,
    area,
    diagnostics,
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
    write,
)

from hm.events import HmAction, HmEvent
from prtosd.cli import main
from prtosd.config import ConfigError, load_system
from prtosd.config.model import AreaFlag, PartitionFlag

# -- file and XML level ------------------------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "absent.xml"
    with pytest.raises(ConfigError) as info:
        load_system(path)
    assert [str(e) for e in info.value.errors] == [f"{path}: cannot read the configuration: No such file or directory"]


def test_directory_instead_of_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_system(tmp_path)
    assert str(info.value).startswith(f"{tmp_path}: cannot read the configuration: ")


def test_xml_syntax_error_has_its_line(tmp_path: Path) -> None:
    text = SysXml().text().replace('<Partition id="1" name="P1">', '<Partition id="1" name="P1"')
    path, errs, _ = diagnostics(tmp_path, text)
    assert len(errs) == 1
    after = line_of(text, '<Partition id="1"') + 1  # the parser notices at the next line
    assert errs[0].startswith(f"{path}:{after}: XML syntax error: ")


def test_mismatched_tag(tmp_path: Path) -> None:
    text = SysXml().text().replace("</Plan>", "</Plam>")
    path, errs, _ = diagnostics(tmp_path, text)
    assert len(errs) == 1
    assert errs[0].startswith(f"{path}:{line_of(text, '</Plam>')}: XML syntax error: ")


def test_empty_file(tmp_path: Path) -> None:
    path, errs, _ = diagnostics(tmp_path, "")
    assert errs == [f"{path}:1: XML syntax error: Document is empty, line 1, column 1"]


def test_duplicate_attribute_is_a_syntax_error(tmp_path: Path) -> None:
    x = SysXml(partitions=[partition(0, extra='name="again"'), partition(1)])
    path, errs, _ = diagnostics(tmp_path, x)
    p0 = line_of(x, '<Partition id="0"')
    assert len(errs) == 1 and errs[0].startswith(f"{path}:{p0}: XML syntax error: ")


MSG_ROOT = f'the root element must be SystemDescription in namespace "{NS}", found '


def test_root_in_another_namespace(tmp_path: Path) -> None:
    text = SysXml().text().replace(NS, "http://www.xtratum.org/xm-3.x")
    expect_error(
        tmp_path,
        text,
        "<SystemDescription",
        MSG_ROOT + '"SystemDescription" in namespace "http://www.xtratum.org/xm-3.x"',
    )


def test_root_in_no_namespace(tmp_path: Path) -> None:
    text = SysXml().text().replace(f' xmlns="{NS}"', "")
    expect_error(tmp_path, text, "<SystemDescription", MSG_ROOT + '"SystemDescription" in no namespace')


def test_root_with_another_name(tmp_path: Path) -> None:
    text = f'<?xml version="1.0"?>\n<System xmlns="{NS}"/>\n'
    expect_error(tmp_path, text, "<System", MSG_ROOT + f'"System" in namespace "{NS}"')


def test_prefixed_prtos_namespace_loads(tmp_path: Path) -> None:
    text = SysXml().text()
    text = text.replace(f'xmlns="{NS}"', f'xmlns:p="{NS}"')
    text = text.replace("<", "<p:").replace("<p:/", "</p:").replace("<p:?", "<?")
    system = load(tmp_path, text)
    assert [p.name for p in system.partitions] == ["P0", "P1"]


# -- §8.1: structure ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "marker", "message"),
    [
        (
            '<Region type="ram" start="0x0" size="512MB"/>',
            '<Region type="ram" start="0x0"/>',
            "<Region",
            'Region: missing required attribute "size"',
        ),
        (
            'duration="500ms" partitionId="1"',
            'partitionId="1"',
            'start="500ms"',
            'Slot: missing required attribute "duration"',
        ),
        (
            '<Partition id="1" name="P1">',
            '<Partition name="P1">',
            'name="P1"',
            'Partition: missing required attribute "id"',
        ),
        (' name="test"', "", "<SystemDescription", 'SystemDescription: missing required attribute "name"'),
        ('version="1.0.0" ', "", "<SystemDescription", 'SystemDescription: missing required attribute "version"'),
        (
            '<Uart id="0" baudRate="115200" name="Uart"/>',
            '<Uart id="0" name="Uart"/>',
            "<Uart",
            'Uart: missing required attribute "baudRate"',
        ),
        (
            '<PhysicalMemoryArea size="4MB"/>',
            "<PhysicalMemoryArea/>",
            "<PhysicalMemoryArea/>",
            'PhysicalMemoryArea: missing required attribute "size"',
        ),
    ],
)
def test_missing_required_attribute(tmp_path: Path, old: str, new: str, marker: str, message: str) -> None:
    text = SysXml().text()
    assert old in text
    expect_error(tmp_path, text.replace(old, new), marker, message)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('<PortTable>\n<Port name="a" type="sampling"/>\n</PortTable>', 'Port: missing required attribute "direction"'),
        (
            '<HealthMonitor>\n<Event name="PRTOS_HM_EV_FATAL_ERROR" action="PRTOS_HM_AC_PARTITION_HALT"/>\n</HealthMonitor>',
            'Event: missing required attribute "log"',
        ),
        ("<HwResources>\n<Interrupts/>\n</HwResources>", 'Interrupts: missing required attribute "lines"'),
        (
            '<HwResources>\n<IoPorts>\n<Range base="0x100"/>\n</IoPorts>\n</HwResources>',
            'Range: missing required attribute "noPorts"',
        ),
        ('<Trace bitmask="0x1"/>', 'Trace: missing required attribute "device"'),
        ('<TemporalRequirements period="1s"/>', 'TemporalRequirements: missing required attribute "duration"'),
    ],
)
def test_missing_required_attribute_in_partition(tmp_path: Path, body: str, message: str) -> None:
    x = SysXml(partitions=[partition(0, body=[body]), partition(1)])
    marker = body.splitlines()[-2] if "\n" in body else body
    if "<IoPorts>" in body:
        marker = "<Range"
    expect_error(tmp_path, x, marker.strip(), message)


def test_missing_channel_endpoint_attribute(tmp_path: Path) -> None:
    x = SysXml(
        channels=[
            '<SamplingChannel maxMessageLength="1B">',
            '<Source partitionId="0"/>',
            '<Destination partitionId="1" portName="b"/>',
            "</SamplingChannel>",
        ]
    )
    path, errs, _ = diagnostics(tmp_path, x)
    assert errs == [f'{path}:{line_of(x, "<Source")}: Source: missing required attribute "portName"']


@pytest.mark.parametrize(
    ("marker", "old", "new", "message"),
    [
        ("<Region", 'size="512MB"/>', 'size="512MB" kind="fast"/>', 'Region: unknown attribute "kind"'),
        (
            '<Partition id="0"',
            '<Partition id="0" name="P0">',
            '<Partition id="0" name="P0" priority="1">',
            'Partition: unknown attribute "priority"',
        ),
        (
            "<SystemDescription",
            'name="test"',
            'name="test" date="today"',
            'SystemDescription: unknown attribute "date"',
        ),
        ('<Slot id="0"', 'partitionId="0"/>', 'partitionId="0" vcpu="0"/>', 'Slot: unknown attribute "vcpu"'),
        # attributes are unqualified; a PRTOS-qualified attribute is not one of them
        (
            "p:noVCpus",
            '<Partition id="0" name="P0">',
            f'<Partition xmlns:p="{NS}" id="0" name="P0" p:noVCpus="2">',
            'Partition: unknown attribute "noVCpus"',
        ),
    ],
)
def test_unknown_attribute(tmp_path: Path, marker: str, old: str, new: str, message: str) -> None:
    text = SysXml().text()
    assert old in text
    expect_error(tmp_path, text.replace(old, new, 1), marker, message)


UNEXPECTED = "(unknown, duplicated or out of order)"


def test_unknown_element_in_devices(tmp_path: Path) -> None:
    x = SysXml()
    x.devices.append('<Disk name="d"/>')
    expect_error(tmp_path, x, "<Disk", f"unexpected element Disk {UNEXPECTED}")


def test_unknown_element_in_partition(tmp_path: Path) -> None:
    x = SysXml(partitions=[partition(0, body=["<Scheduling/>"]), partition(1)])
    expect_error(tmp_path, x, "<Scheduling", f"unexpected element Scheduling {UNEXPECTED}")


def test_unknown_element_under_root(tmp_path: Path) -> None:
    text = SysXml().text().replace("</SystemDescription>", "<Extras/>\n</SystemDescription>")
    expect_error(tmp_path, text, "<Extras", f"unexpected element Extras {UNEXPECTED}")


def test_two_cyclic_plan_tables(tmp_path: Path) -> None:
    x = SysXml()
    x.processors.append(
        "\n".join(
            [
                '<Processor id="1">',
                "<CyclicPlanTable>",
                '<Plan id="0"/>',
                "</CyclicPlanTable>",
                "<CyclicPlanTable>",
                '<Plan id="0" name="second"/>',
                "</CyclicPlanTable>",
                "</Processor>",
            ]
        )
    )
    expect_error(tmp_path, x, "<CyclicPlanTable>", f"unexpected element CyclicPlanTable {UNEXPECTED}", nth=3)


def test_two_sources_in_a_queuing_channel(tmp_path: Path) -> None:
    x = SysXml(
        channels=[
            '<QueuingChannel maxMessageLength="1B" maxNoMessages="1">',
            '<Source partitionId="0" portName="a"/>',
            '<Source partitionId="1" portName="b"/>',
            "</QueuingChannel>",
        ]
    )
    expect_error(tmp_path, x, 'partitionId="1" portName="b"', "unexpected element Source (expected here: Destination)")


def test_two_sources_in_a_sampling_channel(tmp_path: Path) -> None:
    x = SysXml(
        channels=[
            '<SamplingChannel maxMessageLength="1B">',
            '<Source partitionId="0" portName="a"/>',
            '<Source partitionId="1" portName="b"/>',
            "</SamplingChannel>",
        ]
    )
    expect_error(tmp_path, x, 'partitionId="1" portName="b"', "unexpected element Source (expected here: Destination)")


def test_two_partition_tables(tmp_path: Path) -> None:
    text = SysXml().text().replace("</SystemDescription>", "<PartitionTable/>\n</SystemDescription>")
    expect_error(tmp_path, text, "<PartitionTable/>", f"unexpected element PartitionTable {UNEXPECTED}")


def test_two_physical_memory_areas_in_a_partition(tmp_path: Path) -> None:
    x = SysXml(
        partitions=[
            partition(0, body=["<PhysicalMemoryAreas>", area(0x7000000, "4KB"), "</PhysicalMemoryAreas>"]),
            partition(1),
        ]
    )
    expect_error(tmp_path, x, "<PhysicalMemoryAreas>", f"unexpected element PhysicalMemoryAreas {UNEXPECTED}", nth=2)


def test_hw_description_children_out_of_order(tmp_path: Path) -> None:
    text = SysXml().text()
    layout = '<MemoryLayout>\n<Region type="ram" start="0x0" size="512MB"/>\n</MemoryLayout>\n'
    text = text.replace(layout, "").replace("</HwDescription>", layout + "</HwDescription>")
    expect_error(tmp_path, text, "<ProcessorTable>", "unexpected element ProcessorTable (expected here: MemoryLayout)")


def test_sampling_channel_destination_before_source(tmp_path: Path) -> None:
    x = SysXml(
        channels=[
            '<SamplingChannel maxMessageLength="1B">',
            '<Destination partitionId="1" portName="in"/>',
            '<Source partitionId="0" portName="out"/>',
            "</SamplingChannel>",
        ]
    )
    expect_error(tmp_path, x, "<Destination", "unexpected element Destination (expected here: Source)")


def test_queuing_channel_endpoints_in_either_order(tmp_path: Path) -> None:
    x = SysXml(
        channels=[
            '<QueuingChannel maxMessageLength="8B" maxNoMessages="2">',
            '<Destination partitionId="1" portName="in"/>',
            '<Source partitionId="0" portName="out"/>',
            "</QueuingChannel>",
        ]
    )
    x.partitions = [
        partition(0, body=[ports("out:source:queuing")]),
        partition(1, body=[ports("in:destination:queuing")]),
    ]
    system = expect_ok(tmp_path, x)
    ch = system.channels[0]
    assert (ch.source.partition_id, ch.source.port_name, ch.destination.port_name) == (0, "out", "in")


@pytest.mark.parametrize(
    ("order", "parent", "missing"),
    [
        (("hw", "hyp", "rsw", "channels"), "<SystemDescription", "PartitionTable"),
        (("hyp", "parts"), "<SystemDescription", "HwDescription"),
    ],
)
def test_missing_required_element_under_root(tmp_path: Path, order: tuple[str, ...], parent: str, missing: str) -> None:
    expect_error(tmp_path, SysXml(order=order), parent, f"SystemDescription: missing child element {missing}")


def test_missing_hypervisor_area(tmp_path: Path) -> None:
    x = SysXml(hypervisor=['<Trace device="Uart" bitmask="HYP_HM"/>'])
    expect_error(tmp_path, x, "<PRTOSHypervisor", "PRTOSHypervisor: missing child element PhysicalMemoryArea")


def test_partition_without_memory_areas(tmp_path: Path) -> None:
    text = (
        SysXml()
        .text()
        .replace('<PhysicalMemoryAreas>\n<Area start="0x6100000" size="1MB"/>\n</PhysicalMemoryAreas>\n', "")
    )
    expect_error(tmp_path, text, '<Partition id="1"', "Partition: missing child element PhysicalMemoryAreas")


def test_empty_partition_table(tmp_path: Path) -> None:
    expect_error(tmp_path, SysXml(partitions=[]), "<PartitionTable>", "PartitionTable: missing child element Partition")


def test_plan_table_without_plans(tmp_path: Path) -> None:
    x = SysXml()
    x.processors.append('<Processor id="1">\n<CyclicPlanTable>\n</CyclicPlanTable>\n</Processor>')
    expect_error(tmp_path, x, "<CyclicPlanTable>", "CyclicPlanTable: missing child element Plan", nth=2)


@pytest.mark.parametrize(
    ("element", "attr", "where"),
    [
        ("Partition", "noVCpus", "partition"),
        ("QueuingChannel", "maxNoMessages", "channel"),
        ("Uart", "baudRate", "uart"),
        ("Range", "noPorts", "range"),
    ],
)
@pytest.mark.parametrize("value", ["0", "-1"])
def test_positive_integer_below_one(tmp_path: Path, element: str, attr: str, where: str, value: str) -> None:
    x = SysXml()
    if where == "partition":
        x.partitions[0] = partition(0, extra=f'noVCpus="{value}"')
    elif where == "channel":
        x.channels = [
            f'<QueuingChannel maxMessageLength="1B" maxNoMessages="{value}">',
            '<Source partitionId="0" portName="a"/>',
            '<Destination partitionId="1" portName="b"/>',
            "</QueuingChannel>",
        ]
    elif where == "uart":
        x.devices = [f'<Uart id="0" baudRate="{value}" name="Uart"/>']
    else:
        x.partitions[0] = partition(
            0, body=[f'<HwResources>\n<IoPorts>\n<Range base="0x100" noPorts="{value}"/>\n</IoPorts>\n</HwResources>']
        )
    expect_error(
        tmp_path, x, f'{attr}="{value}"', f'{element}@{attr}: invalid value "{value}" (expected an integer >= 1)'
    )


def test_256_processors_pass_the_schema(tmp_path: Path) -> None:
    x = SysXml()
    x.processors += [processor(i, [plan(0, "1s", [])]) for i in range(1, 256)]
    # only the semantic limit of 4 CPUs (V-02) is left
    expect_error(tmp_path, x, '<Processor id="4"', "no more than 4 cpus are supported")


def test_257_processors(tmp_path: Path) -> None:
    x = SysXml()
    x.processors += [processor(i, [plan(0, "1s", [])]) for i in range(1, 257)]
    expect_error(tmp_path, x, '<Processor id="256"', f"unexpected element Processor {UNEXPECTED}")


@pytest.mark.parametrize(
    ("old", "new", "marker", "message"),
    [
        # D-12: the decimal point and the version separators are literal dots
        (
            'majorFrame="1s"',
            'majorFrame="2x5s"',
            "<Plan",
            'Plan@majorFrame: invalid time "2x5s" (expected a number and a unit s, ms or us, e.g. 500ms or 2.5s)',
        ),
        (
            'version="1.0.0"',
            'version="1a0a0"',
            "<SystemDescription",
            'SystemDescription@version: invalid version "1a0a0" (expected N.N.N, e.g. 1.0.0)',
        ),
        (
            'size="512MB"',
            'size="5x12MB"',
            "<Region",
            'Region@size: invalid size "5x12MB" (expected a number and a unit B, KB or MB, e.g. 256KB)',
        ),
        (
            '<Processor id="0">',
            '<Processor id="0" frequency="1x5MHz">',
            "<Processor id",
            'Processor@frequency: invalid frequency "1x5MHz" (expected a number and a unit KHz or MHz, e.g. 1000MHz)',
        ),
        (
            'version="1.0.0"',
            'version="1.0"',
            "<SystemDescription",
            'SystemDescription@version: invalid version "1.0" (expected N.N.N, e.g. 1.0.0)',
        ),
        (
            'majorFrame="1s"',
            'majorFrame="1 s"',
            "<Plan",
            'Plan@majorFrame: invalid time "1 s" (expected a number and a unit s, ms or us, e.g. 500ms or 2.5s)',
        ),
        (
            'majorFrame="1s"',
            'majorFrame="1"',
            "<Plan",
            'Plan@majorFrame: invalid time "1" (expected a number and a unit s, ms or us, e.g. 500ms or 2.5s)',
        ),
        (
            'majorFrame="1s"',
            'majorFrame="1Ms"',
            "<Plan",
            'Plan@majorFrame: invalid time "1Ms" (expected a number and a unit s, ms or us, e.g. 500ms or 2.5s)',
        ),
        (
            'majorFrame="1s"',
            'majorFrame=".5s"',
            "<Plan",
            'Plan@majorFrame: invalid time ".5s" (expected a number and a unit s, ms or us, e.g. 500ms or 2.5s)',
        ),
        (
            'size="512MB"',
            'size="512mb"',
            "<Region",
            'Region@size: invalid size "512mb" (expected a number and a unit B, KB or MB, e.g. 256KB)',
        ),
        (
            'size="512MB"',
            'size="512MiB"',
            "<Region",
            'Region@size: invalid size "512MiB" (expected a number and a unit B, KB or MB, e.g. 256KB)',
        ),
        (
            'start="0x0"',
            'start="0X0"',
            "<Region",
            'Region@start: invalid address "0X0" (the prefix must be a lower-case 0x)',
        ),
        (
            'start="0x0"',
            'start="0"',
            "<Region",
            'Region@start: invalid address "0" (expected 0x followed by hexadecimal digits)',
        ),
        (
            'start="0x0"',
            'start="0xg"',
            "<Region",
            'Region@start: invalid address "0xg" (expected 0x followed by hexadecimal digits)',
        ),
        (
            '<Processor id="0">',
            '<Processor id="-1">',
            "<Processor id",
            'Processor@id: invalid id "-1" (expected a decimal integer >= 0)',
        ),
        (
            '<Processor id="0">',
            '<Processor id="0x0">',
            "<Processor id",
            'Processor@id: invalid id "0x0" (expected a decimal integer >= 0)',
        ),
        ('type="ram"', 'type="RAM"', "<Region", "Expected valid region type (RAM)"),
        ('name="test"', 'name=""', "<SystemDescription", "SystemDescription@name: the value must not be empty"),
        (
            '<Partition id="0" name="P0">',
            '<Partition id="0" name="P0" hw_virt="yes">',
            '<Partition id="0"',
            'Partition@hw_virt: invalid boolean "yes" (expected true, false, 1 or 0)',
        ),
        ('<Processor id="0">', '<Processor id="0" features="fpu">', "<Processor id", "expected valid flag (fpu)"),
    ],
)
def test_values_not_matching_their_type(tmp_path: Path, old: str, new: str, marker: str, message: str) -> None:
    text = SysXml().text()
    assert old in text
    expect_error(tmp_path, text.replace(old, new, 1), marker, message)


@pytest.mark.parametrize(
    ("body", "marker", "message"),
    [
        (
            '<PortTable>\n<Port name="a" direction="in" type="sampling"/>\n</PortTable>',
            "<Port ",
            'Port@direction: invalid direction "in" (expected source or destination)',
        ),
        (
            '<PortTable>\n<Port name="a" direction="source" type="Sampling"/>\n</PortTable>',
            "<Port ",
            'Port@type: invalid port type "Sampling" (expected sampling or queuing)',
        ),
        (
            '<HwResources>\n<Interrupts lines="3 -1"/>\n</HwResources>',
            "<Interrupts",
            'Interrupts@lines: invalid interrupt line list "3 -1" (expected integers 0..31 separated by spaces)',
        ),
        (
            '<Trace device="Uart" bitmask="HYP_HM"/>',
            "<Trace",
            'Trace@bitmask: invalid address "HYP_HM" (expected 0x followed by hexadecimal digits)',
        ),
    ],
)
def test_partition_values_not_matching_their_type(tmp_path: Path, body: str, marker: str, message: str) -> None:
    expect_error(tmp_path, SysXml(partitions=[partition(0, body=[body]), partition(1)]), marker, message)


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("5x0ms", 'Slot@start: invalid time "5x0ms" (expected a number and a unit s, ms or us, e.g. 500ms or 2.5s)'),
        ("", "Slot@start: the value must not be empty"),
    ],
)
def test_bad_value_on_a_line_with_several_such_elements(tmp_path: Path, bad: str, message: str) -> None:
    # a file written on one line: the message must quote the value at fault, not the first Slot's
    text = SysXml().text().replace('<Slot id="1" start="500ms"', f'<Slot id="1" start="{bad}"').replace("\n", " ")
    path, errs, _ = diagnostics(tmp_path, text)
    assert errs == [f"{path}:1: {message}"]


def test_independent_schema_errors_are_all_reported(tmp_path: Path) -> None:
    x = SysXml(regions=['<Region type="disk" start="0x0" size="512MB"/>'])
    x.partitions[1] = partition(1, extra='noVCpus="0"')
    expect_errors(
        tmp_path,
        x,
        [
            ("<Region", "Expected valid region type (disk)"),
            ('<Partition id="1"', 'Partition@noVCpus: invalid value "0" (expected an integer >= 1)'),
        ],
    )


# -- D-14 and "any order" groups ----------------------------------------------------------------


@pytest.mark.parametrize(
    "order",
    [
        ("channels", "parts", "rsw", "hyp", "hw"),
        ("parts", "hw", "channels", "hyp", "rsw"),
        ("hyp", "rsw", "hw", "channels", "parts"),
    ],
)
def test_system_description_children_in_any_order(tmp_path: Path, order: tuple[str, ...]) -> None:
    def make(o: tuple[str, ...]) -> SysXml:
        x = SysXml(
            order=o, resident_sw=[area(0x7000000, "64KB")], channels=['<Ipvi id="1" sourceId="0" destinationId="1"/>']
        )
        x.devices.append('<MemoryBlock name="log" start="0x8000000" size="64KB"/>')
        x.partitions[1] = partition(1, areas=[area(0x6100000), area(0x8000000, "64KB", 'flags="shared"')])
        return x

    reordered = expect_ok(tmp_path, make(order))
    (tmp_path / "ref").mkdir()
    reference = expect_ok(tmp_path / "ref", make(("hw", "hyp", "rsw", "parts", "channels")))
    assert reordered.partitions[1].areas[1].size == reference.partitions[1].areas[1].size == 0x10000
    assert reordered.ipvi_routes() == reference.ipvi_routes() == {(1, 0): (1,)}
    assert [d.name for d in reordered.devices] == [d.name for d in reference.devices]


def test_partition_children_in_any_order(tmp_path: Path) -> None:
    body = [
        '<Trace device="Uart" bitmask="0x3"/>',
        hm("X86_DEBUG:IGNORE"),
        ports("p:source:sampling"),
        '<HwResources>\n<Interrupts lines="5"/>\n<IoPorts>\n<Range base="0x100" noPorts="2"/>\n</IoPorts>\n</HwResources>',
        '<TemporalRequirements period="1s" duration="500ms"/>',
    ]
    text = SysXml(partitions=[partition(0, body=body), partition(1)]).text()
    # move PhysicalMemoryAreas of partition 0 to the end of the partition
    pma = '<PhysicalMemoryAreas>\n<Area start="0x6000000" size="1MB"/>\n</PhysicalMemoryAreas>\n'
    text = text.replace(pma, "").replace("</Partition>", pma + "</Partition>", 1)
    path, errs, _warns = diagnostics(tmp_path, text)
    assert errs == []
    system = load_system(path)
    p0 = system.partitions[0]
    assert (p0.areas[0].start, p0.interrupt_lines, p0.io_ranges[0].last, p0.trace.bitmask) == (
        0x6000000,
        (5,),
        0x101,
        3,
    )


def test_hypervisor_children_in_any_order(tmp_path: Path) -> None:
    x = SysXml(
        hypervisor=[
            '<Trace device="Uart" bitmask="HYP_IRQS HYP_HM"/>',
            hm("FATAL_ERROR:HYPERVISOR_COLD_RESET"),
            '<PhysicalMemoryArea size="8MB"/>',
        ]
    )
    hyp = expect_ok(tmp_path, x).hypervisor
    assert (hyp.area_size, hyp.trace.bitmask, hyp.hm_table()[0].action) == (
        8 << 20,
        0b1001,
        HmAction.HYPERVISOR_COLD_RESET,
    )


def test_hw_resources_children_in_any_order(tmp_path: Path) -> None:
    body = '<HwResources>\n<IoPorts>\n<Range base="0x100" noPorts="1"/>\n</IoPorts>\n<Interrupts lines="5"/>\n</HwResources>'
    expect_ok(tmp_path, SysXml(partitions=[partition(0, body=[body]), partition(1)]))


def test_comments_and_processing_instructions_are_ignored(tmp_path: Path) -> None:
    text = SysXml().text().replace("<Devices>", "<Devices>\n<!-- a comment -->\n<?tool hint?>")
    expect_ok(tmp_path, text)


# -- §10 project extensions and W-03 -----------------------------------------------------------


def pd_system(attrs: str, pid: int = 0) -> SysXml:
    x = SysXml(root_extra=f'xmlns:pd="{PD}"')
    x.partitions[pid] = partition(pid, extra=attrs)
    return x


def test_pd_image_relative_to_the_xml_file(tmp_path: Path) -> None:
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / "p0.elf").write_bytes(b"\x7fELF")
    system = expect_ok(tmp_path, pd_system('pd:image="images/p0.elf"'))
    assert system.partitions[0].image == str((tmp_path / "images" / "p0.elf").resolve())
    assert system.partitions[1].image is None


def test_pd_image_missing(tmp_path: Path) -> None:
    x = pd_system('pd:image="nope.elf"')
    expected = f'image file "nope.elf" not found (looked for {(tmp_path / "nope.elf").resolve()})'
    expect_error(tmp_path, x, '<Partition id="0"', expected)


def test_pd_sources(tmp_path: Path) -> None:
    for name in ("main.c", "util.c"):
        (tmp_path / name).write_text("int x;\n")
    system = expect_ok(tmp_path, pd_system('pd:sources="main.c  util.c"'))
    assert system.partitions[0].sources == tuple(str((tmp_path / n).resolve()) for n in ("main.c", "util.c"))


def test_pd_source_missing(tmp_path: Path) -> None:
    (tmp_path / "main.c").write_text("int x;\n")
    x = pd_system('pd:sources="main.c gone.c"')
    expect_error(
        tmp_path,
        x,
        '<Partition id="0"',
        f'source file "gone.c" not found (looked for {(tmp_path / "gone.c").resolve()})',
    )


def test_pd_image_and_sources_together(tmp_path: Path) -> None:
    (tmp_path / "p.elf").write_bytes(b"")
    (tmp_path / "main.c").write_text("")
    x = pd_system('pd:image="p.elf" pd:sources="main.c"')
    expect_error(tmp_path, x, '<Partition id="0"', "pd:image and pd:sources are mutually exclusive")


def test_pd_custom_files_in_slot_order(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    for name in ("b.bin", "data/a.bin"):
        (tmp_path / name).write_bytes(b"x")
    system = expect_ok(tmp_path, pd_system('pd:customFiles="b.bin data/a.bin"', pid=1))
    assert system.partitions[1].custom_files == (
        str((tmp_path / "b.bin").resolve()),
        str((tmp_path / "data/a.bin").resolve()),
    )


def test_pd_custom_file_missing(tmp_path: Path) -> None:
    x = pd_system('pd:customFiles="cf0.bin"', pid=1)
    expect_error(
        tmp_path,
        x,
        '<Partition id="1"',
        f'custom file "cf0.bin" not found (looked for {(tmp_path / "cf0.bin").resolve()})',
    )


def test_pd_paths_are_relative_to_the_xml_not_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    conf = tmp_path / "conf"
    conf.mkdir()
    (conf / "p.elf").write_bytes(b"")
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    system = load_system(write(conf, pd_system('pd:image="p.elf"')))
    assert system.partitions[0].image == str((conf / "p.elf").resolve())


def test_pd_console_file_on_uart_and_vga(tmp_path: Path) -> None:
    x = SysXml(root_extra=f'xmlns:pd="{PD}"')
    x.devices = [
        '<Uart id="0" baudRate="115200" name="Uart" pd:consoleFile="out/uart0.txt"/>',
        '<Vga name="Screen" pd:consoleFile="vga.txt"/>',
    ]
    system = expect_ok(tmp_path, x)  # the files need not exist yet
    assert [d.console_file for d in system.devices] == [str(tmp_path / "out/uart0.txt"), str(tmp_path / "vga.txt")]


@pytest.mark.parametrize(
    ("marker", "old", "new", "message"),
    [
        (
            '<Partition id="0"',
            'name="P0">',
            'name="P0" pd:img="a.elf">',
            "unknown project attribute pd:img on Partition (allowed here: customFiles, image, sources)",
        ),
        (
            "<Region",
            'size="512MB"/>',
            'size="512MB" pd:image="a.elf"/>',
            "unknown project attribute pd:image on Region (allowed here: none)",
        ),
        (
            "<Uart",
            'name="Uart"/>',
            'name="Uart" pd:image="a.elf"/>',
            "unknown project attribute pd:image on Uart (allowed here: consoleFile)",
        ),
        (
            '<Partition id="1"',
            '<Partition id="1" name="P1">',
            '<Partition id="1" name="P1" pd:consoleFile="c.txt">',
            "unknown project attribute pd:consoleFile on Partition (allowed here: customFiles, image, sources)",
        ),
        ("<pd:", "</Devices>", "<pd:Disk/>\n</Devices>", "unknown project element pd:Disk"),
    ],
)
def test_unknown_project_items(tmp_path: Path, marker: str, old: str, new: str, message: str) -> None:
    text = SysXml(root_extra=f'xmlns:pd="{PD}"').text()
    assert old in text
    expect_error(tmp_path, text.replace(old, new, 1), marker, message)


def test_project_namespace_with_another_prefix(tmp_path: Path) -> None:
    (tmp_path / "p.elf").write_bytes(b"")
    x = SysXml(root_extra=f'xmlns:prtosd="{PD}"')
    x.partitions[0] = partition(0, extra='prtosd:image="p.elf"')
    assert expect_ok(tmp_path, x).partitions[0].image == str((tmp_path / "p.elf").resolve())


def test_w03_foreign_attributes_and_elements(tmp_path: Path) -> None:
    x = SysXml(root_extra='xmlns:ed="urn:some-editor" ed:version="3"')
    x.partitions[0] = partition(
        0, extra='ed:colour="red"', body=['<ed:notes author="me">', "<ed:note>keep</ed:note>", "</ed:notes>"]
    )
    x.devices.append('<ed:Disk name="d"/>')
    path, errs, warns = diagnostics(tmp_path, x)
    assert errs == []
    assert warns == [
        f"{path}:{line_of(x, '<SystemDescription')}: warning: ignoring ed:version",
        f"{path}:{line_of(x, '<ed:Disk')}: warning: ignoring ed:Disk",
        f"{path}:{line_of(x, 'ed:colour')}: warning: ignoring ed:colour",
        f"{path}:{line_of(x, '<ed:notes')}: warning: ignoring ed:notes",
    ]
    system = load_system(path)
    (tmp_path / "plain").mkdir()
    plain = load(tmp_path / "plain", SysXml())
    assert [(a.start, a.size, a.flags) for a in system.partitions[0].areas] == [
        (a.start, a.size, a.flags) for a in plain.partitions[0].areas
    ]
    assert [d.name for d in system.devices] == ["Uart"]


def test_w03_unprefixed_foreign_namespace(tmp_path: Path) -> None:
    x = SysXml()
    x.devices.append('<Disk xmlns="urn:other" name="d"/>')
    path, errs, warns = diagnostics(tmp_path, x)
    assert errs == []
    assert warns == [f"{path}:{line_of(x, '<Disk')}: warning: ignoring {{urn:other}}Disk"]


def test_w03_foreign_element_holding_prtos_elements_is_ignored_whole(tmp_path: Path) -> None:
    x = SysXml(root_extra='xmlns:alt="urn:alt"')
    x.devices.append(f'<alt:Wrapper>\n<Vga xmlns="{NS}" name="Uart"/>\n</alt:Wrapper>')
    path, errs, warns = diagnostics(tmp_path, x)
    assert errs == []  # the duplicate device name inside the ignored element does not count
    assert warns == [f"{path}:{line_of(x, '<alt:Wrapper')}: warning: ignoring alt:Wrapper"]


def test_upstream_file_loads_unchanged_without_extensions(tmp_path: Path) -> None:
    (tmp_path / "p.elf").write_bytes(b"")
    with_pd = load(tmp_path, pd_system('pd:image="p.elf"'))
    (tmp_path / "u").mkdir()
    without = load(tmp_path / "u", SysXml())
    assert with_pd.partitions[0].image is not None and without.partitions[0].image is None
    assert with_pd.partitions[0].areas == without.partitions[0].areas
    assert with_pd.processors == without.processors


# -- defaults (§3) -----------------------------------------------------------------------------


def test_defaults_are_filled_in(tmp_path: Path) -> None:
    x = SysXml(
        processors=[
            processor(0, [plan(0, "1s", [slot(0, "0ms", "500ms", 0), slot(1, "500ms", "500ms", 1)]), plan(1, None, [])])
        ],
        partitions=[partition(0, None), partition(1)],
        hypervisor_extra="",
        channels=[
            '<SamplingChannel maxMessageLength="4B">',
            '<Source partitionId="0" portName="s"/>',
            '<Destination partitionId="0" portName="d"/>',
            "</SamplingChannel>",
        ],
    )
    x.partitions[0] = partition(0, None, body=[ports("s:source:sampling", "d:destination:sampling")])
    system = load(tmp_path, x)
    cpu = system.processors[0]
    assert cpu.frequency_khz is None and system.cpu_khz == 1_000_000
    assert (cpu.plans[0].name, cpu.plans[1].name, cpu.plans[1].major_frame) == ("", "", 0)
    assert [s.vcpu_id for s in cpu.plans[0].slots] == [0, 0]
    p0 = system.partitions[0]
    assert (p0.name, p0.no_vcpus, p0.flags, p0.console, p0.trace, p0.hm_events) == ("", 1, 0, None, None, ())
    a = p0.areas[0]
    assert (a.name, a.flags, a.mapped_at, a.virt, a.virt_end) == ("", 0, None, 0x6000000, 0x60FFFFF)
    assert system.channels[0].valid_period == 0
    hyp = system.hypervisor
    assert (hyp.console, hyp.hm_device, hyp.trace, hyp.area_flags, hyp.area.start) == (None, None, None, 0, 0x1000000)
    assert system.rsw_areas == () and system.ipvis == ()


def test_restricted_default_mask_is_not_needed_to_reject_it(tmp_path: Path) -> None:
    x = SysXml(
        partitions=[
            partition(0, body=['<HwResources>\n<IoPorts>\n<Restricted address="0x100"/>\n</IoPorts>\n</HwResources>']),
            partition(1),
        ]
    )
    expect_error(tmp_path, x, "<Restricted", "Restricted IoPorts not supported")


def test_values_and_flags(tmp_path: Path) -> None:
    x = SysXml(name="sys")
    x.processors = [
        processor(
            0,
            [plan(0, "1s", [slot(0, "0ms", "500ms", 0), slot(1, "500ms", "500ms", 1)], 'name="boot"')],
            'frequency="2.5MHz" features="none"',
        )
    ]
    x.partitions = [
        partition(
            0,
            "sys",
            'flags="system fp" noVCpus="1" hw_virt="true" console="Uart"',
            areas=[
                area(0x6000000, "1MB", 'name="code" flags="read-only rom"'),
                area(0x6100000, "4KB", 'flags="none" mappedAt="0x8000000"'),
            ],
        ),
        partition(
            1,
            areas=[area(0x6200000, "0.5MB", 'flags="unmapped uncacheable flag0 flag1 flag2 flag3 iommu"')],
            extra='flags=""',
        ),
    ]
    system = expect_ok(tmp_path, x)
    assert system.version == 0x10000 and system.name == "sys"
    assert system.processors[0].frequency_khz == 2500 and system.cpu_khz == 2500
    assert system.processors[0].plans[0].name == "boot"
    p0, p1 = system.partitions
    assert p0.flags == PartitionFlag.SYSTEM | PartitionFlag.FP and p0.is_system and p0.name == "sys"
    assert p1.flags == 0 and not p1.is_system
    code, plain = p0.areas
    assert code.flags == AreaFlag.READ_ONLY | AreaFlag.ROM | AreaFlag.TAGGED  # TAGGED: the area has a name
    assert (plain.flags, plain.virt, plain.virt_end) == (0, 0x8000000, 0x8000FFF)
    assert p1.areas[0].size == 512 * 1024
    assert p1.areas[0].flags == 0x2 | 0x8 | 0x20 | 0x40 | 0x80 | 0x100 | 0x400


# -- derived information (§5) ------------------------------------------------------------------


def test_port_ids_across_partitions(tmp_path: Path) -> None:
    x = SysXml(partitions=[partition(0), partition(1), partition(2)])
    x.processors = [
        processor(
            0, [plan(0, "1s", [slot(0, "0ms", "300ms", 0), slot(1, "300ms", "300ms", 1), slot(2, "600ms", "300ms", 2)])]
        )
    ]
    x.partitions[0] = partition(0, body=[ports("A:source:sampling", "B:source:queuing")])
    x.partitions[2] = partition(2, body=[ports("C:destination:sampling", "D:destination:queuing")])
    x.channels = [
        '<SamplingChannel maxMessageLength="8B">',
        '<Source partitionId="0" portName="A"/>',
        '<Destination partitionId="2" portName="C"/>',
        "</SamplingChannel>",
        '<QueuingChannel maxMessageLength="8B" maxNoMessages="3">',
        '<Source partitionId="0" portName="B"/>',
        '<Destination partitionId="2" portName="D"/>',
        "</QueuingChannel>",
    ]
    system = expect_ok(tmp_path, x)
    ids = {(p.id, port.name): (port.global_id, port.index) for p in system.partitions for port in p.ports}
    assert ids == {(0, "A"): (0, 0), (0, "B"): (1, 1), (2, "C"): (2, 0), (2, "D"): (3, 1)}
    assert system.partitions[1].ports == ()
    assert system.channel_of(2, "D") is system.channels[1]
    assert system.channel_of(1, "A") is None


def test_vcpu_to_cpu(tmp_path: Path) -> None:
    x = SysXml(partitions=[partition(0, extra='noVCpus="2"'), partition(1, extra='noVCpus="2"')])
    x.processors = [
        processor(
            0,
            [
                plan(0, "1s", [slot(0, "0ms", "500ms", 0), slot(1, "500ms", "500ms", 1)]),
                plan(1, "1s", [slot(0, "0ms", "1s", 1)]),
            ],
        ),
        processor(
            1, [plan(0, "1s", [slot(0, "0ms", "500ms", 0, 'vCpuId="1"'), slot(1, "500ms", "500ms", 1, 'vCpuId="1"')])]
        ),
    ]
    system = expect_ok(tmp_path, x)
    assert {(p, v): system.cpu_of(p, v) for p in (0, 1) for v in (0, 1)} == {(0, 0): 0, (0, 1): 1, (1, 0): 0, (1, 1): 1}


def test_hm_tables_defaults(tmp_path: Path) -> None:
    system = expect_ok(tmp_path, SysXml())
    part = system.partitions[0].hm_table()
    hyp = system.hypervisor.hm_table()
    assert len(part) == len(hyp) == 26
    assert all((e.action, e.log) == (HmAction.PARTITION_HALT, i < 6) for i, e in enumerate(part))
    assert all((e.action, e.log) == (HmAction.HYPERVISOR_HALT, True) for e in hyp)


def test_hm_tables_overridden_in_document_order(tmp_path: Path) -> None:
    x = SysXml(
        partitions=[
            partition(
                0,
                body=[
                    hm(
                        "X86_PAGE_FAULT:IGNORE:yes",
                        "SYSTEM_ERROR:PARTITION_COLD_RESET:no",
                        "X86_PAGE_FAULT:PROPAGATE:no",
                    )
                ],
            ),
            partition(1),
        ]
    )
    x.hypervisor.append(hm("FATAL_ERROR:HYPERVISOR_WARM_RESET:no"))
    system = expect_ok(tmp_path, x)
    t0 = system.partitions[0].hm_table()
    assert (t0[HmEvent.X86_PAGE_FAULT].action, t0[HmEvent.X86_PAGE_FAULT].log) == (HmAction.PROPAGATE, False)
    assert (t0[HmEvent.SYSTEM_ERROR].action, t0[HmEvent.SYSTEM_ERROR].log) == (HmAction.PARTITION_COLD_RESET, False)
    assert (t0[HmEvent.FATAL_ERROR].action, t0[HmEvent.FATAL_ERROR].log) == (HmAction.PARTITION_HALT, True)
    assert system.partitions[1].hm_table() == expect_ok_table(tmp_path)
    h = system.hypervisor.hm_table()
    assert (h[0].action, h[0].log, h[1].action) == (HmAction.HYPERVISOR_WARM_RESET, False, HmAction.HYPERVISOR_HALT)


def expect_ok_table(tmp_path: Path) -> tuple:
    (tmp_path / "ref").mkdir(exist_ok=True)
    return load(tmp_path / "ref", SysXml()).partitions[1].hm_table()


# -- prtosd check --------------------------------------------------------------------------------


def run_check(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["check", *args])
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    return result.exit_code, result.stdout, result.stderr


def test_cli_valid_file(tmp_path: Path) -> None:
    code, out, err = run_check(str(write(tmp_path, SysXml(name="demo"))))
    assert code == 0 and err == ""
    assert out.startswith('System "demo" (format 1.0.0)')


def test_cli_valid_file_with_warnings(tmp_path: Path) -> None:
    x = SysXml(partitions=[partition(0, body=[ports("lonely:source:queuing")]), partition(1)])
    path = write(tmp_path, x)
    code, _out, err = run_check(str(path))
    assert code == 0
    assert (
        err == f'{path}:{line_of(x, "lonely")}: warning: port "lonely" of partition 0 is not connected to any channel\n'
    )


def test_cli_lists_every_independent_error_in_document_order(tmp_path: Path) -> None:
    x = SysXml(hypervisor_extra='console="Missing"')
    x.partitions[1] = partition(1, extra='noVCpus="6"')
    x.channels = ['<Ipvi id="8" sourceId="0" destinationId="1"/>']
    path = write(tmp_path, x)
    code, out, err = run_check(str(path))
    assert code == 2 and out == ""
    assert [line for line in err.splitlines() if ": warning: " not in line] == [
        f'{path}:{line_of(x, "<PRTOSHypervisor")}: "Missing" not found in the device table',
        f"{path}:{line_of(x, 'noVCpus')}: too many virtual Cpus (6) allocated to the partition",
        f"{path}:{line_of(x, '<Ipvi')}: Invalid ipvi id 8",
    ]


def test_cli_schema_error(tmp_path: Path) -> None:
    x = SysXml(regions=['<Region type="ram" start="0x0" size="512MB" extra="1"/>'])
    path = write(tmp_path, x)
    code, _, err = run_check(str(path))
    assert code == 2
    assert err == f'{path}:{line_of(x, "<Region")}: Region: unknown attribute "extra"\n'


def test_cli_missing_file(tmp_path: Path) -> None:
    code, _out, err = run_check(str(tmp_path / "none.xml"))
    assert code == 2
    assert err == f"{tmp_path / 'none.xml'}: cannot read the configuration: No such file or directory\n"


def test_cli_syntax_error(tmp_path: Path) -> None:
    path = write(tmp_path, "<SystemDescription>\n<oops\n")
    code, _, err = run_check(str(path))
    assert code == 2 and err.startswith(f"{path}:")


def test_cli_json_valid(tmp_path: Path) -> None:
    x = SysXml(partitions=[partition(0, body=[ports("lonely:source:queuing")]), partition(1)])
    code, out, _ = run_check("--json", str(write(tmp_path, x)))
    doc = json.loads(out)
    assert code == 0 and doc["ok"] is True and len(doc["warnings"]) == 1
    assert isinstance(doc["system"], dict)


def test_cli_json_invalid(tmp_path: Path) -> None:
    x = SysXml(partitions=[partition(0, extra='noVCpus="9"'), partition(1)])
    path = write(tmp_path, x)
    code, out, _ = run_check("--json", str(path))
    doc = json.loads(out)
    assert code == 2
    assert doc == {
        "ok": False,
        "errors": [f"{path}:{line_of(x, 'noVCpus')}: too many virtual Cpus (9) allocated to the partition"],
        "warnings": [
            f"{path}:{line_of(x, 'noVCpus')}: warning: vCpu (0, {v}) is not assigned to any CPU and will never run"
            for v in range(1, 4)
        ],
    }


def test_cli_json_missing_file(tmp_path: Path) -> None:
    code, out, _ = run_check("--json", str(tmp_path / "none.xml"))
    assert code == 2 and json.loads(out)["ok"] is False
