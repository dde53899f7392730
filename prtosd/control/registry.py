"""The control commands: this dict is the only place where a command is added.

A request's ``cmd`` is looked up here and nowhere else; it is never used as an attribute name.
"""

from __future__ import annotations

from prtosd.control.base import Command
from prtosd.control.hm_log import HmLog
from prtosd.control.partition_halt import PartitionHalt
from prtosd.control.partition_reset import PartitionReset
from prtosd.control.partition_resume import PartitionResume
from prtosd.control.partition_suspend import PartitionSuspend
from prtosd.control.plan_status import PlanStatus
from prtosd.control.plan_switch import PlanSwitch
from prtosd.control.run_until import RunUntil
from prtosd.control.status import Status
from prtosd.control.system_halt import SystemHalt
from prtosd.control.system_reset import SystemReset
from prtosd.control.trace_dump import TraceDump

COMMANDS: dict[str, Command] = {
    "status": Status(),
    "partition_halt": PartitionHalt(),
    "partition_suspend": PartitionSuspend(),
    "partition_resume": PartitionResume(),
    "partition_reset": PartitionReset(),
    "system_halt": SystemHalt(),
    "system_reset": SystemReset(),
    "plan_switch": PlanSwitch(),
    "plan_status": PlanStatus(),
    "hm_log": HmLog(),
    "trace_dump": TraceDump(),
    "run_until": RunUntil(),
}

assert all(name == cmd.name for name, cmd in COMMANDS.items())
