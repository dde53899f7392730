"""``status``: the whole system at one virtual time, for people and for tests."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from prtosd.control.base import Command, vnow
from prtosd.partition import OpMode, VcpuStatus
from prtosd.sched import NEVER

if TYPE_CHECKING:
    from prtosd.supervisor import Supervisor


def run_state(sup: Supervisor) -> str:
    """What the run loop is doing: running, paused (at a pause point), idle, all-halted or halted."""
    if sup.halted:
        return "halted"
    if sup.epoch_us + vnow(sup) >= sup.until:
        return "paused"
    if all(t >= NEVER for t in sup.now):
        return "idle"
    if not any(sup.table.is_ready(k) for k in sup.procs) and not any(
        sup.table.vcpu(k).suspended and not sup.table.vcpu(k).halted for k in sup.procs
    ):
        return "all-halted"
    return "running"


def _time(t: int) -> int | None:
    return None if t >= NEVER else t


def process_status(sup: Supervisor, key: tuple[int, int]) -> dict[str, Any] | None:
    """The vCPU's host process: ``pid``, ``host_cpu`` (None: not pinned), ``rss_bytes``; None if it has none."""
    resources = getattr(sup, "resources", None)
    return resources.info(key) if resources is not None else None


def partition_status(sup: Supervisor, pid: int) -> dict[str, Any]:
    part = sup.table[pid]
    cpu = sup.system.cpu_of(pid, 0)
    now = sup.now[cpu] if cpu is not None and sup.now[cpu] < NEVER else vnow(sup)
    st = part.status(now)
    return {
        "id": pid,
        "name": part.config.name,
        "system": part.is_system,
        "state": VcpuStatus(st.state).name.lower(),
        "op_mode": OpMode(st.op_mode).name.lower(),
        "reset_counter": st.reset_counter,
        "reset_status": st.reset_status,
        "exec_clock_us": st.exec_clock,
        "num_of_virqs": st.num_of_virqs,
        "sampling_msgs_read": st.num_of_sampling_port_msgs_read,
        "sampling_msgs_written": st.num_of_sampling_port_msgs_written,
        "queuing_msgs_sent": st.num_of_queuing_port_msgs_sent,
        "queuing_msgs_received": st.num_of_queuing_port_msgs_received,
        "image": part.image.value,
        "vcpus": [
            {
                "vcpu": v.vcpu,
                "state": v.state.name.lower(),
                "op_mode": v.op_mode.name.lower(),
                "cpu": sup.system.cpu_of(pid, v.vcpu),
                "process": process_status(sup, (pid, v.vcpu)),
            }
            for v in part.vcpus
        ],
    }


def cpu_status(sup: Supervisor, cpu: int) -> dict[str, Any]:
    sched = sup.sched.cpus[cpu]
    plan = sched.current
    slot = None
    if plan is not None and sched.owner is not None and sched.slot < len(plan.slots):
        s = plan.slots[sched.slot]
        slot = {"index": sched.slot, "id": s.id, "start_us": sched.maf_start + s.start, "duration_us": s.duration}
    ps = sched.plan_status()
    return {
        "cpu": cpu,
        "vtime_us": _time(sup.now[cpu]),
        "plan": ps.current,
        "next_plan": ps.next,
        "prev_plan": ps.prev,
        "plan_switch_time_us": ps.switch_time,
        "maf_start_us": sched.maf_start,
        "maf_count": sched.current_maf,
        "slot": slot,
        "running": list(sched.running) if sched.running is not None else None,
        "next_point_us": _time(sched.next_point),
    }


def system_status(sup: Supervisor) -> dict[str, Any]:
    """The data of a ``status`` reply (also sent with every completed ``run_until``)."""
    now = vnow(sup)
    ss = sup.table.system_status(sup.sched.current_maf)
    ctl = sup.control
    return {
        "system": sup.system.name,
        "config": str(sup.config_path),
        "run_dir": str(sup.run_dir),
        "pid": os.getpid(),
        "state": run_state(sup),
        "serve": bool(getattr(sup, "serve", False)),
        "vtime_us": sup.epoch_us + now,
        "boot_vtime_us": now,
        "until_us": _time(sup.until),
        "reset_counter": ss.reset_counter,
        "num_of_hm_events": ss.num_of_hm_events,
        "num_of_irqs": ss.num_of_irqs,
        "current_maf": ss.current_maf,
        "sampling_msgs_read": ss.num_of_sampling_port_msgs_read,
        "sampling_msgs_written": ss.num_of_sampling_port_msgs_written,
        "queuing_msgs_sent": ss.num_of_queuing_port_msgs_sent,
        "queuing_msgs_received": ss.num_of_queuing_port_msgs_received,
        "grants": sup.stats.grants,
        "instructions": sup.stats.instructions,
        "rejected_vcpu_messages": sup.stats.rejected,
        "credited_port_calls": sup.stats.credited,
        "forwarded_hypercalls": sup.stats.forwarded,
        "control": ctl.counters() if ctl is not None else {},
        "partitions": [partition_status(sup, p.id) for p in sup.system.partitions],
        "cpus": [cpu_status(sup, c) for c in range(len(sup.sched.cpus))],
    }


class Status(Command):
    """Report the system: virtual time, run state, plan and MAF count, partitions, CPUs, counters.

    Wire: ``{cmd: "status", props: {}}`` → ``data``: ``system``, ``state`` (running, paused, idle,
    all-halted, halted), ``vtime_us``, ``current_maf``, ``partitions`` (state, op mode, reset
    counter, EXEC clock, port counters; per vCPU its host ``process``: pid, host CPU, RSS),
    ``cpus`` (plan, current slot, running vCPU), ``control``
    (requests, rejected, unauthorised, handshake_refused_auth|protocol|other of the TCP endpoint),
    ``rejected_vcpu_messages`` (invalid frames on the partition endpoint).

    Usage: ``prtosctl status [--json]``
    """

    name = "status"

    def execute(self, sup: Supervisor, props: dict[str, Any]) -> dict[str, Any]:
        return system_status(sup)
