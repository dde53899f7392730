"""Privilege: a normal partition cannot use system-partition calls, and prtosctl needs the run's token.

Separation rests on these two doors: a partition without the ``system`` flag must get
PRTOS_PERM_ERROR for every call that acts on another partition or on the whole system
(partition-api §6.1 "Sys"), and nobody without the run token may command the daemon.
"""

from __future__ import annotations

import re

import pytest
import zmq
from relsupport import console_log, digest, memory_file, rel_xml

from ipc.messages import decode, encode, make
from prtosd.client import Client, Unauthorised
from prtosd.control.errors import CtlErrno
from prtosd.control.registry import COMMANDS

PERM_ERROR = -4
SYSTEM = rel_xml(
    [{"name": "Probe", "source": "relprobe.c"}, {"name": "Target", "source": "relcount.c"}],
    [(0, 1, 0), (1, 1, 1)],
    2,
    name="priv",
)
#: Every call of the probe that needs a system partition (§6.1, §9.4, §9.5, §9.6).
SYSTEM_ONLY = [
    "halt_partition", "suspend_partition", "resume_partition", "reset_partition_cold", "reset_partition_warm",
    "shutdown_partition", "halt_system", "reset_system_cold", "reset_system_warm", "switch_sched_plan",
    "get_system_status", "get_partition_status", "get_partition_vcpu_status", "hm_read", "hm_seek", "hm_status",
    "trace_open",
]  # fmt: skip


def test_system_only_calls_return_perm_error(rel_system) -> None:
    system = rel_system(SYSTEM)
    st = system.run_until("20ms")
    text = system.console(0)
    assert "probe done" in text, text
    codes = dict(re.findall(r"probe (\w+) (-?\d+)", text))
    assert {name: int(codes[name]) for name in SYSTEM_ONLY} == dict.fromkeys(SYSTEM_ONLY, PERM_ERROR)
    assert int(codes["own_status"]) == 0  # its own status is not privileged
    target = st["partitions"][1]
    assert (target["state"], target["reset_counter"]) == ("ready", 0)  # nothing reached partition 1
    assert st["reset_counter"] == 0 and st["state"] == "paused"
    assert console_log(system.run_dir, 1).decode().splitlines() == [f"[1] slot {n}" for n in range(1, 11)]


def test_control_commands_without_the_token_are_refused(rel_system) -> None:
    system = rel_system(SYSTEM)
    system.run_until("4ms")
    token = (system.run_dir / "token").read_text()
    before = digest(memory_file(system.run_dir, 1))
    wrong = ["", "0" * len(token), token[:-1], token + "0", token.upper() if token.upper() != token else "x" + token]
    props = {"partition": 1, "plan": 0, "until_us": 10_000, "mode": "cold"}
    ctx = zmq.Context()
    sock = ctx.socket(zmq.DEALER)
    sock.setsockopt(zmq.LINGER, 0)
    sock.connect(f"ipc://{system.run_dir / 'ctl.sock'}")
    refused = 0
    try:
        for n, (name, bad) in enumerate((c, w) for c in sorted(COMMANDS) for w in wrong):
            sock.send(encode(make("request", id=n, cmd=name, props=props, token=bad)))
            assert sock.poll(20_000), "no reply"
            reply = decode(sock.recv())
            assert (reply["id"], reply["status"], reply["errno"]) == (n, "error", CtlErrno.UNAUTHORISED), name
            refused += 1
    finally:
        sock.close(0)
        ctx.term()
    st = system.status()
    assert st["control"]["unauthorised"] == refused == len(COMMANDS) * len(wrong)
    assert st["vtime_us"] == 4000 and st["state"] == "paused"  # not moved by a refused run_until
    assert [p["state"] for p in st["partitions"]] == ["ready", "ready"]
    assert digest(memory_file(system.run_dir, 1)) == before
    audit = (system.run_dir / "audit.log").read_text().splitlines()
    assert sum('"errno": 102' in line for line in audit) == refused  # each refusal is audited


def test_client_with_a_wrong_token_is_unauthorised(rel_system) -> None:
    """The Python client (and so prtosctl, exit code 4) gets Unauthorised, and nothing moves."""
    system = rel_system(SYSTEM)
    token = (system.run_dir / "token").read_text().strip()
    with Client(system.run_dir, token=token[::-1], timeout=20) as c:
        for call in (c.status, lambda: c.run_until(50_000), lambda: c.partition_halt(1), c.system_halt):
            with pytest.raises(Unauthorised):
                call()
    st = system.status()
    assert (st["vtime_us"], st["state"], st["control"]["unauthorised"]) == (0, "paused", 4)
    assert system.proc.poll() is None
