"""Hypercalls served by the supervisor (the ones that touch global state), in one fixed table.

The partition process forwards a call here with its raw argument words; each handler checks
its arguments in the order partition-api.md gives, reads and writes guest buffers through the
partition's shared memory (the caller is blocked meanwhile), and returns an
:class:`~prtosd.partition.Outcome`. Numbers map to handlers only through :data:`HYPERCALLS`;
nothing a guest sends is used as a name. Object calls (11-14) go through the object directory
in :mod:`prtosd.objdir`.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import TYPE_CHECKING

from prtosd.errors import PrtosError
from prtosd.ipvi import raise_ipvi, raise_partition_ipvi
from prtosd.partition import Outcome, ResetMode

if TYPE_CHECKING:
    from partitiond.memory import AddressSpace
    from prtosd.supervisor import Supervisor, VcpuKey

Handler = Callable[["Supervisor", "VcpuKey", list[int], int], Outcome]
NAME_LEN = 16


def read_name(mem: AddressSpace, addr: int) -> bytes:
    """A NUL-terminated guest name, of which at most 16 characters are significant (§1.2)."""
    out = bytearray()
    while len(out) < NAME_LEN:
        b = mem.read(addr + len(out), 1)
        if b == b"\0":
            break
        out += b
    return bytes(out)


def _code(code: int) -> Outcome:
    return Outcome(PrtosError(code))


def halt_partition(sup: Supervisor, key: VcpuKey, a: list[int], now: int) -> Outcome:
    return sup.table.halt_partition(key, a[0])


def suspend_partition(sup: Supervisor, key: VcpuKey, a: list[int], now: int) -> Outcome:
    return sup.table.suspend_partition(key, a[0])


def resume_partition(sup: Supervisor, key: VcpuKey, a: list[int], now: int) -> Outcome:
    return sup.table.resume_partition(key, a[0])


def reset_partition(sup: Supervisor, key: VcpuKey, a: list[int], now: int) -> Outcome:
    return sup.table.reset_partition(key, a[0], a[1], a[2])


def shutdown_partition(sup: Supervisor, key: VcpuKey, a: list[int], now: int) -> Outcome:
    return sup.table.shutdown_partition(key, a[0])


def halt_system(sup: Supervisor, key: VcpuKey, a: list[int], now: int) -> Outcome:
    err = sup.table.check_system_call(key)
    if err is not PrtosError.OK:
        return Outcome(err)
    sup.halt_system(now)
    return Outcome(PrtosError.OK, returns=False)


def reset_system(sup: Supervisor, key: VcpuKey, a: list[int], now: int) -> Outcome:
    err = sup.table.check_system_call(key)
    if err is not PrtosError.OK:
        return Outcome(err)
    if a[0] not in (ResetMode.COLD, ResetMode.WARM):
        return Outcome(PrtosError.INVALID_PARAM)
    sup.reset_system(ResetMode(a[0]), 0, now)
    return Outcome(PrtosError.OK, returns=False)


def switch_sched_plan(sup: Supervisor, key: VcpuKey, a: list[int], now: int) -> Outcome:
    cpu = sup.system.cpu_of(*key)
    assert cpu is not None
    mem = sup.memory[key[0]]
    ok = mem.check(a[1], 4, write=True)
    code, current = sup.sched.switch_sched_plan(
        cpu, a[0], caller_is_system=sup.table[key[0]].is_system, now=now, buffer_ok=ok
    )
    if code is PrtosError.OK and current is not None:
        mem.write(a[1], struct.pack("<i", current))
    return Outcome(code)


def get_gid_by_name(sup: Supervisor, key: VcpuKey, a: list[int], now: int) -> Outcome:
    mem = sup.memory[key[0]]
    if not mem.check_string(a[0], NAME_LEN):
        return _code(PrtosError.INVALID_PARAM)
    raw = read_name(mem, a[0])
    if a[1] == 0:  # PRTOS_PARTITION_NAME
        names = [(p.id, p.name) for p in sup.system.partitions]
    elif a[1] == 1:  # PRTOS_PLAN_NAME: CPU 0's plans, then CPU 1's, ...
        names = [(pl.id, pl.name) for cpu in sup.system.processors for pl in cpu.plans]
    else:
        return _code(PrtosError.INVALID_PARAM)
    for gid, name in names:
        if name and name.encode()[:NAME_LEN] == raw:
            return Outcome(PrtosError.OK, value=gid)
    return _code(PrtosError.INVALID_CONFIG)


def reset_vcpu(sup: Supervisor, key: VcpuKey, a: list[int], now: int) -> Outcome:
    return sup.table.reset_vcpu(key, a[0], a[1], a[2], a[3])


def halt_vcpu(sup: Supervisor, key: VcpuKey, a: list[int], now: int) -> Outcome:
    return sup.table.halt_vcpu(key, a[0])


def suspend_vcpu(sup: Supervisor, key: VcpuKey, a: list[int], now: int) -> Outcome:
    return sup.table.suspend_vcpu(key, a[0])


def resume_vcpu(sup: Supervisor, key: VcpuKey, a: list[int], now: int) -> Outcome:
    return sup.table.resume_vcpu(key, a[0])


def read_object(sup: Supervisor, key: VcpuKey, a: list[int], now: int) -> Outcome:
    from prtosd.objdir import object_call

    return object_call(sup, key, "read", a, now)


def write_object(sup: Supervisor, key: VcpuKey, a: list[int], now: int) -> Outcome:
    from prtosd.objdir import object_call

    return object_call(sup, key, "write", a, now)


def seek_object(sup: Supervisor, key: VcpuKey, a: list[int], now: int) -> Outcome:
    from prtosd.objdir import object_call

    return object_call(sup, key, "seek", a, now)


def ctrl_object(sup: Supervisor, key: VcpuKey, a: list[int], now: int) -> Outcome:
    from prtosd.objdir import object_call

    return object_call(sup, key, "ctrl", a, now)


#: Hypercall number → handler (partition-api.md §6.1). Local calls never reach this table.
HYPERCALLS: dict[int, Handler] = {
    1: halt_partition,
    2: suspend_partition,
    3: resume_partition,
    4: reset_partition,
    5: shutdown_partition,
    6: halt_system,
    7: reset_system,
    11: read_object,
    12: write_object,
    13: seek_object,
    14: ctrl_object,
    23: raise_ipvi,
    24: raise_partition_ipvi,
    26: switch_sched_plan,
    27: get_gid_by_name,
    28: reset_vcpu,
    29: halt_vcpu,
    30: suspend_vcpu,
    31: resume_vcpu,
}
