"""``prtosctl trace export --format perfetto FILE``: the run's timeline as Chrome trace event JSON.

Why from the run directory and not through the daemon: the timeline file (``timeline.jsonl``,
:mod:`prtosd.timeline`) is complete and append-only, so exporting works the same for a system
that is still running, one that has finished and one whose prtosd was killed. Nothing is asked
of the daemon, so an export never disturbs a run.

The output is the JSON object form of the Chrome trace event format, which the Perfetto UI
(ui.perfetto.dev) and ``chrome://tracing`` open:

* process 1 is the system; thread *n* is CPU *n* (named by ``M`` metadata events);
* each grant is a complete (``X``) slice named by its partition (``P<id> <name>``), idle gaps
  are ``X`` slices named ``idle``;
* partition state changes, hypercalls forwarded to the supervisor, HM events, plan switches and
  system halts/resets are thread-scoped instant (``i``) events;
* each port message is a flow from the send (``s``) to its receive (``f``, bound to the
  enclosing slice); a sampling message read several times is linked to its first read only.

Time unit: ``ts`` and ``dur`` are µs of virtual time since the first boot.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from prtosd.timeline import TIMELINE_FILE, read_timeline

PID = 1
FORMATS = ("perfetto",)
_ORDER = {"M": 0, "X": 1, "s": 2, "f": 3, "i": 4}  # at equal ts: slices before what happens inside them


def chrome_trace(events: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Convert timeline events to a Chrome trace object (``{"traceEvents": [...]}``)."""
    names: dict[str, str] = {}
    cpus = 1
    system = ""
    out: list[dict[str, Any]] = []
    flows: dict[tuple[int, int], bool] = {}  # (channel, msg) → a start was emitted
    pending_recv: list[dict[str, Any]] = []
    for ev in events:
        kind = ev.get("ev")
        if kind == "meta":
            names.update(ev.get("partitions", {}))
            cpus = max(cpus, int(ev.get("cpus", 1)))
            system = str(ev.get("system", ""))
            continue
        cpu = int(ev.get("cpu", 0))
        cpus = max(cpus, cpu + 1)
        ts = int(ev.get("ts", 0))
        base = {"pid": PID, "tid": cpu, "ts": ts}

        def label(p: Any) -> str:
            return f"P{p} {names.get(str(p), '')}".rstrip()

        if kind == "grant":
            dur = max(0, int(ev["end"]) - ts)
            out.append(
                {
                    **base,
                    "ph": "X",
                    "name": label(ev["p"]),
                    "cat": "grant",
                    "dur": dur,
                    "args": {"partition": ev["p"], "vcpu": ev["v"], "ended": ev.get("why", ""), "boot": ev["boot"]},
                }
            )
        elif kind == "idle":
            out.append({**base, "ph": "X", "name": "idle", "cat": "idle", "dur": max(0, int(ev["end"]) - ts)})
        elif kind == "state":
            args = {k: v for k, v in ev.items() if k not in ("ev", "cpu", "ts")}
            out.append(
                {**base, "ph": "i", "s": "t", "name": f"{label(ev['p'])}: {ev['what']}", "cat": "state", "args": args}
            )
        elif kind == "hcall":
            args = {"partition": ev["p"], "vcpu": ev["v"], "nr": ev["nr"], "ret": ev.get("ret")}
            out.append({**base, "ph": "i", "s": "t", "name": f"hcall {ev['name']}", "cat": "hcall", "args": args})
        elif kind == "hm":
            args = {
                "partition": ev["p"],
                "vcpu": ev["v"],
                "event": ev["event"],
                "action": ev["action"],
                "log": ev["log"],
            }
            short = str(ev["name"]).removeprefix("PRTOS_HM_EV_")
            out.append({**base, "ph": "i", "s": "t", "name": f"HM {short} → {ev['action']}", "cat": "hm", "args": args})
        elif kind == "plan":
            out.append(
                {**base, "ph": "i", "s": "t", "name": ev["what"], "cat": "plan", "args": {"payload": ev["payload"]}}
            )
        elif kind == "system":
            args = {k: v for k, v in ev.items() if k not in ("ev", "cpu", "ts")}
            out.append({**base, "ph": "i", "s": "t", "name": f"system {ev['what']}", "cat": "system", "args": args})
        elif kind == "port":
            msg = int(ev.get("msg", 0))
            if msg <= 0:
                continue
            key = (int(ev["ch"]), msg)
            # both ends share cat, name and id: that is what binds a flow's steps together
            flow = {**base, "name": f"channel {key[0]}", "cat": "port", "id": key[0] << 32 | key[1]}
            flow["args"] = {"partition": ev["p"], "port": ev["port"], "kind": ev["kind"]}
            if ev["dir"] == "send":
                flows[key] = True
                out.append({**flow, "ph": "s"})
            else:
                pending_recv.append({**flow, "ph": "f", "bp": "e", "_key": key})
    for f in pending_recv:  # a receive whose send is not in the file (before a truncation) has no flow
        if flows.pop(f.pop("_key"), False):
            out.append(f)
    out.sort(key=lambda e: (e["ts"], _ORDER[e["ph"]]))
    meta: list[dict[str, Any]] = [
        {"ph": "M", "pid": PID, "tid": 0, "name": "process_name", "args": {"name": f"prtosd {system}".rstrip()}}
    ]
    for cpu in range(cpus):
        meta.append({"ph": "M", "pid": PID, "tid": cpu, "name": "thread_name", "args": {"name": f"CPU {cpu}"}})
        meta.append({"ph": "M", "pid": PID, "tid": cpu, "name": "thread_sort_index", "args": {"sort_index": cpu}})
    return {"traceEvents": meta + out, "displayTimeUnit": "ms", "otherData": {"time_unit": "virtual µs"}}


def export(run_dir: Path, out: Path, fmt: str = "perfetto") -> int:
    """Write the export of ``run_dir``'s timeline to ``out``; returns the number of trace events."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r} (known: {', '.join(FORMATS)})")
    path = Path(run_dir) / TIMELINE_FILE
    if not path.exists():
        raise FileNotFoundError(f"no timeline in {run_dir} ({TIMELINE_FILE} is missing)")
    trace = chrome_trace(read_timeline(path))
    out.write_text(json.dumps(trace, separators=(",", ":")))
    return len(trace["traceEvents"])
