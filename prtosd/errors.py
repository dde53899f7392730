"""PRTOS hypercall return codes (partition-api.md §5).

Rationale: every kernel operation of the supervisor answers a partition with one of these values,
and the values are guest-visible (a program prints them, example.007 shows ``-1``). Keeping them in
one small enum with the upstream names lets the scheduler, the partition state machine and the
object handlers return the same type, while ``int(code)`` is what goes back into the guest's EAX.
"""

from __future__ import annotations

from enum import IntEnum


class PrtosError(IntEnum):
    """``PRTOS_*`` result codes; success is ``OK`` (0), every error is negative."""

    OK = 0
    NO_ACTION = -1
    UNKNOWN_HYPERCALL = -2
    INVALID_PARAM = -3
    PERM_ERROR = -4
    INVALID_CONFIG = -5
    INVALID_MODE = -6  # defined upstream, returned by no call
    OP_NOT_ALLOWED = -7
    MULTICALL_ERROR = -8


__all__ = ["PrtosError"]
