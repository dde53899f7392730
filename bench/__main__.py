"""``python -m bench [P1 P2 P3 P4 P5 P6 startup remote ...]``: the performance suite, ratios measured side by side.

Engine figures (P1 compute throughput vs raw Unicorn, P2 local hypercall vs a bare ``int`` hook,
spin fast-forward) come from bench/engine.py; system figures (P3 partition switch vs a ZeroMQ
round trip, P4 the scenarios end to end, P5 queuing throughput vs raw PUSH/PULL, start-up, and
remote: P5 with the receiver on another address vs local) from bench/system.py; P6 (64 partitions
on a 1000-slot plan: switches/s, memory per partition process, growth from 8 to 64) from
bench/scale.py. Results are printed and written as JSON to ``bench-results.json`` (or the path
in ``PRTOSD_BENCH_JSON``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from bench import scale, system

HERE = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    select = set(argv)
    system.compile_project()  # as an installation would: no figure includes compiling the sources
    results: dict[str, object] = {}
    if not select or select & {"P1", "P2", "engine"}:
        print("engine (P1, P2, spin) ...", flush=True)
        proc = subprocess.run([sys.executable, str(HERE / "engine.py")], capture_output=True, text=True, check=False)
        print(proc.stdout, end="")
        if proc.returncode != 0:
            print(proc.stderr, file=sys.stderr)
            return proc.returncode
        results["engine"] = proc.stdout.splitlines()
    rest = select - {"P1", "P2", "engine", "P6"}
    if not select or rest:
        results.update(system.main(rest or None))
    if not select or "P6" in select:
        print("P6 ...", flush=True)
        with tempfile.TemporaryDirectory(prefix="prtosd-scale-") as d:
            results["P6"] = scale.p6_scale(Path(d))
        print("  P6: " + ", ".join(f"{k}={v:.4g}" for k, v in results["P6"].items()), flush=True)
    out = Path(os.environ.get("PRTOSD_BENCH_JSON", "bench-results.json"))
    out.write_text(json.dumps(results, indent=2))
    print(f"results written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
