"""Hostile peers on the daemon's sockets: random, truncated and oversized frames.

Anyone who can reach ``vcpu.sock`` or ``ctl.sock`` (the run directory is 0700, but a bug or a
compromised partition process could) must not be able to stop the daemon or change the run:
every bad frame is refused and counted, and the guests print exactly what they print in an
undisturbed run.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import threading
from pathlib import Path

import msgpack
import pytest
import zmq
from relsupport import console_log, rel_xml

from ipc.messages import MAX_FRAME, decode, encode, make

SYSTEM = rel_xml(
    [{"name": "Busy", "source": "relbusy.c"}, {"name": "Count", "source": "relcount.c"}],
    [(0, 1, 0), (1, 1, 1)],
    2,
    name="frames",
)
#: Frames per endpoint: the normal run and the ``soak`` run.
NORMAL_FRAMES = 10_000
SOAK_FRAMES = 100_000
#: Frames larger than MAX_FRAME (a few only: each is over a megabyte).
OVERSIZED = 8


def _valid_templates(token: str) -> list[bytes]:
    """Well-formed messages of the protocol, to truncate and corrupt (so the decoder gets deep).

    ``token`` is a wrong token of the right length: a flipped byte must never make a request that
    the daemon would carry out, or the flood would legitimately change the run.
    """
    return [
        encode(make("hello", partition=0, vcpu=0, pid=1, token=token)),
        encode(make("request", id=1, cmd="status", props={}, token=token)),
        encode(make("request", id=2, cmd="partition_halt", props={"partition": 1}, token=token)),
        msgpack.packb({"t": "hcall", "v": 1, "seq": 1, "now": 5, "nr": 9, "args": [0, 1]}),
        msgpack.packb({"t": "result", "v": 1, "seq": 1, "now": 5, "reason": "idle", "instructions": 3}),
        msgpack.packb({"t": "console", "v": 1, "now": 1, "data": b"x" * 100}),
    ]


def random_frame(rng: random.Random, templates: list[bytes]) -> list[bytes]:
    """One hostile message (one or more frames), never a valid authorised request."""
    kind = rng.randrange(8)
    if kind == 0:
        return [rng.randbytes(rng.randrange(0, 64))]
    if kind == 1:
        t = rng.choice(templates)
        return [t[: rng.randrange(len(t))]]
    if kind == 2:
        t = bytearray(rng.choice(templates))
        for _ in range(rng.randint(1, 4)):
            t[rng.randrange(len(t))] = rng.randrange(256)
        return [bytes(t)]
    if kind == 3:
        return [rng.randbytes(rng.randrange(1, 16)) for _ in range(rng.randint(0, 4))] or [b""]
    if kind == 4:  # deep or wide msgpack structures
        obj: object = rng.randrange(2**63)
        for _ in range(rng.randrange(1, 200)):
            obj = [obj] if rng.random() < 0.5 else {"t": obj}
        return [msgpack.packb(obj)]
    if kind == 5:
        return [msgpack.packb({"t": rng.choice(["request", "hello", "run", "hcall", "reply"]), "v": rng.randrange(3),
                               "id": rng.randrange(-5, 2**64) if rng.random() < 0.3 else 1, "cmd": "status",
                               "props": {}, "token": rng.choice(["", "x" * 100, "\u00e9"])})]  # fmt: skip
    if kind == 6:
        return [b"\x00" * rng.choice([0, 1, 65536, 300_000])]
    return [msgpack.packb(rng.randbytes(rng.randrange(1000, 100_000)))]


class Flood:
    """Sends hostile messages to one endpoint from a thread, while the test drives the run."""

    def __init__(self, ctx: zmq.Context, endpoint: str, frames: list[list[bytes]], drain_replies: bool):
        self.sock = ctx.socket(zmq.DEALER)
        self.sock.setsockopt(zmq.LINGER, 0)
        self.sock.setsockopt(zmq.SNDHWM, 0)  # queue everything: none of the flood may be lost on our side
        self.sock.setsockopt(zmq.RCVHWM, 0)
        self.sock.connect(endpoint)
        self.frames = frames
        self.drain = drain_replies
        self.replies: list[dict] = []
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._send, daemon=True)

    def _send(self) -> None:
        for i, msg in enumerate(self.frames):
            self.sock.send_multipart(msg)
            if self.drain and i >= 64:  # a window, so replies never pile up in the daemon
                self._receive(5000)
        if self.drain:
            while len(self.replies) < len(self.frames) and self._receive(5000):
                pass
        self.done.set()

    def _receive(self, timeout_ms: int) -> bool:
        if not self.sock.poll(timeout_ms):
            return False
        self.replies.append(decode(self.sock.recv()))
        return True

    def close(self) -> None:
        self.thread.join(30)
        self.sock.close(0)


def _flood_run(rel_system, count: int, seed: int) -> None:
    rng = random.Random(seed)
    ref = rel_system(SYSTEM, tag="ref")
    ref.run_until("60ms")
    expected = [console_log(ref.run_dir, i) for i in (0, 1)]
    ref.stop()

    system = rel_system(SYSTEM, tag="fuzz")
    token = (system.run_dir / "token").read_text()
    templates = _valid_templates("0" * len(token))  # well-formed, but never the run's credentials
    vcpu_frames = [random_frame(rng, templates) for _ in range(count)]
    ctl_frames = [m for m in (random_frame(rng, templates) for _ in range(count)) if len(m) == 1]
    ctl_frames = [m for m in ctl_frames if len(m[0]) <= MAX_FRAME]
    big = [[b"\xde" * (MAX_FRAME + 1 + rng.randrange(4096))] for _ in range(OVERSIZED)]
    ctx = zmq.Context()
    floods = [
        Flood(ctx, f"ipc://{system.run_dir / 'vcpu.sock'}", [*vcpu_frames, *big], drain_replies=False),
        Flood(ctx, f"ipc://{system.run_dir / 'ctl.sock'}", ctl_frames, drain_replies=True),
        Flood(ctx, f"ipc://{system.run_dir / 'ctl.sock'}", big, drain_replies=False),  # dropped by ZeroMQ
    ]
    try:
        for f in floods:
            f.thread.start()
        # advance in small steps while the flood lasts: each step serves grants (vcpu.sock) and requests
        t = 0
        st = system.status()
        while t < 60_000:
            t += 500
            st = system.run_until(t)
        vcpu_sent = len(vcpu_frames) + OVERSIZED
        while not all(f.done.is_set() for f in floods[:2]) or st["rejected_vcpu_messages"] < vcpu_sent:
            assert st["state"] in ("paused", "running"), st["state"]
            assert t < 60_000_000, f"flood not absorbed: {st['rejected_vcpu_messages']} of {vcpu_sent}"
            t += 500
            st = system.run_until(t)
        st = system.status()  # after the last reply: every request is counted by now
    finally:
        for f in floods:
            f.close()
        ctx.term()
    assert st["rejected_vcpu_messages"] == vcpu_sent  # every frame on vcpu.sock refused and counted
    ctl = st["control"]
    assert len(floods[1].replies) == len(ctl_frames)  # every request was answered ...
    assert all(r["status"] == "error" for r in floods[1].replies)  # ... with an error
    assert ctl["rejected"] >= len(ctl_frames)
    assert ctl["rejected"] == sum(1 for r in floods[1].replies if r["errno"] in (100, 101, 102))
    # the daemon is still in charge (prtosctl works), and the guests printed what they print in a quiet run
    res = subprocess.run(
        [sys.executable, "-m", "prtosd.ctl", "--run-dir", str(system.run_dir), "--timeout", "20", "status", "--json"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    shown = json.loads(res.stdout)
    assert shown["state"] == "paused"
    assert shown["rejected_vcpu_messages"] == vcpu_sent
    assert shown["control"]["rejected"] == ctl["rejected"]
    assert system.proc.poll() is None
    got = [console_log(system.run_dir, i) for i in (0, 1)]
    cut = [g[: len(e)] for g, e in zip(got, expected, strict=True)]
    assert cut == expected
    assert "Traceback" not in system.stderr()


def test_random_frames_on_both_endpoints_are_refused_and_counted(rel_system) -> None:
    _flood_run(rel_system, NORMAL_FRAMES, seed=82)


@pytest.mark.soak
def test_hundred_thousand_random_frames(rel_system) -> None:
    _flood_run(rel_system, SOAK_FRAMES, seed=8282)


def test_oversized_and_empty_messages_leave_status_working(rel_system, tmp_path: Path) -> None:
    """Frames at and around the size limit on the control socket, then an ordinary request.

    Frames up to MAX_FRAME reach the daemon and each gets an error reply. A larger one makes
    ZeroMQ itself drop the connection (MAXMSGSIZE), taking any reply still queued for that peer
    with it, so the two groups go over separate connections: the first is answered in full.
    """
    system = rel_system(SYSTEM)
    ctx = zmq.Context()
    endpoint = f"ipc://{system.run_dir / 'ctl.sock'}"
    within = (0, 1, MAX_FRAME - 1, MAX_FRAME)
    try:
        sock = ctx.socket(zmq.DEALER)
        sock.setsockopt(zmq.LINGER, 0)
        sock.connect(endpoint)
        for size in within:
            sock.send_multipart([b"\x91" * size])
        answered = 0
        while answered < len(within) and sock.poll(30_000):  # generous: a busy host may be slow
            reply = decode(sock.recv())
            assert reply["status"] == "error"
            assert "malformed request" in reply["reason"]
            answered += 1
        sock.close(0)
        assert answered == len(within)
        over = ctx.socket(zmq.DEALER)
        over.setsockopt(zmq.LINGER, 0)
        over.connect(endpoint)
        for size in (MAX_FRAME + 1, 4 * MAX_FRAME):
            over.send_multipart([b"\x91" * size])
        over.close(0)
    finally:
        ctx.term()
    st = system.run_until("5ms")
    assert st["vtime_us"] == 5000
    assert st["control"]["rejected"] == len(within)
