"""The control command registry, prop validation and the error table, without a running system."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from prtosd.control.base import Command, CommandError, Prop
from prtosd.control.errors import REASONS, CtlErrno, exit_code
from prtosd.control.registry import COMMANDS
from prtosd.ctl import main
from prtosd.errors import PrtosError


def test_registry_names_match_and_docstrings_give_wire_and_usage() -> None:
    for name, cmd in COMMANDS.items():
        assert isinstance(cmd, Command)
        assert cmd.name == name
        doc = type(cmd).__doc__ or ""
        assert "Wire:" in doc and "Usage:" in doc, name
        assert f'"{name}"' in doc, name


def test_props_are_validated_strictly() -> None:
    reset = COMMANDS["partition_reset"]
    assert reset.validate({"partition": "Worker"}) == {"partition": "Worker", "mode": "cold", "status": 0}
    bad = [
        {},  # missing partition
        {"partition": 1, "extra": 1},
        {"partition": True},
        {"partition": 1.5},
        {"partition": "x" * 65},
        {"partition": 1, "mode": "lukewarm"},
        {"partition": 1, "status": -1},
        {"partition": 1, "status": "0"},
    ]
    for props in bad:
        with pytest.raises(CommandError) as info:
            reset.validate(props)
        assert info.value.errno == CtlErrno.BAD_REQUEST, props
    with pytest.raises(CommandError):
        COMMANDS["hm_log"].validate({"limit": 0})
    with pytest.raises(CommandError):
        Prop(bool).check("flag", 1)


def test_error_table_and_exit_codes() -> None:
    assert all(e > 0 for e in CtlErrno if e != CtlErrno.OK)  # never overlapping PRTOS codes
    assert all(int(e) in REASONS for e in CtlErrno if e != CtlErrno.OK)
    assert exit_code(0) == 0
    assert exit_code(PrtosError.NO_ACTION) == 1
    assert exit_code(CtlErrno.BAD_REQUEST) == 1
    assert exit_code(CtlErrno.UNAUTHORISED) == 4
    assert CommandError(PrtosError.INVALID_PARAM).reason.startswith("PRTOS_INVALID_PARAM")


def test_help_of_every_command_comes_from_its_class(tmp_path) -> None:
    runner = CliRunner()
    for args, needle in [
        (["status", "--help"], "partitions"),
        (["partition", "halt", "--help"], "partition_halt"),
        (["partition", "reset", "--help"], "--cold / --warm"),
        (["system", "reset", "--help"], "system_reset"),
        (["plan", "switch", "--help"], "plan_switch"),
        (["plan", "status", "--help"], "--json"),
        (["hm", "log", "--help"], "--follow"),
        (["trace", "dump", "--help"], "trace_dump"),
        (["console", "attach", "--help"], "console"),
        (["list", "--help"], "--json"),
    ]:
        result = runner.invoke(main, args)
        assert result.exit_code == 0, (args, result.output)
        assert needle in result.output, (args, result.output)


def test_no_daemon_and_usage_exit_codes(tmp_path) -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["--run-dir", str(tmp_path), "status"])
    assert result.exit_code == 3
    assert "no prtosd is running" in result.output
    result = runner.invoke(main, ["--root", str(tmp_path), "-s", "nothing", "status"])
    assert result.exit_code == 3
    assert 'no system named "nothing"' in result.output
    result = runner.invoke(main, ["--run-dir", str(tmp_path), "plan", "switch", "x"])
    assert result.exit_code == 2
    result = runner.invoke(main, ["--root", str(tmp_path), "list"])
    assert result.exit_code == 0 and result.output == ""
