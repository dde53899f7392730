"""Tests of the build driver (partitiond/build.py) and the linker script (partition-api.md §15.1).

Why: prtosd rebuilds ``pd:sources`` partitions at every start, so a warm build must come from
the cache without running the compiler, a changed header must be noticed, and a mistake in the
user's C code must come back as a short file:line message rather than a Python traceback. The
image layout (entry, sections, header) is what the partition loader relies on.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from elftools.elf.elffile import ELFFile
from guest import C_DIR, Guest, shared_cache

import partitiond.build as build_mod
from partitiond.build import build_partition
from partitiond.image import read_image
from partitiond.toolchain import ToolchainError

LOAD = 0x6000000

HELLO = """#include <stdio.h>
#include <irqs.h>
#include "cfg.h"

void partition_main(void) {
    printf("value=%d extra=%s\\n", CFG_VALUE, EXTRA);
}
"""


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return shared_cache(tmp_path_factory.getbasetemp())


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "inc").mkdir()
    (tmp_path / "inc" / "cfg.h").write_text("#define CFG_VALUE 11\n")
    (tmp_path / "hello.c").write_text(HELLO)
    return tmp_path


def build_hello(project: Path, cache: Path, out: str = "hello.elf", **kw: object) -> Path:
    return build_partition(
        [project / "hello.c"],
        project / out,
        LOAD,
        include_dirs=[project / "inc"],
        defines=['EXTRA="yes"'],
        cache=cache,
        **kw,  # type: ignore[arg-type]
    )


def test_include_dirs_and_defines(project: Path, cache: Path) -> None:
    elf = build_hello(project, cache)
    assert Guest(elf).run().text == "value=11 extra=yes\n"


def test_warm_build_comes_from_the_cache(project: Path, cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = build_hello(project, cache).read_bytes()

    def no_compiler(*_a: object, **_k: object) -> None:
        raise AssertionError("the compiler ran on a warm build")

    monkeypatch.setattr(build_mod, "run_zig", no_compiler)
    t0 = time.perf_counter()
    second = build_hello(project, cache, out="again.elf").read_bytes()
    elapsed = time.perf_counter() - t0
    assert second == first
    assert elapsed < 1.0  # typically ~0.03 s; generous for loaded CI machines


def test_changed_header_is_rebuilt(project: Path, cache: Path) -> None:
    build_hello(project, cache)
    (project / "inc" / "cfg.h").write_text("#define CFG_VALUE 12\n")
    elf = build_hello(project, cache)
    assert Guest(elf).run().text == "value=12 extra=yes\n"


def test_compile_error_names_file_and_line(tmp_path: Path, cache: Path) -> None:
    src = tmp_path / "bad.c"
    src.write_text('#include <stdio.h>\n\nvoid partition_main(void) {\n    printf("%d\\n", undefined_name);\n}\n')
    with pytest.raises(ToolchainError) as info:
        build_partition([src], tmp_path / "bad.elf", LOAD, cache=cache)
    msg = str(info.value)
    assert f"{src}:4:" in msg
    assert "undefined_name" in msg
    assert "Traceback" not in msg


def test_link_error_names_the_symbol(tmp_path: Path, cache: Path) -> None:
    src = tmp_path / "nolink.c"
    src.write_text("extern void missing_function(void);\nvoid partition_main(void) { missing_function(); }\n")
    with pytest.raises(ToolchainError, match="missing_function"):
        build_partition([src], tmp_path / "x.elf", LOAD, cache=cache)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"sources": []}, "no source files"),
        ({"sources": ["nowhere.c"]}, "not found"),
        ({"load_address": 0x6000010}, "page-aligned"),
        ({"defines": ["=1"]}, "bad define"),
    ],
)
def test_bad_arguments(tmp_path: Path, cache: Path, kwargs: dict, message: str) -> None:
    (tmp_path / "ok.c").write_text("void partition_main(void) {}\n")
    args = {"sources": ["ok.c"], "load_address": LOAD, "defines": []} | kwargs
    with pytest.raises(ToolchainError, match=message):
        build_partition(
            [tmp_path / s for s in args["sources"]],
            tmp_path / "o.elf",
            args["load_address"],
            defines=args["defines"],
            cache=cache,
        )


def test_command_line(tmp_path: Path, cache: Path) -> None:
    good = tmp_path / "good.c"
    good.write_text("void partition_main(void) {}\n")
    bad = tmp_path / "bad.c"
    bad.write_text("void partition_main(void) { return 1 }\n")
    env = {**os.environ, "PRTOSD_CACHE_DIR": str(cache)}
    cmd = [sys.executable, "-m", "partitiond.build", "--load-address", "0x6100000"]
    ok = subprocess.run([*cmd, "-o", str(tmp_path / "g.elf"), str(good)], capture_output=True, text=True, env=env)
    assert ok.returncode == 0, ok.stderr
    assert read_image(tmp_path / "g.elf").entry == 0x6100000
    fail = subprocess.run([*cmd, "-o", str(tmp_path / "b.elf"), str(bad)], capture_output=True, text=True, env=env)
    assert fail.returncode == 1
    assert fail.stderr.startswith("error: ")
    assert f"{bad}:1:" in fail.stderr
    assert "Traceback" not in fail.stderr


def test_layout_and_default_header(tmp_path: Path, cache: Path) -> None:
    elf_path = build_partition([C_DIR / "bail_exit.c"], tmp_path / "e.elf", 0x6200000, cache=cache)
    image = read_image(elf_path)
    hdr = image.header
    assert hdr.start_signature == hdr.end_signature == 0x24584D69
    assert hdr.compilation_prtos_abi_version == hdr.compilation_prtos_api_version == 0x00010000
    assert hdr.page_table_size == 0x10000
    assert hdr.page_table % 4096 == 0
    assert hdr.num_of_custom_files == 0
    with elf_path.open("rb") as f:
        elf = ELFFile(f)
        symbols = {s.name: s["st_value"] for s in elf.get_section_by_name(".symtab").iter_symbols()}
        names = [s.name for s in elf.iter_sections() if s["sh_flags"] & 2]  # SHF_ALLOC
        text = elf.get_section_by_name(".text")
        assert elf.get_section_by_name(".prtos_image_hdr")["sh_size"] == 52
    assert image.entry == symbols["start"] == 0x6200000 == text["sh_addr"]
    assert names.index(".text") < names.index(".rodata") < names.index(".bss")
    # the page-table buffer lies in .bss.noinit, before the cleared range
    assert symbols["_eguest"] > hdr.page_table >= symbols["_edata"]
    assert hdr.page_table + hdr.page_table_size <= symbols["_sbss"]
    for name in ("_sguest", "_eguest", "_sdata", "_edata", "_sbss", "_ebss"):
        assert name in symbols


def test_program_defined_header_replaces_the_default(tmp_path: Path, cache: Path) -> None:
    content = tmp_path / "custom.bin"
    content.write_bytes(b"I'm the custom file!")
    elf_path = build_partition(
        [C_DIR / "bail_custom_hdr.c"], tmp_path / "c.elf", LOAD, custom_files=[content], cache=cache
    )
    image = read_image(elf_path)
    with elf_path.open("rb") as f:
        elf = ELFFile(f)
        symbols = {s.name: s["st_value"] for s in elf.get_section_by_name(".symtab").iter_symbols()}
        assert elf.get_section_by_name(".prtos_image_hdr")["sh_size"] == 52  # exactly one header
        custom = elf.get_section_by_name(".custom")
        assert custom["sh_type"] == "SHT_PROGBITS"
    assert "bail_page_table" not in symbols  # BAIL's default header object was not linked
    hdr = image.header
    assert hdr.num_of_custom_files == 1
    slot = hdr.custom_file_table[0]
    assert (slot.start_addr, slot.size) == (symbols["custom_file"], 2048)
    assert hdr.page_table == symbols["own_page_table"]
    assert any(s.vaddr <= slot.start_addr < s.vaddr + s.memsz for s in image.segments)
    g = Guest(elf_path)
    g.uc.mem_write(slot.start_addr, content.read_bytes())  # what the loader does at a cold reset
    assert g.run().text == "custom=I'm the custom file!\n"


def test_custom_files_are_checked_against_the_header(tmp_path: Path, cache: Path) -> None:
    big = tmp_path / "big.bin"
    big.write_bytes(b"x" * 3000)
    small = tmp_path / "small.bin"
    small.write_bytes(b"x")
    src = [C_DIR / "bail_custom_hdr.c"]
    with pytest.raises(ToolchainError, match="does not fit custom-file slot 0"):
        build_partition(src, tmp_path / "c.elf", LOAD, custom_files=[big], cache=cache)
    with pytest.raises(ToolchainError, match="declares 1 custom file"):
        build_partition(src, tmp_path / "c.elf", LOAD, custom_files=[small, small], cache=cache)
    with pytest.raises(ToolchainError, match="declares 0 custom file"):
        build_partition([C_DIR / "bail_exit.c"], tmp_path / "d.elf", LOAD, custom_files=[small], cache=cache)


def test_fresh_cache_builds_everything(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """PRTOSD_CACHE_DIR selects the cache; a cold build fills it with objects, libraries and the image."""
    monkeypatch.setenv("PRTOSD_CACHE_DIR", str(tmp_path / "cold"))
    src = tmp_path / "p.c"
    src.write_text('#include <stdio.h>\nvoid partition_main(void) { printf("%llu\\n", 10000000000ULL / 3); }\n')
    elf = build_partition([src], tmp_path / "p.elf", LOAD)
    assert Guest(elf).run().text == "3333333333\n"  # 64-bit division helpers are linked
    cold = tmp_path / "cold"
    assert list((cold / "lib").glob("libbail-*.a")) and list((cold / "lib").glob("libprtos-*.a"))
    assert len(list((cold / "elf").glob("*.elf"))) == 1
