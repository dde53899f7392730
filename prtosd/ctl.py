"""``prtosctl``: control a running prtosd system (status, partition, system and plan commands, logs).

The help of each command that talks to the daemon is the docstring of its control command class
(:mod:`prtosd.control`), so the wire message and the usage are written once.

Exit codes: 0 success; 1 the daemon refused the command or reported an error (a PRTOS code such
as -1 NO_ACTION, or a control error); 2 bad command line (or an unusable key file); 3 no running
system found, or it does not answer; 4 unauthorised (the run token is unreadable or was refused,
or the TCP endpoint refused the CURVE handshake).
"""

from __future__ import annotations

import functools
import inspect
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from prtosd import __version__
from prtosd.client import Client, ClientError, find_run_dir, list_systems
from prtosd.control.registry import COMMANDS

F = TypeVar("F", bound=Callable[..., Any])


class Target:
    """Where the system to control is: from the global options."""

    def __init__(
        self,
        run_dir: str | None,
        system: str | None,
        root: str | None,
        timeout: float,
        tcp: tuple[str, str, str] | None = None,
    ):
        self.run_dir = run_dir
        self.system = system
        self.root = Path(root) if root else None
        self.timeout = timeout
        self.tcp = tcp  # (endpoint, client key_secret file, server.key file) of --connect

    def client(self) -> Client:
        if self.tcp is not None:
            return Client.connect_tcp(*self.tcp, timeout=self.timeout)
        return Client(find_run_dir(self.run_dir, self.system, self.root), timeout=self.timeout)


def _doc(cmd: str) -> str:
    """Help text of a command: its control class's docstring, so usage and wire format are written once."""
    return inspect.cleandoc(COMMANDS[cmd].__doc__ or "")


def reports_errors(fn: F) -> F:
    """Turn client errors into a message on stderr and the documented exit code."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except ClientError as exc:
            errno = getattr(exc, "errno", None)
            suffix = f" (errno {errno})" if errno is not None else ""
            click.echo(f"prtosctl: {exc}{suffix}", err=True)
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            sys.exit(0)

    return wrapper  # type: ignore[return-value]


def _echo_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, sort_keys=True))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="prtosctl")
@click.option(
    "--run-dir", envvar="PRTOSCTL_RUN_DIR", type=click.Path(file_okay=False), help="Run directory of the system."
)
@click.option("-s", "--system", "system", help="Name of the system (searched under the run-dir root).")
@click.option("--root", envvar="PRTOSD_RUN_ROOT", type=click.Path(file_okay=False), help="Run-dir root to search.")
@click.option("--timeout", default=10.0, show_default=True, help="Seconds to wait for an answer.")
@click.option(
    "--connect",
    envvar="PRTOSCTL_CONNECT",
    metavar="tcp://HOST:PORT",
    help="Control the daemon listening there (prtosd start --control) instead of a local run directory.",
)
@click.option(
    "--key",
    envvar="PRTOSCTL_KEY",
    type=click.Path(dir_okay=False),
    help="With --connect: this client's key pair (DIR/clients/NAME.key_secret from 'prtosd keys').",
)
@click.option(
    "--server-key",
    envvar="PRTOSCTL_SERVER_KEY",
    type=click.Path(dir_okay=False),
    help="With --connect: the daemon's public key (DIR/server.key).",
)
@click.pass_context
def main(
    ctx: click.Context,
    run_dir: str | None,
    system: str | None,
    root: str | None,
    timeout: float,
    connect: str | None,
    key: str | None,
    server_key: str | None,
) -> None:
    """Control a running prtosd system.

    The system is the one in --run-dir, else the one named --system, else the only one running
    under the run-dir root; with --connect, the daemon at that TCP endpoint (CURVE: --key and
    --server-key). Exit codes: 0 ok, 1 refused by the daemon, 2 usage, 3 no system running (or no
    answer), 4 unauthorised (token or key refused).
    """
    tcp = None
    if connect is not None:
        if key is None or server_key is None:
            raise click.UsageError("--connect needs --key CLIENT.key_secret and --server-key server.key")
        if run_dir is not None or system is not None:
            raise click.UsageError("--connect and --run-dir/--system choose the system in two ways; give one")
        tcp = (connect, key, server_key)
    elif key is not None or server_key is not None:
        raise click.UsageError("--key and --server-key are only used with --connect tcp://HOST:PORT")
    ctx.obj = Target(run_dir, system, root, timeout, tcp)


pass_target = click.make_pass_decorator(Target)


def _call(target: Target, op: Callable[[Client], dict[str, Any]]) -> dict[str, Any]:
    """Connect, run one operation of the client API, disconnect."""
    with target.client() as client:
        return op(client)


def _partition_ref(text: str) -> int | str:
    return int(text) if text.isdecimal() else text


# -- status ---------------------------------------------------------------------------------------


def render_status(s: dict[str, Any]) -> str:
    """The human form of a ``status`` reply."""
    ctl = s.get("control", {})
    lines = [
        f"system {s['system']}  pid {s['pid']}  run dir {s['run_dir']}",
        f"state {s['state']}  virtual time {s['vtime_us'] / 1e6:.6f} s  MAF count {s['current_maf']}  "
        f"system resets {s['reset_counter']}  HM events {s['num_of_hm_events']}",
        f"control requests {ctl.get('requests', 0)}  rejected {ctl.get('rejected', 0)}  "
        f"unauthorised {ctl.get('unauthorised', 0)}  TCP handshakes refused: "
        f"key {ctl.get('handshake_refused_auth', 0)}  protocol {ctl.get('handshake_refused_protocol', 0)}  "
        f"other {ctl.get('handshake_refused_other', 0)}",
        f"partition endpoint messages rejected {s.get('rejected_vcpu_messages', 0)}",
        "",
        f"{'ID':>3} {'NAME':<16} {'STATE':<10} {'OPMODE':<11} {'RESETS':>6} {'EXEC(us)':>12} {'VIRQS':>6} "
        f"{'SP r/w':>11} {'QP s/r':>11}",
    ]
    for p in s["partitions"]:
        lines.append(
            f"{p['id']:>3} {p['name'][:16]:<16} {p['state']:<10} {p['op_mode']:<11} {p['reset_counter']:>6} "
            f"{p['exec_clock_us']:>12} {p['num_of_virqs']:>6} "
            f"{p['sampling_msgs_read']:>5}/{p['sampling_msgs_written']:<5} "
            f"{p['queuing_msgs_sent']:>5}/{p['queuing_msgs_received']:<5}"
        )
    lines += ["", f"{'CPU':>3} {'VTIME(us)':>12} {'PLAN':>4} {'NEXT':>4} {'MAF':>6} {'SLOT':>4} RUNNING"]
    for c in s["cpus"]:
        slot = c["slot"]["id"] if c["slot"] else "-"
        running = "P{}.{}".format(*c["running"]) if c["running"] else "idle"
        vt = "never" if c["vtime_us"] is None else c["vtime_us"]
        lines.append(
            f"{c['cpu']:>3} {vt:>12} {c['plan']:>4} {c['next_plan']:>4} {c['maf_count']:>6} {slot:>4} {running}"
        )
    procs = [(p["id"], v) for p in s["partitions"] for v in p["vcpus"] if v.get("process")]
    if procs:
        lines += ["", f"{'VCPU':>5} {'CPU':>3} {'PID':>8} {'HOSTCPU':>7} {'RSS(MiB)':>9}"]
    for pid, v in procs:
        pr = v["process"]
        host = "-" if pr["host_cpu"] is None else pr["host_cpu"]
        cpu = "-" if v["cpu"] is None else v["cpu"]
        name = f"P{pid}.{v['vcpu']}"
        lines.append(f"{name:>5} {cpu:>3} {pr['pid']:>8} {host:>7} {pr['rss_bytes'] / 2**20:>9.1f}")
    return "\n".join(lines)


@main.command(help=_doc("status"))
@click.option("--json", "as_json", is_flag=True, help="Print the reply's data as JSON.")
@pass_target
@reports_errors
def status(target: Target, as_json: bool) -> None:
    data = _call(target, Client.status)
    if as_json:
        _echo_json(data)
    else:
        click.echo(render_status(data))


# -- partition ------------------------------------------------------------------------------------


@main.group()
def partition() -> None:
    """Halt, suspend, resume or reset a partition (by id or name)."""


def _partition_command(verb: str, op: Callable[[Client, int | str], dict[str, Any]]) -> None:
    @partition.command(name=verb, help=_doc(f"partition_{verb}"))
    @click.argument("ref", metavar="ID|NAME")
    @pass_target
    @reports_errors
    def command(target: Target, ref: str) -> None:
        data = _call(target, lambda c: op(c, _partition_ref(ref)))
        click.echo(f"partition {ref}: {verb} at {data['vtime_us'] / 1e6:.6f} s virtual")


_partition_command("halt", Client.partition_halt)
_partition_command("suspend", Client.partition_suspend)
_partition_command("resume", Client.partition_resume)


@partition.command(name="reset", help=_doc("partition_reset"))
@click.option("--cold/--warm", "cold", default=True, help="Cold (default) or warm reset.")
@click.argument("ref", metavar="ID|NAME")
@pass_target
@reports_errors
def partition_reset(target: Target, cold: bool, ref: str) -> None:
    mode = "cold" if cold else "warm"
    data = _call(target, lambda c: c.partition_reset(_partition_ref(ref), mode))
    click.echo(f"partition {ref}: {mode} reset at {data['vtime_us'] / 1e6:.6f} s virtual")


# -- system ---------------------------------------------------------------------------------------


@main.group()
def system() -> None:
    """Halt or reset the whole system."""


@system.command(name="halt", help=_doc("system_halt"))
@pass_target
@reports_errors
def system_halt(target: Target) -> None:
    data = _call(target, Client.system_halt)
    click.echo(f"system halted at {data['vtime_us'] / 1e6:.6f} s virtual")


@system.command(name="reset", help=_doc("system_reset"))
@click.option("--cold/--warm", "cold", default=True, help="Cold (default) or warm reset.")
@pass_target
@reports_errors
def system_reset(target: Target, cold: bool) -> None:
    mode = "cold" if cold else "warm"
    data = _call(target, lambda c: c.system_reset(mode))
    click.echo(f"system {mode} reset at {data['vtime_us'] / 1e6:.6f} s virtual")


# -- plan -----------------------------------------------------------------------------------------


@main.group()
def plan() -> None:
    """Switch plans and show the plan status."""


@plan.command(name="switch", help=_doc("plan_switch"))
@click.argument("plan_id", metavar="ID", type=click.IntRange(0, 0xFFFF))
@pass_target
@reports_errors
def plan_switch(target: Target, plan_id: int) -> None:
    data = _call(target, lambda c: c.plan_switch(plan_id))
    click.echo(f"plan {plan_id} requested at {data['vtime_us'] / 1e6:.6f} s virtual (current plan {data['current']})")


@plan.command(name="status", help=_doc("plan_status"))
@click.option("--json", "as_json", is_flag=True, help="Print the reply's data as JSON.")
@pass_target
@reports_errors
def plan_status(target: Target, as_json: bool) -> None:
    data = _call(target, Client.plan_status)
    if as_json:
        _echo_json(data)
        return
    click.echo(f"{'CPU':>3} {'CURRENT':>7} {'NEXT':>4} {'PREV':>4} {'SWITCHED(us)':>12} {'MAF':>6}")
    for c in data["cpus"]:
        click.echo(
            f"{c['cpu']:>3} {c['current']:>7} {c['next']:>4} {c['prev']:>4} "
            f"{c['switch_time_us']:>12} {c['maf_count']:>6}"
        )


# -- hm and trace logs ----------------------------------------------------------------------------


def _gap() -> None:
    click.echo("prtosctl: the log wrapped; records overwritten before they could be read are missing", err=True)


def _print_records(target: Target, cmd: str, props: dict[str, Any], follow: bool, as_json: bool, fmt: Callable) -> None:
    with target.client() as client:
        for rec in client.records(cmd, props, follow=follow, on_gap=_gap):
            click.echo(json.dumps(rec, sort_keys=True) if as_json else fmt(rec))


def _hm_line(r: dict[str, Any]) -> str:
    ctx = (
        f"ip 0x{r['payload'][0]:x} flags 0x{r['payload'][1]:x}"
        if r["cpu_context"]
        else " ".join(f"0x{w:x}" for w in r["payload"])
    )
    flag = "" if r["intact"] else "  [bad checksum]"
    level = "SYS" if r["system"] else "PART"
    return (
        f"#{r['sequence']:<5} {r['timestamp_us']:>12} us  {r['event_name']} ({r['event']})  "
        f"{level} P{r['partition']}.{r['vcpu']}  {ctx}{flag}"
    )


def _trace_line(r: dict[str, Any]) -> str:
    flag = "" if r["intact"] else "  [bad checksum]"
    payload = " ".join(f"0x{w:x}" for w in r["payload"])
    return (
        f"#{r['sequence']:<5} {r['timestamp_us']:>12} us  code {r['code']} crit {r['criticality']}  "
        f"P{r['partition']}.{r['vcpu']}  {payload}{flag}"
    )


@main.group()
def hm() -> None:
    """The health-monitor log."""


@hm.command(name="log", help=_doc("hm_log"))
@click.option("--follow", "-f", is_flag=True, help="Keep printing new records until the system stops.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per record.")
@pass_target
@reports_errors
def hm_log(target: Target, follow: bool, as_json: bool) -> None:
    _print_records(target, "hm_log", {}, follow, as_json, _hm_line)


@main.group()
def trace() -> None:
    """Trace streams: dump or follow; export the run's timeline."""


@trace.command(name="dump", help=_doc("trace_dump"))
@click.argument("stream", default="hyp", metavar="[ID|NAME|hyp]")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per record.")
@pass_target
@reports_errors
def trace_dump(target: Target, stream: str, as_json: bool) -> None:
    _print_records(target, "trace_dump", {"stream": _partition_ref(stream)}, False, as_json, _trace_line)


@trace.command(name="follow")
@click.argument("stream", default="hyp", metavar="[ID|NAME|hyp]")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per record.")
@pass_target
@reports_errors
def trace_follow(target: Target, stream: str, as_json: bool) -> None:
    """Print a trace stream's records, then new ones as they are written, until the system stops."""
    _print_records(target, "trace_dump", {"stream": _partition_ref(stream)}, True, as_json, _trace_line)


@trace.command(name="export")
@click.option("--format", "fmt", type=click.Choice(["perfetto"]), default="perfetto", show_default=True)
@click.argument("file", type=click.Path(dir_okay=False, writable=True))
@pass_target
@reports_errors
def trace_export(target: Target, fmt: str, file: str) -> None:
    """Write the run's timeline as Chrome trace event JSON (opens in the Perfetto UI).

    Reads timeline.jsonl in the run directory, so it works on a running, finished or killed
    system; with --run-dir no daemon needs to be running.
    """
    from prtosd.control.trace_export import export

    run_dir = Path(target.run_dir) if target.run_dir else find_run_dir(None, target.system, target.root)
    try:
        n = export(run_dir, Path(file), fmt)
    except (OSError, ValueError) as exc:
        click.echo(f"prtosctl: {exc}", err=True)
        sys.exit(3)
    click.echo(f"{n} trace events written to {file}", err=True)


# -- console and list (files and ctl.json: no control command needed) -----------------------------


@main.group()
def console() -> None:
    """Partition consoles."""


@console.command(name="attach")
@click.argument("ref", metavar="ID|NAME")
@click.option("--follow/--no-follow", default=True, help="Keep streaming until the system stops (default).")
@pass_target
@reports_errors
def console_attach(target: Target, ref: str, follow: bool) -> None:
    """Stream one partition's console output live (what it has written so far, then new output).

    Reads <run dir>/console/P<id>.log; ends when the system stops, or on Ctrl-C.
    """
    out = click.get_binary_stream("stdout")
    with target.client() as client:
        for chunk in client.console(_partition_ref(ref), follow=follow):
            out.write(chunk)
            out.flush()


@main.command(name="list")
@click.option("--json", "as_json", is_flag=True, help="Print the systems as JSON.")
@pass_target
def list_command(target: Target, as_json: bool) -> None:
    """List the systems running under the run-dir root (or --root)."""
    found = list_systems(target.root)
    if as_json:
        _echo_json(
            [
                {"system": s.system, "pid": s.pid, "run_dir": str(s.run_dir), "config": s.config, "serve": s.serve}
                for s in found
            ]
        )
        return
    for s in found:
        click.echo(f"{s.system:<20} pid {s.pid:<8} {s.run_dir}")


if __name__ == "__main__":  # pragma: no cover
    main()
