"""``prtosd report --gantt FILE.png``: the executed schedule of a run, drawn per CPU.

The picture is built from the run's ``timeline.jsonl`` (:mod:`prtosd.timeline`), i.e. from what
*executed* — grants as they really ended (idle, halted, budget) — not from the configured plan,
so it shows where a partition gave its slot away, where HM events hit and what they did.

One row per CPU; each grant is a bar coloured by partition; idle time is left blank. Markers:
HM events (red triangles, labelled with event and action), partition halts (black ``x``),
partition and vCPU resets (violet triangles), plan switches (blue dashed lines), system halts
and resets (a full-height black or violet line). The x axis is virtual time in ms since the first boot.

matplotlib is imported lazily with the non-interactive Agg backend, so nothing needs a display
and other commands do not pay for the import.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

from prtosd.timeline import TIMELINE_FILE, read_timeline

#: Slices longer than this many µs get their partition written inside the bar.
_LABEL_MIN_FRACTION = 0.04


def _load(run_dir: Path) -> list[dict[str, Any]]:
    path = Path(run_dir) / TIMELINE_FILE
    if not path.exists():
        raise FileNotFoundError(f"no timeline in {run_dir} ({TIMELINE_FILE} is missing)")
    return list(read_timeline(path))


def gantt(run_dir: Path, out: Path, *, title: str | None = None) -> dict[str, int]:
    """Draw the Gantt chart of ``run_dir`` into ``out`` (PNG); returns counts of what was drawn."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    events = _load(run_dir)
    meta = next((e for e in events if e.get("ev") == "meta"), {})
    names: dict[str, str] = meta.get("partitions", {})
    cpus = max([int(meta.get("cpus", 1))] + [int(e.get("cpu", 0)) + 1 for e in events if "cpu" in e])
    bars: dict[int, list[tuple[float, float, int]]] = defaultdict(list)
    end_ms = 0.0
    for e in events:
        if e.get("ev") in ("grant", "idle", "hm", "state", "system", "plan", "hcall", "port"):
            end_ms = max(end_ms, float(e.get("end", e.get("ts", 0))) / 1000)
        if e.get("ev") == "grant":
            bars[int(e["cpu"])].append((e["ts"] / 1000, (e["end"] - e["ts"]) / 1000, int(e["p"])))
    end_ms = max(end_ms, 1e-3)

    cmap = plt.get_cmap("tab10")
    pids = sorted({p for rows in bars.values() for *_, p in rows} | {int(k) for k in names})
    colour = {p: cmap(i % 10) for i, p in enumerate(pids)}
    fig, ax = plt.subplots(figsize=(max(8.0, min(24.0, 6 + end_ms / 10)), 1.2 + 0.9 * cpus), dpi=100)
    counts = {"grants": 0, "hm": 0, "halts": 0, "resets": 0, "system": 0}
    for cpu in range(cpus):
        y = cpus - 1 - cpu
        for start, width, pid in bars.get(cpu, []):
            ax.broken_barh(
                [(start, max(width, end_ms * 2e-3))], (y - 0.35, 0.7), facecolors=colour[pid], edgecolor="none"
            )
            counts["grants"] += 1
            if width >= end_ms * _LABEL_MIN_FRACTION:
                ax.text(start + width / 2, y, f"P{pid}", ha="center", va="center", fontsize=7, color="white")
    # a partition reset is reported as a halt followed by a vCPU reset at the same instant: not a halt
    labelled: set[tuple[int, str, str]] = set()
    resets = {(e["p"], e["ts"]) for e in events if e.get("ev") == "state" and e["what"] == "VCPU_RESET"}
    for e in events:
        kind = e.get("ev")
        if "ts" not in e:
            continue
        x = e["ts"] / 1000
        y = cpus - 1 - int(e.get("cpu", 0))
        if kind == "hm":
            ax.plot([x], [y + 0.42], marker="v", color="red", markersize=7, zorder=5)
            short = str(e["name"]).removeprefix("PRTOS_HM_EV_")
            if (y, short, e["action"]) in labelled:  # repeated events: one label per row is enough
                counts["hm"] += 1
                continue
            labelled.add((y, short, e["action"]))
            ax.annotate(f"{short}→{e['action']}", (x, y + 0.42), xytext=(3, -9), textcoords="offset points",
                        fontsize=6, color="red")  # fmt: skip
            counts["hm"] += 1
        elif kind == "state" and e["what"] in ("PART_HALT", "VCPU_HALT") and (e["p"], e["ts"]) not in resets:
            ax.plot([x], [y], marker="x", color="black", markersize=8, mew=2, zorder=6)
            counts["halts"] += 1
        elif kind == "state" and e["what"] == "VCPU_RESET" and e["ts"] > 0:
            ax.plot([x], [y - 0.42], marker="^", color="darkviolet", markersize=7, zorder=6)
            counts["resets"] += 1
        elif kind == "plan" and e["what"] == "PLAN_SWITCH_DONE" and e["ts"] > 0:
            ax.axvline(x, color="tab:blue", linestyle="--", linewidth=1)
        elif kind == "system":
            ax.axvline(x, color="black" if e["what"] == "halt" else "darkviolet", linewidth=2)
            ax.text(x, cpus - 0.45, f"system {e['what']}", fontsize=7, rotation=90, va="top", ha="right")
            counts["system"] += 1

    ax.set_yticks(range(cpus), [f"CPU {cpus - 1 - i}" for i in range(cpus)])
    ax.set_ylim(-0.6, cpus - 0.4)
    ax.set_xlim(0, end_ms * 1.01)
    ax.set_xlabel("virtual time (ms)")
    ax.grid(axis="x", alpha=0.3)
    ax.set_title(title or f"executed schedule: {meta.get('system', run_dir.name)}")
    handles: list[Any] = [Patch(color=colour[p], label=f"P{p} {names.get(str(p), '')}".rstrip()) for p in pids]
    handles += [
        Line2D([], [], marker="v", color="red", linestyle="", label="HM event"),
        Line2D([], [], marker="x", color="black", linestyle="", label="halt"),
        Line2D([], [], marker="^", color="darkviolet", linestyle="", label="partition/vCPU reset"),
    ]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=7, frameon=False)
    fig.tight_layout()
    fig.savefig(out, format="png")
    plt.close(fig)
    return counts
