"""Ports, IPVI and memory copy between real partitions (prtosd start as a subprocess).

Two small guests (guests/ports_src.c, guests/ports_dst.c) exchange messages over one sampling and
one queuing channel. The plan is a 10 ms major frame, P0 in [0, 5) and P1 in [5, 10); both
partitions yield at the end of each frame's work, so the run is idle most of the time and the
whole system ends (both halted) after three frames. The expected console is exact: the
supervisor serialises hypercalls in virtual-time order, so the output is deterministic.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

GUESTS = Path(__file__).resolve().parent / "guests"

SYSTEM = f"""<?xml version="1.0"?>
<SystemDescription xmlns="http://www.prtos.org/prtos-1.x" xmlns:pd="urn:prtosd:1" version="1.0.0" name="ports">
<HwDescription><MemoryLayout><Region type="ram" start="0x0" size="512MB"/></MemoryLayout>
<ProcessorTable><Processor id="0"><CyclicPlanTable><Plan id="0" majorFrame="10ms">
<Slot id="0" start="0ms" duration="5ms" partitionId="0"/>
<Slot id="1" start="5ms" duration="5ms" partitionId="1"/>
</Plan></CyclicPlanTable></Processor></ProcessorTable>
<Devices><Uart id="0" baudRate="115200" name="Uart"/></Devices>
</HwDescription>
<PRTOSHypervisor console="Uart"><PhysicalMemoryArea size="4MB"/></PRTOSHypervisor>
<PartitionTable>
<Partition id="0" name="src" flags="system" console="Uart" pd:sources="{GUESTS / "ports_src.c"}">
  <PhysicalMemoryAreas><Area start="0x6000000" size="1MB"/></PhysicalMemoryAreas>
  <PortTable>
    <Port name="qS" direction="source" type="queuing"/>
    <Port name="sS" direction="source" type="sampling"/>
  </PortTable>
</Partition>
<Partition id="1" name="dst" console="Uart" pd:sources="{GUESTS / "ports_dst.c"}">
  <PhysicalMemoryAreas><Area start="0x6100000" size="1MB"/></PhysicalMemoryAreas>
  <PortTable>
    <Port name="qD" direction="destination" type="queuing"/>
    <Port name="sD" direction="destination" type="sampling"/>
  </PortTable>
</Partition>
</PartitionTable>
<Channels>
  <QueuingChannel maxNoMessages="4" maxMessageLength="16B">
    <Source partitionId="0" portName="qS"/><Destination partitionId="1" portName="qD"/>
  </QueuingChannel>
  <SamplingChannel maxMessageLength="16B">
    <Source partitionId="0" portName="sS"/><Destination partitionId="1" portName="sD"/>
  </SamplingChannel>
  <Ipvi id="0" sourceId="0" destinationId="1"/>
</Channels>
</SystemDescription>
"""

EXPECTED = """\
[0] create q=0 s=1
[0] again -1, wrong type -5, unknown -3
[0] early send 0
[0] early write 0
[0] bitmap 3
[1] create q=2 s=3 bitmap 0
[1] queued 1, sampling in P0's slot 1 len=8 flags 1
[1] info 0: period 0 size 16 dir 1
[1] read 8 's-early' flags 1
[1] status flags now 3
[1] receive 8 'q-early'
[1] receive again -7
[1] write to a foreign port -3
[0] send 0 0 0 0 full -7
[0] write 0
[0] copy 4
[0] ipvi 0 no route -1 not a destination -5
[1] sampling irq: 4 's-1' flags 1
[1] queuing irq: 4 'q-1'
[1] queuing irq: 4 'q-2'
[1] queuing irq: 4 'q-3'
[1] queuing irq: 4 'q-4'
[1] drained -7
[1] ipvi irq, copied c0ffee
[HYPERCALL] (0x0) Halted
[1] counters read 2 received 5, bitmap 0
[HYPERCALL] (0x1) Halted
"""


def run_system(tmp_path: Path, xml: str) -> subprocess.CompletedProcess[str]:
    """``prtosd start <xml> --until 1s`` with a run directory of its own."""
    config = tmp_path / "system.xml"
    config.write_text(xml)
    cmd = [
        sys.executable,
        "-m",
        "prtosd",
        "start",
        str(config),
        "--until",
        "1s",
        "--run-dir",
        str(tmp_path / "run"),
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)


def partition_lines(stdout: str) -> list[str]:
    """The partitions' lines and the halt messages (the boot banner is not this test's business)."""
    return [ln for ln in stdout.replace("\r", "").splitlines() if ln.startswith(("[0]", "[1]", "[HYPERCALL]"))]


def test_ports_between_partitions(tmp_path: Path) -> None:
    run = run_system(tmp_path, SYSTEM)
    assert run.returncode == 0, run.stderr
    assert partition_lines(run.stdout) == EXPECTED.splitlines(), run.stdout


RESET_SYSTEM = f"""<?xml version="1.0"?>
<SystemDescription xmlns="http://www.prtos.org/prtos-1.x" xmlns:pd="urn:prtosd:1" version="1.0.0" name="reset">
<HwDescription><MemoryLayout><Region type="ram" start="0x0" size="512MB"/></MemoryLayout>
<ProcessorTable><Processor id="0"><CyclicPlanTable><Plan id="0" majorFrame="10ms">
<Slot id="0" start="0ms" duration="5ms" partitionId="0"/>
<Slot id="1" start="5ms" duration="5ms" partitionId="1"/>
</Plan></CyclicPlanTable></Processor></ProcessorTable>
<Devices><Uart id="0" baudRate="115200" name="Uart"/></Devices>
</HwDescription>
<PRTOSHypervisor console="Uart"><PhysicalMemoryArea size="4MB"/></PRTOSHypervisor>
<PartitionTable>
<Partition id="0" name="boss" flags="system" console="Uart" pd:sources="{GUESTS / "ports_reset_boss.c"}">
  <PhysicalMemoryAreas><Area start="0x6000000" size="1MB"/></PhysicalMemoryAreas>
  <PortTable><Port name="qS" direction="source" type="queuing"/></PortTable>
</Partition>
<Partition id="1" name="peer" console="Uart" pd:sources="{GUESTS / "ports_reset_peer.c"}">
  <PhysicalMemoryAreas><Area start="0x6100000" size="1MB"/></PhysicalMemoryAreas>
  <PortTable><Port name="qD" direction="destination" type="queuing"/></PortTable>
</Partition>
</PartitionTable>
<Channels>
  <QueuingChannel maxNoMessages="4" maxMessageLength="16B">
    <Source partitionId="0" portName="qS"/><Destination partitionId="1" portName="qD"/>
  </QueuingChannel>
</Channels>
</SystemDescription>
"""

RESET_EXPECTED = """\
[0] create 0
[1] start 0: create 1 queued 0 bitmap 0
[0] send 0
[0] reset 0
[0] send while closed 0
[1] start 1: create 1 queued 2 bitmap 0
[1] receive 3 'm1'
[1] receive 3 'm2'
[HYPERCALL] (0x1) Halted
[HYPERCALL] (0x0) Halted
"""


def test_partition_reset_closes_ports_and_keeps_messages(tmp_path: Path) -> None:
    run = run_system(tmp_path, RESET_SYSTEM)
    assert run.returncode == 0, run.stderr
    assert partition_lines(run.stdout) == RESET_EXPECTED.splitlines(), run.stdout


CHECKS_SYSTEM = f"""<?xml version="1.0"?>
<SystemDescription xmlns="http://www.prtos.org/prtos-1.x" xmlns:pd="urn:prtosd:1" version="1.0.0" name="checks">
<HwDescription><MemoryLayout><Region type="ram" start="0x0" size="512MB"/></MemoryLayout>
<ProcessorTable><Processor id="0"><CyclicPlanTable><Plan id="0" majorFrame="10ms">
<Slot id="0" start="0ms" duration="10ms" partitionId="0"/>
</Plan></CyclicPlanTable></Processor></ProcessorTable>
<Devices><Uart id="0" baudRate="115200" name="Uart"/></Devices>
</HwDescription>
<PRTOSHypervisor console="Uart"><PhysicalMemoryArea size="4MB"/></PRTOSHypervisor>
<PartitionTable>
<Partition id="0" name="checks" console="Uart" pd:sources="{GUESTS / "ports_checks.c"}">
  <PhysicalMemoryAreas><Area start="0x6000000" size="1MB"/></PhysicalMemoryAreas>
  <PortTable>
    <Port name="qS" direction="source" type="queuing"/>
    <Port name="qD" direction="destination" type="queuing"/>
    <Port name="sS" direction="source" type="sampling"/>
    <Port name="sD" direction="destination" type="sampling"/>
    <Port name="sLone" direction="source" type="sampling"/>
    <Port name="qLone" direction="destination" type="queuing"/>
    <Port name="sShut" direction="source" type="sampling"/>
  </PortTable>
</Partition>
</PartitionTable>
<Channels>
  <QueuingChannel maxNoMessages="2" maxMessageLength="8B">
    <Source partitionId="0" portName="qS"/><Destination partitionId="0" portName="qD"/>
  </QueuingChannel>
  <SamplingChannel maxMessageLength="8B">
    <Source partitionId="0" portName="sS"/><Destination partitionId="0" portName="sD"/>
  </SamplingChannel>
  <Ipvi id="1" sourceId="0" destinationId="0"/>
</Channels>
</SystemDescription>
"""

#: What semantics.md §6 and partition-api.md (hypercalls 23, 24) prescribe for each call of
#: guests/ports_checks.c, check by check in their order: -1 NO_ACTION, -3 INVALID_PARAM,
#: -4 PERM_ERROR, -5 INVALID_CONFIG, -7 OP_NOT_ALLOWED.
CHECKS_EXPECTED = """\
[c] block -3 foreign -4 null -3
[c] direction -3 unknown -3 type -5 wrong direction -5
[c] count -5 size -5 sampling size -5 period -5
[c] ids 0 1 2 3 4 5
[sw] foreign -4 id -3 closed -3 type -3 dir -3
[sw] zero -5 no channel 0 too long -5 unreadable -3 ok 0
[sr] foreign -4 id -3 flags -3 type -3 dir -3
[sr] zero -5 too long -5 unwritable -3 flags untouched aa
[sr] ok 4 'abc' flags 1, null flags 4
[qs] foreign -4 id -3 closed -3 type -3 dir -3
[qs] zero -5 too long -5 unreadable -3 ok 0 0 full -7
[qr] foreign -4 id -3 type -3 dir -3 no channel 0
[qr] zero -5 too long -5 unwritable -3 short 1 'q' ok 3 'q2' empty -7
[st] block -3 closed -3 type -3, queuing block -3 closed -3 type -3
[in] unknown -3 type -3, queuing unknown -3 type -3, other cmd -3
[ipvi] range -3 -3 no route -1 ok 0
[ipvi] range -3 no destinations -5 not a destination -5 pending -1
[HYPERCALL] (0x0) Halted
"""


def test_every_port_and_ipvi_check_from_a_partition(tmp_path: Path) -> None:
    """Each return code of the port and IPVI calls, in the specified check order (issue IPC)."""
    run = run_system(tmp_path, CHECKS_SYSTEM)
    assert run.returncode == 0, run.stderr
    lines = [ln for ln in run.stdout.replace("\r", "").splitlines() if ln.startswith(("[c]", "[s", "[q", "[i", "[H"))]
    assert lines == CHECKS_EXPECTED.splitlines(), run.stdout
