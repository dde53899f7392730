"""``partition_suspend``: suspend a partition, as the HM action SUSPEND does."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from prtosd.control.base import Command, CommandError, Prop, apply_outcome, partition_id
from prtosd.errors import PrtosError

if TYPE_CHECKING:
    from prtosd.supervisor import Supervisor


class PartitionSuspend(Command):
    """Suspend a partition: its vCPUs stop running until resumed.

    Wire: ``{cmd: "partition_suspend", props: {partition: ID|NAME}}``; PRTOS_NO_ACTION (-1) when
    every vCPU is suspended or halted already.

    Usage: ``prtosctl partition suspend ID|NAME``
    """

    name = "partition_suspend"
    props: ClassVar[dict[str, Prop]] = {"partition": Prop("partition", required=True)}
    changes_state = True

    def execute(self, sup: Supervisor, props: dict[str, Any]) -> dict[str, Any]:
        pid = partition_id(sup, props["partition"])
        if all(v.suspended or v.halted for v in sup.table[pid].vcpus):
            raise CommandError(PrtosError.NO_ACTION, f"partition {pid} is suspended or halted already")
        return apply_outcome(sup, sup.table.suspend(pid))
