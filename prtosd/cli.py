"""``prtosd``: check, build and run PRTOS system descriptions.

Exit codes: 0 success (the run ended at ``--until``, at a system halt, when every partition is
halted, or on SIGINT/SIGTERM); 2 invalid configuration or command line (click also uses 2 for
usage errors); 3 a partition build failed; 4 the run failed (a partition process could not be
started or supervised).
"""

from __future__ import annotations

import json
import os
import signal
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import click

from prtosd import __version__
from prtosd.config.units import to_time

# The configuration model, loader and lxml are imported by the commands that need them: `start`
# launches the partition fork server first, so that its imports overlap these.
if TYPE_CHECKING:
    from prtosd.config import System
    from prtosd.control.server import TcpControl

EXIT_CONFIG = 2
EXIT_BUILD = 3
EXIT_RUN = 4


#: Set when ``start`` has closed everything it opened (children, files, sockets): see :func:`entry`.
_run_closed = False


def entry() -> None:
    """The ``prtosd`` command: :func:`main`, then, after a run, an exit without interpreter teardown.

    Why: tearing down the modules a run imported (lxml, Unicorn's and ZeroMQ's bindings, the
    model) takes tens of ms of wall time per run, after everything is written and every child is
    gone — a cost each of a test suite's many short runs pays. Only a finished ``start`` takes
    this way out; every other command (and any error) ends the ordinary way.
    """
    try:
        main()
    except SystemExit as exc:
        if not _run_closed or not isinstance(exc.code, int | None):
            raise
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except OSError:  # e.g. a closed pipe: let the ordinary exit report it
            raise exc from None
        os._exit(exc.code or 0)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="prtosd")
def main() -> None:
    """Run PRTOS-style partitioned systems on an ordinary machine."""


@main.command()
@click.argument("config", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the checked model (or the errors) as JSON.")
def check(config: str, as_json: bool) -> None:
    """Validate CONFIG (a system.xml) and print a summary of the system.

    Prints every error as FILE:LINE: MESSAGE and exits 2 when the file is invalid.
    """
    from prtosd.config import ConfigError, load_system
    from prtosd.config.serialize import system_to_json_data
    from prtosd.config.summary import render

    try:
        system = load_system(config)
    except ConfigError as exc:
        if as_json:
            click.echo(
                json.dumps(
                    {
                        "ok": False,
                        "errors": [str(d) for d in exc.errors],
                        "warnings": [str(d) for d in exc.warnings],
                    },
                    indent=2,
                )
            )
        for d in sorted([*exc.warnings, *exc.errors], key=lambda d: d.line):
            click.echo(str(d), err=True)
        sys.exit(EXIT_CONFIG)
    for d in system.warnings:
        click.echo(str(d), err=True)
    if as_json:
        data = {"ok": True, "warnings": [str(d) for d in system.warnings], "system": system_to_json_data(system)}
        click.echo(json.dumps(data, indent=2))
    else:
        click.echo(render(system), nl=False)


@main.command()
@click.option("--config", "config", required=True, type=click.Path(dir_okay=False), help="The system.xml.")
@click.option(
    "--partition", "partition", required=True, help="Partition id or name (its first area is the load address)."
)
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="Image file to write.")
@click.option("-I", "include_dirs", multiple=True, type=click.Path(file_okay=False), help="Extra include directory.")
@click.option("-D", "defines", multiple=True, help="Preprocessor definition NAME or NAME=VALUE.")
@click.option(
    "--custom-file",
    "custom_files",
    multiple=True,
    type=click.Path(dir_okay=False),
    help="Custom file, in slot order (checked against the image header).",
)
@click.argument("sources", nargs=-1, required=True, type=click.Path(dir_okay=False))
def build(
    config: str,
    partition: str,
    output: str,
    include_dirs: tuple[str, ...],
    defines: tuple[str, ...],
    custom_files: tuple[str, ...],
    sources: tuple[str, ...],
) -> None:
    """Compile C SOURCES into the ELF image of one partition, with the guest SDK (cached)."""
    from partitiond.build import build_partition
    from partitiond.toolchain import ToolchainError

    system = _load_or_exit(config)
    part = next((p for p in system.partitions if str(p.id) == partition or (p.name and p.name == partition)), None)
    if part is None:
        click.echo(f'prtosd: no partition "{partition}" in {config}', err=True)
        sys.exit(EXIT_CONFIG)
    try:
        build_partition(
            [Path(x) for x in sources],
            Path(output),
            part.areas[0].start,
            [Path(d) for d in include_dirs],
            list(defines),
            [Path(c) for c in custom_files],
        )
    except ToolchainError as exc:
        click.echo(f"prtosd: build failed:\n{exc}", err=True)
        sys.exit(EXIT_BUILD)
    click.echo(f"prtosd: built {output} for partition {part.id} at 0x{part.areas[0].start:x}", err=True)


def _load_or_exit(config: str) -> System:
    """Load a configuration for a command that needs it: diagnostics on stderr, exit 2 on errors."""
    from prtosd.config import ConfigError, load_system

    try:
        system = load_system(config)
    except ConfigError as exc:
        for d in sorted([*exc.warnings, *exc.errors], key=lambda d: d.line):
            click.echo(str(d), err=True)
        sys.exit(EXIT_CONFIG)
    for d in system.warnings:
        click.echo(str(d), err=True)
    return system


def default_run_root() -> Path:
    """Where run directories go unless ``--run-dir`` says otherwise (``PRTOSD_RUN_ROOT`` overrides)."""
    env = os.environ.get("PRTOSD_RUN_ROOT")
    return Path(env) if env else Path(tempfile.gettempdir()) / f"prtosd-{os.getuid()}"


def _make_run_dir(run_dir: str | None, system_name: str) -> Path:
    if run_dir is not None:
        path = Path(run_dir)
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
    else:
        root = default_run_root()
        root.mkdir(mode=0o700, parents=True, exist_ok=True)
        path = Path(tempfile.mkdtemp(prefix=f"{system_name or 'system'}-", dir=root))
    os.chmod(path, 0o700)
    return path.resolve()


def _until(ctx: click.Context, param: click.Parameter, value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return to_time(value)
    except ValueError:
        raise click.BadParameter(f'"{value}" is not a time such as 15s, 500ms or 100us') from None


def _status_line(virtual_us: int, wall_s: float) -> None:
    ratio = virtual_us / 1e6 / wall_s if wall_s > 0 else 0.0
    click.echo(f"\r\033[K[prtosd] virtual {virtual_us / 1e6:10.3f} s   {ratio:8.2f}x real time", nl=False, err=True)


@main.command()
@click.argument("config", type=click.Path(dir_okay=False))
@click.option(
    "-p",
    "--partition-image",
    "images",
    multiple=True,
    metavar="ID:IMAGE[:CUSTOMFILE...]",
    help="Image (and custom files) of a partition, by id or name; overrides pd:image/pd:sources.",
)
@click.option("--until", "until", callback=_until, metavar="TIME", help="Stop at this virtual time (e.g. 15s).")
@click.option("--run-dir", type=click.Path(file_okay=False), help="Run directory (created 0700).")
@click.option("--timestamps", is_flag=True, help="Prefix console lines with virtual time and writer.")
@click.option(
    "--pace",
    type=click.Choice(["fast", "realtime"]),
    default="fast",
    show_default=True,
    help="fast: as fast as possible; realtime: virtual time follows the wall clock.",
)
@click.option(
    "--serve",
    is_flag=True,
    help="Keep running when nothing can run (or at --until): stand still, answering prtosctl, until halted "
    "by prtosctl or SIGTERM.",
)
@click.option(
    "--control",
    "control",
    metavar="tcp://ADDR:PORT",
    help="Also serve prtosctl on this TCP endpoint, CURVE-secured with --keys (PORT 0: any free port; the "
    "endpoint chosen is in <run dir>/ctl.json).",
)
@click.option(
    "--listen",
    metavar="tcp://ADDR:PORT",
    help="Where partitions placed on other hosts (pd:Placement) connect (port 0: any free port, written to "
    "RUN_DIR/listen). Needs --keys.",
)
@click.option(
    "--keys",
    "keys_dir",
    type=click.Path(file_okay=False),
    help="Key directory made by 'prtosd keys': the server key pair and the authorised client keys.",
)
@click.option(
    "--no-affinity",
    is_flag=True,
    help="Do not pin partition processes to host CPUs (default: system CPU c runs on host CPU c mod the host CPUs).",
)
def start(
    config: str,
    images: tuple[str, ...],
    until: int | None,
    run_dir: str | None,
    timestamps: bool,
    pace: str,
    serve: bool,
    control: str | None,
    keys_dir: str | None,
    listen: str | None,
    no_affinity: bool,
) -> None:
    """Run the system described by CONFIG.

    Partition consoles on UART 0 go to standard output in virtual-time order; every console is
    also saved under the run directory. The run ends at --until, at a system halt, when every
    partition is halted, or on Ctrl-C.
    """
    from prtosd.spawner import discard_prestarted, prestart

    prestart(Path(config))  # partition processes' fork server: its imports overlap ours and the builds
    click.get_current_context().call_on_close(discard_prestarted)  # not taken if we stop before the run

    from partitiond.toolchain import ToolchainError
    from prtosd.control.server import ControlSetupError
    from prtosd.images import ImageOptionError, parse_image_option, resolve_images
    from prtosd.remote import RemoteError, RemoteLink
    from prtosd.supervisor import Supervisor, SupervisorError

    tcp = _control_option(control, keys_dir)
    system = _load_or_exit(config)
    _check_listen(system, config, listen, keys_dir)
    rdir = _make_run_dir(run_dir, system.name)

    def build(pid: int, sources: tuple[Path, ...]) -> Path:
        from partitiond.build import build_partition

        out = rdir / "images" / f"partition{pid}.elf"
        out.parent.mkdir(exist_ok=True)
        return build_partition(sources, out, system.partitions[pid].areas[0].start)

    try:
        specs = [parse_image_option(text, system) for text in images]
        resolved = resolve_images(system, specs, build)
    except ImageOptionError as exc:
        click.echo(f"prtosd: {exc}", err=True)
        sys.exit(EXIT_CONFIG)
    except ToolchainError as exc:
        click.echo(f"prtosd: build failed:\n{exc}", err=True)
        sys.exit(EXIT_BUILD)

    def stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    old = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}
    sup = None
    code = 0
    try:
        sup = Supervisor(
            system,
            Path(config),
            resolved,
            rdir,
            stdout=sys.stdout.buffer,
            until_us=until,
            timestamps=timestamps,
            pace=pace == "realtime",
            serve=serve,
            affinity=not no_affinity,
        )
        sup.control_tcp = tcp
        if listen is not None and keys_dir is not None:
            sup.remote = RemoteLink(sup, listen, Path(keys_dir))
        sup.start()
        if sup.control is not None and sup.control.tcp is not None:
            click.echo(f"prtosd: control endpoint {sup.control.tcp.endpoint}", err=True)
        stats = sup.run(_status_line if sys.stderr.isatty() else None)
        if sys.stderr.isatty():
            click.echo("\r\033[K", nl=False, err=True)
        click.echo(
            f"prtosd: {stats.exit_reason or 'stopped'} at {stats.virtual_us / 1e6:.6f} s virtual "
            f"({stats.wall_s:.3f} s wall); run directory {rdir}",
            err=True,
        )
    except KeyboardInterrupt:
        click.echo(f"prtosd: interrupted; run directory {rdir}", err=True)
    except (SupervisorError, RemoteError) as exc:
        click.echo(f"prtosd: {exc}", err=True)
        code = EXIT_RUN
    except ControlSetupError as exc:
        click.echo(f"prtosd: --control: {exc}", err=True)
        code = EXIT_CONFIG
    finally:
        if sup is not None:
            sup.close()
        for s, h in old.items():
            signal.signal(s, h)
    global _run_closed
    _run_closed = True
    sys.exit(code)


def _control_option(control: str | None, keys_dir: str | None) -> TcpControl | None:
    """Check ``--control``/``--keys`` before anything starts; usage errors exit 2."""
    from prtosd.control.server import TcpControl, parse_tcp_endpoint
    from prtosd.keys import KeysError, check_server_dir

    if control is None:
        return None  # --keys alone is not an error: other TCP endpoints use the same key directory
    if keys_dir is None:
        raise click.UsageError("--control needs --keys DIR (a key directory made by 'prtosd keys DIR')")
    try:
        endpoint = parse_tcp_endpoint(control)
        check_server_dir(Path(keys_dir))
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--control") from None
    except KeysError as exc:
        raise click.BadParameter(str(exc), param_hint="--keys") from None
    return TcpControl(endpoint, Path(keys_dir).resolve())


def _keys_problem(directory: Path) -> str | None:
    """Why a key directory cannot serve a CURVE endpoint, or None."""
    from prtosd.keys import KeysError, check_server_dir

    try:
        check_server_dir(directory)
    except KeysError as exc:
        return str(exc)
    return None


def _check_listen(system: System, config: str, listen: str | None, keys_dir: str | None) -> None:
    """--listen and pd:Placement go together, and a TCP endpoint is never open without CURVE keys."""
    placement = system.placement
    error = None
    if listen is not None and keys_dir is None:
        error = "--listen needs --keys DIR (create the keys with 'prtosd keys DIR --client NAME')"
    elif listen is not None and not listen.startswith("tcp://"):
        error = f"--listen {listen}: expected tcp://ADDRESS:PORT"
    elif listen is not None and placement is None:
        error = f"--listen: {config} places no partition on another host (no pd:Placement)"
    elif listen is not None and keys_dir is not None and (why := _keys_problem(Path(keys_dir))):
        error = f"--keys {keys_dir}: {why}"
    elif listen is None and placement is not None:
        error = (
            f"{config}:{placement.line}: pd:Placement puts partitions on other hosts: "
            "start with --listen tcp://ADDRESS:PORT --keys DIR"
        )
    if error:
        click.echo(f"prtosd: {error}", err=True)
        sys.exit(EXIT_CONFIG)


@main.command()
@click.option("--gantt", "gantt_file", required=True, type=click.Path(dir_okay=False), help="PNG file to write.")
@click.option(
    "--run-dir",
    "run_dir",
    type=click.Path(file_okay=False, exists=True),
    help="Run directory (default: the newest one under the run-dir root).",
)
def report(gantt_file: str, run_dir: str | None) -> None:
    """Draw the executed schedule of a run (running or finished) per CPU, with halts, resets and HM events."""
    from prtosd.report import gantt

    if run_dir is None:
        root = default_run_root()
        found = sorted(root.glob("*/timeline.jsonl"), key=lambda p: p.stat().st_mtime) if root.is_dir() else []
        if not found:
            click.echo(f"prtosd: no run with a timeline under {root} (give --run-dir)", err=True)
            sys.exit(EXIT_CONFIG)
        rdir = found[-1].parent
    else:
        rdir = Path(run_dir)
    try:
        counts = gantt(rdir, Path(gantt_file))
    except (OSError, ValueError) as exc:
        click.echo(f"prtosd: {exc}", err=True)
        sys.exit(EXIT_CONFIG)
    drawn = ", ".join(f"{n} {what}" for what, n in counts.items())
    click.echo(f"prtosd: wrote {gantt_file} ({drawn})", err=True)


@main.command()
@click.argument("directory", type=click.Path(file_okay=False))
@click.option(
    "--client",
    "clients",
    multiple=True,
    metavar="NAME",
    help="Client key pair to create and authorise (repeatable; default: one named 'client').",
)
@click.option("--force", is_flag=True, help="Replace existing key pairs (clients holding old keys are refused).")
def keys(directory: str, clients: tuple[str, ...], force: bool) -> None:
    """Create CURVE keys for TCP endpoints (--control / --listen) in DIRECTORY.

    DIRECTORY/server.key is the public key clients need; DIRECTORY/clients/NAME.key_secret is one
    client's key pair; DIRECTORY/authorized/ holds the public keys the daemon accepts (delete a
    file there to revoke a client). Existing keys are kept unless --force.
    """
    from prtosd.keys import KeysError, generate

    try:
        written = generate(Path(directory), clients or ("client",), force=force)
    except (KeysError, OSError) as exc:
        click.echo(f"prtosd: {exc}", err=True)
        sys.exit(EXIT_CONFIG)
    for path in written:
        click.echo(str(path))


if __name__ == "__main__":  # pragma: no cover
    entry()
