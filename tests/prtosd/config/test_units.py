"""Value types and units of config.md §2: exact conversions, truncation, 32-bit limits (V-52)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sysxml import SysXml, area, expect_error, expect_errors, expect_ok, partition, plan, processor, slot

from prtosd.config import units
from prtosd.config.model import AREA_FLAG_NAMES, HYP_TRACE_NAMES, PARTITION_FLAG_NAMES

# -- time (µs) ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "us"),
    [
        ("2.5s", 2_500_000),
        ("2.5S", 2_500_000),
        ("1s", 1_000_000),
        ("1S", 1_000_000),
        ("1ms", 1000),
        ("1mS", 1000),
        ("1us", 1),
        ("1uS", 1),
        ("0s", 0),
        ("0.0us", 0),
        ("1.5ms", 1500),
        ("0.0015s", 1500),
        ("0.0000005s", 0),  # 0.5 µs, truncated
        ("1.9us", 1),
        ("1.0009ms", 1000),
        ("007ms", 7000),
        ("4294.967294s", 4_294_967_294),
        ("4294.9672949s", 4_294_967_294),  # truncated below the limit
        ("4294967294us", 4_294_967_294),
    ],
)
def test_time(text: str, us: int) -> None:
    assert units.to_time(text) == us


def test_long_fractions_are_truncated_exactly() -> None:
    assert units.to_time("0." + "9" * 40 + "s") == 999_999
    assert units.to_time("1." + "0" * 5000 + "1s") == 1_000_000
    assert units.to_size("0." + "9" * 5000 + "MB") == 1_048_575
    assert units.to_freq("0" * 5000 + "1.5MHz") == 1500


@pytest.mark.parametrize("text", ["9" * 5000 + "s", "1" + "0" * 30 + "B", "4294967296KHz"])
def test_huge_numbers_exceed_max_uint(text: str) -> None:
    # thousands of digits are reported as too large, not as a Python integer-conversion limit
    with pytest.raises(ValueError, match=r"^(Time|Size|Frequency) exceeds MAX_UINT$"):
        (units.to_time if text.endswith("s") else units.to_size if text.endswith("B") else units.to_freq)(text)


@pytest.mark.parametrize("text", ["4294967295us", "4294.967295s", "4294968ms", "99999999999s"])
def test_time_exceeds_max_uint(text: str) -> None:
    with pytest.raises(ValueError, match=r"^Time exceeds MAX_UINT$"):
        units.to_time(text)


@pytest.mark.parametrize("text", ["1", "1 s", "1Ms", "1ns", "1sec", "-1s", ".5s", "1.s", "2x5s", "1,5s", "1e3us", ""])
def test_time_lexical_errors(text: str) -> None:
    with pytest.raises(ValueError):
        units.to_time(text)


# -- size (bytes) ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("1.5KB", 1536),
        ("1KB", 1024),
        ("1MB", 1_048_576),
        ("0.5MB", 524_288),
        ("4097B", 4097),
        ("0B", 0),
        ("0.5B", 0),
        ("1.0001KB", 1024),  # 1024.1024, truncated
        ("4294967294B", 4_294_967_294),
        ("4095.999MB", 4_294_966_247),
    ],
)
def test_size(text: str, size: int) -> None:
    assert units.to_size(text) == size


@pytest.mark.parametrize("text", ["4294967295B", "4096MB", "4194304KB", "4194303.999999KB"])
def test_size_exceeds_max_uint(text: str) -> None:
    # 4194303.999999KB = 4294967295.999 bytes: truncated to 4294967295, still too large
    with pytest.raises(ValueError, match=r"^Size exceeds MAX_UINT$"):
        units.to_size(text)


@pytest.mark.parametrize("text", ["1kb", "1Kb", "1KiB", "1GB", "1", "1.5.5KB", "1x5KB"])
def test_size_lexical_errors(text: str) -> None:
    with pytest.raises(ValueError):
        units.to_size(text)


# -- frequency (kHz) ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "khz"),
    [
        ("1MHz", 1000),
        ("1Mhz", 1000),
        ("1KHz", 1),
        ("1Khz", 1),
        ("2.5MHz", 2500),
        ("3000.0005MHz", 3_000_000),  # 3000000.5 kHz, truncated
        ("0.9KHz", 0),
        ("4294967294KHz", 4_294_967_294),
        ("4294967.294MHz", 4_294_967_294),
    ],
)
def test_freq(text: str, khz: int) -> None:
    assert units.to_freq(text) == khz


@pytest.mark.parametrize("text", ["4294967295KHz", "4294967.295MHz", "5000000MHz"])
def test_freq_exceeds_max_uint(text: str) -> None:
    with pytest.raises(ValueError, match=r"^Frequency exceeds MAX_UINT$"):
        units.to_freq(text)


@pytest.mark.parametrize("text", ["1GHz", "1mhz", "1kHz", "1Hz", "1 MHz", "1"])
def test_freq_lexical_errors(text: str) -> None:
    with pytest.raises(ValueError):
        units.to_freq(text)


# -- hex, version, id, boolean, yntf -----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("0x0", 0),
        ("0x1000", 4096),
        ("0xfbfc0000", 0xFBFC0000),
        ("0xFFFFFFFF", 0xFFFFFFFF),
        ("0x00000000001", 1),
        ("0xAbC", 0xABC),
    ],
)
def test_hex(text: str, value: int) -> None:
    assert units.to_hex(text) == value


def test_hex_more_than_32_bits() -> None:
    with pytest.raises(ValueError, match=r'^hexadecimal value "0x100000000" exceeds 32 bits$'):
        units.to_hex("0x100000000")


@pytest.mark.parametrize("text", ["0X10", "10", "0x", "x10", "0x1g", " 0x1"])
def test_hex_lexical_errors(text: str) -> None:
    with pytest.raises(ValueError):
        units.to_hex(text)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1.0.0", 0x010000),
        ("2.3.4", 0x020304),
        ("0.0.1", 1),
        ("255.255.255", 0xFFFFFF),
        ("256.257.258", 0x000102),
        ("01.02.03", 0x010203),
    ],
)
def test_version_packing(text: str, value: int) -> None:
    assert units.to_version(text) == value


@pytest.mark.parametrize("text", ["1a0a0", "1.0", "1.0.0.0", "1-0-0", "v1.0.0"])
def test_version_lexical_errors(text: str) -> None:
    with pytest.raises(ValueError):
        units.to_version(text)


@pytest.mark.parametrize(("text", "value"), [("0", 0), ("+5", 5), ("007", 7), (" 3 ", 3), ("-0", 0)])
def test_id(text: str, value: int) -> None:
    assert units.to_id(text) == value


def test_negative_id() -> None:
    with pytest.raises(ValueError):
        units.to_id("-1")


@pytest.mark.parametrize(("text", "value"), [("true", True), ("1", True), ("false", False), ("0", False)])
def test_boolean(text: str, value: bool) -> None:
    assert units.to_bool(text) is value


@pytest.mark.parametrize(("text", "value"), [("yes", True), ("true", True), ("no", False), ("false", False)])
def test_yntf(text: str, value: bool) -> None:
    assert units.to_yntf(text) is value


@pytest.mark.parametrize("text", ["1", "0", "YES", "No", "y", ""])
def test_yntf_invalid(text: str) -> None:
    with pytest.raises(ValueError, match=r"^expected yes\|no\|true\|false$"):
        units.to_yntf(text)


# -- flag lists --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("", 0),
        ("none", 0),
        ("shared", 0x1),
        ("unmapped", 0x2),
        ("read-only", 0x4),
        ("uncacheable", 0x8),
        ("rom", 0x10),
        ("flag0", 0x20),
        ("flag1", 0x40),
        ("flag2", 0x80),
        ("flag3", 0x100),
        ("iommu", 0x400),
        ("shared  read-only\tuncacheable\n", 0xD),
        ("shared shared none", 0x1),
    ],
)
def test_area_flags(text: str, value: int) -> None:
    assert units.to_flags(text, AREA_FLAG_NAMES) == value


@pytest.mark.parametrize(
    ("text", "value"), [("", 0), ("none", 0), ("system", 0x100), ("fp", 0x200), ("fp system", 0x300)]
)
def test_partition_flags(text: str, value: int) -> None:
    assert units.to_flags(text, PARTITION_FLAG_NAMES) == value


@pytest.mark.parametrize(
    ("text", "value"),
    [("HYP_IRQS", 1), ("HYP_HCALLS", 2), ("HYP_SCHED", 4), ("HYP_HM", 8), ("HYP_HM HYP_IRQS", 9), ("", 0)],
)
def test_hypervisor_trace_bitmask(text: str, value: int) -> None:
    assert units.to_flags(text, HYP_TRACE_NAMES) == value


def test_unknown_flag() -> None:
    with pytest.raises(ValueError, match=r"^expected valid flag \(tagged\)$"):
        units.to_flags("shared tagged", AREA_FLAG_NAMES)


def test_tagged_is_added_to_named_areas_only(tmp_path: Path) -> None:
    x = SysXml(
        partitions=[
            partition(0, areas=[area(0x6000000, "512KB", 'name="code"'), area(0x6080000, "512KB", 'flags="shared"')]),
            partition(1, areas=[area(0x6100000, "1MB", 'name="data" flags="shared uncacheable"')]),
        ]
    )
    system = expect_ok(tmp_path, x)
    assert [a.flags for a in system.partitions[0].areas] == [0x200, 0x1]
    assert system.partitions[1].areas[0].flags == 0x200 | 0x1 | 0x8
    assert [a.name for a in system.partitions[0].areas] == ["code", ""]


# -- formatting back -----------------------------------------------------------------------------


@pytest.mark.parametrize(("us", "text"), [(2_500_000, "2500ms"), (1_000_000, "1s"), (1, "1us"), (0, "0s")])
def test_format_time(us: int, text: str) -> None:
    assert units.format_time(us) == text
    assert units.to_time(text) == us


@pytest.mark.parametrize(("n", "text"), [(1536, "1536B"), (1024, "1KB"), (1 << 20, "1MB"), (0, "0B")])
def test_format_size(n: int, text: str) -> None:
    assert units.format_size(n) == text
    assert units.to_size(text) == n


# -- V-52 and 32-bit limits through a real file --------------------------------------------------


def test_v52_time_in_a_file(tmp_path: Path) -> None:
    x = SysXml()
    x.processors.append(processor(1, [plan(0, "4294967295us", [])]))
    expect_error(tmp_path, x, '"4294967295us"', "Time exceeds MAX_UINT")


def test_v52_largest_time_passes(tmp_path: Path) -> None:
    x = SysXml()
    x.processors.append(processor(1, [plan(0, "4294967294us", [])]))
    assert expect_ok(tmp_path, x).processors[1].plans[0].major_frame == 4_294_967_294


def test_v52_slot_time_in_a_file(tmp_path: Path) -> None:
    x = SysXml(
        processors=[processor(0, [plan(0, "1s", [slot(0, "0ms", "500ms", 0), slot(1, "4294.967295s", "0us", 1)])])]
    )
    expect_error(tmp_path, x, "4294.967295s", "Time exceeds MAX_UINT")


def test_v52_size_in_a_file(tmp_path: Path) -> None:
    # conversion errors stop the load before the semantic checks (the ports do not exist)
    x = SysXml(
        channels=[
            '<SamplingChannel maxMessageLength="4294967295B">',
            '<Source partitionId="0" portName="a"/>',
            '<Destination partitionId="1" portName="b"/>',
            "</SamplingChannel>",
        ]
    )
    expect_error(tmp_path, x, "<SamplingChannel", "Size exceeds MAX_UINT")


def test_v52_largest_size_passes(tmp_path: Path) -> None:
    x = SysXml(
        channels=[
            '<SamplingChannel maxMessageLength="4294967294B">',
            '<Source partitionId="0" portName="a"/>',
            '<Destination partitionId="1" portName="b"/>',
            "</SamplingChannel>",
        ]
    )
    x.partitions = [
        partition(0, body=['<PortTable>\n<Port name="a" direction="source" type="sampling"/>\n</PortTable>']),
        partition(1, body=['<PortTable>\n<Port name="b" direction="destination" type="sampling"/>\n</PortTable>']),
    ]
    assert expect_ok(tmp_path, x).channels[0].max_message_length == 4_294_967_294


def test_v52_region_of_4gb(tmp_path: Path) -> None:
    x = SysXml(regions=['<Region type="ram" start="0x0" size="4096MB"/>'])
    expect_error(tmp_path, x, "<Region", "Size exceeds MAX_UINT")


def test_v52_frequency_in_a_file(tmp_path: Path) -> None:
    x = SysXml()
    x.processors.append(processor(1, [plan(0, "1s", [])], 'frequency="4294967.295MHz"'))
    expect_error(tmp_path, x, '<Processor id="1"', "Frequency exceeds MAX_UINT")


def test_v52_largest_frequency_passes(tmp_path: Path) -> None:
    x = SysXml()
    x.processors.append(processor(1, [plan(0, "1s", [])], 'frequency="4294967294KHz"'))
    assert expect_ok(tmp_path, x).processors[1].frequency_khz == 4_294_967_294


def test_hex_more_than_32_bits_in_a_file(tmp_path: Path) -> None:
    x = SysXml(partitions=[partition(0, areas=[area(0x6000000, "4KB", 'mappedAt="0x100000000"')]), partition(1)])
    expect_error(tmp_path, x, "mappedAt", 'hexadecimal value "0x100000000" exceeds 32 bits')


def test_largest_hex_in_a_file(tmp_path: Path) -> None:
    x = SysXml()
    x.partitions[1] = partition(1, body=['<Trace device="Uart" bitmask="0xFFFFFFFF"/>'])
    assert expect_ok(tmp_path, x).partitions[1].trace.bitmask == 0xFFFFFFFF


def test_every_conversion_error_of_a_file_is_reported(tmp_path: Path) -> None:
    x = SysXml()
    x.processors.append(processor(1, [plan(0, "5000s", [])], 'frequency="5000000MHz"'))
    expect_errors(
        tmp_path, x, [('<Processor id="1"', "Frequency exceeds MAX_UINT"), ('"5000s"', "Time exceeds MAX_UINT")]
    )
