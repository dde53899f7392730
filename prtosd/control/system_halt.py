"""``system_halt``: halt the whole system, as ``prtos_halt_system`` does; the daemon then exits."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from prtosd.control.base import Command, vnow

if TYPE_CHECKING:
    from prtosd.supervisor import Supervisor


class SystemHalt(Command):
    """Halt the system ("System halted." on the console); prtosd stops its partitions and exits 0.

    Wire: ``{cmd: "system_halt", props: {}}``

    Usage: ``prtosctl system halt``
    """

    name = "system_halt"
    changes_state = True

    def execute(self, sup: Supervisor, props: dict[str, Any]) -> dict[str, Any]:
        now = vnow(sup)
        sup.halt_system(now)
        return {"vtime_us": sup.epoch_us + now}
