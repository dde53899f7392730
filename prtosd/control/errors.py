"""The one error table of the control plane, and how ``prtosctl`` turns errors into exit codes.

A reply carries ``errno`` and ``reason``. Codes of operations backed by a PRTOS kernel operation
(``NO_ACTION``, ``INVALID_PARAM``, ``INVALID_CONFIG``, ...) are the negative PRTOS codes of
:class:`prtosd.errors.PrtosError`, passed through unchanged, so a user who knows the hypercall
knows the answer. Errors of the control plane itself are positive and listed in :class:`CtlErrno`;
they never overlap the PRTOS range. A reason is a short sentence for a human, never a traceback.
"""

from __future__ import annotations

from enum import IntEnum

from prtosd.errors import PrtosError


class CtlErrno(IntEnum):
    """Control-plane error numbers (positive; PRTOS codes are the negative ones)."""

    OK = 0
    BAD_REQUEST = 100  # undecodable frame, wrong envelope, or invalid props
    UNKNOWN_COMMAND = 101
    UNAUTHORISED = 102  # missing or wrong run token
    NO_SUCH_PARTITION = 103
    NOT_SERVING = 104  # the command needs ``prtosd start --serve``
    INTERNAL = 105  # a bug in prtosd; the daemon keeps running


#: Default reasons, by errno (a command may give a more precise one).
REASONS: dict[int, str] = {
    CtlErrno.BAD_REQUEST: "malformed request",
    CtlErrno.UNKNOWN_COMMAND: "unknown command",
    CtlErrno.UNAUTHORISED: "unauthorised: wrong or missing run token",
    CtlErrno.NO_SUCH_PARTITION: "no such partition",
    CtlErrno.NOT_SERVING: "the system was not started with --serve",
    CtlErrno.INTERNAL: "internal error in prtosd (see its standard error)",
    PrtosError.NO_ACTION: "PRTOS_NO_ACTION: nothing to do",
    PrtosError.INVALID_PARAM: "PRTOS_INVALID_PARAM: invalid parameter",
    PrtosError.PERM_ERROR: "PRTOS_PERM_ERROR: not permitted",
    PrtosError.INVALID_CONFIG: "PRTOS_INVALID_CONFIG: not possible with this configuration",
    PrtosError.OP_NOT_ALLOWED: "PRTOS_OP_NOT_ALLOWED: operation not allowed",
}

#: ``prtosctl`` exit codes.
EXIT_OK = 0
EXIT_REFUSED = 1  # the daemon refused the command or reported an error
EXIT_USAGE = 2  # bad command line (click's own code for usage errors)
EXIT_NO_DAEMON = 3  # no running system found, or it does not answer
EXIT_UNAUTHORISED = 4  # the token is missing, unreadable or wrong


class CommandError(Exception):
    """Raised by a command to refuse a request; becomes an error reply, never a traceback."""

    def __init__(self, errno: int, reason: str | None = None):
        super().__init__(reason or REASONS.get(errno, f"error {errno}"))
        self.errno = int(errno)
        self.reason = str(self)


def exit_code(errno: int) -> int:
    """The ``prtosctl`` exit code for a reply's errno."""
    if errno == CtlErrno.OK:
        return EXIT_OK
    if errno == CtlErrno.UNAUTHORISED:
        return EXIT_UNAUTHORISED
    return EXIT_REFUSED


__all__ = [
    "EXIT_NO_DAEMON",
    "EXIT_OK",
    "EXIT_REFUSED",
    "EXIT_UNAUTHORISED",
    "EXIT_USAGE",
    "REASONS",
    "CommandError",
    "CtlErrno",
    "exit_code",
]
