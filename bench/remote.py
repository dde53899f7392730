"""Remote partitions (docs/distributed.md): the P5 queuing system with the receiver on another
address, as a ratio to the same system run locally in the same benchmark run.

Every received message is a hypercall whose buffer prtosd writes into the receiver's memory;
for a remote receiver that is a ``mem_write`` plus the hypercall round trip over CURVE TCP
(loopback 127.0.0.2), so the ratio is the cost of distribution per hypercall-heavy workload.
Each rate is the difference of two runs of different virtual lengths, so start-up and the
remote join cancel out.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.system import _system, run

ADDRESS = "127.0.0.2"
PLACEMENT = '<pd:Placement><pd:Host name="bench" partitions="1"/></pd:Placement>'


def _config(tmp: Path, placed: bool) -> Path:
    ports = '<PortTable><Port name="q" direction="{d}" type="queuing"/></PortTable>'
    channel = (
        '<Channels><QueuingChannel maxMessageLength="32B" maxNoMessages="64">'
        '<Source partitionId="0" portName="q"/><Destination partitionId="1" portName="q"/>'
        "</QueuingChannel></Channels>"
    )
    config = tmp / ("queue-placed.xml" if placed else "queue-local.xml")
    parts = [("S", "qsend.c", ports.format(d="source")), ("R", "qrecv.c", ports.format(d="destination"))]
    config.write_text(_system(parts, [(0, 500, 0), (500, 500, 1)], 1000, channel + (PLACEMENT if placed else "")))
    return config


def run_remote(config: Path, until: str, tmp: Path, keys: Path) -> tuple[float, str]:
    """``prtosd start --listen`` plus one ``partitiond --connect``; returns (wall seconds, stdout)."""
    run_dir = Path(tempfile.mkdtemp(dir=tmp))
    t0 = time.perf_counter()
    daemon = subprocess.Popen(
        [sys.executable, "-m", "prtosd", "start", str(config), "--until", until, "--run-dir", str(run_dir),
         "--listen", f"tcp://{ADDRESS}:0", "--keys", str(keys)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    listen = run_dir / "listen"
    while not (listen.exists() and listen.read_text().endswith("\n")):
        if daemon.poll() is not None:
            raise RuntimeError(f"prtosd failed on {config}:\n{daemon.communicate()[1].decode()}")
        time.sleep(0.01)
    remote = subprocess.Popen(
        [sys.executable, "-m", "partitiond", "--connect", listen.read_text().strip(), "--partition", "1",
         "--key", str(keys / "clients" / "bench.key_secret"), "--server-key", str(keys / "server.key")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    out, err = daemon.communicate()
    wall = time.perf_counter() - t0
    remote.wait(30)
    if daemon.returncode != 0:
        raise RuntimeError(f"prtosd failed on {config}:\n{err.decode()}")
    return wall, out.decode()


def remote_queuing(tmp: Path) -> dict[str, float]:
    from prtosd.keys import generate

    keys = tmp / "keys"
    generate(keys, ["bench"])
    count = lambda out: int(re.findall(r"received (\d+)", out)[-1])  # noqa: E731
    local = _config(tmp, placed=False)
    run(local, "1ms", tmp)  # build (cached) and warm up
    short, _, out_s = run(local, "20ms", tmp)
    long, _, out_l = run(local, "220ms", tmp)
    local_rate = (count(out_l) - count(out_s)) / (long - short)
    placed = _config(tmp, placed=True)
    r_short, r_out_s = run_remote(placed, "20ms", tmp, keys)
    r_long, r_out_l = run_remote(placed, "220ms", tmp, keys)
    remote_rate = (count(r_out_l) - count(r_out_s)) / (r_long - r_short)
    return {"remote_msgs_per_s": remote_rate, "local_msgs_per_s": local_rate, "ratio": remote_rate / local_rate}
