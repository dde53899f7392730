"""The object directory: hypercalls 11-14 (read, write, seek, ctrl) routed by descriptor class.

A descriptor (partition-api.md §8.1) is decoded once into class, vCPU, partition and id; the
class selects one entry of :data:`CLASSES`, registered explicitly below, and the operation one
method of it. A class number >= 8 is PRTOS_INVALID_PARAM; an operation a class lacks is
PRTOS_OP_NOT_ALLOWED (§8.2).
"""

from __future__ import annotations

import functools
import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from hm.log import SEEK_CUR, SEEK_END, SEEK_SET, LogStream
from hm.record import RECORD_SIZE
from prtosd.commports import (
    mem_ctrl_op,
    queuing_ctrl_op,
    queuing_read_op,
    queuing_write_op,
    sampling_ctrl_op,
    sampling_read_op,
    sampling_write_op,
)
from prtosd.errors import PrtosError
from prtosd.partition import Outcome

if TYPE_CHECKING:
    from prtosd.supervisor import Supervisor, VcpuKey

OBJ_NO_CLASSES = 8
HYPERVISOR_ID = 0xFF


@dataclass(frozen=True, slots=True)
class Descriptor:
    klass: int
    vcpu: int
    partition: int
    id: int

    @classmethod
    def decode(cls, d: int) -> Descriptor:
        return _decode(d)


@functools.lru_cache(maxsize=1024)  # a partition uses a few descriptors, once per port call each
def _decode(d: int) -> Descriptor:
    return Descriptor((d >> 24) & 0x7F, (d >> 20) & 0xF, (d >> 10) & 0x3FF, d & 0x3FF)


Op = Callable[["Supervisor", "VcpuKey", Descriptor, list[int], int], Outcome]


def _err(code: PrtosError) -> Outcome:
    return Outcome(code)


# -- HM (class 6, §8.7) ---------------------------------------------------------------------------


def _hm_checks(sup: Supervisor, key: VcpuKey, desc: Descriptor) -> PrtosError | None:
    if desc.partition != HYPERVISOR_ID:
        return PrtosError.INVALID_PARAM
    if not sup.table[key[0]].is_system:
        return PrtosError.PERM_ERROR
    return None


def _stream_ctrl(sup: Supervisor, key: VcpuKey, stream: LogStream, cmd: int, arg: int) -> Outcome:
    """The ctrl commands HM and trace streams share: GET_STATUS (0), LOCK (1), UNLOCK (2), RESET (3)."""
    if cmd == 0:
        mem = sup.memory[key[0]]
        if not mem.check(arg, 12, write=True):
            return _err(PrtosError.INVALID_PARAM)
        mem.write(arg, struct.pack("<iii", *stream.status()))
    elif cmd == 1:
        stream.lock()
    elif cmd == 2:
        stream.unlock()
    elif cmd == 3:
        stream.reset()
    else:
        return _err(PrtosError.INVALID_PARAM)
    return Outcome(PrtosError.OK)


def hm_read(sup: Supervisor, key: VcpuKey, desc: Descriptor, a: list[int], now: int) -> Outcome:
    if (err := _hm_checks(sup, key, desc)) is not None:
        return _err(err)
    buf, size = a[1], a[2]
    mem = sup.memory[key[0]]
    if not mem.check(buf, size, write=True) or size // RECORD_SIZE == 0:
        return _err(PrtosError.INVALID_PARAM)
    data = sup.hm.read(size // RECORD_SIZE)
    mem.write(buf, data)
    return Outcome(PrtosError.OK, value=len(data))


def hm_seek(sup: Supervisor, key: VcpuKey, desc: Descriptor, a: list[int], now: int) -> Outcome:
    if (err := _hm_checks(sup, key, desc)) is not None:
        return _err(err)
    if a[2] not in (SEEK_CUR, SEEK_SET, SEEK_END):
        return _err(PrtosError.INVALID_PARAM)
    sup.hm.stream.seek(struct.unpack("<i", struct.pack("<I", a[1]))[0], a[2])
    return Outcome(PrtosError.OK)  # K-09


def hm_ctrl(sup: Supervisor, key: VcpuKey, desc: Descriptor, a: list[int], now: int) -> Outcome:
    if (err := _hm_checks(sup, key, desc)) is not None:
        return _err(err)
    return _stream_ctrl(sup, key, sup.hm.stream, a[1], a[2])


# -- TRACE (class 2, §8.4; semantics.md §10) -----------------------------------------------------


def _trace_target(sup: Supervisor, key: VcpuKey, desc: Descriptor) -> PrtosError | None:
    """The common checks of read/seek/ctrl: own stream, or a system caller; an existing stream."""
    if desc.partition != key[0] and not sup.table[key[0]].is_system:
        return PrtosError.PERM_ERROR
    if desc.partition != HYPERVISOR_ID and desc.partition >= len(sup.system.partitions):
        return PrtosError.INVALID_PARAM
    return None


def trace_read(sup: Supervisor, key: VcpuKey, desc: Descriptor, a: list[int], now: int) -> Outcome:
    buf, size = a[1], a[2]
    if desc.partition != key[0] and not sup.table[key[0]].is_system:
        return _err(PrtosError.PERM_ERROR)
    mem = sup.memory[key[0]]
    if size // RECORD_SIZE == 0 or not mem.check(buf, size, write=True):
        return _err(PrtosError.INVALID_PARAM)
    if desc.partition != HYPERVISOR_ID and desc.partition >= len(sup.system.partitions):
        return _err(PrtosError.INVALID_PARAM)
    stream = sup.trace.stream(desc.partition)
    data = bytearray()
    while len(data) // RECORD_SIZE < size // RECORD_SIZE and (rec := stream.read()) is not None:
        data += rec
    mem.write(buf, bytes(data))
    return Outcome(PrtosError.OK, value=len(data))


def trace_write(sup: Supervisor, key: VcpuKey, desc: Descriptor, a: list[int], now: int) -> Outcome:
    from hm.monitor import raise_partition_error

    buf, size, flags = a[1], a[2], a[3]
    if desc.partition != key[0]:
        return _err(PrtosError.PERM_ERROR)
    mem = sup.memory[key[0]]
    if size // RECORD_SIZE == 0 or not mem.check(buf, size, write=True) or not mem.check(flags, 4):
        return _err(PrtosError.INVALID_PARAM)
    (bitmask,) = struct.unpack("<I", mem.read(flags, 4))
    stored = 0
    returns = True
    for i in range(size // RECORD_SIZE):
        at = buf + i * RECORD_SIZE
        raw = mem.read(at, RECORD_SIZE)
        stamped, kept = sup.trace.write(key[0], key[1], bitmask, raw, now)
        if kept:
            mem.write(at, stamped.pack())  # K-10: the caller sees the stamped record
            stored += 1
        if sup.trace.is_unrecoverable(raw):
            returns = raise_partition_error(sup, key, now, stamped.payload).cont and returns
            if not returns:
                break
    return Outcome(PrtosError.OK, value=stored * RECORD_SIZE, returns=returns)


def trace_seek(sup: Supervisor, key: VcpuKey, desc: Descriptor, a: list[int], now: int) -> Outcome:
    if (err := _trace_target(sup, key, desc)) is not None:
        return _err(err)
    if a[2] not in (SEEK_CUR, SEEK_SET, SEEK_END):
        return _err(PrtosError.INVALID_PARAM)
    stream = sup.trace.stream(desc.partition)
    stream.seek(struct.unpack("<i", struct.pack("<I", a[1]))[0], a[2])
    return Outcome(PrtosError.OK, value=stream.status()[2])  # the new position (K-09)


def trace_ctrl(sup: Supervisor, key: VcpuKey, desc: Descriptor, a: list[int], now: int) -> Outcome:
    if (err := _trace_target(sup, key, desc)) is not None:
        return _err(err)
    return _stream_ctrl(sup, key, sup.trace.stream(desc.partition), a[1], a[2])


# -- STATUS (class 7, §8.8) -----------------------------------------------------------------------

_ARG_SIZE = {1: 20, 2: 4, 3: 8, 4: 8}


def status_ctrl(sup: Supervisor, key: VcpuKey, desc: Descriptor, a: list[int], now: int) -> Outcome:
    cmd, arg = a[1], a[2]
    p = desc.partition
    n = len(sup.system.partitions)
    mem = sup.memory[key[0]]
    size = (60 if p == HYPERVISOR_ID else 64) if cmd == 0 else _ARG_SIZE.get(cmd)
    if size is None:
        return _err(PrtosError.INVALID_PARAM)
    if not mem.check(arg, size, write=cmd != 2):
        return _err(PrtosError.INVALID_PARAM)
    if p != key[0] and not sup.table[key[0]].is_system:
        return _err(PrtosError.PERM_ERROR)
    if cmd == 0:  # PRTOS_GET_SYSTEM_STATUS / partition status
        if p == HYPERVISOR_ID:
            s = sup.table.system_status(sup.sched.current_maf)
            mem.write(arg, struct.pack("<I7Q", *s))
        elif p >= n:
            return _err(PrtosError.INVALID_PARAM)
        else:
            s = sup.table.partition_status(p, now)
            mem.write(arg, struct.pack("<IIQIIqQQQQ", *s))
    elif cmd == 1:  # PRTOS_GET_SCHED_PLAN_STATUS, for the caller's CPU
        cpu = sup.system.cpu_of(*key)
        assert cpu is not None
        ps = sup.sched.plan_status(cpu)
        mem.write(arg, struct.pack("<qiii", *ps))
    elif cmd == 2:  # PRTOS_SET_PARTITION_OPMODE
        if p == HYPERVISOR_ID or p >= n:
            return _err(PrtosError.INVALID_PARAM)
        (mode,) = struct.unpack("<i", mem.read(arg, 4))
        return Outcome(sup.table.set_partition_opmode(key, p, mode))
    elif cmd == 3:  # PRTOS_GET_PHYSPAGE_STATUS (D-25)
        if p >= n:
            return _err(PrtosError.INVALID_PARAM)
        (addr,) = struct.unpack("<I", mem.read(arg, 4))
        if not any(ar.start <= addr <= ar.end for ar in sup.system.partitions[p].areas):
            return _err(PrtosError.INVALID_PARAM)
        mem.write(arg + 4, struct.pack("<I", 0))
    elif cmd == 4:  # PRTOS_GET_VCPU_STATUS
        if p >= n or desc.vcpu >= sup.system.partitions[p].no_vcpus:
            return _err(PrtosError.INVALID_PARAM)
        state, op_mode = sup.table.vcpu_status((p, desc.vcpu))
        mem.write(arg, struct.pack("<II", state, op_mode))
    return Outcome(PrtosError.OK)


@dataclass(frozen=True, slots=True)
class ObjectClass:
    read: Op | None = None
    write: Op | None = None
    seek: Op | None = None
    ctrl: Op | None = None


#: Class number → operations. Classes whose objects are not served yet have no operations.
CLASSES: dict[int, ObjectClass] = {
    0: ObjectClass(),  # NULL
    1: ObjectClass(),  # CONSOLE: written by the partition process itself
    2: ObjectClass(read=trace_read, write=trace_write, seek=trace_seek, ctrl=trace_ctrl),
    3: ObjectClass(read=sampling_read_op, write=sampling_write_op, ctrl=sampling_ctrl_op),  # SAMPLING_PORT
    4: ObjectClass(read=queuing_read_op, write=queuing_write_op, ctrl=queuing_ctrl_op),  # QUEUING_PORT
    5: ObjectClass(ctrl=mem_ctrl_op),  # MEM
    6: ObjectClass(read=hm_read, seek=hm_seek, ctrl=hm_ctrl),
    7: ObjectClass(ctrl=status_ctrl),
}


def object_call(sup: Supervisor, key: VcpuKey, op: str, args: list[int], now: int) -> Outcome:
    desc = Descriptor.decode(args[0])
    if desc.klass >= OBJ_NO_CLASSES:
        return _err(PrtosError.INVALID_PARAM)
    fn: Op | None = getattr(CLASSES[desc.klass], op)  # ``op`` is one of our four names, never a guest's
    if fn is None:
        return _err(PrtosError.OP_NOT_ALLOWED)
    out = fn(sup, key, desc, args, now)
    obs = getattr(sup, "obs", None)  # absent on the stand-ins of unit tests
    if obs is not None and desc.klass in (3, 4) and op in ("read", "write"):  # port messages, for the timeline
        obs.port(key, desc.klass, desc.id, op, out.result, now)
    return out
