"""Port credits change nothing a run produces (prtosd.credits, partitiond.credits).

Each system runs twice, with ``PRTOSD_PORT_CREDITS=0`` (every port call forwarded) and with
credits, and everything the run leaves is compared byte for byte: the console, the timeline, and
every memory file of the run directory — guest memory (the messages received, the comm-port
bitmaps in the PCTs) and the MemoryBlocks holding the HM log and the audit stream. The status
counters are compared through ``prtosctl status`` at a pause point, which also tells whether
calls were completed on credit at all.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from systems import GUESTS

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
BENCH_GUESTS = ROOT / "bench" / "guests"

PORTS = """
<Partition id="0" name="boss" flags="system" console="Uart" pd:sources="{boss}">
  <PhysicalMemoryAreas><Area start="0x6000000" size="1MB"/></PhysicalMemoryAreas>
  <PortTable><Port name="qS" direction="source" type="queuing"/><Port name="rD" direction="destination" type="queuing"/>
  </PortTable>
</Partition>
<Partition id="1" name="peer" console="Uart" pd:sources="{peer}">
  <PhysicalMemoryAreas><Area start="0x6100000" size="1MB"/></PhysicalMemoryAreas>
  <PortTable><Port name="qD" direction="destination" type="queuing"/><Port name="rS" direction="source" type="queuing"/>
  </PortTable>
</Partition>
"""

CHANNELS = """<Channels>
  <QueuingChannel maxNoMessages="4" maxMessageLength="16B">
    <Source partitionId="0" portName="qS"/><Destination partitionId="1" portName="qD"/>
  </QueuingChannel>
  <QueuingChannel maxNoMessages="4" maxMessageLength="16B">
    <Source partitionId="1" portName="rS"/><Destination partitionId="0" portName="rD"/>
  </QueuingChannel>
</Channels>"""


def edge_system(processors: str, trace: str = "") -> str:
    """The boss/peer pair of guests/credits_boss.c and credits_peer.c on the given processors."""
    parts = PORTS.format(boss=GUESTS / "credits_boss.c", peer=GUESTS / "credits_peer.c")
    return f"""<?xml version="1.0"?>
<SystemDescription xmlns="http://www.prtos.org/prtos-1.x" xmlns:pd="urn:prtosd:1" version="1.0.0" name="credits">
<HwDescription><MemoryLayout><Region type="ram" start="0x0" size="512MB"/></MemoryLayout>
<ProcessorTable>{processors}</ProcessorTable>
<Devices><Uart id="0" baudRate="115200" name="Uart"/><MemoryBlock name="hmlog" start="0x2000000" size="64KB"/>
<MemoryBlock name="hyptr" start="0x2200000" size="64KB"/></Devices>
</HwDescription>
<PRTOSHypervisor console="Uart" healthMonitorDevice="hmlog"><PhysicalMemoryArea size="4MB"/>{trace}</PRTOSHypervisor>
<PartitionTable>{parts}</PartitionTable>
{CHANNELS}
</SystemDescription>
"""


def _cpu(cpu: int, slots: list[tuple[int, int, int]]) -> str:
    xml = "".join(
        f'<Slot id="{j}" start="{s}ms" duration="{d}ms" partitionId="{p}"/>' for j, (s, d, p) in enumerate(slots)
    )
    return f'<Processor id="{cpu}"><CyclicPlanTable><Plan id="0" majorFrame="10ms">{xml}</Plan></CyclicPlanTable></Processor>'


ONE_CPU = _cpu(0, [(0, 5, 0), (5, 5, 1)])
#: Two CPUs whose slots never overlap: every grant is alone in its step.
TWO_CPUS_APART = _cpu(0, [(0, 5, 0)]) + _cpu(1, [(5, 5, 1)])
#: Two CPUs that run the two partitions at the same time: grants that share a step get no credit.
TWO_CPUS_TOGETHER = _cpu(0, [(0, 5, 0)]) + _cpu(1, [(0, 5, 1)])

#: What the one-CPU run prints, with and without credits. Port 0 and 1 of the boss are the
#: descriptors 0 and 1; the library builds a call's descriptor from the port number, so the
#: "foreign" descriptor of the mixed line is its own port 0 again and that send succeeds.
EDGE_EXPECTED = """\
[0] boot 0 create 0 1
[0] sends 0 0 0 0 -7 -7 bitmap 1
[1] start create 2 3 status 0
[1] first 4 -3 11 'aaaab'
[1] sent 0 0 0, then received 2 (-7) bitmap 2
[0] mixed 0 -3 -5 -5 -3 0 0 0
[0] received 3 -3 10 10 -7 '1rr' bitmap 1
[1] first 4 -3 8 'ggggh'
[1] sent 0 0 0, then received 2 (-7) bitmap 2
[0] around a reset 0 0 0
[1] start create 2 3 status 5
[1] first 4 -3 9 'kkkkl'
[1] sent 0 -7 -7, then received 0 (-7) bitmap 2
[HYPERCALL] (0x1) Halted
[0] around a halt 0 0 0
[0] warm system reset after 0
[0] boot 1 create 0 1
[0] sends 0 0 0 0 -7 -7 bitmap 1
[1] start create 2 3 status 0
[1] first 4 -3 11 'aaaab'
[1] sent 0 0 0, then received 2 (-7) bitmap 2
[0] mixed 0 -3 -5 -5 -3 0 0 0
[0] received 3 -3 10 10 -7 '1rr' bitmap 1
[1] first 4 -3 8 'ggggh'
[1] sent 0 0 0, then received 2 (-7) bitmap 2
[0] around a reset 0 0 0
[1] start create 2 3 status 5
[1] first 4 -3 9 'kkkkl'
[1] sent 0 -7 -7, then received 0 (-7) bitmap 2
[HYPERCALL] (0x1) Halted
[0] around a halt 0 0 0
System halted.
"""


#: The MemoryBlock of the hypervisor's audit stream (``hyptr``) in the run directory.
AUDIT_BLOCK = "phys-02200000-00010000.mem"


def queue_system() -> str:
    """The system of ``python -m bench P5`` (bench/system.py): 64-message channel, 500 µs slots."""
    parts = "".join(
        f'<Partition id="{i}" name="{name}" console="Uart" pd:sources="{BENCH_GUESTS / src}">'
        f'<PhysicalMemoryAreas><Area start="0x{0x6000000 + i * 0x100000:x}" size="1MB"/></PhysicalMemoryAreas>'
        f'<PortTable><Port name="q" direction="{d}" type="queuing"/></PortTable></Partition>'
        for i, (name, src, d) in enumerate((("S", "qsend.c", "source"), ("R", "qrecv.c", "destination")))
    )
    return f"""<?xml version="1.0"?>
<SystemDescription xmlns="http://www.prtos.org/prtos-1.x" xmlns:pd="urn:prtosd:1" version="1.0.0" name="bench">
<HwDescription><MemoryLayout><Region type="ram" start="0x0" size="512MB"/></MemoryLayout>
<ProcessorTable><Processor id="0"><CyclicPlanTable><Plan id="0" majorFrame="1000us">
<Slot id="0" start="0us" duration="500us" partitionId="0"/><Slot id="1" start="500us" duration="500us" partitionId="1"/>
</Plan></CyclicPlanTable></Processor></ProcessorTable><Devices><Uart id="0" baudRate="115200" name="Uart"/></Devices>
</HwDescription><PRTOSHypervisor console="Uart"><PhysicalMemoryArea size="4MB"/></PRTOSHypervisor>
<PartitionTable>{parts}</PartitionTable>
<Channels><QueuingChannel maxMessageLength="32B" maxNoMessages="64">
<Source partitionId="0" portName="q"/><Destination partitionId="1" portName="q"/></QueuingChannel></Channels>
</SystemDescription>
"""


def run(config: Path, run_dir: Path, until: str, credits: bool) -> dict[str, bytes]:
    """``prtosd start`` to ``until``; the console, timeline and every memory file it leaves."""
    env = {**os.environ, "PRTOSD_PORT_CREDITS": "1" if credits else "0"}
    cmd = [sys.executable, "-m", "prtosd", "start", str(config), "--until", until, "--run-dir", str(run_dir)]
    proc = subprocess.run(cmd, capture_output=True, timeout=300, check=False, env=env)
    assert proc.returncode == 0, proc.stderr.decode()
    assert b"credited port operations dropped" not in proc.stderr
    assert b"credited port call" not in proc.stderr
    out = {"stdout": proc.stdout, "timeline": (run_dir / "timeline.jsonl").read_bytes()}
    for f in sorted(run_dir.glob("*.mem")):
        out[f.name] = f.read_bytes()
    return out


def both(tmp_path: Path, xml: str | Path, until: str) -> dict[str, bytes]:
    """Run with and without credits; assert every output is identical; the outputs."""
    config = xml if isinstance(xml, Path) else tmp_path / "system.xml"
    if not isinstance(xml, Path):
        config.write_text(xml)
    off = run(config, tmp_path / "off", until, credits=False)
    on = run(config, tmp_path / "on", until, credits=True)
    assert on.keys() == off.keys()
    for name in off:
        assert on[name] == off[name], f"{name} differs with port credits"
    return on


def paused_status(prtosd_system, monkeypatch: pytest.MonkeyPatch, xml: str, until: str, credits: bool) -> dict:
    """``prtosctl status`` of the system paused at ``until`` (prtosd.pytest_plugin)."""
    monkeypatch.setenv("PRTOSD_PORT_CREDITS", "1" if credits else "0")
    system = prtosd_system(xml, tag=f"status-{int(credits)}")
    system.run_until(until)
    return system.status()


def test_bench_queue_system_is_identical(tmp_path: Path) -> None:
    out = both(tmp_path, queue_system(), "20ms")
    assert out["stdout"].decode().replace("\r", "").splitlines()[-1] == "received 1280"


def test_edge_cases_one_cpu(tmp_path: Path) -> None:
    """Full and empty channels, exhausted credit, errors, short buffers, reset, halt, system reset."""
    out = both(tmp_path, edge_system(ONE_CPU), "200ms")
    text = out["stdout"].decode().replace("\r", "")
    lines = [ln for ln in text.splitlines() if ln.startswith("[") or ln == "System halted."]
    assert lines == EDGE_EXPECTED.splitlines()


@pytest.mark.parametrize("processors", [TWO_CPUS_APART, TWO_CPUS_TOGETHER], ids=["apart", "together"])
def test_edge_cases_two_cpus(tmp_path: Path, processors: str) -> None:
    both(tmp_path, edge_system(processors), "200ms")


def test_hcalls_audit_selected(tmp_path: Path) -> None:
    """With the HCALLS audit module the audit stream (a MemoryBlock) is the same, and nothing is credited."""
    xml = edge_system(ONE_CPU, '<Trace device="hyptr" bitmask="HYP_HCALLS"/>')
    out = both(tmp_path, xml, "200ms")
    assert any(out[AUDIT_BLOCK]), "the audit stream recorded nothing"


def test_hcalls_audit_withholds_credit(prtosd_system, monkeypatch: pytest.MonkeyPatch) -> None:
    xml = edge_system(ONE_CPU, '<Trace device="hyptr" bitmask="HYP_HCALLS"/>')
    assert paused_status(prtosd_system, monkeypatch, xml, "30ms", credits=True)["credited_port_calls"] == 0


@pytest.mark.parametrize("config", ["example.004", "example.009"])
def test_examples_are_identical(tmp_path: Path, config: str) -> None:
    both(tmp_path, ROOT / "configs" / config / "system.xml", "3s")


def test_ports_e2e_systems_are_identical(tmp_path: Path) -> None:
    from test_ports_e2e import CHECKS_SYSTEM, RESET_SYSTEM, SYSTEM

    for i, xml in enumerate((SYSTEM, RESET_SYSTEM, CHECKS_SYSTEM)):
        (tmp_path / str(i)).mkdir()
        both(tmp_path / str(i), xml, "1s")


def test_counters_match_and_credits_are_used(prtosd_system, monkeypatch: pytest.MonkeyPatch) -> None:
    xml = queue_system()
    off = paused_status(prtosd_system, monkeypatch, xml, "20ms", credits=False)
    on = paused_status(prtosd_system, monkeypatch, xml, "20ms", credits=True)
    assert off["credited_port_calls"] == 0
    # Every call completed on credit is one round trip less. In this system (one channel; the
    # full and empty queues are answered on credit too) only the two ports' creation is left:
    # 20 frames of 64 messages, each way, and one refused send and receive a frame.
    assert on["forwarded_hypercalls"] + on["credited_port_calls"] == off["forwarded_hypercalls"]
    assert on["forwarded_hypercalls"] == 2
    assert on["credited_port_calls"] == 20 * 2 * (64 + 1)
    for k in ("queuing_msgs_sent", "queuing_msgs_received", "num_of_irqs", "vtime_us", "current_maf"):
        assert on[k] == off[k], k
    strip = ("process", "processes", "vcpus")
    for a, b in zip(on["partitions"], off["partitions"], strict=True):
        assert {k: v for k, v in a.items() if k not in strip} == {k: v for k, v in b.items() if k not in strip}


def test_two_cpus_apart_get_credit(prtosd_system, monkeypatch: pytest.MonkeyPatch) -> None:
    st = paused_status(prtosd_system, monkeypatch, edge_system(TWO_CPUS_APART), "30ms", credits=True)
    assert st["credited_port_calls"] > 0
