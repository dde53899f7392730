"""The reference scenarios (configs/*), run end to end with ``prtosd start``.

Each scenario is started as a child process with the specification's timeout as ``--until``.
The test oracle of the specification is applied to its console (standard output, ``\\r``
removed): the number of lines ending with ``Verification Passed`` must equal the expected count
exactly. On top of that, the scenario's listed console lines must appear in the listed order
(other lines, such as the boot banner, may come in between), and a second run must produce the
same bytes (the runtime is deterministic in virtual time).

Placeholders in expected lines:

* ``<t>``, ``<pc>``, ``<fl>`` - any decimal number / hexadecimal number / hexadecimal number;
* ``<t0>``, ``<t1>``, ... - a decimal number, the same wherever the same name appears;
* ``<~N>`` - a decimal number within ``APPROX_US`` of N (a virtual time in microseconds).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CONFIGS = REPO / "configs"

#: Wall-clock budget of one prtosd run. Every scenario finishes in about a second of wall time
#: when the runtime is complete; a run that needs longer is a failure, not a reason to wait.
WALL_TIMEOUT_S = 20.0

#: Tolerance of ``<~N>`` placeholders, in microseconds of virtual time.
APPROX_US = 10_000

XFAIL_FAST_FORWARD = (
    "spin-loop fast-forward: the program busy-waits for seconds of virtual time "
    "(`while (count < N);` / `while (1);`), which the engine executes instruction by instruction"
)


@dataclass(frozen=True)
class Scenario:
    name: str
    until: str
    count: int
    lines: tuple[str, ...]
    #: Lines that must appear in order, checked separately from ``lines`` (for output of
    #: partitions running in parallel on different CPUs, whose relative order is free).
    groups: tuple[tuple[str, ...], ...] = ()
    xfail: str | None = None


def _lines(text: str) -> tuple[str, ...]:
    """The lines of a block; ``<sp>`` stands for a trailing space (kept visible in the source)."""
    return tuple(line.replace("<sp>", " ") for line in text.strip("\n").split("\n"))


SCENARIOS = [
    Scenario(
        "helloworld",
        "15s",
        1,
        _lines("""
[0] Hello World!
[0] Verification Passed
[HYPERCALL] (0x0) Halted
"""),
    ),
    Scenario(
        "helloworld_smp",
        "30s",
        2,
        (),
        groups=(
            _lines("""
I'm Partition0:vCPU0,My name is Partition0
Verification Passed
[HYPERCALL] (0x0) Halted
"""),
            _lines("""
I'm Partition1:vCPU0,My name is Partition1
Verification Passed
[HYPERCALL] (0x1) Halted
"""),
        ),
    ),
    Scenario(
        "example.001",
        "30s",
        2,
        _lines("""
[0] Setting HW timer at 1 sec period
[1] Setting EXEC timer at 1 sec period
[0] [<~1000000>:<~500000>] IRQ HW Timer
[0] [<~2000000>:<~1000000>] IRQ HW Timer
[1] [<~2500000>:<~1000000>] IRQ EXEC Timer
[0] [<~3000000>:<~1500000>] IRQ HW Timer
[0] [<~4000000>:<~2000000>] IRQ HW Timer
[1] [<~4500000>:<~2000000>] IRQ EXEC Timer
[0] [<~5000000>:<~2500000>] IRQ HW Timer
[0] Verification Passed
[0] Halting
[HYPERCALL] (0x0) Halted
[1] [<~6500000>:<~3000000>] IRQ EXEC Timer
[1] [<~8500000>:<~4000000>] IRQ EXEC Timer
[1] [<~10500000>:<~5000000>] IRQ EXEC Timer
[1] Verification Passed
[1] Halting
[HYPERCALL] (0x1) Halted
"""),
    ),
    Scenario(
        "example.002",
        "8s",
        1,
        _lines("""
[0] Dividing by zero...
[HM] <t0>:PRTOS_HM_EV_X86_DIVIDE_ERROR (6):PART(0)
ip: 0x<pc> flags: 0x<fl>
[HM] PRTOS_HM_AC_PARTITION_HALT(7) PRTOS_HM_LOG_ENABLED
[HM] Partition 0 halted
[1] Dividing by zero...
[HM] <t1>:PRTOS_HM_EV_X86_DIVIDE_ERROR (6):PART(1)
ip: 0x<pc> flags: 0x<fl>
[HM] PRTOS_HM_AC_PROPAGATE(9) PRTOS_HM_LOG_ENABLED
[1] #Divide Exception propagated, ignoring...
[1] Verification Passed
[1] Halting
[HYPERCALL] (0x1) Halted
[2]  --------- Health Monitor Log ---------------
[2] Log => part_Id: 0x0 eventId: 0x6 timeStamp: <t0>
[2] Log => part_Id: 0x1 eventId: 0x6 timeStamp: <t1>
[HYPERCALL] (0x2) Halted
"""),
    ),
    Scenario(
        "example.003",
        "30s",
        3,
        _lines("""
[0] New trace: 0
[1] New trace: ffff
[2]  --------- Trace Log ---------------
[2] [Trace] part_id: 0 time: <t> opCode: 4 payload: {0,0}
[2] [Trace] part_id: 1 time: <t> opCode: 14 payload: {1,ffff}
[0] New trace: 1
[1] New trace: fffe
[2] [Trace] part_id: 0 time: <t> opCode: 24 payload: {0,1}
[2] [Trace] part_id: 1 time: <t> opCode: 34 payload: {1,fffe}
[0] Verification Passed
[0] Halting
[HYPERCALL] (0x0) Halted
[1] Verification Passed
[1] Halting
[HYPERCALL] (0x1) Halted
[2] Verification Passed
[2] Halting
[HYPERCALL] (0x2) Halted
"""),
    ),
    Scenario(
        "example.004",
        "30s",
        1,
        _lines("""
[0] Opening ports...
[0] done
[0] Generating messages...
[0] SEND <<sampling message 0>>
[1] Opening ports...
[1] done
[1] Waiting for messages
[2] Opening ports...
[2] done
[2] Waiting for messages
[0] SEND <<queuing message 0>>
[1] RECEIVE <<queuing message 0>>
[1] SHM WRITE 0
[0] SEND <<sampling message 1>>
[1] RECEIVE <<sampling message 1>>
[2] RECEIVE <<sampling message 1>>
[2] READ SHM 0
[0] SEND <<queuing message 1>>
[1] RECEIVE <<queuing message 1>>
[1] SHM WRITE 1
[0] Done
[0] Verification Passed
[0] Halting
[HYPERCALL] (0x0) Halted
"""),
    ),
    Scenario(
        "example.005",
        "8s",
        1,
        _lines("""
[0] ----- Contents of the Custom File -----
[0] I'm the custom file!
[0] ----- Contents of the Custom File -----
[0] Verification Passed
[0] Halting
[HYPERCALL] (0x0) Halted
"""),
    ),
    Scenario(
        "example.006",
        "30s",
        1,
        _lines("""
[2][<~0>] Run 0
[2][<~0>] Switch to plan 1 --> OK
[0][<~400000>] Run 0
[1][<~800000>] Run 0
[0][<~1200000>] Run 1
[1][<~1600000>] Run 1
[2][<~2000000>] Run 1
[0][<~2400000>] Run 2
[1][<~2800000>] Run 2
[2][<~3200000>] Run 2
[2][<~3200000>] Switch to plan 2 --> OK
[0][<~3600000>] Run 3
[1][<~4000000>] Run 3
[2][<~4400000>] Run 3
[1][<~4800000>] Run 4
[2][<~5200000>] Run 4
[2][<~5200000>] Switch to plan 0 --> FAILED
[1][<~5600000>] Run 5
[2][<~6000000>] Run 5
[1][<~6400000>] Run 6
[2][<~6800000>] Verification Passed
[2][<~6800000>] Halting
[HYPERCALL] (0x2) Halted
[1][<~7200000>] Run 7
[1][<~8000000>] Run 8
[1][<~8800000>] Run 9
[HYPERCALL] (0x1) Halted
"""),
    ),
    Scenario(
        "example.007",
        "40s",
        1,
        _lines("""
[0] Partition 0
[0] Status P2 => 0x1 ;  P3 => 0x1
[1] Partition 1
[1] cnt: 1
[2] Partition 2
[2] cnt: 1
[1] cnt: 2
[2] cnt: 2
[0] Partition 1  0 is suspended
[0] Status P2 => 0x2 ;  P3 => 0x1
[2] cnt: 3
[2] cnt: 4
[0] Partition 2  0 is suspended
[0] Status P2 => 0x2 ;  P3 => 0x2
[0] Partition 1  0 is resumed<sp>
[0] Status P2 => 0x1 ;  P3 => 0x2
[1] cnt: 3
[1] cnt: 4
[0] Partition 2  0 is resumed<sp>
[0] Status P2 => 0x1 ;  P3 => 0x1
[1] cnt: 5
[2] cnt: 5
[HYPERCALL] (0x1) Halted
[HYPERCALL] (0x2) Halted
[0] Partition 1  -1 is halted<sp>
[0] Partition 2  -1 is halted<sp>
[0] Partition 1  0 is restarted<sp>
[0] Status P2 => 0x1 ;  P3 => 0x3
[1] Partition 1
[1] cnt: 1
[1] cnt: 2
[0] Partition 2  0 is restarted<sp>
[0] Status P2 => 0x1 ;  P3 => 0x1
[1] cnt: 3
[2] Partition 2
[2] cnt: 1
[1] cnt: 4
[2] cnt: 2
[0] Verification Passed
[0] Halting System ...
System halted.
"""),
    ),
    Scenario(
        "example.008",
        "60s",
        2,
        _lines("""
[0] I'm Partition0:vCPU0,My name is Partition0

[1] I'm Partition1:vCPU0,My name is Partition1

[0] I'm Partition0:vCPU1,My name is Partition0

[0] Verification Passed
[1] I'm Partition1:vCPU1,My name is Partition1

[1] Verification Passed
"""),
    ),
    Scenario(
        "example.009",
        "30s",
        2,
        _lines("""
[HM] <t>:PRTOS_HM_EV_X86_PAGE_FAULT (20):PART(0)
ip: 0x<pc> flags: 0x<fl>
[HM] PRTOS_HM_AC_PARTITION_HALT(7) PRTOS_HM_LOG_DISABLED
[HM] Partition 0 halted
[1] Setting HW timer at 1 sec period
[2] Waiting for messages
[1] SHM WRITE 0
[2] READ SHM 0
[1] SHM WRITE 1
[1] Verification Passed
[1] Halting
[HYPERCALL] (0x1) Halted
[2] READ SHM 1
[2] Verification Passed
"""),
    ),
]

#: The demo is not a reference scenario (no "Verification Passed"); it must end by itself with a
#: system halt after the Controller's injected fault has moved the system to the maintenance plan.
DEMO = Scenario(
    "demo",
    "10s",
    0,
    _lines("""
[Sensor] reading #0: 18 C
[Controller] reading #0 is 18 C -> HEAT
[Actuator] command for #0: heater on
[Monitor] plan normal | Sensor ready | Controller ready | Actuator ready
[Controller] reading #3 is 23 C -> COOL
[Controller] injected fault: dividing by zero
[HM] <t0>:PRTOS_HM_EV_X86_DIVIDE_ERROR (6):PART(1)
ip: 0x<pc> flags: 0x<fl>
[HM] PRTOS_HM_AC_PROPAGATE(9) PRTOS_HM_LOG_ENABLED
[Controller] divide error trapped, skipping the faulty computation
[Actuator] command for #3: fan on
[Monitor] HM log: event 6 in partition 1 at <t0> us
[Monitor] Controller fault: halting it, maintenance plan from the next frame
[HYPERCALL] (0x1) Halted
[Sensor] reading #4: 24 C
[Actuator] no command -> safe state, all off
[Monitor] plan maintenance | Sensor ready | Controller halted | Actuator ready
[Monitor] maintenance ran 3 frames, halting the system
System halted.
"""),
)


# -- running prtosd ---------------------------------------------------------------------------


@dataclass
class Run:
    returncode: int | None  # None: killed at the wall-clock timeout
    stdout: bytes
    stderr: str

    def console(self) -> list[str]:
        return self.stdout.decode("utf-8", "replace").replace("\r", "").split("\n")


def run_prtosd(name: str, until: str, run_dir: Path) -> Run:
    """``prtosd start configs/<name>/system.xml --until <until>`` with a wall-clock limit."""
    cmd = [
        sys.executable,
        "-m",
        "prtosd",
        "start",
        str(CONFIGS / name / "system.xml"),
        "--until",
        until,
        "--run-dir",
        str(run_dir),
    ]
    # A session of its own, so that on a timeout the whole tree (prtosd and its partition
    # processes) can be stopped by its process-group id.
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=WALL_TIMEOUT_S)
        return Run(proc.returncode, out, err.decode("utf-8", "replace"))
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            out, err = proc.communicate(timeout=5)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, err = proc.communicate()
        return Run(None, out, err.decode("utf-8", "replace"))


# -- matching ---------------------------------------------------------------------------------

_PLACEHOLDER = re.compile(r"<(t|pc|fl|t\d+|~\d+)>")


def _compile(expected: str, bound: dict[str, str]) -> tuple[re.Pattern[str], list[tuple[str, str]]]:
    """A full-line regex for one expected line and the list of its (kind, group name) captures."""
    parts: list[str] = []
    captures: list[tuple[str, str]] = []
    pos = 0
    for i, m in enumerate(_PLACEHOLDER.finditer(expected)):
        parts.append(re.escape(expected[pos : m.start()]))
        key = m.group(1)
        group = f"g{i}"
        if key == "t":
            parts.append(r"\d+")
        elif key in ("pc", "fl"):
            parts.append(r"[0-9a-f]+")
        elif key.startswith("~"):
            parts.append(rf"(?P<{group}>\d+)")
            captures.append((key, group))
        elif key in bound:
            parts.append(re.escape(bound[key]))
        else:
            parts.append(rf"(?P<{group}>\d+)")
            captures.append((key, group))
        pos = m.end()
    parts.append(re.escape(expected[pos:]))
    return re.compile("".join(parts)), captures


def _line_matches(expected: str, line: str, bound: dict[str, str]) -> dict[str, str] | None:
    """New bindings if ``line`` matches ``expected`` (honouring earlier bindings), else None."""
    pattern, captures = _compile(expected, bound)
    m = pattern.fullmatch(line)
    if m is None:
        return None
    new: dict[str, str] = {}
    for key, group in captures:
        value = m.group(group)
        if key.startswith("~"):
            if abs(int(value) - int(key[1:])) > APPROX_US:
                return None
        elif new.setdefault(key, value) != value:
            return None
    return new


def assert_in_order(console: list[str], expected: tuple[str, ...], what: str) -> None:
    """Every expected line appears, in order, as a whole console line."""
    bound: dict[str, str] = {}
    pos = 0
    for n, exp in enumerate(expected):
        for i in range(pos, len(console)):
            new = _line_matches(exp, console[i], bound)
            if new is not None:
                bound.update(new)
                pos = i + 1
                break
        else:
            shown = "\n".join(console)
            pytest.fail(
                f"{what}: expected line {n + 1} {exp!r} not found after console line {pos}\n--- console ---\n{shown}"
            )


def verification_count(console: list[str]) -> int:
    return sum(1 for line in console if line.endswith("Verification Passed"))


def check_run(scenario: Scenario, run: Run) -> None:
    console = run.console()
    text = "\n".join(console)
    if run.returncode is None:
        pytest.fail(
            f"{scenario.name}: prtosd did not finish --until {scenario.until} within {WALL_TIMEOUT_S:.0f} s "
            f"of wall time\n--- console so far ---\n{text}\n--- stderr ---\n{run.stderr}"
        )
    assert run.returncode == 0, f"prtosd exited with {run.returncode}\n--- stderr ---\n{run.stderr}"
    assert_in_order(console, scenario.lines, scenario.name)
    for i, group in enumerate(scenario.groups):
        assert_in_order(console, group, f"{scenario.name} (group {i})")
    count = verification_count(console)
    assert count == scenario.count, (
        f"{scenario.name}: {count} lines end with 'Verification Passed', expected exactly "
        f"{scenario.count}\n--- console ---\n{text}"
    )


def _param(s: Scenario):
    marks = [pytest.mark.xfail(strict=True, reason=s.xfail)] if s.xfail else []
    return pytest.param(s, id=s.name, marks=marks)


# -- tests ------------------------------------------------------------------------------------


@pytest.mark.parametrize("scenario", [_param(s) for s in SCENARIOS])
def test_scenario(scenario: Scenario, tmp_path: Path) -> None:
    first = run_prtosd(scenario.name, scenario.until, tmp_path / "run1")
    check_run(scenario, first)
    second = run_prtosd(scenario.name, scenario.until, tmp_path / "run2")
    assert second.returncode == first.returncode
    assert second.stdout == first.stdout, f"{scenario.name}: the second run's console differs from the first"


@pytest.mark.parametrize("scenario", [_param(DEMO)])
def test_demo(scenario: Scenario, tmp_path: Path) -> None:
    first = run_prtosd(scenario.name, scenario.until, tmp_path / "run1")
    check_run(scenario, first)
    assert "system halted" in first.stderr, f"the demo must end with a system halt\n{first.stderr}"
    second = run_prtosd(scenario.name, scenario.until, tmp_path / "run2")
    assert second.stdout == first.stdout, "demo: the second run's console differs from the first"


def test_matcher() -> None:
    """The placeholder matching used above: bindings, approximate times, hex fields."""
    console = ["noise", "[HM] 600001:EV", "ip: 0x60000b6 flags: 0x46", "[2] ts 600001", "[1][1200082] Run 1"]
    assert_in_order(console, ("[HM] <t0>:EV", "ip: 0x<pc> flags: 0x<fl>", "[2] ts <t0>", "[1][<~1200000>] Run 1"), "ok")
    with pytest.raises(pytest.fail.Exception):
        assert_in_order(console, ("[HM] <t0>:EV", "[2] ts <t0>", "[1][<~1300000>] Run 1"), "approx")
    with pytest.raises(pytest.fail.Exception):
        assert_in_order(["[HM] 5:EV", "[2] ts 6"], ("[HM] <t0>:EV", "[2] ts <t0>"), "binding")
    with pytest.raises(pytest.fail.Exception):
        assert_in_order(["b", "a"], ("a", "b"), "order")
    assert verification_count(["[0] Verification Passed", "Verification Passed!", "x Verification Passed"]) == 2
