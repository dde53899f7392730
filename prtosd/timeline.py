"""What a run executed, for people: the timeline file and the hypervisor audit stream.

The supervisor reports what happens — grants, idle gaps, hypercalls, HM events, partition state
changes, port messages, plan switches, system halts and resets — to one :class:`RunRecorder`.
It turns each report into

* the audit events of semantics.md §10.5 selected by ``PRTOSHypervisor/Trace@bitmask``
  (:mod:`hm.audit`), and
* one JSON line of ``timeline.jsonl`` in the run directory (:class:`Timeline`), which
  ``prtosctl trace export`` and ``prtosd report`` read.

Why JSON lines: the file is append-only, readable with any tool, and a reader can stop at the
last complete line, so a run killed at any point leaves a usable timeline. Lines are collected
in memory and written with one ``write`` at the end of every scheduling step (and before the
supervisor blocks or exits), which keeps the cost to a ``json.dumps`` per event and one system
call per step; what was written survives a crash of prtosd because it is in the kernel's page
cache, not in a user-space buffer.

Nothing here is visible to guests: the timeline is a file the partitions cannot map, and the
audit records only exist when the configuration asks for them (semantics.md §10.5).

Times: ``ts`` and ``end`` are virtual µs since the first boot (the HW clock restarts at 0 on a
system reset; ``boot`` counts the resets), so they grow monotonically over a whole run.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from hm.audit import AuditTrail, unpack_events, vcpu_word
from prtosd.sched import NEVER

if TYPE_CHECKING:
    from hm.record import Record
    from prtosd.partition import Outcome
    from prtosd.supervisor import Grant, Supervisor, VcpuKey

TIMELINE_FILE = "timeline.jsonl"
TIMELINE_VERSION = 1
#: Set to "0" to run without writing the timeline (the audit stream is not affected).
TIMELINE_ENV = "PRTOSD_TIMELINE"


#: Lines are written at least this often (wall seconds) while a run makes progress, and at once
#: when the run stands still or ends; a crash loses at most this much of the timeline.
FLUSH_INTERVAL_S = 0.1
FLUSH_LINES = 512
#: One encoder for every line: ``json.dumps`` with separators would build a new one per event.
_ENCODER = json.JSONEncoder(separators=(",", ":"))
#: Hypercall names as JSON strings, encoded once.
_NAMES: dict[int, str] = {}
#: The reasons a grant ends with, already in JSON (one per grant line).
_WHY = {w: _ENCODER.encode(w) for w in ("idle", "budget", "halted", "stopped", "lost", "end")}


class Timeline:
    """An append-only JSON-lines file, written in whole lines at :meth:`flush`."""

    def __init__(self, path: Path | None):
        self.path = path
        self._file: IO[bytes] | None = path.open("ab") if path is not None else None
        self._lines: list[str] = []
        self._flushed = time.monotonic()

    @property
    def enabled(self) -> bool:
        return self._file is not None

    def emit(self, ev: str, **fields: Any) -> None:
        if self._file is not None:
            self._lines.append(_ENCODER.encode({"ev": ev, **fields}))

    def emit_line(self, line: str) -> None:
        """A line already in JSON (the frequent grant lines are formatted without ``json.dumps``)."""
        if self._file is not None:
            self._lines.append(line)

    def flush(self, *, force: bool = True) -> None:
        """Write the collected lines; unless ``force``, only if enough lines or time have gathered."""
        if not self._lines or self._file is None:
            return
        now = time.monotonic()
        if not force and len(self._lines) < FLUSH_LINES and now - self._flushed < FLUSH_INTERVAL_S:
            return
        self._file.write(("\n".join(self._lines) + "\n").encode())
        self._file.flush()
        self._lines.clear()
        self._flushed = now

    def close(self) -> None:
        self.flush()
        if self._file is not None:
            self._file.close()
            self._file = None


def read_timeline(path: Path) -> Iterator[dict[str, Any]]:
    """The events of a timeline file; a torn last line (a killed run) is skipped."""
    with path.open("rb") as f:
        for raw in f:
            if not raw.endswith(b"\n"):
                return
            try:
                yield json.loads(raw)
            except ValueError:
                continue


class RunRecorder:
    """The supervisor's one reporting point for the audit stream and the timeline."""

    def __init__(self, sup: Supervisor):
        self.sup = sup
        htrace = sup.system.hypervisor.trace
        self.audit = AuditTrail(lambda: sup.trace, htrace.bitmask if htrace else 0)
        enabled = os.environ.get(TIMELINE_ENV, "1") != "0"
        self.timeline = Timeline(sup.run_dir / TIMELINE_FILE if enabled else None)
        self.boot = 0
        self.running: dict[int, VcpuKey | None] = {}  # per CPU: who was dispatched last (None: idle)
        self.open: dict[int, tuple[VcpuKey, int]] = {}  # per CPU: grant in progress (key, start ts)
        self.last: dict[int, int] = {}  # per CPU: latest ts seen
        self._sent: dict[int, int] = {}  # per channel: messages sent
        self._received: dict[int, int] = {}  # per channel: queuing messages received
        self._sampled: dict[int, int] = {}  # per channel: last sampling message already linked
        self._channel_of: dict[int, int] = {}  # port id → index of its channel
        self._port_fields: dict[tuple[int, str, bool], str] = {}  # the fixed part of its port lines
        # Audit events shipped by partition processes, not yet due: (µs, cpu, arrival, key, module, event, payload).
        self._vcpu_events: list[tuple[int, int, int, VcpuKey, int, int, tuple[int, ...]]] = []
        self._vcpu_arrivals = 0
        self._cpus: dict[VcpuKey, int | None] = {}  # vCPU → the processor whose plans run it
        system = sup.system
        self.timeline.emit(
            "meta",
            version=TIMELINE_VERSION,
            system=system.name,
            cpus=len(system.processors),
            partitions={str(p.id): p.name for p in system.partitions},
        )

    # -- helpers ------------------------------------------------------------------------------------

    def _ts(self, now: int) -> int:
        return self.sup.epoch_us + now

    def _cpu(self, key: VcpuKey | None) -> int:
        if key is None:
            return self.sup.console.cpu
        cpu = self._cpus.get(key, -1)
        if cpu == -1:  # the configuration is fixed for the run: look each vCPU up once (a scan of every slot)
            cpu = self._cpus[key] = self.sup.system.cpu_of(*key)
        return cpu if cpu is not None else self.sup.console.cpu

    def _emit(self, ev: str, cpu: int, now: int, **fields: Any) -> None:
        ts = self._ts(now)
        self.last[cpu] = max(ts, self.last.get(cpu, 0))
        self.timeline.emit(ev, cpu=cpu, ts=ts, boot=self.boot, **fields)

    def _emit_line(self, ev: str, cpu: int, now: int, rest: str) -> None:
        """:meth:`_emit` of a line whose fields after ``boot`` are already JSON (``rest``, from its comma).

        Hypercall and port lines come once per port message: formatted like the grant lines.
        """
        ts = self.sup.epoch_us + now
        if ts > self.last.get(cpu, 0):
            self.last[cpu] = ts
        self.timeline.emit_line(f'{{"ev":"{ev}","cpu":{cpu},"ts":{ts},"boot":{self.boot}{rest}}}')

    def flush(self, *, force: bool = True) -> None:
        self.timeline.flush(force=force)

    # -- dispatching --------------------------------------------------------------------------------

    def _switch(self, cpu: int, key: VcpuKey | None, now: int) -> None:
        prev = self.running.get(cpu)
        if cpu in self.running and prev == key:
            return
        self.running[cpu] = key
        self.audit.sched("CONTEXT_SWITCH", prev, now, vcpu_word(key))

    def grant_start(self, grant: Grant, until: int) -> None:
        self._close_grant(grant.cpu, self._ts(grant.start), "lost")
        self._switch(grant.cpu, grant.key, grant.start)
        self.open[grant.cpu] = (grant.key, self._ts(grant.start))

    def grant_end(self, grant: Grant, msg: dict[str, Any]) -> None:
        reason = msg.get("reason", "")
        if reason == "idle":
            self.audit.sched("PART_IDLE", grant.key, msg["now"], grant.key[0])
        self._close_grant(grant.cpu, self._ts(max(grant.start, msg["now"])), reason)

    def _close_grant(self, cpu: int, end: int, why: str) -> None:
        item = self.open.pop(cpu, None)
        if item is None:
            return
        (pid, vcpu), start = item
        self.last[cpu] = max(end, self.last.get(cpu, 0))
        if self.timeline.enabled:  # the most frequent line: formatted without building a dict
            why_json = _WHY.get(why) or _ENCODER.encode(str(why))
            self.timeline.emit_line(
                f'{{"ev":"grant","cpu":{cpu},"ts":{start},"end":{max(start, end)},"boot":{self.boot},'
                f'"p":{pid},"v":{vcpu},"why":{why_json}}}'
            )

    def idle(self, cpu: int, now: int, until: int) -> None:
        self._close_grant(cpu, self._ts(now), "lost")  # a grant whose process died never reported
        self._switch(cpu, None, now)
        if now < until < NEVER:
            ts = self._ts(now)
            self.last[cpu] = max(ts, self.last.get(cpu, 0))
            if self.timeline.enabled:  # as frequent as grants: formatted like them
                self.timeline.emit_line(
                    f'{{"ev":"idle","cpu":{cpu},"ts":{ts},"boot":{self.boot},"end":{self._ts(until)}}}'
                )

    # -- hypercalls and faults ----------------------------------------------------------------------

    def hcall_begin(self, key: VcpuKey, msg: dict[str, Any]) -> None:
        self.audit.hcall_begin(key, msg["now"], msg["nr"], msg.get("args", ()))

    def hcall_end(self, key: VcpuKey, msg: dict[str, Any], result: int | None) -> None:
        nr = msg["nr"]
        self.audit.hcall_end(key, msg["now"], nr, result)
        name = _NAMES.get(nr)
        if name is None:
            from partitiond.hypercalls import lookup

            row = lookup(nr)
            name = _ENCODER.encode(row.name if row else "?")
            if row is not None:  # a guest's unknown numbers are not remembered
                _NAMES[nr] = name
        ret = "null" if result is None else int(result)
        rest = f',"p":{key[0]},"v":{key[1]},"nr":{nr},"name":{name},"ret":{ret}'
        self._emit_line("hcall", self._cpu(key), msg["now"], rest)

    def vcpu_audit(self, cpu: int, key: VcpuKey, data: bytes) -> None:
        """Audit events a partition process produced (local hypercalls, IRQ_EMUL), held until due.

        They are stored by :meth:`vcpu_audit_due` when the supervisor reaches their virtual time,
        so that events of concurrent grants interleave by time, not by arrival.
        """
        if not self.audit.bitmask:
            return
        try:
            events = unpack_events(data)
        except ValueError:
            self.sup.stats.rejected += 1  # a malformed shipment is dropped like a malformed message
            return
        for now, module, event, payload in events:
            self._vcpu_events.append((now, cpu, self._vcpu_arrivals, key, module, event, payload))
            self._vcpu_arrivals += 1

    def vcpu_audit_due(self, upto: int) -> None:
        """Store the shipped events stamped up to ``upto`` µs, by (time, CPU, arrival).

        Called before the supervisor handles a message of virtual time ``upto``: every active
        grant has then shipped all it did before its own pending message (all of which are
        ``>= upto``), so nothing earlier can arrive later.
        """
        if not self._vcpu_events:
            return
        due = sorted(e for e in self._vcpu_events if e[0] <= upto)
        if not due:
            return
        self._vcpu_events = [e for e in self._vcpu_events if e[0] > upto]
        for now, _cpu, _n, key, module, event, payload in due:
            self.audit.vcpu_event(key, now, module, event, payload)

    def trap(self, key: VcpuKey, now: int, trap: int, pc: int) -> None:
        self.audit.trap_raised(key, now, trap, pc)

    def hm_raised(self, key: VcpuKey, record: Record, action: int, log: bool, now: int) -> None:
        """§9.5 steps 1 and 4: EVENT_RAISED then PART_ACTION; one timeline line."""
        from hm.events import HmAction
        from hm.monitor import event_name

        self.audit.hm_event(key, now, record)
        self.audit.hm_action(key, now, action, log)
        self._emit(
            "hm",
            self._cpu(key),
            now,
            p=key[0],
            v=key[1],
            event=record.event_id,
            name=event_name(record.event_id),
            action=HmAction(action).name,
            log=log,
        )

    # -- state changes ------------------------------------------------------------------------------

    def effects(self, out: Outcome, caller: VcpuKey | None, now: int) -> None:
        """Partition and vCPU state changes of an applied operation (SCHED audit events)."""
        if not out.effects:  # most operations (every port call) change no state
            return
        from prtosd.partition import ResetEffect

        cpu = self._cpu(caller)
        for e in out.effects:
            if isinstance(e, ResetEffect):
                key = (e.partition, e.vcpu)
                self.audit.sched("VCPU_RESET", caller, now, vcpu_word(key))
                mode = "vcpu" if e.mode is None else e.mode.name.lower()
                self._emit("state", cpu, now, p=e.partition, v=e.vcpu, what="VCPU_RESET", mode=mode, status=e.status)
                continue
            name = e.action.value
            if name.startswith("PART_"):
                self.audit.sched(name, caller, now, e.partition)
            else:
                for v in e.vcpus:
                    self.audit.sched(name, caller, now, vcpu_word((e.partition, v)))
            self._emit("state", cpu, now, p=e.partition, vcpus=list(e.vcpus), what=name)

    def sched_events(self, events: Iterable[Any]) -> None:
        for ev in events:
            self.audit.sched(ev.kind, ev.running, ev.time, *ev.payload)
            self._emit("plan", ev.cpu, ev.time, what=ev.kind, payload=list(ev.payload))

    def system_halt(self, now: int) -> None:
        self.audit.sched("HYP_HALT", self.running.get(self.sup.console.cpu), now)
        self._emit("system", self.sup.console.cpu, now, what="halt")
        for cpu in list(self.open):
            self._close_grant(cpu, self._ts(now), "system halt")

    def system_reset(self, mode: int, now: int) -> None:
        """Called before the clocks restart: grants in progress end at the reset."""
        self.audit.sched("HYP_RESET", self.running.get(self.sup.console.cpu), now, mode)
        self._emit("system", self.sup.console.cpu, now, what="reset", mode=mode)
        for cpu in list(self.open):
            self._close_grant(cpu, self._ts(now), "system reset")
        self.running.clear()
        self._vcpu_events.clear()  # stamped on the clocks that restart now
        self.boot += 1

    # -- ports --------------------------------------------------------------------------------------

    def port(self, key: VcpuKey, klass: int, port_id: int, op: str, result: int, now: int) -> None:
        """A successful port operation; messages are numbered per channel to link send and receive."""
        ports = self.sup.ports
        port = ports.ports[port_id] if 0 <= port_id < len(ports.ports) else None
        if port is None or port.channel is None:
            return
        ch = self._channel_of.get(port_id)
        if ch is None:  # the configuration is fixed for the run: look each port's channel up once
            ch = self._channel_of[port_id] = next((i for i, c in enumerate(ports.channels) if c is port.channel), -1)
        sampling = klass == 3
        if op == "write":
            if result != 0:
                return
            msg = self._sent[ch] = self._sent.get(ch, 0) + 1
            direction = "send"
        else:
            if result <= 0:
                return
            if sampling:
                msg = self._sent.get(ch, 0)
                if self._sampled.get(ch) == msg:
                    msg = 0  # read again: no new link
                else:
                    self._sampled[ch] = msg
            else:
                msg = self._received[ch] = self._received.get(ch, 0) + 1
            direction = "recv"
        fixed = self._port_fields.get((port_id, direction, sampling))
        if fixed is None:  # one per port and direction: the port name is encoded once
            kind = "sampling" if sampling else "queuing"
            fixed = f'"dir":"{direction}","port":{_ENCODER.encode(port.name)},"kind":"{kind}","ch":{ch}'
            self._port_fields[port_id, direction, sampling] = fixed
        self._emit_line("port", self._cpu(key), now, f',"p":{key[0]},"v":{key[1]},{fixed},"msg":{msg}')

    def ports_emptied(self) -> None:
        """A system reset empties the channels: later receives pair with later sends."""
        self._received = dict(self._sent)

    # -- end ----------------------------------------------------------------------------------------

    def close(self) -> None:
        for cpu in list(self.open):
            self._close_grant(cpu, self.last.get(cpu, 0), "end")
        self.timeline.close()
