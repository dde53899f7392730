"""What every control command shares: the command class, validation of props, small helpers.

A command is a class with a ``name`` (the wire ``cmd``), a docstring that gives the wire message
and the ``prtosctl`` usage (``prtosctl --help`` shows it), a ``props`` schema and
``execute(sup, props) -> dict``. Props are validated against the schema before ``execute`` runs:
unknown keys, wrong types and out-of-range values are refused with BAD_REQUEST, so ``execute``
only ever sees clean values. Commands run between two grants of the supervisor's loop, so they
act at one well-defined virtual time (:func:`vnow`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from prtosd.control.errors import CommandError, CtlErrno
from prtosd.partition import Outcome
from prtosd.sched import NEVER

if TYPE_CHECKING:
    from prtosd.supervisor import Supervisor

NAME_MAX = 64


@dataclass(frozen=True, slots=True)
class Prop:
    """One prop: ``kind`` is ``int``, ``str``, ``bool`` or ``"partition"`` (an id or a name)."""

    kind: Any
    lo: int = 0
    hi: int = 0xFFFFFFFF
    choices: tuple[str, ...] = ()
    default: Any = None
    required: bool = False

    def check(self, name: str, value: Any) -> Any:
        if self.kind == "partition":
            if isinstance(value, bool) or not isinstance(value, int | str):
                raise CommandError(CtlErrno.BAD_REQUEST, f"{name}: expected a partition id or name")
            if isinstance(value, str) and len(value) > NAME_MAX:
                raise CommandError(CtlErrno.BAD_REQUEST, f"{name}: name too long")
            return value
        if self.kind is bool:
            if not isinstance(value, bool):
                raise CommandError(CtlErrno.BAD_REQUEST, f"{name}: expected true or false")
            return value
        if self.kind is int:
            if isinstance(value, bool) or not isinstance(value, int):
                raise CommandError(CtlErrno.BAD_REQUEST, f"{name}: expected an integer")
            if not self.lo <= value <= self.hi:
                raise CommandError(CtlErrno.BAD_REQUEST, f"{name}: {value} not in {self.lo}..{self.hi}")
            return value
        if not isinstance(value, str) or len(value) > NAME_MAX:
            raise CommandError(CtlErrno.BAD_REQUEST, f"{name}: expected a short string")
        if self.choices and value not in self.choices:
            raise CommandError(CtlErrno.BAD_REQUEST, f"{name}: expected one of {', '.join(self.choices)}")
        return value


class Command:
    """Base of every control command (see the module docstring)."""

    name: ClassVar[str] = ""
    #: Props accepted, by name; nothing else is.
    props: ClassVar[dict[str, Prop]] = {}
    #: A command that changes system state is written to the audit trail.
    changes_state: ClassVar[bool] = False
    #: A command whose ``execute`` may return None: its reply is sent later by the server.
    deferred: ClassVar[bool] = False

    def validate(self, props: dict[Any, Any]) -> dict[str, Any]:
        unknown = [k for k in props if k not in self.props]
        if unknown:
            raise CommandError(CtlErrno.BAD_REQUEST, f"unknown prop(s): {', '.join(sorted(map(str, unknown)))}"[:200])
        out: dict[str, Any] = {}
        for key, spec in self.props.items():
            if key in props:
                out[key] = spec.check(key, props[key])
            elif spec.required:
                raise CommandError(CtlErrno.BAD_REQUEST, f"missing prop {key!r}")
            else:
                out[key] = spec.default
        return out

    def execute(self, sup: Supervisor, props: dict[str, Any]) -> dict[str, Any] | None:
        raise NotImplementedError


def vnow(sup: Supervisor) -> int:
    """The virtual time (µs since the current boot) at which a command acts: the CPU furthest behind."""
    live = [t for t in sup.now if t < NEVER]
    return min(live) if live else 0


def partition_id(sup: Supervisor, ref: int | str) -> int:
    """Resolve a partition given by id or by name (a string of digits is an id)."""
    parts = sup.system.partitions
    if isinstance(ref, str) and ref.isdecimal():
        ref = int(ref)
    if isinstance(ref, int):
        if 0 <= ref < len(parts):
            return ref
        raise CommandError(CtlErrno.NO_SUCH_PARTITION, f"no partition {ref}")
    for p in parts:
        if p.name and p.name == ref:
            return p.id
    raise CommandError(CtlErrno.NO_SUCH_PARTITION, f'no partition named "{ref}"')


def apply_outcome(sup: Supervisor, out: Outcome) -> dict[str, Any]:
    """Carry out a partition operation's effects now; refuse with its PRTOS code unless OK."""
    now = vnow(sup)
    sup.apply(out, None, now)
    if out.code != 0:
        raise CommandError(int(out.code))
    return {"vtime_us": sup.epoch_us + now}


__all__ = ["Command", "CommandError", "Prop", "apply_outcome", "partition_id", "vnow"]
