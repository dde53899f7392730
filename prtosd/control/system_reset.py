"""``system_reset``: reboot the system, as ``prtos_reset_system`` does."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from prtosd.control.base import Command, Prop, vnow
from prtosd.partition import ResetMode

if TYPE_CHECKING:
    from prtosd.supervisor import Supervisor


class SystemReset(Command):
    """Reset the system: clocks restart at 0, plan 0, every partition with an image cold-reset.

    A warm reset increments the system reset counter, a cold one sets it to 0 (docs/running.md,
    "System reset"). Wire: ``{cmd: "system_reset", props: {mode: "cold"|"warm"}}`` (default cold).

    Usage: ``prtosctl system reset [--cold|--warm]``
    """

    name = "system_reset"
    props: ClassVar[dict[str, Prop]] = {"mode": Prop(str, choices=("cold", "warm"), default="cold")}
    changes_state = True

    def execute(self, sup: Supervisor, props: dict[str, Any]) -> dict[str, Any]:
        now = vnow(sup)
        before = sup.epoch_us + now
        sup.reset_system(ResetMode.COLD if props["mode"] == "cold" else ResetMode.WARM, 0, now)
        return {"vtime_us": before}
