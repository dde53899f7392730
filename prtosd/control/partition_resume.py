"""``partition_resume``: resume a suspended partition."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from prtosd.control.base import Command, CommandError, Prop, apply_outcome, partition_id
from prtosd.errors import PrtosError

if TYPE_CHECKING:
    from prtosd.supervisor import Supervisor


class PartitionResume(Command):
    """Resume a suspended partition; it runs again from its next slot (a slot never changes owner).

    Wire: ``{cmd: "partition_resume", props: {partition: ID|NAME}}``; PRTOS_NO_ACTION (-1) when no
    vCPU of it is suspended (and not halted).

    Usage: ``prtosctl partition resume ID|NAME``
    """

    name = "partition_resume"
    props: ClassVar[dict[str, Prop]] = {"partition": Prop("partition", required=True)}
    changes_state = True

    def execute(self, sup: Supervisor, props: dict[str, Any]) -> dict[str, Any]:
        pid = partition_id(sup, props["partition"])
        if not any(v.suspended and not v.halted for v in sup.table[pid].vcpus):
            raise CommandError(PrtosError.NO_ACTION, f"partition {pid} is not suspended")
        return apply_outcome(sup, sup.table.resume(pid))
