"""The run timeline (timeline.jsonl), the hypervisor audit stream and ``prtosctl trace export``.

The export test checks the JSON against the rules of the Chrome trace event format (the JSON
object form documented in "Trace Event Format"): required keys and types per phase, proper
nesting of complete slices, flow starts before their ends, and ``ts`` non-decreasing per track.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from systems import run_prtosd
from test_hm_actions import _records, faulty_system, with_traces
from test_ports_e2e import SYSTEM as PORTS_SYSTEM

from hm.audit import MOD_HCALLS, MOD_HM, MOD_IRQS, MOD_SCHED, SCHED_EVENTS
from hm.record import Record
from prtosd.ctl import main as prtosctl
from prtosd.timeline import TIMELINE_FILE, read_timeline

PHASES = {"X", "i", "I", "s", "t", "f", "M", "B", "E", "C", "b", "e", "n"}
METADATA = {
    "process_name": "name",
    "thread_name": "name",
    "process_sort_index": "sort_index",
    "thread_sort_index": "sort_index",
}


def validate_chrome_trace(doc: Any) -> list[dict[str, Any]]:
    """Check a Chrome trace event JSON object; returns its events. Raises AssertionError."""
    assert isinstance(doc, dict) and isinstance(doc.get("traceEvents"), list)
    if "displayTimeUnit" in doc:
        assert doc["displayTimeUnit"] in ("ms", "ns")
    events = doc["traceEvents"]
    last_ts: dict[tuple[Any, Any], float] = {}
    slices: dict[tuple[Any, Any], list[tuple[float, float]]] = defaultdict(list)
    starts: dict[tuple[str, str, Any], float] = {}
    for ev in events:
        assert isinstance(ev, dict)
        ph = ev.get("ph")
        assert ph in PHASES, ev
        assert isinstance(ev.get("name"), str) and ev["name"], ev
        assert isinstance(ev.get("pid"), int) and isinstance(ev.get("tid"), int), ev
        if "args" in ev:
            assert isinstance(ev["args"], dict), ev
        if "cat" in ev:
            assert isinstance(ev["cat"], str), ev
        if ph == "M":
            assert ev["name"] in METADATA, ev
            assert METADATA[ev["name"]] in ev["args"], ev
            continue
        assert isinstance(ev.get("ts"), int | float) and ev["ts"] >= 0, ev
        track = (ev["pid"], ev["tid"])
        assert ev["ts"] >= last_ts.get(track, 0), f"ts goes back on track {track}: {ev}"
        last_ts[track] = ev["ts"]
        if ph == "X":
            assert isinstance(ev.get("dur"), int | float) and ev["dur"] >= 0, ev
            slices[track].append((ev["ts"], ev["ts"] + ev["dur"]))
        elif ph in ("i", "I"):
            assert ev.get("s", "t") in ("g", "p", "t"), ev
        elif ph in ("s", "t", "f"):
            assert "id" in ev and isinstance(ev["id"], int | str), ev
            assert isinstance(ev.get("cat"), str), ev
            key = (ev["cat"], ev["name"], ev["id"])
            if ph == "s":
                assert key not in starts, f"flow started twice: {ev}"
                starts[key] = ev["ts"]
            else:
                assert key in starts and starts[key] <= ev["ts"], f"flow step without start: {ev}"
            if ph == "f" and "bp" in ev:
                assert ev["bp"] == "e", ev
    for track, spans in slices.items():  # complete slices on one track nest properly
        stack: list[float] = []
        for start, end in sorted(spans, key=lambda s: (s[0], -s[1])):
            while stack and stack[-1] <= start:
                stack.pop()
            assert not stack or end <= stack[-1], f"overlapping slices on {track}"
            stack.append(end)
    return events


def _export(run_dir: Path, out: Path) -> dict[str, Any]:
    res = CliRunner().invoke(prtosctl, ["--run-dir", str(run_dir), "trace", "export", "--format", "perfetto", str(out)])
    assert res.exit_code == 0, res.output
    return json.loads(out.read_text())


def test_ports_run_exports_grants_hypercalls_and_message_flows(start_system, tmp_path: Path) -> None:
    run = start_system(PORTS_SYSTEM, "--until", "40ms")
    assert run.returncode == 0, run.stderr
    timeline = list(read_timeline(run.run_dir / TIMELINE_FILE))
    assert timeline[0]["ev"] == "meta" and timeline[0]["partitions"] == {"0": "src", "1": "dst"}
    grants = [e for e in timeline if e["ev"] == "grant"]
    assert {e["p"] for e in grants} == {0, 1}
    assert all(e["end"] >= e["ts"] for e in grants)
    assert [e["ts"] for e in grants if e["p"] == 0][:3] == [0, 10_000, 20_000]  # slot starts
    sends = [e for e in timeline if e["ev"] == "port" and e["dir"] == "send"]
    recvs = [e for e in timeline if e["ev"] == "port" and e["dir"] == "recv"]
    assert sends and recvs and any(e["ev"] == "hcall" for e in timeline)

    doc = _export(run.run_dir, tmp_path / "trace.json")
    events = validate_chrome_trace(doc)
    x = [e for e in events if e["ph"] == "X" and e["cat"] == "grant"]
    assert {e["name"] for e in x} == {"P0 src", "P1 dst"}
    flows_s = [e for e in events if e["ph"] == "s"]
    flows_f = [e for e in events if e["ph"] == "f"]
    assert flows_s and flows_f
    assert {e["id"] for e in flows_f} <= {e["id"] for e in flows_s}
    assert all(e["tid"] == 0 for e in events if e["ph"] != "M")  # one CPU, one track
    names = [e["args"]["name"] for e in events if e["ph"] == "M" and e["name"] == "thread_name"]
    assert names == ["CPU 0"]


def test_hm_events_and_state_changes_reach_the_export(start_system, tmp_path: Path) -> None:
    run = start_system(faulty_system("hm_pf.c", "X86_PAGE_FAULT", "SUSPEND"), "--until", "10ms")
    assert run.returncode == 0, run.stderr
    events = validate_chrome_trace(_export(run.run_dir, tmp_path / "t.json"))
    hm = [e for e in events if e["ph"] == "i" and e["cat"] == "hm"]
    assert [e["name"] for e in hm] == ["HM X86_PAGE_FAULT → SUSPEND"]
    assert any(e["ph"] == "i" and e["name"] == "P0 F: PART_SUSPEND" for e in events)


def test_export_without_a_timeline_fails_cleanly(tmp_path: Path) -> None:
    res = CliRunner().invoke(prtosctl, ["--run-dir", str(tmp_path), "trace", "export", str(tmp_path / "x.json")])
    assert res.exit_code == 3
    assert "no timeline" in res.output


def test_a_torn_last_line_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / TIMELINE_FILE
    path.write_text('{"ev":"meta","cpus":1,"partitions":{}}\n{"ev":"idle","cpu":0,"ts":0,"end":5}\n{"ev":"gra')
    assert [e["ev"] for e in read_timeline(path)] == ["meta", "idle"]


def test_the_timeline_does_not_change_the_console(tmp_path: Path, monkeypatch) -> None:
    config = tmp_path / "p.xml"
    config.write_text(PORTS_SYSTEM)
    with_tl = run_prtosd(config, tmp_path / "a", "--until", "40ms")
    monkeypatch.setenv("PRTOSD_TIMELINE", "0")
    without = run_prtosd(config, tmp_path / "b", "--until", "40ms")
    assert with_tl.returncode == without.returncode == 0
    assert with_tl.stdout == without.stdout
    assert (tmp_path / "a" / TIMELINE_FILE).exists() and not (tmp_path / "b" / TIMELINE_FILE).exists()


def _audit(run_dir: Path, config: Path) -> list[Record]:
    return [Record.unpack(r) for r in _records(run_dir, config, "hyptr")]


def test_hypervisor_audit_stream_records_selected_modules(tmp_path: Path) -> None:
    xml = faulty_system("hm_unrec.c", "PARTITION_ERROR", "IGNORE", extra='<Trace device="tr0" bitmask="0x1"/>')
    config = tmp_path / "s.xml"
    config.write_text(with_traces(xml, "HYP_IRQS HYP_HCALLS HYP_SCHED HYP_HM"))
    run = run_prtosd(config, tmp_path / "run", "--until", "3ms")
    assert run.returncode == 0, run.stderr
    audit = _audit(tmp_path / "run", config)
    part = [Record.unpack(r) for r in _records(tmp_path / "run", config, "tr0")]
    assert all(r.op_code_hi & 0xF == 1 for r in audit)  # NOTIFY, SYS
    # one global sequence: audit and partition records together number 0, 1, 2, ... without gaps
    assert sorted(r.sequence for r in audit + part) == list(range(len(audit) + len(part)))
    codes = [(r.event_id >> 8, r.event_id & 0xFF) for r in audit]
    sched = {v: k for k, v in SCHED_EVENTS.items()}
    names = [sched[e] if m == MOD_SCHED else f"{m}:{e}" for m, e in codes]
    # boot: both partitions reset, plan 0 starts, CPU 0 switches to P0
    assert names[:6] == ["PART_HALT", "VCPU_RESET", "PART_HALT", "VCPU_RESET", "PLAN_SWITCH_DONE", "CONTEXT_SWITCH"]
    assert audit[4].payload[:2] == (0xFFFFFFFF, 0)
    assert audit[5].payload[0] == 0x000 and audit[5].partition_id == 0xFF  # from idle to P0 vCPU 0
    # the trace write: HCALL_BEGIN (write_object, 4 words), BEGIN2, the stored record, EVENT_RAISED,
    # PART_ACTION (IGNORE, logged), HCALL_END (36 bytes); local calls (console writes, idle_self)
    # are recorded too, so idle_self's BEGIN/END come right before PART_IDLE and a switch to idle
    i = next(k for k in range(len(names)) if names[k : k + 3] == [f"{MOD_HCALLS}:1", f"{MOD_HCALLS}:2", f"{MOD_HM}:1"])
    assert names[i : i + 5] == [f"{MOD_HCALLS}:1", f"{MOD_HCALLS}:2", f"{MOD_HM}:1", f"{MOD_HM}:3", f"{MOD_HCALLS}:3"]
    j = names.index("PART_IDLE", i)
    assert names[j - 2 : j + 2] == [f"{MOD_HCALLS}:1", f"{MOD_HCALLS}:3", "PART_IDLE", "CONTEXT_SWITCH"]
    assert audit[j - 2].payload[0] == 8 << 16  # idle_self, no argument words
    assert audit[i].payload[0] == (12 << 16) | 4
    assert part[0].sequence == audit[i + 1].sequence + 1  # stored between BEGIN2 and EVENT_RAISED
    assert audit[i + 2].payload[0] == (2 << 16)  # op_code_lo of the HM record: PARTITION_ERROR, P0
    assert audit[i + 3].payload[0] == 1 << 31  # logged, IGNORE
    assert audit[i + 4].payload[0] == 36
    assert all(r.partition_id == 0 for r in audit[i : j + 1])
    assert (MOD_IRQS, 2) not in codes  # no CPU exception in this run (no TRAP_RAISED)


def test_hypervisor_audit_trap_raised_precedes_the_hm_event(tmp_path: Path) -> None:
    config = tmp_path / "s.xml"
    config.write_text(with_traces(faulty_system("hm_pf.c", "X86_PAGE_FAULT", "PROPAGATE"), "HYP_IRQS HYP_HM"))
    run = run_prtosd(config, tmp_path / "run", "--until", "1ms")
    assert run.returncode == 0, run.stderr
    audit = _audit(tmp_path / "run", config)
    ids = [(MOD_IRQS << 8) | 2, (MOD_HM << 8) | 1, (MOD_HM << 8) | 3, (MOD_IRQS << 8) | 3]
    assert [r.event_id for r in audit] == ids
    assert [r.sequence for r in audit] == [0, 1, 2, 3]
    assert audit[0].payload[0] == 14 and audit[0].payload[1] == audit[1].payload[2]  # trap, same EIP
    assert audit[2].payload[0] == 1 << 31 | 9  # PROPAGATE, logged
    assert audit[3].payload[0] == 14  # IRQ_EMUL: the propagated trap injected on its vector
