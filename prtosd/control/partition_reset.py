"""``partition_reset``: cold or warm reset of a partition, as the HM reset actions do."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from prtosd.control.base import Command, Prop, apply_outcome, partition_id
from prtosd.partition import ResetMode

if TYPE_CHECKING:
    from prtosd.supervisor import Supervisor


class PartitionReset(Command):
    """Reset a partition: cold (image reloaded, reset counter 0) or warm (memory kept, counter + 1).

    Wire: ``{cmd: "partition_reset", props: {partition: ID|NAME, mode: "cold"|"warm", status: N}}``
    (``mode`` defaults to cold, ``status`` — the PCT reset status — to 0); PRTOS_INVALID_CONFIG
    (-5) when the partition has no valid image (it stays halted).

    Usage: ``prtosctl partition reset [--cold|--warm] ID|NAME``
    """

    name = "partition_reset"
    props: ClassVar[dict[str, Prop]] = {
        "partition": Prop("partition", required=True),
        "mode": Prop(str, choices=("cold", "warm"), default="cold"),
        "status": Prop(int, default=0),
    }
    changes_state = True

    def execute(self, sup: Supervisor, props: dict[str, Any]) -> dict[str, Any]:
        pid = partition_id(sup, props["partition"])
        mode = ResetMode.COLD if props["mode"] == "cold" else ResetMode.WARM
        return apply_outcome(sup, sup.table.reset(pid, mode, props["status"]))
