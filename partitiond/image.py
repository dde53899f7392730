"""Partition images: 32-bit x86 ELF files with a ``struct prtos_image_hdr`` (partition-api.md §11.10, §15.1).

:func:`read_image` parses and validates an image without touching memory (a reset must fail
cleanly, leaving the partition HALTED, when the header is bad); :func:`load_image` copies its
``PT_LOAD`` segments and the custom files into the partition's address space at a cold reset.
"""

from __future__ import annotations

import ctypes
import struct
from ctypes import LittleEndianStructure, c_uint32
from dataclasses import dataclass
from pathlib import Path

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


class ELFError(Exception):
    """The file is not a well-formed ELF file (the reason is the message)."""


# ELF32 little-endian layouts (System V ABI): file header, program header, section header, symbol.
_EHDR = struct.Struct("<16sHHIIIIIHHHHHH")
_PHDR = struct.Struct("<IIIIIIII")
_SHDR = struct.Struct("<IIIIIIIIII")
_SYM = struct.Struct("<IIIBBH")
_EM_386, _PT_LOAD, _SHT_SYMTAB, _SHT_NOBITS = 3, 1, 2, 8


class _Elf32:
    """The few parts of a 32-bit little-endian x86 ELF file an image needs.

    A reader of its own rather than pyelftools: importing that costs every ``prtosd start``
    ~60 ms, more than reading the images.
    """

    def __init__(self, data: bytes) -> None:
        self.data = data
        if len(data) < _EHDR.size or data[:4] != b"\x7fELF":
            raise ELFError("magic number does not match")
        ident, _type, machine, _ver, self.entry, phoff, shoff, _flags, _ehsize, phentsize, phnum, shentsize, \
            shnum, shstrndx = _EHDR.unpack_from(data)
        self.is_x86_32 = ident[4] == 1 and ident[5] == 1 and machine == _EM_386  # ELFCLASS32, ELFDATA2LSB
        if not self.is_x86_32:
            return
        self.segments = [self._unpack(_PHDR, phoff + i * phentsize) for i in range(phnum)] if phoff else []
        self.sections = [self._unpack(_SHDR, shoff + i * shentsize) for i in range(shnum)] if shoff else []
        self.shstr = self.sections[shstrndx] if shstrndx < len(self.sections) else None

    def _unpack(self, layout: struct.Struct, offset: int) -> tuple[int, ...]:
        if offset < 0 or offset + layout.size > len(self.data):
            raise ELFError(f"table entry at offset {offset:#x} lies beyond the end of the file")
        return layout.unpack_from(self.data, offset)

    def _bytes(self, offset: int, size: int) -> bytes:
        if offset + size > len(self.data):
            raise ELFError(f"contents at offset {offset:#x} ({size} bytes) lie beyond the end of the file")
        return self.data[offset:offset + size]

    def _name(self, strtab: tuple[int, ...], offset: int) -> bytes:
        base = strtab[4] + offset
        end = self.data.find(b"\0", base, strtab[4] + strtab[5])
        if base >= len(self.data) or end < 0:
            raise ELFError(f"name at offset {offset:#x} lies outside its string table")
        return self.data[base:end]

    def loads(self) -> list[tuple[int, bytes, int]]:
        """(vaddr, file bytes, memsz) of each non-empty ``PT_LOAD`` segment."""
        return [(p[2], self._bytes(p[1], p[4]), p[5]) for p in self.segments if p[0] == _PT_LOAD and p[5] > 0]

    def section(self, name: str) -> tuple[int, ...] | None:
        if self.shstr is None:
            return None
        want = name.encode()
        return next((sh for sh in self.sections if self._name(self.shstr, sh[0]) == want), None)

    def symbol(self, name: str) -> int | None:
        """Value of the first symbol ``name`` of ``.symtab``, or None."""
        symtab = self.section(".symtab")
        if symtab is None or symtab[1] != _SHT_SYMTAB or not 0 < symtab[6] < len(self.sections):
            return None
        strtab, want = self.sections[symtab[6]], name.encode()
        for off in range(symtab[4], symtab[4] + symtab[5] - _SYM.size + 1, _SYM.size):
            sym = self._unpack(_SYM, off)
            if self._name(strtab, sym[0]) == want:
                return sym[1]
        return None


def _header_location(elf: _Elf32, path: Path) -> tuple[int, bytes | None]:
    """Address of the header, and its bytes when the section holds them."""
    sec = elf.section(HEADER_SECTION)
    if sec is not None and sec[5] >= 52 and sec[1] != _SHT_NOBITS:
        return sec[3], elf._bytes(sec[4], 52)
    addr = elf.symbol(HEADER_SYMBOL)
    if addr is not None:
        return addr, None
    raise ImageError(f"{path}: no {HEADER_SECTION} section and no {HEADER_SYMBOL} symbol")


def _bytes_at(segments: tuple[Segment, ...], addr: int, n: int) -> bytes | None:
    """``n`` bytes at ``addr`` as the loaded image would hold them, or None if not inside one segment."""
    for s in segments:
        if s.vaddr <= addr and addr + n <= s.vaddr + s.memsz:
            off = addr - s.vaddr
            return (s.data + bytes(s.memsz - len(s.data)))[off:off + n]
    return None


def validate_header(hdr: PrtosImageHdr, path: Path) -> None:
    """Raise ImageError unless the signatures, versions and custom-file count are right (§15.1)."""
    for field in ("start_signature", "end_signature"):
        value = getattr(hdr, field)
        if value != PRTOS_EXEC_PARTITION_MAGIC:
            raise ImageError(f"{path}: image header {field} is {value:#010x}, "
                             f"expected {PRTOS_EXEC_PARTITION_MAGIC:#010x}")
    for field in ("compilation_prtos_abi_version", "compilation_prtos_api_version"):
        value = getattr(hdr, field)
        if value != PRTOS_IMAGE_VERSION:
            raise ImageError(f"{path}: image header {field} is {value:#010x}, expected {PRTOS_IMAGE_VERSION:#010x}")
    if hdr.num_of_custom_files > MAX_NO_CUSTOMFILES:
        raise ImageError(f"{path}: image header declares {hdr.num_of_custom_files} custom files "
                         f"(at most {MAX_NO_CUSTOMFILES})")


def read_image(path: str | Path) -> Image:
    """Parse and validate an image file; raise ImageError with a clear message."""
    path = Path(path)
    try:
        elf = _Elf32(path.read_bytes())
        if not elf.is_x86_32:
            raise ImageError(f"{path}: not a 32-bit little-endian x86 ELF file")
        segments = tuple(Segment(vaddr, data, memsz) for vaddr, data, memsz in elf.loads())
        if not segments:
            raise ImageError(f"{path}: no loadable segment")
        addr, raw = _header_location(elf, path)
        entry = elf.entry
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
            raise ImageError(f"{path}: segment [{s.vaddr:#x}, {s.vaddr + s.memsz:#x}) lies outside the "
                             f"memory areas of partition {memory.partition.id}")
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
            raise ImageError(f"{path}: custom file slot {i} at {slot.start_addr:#x} lies outside the "
                             f"partition's memory areas")


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
