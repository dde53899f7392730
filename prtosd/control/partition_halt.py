"""``partition_halt``: halt a partition, as the HM action PARTITION_HALT does."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from prtosd.control.base import Command, CommandError, Prop, apply_outcome, partition_id
from prtosd.errors import PrtosError

if TYPE_CHECKING:
    from prtosd.supervisor import Supervisor


class PartitionHalt(Command):
    """Halt a partition (every vCPU HALTED) until it is reset.

    Wire: ``{cmd: "partition_halt", props: {partition: ID|NAME}}``; PRTOS_NO_ACTION (-1) when it
    is halted already.

    Usage: ``prtosctl partition halt ID|NAME``
    """

    name = "partition_halt"
    props: ClassVar[dict[str, Prop]] = {"partition": Prop("partition", required=True)}
    changes_state = True

    def execute(self, sup: Supervisor, props: dict[str, Any]) -> dict[str, Any]:
        pid = partition_id(sup, props["partition"])
        if all(v.halted for v in sup.table[pid].vcpus):
            raise CommandError(PrtosError.NO_ACTION, f"partition {pid} is halted already")
        return apply_outcome(sup, sup.table.halt(pid))
