"""Image loading and header validation (partition-api.md §11.10, §15.1)."""

from __future__ import annotations

from pathlib import Path

import pytest
from vcpu_support import P0_BASE, assemble, make_system

from partitiond.image import ImageError, load_image, read_image
from partitiond.memory import AddressSpace

BODY = """
main:
    jmp main
    .data
msg: .ascii "image-bytes"
    .bss
zeros: .space 64
"""


def test_load_segments_and_header(tmp_path: Path) -> None:
    elf = assemble(tmp_path, BODY, header="HDR pt=0x10F000")
    image = read_image(elf)
    assert image.entry == P0_BASE and image.page_table == 0x10F000
    assert image.header.num_of_custom_files == 0
    mem = AddressSpace(make_system(), 0, tmp_path)
    mem.write(P0_BASE + 0x8000, b"\xff" * 0x100)  # stale bytes where .bss will be
    load_image(image, mem)
    data = mem.read(P0_BASE, 0x10000)
    assert b"image-bytes" in data
    hdr = image.header_addr - P0_BASE
    assert data[hdr : hdr + 4] == b"iMX$"


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("HDR\n.section .prtos_image_hdr\n.long 0", None),  # extra bytes after the header are fine
    ],
)
def test_header_variants(tmp_path: Path, header: str, message: str | None) -> None:
    read_image(assemble(tmp_path, BODY, header=header))


def bad_header(tmp_path: Path, words: list[int]) -> Path:
    longs = ", ".join(hex(w) for w in words)
    hdr = f'.section .prtos_image_hdr, "a"\n.globl prtos_image_hdr\nprtos_image_hdr:\n.long {longs}\n.text'
    return assemble(tmp_path, BODY, header=hdr)


GOOD = [0x24584D69, 0x10000, 0x10000, 0, 0x10000, 0, 0, 0, 0, 0, 0, 0, 0x24584D69]


@pytest.mark.parametrize(
    ("index", "value", "field"),
    [
        (0, 0x12345678, "start_signature"),
        (12, 0, "end_signature"),
        (1, 0x20000, "compilation_prtos_abi_version"),
        (2, 0x10001, "compilation_prtos_api_version"),
        (5, 4, "custom files"),
    ],
)
def test_bad_header_rejected(tmp_path: Path, index: int, value: int, field: str) -> None:
    words = list(GOOD)
    words[index] = value
    elf = bad_header(tmp_path, words)
    with pytest.raises(ImageError, match=field) as exc:
        read_image(elf)
    assert str(elf) in str(exc.value)


def test_missing_header(tmp_path: Path) -> None:
    elf = assemble(tmp_path, BODY, header="")
    with pytest.raises(ImageError, match="prtos_image_hdr"):
        read_image(elf)


def test_not_elf(tmp_path: Path) -> None:
    f = tmp_path / "junk.elf"
    f.write_bytes(b"not an elf at all")
    with pytest.raises(ImageError, match=r"junk\.elf"):
        read_image(f)
    with pytest.raises(ImageError, match="cannot read"):
        read_image(tmp_path / "missing.elf")


def test_segment_outside_areas(tmp_path: Path) -> None:
    body = BODY + '\n.section .far, "aw"\n.long 1\n'
    src_ld = tmp_path / "far.ld"
    from vcpu_support import GUESTS

    src_ld.write_text((GUESTS / "guest.ld").read_text().replace("}\n}", "}\n  .far 0x300000 : { *(.far) }\n}"))
    from partitiond.toolchain import run_zig

    (tmp_path / "far.S").write_text(f'#include "prelude.S"\nHDR\n{body}\n')
    elf = tmp_path / "far.elf"
    res = run_zig(
        [
            "cc",
            "-target",
            "x86-freestanding-none",
            "-ffreestanding",
            "-nostdlib",
            "-I",
            str(GUESTS),
            "-T",
            str(src_ld),
            "-Wl,-e,start",
            "-o",
            str(elf),
            str(tmp_path / "far.S"),
        ]
    )
    assert res.returncode == 0, res.stderr
    image = read_image(elf)
    with pytest.raises(ImageError, match="outside the memory areas"):
        load_image(image, AddressSpace(make_system(), 0, tmp_path))


def test_custom_files(tmp_path: Path) -> None:
    slot = P0_BASE + 0xC000
    elf = assemble(tmp_path, BODY, header=f"HDR ncf=1, cf0={slot:#x}, cf0s=16")
    image = read_image(elf)
    mem = AddressSpace(make_system(), 0, tmp_path)
    with pytest.raises(ImageError, match="not supplied"):
        load_image(image, mem)
    big = tmp_path / "big.bin"
    big.write_bytes(b"x" * 17)
    with pytest.raises(ImageError, match="17 bytes"):
        load_image(image, mem, (big,))
    ok = tmp_path / "ok.bin"
    ok.write_bytes(b"custom!")
    load_image(image, mem, (ok,))
    assert mem.read(slot, 7) == b"custom!"
