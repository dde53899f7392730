"""``plan_status``: the plan status of every CPU (``prtos_get_plan_status``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from prtosd.control.base import Command

if TYPE_CHECKING:
    from prtosd.supervisor import Supervisor


class PlanStatus(Command):
    """Plan status per CPU: current, next (requested) and previous plan, time of the last switch, MAF count.

    Wire: ``{cmd: "plan_status", props: {}}`` → ``data: {cpus: [{cpu, current, next, prev,
    switch_time_us, maf_count}]}`` (ids are -1 where there is no plan).

    Usage: ``prtosctl plan status [--json]``
    """

    name = "plan_status"

    def execute(self, sup: Supervisor, props: dict[str, Any]) -> dict[str, Any]:
        cpus = []
        for c, sched in enumerate(sup.sched.cpus):
            ps = sched.plan_status()
            cpus.append(
                {
                    "cpu": c,
                    "current": ps.current,
                    "next": ps.next,
                    "prev": ps.prev,
                    "switch_time_us": ps.switch_time,
                    "maf_count": sched.current_maf,
                }
            )
        return {"cpus": cpus}
