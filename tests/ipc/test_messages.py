"""The wire messages: valid ones round-trip, anything malformed is a ProtocolError and nothing else."""

from __future__ import annotations

import contextlib
import enum

import msgpack
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ipc.messages import (
    MAX_FRAME,
    MEM_CHUNK,
    MESSAGES,
    PROTOCOL_VERSION,
    ProtocolError,
    decode,
    encode,
    make,
    pack,
)

SAMPLES = {
    "hello": {"partition": 3, "vcpu": 1, "pid": 1234, "token": "abc"},
    "run": {"seq": 7, "now": 1000, "until": 2000, "ext_irqs": 0x100, "slot": [0, 0, 1000]},
    "result": {"seq": 7, "reason": "budget", "now": 2000, "instructions": 10**9},
    "hcall": {"seq": 8, "now": 1500, "nr": 12, "args": [1, 2, 3, 4, 5], "audit": bytes(28)},
    "audit": {"seq": 8, "events": bytes(56)},
    "fault": {
        "seq": 9,
        "now": 1600,
        "event": 20,
        "trap": 14,
        "pc": 0x6000000,
        "eflags": 0x202,
        "error_code": 6,
        "cr2": 0,
    },
    "hcall_ret": {"seq": 8, "ret": -3, "cont": 1},
    "halt": {},
    "console": {"now": 5, "data": b"[0] Hello World!\n"},
    "reset": {"mode": 1, "status": 0, "entry": 0x6000000, "cr3": 0x6010000},
    "quit": {},
    "request": {"id": 1, "cmd": "status", "props": {}, "token": "t"},
    "reply": {"id": 1, "status": "ok", "errno": 0, "reason": "", "data": {"x": 1}},
    "welcome": {"config": '{"name": "demo"}'},
    "refused": {"reason": "partition 1 vCPU 0 is already connected"},
    "mem_read": {"id": 3, "addr": 0x6100000, "len": 16},
    "mem_data": {"id": 3, "data": b"\0" * 16, "ok": 1},
    "mem_write": {"addr": 0x6100000, "data": b"abc"},
    "ping": {},
}


def test_every_message_type_has_a_sample() -> None:
    assert set(SAMPLES) == set(MESSAGES)


@pytest.mark.parametrize("t", sorted(SAMPLES))
def test_round_trip(t: str) -> None:
    msg = make(t, **SAMPLES[t])
    assert decode(encode(msg)) == msg


@pytest.mark.parametrize("t", sorted(SAMPLES))
def test_pack_is_encode_of_make(t: str) -> None:
    assert pack(t, **SAMPLES[t]) == encode(make(t, **SAMPLES[t]))


class _Nr(enum.IntEnum):
    TWELVE = 12


def test_values_the_quick_checks_pass_on_to_the_full_check() -> None:
    """Int subclasses are integers (accepted); bools, floats and bad list items are not."""
    assert decode(pack("hcall", seq=1, now=0, nr=_Nr.TWELVE, args=[_Nr.TWELVE]))["nr"] == 12
    with pytest.raises(ProtocolError, match="expected an integer"):
        make("hcall", seq=1, now=0, nr=1.0, args=[])
    with pytest.raises(ProtocolError, match=r"'args\[1\]': expected an integer"):
        make("hcall", seq=1, now=0, nr=1, args=[1, False])
    with pytest.raises(ProtocolError, match=r"'args\[0\]': 4294967296 out of range"):
        make("hcall", seq=1, now=0, nr=1, args=[2**32])
    with pytest.raises(ProtocolError, match="longer than 16"):
        make("result", seq=1, reason="x" * 17, now=0, instructions=0)
    with pytest.raises(ProtocolError, match="unsupported protocol version"):
        decode(_frame({"t": "quit", "v": True}))


def _frame(obj: object) -> bytes:
    return msgpack.packb(obj, use_bin_type=True)


@pytest.mark.parametrize(
    ("obj", "why"),
    [
        ([1, 2], "must be a map"),
        ({"t": "nope", "v": PROTOCOL_VERSION}, "unknown message type"),
        ({"t": "quit", "v": 99}, "unsupported protocol version"),
        ({"t": "quit", "v": PROTOCOL_VERSION, "x": 1}, "unexpected field"),
        ({"t": "hcall_ret", "v": PROTOCOL_VERSION, "seq": 1}, "missing field 'cont'"),
        ({"t": "hcall_ret", "v": PROTOCOL_VERSION, "seq": 1, "cont": 1, "ret": True}, "expected an integer"),
        ({"t": "hcall_ret", "v": PROTOCOL_VERSION, "seq": -1, "cont": 0}, "out of range"),
        ({"t": "hello", "v": PROTOCOL_VERSION, "partition": 0, "vcpu": 9, "pid": 1, "token": ""}, "out of range"),
        ({"t": "hcall", "v": PROTOCOL_VERSION, "seq": 1, "now": 0, "nr": 1, "args": [1] * 6}, "longer than 5"),
        ({"t": "hcall", "v": PROTOCOL_VERSION, "seq": 1, "now": 0, "nr": 1, "args": ["x"]}, r"args\[0\]"),
        ({"t": "console", "v": PROTOCOL_VERSION, "now": 0, "data": "text"}, "expected bytes"),
        ({"t": "mem_read", "v": PROTOCOL_VERSION, "id": 1, "addr": 0, "len": MEM_CHUNK + 1}, "out of range"),
        ({"t": "mem_write", "v": PROTOCOL_VERSION, "addr": 0, "data": b"x" * (MEM_CHUNK + 1)}, "longer than"),
    ],
)
def test_malformed_messages_are_rejected(obj: object, why: str) -> None:
    with pytest.raises(ProtocolError, match=why):
        decode(_frame(obj))


def test_undecodable_and_oversized_frames() -> None:
    with pytest.raises(ProtocolError, match="undecodable"):
        decode(b"\xc1")
    with pytest.raises(ProtocolError, match="too large"):
        decode(b"\x00" * (MAX_FRAME + 1))
    with pytest.raises(ProtocolError):
        decode(_frame({"t": "quit", "v": PROTOCOL_VERSION})[:-1] + b"\xff\xff")


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=256))
def test_random_bytes_never_raise_anything_but_protocol_error(frame: bytes) -> None:
    with contextlib.suppress(ProtocolError):
        decode(frame)


_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**63), 2**64 - 1), st.text(max_size=8), st.binary(max_size=8)
)


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(sorted(MESSAGES)),
    st.dictionaries(st.text(max_size=10), st.recursive(_scalars, lambda c: st.lists(c, max_size=3), max_leaves=5)),
)
def test_random_maps_of_known_types(t: str, fields: dict) -> None:
    with contextlib.suppress(ProtocolError):
        decode(_frame({"t": t, "v": PROTOCOL_VERSION, **fields}))


def test_port_credit_fields() -> None:
    """``credits``/``inbox`` on run and hcall_ret, ``ops``/``sent`` on hcall, fault and result (prtosd.credits)."""
    run = {**SAMPLES["run"], "credits": [[0, 0, 32, 63, 1], [1, 1, 32, 2, 0]], "inbox": [b"a" * 32, b"b"]}
    assert decode(pack("run", **run)) == {"t": "run", "v": PROTOCOL_VERSION, **run}
    ret = {**SAMPLES["hcall_ret"], "credits": [[0, 0, 32, 1, 0]]}
    assert decode(pack("hcall_ret", **ret))["credits"] == [[0, 0, 32, 1, 0]]
    log = {"ops": [[1500, 12, 0x4000000, 0x6000100, 32, 0, 0]], "sent": [b"x" * 32]}
    for t in ("hcall", "fault", "result"):
        assert decode(pack(t, **SAMPLES[t], **log))["ops"] == log["ops"]
    for bad in ({"credits": [[0, 0, "32", 1, 0]]}, {"inbox": ["text"]}, {"credits": [[0, 0, 32, 1, 5, 0]]}):
        with pytest.raises(ProtocolError):
            make("run", **SAMPLES["run"], **bad)
    with pytest.raises(ProtocolError):
        make("result", **SAMPLES["result"], ops=[[1, 2]], sent=[1])
