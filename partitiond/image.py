"""Partition images: 32-bit x86 ELF files with a ``struct prtos_image_hdr`` (partition-api.md §11.10, §15.1).

:func:`read_image` parses and validates an image without touching memory (a reset must fail
cleanly, leaving the partition HALTED, when the header is bad); :func:`load_image` copies its
``PT_LOAD`` segments and the custom files into the partition's address space at a cold reset.
"""

from __future__ import annotations

import ctypes
from ctypes import LittleEndianStructure, c_uint32
from dataclasses import dataclass
from pathlib import Path

from elftools.common.exceptions import ELFError
from elftools.elf.elffile import ELFFile
from elftools.elf.sections import SymbolTableSection

from partitiond.memory import AddressSpace

PRTOS_EXEC_PARTITION_MAGIC = 0x24584D69  # "iMX$"
PRTOS_IMAGE_VERSION = 0x00010000  # ABI and API version words
MAX_NO_CUSTOMFILES = 3
HEADER_SECTION = ".prtos_image_hdr"
HEADER_SYMBOL = "prtos_image_hdr"


class ImageError(Exception):
    """The image cannot be used; the message names the file and the reason."""


class PefCustomFile(LittleEndianStructure):
    """``struct pef_custom_file`` (packed, 8 bytes)."""

    _pack_ = 1
    _fields_ = (
        ("start_addr", c_uint32),  # @0
        ("size", c_uint32),  # @4
    )


class PrtosImageHdr(LittleEndianStructure):
    """``struct prtos_image_hdr`` (packed, 52 bytes)."""

    _pack_ = 1
    _fields_ = (
        ("start_signature", c_uint32),  # @0
        ("compilation_prtos_abi_version", c_uint32),  # @4
        ("compilation_prtos_api_version", c_uint32),  # @8
        ("page_table", c_uint32),  # @12
        ("page_table_size", c_uint32),  # @16
        ("num_of_custom_files", c_uint32),  # @20
        ("custom_file_table", PefCustomFile * MAX_NO_CUSTOMFILES),  # @24
        ("end_signature", c_uint32),  # @48
    )


assert ctypes.sizeof(PrtosImageHdr) == 52


@dataclass(frozen=True, slots=True)
class Segment:
    """One ``PT_LOAD`` segment: ``data`` at ``vaddr``, then zeros up to ``memsz``."""

    vaddr: int
    data: bytes
    memsz: int


@dataclass(frozen=True, slots=True)
class Image:
    """A parsed, validated partition image."""

    path: Path
    entry: int
    segments: tuple[Segment, ...]
    header: PrtosImageHdr
    header_addr: int

    @property
    def page_table(self) -> int:
        """The header's ``page_table`` address; it becomes ``arch.cr3`` (§12.2)."""
        return self.header.page_table


def _header_location(elf: ELFFile, path: Path) -> tuple[int, bytes | None]:
    """Address of the header, and its bytes when the section holds them."""
    sec = elf.get_section_by_name(HEADER_SECTION)
    if sec is not None and sec["sh_size"] >= 52 and sec["sh_type"] != "SHT_NOBITS":
        return sec["sh_addr"], sec.data()[:52]
    symtab = elf.get_section_by_name(".symtab")
    if isinstance(symtab, SymbolTableSection):
        syms = symtab.get_symbol_by_name(HEADER_SYMBOL)
        if syms:
            return syms[0]["st_value"], None
    raise ImageError(f"{path}: no {HEADER_SECTION} section and no {HEADER_SYMBOL} symbol")


def _bytes_at(segments: tuple[Segment, ...], addr: int, n: int) -> bytes | None:
    """``n`` bytes at ``addr`` as the loaded image would hold them, or None if not inside one segment."""
    for s in segments:
        if s.vaddr <= addr and addr + n <= s.vaddr + s.memsz:
            off = addr - s.vaddr
            return (s.data + bytes(s.memsz - len(s.data)))[off : off + n]
    return None


def validate_header(hdr: PrtosImageHdr, path: Path) -> None:
    """Raise ImageError unless the signatures, versions and custom-file count are right (§15.1)."""
    for field in ("start_signature", "end_signature"):
        value = getattr(hdr, field)
        if value != PRTOS_EXEC_PARTITION_MAGIC:
            raise ImageError(
                f"{path}: image header {field} is {value:#010x}, expected {PRTOS_EXEC_PARTITION_MAGIC:#010x}"
            )
    for field in ("compilation_prtos_abi_version", "compilation_prtos_api_version"):
        value = getattr(hdr, field)
        if value != PRTOS_IMAGE_VERSION:
            raise ImageError(f"{path}: image header {field} is {value:#010x}, expected {PRTOS_IMAGE_VERSION:#010x}")
    if hdr.num_of_custom_files > MAX_NO_CUSTOMFILES:
        raise ImageError(
            f"{path}: image header declares {hdr.num_of_custom_files} custom files (at most {MAX_NO_CUSTOMFILES})"
        )


def read_image(path: str | Path) -> Image:
    """Parse and validate an image file; raise ImageError with a clear message."""
    path = Path(path)
    try:
        with path.open("rb") as fh:
            elf = ELFFile(fh)
            if elf.elfclass != 32 or elf["e_machine"] != "EM_386" or not elf.little_endian:
                raise ImageError(f"{path}: not a 32-bit little-endian x86 ELF file")
            segments = tuple(
                Segment(seg["p_vaddr"], seg.data(), seg["p_memsz"])
                for seg in elf.iter_segments()
                if seg["p_type"] == "PT_LOAD" and seg["p_memsz"] > 0
            )
            if not segments:
                raise ImageError(f"{path}: no loadable segment")
            addr, raw = _header_location(elf, path)
            entry = elf["e_entry"]
    except OSError as exc:
        raise ImageError(f"{path}: cannot read image: {exc.strerror or exc}") from exc
    except ELFError as exc:
        raise ImageError(f"{path}: not a valid ELF file: {exc}") from exc
    if raw is None:
        raw = _bytes_at(segments, addr, 52)
    if raw is None or len(raw) < 52:
        raise ImageError(f"{path}: image header at {addr:#x} is not inside a loaded segment")
    hdr = PrtosImageHdr.from_buffer_copy(raw)
    validate_header(hdr, path)
    return Image(path, entry, segments, hdr, addr)


def check_image(image: Image, memory: AddressSpace, custom_files: tuple[str | Path, ...] = ()) -> None:
    """Raise ImageError unless the image and its custom files fit the partition (§15.1)."""
    path = image.path
    for s in image.segments:
        if not memory.in_areas(s.vaddr, s.memsz):
            raise ImageError(
                f"{path}: segment [{s.vaddr:#x}, {s.vaddr + s.memsz:#x}) lies outside the "
                f"memory areas of partition {memory.partition.id}"
            )
    if not memory.in_areas(image.entry, 1):
        raise ImageError(f"{path}: entry point {image.entry:#x} lies outside the partition's memory areas")
    hdr = image.header
    for i in range(hdr.num_of_custom_files):
        slot = hdr.custom_file_table[i]
        if i >= len(custom_files):
            raise ImageError(f"{path}: custom file {i} is declared by the image header but not supplied")
        cf = Path(custom_files[i])
        try:
            size = cf.stat().st_size
        except OSError as exc:
            raise ImageError(f"{path}: custom file {i} ({cf}): {exc.strerror or exc}") from exc
        if size > slot.size:
            raise ImageError(f"{path}: custom file {i} ({cf}) has {size} bytes, its slot only {slot.size}")
        if not memory.in_areas(slot.start_addr, max(size, 1)):
            raise ImageError(
                f"{path}: custom file slot {i} at {slot.start_addr:#x} lies outside the partition's memory areas"
            )


def load_image(image: Image, memory: AddressSpace, custom_files: tuple[str | Path, ...] = ()) -> None:
    """Copy segments (zero-filling ``.bss``) and custom files into memory; checks first, then writes.

    The caller must flush Unicorn's translation cache afterwards (the bytes are written host-side).
    """
    check_image(image, memory, custom_files)
    blobs = [Path(custom_files[i]).read_bytes() for i in range(image.header.num_of_custom_files)]
    for s in image.segments:
        memory.write(s.vaddr, s.data + bytes(s.memsz - len(s.data)))
    for i, blob in enumerate(blobs):
        memory.write(image.header.custom_file_table[i].start_addr, blob)
