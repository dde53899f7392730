"""prtosctl over TCP against a real daemon: CURVE keys are the credential, everyone else is refused and counted."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import msgpack
import pytest
import zmq
from systems import run_prtosd, system_xml

from ipc.messages import decode, encode, make
from prtosd.client import Client, Unauthorised
from prtosd.control.errors import CtlErrno
from prtosd.keys import generate, secure_client
from prtosd.pytest_plugin import system_factory

BOSS_WORKER = system_xml(
    [{"name": "Boss", "source": "ticker.c", "flags": "system"}, {"name": "Worker", "source": "counter.c"}],
    [(0, 2, 0), (2, 2, 1)],
    4,
    name="bw",
)


@pytest.fixture
def prtosd_system(tmp_path: Path):
    """The plugin's fixture (this suite does not rely on the installed pytest11 entry point)."""
    with system_factory(tmp_path) as start:
        yield start


@pytest.fixture
def keys(tmp_path: Path) -> Path:
    """A key directory with one authorised client, "ops"."""
    generate(tmp_path / "keys", ["ops"])
    return tmp_path / "keys"


def start_tcp(prtosd_system, keys: Path):
    """A --serve system with a TCP control endpoint on a free port; returns it and the endpoint."""
    system = prtosd_system(BOSS_WORKER, "--control", "tcp://127.0.0.1:0", "--keys", str(keys))
    endpoint = json.loads((system.run_dir / "ctl.json").read_text())["tcp"]
    assert endpoint.startswith("tcp://127.0.0.1:") and not endpoint.endswith(":0")
    return system, endpoint


def prtosctl(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "prtosd.ctl", "--timeout", "20", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def counters_reach(system, **least: int) -> dict[str, int]:
    """The control counters once each named one is at least the given value (bounded wait)."""
    deadline = time.monotonic() + 20
    while True:
        ctl = system.status()["control"]
        if all(ctl[k] >= v for k, v in least.items()) or time.monotonic() > deadline:
            return ctl
        time.sleep(0.05)  # polling a counter the daemon updates from its socket monitor


def test_status_and_halt_over_tcp_with_an_authorised_key(prtosd_system, keys: Path) -> None:
    system, endpoint = start_tcp(prtosd_system, keys)
    tcp = [
        "--connect",
        endpoint,
        "--key",
        str(keys / "clients" / "ops.key_secret"),
        "--server-key",
        str(keys / "server.key"),
    ]

    with Client.connect_tcp(endpoint, keys / "clients" / "ops.key_secret", keys / "server.key") as client:
        assert client.run_until(3_000)["vtime_us"] == 3_000  # no run token: the key is the credential
        assert client.partition_suspend("Worker")["vtime_us"] == 3_000
    res = prtosctl(*tcp, "status", "--json")
    assert res.returncode == 0, res.stderr
    st = json.loads(res.stdout)
    assert (st["vtime_us"], st["partitions"][1]["state"]) == (3_000, "suspended")
    assert st["control"]["unauthorised"] == 0

    audit = [json.loads(line) for line in (system.run_dir / "audit.log").read_text().splitlines()]
    assert [(a["cmd"], a["via"]) for a in audit] == [("run_until", "tcp:ops"), ("partition_suspend", "tcp:ops")]

    res = prtosctl(*tcp, "system", "halt")
    assert res.returncode == 0, res.stderr
    assert "system halted at 0.003000 s virtual" in res.stdout
    assert system.proc.wait(30) == 0


def test_refused_clients_get_a_clear_error_and_are_counted(prtosd_system, keys: Path, tmp_path: Path) -> None:
    system, endpoint = start_tcp(prtosd_system, keys)
    generate(tmp_path / "other", ["stranger"])
    ops = str(keys / "clients" / "ops.key_secret")

    res = prtosctl("--connect", endpoint, "--key", str(tmp_path / "other" / "clients" / "stranger.key_secret"),
                   "--server-key", str(keys / "server.key"), "status")  # fmt: skip
    assert (res.returncode, res.stdout) == (4, "")
    assert "refused the client key: key not authorised" in res.stderr and "Traceback" not in res.stderr

    res = prtosctl(
        "--connect", endpoint, "--key", ops, "--server-key", str(tmp_path / "other" / "server.key"), "status"
    )
    assert res.returncode == 4
    assert f"no answer from {endpoint}: key not authorised or wrong server key?" in res.stderr

    ctx = zmq.Context()
    plain = ctx.socket(zmq.DEALER)  # no CURVE at all, but the run token: still refused
    plain.setsockopt(zmq.LINGER, 0)
    plain.connect(endpoint)
    plain.send(encode(make("request", id=1, cmd="system_halt", props={}, token=(system.run_dir / "token").read_text())))
    try:
        ctl = counters_reach(system, handshake_refused_auth=1, handshake_refused_protocol=2)
        assert not plain.poll(0)
    finally:
        plain.close(0)
        ctx.term()
    assert ctl["handshake_refused_auth"] >= 1  # the stranger's key
    assert ctl["handshake_refused_protocol"] >= 2  # the wrong server key, the client without CURVE
    assert (ctl["rejected"], ctl["unauthorised"]) == (0, 0)  # nothing reached the request handler

    ctx = zmq.Context()
    intruder = ctx.socket(zmq.DEALER)  # garbage on the partition endpoint: counted there, not here
    intruder.setsockopt(zmq.LINGER, 0)
    intruder.connect(f"ipc://{system.run_dir / 'vcpu.sock'}")
    intruder.send(b"\xc1 not a hello")
    try:
        assert system.run_until("1ms")["state"] == "paused"  # the halt never arrived
    finally:
        intruder.close(0)
        ctx.term()
    res = prtosctl("--run-dir", str(system.run_dir), "status")
    assert res.returncode == 0
    assert f"TCP handshakes refused: key {ctl['handshake_refused_auth']}" in res.stdout
    assert "partition endpoint messages rejected 1" in res.stdout

    stranger = tmp_path / "other" / "clients" / "stranger.key_secret"
    with Client.connect_tcp(endpoint, stranger, keys / "server.key") as client, pytest.raises(Unauthorised):
        client.status()


def test_daemon_survives_garbage_from_an_authorised_client(prtosd_system, keys: Path) -> None:
    system, endpoint = start_tcp(prtosd_system, keys)
    ctx = zmq.Context()
    sock = ctx.socket(zmq.DEALER)
    sock.setsockopt(zmq.LINGER, 0)
    secure_client(sock, keys / "clients" / "ops.key_secret", keys / "server.key")
    sock.connect(endpoint)
    garbage = [
        [b"\xc1 not msgpack"],
        [b""],
        [msgpack.packb([1, 2, 3])],
        [msgpack.packb({"t": "request", "v": 1, "id": 1, "cmd": "status", "props": []})],
        [b"two", b"frames"],
    ]
    try:
        for i in range(1000):
            sock.send_multipart(garbage[i % len(garbage)])
        for _ in range(1000):
            assert sock.poll(20_000), "no reply"
            reply = decode(sock.recv())
            assert (reply["status"], reply["errno"]) == ("error", CtlErrno.BAD_REQUEST)
        sock.send(encode(make("request", id=5, cmd="status", props={}, token="")))
        assert sock.poll(20_000)
        reply = decode(sock.recv())
        assert (reply["id"], reply["status"]) == (5, "ok")
        assert reply["data"]["control"]["rejected"] == 1000
    finally:
        sock.close(0)
        ctx.term()
    assert system.run_until("3ms")["vtime_us"] == 3_000


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--control", "tcp://127.0.0.1:0"], "--control needs --keys DIR"),
        (["--control", "127.0.0.1:5555", "--keys", "KEYS"], "expected tcp://HOST:PORT"),
        (["--control", "tcp://127.0.0.1:0", "--keys", "NOKEYS"], "no key directory"),
    ],
)
def test_start_option_errors(tmp_path: Path, keys: Path, args: list[str], message: str) -> None:
    config = tmp_path / "bw.xml"
    config.write_text(BOSS_WORKER)
    args = [a.replace("NOKEYS", str(tmp_path / "missing")).replace("KEYS", str(keys)) for a in args]
    run = run_prtosd(config, tmp_path / "run", *args, timeout=60)
    assert run.returncode == 2
    assert message in run.stderr and "Traceback" not in run.stderr


def test_start_fails_cleanly_when_the_port_is_taken(tmp_path: Path, keys: Path) -> None:
    config = tmp_path / "bw.xml"
    config.write_text(BOSS_WORKER)
    ctx = zmq.Context()
    taken = ctx.socket(zmq.ROUTER)
    taken.setsockopt(zmq.LINGER, 0)
    port = taken.bind_to_random_port("tcp://127.0.0.1")
    try:
        run = run_prtosd(config, tmp_path / "run", "--control", f"tcp://127.0.0.1:{port}", "--keys", str(keys))
    finally:
        taken.close(0)
        ctx.term()
    assert run.returncode == 2
    assert f"--control: cannot listen on tcp://127.0.0.1:{port}" in run.stderr and "Traceback" not in run.stderr
    assert not (tmp_path / "run" / "ctl.json").exists()


def test_prtosctl_connect_option_errors(keys: Path, tmp_path: Path) -> None:
    server = str(keys / "server.key")
    res = prtosctl("--connect", "tcp://127.0.0.1:9", "status")
    assert res.returncode == 2 and "--connect needs --key" in res.stderr
    res = prtosctl(
        "--connect", "tcp://127.0.0.1:9", "--key", str(tmp_path / "nope.key_secret"), "--server-key", server, "status"
    )
    assert res.returncode == 2 and "cannot read key file" in res.stderr
    res = prtosctl(
        "--connect", "127.0.0.1:9", "--key", str(keys / "clients" / "ops.key_secret"), "--server-key", server, "status"
    )
    assert res.returncode == 2 and "expected tcp://HOST:PORT" in res.stderr
    assert "Traceback" not in res.stderr
