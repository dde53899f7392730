"""Inter-partition virtual interrupts: hypercalls 23 (prtos_raise_ipvi) and 24 (prtos_raise_partition_ipvi).

Rationale
---------
An IPVI carries no data; it only makes ext IRQ 24+k pending in the partitions the configuration
names for (k, caller) (semantics.md §7, D-03, D-04). The routes are a pure function of the
configuration, so they are computed once per call from ``System.ipvi_routes`` and nothing a guest
says can widen them. The two calls differ in their return codes (partition-api.md §6.4):
"already pending" matters, so this module looks at both places where an ext IRQ can be pending
for a vCPU — the supervisor's not-yet-delivered bits and the vCPU's PCT ``ext_irqs_pend`` word —
and raises only on vCPUs that lack it, so a coalesced raise (K-04) is not counted as a new
virtual interrupt. A halted vCPU cannot receive anything and is left out of both the raise and
the "already pending everywhere" test.
"""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING

from partitiond.pct import PCT_ADDR, part_ctrl_table_size
from prtosd.errors import PrtosError
from prtosd.partition import Outcome

if TYPE_CHECKING:
    from prtosd.supervisor import Supervisor, VcpuKey

#: PRTOS_VT_EXT_IPVI0 .. PRTOS_VT_EXT_IPVI7.
EXT_IPVI0 = 24
MAX_IPVI = 8
#: Offset of ``ext_irqs_pend`` in the PCT (partition-api.md §11.1).
PCT_EXT_IRQS_PEND = 88


def _is_pending(sup: Supervisor, key: VcpuKey, n: int) -> bool:
    """Whether ext IRQ ``n`` is pending on ``key``: queued in the supervisor or set in its PCT."""
    if sup.pending_ext.get(key, 0) >> n & 1:
        return True
    part = sup.system.partitions[key[0]]
    addr = PCT_ADDR + key[1] * part_ctrl_table_size(part) + PCT_EXT_IRQS_PEND
    (pend,) = struct.unpack("<I", sup.memory[key[0]].read(addr, 4))
    return bool(pend >> n & 1)


def _receivers(sup: Supervisor, pid: int) -> list[VcpuKey]:
    """The vCPUs of ``pid`` that can receive an interrupt (not halted)."""
    return [(pid, v.vcpu) for v in sup.table[pid].vcpus if not v.halted]


def _raise_missing(sup: Supervisor, pid: int, n: int) -> None:
    for key in _receivers(sup, pid):
        if not _is_pending(sup, key, n):
            sup.raise_ext(key, n)


def _destinations(sup: Supervisor, source: int, n: int) -> tuple[int, ...]:
    return sup.system.ipvi_routes().get((n - EXT_IPVI0, source), ())


def _ipvi_number(word: int) -> int | None:
    """The ext IRQ number from a ``prtos_u8_t`` argument word, or None outside 24..31."""
    n = word & 0xFF
    return n if EXT_IPVI0 <= n < EXT_IPVI0 + MAX_IPVI else None


def raise_ipvi(sup: Supervisor, key: VcpuKey, a: list[int], now: int) -> Outcome:
    """Hypercall 23: raise IPVI ``n`` (24..31) on every configured destination of the caller."""
    n = _ipvi_number(a[0])
    if n is None:
        return Outcome(PrtosError.INVALID_PARAM)
    dests = _destinations(sup, key[0], n)
    if not dests:
        return Outcome(PrtosError.NO_ACTION)
    for pid in dests:
        _raise_missing(sup, pid, n)
    return Outcome(PrtosError.OK)


def raise_partition_ipvi(sup: Supervisor, key: VcpuKey, a: list[int], now: int) -> Outcome:
    """Hypercall 24: raise IPVI ``n`` on the one destination partition ``id`` (D-29)."""
    target = a[0]
    n = _ipvi_number(a[1])
    if n is None:
        return Outcome(PrtosError.INVALID_PARAM)
    dests = _destinations(sup, key[0], n)
    if not dests or target not in dests:
        return Outcome(PrtosError.INVALID_CONFIG)
    receivers = _receivers(sup, target)
    if receivers and all(_is_pending(sup, k, n) for k in receivers):
        return Outcome(PrtosError.NO_ACTION)
    _raise_missing(sup, target, n)
    return Outcome(PrtosError.OK)


__all__ = ["raise_ipvi", "raise_partition_ipvi"]
