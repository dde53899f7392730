"""Build small ``system.xml`` texts for the loader tests, and load them.

The base system is valid and warning-free: one CPU with one 1 s plan, two partitions (each with
one 1 MiB area and one 500 ms slot), a UART called ``Uart``. A test changes one part of it by
replacing a field of :class:`SysXml` (every field is a list of element texts placed at that
point), then asserts the exact ``file:line: message`` the loader gives. Lines are found with
:func:`line_of`, which requires the marker to occur on exactly one line, so a test names the
element at fault instead of counting lines by hand.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from prtosd.config import ConfigError, System, load_system

NS = "http://www.prtos.org/prtos-1.x"
PD = "urn:prtosd:1"


def slot(sid: int, start: str, duration: str, partition_id: int, extra: str = "") -> str:
    """One ``Slot`` element."""
    tail = f" {extra}" if extra else ""
    return f'<Slot id="{sid}" start="{start}" duration="{duration}" partitionId="{partition_id}"{tail}/>'


def plan(pid: int, major_frame: str | None, slots: list[str], extra: str = "") -> str:
    """One ``Plan`` element; ``major_frame=None`` leaves the attribute out (default 0s)."""
    maf = f' majorFrame="{major_frame}"' if major_frame is not None else ""
    tail = f" {extra}" if extra else ""
    return "\n".join([f'<Plan id="{pid}"{maf}{tail}>', *slots, "</Plan>"])


def processor(cid: int, plans: list[str], extra: str = "") -> str:
    """One ``Processor`` element with its ``CyclicPlanTable``."""
    tail = f" {extra}" if extra else ""
    return "\n".join(
        [f'<Processor id="{cid}"{tail}>', "<CyclicPlanTable>", *plans, "</CyclicPlanTable>", "</Processor>"]
    )


def area(start: int, size: str = "1MB", extra: str = "") -> str:
    """One ``Area`` element."""
    tail = f" {extra}" if extra else ""
    return f'<Area start="0x{start:x}" size="{size}"{tail}/>'


def partition(
    pid: int,
    name: str | None = "",
    extra: str = "",
    areas: list[str] | None = None,
    body: list[str] | None = None,
) -> str:
    """One ``Partition``; ``name=""`` gives ``P<id>``, ``None`` leaves the name out.

    The default area is 1 MiB at 0x6000000 + id MiB, so partitions never overlap.
    """
    attrs = f'id="{pid}"'
    if name is not None:
        attrs += f' name="{name or f"P{pid}"}"'
    if extra:
        attrs += f" {extra}"
    if areas is None:
        areas = [area(0x6000000 + pid * 0x100000)]
    return "\n".join(
        [
            f"<Partition {attrs}>",
            "<PhysicalMemoryAreas>",
            *areas,
            "</PhysicalMemoryAreas>",
            *(body or []),
            "</Partition>",
        ]
    )


def ports(*specs: str) -> str:
    """A ``PortTable`` from ``name:direction:type`` specs."""
    rows = []
    for spec in specs:
        name, direction, kind = spec.split(":")
        rows.append(f'<Port name="{name}" direction="{direction}" type="{kind}"/>')
    return "\n".join(["<PortTable>", *rows, "</PortTable>"])


def hm(*events: str) -> str:
    """A ``HealthMonitor`` from ``EVENT:ACTION[:log]`` specs, short names (``FATAL_ERROR``)."""
    rows = []
    for spec in events:
        ev, ac, *log = spec.split(":")
        rows.append(f'<Event name="PRTOS_HM_EV_{ev}" action="PRTOS_HM_AC_{ac}" log="{log[0] if log else "yes"}"/>')
    return "\n".join(["<HealthMonitor>", *rows, "</HealthMonitor>"])


def base_processors() -> list[str]:
    """CPU 0 with plan 0 (1 s): partition 0 for the first 500 ms, partition 1 for the rest."""
    return [processor(0, [plan(0, "1s", [slot(0, "0ms", "500ms", 0), slot(1, "500ms", "500ms", 1)])])]


@dataclass
class SysXml:
    """The pieces of a system description; :meth:`text` joins them, one element per line."""

    name: str = "test"
    root_extra: str = ""  # extra attributes / namespace declarations on SystemDescription
    regions: list[str] = field(default_factory=lambda: ['<Region type="ram" start="0x0" size="512MB"/>'])
    processors: list[str] = field(default_factory=base_processors)
    devices: list[str] = field(default_factory=lambda: ['<Uart id="0" baudRate="115200" name="Uart"/>'])
    hypervisor_extra: str = 'console="Uart"'
    hypervisor: list[str] = field(default_factory=lambda: ['<PhysicalMemoryArea size="4MB"/>'])
    resident_sw: list[str] | None = None  # Area elements; None = no ResidentSw
    partitions: list[str] = field(default_factory=lambda: [partition(0), partition(1)])
    channels: list[str] | None = None  # channel elements; None = no Channels
    #: order of the SystemDescription children (D-14: any order is valid)
    order: tuple[str, ...] = ("hw", "hyp", "rsw", "parts", "channels")

    def sections(self) -> dict[str, list[str]]:
        """The five SystemDescription children as lines, keyed like :attr:`order`."""
        hw = [
            "<HwDescription>",
            "<MemoryLayout>",
            *self.regions,
            "</MemoryLayout>",
            "<ProcessorTable>",
            *self.processors,
            "</ProcessorTable>",
            "<Devices>",
            *self.devices,
            "</Devices>",
            "</HwDescription>",
        ]
        hyp_attrs = f" {self.hypervisor_extra}" if self.hypervisor_extra else ""
        hyp = [f"<PRTOSHypervisor{hyp_attrs}>", *self.hypervisor, "</PRTOSHypervisor>"]
        rsw = []
        if self.resident_sw is not None:
            rsw = [
                "<ResidentSw>",
                "<PhysicalMemoryAreas>",
                *self.resident_sw,
                "</PhysicalMemoryAreas>",
                "</ResidentSw>",
            ]
        parts = ["<PartitionTable>", *self.partitions, "</PartitionTable>"]
        chans = [] if self.channels is None else ["<Channels>", *self.channels, "</Channels>"]
        return {"hw": hw, "hyp": hyp, "rsw": rsw, "parts": parts, "channels": chans}

    def text(self) -> str:
        """The whole document, one element per line so every element has its own line number."""
        extra = f" {self.root_extra}" if self.root_extra else ""
        lines = [
            '<?xml version="1.0" encoding="UTF-8"?>',
            f'<SystemDescription xmlns="{NS}" version="1.0.0" name="{self.name}"{extra}>',
        ]
        sections = self.sections()
        for key in self.order:
            lines += sections[key]
        lines.append("</SystemDescription>")
        return "\n".join(lines) + "\n"


def line_of(text: str | SysXml, marker: str, nth: int | None = None) -> int:
    """1-based line of the ``nth`` line that contains ``marker``; without ``nth`` the marker must
    be on exactly one line, so a test cannot silently point at the wrong element."""
    if isinstance(text, SysXml):
        text = text.text()
    hits = [i for i, line in enumerate(text.splitlines(), 1) if marker in line]
    if nth is None:
        assert len(hits) == 1, f"marker {marker!r} is on lines {hits}"
        return hits[0]
    return hits[nth - 1]


def write(tmp_path: Path, xml: str | SysXml, name: str = "system.xml") -> Path:
    """Write the text under ``tmp_path`` (tests stay hermetic and parallel-safe)."""
    path = tmp_path / name
    path.write_text(xml.text() if isinstance(xml, SysXml) else xml)
    return path


def load(tmp_path: Path, xml: str | SysXml) -> System:
    """Load a text that must be valid."""
    return load_system(write(tmp_path, xml))


def diagnostics(tmp_path: Path, xml: str | SysXml) -> tuple[Path, list[str], list[str]]:
    """(path, errors, warnings) as printed lines; errors empty when the file loads."""
    path = write(tmp_path, xml)
    try:
        system = load_system(path)
    except ConfigError as exc:
        return path, [str(d) for d in exc.errors], [str(d) for d in exc.warnings]
    return path, [], [str(d) for d in system.warnings]


def errors(tmp_path: Path, xml: str | SysXml) -> list[str]:
    """Only the errors, for tests that accept warnings."""
    return diagnostics(tmp_path, xml)[1]


def expect_error(tmp_path: Path, xml: str | SysXml, marker: str, message: str, nth: int | None = None) -> None:
    """The file fails with exactly one error: ``message`` on the line holding ``marker``."""
    path, errs, _ = diagnostics(tmp_path, xml)
    assert errs == [f"{path}:{line_of(xml, marker, nth)}: {message}"]


def expect_errors(tmp_path: Path, xml: str | SysXml, expected: list[tuple[str, str]]) -> None:
    """The file fails with exactly these (marker, message) errors, in document order."""
    path, errs, _ = diagnostics(tmp_path, xml)
    assert errs == [f"{path}:{line_of(xml, m)}: {msg}" for m, msg in expected]


def expect_ok(tmp_path: Path, xml: str | SysXml) -> System:
    """The file loads without errors or warnings."""
    path, errs, warns = diagnostics(tmp_path, xml)
    assert errs == []
    assert warns == []
    return load_system(path)
