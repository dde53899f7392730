"""Property tests: randomly generated valid systems load, and the JSON form round-trips."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hm.events import PARTITION_PERMITTED, HmAction, HmEvent
from prtosd.cli import main
from prtosd.config import load_system
from prtosd.config.serialize import from_data, system_to_json_data
from prtosd.config.summary import render

TIME_UNITS = {"us": 1, "uS": 1, "ms": 1000, "mS": 1000, "s": 1_000_000, "S": 1_000_000}


@dataclass
class Gen:
    """What the generator decided; the expected model is compared against it."""

    cpus: list[list[list[tuple[int, int, int, int]]]] = field(default_factory=list)  # cpu→plan→slots
    mafs: list[list[int]] = field(default_factory=list)
    vcpus: list[int] = field(default_factory=list)
    areas: list[int] = field(default_factory=list)  # size in pages
    xml: str = ""


def _time(draw, us: int) -> str:
    unit = draw(st.sampled_from([u for u, m in TIME_UNITS.items() if us % m == 0]))
    return f"{us // TIME_UNITS[unit]}{unit}"


@st.composite
def systems(draw) -> Gen:
    g = Gen()
    n_cpus = draw(st.integers(1, 4))
    n_parts = draw(st.integers(1, 6))
    g.vcpus = [draw(st.integers(1, 2)) for _ in range(n_parts)]
    g.areas = [draw(st.integers(1, 64)) for _ in range(n_parts)]
    placement = {(p, v): draw(st.integers(0, n_cpus - 1)) for p in range(n_parts) for v in range(g.vcpus[p])}
    events = sorted(HmEvent)
    lines = [
        '<?xml version="1.0"?>',
        '<SystemDescription xmlns="http://www.prtos.org/prtos-1.x" version="1.0.0" name="gen">',
    ]
    lines += [
        "<HwDescription><MemoryLayout>",
        '<Region type="ram" start="0x0" size="512MB"/>',
        "</MemoryLayout><ProcessorTable>",
    ]
    for cpu in range(n_cpus):
        mine = [k for k, c in placement.items() if c == cpu]
        lines.append(f'<Processor id="{cpu}"><CyclicPlanTable>')
        plans, mafs = [], []
        for plan in range(draw(st.integers(1, 3))):
            t, slots = 0, []
            for _ in range(draw(st.integers(0, 5)) if mine else 0):
                p, v = draw(st.sampled_from(mine))
                start = t + draw(st.integers(0, 3)) * 1000
                dur = draw(st.integers(1, 500)) * 100
                slots.append((start, dur, p, v))
                t = start + dur
            maf = t + draw(st.integers(0 if slots else 1, 10)) * 1000
            plans.append(slots)
            mafs.append(maf)
            lines.append(f'<Plan id="{plan}" majorFrame="{_time(draw, maf)}">')
            for i, (start, dur, p, v) in enumerate(slots):
                lines.append(
                    f'<Slot id="{i}" start="{_time(draw, start)}" duration="{_time(draw, dur)}" '
                    f'partitionId="{p}" vCpuId="{v}"/>'
                )
            lines.append("</Plan>")
        g.cpus.append(plans)
        g.mafs.append(mafs)
        lines.append("</CyclicPlanTable></Processor>")
    lines += [
        "</ProcessorTable><Devices>",
        '<Uart id="0" baudRate="115200" name="Uart"/>',
        "</Devices></HwDescription>",
    ]
    lines += ['<PRTOSHypervisor console="Uart"><PhysicalMemoryArea size="4MB"/></PRTOSHypervisor>', "<PartitionTable>"]
    n_channels = draw(st.integers(0, 3))
    ports: dict[int, list[str]] = {p: [] for p in range(n_parts)}
    channels = []
    for k in range(n_channels):
        src, dst = draw(st.integers(0, n_parts - 1)), draw(st.integers(0, n_parts - 1))
        kind = draw(st.sampled_from(["sampling", "queuing"]))
        ports[src].append(f'<Port name="c{k}" direction="source" type="{kind}"/>')
        ports[dst].append(f'<Port name="d{k}" direction="destination" type="{kind}"/>')
        ep = f'<Source partitionId="{src}" portName="c{k}"/><Destination partitionId="{dst}" portName="d{k}"/>'
        if kind == "sampling":
            size = draw(st.integers(1, 512))
            channels.append(f'<SamplingChannel maxMessageLength="{size}B">{ep}</SamplingChannel>')
        else:
            depth = draw(st.integers(1, 64))
            channels.append(f'<QueuingChannel maxMessageLength="1KB" maxNoMessages="{depth}">{ep}</QueuingChannel>')
    for p in range(n_parts):
        flags = draw(st.sampled_from(["", ' flags="system"', ' flags="fp system"', ' flags="none"']))
        lines.append(f'<Partition id="{p}" name="P{p}" console="Uart" noVCpus="{g.vcpus[p]}"{flags}>')
        area = f'<Area start="0x{0x6000000 + p * 0x100000:x}" size="{g.areas[p] * 4}KB"/>'
        lines.append(f"<PhysicalMemoryAreas>{area}</PhysicalMemoryAreas>")
        ev = draw(st.sampled_from(events))
        ac = draw(st.sampled_from(sorted(PARTITION_PERMITTED[ev] - {HmAction.SWITCH_TO_MAINTENANCE})))
        lines.append(f'<HealthMonitor><Event name="{ev.full_name}" action="{ac.full_name}" log="yes"/></HealthMonitor>')
        if ports[p]:
            lines.append("<PortTable>" + "".join(ports[p]) + "</PortTable>")
        lines.append("</Partition>")
    lines.append("</PartitionTable>")
    if channels:
        lines.append("<Channels>" + "".join(channels) + "</Channels>")
    lines.append("</SystemDescription>")
    g.xml = "\n".join(lines)
    return g


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(gen=systems())
def test_generated_systems_load_and_round_trip(gen: Gen, tmp_path: Path) -> None:
    path = tmp_path / "system.xml"
    path.write_text(gen.xml)
    system = load_system(path)
    assert [p.no_vcpus for p in system.partitions] == gen.vcpus
    assert [p.areas[0].size for p in system.partitions] == [n * 4096 for n in gen.areas]
    for cpu, plans in zip(system.processors, gen.cpus, strict=True):
        for plan, slots, maf in zip(cpu.plans, plans, gen.mafs[cpu.id], strict=True):
            assert plan.major_frame == maf
            assert [(s.start, s.duration, s.partition_id, s.vcpu_id) for s in plan.slots] == slots
    data = json.loads(json.dumps(system_to_json_data(system)))
    assert from_data(data) == system
    assert render(system)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(gen=systems())
def test_check_json_round_trips(gen: Gen, tmp_path: Path) -> None:
    path = tmp_path / "system.xml"
    path.write_text(gen.xml)
    result = CliRunner().invoke(main, ["check", "--json", str(path)])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["ok"] is True
    assert from_data(doc["system"]) == load_system(path)
