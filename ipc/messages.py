"""The wire messages between prtosd, partition processes and prtosctl.

Every message is a small msgpack map ``{"t": <type>, "v": <version>, ...fields}``. Each type is
declared once in :data:`MESSAGES` with the exact fields it carries and their ranges; a decoded
frame is accepted only if it has exactly the declared fields with valid values. A malformed
frame raises :class:`ProtocolError` — the receiver counts it and carries on; nothing a peer
sends can crash a daemon, and a name sent by a peer is never used to look anything up other
than in this fixed table.

Every grant and every forwarded hypercall passes through here twice on each side, so checking
is precompiled: per type, the set of allowed keys and one predicate per field that accepts the
common valid values in a single call; only a value the predicate declines gets the full check,
which either names the reason or accepts it (an ``IntEnum``, say). :func:`pack` builds,
validates and serializes a message with one validation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import msgpack

PROTOCOL_VERSION = 1
#: Upper bound of any frame, far above any legitimate message (port messages, console lines).
MAX_FRAME = 1 << 20
#: Upper bound of the audit records (hm.audit.EVENT) one message carries.
MAX_AUDIT = 512 * 1024
#: Largest guest-memory block in one ``mem_read``/``mem_write`` message.
MEM_CHUNK = 256 * 1024
#: Port credits (prtosd.credits): at most this many credited operations per grant or reply, and
#: this many message bytes in one ``inbox`` or ``sent`` field.
MAX_CREDIT_OPS = 1024
MAX_CREDIT_BYTES = 256 * 1024
#: The ``spin`` field of a ``result`` whose vCPU has no timer armed.
SPIN_NEVER = 1 << 62
U32 = (0, 0xFFFFFFFF)
S32 = (-0x80000000, 0x7FFFFFFF)
U64 = (0, 0xFFFFFFFFFFFFFFFF)
S64 = (-0x8000000000000000, 0x7FFFFFFFFFFFFFFF)


class ProtocolError(ValueError):
    """A frame that is not a valid message of this protocol version."""


_INT_ONLY = {int}


@dataclass(frozen=True, slots=True)
class Field:
    """One field: its Python type, and a numeric range or a maximum length."""

    kind: type
    range: tuple[int, int] | None = None
    max_len: int | None = None
    item: Field | None = None  # element type of a list
    optional: bool = False

    def check(self, name: str, value: Any) -> None:
        if self.kind is int:
            # bool is an int subclass in Python; a bool is never a valid integer field here. The
            # exact-type test is the fast path: every integer msgpack decodes is a plain int.
            if type(value) is not int and (not isinstance(value, int) or isinstance(value, bool)):
                raise ProtocolError(f"field {name!r}: expected an integer")
        elif not isinstance(value, self.kind):
            raise ProtocolError(f"field {name!r}: expected {self.kind.__name__}")
        if self.range is not None and not self.range[0] <= value <= self.range[1]:
            raise ProtocolError(f"field {name!r}: {value} out of range")
        if self.max_len is not None and len(value) > self.max_len:
            raise ProtocolError(f"field {name!r}: longer than {self.max_len}")
        if self.item is not None:
            for i, v in enumerate(value):
                self.item.check(f"{name}[{i}]", v)

    def quick(self) -> Callable[[Any], bool]:
        """A predicate that is True for the common valid values (exact types, in range).

        False means "look closer": :meth:`check` then raises with the precise reason, or accepts
        a value of a subclass (an IntEnum, say). Messages are validated on every send and
        receive of every grant, so the common case must cost one call per field.
        """
        kind, rng, max_len = self.kind, self.range, self.max_len
        if kind is int and rng is not None:
            lo, hi = rng
            return lambda v: type(v) is int and lo <= v <= hi
        if kind in (str, bytes) and max_len is not None and self.item is None:
            return lambda v: type(v) is kind and len(v) <= max_len
        if kind is list and max_len is not None and self.item is not None:
            if self.item.kind is int and self.item.range is not None:  # a list of ints: checked in C
                ilo, ihi = self.item.range
                return lambda v: (
                    type(v) is list
                    and len(v) <= max_len
                    and (not v or (set(map(type, v)) == _INT_ONLY and ilo <= min(v) and max(v) <= ihi))
                )
            item = self.item.quick()  # bytes, or lists of ints (port credits and their log)
            return lambda v: type(v) is list and len(v) <= max_len and all(map(item, v))
        return lambda v: False


def _int(lo_hi: tuple[int, int] = U32, optional: bool = False) -> Field:
    return Field(int, range=lo_hi, optional=optional)


def _str(max_len: int = 256, optional: bool = False) -> Field:
    return Field(str, max_len=max_len, optional=optional)


def _bytes(max_len: int = MAX_FRAME, optional: bool = False) -> Field:
    return Field(bytes, max_len=max_len, optional=optional)


def _list(item: Field, max_len: int, optional: bool = False) -> Field:
    return Field(list, max_len=max_len, item=item, optional=optional)


#: On ``run`` and ``hcall_ret`` (prtosd.credits): ``credits`` [port id, direction (0 source, 1
#: destination), max message length, operations, final (1: the channel is then full or empty)]
#: per credited queuing port of the vCPU's partition; ``inbox`` the messages a destination
#: credit hands over, in credit order.
_CREDIT_FIELDS = {
    "credits": _list(_list(_int(), 5), 64, optional=True),
    "inbox": _list(_bytes(MAX_CREDIT_BYTES), MAX_CREDIT_OPS, optional=True),
}
#: On ``hcall``, ``fault`` and ``result``: the port operations the partition process completed
#: on credit since its previous message, [virtual µs, nr, 4 argument words, result] each, and
#: the bytes of each credited send, in order.
_LOG_FIELDS = {
    "ops": _list(_list(_int(S64), 7), 2 * MAX_CREDIT_OPS, optional=True),
    "sent": _list(_bytes(MAX_CREDIT_BYTES), MAX_CREDIT_OPS, optional=True),
}

#: Every message type and its fields. Adding a message means adding one entry here.
MESSAGES: dict[str, dict[str, Field]] = {
    # partition process → prtosd: first message on a connection.
    "hello": {"partition": _int((0, 254)), "vcpu": _int((0, 3)), "pid": _int(), "token": _str(128)},
    # prtosd → partition process: execute from virtual µs ``now`` until ``until`` at the latest.
    # ``ext_irqs`` are ext IRQ bits raised since the last grant; ``slot`` (index, id, duration)
    # is present when the grant starts a slot (cyclic_sched_info).
    "run": {
        "seq": _int(U64),
        "now": _int(S64),
        "until": _int(S64),
        "ext_irqs": _int(),
        "slot": _list(_int(), 3, optional=True),
        **_CREDIT_FIELDS,
    },
    # partition process → prtosd: the grant ended (reason: budget, idle, stopped, halted).
    # ``audit`` (on result, hcall and fault): hypervisor audit events the vCPU produced since its
    # previous message (hm.audit.EVENT records), when the configuration selects their modules.
    "result": {
        "seq": _int(U64),
        "reason": _str(16),
        "now": _int(S64),
        "instructions": _int(U64),
        "audit": _bytes(MAX_AUDIT, optional=True),
        # A grant that ended inside a proven spin loop: the virtual µs of the vCPU's next timer
        # (SPIN_NEVER: none armed). prtosd.supervisor may then give longer grants.
        "spin": _int((0, SPIN_NEVER), optional=True),
        **_LOG_FIELDS,
    },
    # partition process → prtosd: a hypercall that needs global state, at virtual µs ``now``.
    "hcall": {
        "seq": _int(U64),
        "now": _int(S64),
        "nr": _int((0, 255)),
        "args": _list(_int(), 5),
        "audit": _bytes(MAX_AUDIT, optional=True),
        **_LOG_FIELDS,
    },
    # partition process → prtosd: more audit events than one message carries, ahead of the
    # result/hcall/fault that carries the rest.
    "audit": {"seq": _int(U64), "events": _bytes(MAX_AUDIT)},
    # partition process → prtosd: a CPU exception (HM event) at virtual µs ``now``.
    "fault": {
        "seq": _int(U64),
        "now": _int(S64),
        "event": _int((0, 25)),
        "trap": _int((-1, 31)),
        "pc": _int(),
        "eflags": _int(),
        "error_code": _int(),
        "cr2": _int(optional=True),
        "audit": _bytes(MAX_AUDIT, optional=True),
        **_LOG_FIELDS,
    },
    # prtosd → partition process: answer to an hcall or a fault. ``ret`` absent: nothing is
    # written back (the vCPU was reset meanwhile); ``cont`` 0: the grant ends now;
    # ``trap`` [n, error_code]: propagate that trap to the guest (HM PROPAGATE); ``ext_irqs``:
    # ext IRQs the call raised on the caller itself.
    "hcall_ret": {
        "seq": _int(U64),
        "ret": _int(S32, optional=True),
        "cont": _int((0, 1)),
        "trap": _list(_int(), 2, optional=True),
        "ext_irqs": _int(optional=True),
        **_CREDIT_FIELDS,
    },
    # partition process → prtosd: a console write (one BAIL line) at virtual µs ``now``;
    # ``hyp`` 1: a message of the hypervisor (e.g. an unknown hypercall) for its console.
    "console": {"now": _int(S64), "data": _bytes(64 * 1024), "hyp": _int((0, 1), optional=True)},
    # prtosd → partition process: restart the vCPU at ``entry`` (the image is already in memory).
    # ``system`` 1: part of a system reset — the EXEC clock restarts at 0 too.
    "reset": {
        "mode": _int((0, 2)),
        "status": _int(),
        "entry": _int(),
        "cr3": _int(),
        "system": _int((0, 1), optional=True),
    },
    # prtosd → partition process: the vCPU is halted (stop timers; nothing runs until a reset).
    "halt": {},
    "quit": {},
    # Remote partitions (docs/distributed.md). prtosd → a remote partition process after its
    # hello: the checked model as JSON (the remote host has no system.xml), or why it is refused.
    "welcome": {"config": _str(MAX_FRAME - 4096)},
    "refused": {"reason": _str(512)},
    # prtosd → remote partition process: guest memory access for hypercall buffers and image
    # loading (no permission check, like AddressSpace.read/write); ``mem_data`` answers ``mem_read``.
    "mem_read": {"id": _int(U64), "addr": _int(), "len": _int((0, MEM_CHUNK))},
    "mem_data": {"id": _int(U64), "data": _bytes(MEM_CHUNK), "ok": _int((0, 1))},
    "mem_write": {"addr": _int(), "data": _bytes(MEM_CHUNK)},
    # prtosd → remote partition process: nothing to do (a link probe; ignored by the receiver).
    "ping": {},
    # prtosctl → prtosd and back.
    "request": {"id": _int(U64), "cmd": _str(64), "props": Field(dict), "token": _str(128)},
    "reply": {
        "id": _int(U64),
        "status": _str(16),
        "errno": _int(S32),
        "reason": _str(4096),
        "data": Field(dict, optional=True),
    },
}


#: Per type: the keys a message may carry, and its fields in declaration order. Built once, so
#: that checking a message costs one set comparison and one check per field (this runs for every
#: message of every grant, on both sides).
_SPECS: dict[str, tuple[frozenset[str], tuple[tuple[str, Field, Callable[[Any], bool]], ...]]] = {
    t: (frozenset(spec) | {"t", "v"}, tuple((name, f, f.quick()) for name, f in spec.items()))
    for t, spec in MESSAGES.items()
}
_ABSENT = object()


def validate(msg: Any) -> dict[str, Any]:
    """Check a decoded object against :data:`MESSAGES`; return it or raise ProtocolError."""
    if not isinstance(msg, dict):
        raise ProtocolError("a message must be a map")
    t, v = msg.get("t"), msg.get("v")
    spec = _SPECS.get(t) if isinstance(t, str) else None
    if spec is None:
        raise ProtocolError(f"unknown message type {t!r}"[:120])
    if v != PROTOCOL_VERSION or type(v) is not int:
        raise ProtocolError(f"unsupported protocol version {v!r}"[:120])
    allowed, fields = spec
    if not allowed.issuperset(msg):
        extra = set(msg) - allowed
        raise ProtocolError(f"{t}: unexpected field(s) {sorted(map(str, extra))}"[:200])
    for name, field, quick in fields:
        value = msg.get(name, _ABSENT)
        if value is _ABSENT:
            if not field.optional:
                raise ProtocolError(f"{t}: missing field {name!r}")
        elif not quick(value):
            field.check(name, value)
    return msg


def make(t: str, **fields: Any) -> dict[str, Any]:
    """Build a message of type ``t`` (validated, so our own bugs surface at the sender)."""
    return validate({"t": t, "v": PROTOCOL_VERSION, **fields})


def encode(msg: dict[str, Any]) -> bytes:
    """Serialize a message (validated first)."""
    return msgpack.packb(validate(msg), use_bin_type=True)


def pack(t: str, **fields: Any) -> bytes:
    """Build and serialize a message of type ``t``: ``encode(make(t, ...))`` with one validation."""
    return msgpack.packb(validate({"t": t, "v": PROTOCOL_VERSION, **fields}), use_bin_type=True)


_PACKER = msgpack.Packer(use_bin_type=True)


def pack_unchecked(msg: dict[str, Any]) -> bytes:
    """Serialize a message the sender built on its hot path, without validating it.

    Only for ``run`` (prtosd) and ``result`` (partition process), one per slot switch each: they
    are built from integers of known ranges, the receiver validates every message anyway, and the
    check at the sender cost more than the packing itself.
    """
    return _PACKER.pack(msg)


def decode(frame: bytes) -> dict[str, Any]:
    """Parse and validate one frame; raises ProtocolError for anything malformed."""
    if len(frame) > MAX_FRAME:
        raise ProtocolError("frame too large")
    try:
        obj = msgpack.unpackb(
            frame,
            raw=False,
            strict_map_key=True,
            max_array_len=4096,
            max_map_len=64,
        )
    except Exception as exc:  # msgpack raises several unrelated exception types for bad input
        raise ProtocolError(f"undecodable frame: {type(exc).__name__}") from None
    return validate(obj)
