"""``prtosd build``: a partition image from C sources, load address from the configuration."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from elftools.elf.elffile import ELFFile
from systems import GUESTS, system_xml

from prtosd.cli import main


def _config(tmp_path: Path) -> Path:
    xml = system_xml([{"name": "A"}, {"name": "B"}], [(0, 1, 0), (1, 1, 1)], 2)
    path = tmp_path / "system.xml"
    path.write_text(xml)
    return path


def test_build_uses_the_partitions_first_area(tmp_path: Path) -> None:
    out = tmp_path / "b.elf"
    result = CliRunner().invoke(
        main,
        ["build", "--config", str(_config(tmp_path)), "--partition", "B", "-o", str(out), str(GUESTS / "ticker.c")],
    )
    assert result.exit_code == 0, result.output
    with out.open("rb") as f:
        elf = ELFFile(f)
        assert elf.header.e_entry == 0x6100000
        assert elf.header.e_machine == "EM_386"


def test_build_errors(tmp_path: Path) -> None:
    config = _config(tmp_path)
    bad = tmp_path / "bad.c"
    bad.write_text("int x = ;\n")
    r = CliRunner().invoke(
        main, ["build", "--config", str(config), "--partition", "0", "-o", str(tmp_path / "x"), str(bad)]
    )
    assert r.exit_code == 3
    assert "bad.c:1" in r.output
    r = CliRunner().invoke(main, ["build", "--config", str(config), "--partition", "9", "-o", "x", str(bad)])
    assert r.exit_code == 2
    assert 'no partition "9"' in r.output
