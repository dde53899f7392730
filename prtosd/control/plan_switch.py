"""``plan_switch``: request a plan switch, as ``prtos_switch_sched_plan`` from a system partition."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from prtosd.control.base import Command, CommandError, Prop, vnow

if TYPE_CHECKING:
    from prtosd.supervisor import Supervisor


class PlanSwitch(Command):
    """Request plan ID on every CPU; it becomes current at each CPU's next major-frame boundary.

    Wire: ``{cmd: "plan_switch", props: {plan: ID}}``; the PRTOS codes of the hypercall pass
    through: PRTOS_NO_ACTION (-1) when ID is current already, PRTOS_INVALID_PARAM (-3) for plan 0
    or a plan that does not exist.

    Usage: ``prtosctl plan switch ID``
    """

    name = "plan_switch"
    props: ClassVar[dict[str, Prop]] = {"plan": Prop(int, lo=0, hi=0xFFFF, required=True)}
    changes_state = True

    def execute(self, sup: Supervisor, props: dict[str, Any]) -> dict[str, Any]:
        now = vnow(sup)
        code, previous = sup.sched.switch_sched_plan(0, props["plan"], caller_is_system=True, now=now)
        if code != 0:
            raise CommandError(int(code))
        return {"vtime_us": sup.epoch_us + now, "current": previous, "requested": props["plan"]}
