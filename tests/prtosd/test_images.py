"""Image resolution: ``-p`` options, ``pd:image`` and ``pd:sources`` with their precedence."""

from __future__ import annotations

from pathlib import Path

import pytest

from prtosd.config import load_system
from prtosd.images import ImageOptionError, ImageSpec, PartitionImage, parse_image_option, resolve_images

XML = """<?xml version="1.0"?>
<SystemDescription xmlns="http://www.prtos.org/prtos-1.x" xmlns:pd="urn:prtosd:1" version="1.0.0" name="s">
  <HwDescription>
    <MemoryLayout><Region type="ram" start="0x0" size="512MB"/></MemoryLayout>
    <ProcessorTable><Processor id="0"><CyclicPlanTable><Plan id="0" majorFrame="3ms">
      <Slot id="0" start="0ms" duration="1ms" partitionId="0"/>
      <Slot id="1" start="1ms" duration="1ms" partitionId="1"/>
      <Slot id="2" start="2ms" duration="1ms" partitionId="2"/>
    </Plan></CyclicPlanTable></Processor></ProcessorTable>
    <Devices><Uart id="0" baudRate="115200" name="Uart"/></Devices>
  </HwDescription>
  <PRTOSHypervisor console="Uart"><PhysicalMemoryArea size="4MB"/></PRTOSHypervisor>
  <PartitionTable>
    <Partition id="0" name="A" pd:image="a.elf" pd:customFiles="c0.bin">
      <PhysicalMemoryAreas><Area start="0x6000000" size="1MB"/></PhysicalMemoryAreas>
    </Partition>
    <Partition id="1" name="B" pd:sources="b1.c b2.c">
      <PhysicalMemoryAreas><Area start="0x6100000" size="1MB"/></PhysicalMemoryAreas>
    </Partition>
    <Partition id="2" name="C">
      <PhysicalMemoryAreas><Area start="0x6200000" size="1MB"/></PhysicalMemoryAreas>
    </Partition>
  </PartitionTable>
</SystemDescription>
"""


@pytest.fixture
def system(tmp_path: Path):
    for name in ("a.elf", "c0.bin", "b1.c", "b2.c", "other.elf", "x.bin"):
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "system.xml").write_text(XML)
    return load_system(tmp_path / "system.xml")


def test_xml_attributes_and_builder(system, tmp_path: Path) -> None:
    built: list[tuple[int, tuple[Path, ...]]] = []

    def build(pid: int, sources: tuple[Path, ...]) -> Path:
        built.append((pid, sources))
        return tmp_path / f"p{pid}.elf"

    images = resolve_images(system, [], build)
    assert images[0] == PartitionImage(tmp_path / "a.elf", (tmp_path / "c0.bin",))
    assert images[1] == PartitionImage(tmp_path / "p1.elf")
    assert 2 not in images  # no image: the partition stays halted
    assert built == [(1, (tmp_path / "b1.c", tmp_path / "b2.c"))]


def test_command_line_option_wins(system, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    specs = [parse_image_option("B:other.elf:x.bin", system), parse_image_option("2:other.elf", system)]
    assert specs[0] == ImageSpec(1, tmp_path / "other.elf", (tmp_path / "x.bin",))
    images = resolve_images(system, specs, build=None)
    assert images[1] == PartitionImage(tmp_path / "other.elf", (tmp_path / "x.bin",))
    assert images[2] == PartitionImage(tmp_path / "other.elf")


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ("0", "expected ID:IMAGE"),
        (":a.elf", "expected ID:IMAGE"),
        ("7:a.elf", "no partition 7"),
        ("Z:a.elf", 'no partition named "Z"'),
        ("0:missing.elf", 'file "missing.elf" not found'),
        ("0:a.elf:missing.bin", 'file "missing.bin" not found'),
    ],
)
def test_bad_options(system, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, option: str, message: str) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ImageOptionError, match=message):
        parse_image_option(option, system)


def test_duplicate_option_and_missing_builder(system, tmp_path: Path) -> None:
    spec = ImageSpec(0, tmp_path / "a.elf")
    with pytest.raises(ImageOptionError, match="more than one -p"):
        resolve_images(system, [spec, spec])
    with pytest.raises(ImageOptionError, match="no builder"):
        resolve_images(system, [])
