"""``run_until``: move the pause point of a ``--serve`` run and answer when virtual time gets there."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from prtosd.control.base import Command, CommandError, Prop, vnow
from prtosd.control.errors import CtlErrno
from prtosd.control.status import system_status

if TYPE_CHECKING:
    from prtosd.supervisor import Supervisor

#: Largest pause point accepted (µs): far beyond any run, far below the scheduler's NEVER.
MAX_US = 1 << 53


class RunUntil(Command):
    """Let a ``--serve`` run advance to a virtual time, then stand still there (a pause point).

    Exactly one of ``until_us`` (virtual µs since the first boot, as ``status`` reports
    ``vtime_us``) and ``for_us`` (from now). The reply comes when the run stops: at the pause
    point, or earlier when nothing can run any more or the system halts; its ``data`` is the
    ``status`` data plus ``stopped`` (until, idle, all partitions halted, system halted). Grants
    are split at pause points, so a run driven by the same commands at the same virtual times
    gives the same output. Needs ``prtosd start --serve`` (NOT_SERVING otherwise).

    Wire: ``{cmd: "run_until", props: {until_us: N} | {for_us: N}}``

    Usage: Python API and pytest fixture only (``Client.run_until``).
    """

    name = "run_until"
    props: ClassVar[dict[str, Prop]] = {"until_us": Prop(int, hi=MAX_US), "for_us": Prop(int, hi=MAX_US)}
    changes_state = True
    deferred = True

    def execute(self, sup: Supervisor, props: dict[str, Any]) -> dict[str, Any] | None:
        if not getattr(sup, "serve", False):
            raise CommandError(CtlErrno.NOT_SERVING)
        if (props["until_us"] is None) == (props["for_us"] is None):
            raise CommandError(CtlErrno.BAD_REQUEST, "give exactly one of until_us and for_us")
        current = sup.epoch_us + vnow(sup)
        target = props["until_us"] if props["until_us"] is not None else current + props["for_us"]
        sup.until = max(target, current)
        if target <= current:
            return {**system_status(sup), "stopped": "until"}
        return None
