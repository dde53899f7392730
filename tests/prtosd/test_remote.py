"""Partitions on another address (docs/distributed.md): prtosd listens on 127.0.0.2 with CURVE and
a ``partitiond --connect`` runs partition 1 there.

The system is the ports system of test_ports_e2e plus a third partition: partition 1 receives
sampling and queuing messages (prtosd writes its buffers through mem_write), is the target of an
IPVI (prtosd reads its PCT through mem_read) and of a MEM copy by physical address. The same
configuration without pd:Placement, run locally, must give byte-identical output and timeline.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import zmq
from click.testing import CliRunner

from hm.log import LogStream
from ipc.messages import decode, encode, make
from partitiond.memory import AddressSpace, MemoryMapError
from prtosd.cli import main
from prtosd.config import load_system
from prtosd.config.model import RemoteHost
from prtosd.control.records import decode_hm, snapshot
from prtosd.keys import generate
from prtosd.remote import RemoteLink, RemoteLinkLost, RemoteMemory, RemoteProcess

pytestmark = pytest.mark.slow

GUESTS = Path(__file__).resolve().parent / "guests"
ADDRESS = "127.0.0.2"  # a second loopback address: the "other host"


def _processors(maf_ms: int, cpus: int) -> str:
    """One CPU: P0, P1, P2 in turn. Two CPUs: P1 alone on CPU 1, at the same time as P0 and P2."""
    if cpus == 1:
        slots = [(0, 0), (5, 1), (10, 2)]
        return (
            f'<Processor id="0"><CyclicPlanTable><Plan id="0" majorFrame="{maf_ms}ms">'
            + "".join(
                f'<Slot id="{i}" start="{t}ms" duration="5ms" partitionId="{p}"/>' for i, (t, p) in enumerate(slots)
            )
            + "</Plan></CyclicPlanTable></Processor>"
        )
    return (
        f'<Processor id="0"><CyclicPlanTable><Plan id="0" majorFrame="{maf_ms}ms">'
        '<Slot id="0" start="0ms" duration="5ms" partitionId="0"/><Slot id="1" start="10ms" duration="5ms" partitionId="2"/>'
        f'</Plan></CyclicPlanTable></Processor><Processor id="1"><CyclicPlanTable><Plan id="0" majorFrame="{maf_ms}ms">'
        '<Slot id="0" start="0ms" duration="15ms" partitionId="1"/></Plan></CyclicPlanTable></Processor>'
    )


def system(placement: str = "", dst: str = "ports_dst.c", maf_ms: int = 15, cpus: int = 1) -> str:
    return f"""<?xml version="1.0"?>
<SystemDescription xmlns="http://www.prtos.org/prtos-1.x" xmlns:pd="urn:prtosd:1" version="1.0.0" name="remote">
<HwDescription><MemoryLayout><Region type="ram" start="0x0" size="512MB"/></MemoryLayout>
<ProcessorTable>{_processors(maf_ms, cpus)}</ProcessorTable>
<Devices><Uart id="0" baudRate="115200" name="Uart"/><MemoryBlock name="hmlog" start="0x2000000" size="64KB"/></Devices>
</HwDescription>
<PRTOSHypervisor console="Uart" healthMonitorDevice="hmlog"><PhysicalMemoryArea size="4MB"/></PRTOSHypervisor>
<PartitionTable>
<Partition id="0" name="src" flags="system" console="Uart" pd:sources="{GUESTS / "ports_src.c"}">
  <PhysicalMemoryAreas><Area start="0x6000000" size="1MB"/></PhysicalMemoryAreas>
  <PortTable>
    <Port name="qS" direction="source" type="queuing"/>
    <Port name="sS" direction="source" type="sampling"/>
  </PortTable>
</Partition>
<Partition id="1" name="dst" console="Uart" pd:sources="{GUESTS / dst}">
  <PhysicalMemoryAreas><Area start="0x6100000" size="1MB"/></PhysicalMemoryAreas>
  <PortTable>
    <Port name="qD" direction="destination" type="queuing"/>
    <Port name="sD" direction="destination" type="sampling"/>
  </PortTable>
</Partition>
<Partition id="2" name="tick" console="Uart" pd:sources="{GUESTS / "ticker.c"}">
  <PhysicalMemoryAreas><Area start="0x6200000" size="1MB"/></PhysicalMemoryAreas>
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
{placement}
</SystemDescription>
"""


def placement(connect: str = "60s", grant: str = "10s") -> str:
    """Partition 1 on host "node-b", which must present the client key "node-b"."""
    return (
        f'<pd:Placement connectTimeout="{connect}">'
        f'<pd:Host name="node-b" partitions="1" grantTimeout="{grant}" key="node-b"/></pd:Placement>'
    )


def prtosd(config: Path, run_dir: Path, *args: str) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "prtosd", "start", str(config), "--run-dir", str(run_dir), *args]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def remote_partitiond(
    endpoint: str, keys: Path, client_key: Path, pid: int = 1, *extra: str
) -> subprocess.Popen[bytes]:
    cmd = [
        sys.executable, "-m", "partitiond", "--connect", endpoint, "--partition", str(pid),
        "--key", str(client_key), "--server-key", str(keys / "server.key"), "--timeout", "60", *extra,
    ]  # fmt: skip
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def listen_endpoint(run_dir: Path, daemon: subprocess.Popen[bytes], limit_s: float = 120.0) -> str:
    """The endpoint prtosd bound (port chosen by the OS), from its run directory."""
    path = run_dir / "listen"
    deadline = time.monotonic() + limit_s
    while not path.exists() or not path.read_text().endswith("\n"):
        if daemon.poll() is not None:
            pytest.fail(f"prtosd ended before listening: {daemon.communicate()[1].decode()}")
        assert time.monotonic() < deadline, "prtosd did not listen in time"
        time.sleep(0.02)  # polling for a file written once; nothing else to wait on
    return path.read_text().strip()


def stop(*procs: subprocess.Popen[bytes]) -> None:
    """Our own children, by pid: SIGTERM first, so that prtosd stops its partition processes."""
    for p in procs:
        if p.poll() is None:
            p.terminate()
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
        p.wait()
        for pipe in (p.stdout, p.stderr):
            if pipe is not None:
                pipe.close()


@pytest.fixture
def keys(tmp_path: Path) -> Path:
    generate(tmp_path / "keys", ["node-b", "node-c"])
    return tmp_path / "keys"


def outputs(run_dir: Path) -> dict[str, bytes]:
    """Everything guest-visible or traced that a run leaves: console files, the timeline, the HM log."""
    hm_log = run_dir / "phys-02000000-00010000.mem"  # the hmlog MemoryBlock
    files = [*sorted((run_dir / "console").iterdir()), run_dir / "timeline.jsonl", hm_log]
    return {p.name: p.read_bytes() for p in files}


def local_and_remote(tmp_path: Path, keys: Path, local_xml: str, placed_xml: str, *until: str) -> bytes:
    """Run the system locally, then with partition 1 on the other address; both must leave the
    same bytes (stdout, console files, timeline, HM log). Returns the stdout."""
    local = tmp_path / "local.xml"
    local.write_text(local_xml)
    ref = subprocess.run(
        [sys.executable, "-m", "prtosd", "start", str(local), "--run-dir", str(tmp_path / "run-local"), *until],
        capture_output=True,
        timeout=300,
        check=False,
    )
    assert ref.returncode == 0, ref.stderr.decode()

    config = tmp_path / "placed.xml"
    config.write_text(placed_xml)
    run_dir = tmp_path / "run-remote"
    daemon = prtosd(config, run_dir, "--listen", f"tcp://{ADDRESS}:0", "--keys", str(keys), *until)
    remote = None
    try:
        endpoint = listen_endpoint(run_dir, daemon)
        assert endpoint.startswith(f"tcp://{ADDRESS}:") and not endpoint.endswith(":0")
        work = tmp_path / "node-b"  # the remote host's own directory
        remote = remote_partitiond(endpoint, keys, keys / "clients" / "node-b.key_secret", 1, "--work-dir", str(work))
        out, err = daemon.communicate(timeout=300)
        assert remote.wait(timeout=60) == 0, remote.stderr.read().decode() if remote.stderr else ""
    finally:
        stop(daemon, *([remote] if remote else []))
    assert daemon.returncode == 0, err.decode()
    assert 'partition 1 joined from host "node-b"' in err.decode()
    assert out == ref.stdout  # byte for byte
    assert outputs(run_dir) == outputs(tmp_path / "run-local")
    assert not any(run_dir.glob("phys-06100000-*"))  # partition 1's memory was never on this side
    assert list(work.iterdir()) == []  # the remote's memory files are gone with it
    return out


@pytest.mark.parametrize("cpus", [1, 2])
def test_a_partition_on_another_address_runs_as_it_does_locally(tmp_path: Path, keys: Path, cpus: int) -> None:
    out = local_and_remote(tmp_path, keys, system(cpus=cpus), system(placement(), cpus=cpus))
    assert b"[1] sampling irq: 4 's-1' flags 1" in out and b"[1] ipvi irq, copied c0ffee" in out


@pytest.mark.parametrize("mode", ["WARM", "COLD"])
def test_a_remote_partition_reset_by_another(tmp_path: Path, keys: Path, mode: str) -> None:
    """A cold reset reloads the remote partition's image through mem_write during the run."""
    boss = tmp_path / "boss.c"
    boss.write_text((GUESTS / "ports_reset_boss.c").read_text().replace("PRTOS_WARM_RESET", f"PRTOS_{mode}_RESET"))
    peer = GUESTS / "ports_reset_peer.c"
    xml = f"""<?xml version="1.0"?>
<SystemDescription xmlns="http://www.prtos.org/prtos-1.x" xmlns:pd="urn:prtosd:1" version="1.0.0" name="reset">
<HwDescription><MemoryLayout><Region type="ram" start="0x0" size="512MB"/></MemoryLayout>
<ProcessorTable><Processor id="0"><CyclicPlanTable><Plan id="0" majorFrame="10ms">
<Slot id="0" start="0ms" duration="5ms" partitionId="0"/><Slot id="1" start="5ms" duration="5ms" partitionId="1"/>
</Plan></CyclicPlanTable></Processor></ProcessorTable>
<Devices><Uart id="0" baudRate="115200" name="Uart"/><MemoryBlock name="hmlog" start="0x2000000" size="64KB"/></Devices>
</HwDescription>
<PRTOSHypervisor console="Uart" healthMonitorDevice="hmlog"><PhysicalMemoryArea size="4MB"/></PRTOSHypervisor>
<PartitionTable>
<Partition id="0" name="boss" flags="system" console="Uart" pd:sources="{boss}">
  <PhysicalMemoryAreas><Area start="0x6000000" size="1MB"/></PhysicalMemoryAreas>
  <PortTable><Port name="qS" direction="source" type="queuing"/></PortTable>
</Partition>
<Partition id="1" name="peer" console="Uart" pd:sources="{peer}">
  <PhysicalMemoryAreas><Area start="0x6100000" size="1MB"/></PhysicalMemoryAreas>
  <PortTable><Port name="qD" direction="destination" type="queuing"/></PortTable>
</Partition>
</PartitionTable>
<Channels><QueuingChannel maxNoMessages="4" maxMessageLength="16B">
<Source partitionId="0" portName="qS"/><Destination partitionId="1" portName="qD"/>
</QueuingChannel></Channels>
PLACEMENT
</SystemDescription>
"""
    local, placed = xml.replace("PLACEMENT", ""), xml.replace("PLACEMENT", placement())
    out = local_and_remote(tmp_path, keys, local, placed, "--until", "200ms")
    counter = 1 if mode == "WARM" else 0  # a cold reset restarts the reset counter (and the image)
    assert f"[1] start {counter}: create 1 queued 2 bitmap 0".encode() in out


def test_a_wrong_key_is_refused(tmp_path: Path, keys: Path) -> None:
    generate(tmp_path / "other", ["node-b"])  # a key pair prtosd never authorised
    config = tmp_path / "placed.xml"
    config.write_text(system(placement(connect="4s")))
    run_dir = tmp_path / "run"
    daemon = prtosd(config, run_dir, "--listen", f"tcp://{ADDRESS}:0", "--keys", str(keys))
    remote = None
    try:
        endpoint = listen_endpoint(run_dir, daemon)
        remote = remote_partitiond(endpoint, keys, tmp_path / "other" / "clients" / "node-b.key_secret")
        assert remote.wait(timeout=60) == 3
        remote_err = remote.stderr.read().decode() if remote.stderr else ""
        out, err = daemon.communicate(timeout=120)
    finally:
        stop(daemon, *([remote] if remote else []))
    assert "prtosd refused our key" in remote_err
    assert daemon.returncode == 4
    text = err.decode()
    assert f"prtosd: refused a connection on tcp://{ADDRESS}:" in text
    assert 'remote partitions did not connect within 4 s: partition 1 (host "node-b")' in text
    assert "refused connections: " in text and " × key not authorised" in text
    assert "Traceback" not in text
    assert b"[0]" not in out  # nothing ran


def test_killing_the_remote_partition_is_its_fault(tmp_path: Path, keys: Path) -> None:
    config = tmp_path / "placed.xml"
    config.write_text(system(placement(grant="5s"), dst="counter.c", maf_ms=30))
    run_dir = tmp_path / "run"
    daemon = prtosd(
        config, run_dir, "--listen", f"tcp://{ADDRESS}:0", "--keys", str(keys), "--until", "4s", "--pace", "realtime"
    )
    remote = None
    try:
        endpoint = listen_endpoint(run_dir, daemon)
        remote = remote_partitiond(endpoint, keys, keys / "clients" / "node-b.key_secret")
        assert daemon.stdout is not None
        seen = b""
        while not seen.endswith(b"[1] slot 3\n"):  # the remote partition is running its slots
            line = daemon.stdout.readline()
            assert line, "prtosd ended early"
            seen += line
        os.kill(remote.pid, signal.SIGKILL)
        remote.wait()
        out, err = daemon.communicate(timeout=120)
        out = seen + out
    finally:
        stop(daemon, *([remote] if remote else []))
    assert daemon.returncode == 0, err.decode()
    lines = out.decode().splitlines()
    panic = [ln for ln in lines if ln.startswith("Partition PANIC [1]")]
    assert panic == ['Partition PANIC [1]: link to remote partition on host "node-b" lost: connection closed'], lines
    at = lines.index(panic[0])
    assert lines[at + 1].endswith(":PRTOS_HM_EV_FATAL_ERROR (0):PART(1)"), lines[at:]
    assert "[1] slot 3" in lines[:at]
    assert "[HM] Partition 1 halted" in lines
    events = [json.loads(ln) for ln in (run_dir / "timeline.jsonl").read_text().splitlines()]
    hm = [e for e in events if e.get("kind", e.get("type")) == "hm" or e.get("ev") == "hm"]
    assert any(e.get("p") == 1 and e.get("name") == "PRTOS_HM_EV_FATAL_ERROR" for e in hm), hm
    assert len([ln for ln in lines if ln.startswith("[2] tick")]) == 3  # the others keep their schedule
    stream = LogStream(bytearray((run_dir / "phys-02000000-00010000.mem").read_bytes()))  # the hmlog block
    records = [decode_hm(r) for r in snapshot(stream, 0, stream.capacity)[0]]
    assert [(r["partition"], r["event_name"], r["intact"]) for r in records] == [
        (1, "PRTOS_HM_EV_FATAL_ERROR", True)
    ], records


def test_a_stopped_remote_partition_times_out_as_its_fault(tmp_path: Path, keys: Path) -> None:
    """A slow or frozen remote: the grant's wall-time bound (pd:Host@grantTimeout) ends the wait."""
    config = tmp_path / "placed.xml"
    config.write_text(system(placement(grant="1s"), dst="counter.c", maf_ms=30))
    run_dir = tmp_path / "run"
    daemon = prtosd(config, run_dir, "--listen", f"tcp://{ADDRESS}:0", "--keys", str(keys), "--until", "300ms")
    remote = None
    try:
        endpoint = listen_endpoint(run_dir, daemon)
        remote = remote_partitiond(endpoint, keys, keys / "clients" / "node-b.key_secret")
        assert remote.stderr is not None
        assert b"joined" in remote.stderr.readline()
        os.kill(remote.pid, signal.SIGSTOP)  # frozen before its first slot: prtosd must not hang
        out, err = daemon.communicate(timeout=120)
    finally:
        if remote is not None and remote.poll() is None:
            os.kill(remote.pid, signal.SIGCONT)  # it then finds prtosd gone (or told to quit) and exits
        stop(daemon, *([remote] if remote else []))
    assert daemon.returncode == 0, err.decode()
    lines = out.decode().splitlines()
    assert 'Partition PANIC [1]: remote partition on host "node-b" stopped answering for 1 s' in lines
    assert "[HM] Partition 1 halted" in lines
    assert len([ln for ln in lines if ln.startswith("[2] tick")]) == 3


def test_joins_that_do_not_match_the_placement_are_refused(tmp_path: Path, keys: Path) -> None:
    config = tmp_path / "placed.xml"
    config.write_text(system(placement()))
    run_dir = tmp_path / "run"
    daemon = prtosd(config, run_dir, "--listen", f"tcp://{ADDRESS}:0", "--keys", str(keys))
    why = []
    try:
        endpoint = listen_endpoint(run_dir, daemon)
        for key, pid in (("node-b", 0), ("node-c", 1)):  # a local partition; another host's key
            intruder = remote_partitiond(endpoint, keys, keys / "clients" / f"{key}.key_secret", pid=pid)
            try:
                assert intruder.wait(timeout=60) == 3
                assert intruder.stderr is not None
                why.append(intruder.stderr.read().decode())
            finally:
                stop(intruder)
    finally:
        stop(daemon)  # prtosd still waits for partition 1
    assert "prtosd refused partition 0 vCPU 0: partition 0 is not placed on another host (pd:Placement)" in why[0]
    assert (
        'prtosd refused partition 1 vCPU 0: partition 1 runs on host "node-b": only key "node-b" may run it' in why[1]
    )


@pytest.mark.parametrize(
    ("args", "placed", "message"),
    [
        (["--listen", "tcp://127.0.0.1:0"], True, "--listen needs --keys DIR"),
        (["--listen", "udp://127.0.0.1:0", "--keys", "k"], True, "--listen udp://127.0.0.1:0: expected tcp://"),
        (["--listen", "tcp://127.0.0.1:0", "--keys", "KEYS"], False, "places no partition on another host"),
        (["--listen", "tcp://127.0.0.1:0", "--keys", "nokeys"], True, "--keys nokeys: no key directory"),
        ([], True, "pd:Placement puts partitions on other hosts: start with --listen"),
    ],
)
def test_listen_options_are_checked(tmp_path: Path, args: list[str], placed: bool, message: str) -> None:
    config = tmp_path / "system.xml"
    config.write_text(system(placement() if placed else ""))
    generate(tmp_path / "keys", ["node-b"])
    args = [str(tmp_path / "keys") if a == "KEYS" else a for a in args]
    result = CliRunner().invoke(main, ["start", str(config), "--run-dir", str(tmp_path / "run"), *args])
    assert result.exit_code == 2
    assert message in result.output
    assert not (tmp_path / "run").exists()  # refused before anything was started


def test_a_wrong_server_key_is_reported_on_both_sides(tmp_path: Path, keys: Path) -> None:
    generate(tmp_path / "other", ["node-b"])
    config = tmp_path / "placed.xml"
    config.write_text(system(placement(connect="5s")))
    run_dir = tmp_path / "run"
    daemon = prtosd(config, run_dir, "--listen", f"tcp://{ADDRESS}:0", "--keys", str(keys))
    try:
        endpoint = listen_endpoint(run_dir, daemon)
        cmd = [
            sys.executable, "-m", "partitiond", "--connect", endpoint, "--partition", "1",
            "--key", str(keys / "clients" / "node-b.key_secret"),
            "--server-key", str(tmp_path / "other" / "server.key"), "--timeout", "2",
        ]  # fmt: skip
        remote = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)
        _, err = daemon.communicate(timeout=120)
    finally:
        stop(daemon)
    assert remote.returncode == 4
    assert "no answer from prtosd within 2 s (CURVE handshakes failed: wrong --server-key?)" in remote.stderr
    assert daemon.returncode == 4
    text = err.decode()
    # The retries are counted, not printed: one line per reason (ZeroMQ may report a cut attempt
    # as a plain failed handshake besides the wrong key).
    refused = [line for line in text.splitlines() if "refused a connection" in line]
    assert len(refused) == len(set(refused))
    assert any("wrong server key?" in line for line in refused)
    assert "× handshake failed (wrong server key?)" in text


# -- the supervisor-side memory proxy, without a network ----------------------------------------


class _NoLink:
    """A link before any remote partition joined."""

    def __init__(self) -> None:
        self.handles: dict = {}


def test_remote_memory_has_the_local_layout(tmp_path: Path) -> None:
    config = tmp_path / "placed.xml"
    config.write_text(system(placement()))
    loaded = load_system(config)
    local = AddressSpace(loaded, 1, tmp_path)
    try:
        remote = RemoteMemory(_NoLink(), loaded, 1)  # type: ignore[arg-type]
        strip = lambda maps: [(m.virt, m.size, m.writable, m.name) for m in maps]  # noqa: E731
        assert strip(remote.mappings) == strip(local.mappings)
        assert remote.gdt_addr == local.gdt_addr
        assert remote.check(0x6100000, 16, write=True) and not remote.check(0x6000000, 16)
        assert remote.in_areas(0x6100000, 0x100000) and not remote.in_areas(0x6100000, 0x100001)
    finally:
        local.close()


def test_remote_memory_keeps_writes_until_the_partition_joins(tmp_path: Path) -> None:
    config = tmp_path / "placed.xml"
    config.write_text(system(placement()))
    remote = RemoteMemory(_NoLink(), load_system(config), 1)  # type: ignore[arg-type]
    remote.write(0x6100000, b"image")
    assert remote.pending == [(0x6100000, b"image")]
    assert remote.read(0x6100000, 4) == bytes(4)  # nothing to ask yet
    with pytest.raises(MemoryMapError, match="not mapped in partition 1"):
        remote.write(0x6000000, b"x")  # partition 0's memory is not partition 1's


class _Sup:
    """The parts of a supervisor a link's memory requests use: its ROUTER and the stash."""

    def __init__(self, ctx: zmq.Context, endpoint: str) -> None:
        self.sock = ctx.socket(zmq.ROUTER)
        self.sock.setsockopt(zmq.ROUTER_MANDATORY, 1)
        self.sock.setsockopt(zmq.LINGER, 0)
        self.sock.bind(endpoint)
        self._stash: list[list[bytes]] = []


def test_memory_requests_time_out_or_notice_a_closed_link(tmp_path: Path) -> None:
    ctx = zmq.Context()
    endpoint = f"ipc://{tmp_path / 'v.sock'}"
    sup = _Sup(ctx, endpoint)
    peer, other = ctx.socket(zmq.DEALER), ctx.socket(zmq.DEALER)
    try:
        for s in (peer, other):
            s.setsockopt(zmq.LINGER, 0)
            s.connect(endpoint)
        link = RemoteLink(sup, "tcp://127.0.0.2:0", tmp_path)  # type: ignore[arg-type]
        proc = RemoteProcess(link, (1, 0), RemoteHost("b", (1,), grant_timeout_us=300_000))
        peer.send(encode(make("ping")))
        proc.identity = sup.sock.recv_multipart()[0]

        # answered: the data comes back; a message that arrives first is kept for the grant loop
        def answer() -> None:
            msg = decode(peer.recv())
            peer.send(encode(make("console", now=1, data=b"x")))
            peer.send(encode(make("mem_data", id=msg["id"], data=b"\x01\x02", ok=1)))

        t = threading.Thread(target=answer)
        t.start()
        assert link.read(proc, 0x6100000, 2) == b"\x01\x02"
        t.join()
        assert [decode(frames[1])["t"] for frames in sup._stash] == ["console"]

        # silent for longer than the grant bound: lost, as a hung process
        with pytest.raises(RemoteLinkLost):
            link.read(proc, 0x6100000, 2)
        assert proc.returncode is not None and "stopped answering for 0.3 s" in proc.reason

        # a closed connection is noticed at once by the next probe
        proc2 = RemoteProcess(link, (2, 0), RemoteHost("c", (2,)))
        other.send(encode(make("ping")))
        proc2.identity = sup.sock.recv_multipart()[0]
        assert proc2.poll() is None
        other.close(0)
        deadline = time.monotonic() + 10
        while proc2.poll() is None:  # the ROUTER drops the peer when its pipe terminates
            assert time.monotonic() < deadline
            sup.sock.poll(10)
        assert "lost: connection closed" in proc2.reason
    finally:
        peer.close(0)
        other.close(0)
        sup.sock.close(0)
        ctx.term()
