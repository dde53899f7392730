"""The fork server: children tracked by pid, exit statuses, logs, sessions, and no orphans."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import psutil
import pytest
from systems import system_xml

from prtosd.spawner import ExecSpawner, ForkServer, SpawnError, log_path, make_spawner

XML = system_xml([{"name": "A"}, {"name": "B"}], [(0, 1, 0), (1, 1, 1)], 2, name="spawn")


def _gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def _wait_gone(pid: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not _gone(pid):
        assert time.monotonic() < deadline, f"process {pid} still running"
        time.sleep(0.02)  # polling the process table, not synchronisation


@pytest.fixture
def setup(tmp_path: Path):
    config = tmp_path / "system.xml"
    config.write_text(XML)
    token = tmp_path / "token"
    token.write_text("t")
    servers: list[ForkServer] = []

    def make(**kw) -> ForkServer:
        server = ForkServer(config, tmp_path / "forkserver.log", **kw)
        server.bind(tmp_path, f"ipc://{tmp_path / 'nobody.sock'}", token)
        servers.append(server)
        return server

    yield make, tmp_path
    for server in servers:
        for child in server._children.values():
            child.kill()
        server.close()


def test_children_are_tracked_by_pid_and_report_their_exit_status(setup) -> None:
    make, run_dir = setup
    server = make()
    a, b = server.spawn((0, 0)), server.spawn((1, 0))
    assert a.pid != b.pid and a.poll() is None and b.poll() is None
    assert psutil.Process(a.pid).ppid() == server.proc.pid  # a child of the fork server, not a new interpreter
    assert os.getsid(a.pid) == a.pid  # its own session: Ctrl-C at prtosd's terminal does not reach it
    with pytest.raises(subprocess.TimeoutExpired):
        a.wait(timeout=0.1)
    a.kill()
    assert a.wait(timeout=30) == -signal.SIGKILL
    b.send_signal(signal.SIGTERM)
    assert b.wait(timeout=30) == -signal.SIGTERM
    a.kill()  # already reaped: nothing is signalled
    assert log_path(run_dir, (0, 0)).exists() and log_path(run_dir, (1, 0)).exists()


def test_a_child_that_fails_writes_why_to_its_log(setup) -> None:
    make, run_dir = setup
    server = make()
    child = server.spawn((7, 0))  # no partition 7
    assert child.wait(timeout=30) == 2
    assert "no partition 7 in the configuration" in log_path(run_dir, (7, 0)).read_text()


def test_children_exit_when_the_fork_server_dies(setup) -> None:
    """prtosd killed -9 closes the request pipe; a killed server is the harder case: children see their parent go."""
    make, _ = setup
    server = make()
    children = [server.spawn((0, 0)), server.spawn((1, 0))]
    server.proc.kill()
    for child in children:
        _wait_gone(child.pid)
    server.drain(5)
    assert all(c.poll() is not None for c in children)


def test_close_ends_the_server(setup) -> None:
    make, _ = setup
    server = make()
    child = server.spawn((0, 0))
    child.kill()
    child.wait(timeout=30)
    server.close()
    assert server.proc.returncode == 0


def test_a_bad_config_is_a_clear_error(tmp_path: Path) -> None:
    config = tmp_path / "system.xml"
    config.write_text("<SystemDescription")
    server = ForkServer(config).bind(tmp_path, "ipc:///nonexistent", tmp_path / "token")
    try:
        with pytest.raises(SpawnError, match="configuration error"):
            server.spawn((0, 0))
    finally:
        server.close()


def test_spawn_mode_is_chosen_by_environment(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("PRTOSD_SPAWN", "exec")
    assert isinstance(make_spawner(tmp_path / "x.xml", tmp_path, "ipc://x", tmp_path / "t"), ExecSpawner)
    monkeypatch.setenv("PRTOSD_SPAWN", "vfork")
    with pytest.raises(SpawnError, match='PRTOSD_SPAWN must be "fork" or "exec", not "vfork"'):
        make_spawner(tmp_path / "x.xml", tmp_path, "ipc://x", tmp_path / "t")


def test_a_prestarted_server_is_taken_by_the_run_of_its_config(tmp_path: Path, monkeypatch) -> None:
    from prtosd import spawner

    monkeypatch.delenv("PRTOSD_SPAWN", raising=False)
    config = tmp_path / "system.xml"
    config.write_text(XML)
    spawner.prestart(config)
    early = spawner._prestarted
    assert early is not None and early.run_dir is None
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    server = make_spawner(config, run_dir, f"ipc://{run_dir / 'nobody.sock'}", tmp_path / "token")
    try:
        assert server is early and spawner._prestarted is None
        child = server.spawn((5, 0))  # no partition 5: exits at once
        assert child.wait(timeout=30) == 2
        assert (run_dir / "forkserver.log").exists()  # its diagnostics now go to the run directory
        assert "no partition 5" in log_path(run_dir, (5, 0)).read_text()
    finally:
        server.close()
    other = tmp_path / "other.xml"
    other.write_text(XML)
    spawner.prestart(config)
    server = make_spawner(other, run_dir, "ipc://x", tmp_path / "token")  # another config: a new server
    try:
        assert server is not early and spawner._prestarted is None
    finally:
        server.close()


def test_a_start_that_stops_before_its_run_leaves_no_fork_server(tmp_path: Path, monkeypatch) -> None:
    """An in-process `prtosd start` refused after the fork server was launched stops that server."""
    from click.testing import CliRunner

    from prtosd import spawner
    from prtosd.cli import main

    monkeypatch.delenv("PRTOSD_SPAWN", raising=False)
    config = tmp_path / "system.xml"
    config.write_text(XML)
    started: list[spawner.ForkServer] = []
    real = spawner.ForkServer
    monkeypatch.setattr(spawner, "ForkServer", lambda *a, **kw: started.append(real(*a, **kw)) or started[-1])
    result = CliRunner().invoke(main, ["start", str(config), "--control", "tcp://127.0.0.1:1"])  # no --keys
    assert result.exit_code == 2 and "--keys" in result.output
    assert len(started) == 1 and started[0].proc.poll() is not None and spawner._prestarted is None


def test_prestart_replaces_a_server_left_for_another_config(tmp_path: Path, monkeypatch) -> None:
    from prtosd import spawner

    monkeypatch.delenv("PRTOSD_SPAWN", raising=False)
    first, second = tmp_path / "a.xml", tmp_path / "b.xml"
    first.write_text(XML)
    second.write_text(XML)
    spawner.prestart(first)
    left = spawner._prestarted
    spawner.prestart(second)
    try:
        assert left is not None and left.proc.poll() is not None
        assert spawner._prestarted is not None and spawner._prestarted.config == second.resolve()
    finally:
        spawner.discard_prestarted()


def test_a_prelaunched_server_learns_its_config_from_prestart(tmp_path: Path, monkeypatch) -> None:
    """`prtosd start` launches the server before parsing its command line; prestart names the config."""
    from prtosd import spawner

    monkeypatch.delenv("PRTOSD_SPAWN", raising=False)
    config = tmp_path / "system.xml"
    config.write_text(XML)
    spawner.prelaunch()
    early = spawner._prestarted
    assert early is not None and early.config is None
    spawner.prestart(config)
    assert spawner._prestarted is early and early.config == config.resolve()  # the same process, told
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    server = make_spawner(config, run_dir, f"ipc://{run_dir / 'nobody.sock'}", tmp_path / "token")
    try:
        assert server is early
        server.request((5, 0))  # asked for early: the server forks while we go on
        server.request((6, 0))
        late, first = server.spawn((6, 0)), server.spawn((5, 0))  # taken in any order
        assert late.pid != first.pid
        assert first.wait(timeout=30) == 2 and late.wait(timeout=30) == 2
        assert "no partition 5" in log_path(run_dir, (5, 0)).read_text()
        assert "no partition 6" in log_path(run_dir, (6, 0)).read_text()
    finally:
        server.close()
    assert server.proc.returncode == 0


def test_a_prelaunched_server_exits_when_no_config_comes(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("PRTOSD_SPAWN", raising=False)
    server = ForkServer(None)
    server._out.close()  # prtosd stopped before naming a configuration
    try:
        assert server.proc.wait(timeout=60) == 0
    finally:
        server.close()


@pytest.mark.parametrize("args", [["start", "--help"], ["start", "--until", "soon", "x.xml"]])
def test_the_prtosd_command_leaves_no_server_when_start_stops_early(tmp_path: Path, args: list[str]) -> None:
    """`python -m prtosd start` launches the fork server first; a start that never runs stops it."""
    import sys

    proc = subprocess.Popen(
        [sys.executable, "-m", "prtosd", *args], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    ours = psutil.Process(proc.pid)
    servers: set[int] = set()
    while proc.poll() is None:
        try:
            servers |= {c.pid for c in ours.children(recursive=True)}
        except psutil.NoSuchProcess:
            break
    proc.wait(timeout=60)
    assert servers  # the fork server was launched before the command line was parsed
    assert all(_gone(pid) for pid in servers)  # and stopped (and reaped) by prtosd before it exited
    out, err = proc.communicate(timeout=60)  # (the server shares prtosd's stderr: read after the check)
    assert proc.returncode == (0 if "--help" in args else 2), err.decode()
    assert (b"Usage:" in out) if "--help" in args else b"soon" in err
