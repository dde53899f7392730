"""prtosctl against a real daemon: permissions, malformed requests, the CLI and its exit codes."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import msgpack
import pytest
import zmq
from systems import system_xml

from ipc.messages import decode, encode, make
from prtosd.control.errors import CtlErrno
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


def prtosctl(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "prtosd.ctl", "--timeout", "20", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_files_are_private(prtosd_system) -> None:
    run = prtosd_system(BOSS_WORKER).run_dir
    assert stat.S_IMODE(run.stat().st_mode) == 0o700
    for name in ("ctl.sock", "token", "ctl.json", "audit.log"):
        assert stat.S_IMODE((run / name).stat().st_mode) == 0o600, name


def test_malformed_requests_are_refused_counted_and_survived(prtosd_system) -> None:
    system = prtosd_system(BOSS_WORKER)
    token = (system.run_dir / "token").read_text()
    ctx = zmq.Context()
    sock = ctx.socket(zmq.DEALER)
    sock.setsockopt(zmq.LINGER, 0)
    sock.connect(f"ipc://{system.run_dir / 'ctl.sock'}")

    def ask(*frames: bytes) -> dict:
        sock.send_multipart(list(frames))
        assert sock.poll(20_000), "no reply"
        return decode(sock.recv())

    try:
        bad_frames = [
            b"\xc1 not msgpack",
            msgpack.packb([1, 2, 3]),
            msgpack.packb({"t": "request", "v": 1, "id": 1, "cmd": "status", "props": {}}),  # no token
            msgpack.packb({"t": "request", "v": 1, "id": 1, "cmd": "status", "props": [], "token": token}),
            encode(make("hello", partition=0, vcpu=0, pid=1, token=token)),
        ]
        for frame in bad_frames:
            reply = ask(frame)
            assert (reply["status"], reply["errno"]) == ("error", CtlErrno.BAD_REQUEST), frame
            assert "Traceback" not in reply["reason"]
        reply = ask(b"two", b"frames")
        assert reply["errno"] == CtlErrno.BAD_REQUEST
        reply = ask(encode(make("request", id=7, cmd="__class__", props={}, token=token)))
        assert (reply["id"], reply["errno"]) == (7, CtlErrno.UNKNOWN_COMMAND)
        reply = ask(encode(make("request", id=8, cmd="partition_halt", props={"partition": [1]}, token=token)))
        assert (reply["id"], reply["errno"]) == (8, CtlErrno.BAD_REQUEST)
        reply = ask(encode(make("request", id=9, cmd="status", props={}, token="\u00e9" * 32)))
        assert (reply["id"], reply["errno"]) == (9, CtlErrno.UNAUTHORISED)
    finally:
        sock.close(0)
        ctx.term()
    st = system.status()
    assert st["control"]["rejected"] == 9
    assert st["control"]["unauthorised"] == 1
    assert st["state"] == "paused"
    assert system.run_until("3ms")["vtime_us"] == 3_000  # inside Worker's slot (2-4 ms)


def test_prtosctl_commands_and_exit_codes(prtosd_system, tmp_path: Path) -> None:
    system = prtosd_system(BOSS_WORKER)
    assert system.run_until("7ms")["vtime_us"] == 7_000  # inside Worker's slot (6-8 ms)
    rd = ["--run-dir", str(system.run_dir)]

    res = prtosctl(*rd, "status")
    assert res.returncode == 0, res.stderr
    assert "state paused  virtual time 0.007000 s" in res.stdout
    assert "Worker" in res.stdout

    res = prtosctl("--root", str(tmp_path), "-s", "bw", "status", "--json")
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["vtime_us"] == 7_000

    res = prtosctl("--root", str(tmp_path), "list", "--json")
    assert [s["system"] for s in json.loads(res.stdout)] == ["bw"]

    res = prtosctl(*rd, "partition", "suspend", "Worker")
    assert res.returncode == 0, res.stderr
    assert "suspend at 0.007000 s virtual" in res.stdout
    res = prtosctl(*rd, "partition", "suspend", "1")
    assert res.returncode == 1
    assert "errno -1" in res.stderr
    res = prtosctl(*rd, "partition", "reset", "--warm", "Worker")
    assert res.returncode == 0, res.stderr
    res = prtosctl(*rd, "partition", "halt", "9")
    assert res.returncode == 1 and "no partition 9" in res.stderr

    res = prtosctl(*rd, "plan", "switch", "1")
    assert res.returncode == 1 and "PRTOS_INVALID_PARAM" in res.stderr  # this system has one plan
    res = prtosctl(*rd, "plan", "status", "--json")
    assert json.loads(res.stdout)["cpus"][0]["current"] == 0

    res = prtosctl(*rd, "hm", "log", "--json")
    assert res.returncode == 0 and res.stdout == ""
    res = prtosctl(*rd, "trace", "dump")
    assert res.returncode == 0 and res.stdout == ""

    system.run_until("12ms")
    res = prtosctl(*rd, "console", "attach", "--no-follow", "Worker")
    assert res.returncode == 0
    assert res.stdout.splitlines()[-1] == "[1] slot 1"  # after the warm reset at 7 ms

    if os.geteuid() != 0:  # root reads any file
        token = system.run_dir / "token"
        token.chmod(0)
        try:
            res = prtosctl(*rd, "status")
        finally:
            token.chmod(0o600)
        assert res.returncode == 4, res.stderr

    res = prtosctl(*rd, "system", "halt")
    assert res.returncode == 0, res.stderr
    assert system.proc.wait(30) == 0
    res = prtosctl(*rd, "status")
    assert res.returncode == 3
    assert "no prtosd is running" in res.stderr


@pytest.mark.parametrize("follow", ["hm", "console"])
def test_followers_end_when_the_system_halts(prtosd_system, follow: str) -> None:
    hm = '<HealthMonitor><Event name="PRTOS_HM_EV_X86_DIVIDE_ERROR" action="PRTOS_HM_AC_PARTITION_WARM_RESET" log="yes"/></HealthMonitor>'
    system = prtosd_system(system_xml([{"name": "Div", "source": "divzero.c", "hm": hm}], [(0, 2, 0)], 4))
    system.run_until("30ms")
    args = ["hm", "log", "--follow"] if follow == "hm" else ["console", "attach", "0"]
    with subprocess.Popen(
        [sys.executable, "-m", "prtosd.ctl", "--run-dir", str(system.run_dir), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as proc:
        try:
            assert proc.stdout is not None
            first = proc.stdout.readline()  # data already there is printed at once
            system.client.system_halt()
            proc.wait(timeout=30)  # the follower ends by itself when the system stops
            rest = proc.stdout.read()  # what readline() had buffered, and the rest
            err = proc.stderr.read() if proc.stderr else ""
        finally:
            if proc.poll() is None:
                proc.kill()
    assert proc.returncode == 0, err
    if follow == "hm":
        assert "PRTOS_HM_EV_X86_DIVIDE_ERROR (6)" in first
        assert len((first + rest).splitlines()) >= 2
    else:
        assert first == "PRTOS Hypervisor (1.0 r0)\n" or first.startswith("[0] before")
        assert "[0] dividing" in first + rest
