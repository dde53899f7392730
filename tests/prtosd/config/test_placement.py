"""pd:Placement (docs/distributed.md): which partitions run on other hosts — loading, schema
errors and the checks that keep shared memory on one host, each with its file:line."""

from __future__ import annotations

from pathlib import Path

from sysxml import PD, SysXml, area, diagnostics, expect_error, expect_ok, line_of, partition

from prtosd.config.serialize import from_data, to_data


def placed(placement: str, x: SysXml | None = None) -> str:
    """The base system (or ``x``) with a pd:Placement element as the last child."""
    x = x or SysXml()
    x.root_extra = f'xmlns:pd="{PD}"'
    return x.text().replace("</SystemDescription>", placement + "\n</SystemDescription>")


def test_placement_loads_and_round_trips(tmp_path: Path) -> None:
    text = placed(
        '<pd:Placement connectTimeout="5s">\n<pd:Host name="node-b" partitions="1" grantTimeout="250ms" key="nb"/>\n'
        "</pd:Placement>"
    )
    system = expect_ok(tmp_path, text)
    assert system.placement is not None
    assert system.placement.connect_timeout_us == 5_000_000
    (host,) = system.placement.hosts
    assert (host.name, host.partitions, host.grant_timeout_us, host.key) == ("node-b", (1,), 250_000, "nb")
    assert host.line == line_of(text, "<pd:Host")
    assert system.host_of(1) is host and system.host_of(0) is None
    assert from_data(to_data(system)) == system


def test_without_placement_everything_is_local(tmp_path: Path) -> None:
    system = expect_ok(tmp_path, SysXml())
    assert system.placement is None and system.host_of(0) is None


def test_bad_time_and_missing_attribute(tmp_path: Path) -> None:
    text = placed('<pd:Placement>\n<pd:Host name="b" grantTimeout="5 minutes"/>\n</pd:Placement>')
    path, errs, _ = diagnostics(tmp_path, text)
    line = line_of(text, "<pd:Host")
    assert errs == [
        f'{path}:{line}: pd:Host@grantTimeout: invalid time "5 minutes" (expected a number and a unit s, ms or us, '
        "e.g. 500ms or 2.5s)",
        f'{path}:{line}: pd:Host: missing required attribute "partitions"',
    ]


def test_unknown_attribute_and_bad_id_list(tmp_path: Path) -> None:
    text = placed('<pd:Placement>\n<pd:Host name="b" partitions="one" port="5555"/>\n</pd:Placement>')
    path, errs, _ = diagnostics(tmp_path, text)
    line = line_of(text, "<pd:Host")
    assert f'{path}:{line}: pd:Host: unknown attribute "port"' in errs
    assert any(e.startswith(f'{path}:{line}: pd:Host@partitions: invalid partition id list "one"') for e in errs)


def test_placement_must_be_a_child_of_system_description(tmp_path: Path) -> None:
    x = SysXml(root_extra=f'xmlns:pd="{PD}"')
    x.devices.append('<pd:Placement><pd:Host name="b" partitions="1"/></pd:Placement>')
    expect_error(tmp_path, x, "<pd:Placement", "pd:Placement must be a child of SystemDescription")


def test_unknown_partition_and_double_placement(tmp_path: Path) -> None:
    text = placed(
        '<pd:Placement>\n<pd:Host name="b" partitions="1 7"/>\n<pd:Host name="c" partitions="1"/>\n</pd:Placement>'
    )
    path, errs, _ = diagnostics(tmp_path, text)
    b, c = line_of(text, '<pd:Host name="b"'), line_of(text, '<pd:Host name="c"')
    assert errs == [
        f'{path}:{b}: pd:Host "b": there is no partition 7',
        f'{path}:{c}: partition 1 is placed twice (on "b", line {b})',
    ]


def test_duplicate_host_name(tmp_path: Path) -> None:
    x = SysXml(partitions=[partition(0), partition(1), partition(2)])
    text = placed(
        '<pd:Placement>\n<pd:Host name="b" partitions="1"/>\n<pd:Host name="b" partitions="2"/>\n</pd:Placement>', x
    )
    path, errs, _ = diagnostics(tmp_path, text)
    first, second = line_of(text, 'partitions="1"'), line_of(text, 'partitions="2"')
    assert errs == [f'{path}:{second}: pd:Host name "b" is used twice (line {first})']


def test_shared_area_of_a_remote_partition_is_rejected(tmp_path: Path) -> None:
    shared = area(0x7000000, "4KB", 'flags="shared"')
    x = SysXml(
        partitions=[
            partition(0, areas=[area(0x6000000), shared.replace("/>", ' name="s0"/>')]),
            partition(1, areas=[area(0x6100000), shared.replace("/>", ' name="s1"/>')]),
        ]
    )
    text = placed('<pd:Placement>\n<pd:Host name="b" partitions="1"/>\n</pd:Placement>', x)
    host, s0 = line_of(text, "<pd:Host"), line_of(text, 'name="s0"')
    expect_error(
        tmp_path,
        text,
        'name="s1"',
        f'partition 1 is placed on host "b" (line {host}): its memory area [0x7000000 - 0x7000fff] is shared with '
        f"partition 0 (line {s0}); memory cannot be shared across hosts",
    )


def test_memory_block_mapped_by_a_remote_partition_is_rejected(tmp_path: Path) -> None:
    x = SysXml(
        partitions=[partition(0), partition(1, areas=[area(0x6100000), area(0x8000000, "4KB", 'flags="shared"')])]
    )
    x.devices.append('<MemoryBlock name="log" start="0x8000000" size="4KB"/>')
    text = placed('<pd:Placement>\n<pd:Host name="b" partitions="1"/>\n</pd:Placement>', x)
    expect_error(
        tmp_path,
        text,
        '0x8000000" size="4KB" flags',
        f'partition 1 is placed on host "b" (line {line_of(text, "<pd:Host")}): its memory area '
        f'[0x8000000 - 0x8000fff] maps MemoryBlock "log" (line {line_of(text, "<MemoryBlock")}); '
        "memory cannot be shared across hosts",
    )


def test_remote_partition_has_one_vcpu(tmp_path: Path) -> None:
    x = SysXml(partitions=[partition(0), partition(1, extra='noVCpus="2"')])
    text = placed('<pd:Placement>\n<pd:Host name="b" partitions="1"/>\n</pd:Placement>', x)
    path, errs, _ = diagnostics(tmp_path, text)
    host, part = line_of(text, "<pd:Host"), line_of(text, '<Partition id="1"')
    msg = f'partition 1 is placed on host "b" (line {host}) but has 2 vCPUs; a remote partition has one vCPU'
    assert f"{path}:{part}: {msg}" in errs


def test_bad_key_name(tmp_path: Path) -> None:
    text = placed('<pd:Placement>\n<pd:Host name="b" partitions="1" key="../x"/>\n</pd:Placement>')
    expect_error(
        tmp_path, text, "<pd:Host", 'pd:Host@key: invalid key name "../x" (expected letters, digits, "_", "." or "-")'
    )


def test_check_summary_names_the_host(tmp_path: Path) -> None:
    from prtosd.config.summary import render

    system = expect_ok(tmp_path, placed('<pd:Placement>\n<pd:Host name="node-b" partitions="1"/>\n</pd:Placement>'))
    text = render(system)
    assert text.count('runs on host "node-b" (pd:Placement)') == 1
    assert text.index('runs on host "node-b"') > text.index('"P1"')


def test_unexpected_and_missing_children(tmp_path: Path) -> None:
    text = placed('<pd:Placement>\n<pd:Host name="b" partitions="1"/>\n<pd:Port n="1"/>\n</pd:Placement>')
    expect_error(tmp_path, text, "<pd:Port", "unexpected element pd:Port (expected here: pd:Host)")
    expect_error(tmp_path, placed("<pd:Placement/>"), "<pd:Placement", "pd:Placement: missing child element pd:Host")
