"""Instruction boundaries of a translated block, from the bytes alone when Unicorn's count confirms them.

The vCPU engine needs the instructions of a block in two cases: to place a stop after each
``in``/``out`` of a new block whose bytes contain one of their opcodes (mostly a displacement,
``[ebp-20]`` is ``0xEC``), and to turn a stop inside a block into per-instruction terms. Unicorn's
own decoder, driven one instruction at a time (vcpu.py, ``_Decoder``), costs about half a
millisecond per block because every step retranslates the rest of it, and a partition's start-up
meets about fifty such blocks.

:func:`boundaries` reads the lengths from the x86-32 encoding instead (prefixes, opcode maps,
ModRM/SIB, displacement and immediate sizes, Intel SDM vol. 2 ch. 2 and appendix A), in
microseconds. It answers only when the decoded instructions tile the block exactly *and* their
number is the one Unicorn counted when it translated the block; otherwise, and for every encoding
it does not know for certain, it answers ``None`` and the engine asks Unicorn's decoder. Declined:
the address-size prefix, VEX/EVEX/XOP/3DNow!, opcodes without an entry, privileged forms whose
translation faults before the whole instruction is read, and memory forms of register-only
opcodes, which Unicorn reads without their displacement (a different length in mid-block that the
count alone would not reveal). An instruction Unicorn stops decoding early (a fault at
translation) ends its block, so a different length there shows as a different block end.
tests/partitiond/test_decoder.py checks every tiling it yields against Unicorn's decoder, on
compiled code and on random bytes, with and without the FPU.
"""

from __future__ import annotations

#: Immediate kinds of an opcode (after any ModRM, SIB and displacement).
_NONE, _IB, _IW, _IZ, _ENTER, _FAR, _MOFFS, _GROUP3, _BAIL = range(9)
#: Legacy prefixes: segment overrides, operand and address size, lock, rep.
PREFIXES = frozenset({0x26, 0x2E, 0x36, 0x3E, 0x64, 0x65, 0x66, 0x67, 0xF0, 0xF2, 0xF3})
#: Opcodes of in/out (immediate and DX forms) and of ins/outs.
PORT_IO = frozenset({0xE4, 0xE5, 0xE6, 0xE7, 0xEC, 0xED, 0xEE, 0xEF, 0x6C, 0x6D, 0x6E, 0x6F})
_MAX_LENGTH = 15


def _table(entries: dict[int, int], default: int = _BAIL) -> list[int]:
    return [entries.get(b, default) for b in range(256)]


def _one_byte() -> tuple[list[int], list[bool]]:
    imm: dict[int, int] = {}
    modrm: set[int] = set()
    for row in range(0, 0x40, 8):  # ALU ops: r/m forms, then AL/eAX with an immediate
        modrm.update(range(row, row + 4))
        imm.update({row: _NONE, row + 1: _NONE, row + 2: _NONE, row + 3: _NONE, row + 4: _IB, row + 5: _IZ})
    for b in (0x06, 0x07, 0x0E, 0x16, 0x17, 0x1E, 0x1F, 0x27, 0x2F, 0x37, 0x3F, *range(0x40, 0x62),
              *range(0x6C, 0x70), *range(0x90, 0x9A), *range(0x9B, 0xA0), *range(0xA4, 0xA8),
              *range(0xAA, 0xB0), 0xC3, 0xC9, 0xCB, 0xCC, 0xCE, 0xCF, 0xD7, *range(0xEC, 0xF0), 0xF1,
              0xF4, 0xF5, *range(0xF8, 0xFE)):  # fmt: skip
        imm[b] = _NONE
    imm.update({0x68: _IZ, 0x6A: _IB, 0xA8: _IB, 0xA9: _IZ, 0xC2: _IW, 0xC8: _ENTER, 0xCA: _IW, 0xCD: _IB,
                0xD4: _IB, 0xD5: _IB, 0xE8: _IZ, 0xE9: _IZ, 0xEB: _IB, 0x9A: _FAR, 0xEA: _FAR})  # fmt: skip
    imm.update(dict.fromkeys(range(0x70, 0x80), _IB))
    imm.update(dict.fromkeys(range(0xE0, 0xE8), _IB))
    imm.update(dict.fromkeys(range(0xB0, 0xB8), _IB))
    imm.update(dict.fromkeys(range(0xB8, 0xC0), _IZ))
    imm.update(dict.fromkeys(range(0xA0, 0xA4), _MOFFS))
    with_modrm = {0x63: _NONE, 0x69: _IZ, 0x6B: _IB, 0x80: _IB, 0x81: _IZ, 0x82: _IB, 0x83: _IB,
                  0xC0: _IB, 0xC1: _IB, 0xC4: _NONE, 0xC5: _NONE, 0xC6: _IB, 0xC7: _IZ, 0xF6: _GROUP3,
                  0xF7: _GROUP3, 0xFE: _NONE, 0xFF: _NONE}  # fmt: skip
    with_modrm.update(dict.fromkeys(range(0x84, 0x90), _NONE))
    with_modrm.update(dict.fromkeys(range(0xD0, 0xD4), _NONE))
    with_modrm.update(dict.fromkeys(range(0xD8, 0xE0), _NONE))  # x87
    imm.update(with_modrm)
    modrm.update(with_modrm)
    return _table(imm), [b in modrm for b in range(256)]


def _two_byte() -> tuple[list[int], list[bool]]:
    """The 0F map; 0F 38 and 0F 3A (ModRM, and an imm8 for 3A) are handled by the caller.

    Left out on purpose: 0F 20–23 (mov to/from CR/DR, privileged: its translation faults before
    the ModRM is read).
    """
    imm: dict[int, int] = dict.fromkeys((0x06, 0x08, 0x09, 0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x77, 0xA0,
                                         0xA1, 0xA2, 0xA8, 0xA9, 0xAA, *range(0xC8, 0xD0)), _NONE)  # fmt: skip
    imm.update(dict.fromkeys(range(0x80, 0x90), _IZ))
    with_modrm = dict.fromkeys((0x00, 0x01, 0x02, 0x03, 0x0D, *range(0x10, 0x20), *range(0x28, 0x30),
                                *range(0x40, 0x77), *range(0x7C, 0x80), *range(0x90, 0xA0), 0xA3, 0xA5,
                                0xAB, 0xAD, 0xAE, 0xAF, *range(0xB0, 0xB8), 0xB8, *range(0xBB, 0xC8),
                                *range(0xD0, 0xFF)), _NONE)  # fmt: skip
    with_modrm.update({0x70: _IB, 0x71: _IB, 0x72: _IB, 0x73: _IB, 0xA4: _IB, 0xAC: _IB, 0xBA: _IB, 0xC2: _IB,
                       0xC4: _IB, 0xC5: _IB, 0xC6: _IB})  # fmt: skip
    imm.update(with_modrm)
    return _table(imm), [b in with_modrm for b in range(256)]


_IMM1, _MODRM1 = _one_byte()
_IMM2, _MODRM2 = _two_byte()
#: 0F opcodes defined with a register operand only; Unicorn decodes a memory form of them without
#: its displacement, so such bytes get a length that differs from the encoding's.
_REGISTER_ONLY = frozenset({0x50, 0x71, 0x72, 0x73, 0xC5, 0xD6, 0xD7, 0xF7})


def _modrm_length(code: bytes, i: int) -> int:
    """Bytes of ModRM, SIB and displacement at ``code[i]`` (32-bit addressing); 0 if cut short."""
    if i >= len(code):
        return 0
    m = code[i]
    mod, rm = m >> 6, m & 7
    if mod == 3:
        return 1
    n = 1
    if rm == 4:
        if i + 1 >= len(code):
            return 0
        n = 2
        if mod == 0 and code[i + 1] & 7 == 5:
            return n + 4
    elif mod == 0 and rm == 5:
        return n + 4
    return n + (0, 1, 4)[mod]


def _declined(op: int, op2: int, m: int) -> bool:
    """Forms with this ModRM byte that Unicorn rejects or reads otherwise than the encoding says."""
    reg, memory = (m >> 3) & 7, m < 0xC0
    if op == 0x0F:
        return memory and op2 in _REGISTER_ONLY
    return (
        (op in (0xC4, 0xC5) and not memory)  # VEX in 32-bit mode
        or (op in (0xC6, 0xC7, 0x8F) and reg != 0)  # XABORT/XBEGIN, XOP
        or (op in (0xF6, 0xF7) and reg == 1)  # the undocumented TEST alias
        or (op == 0xFE and reg > 1)
        or (op == 0xFF and (reg == 7 or (reg in (3, 5) and not memory)))  # far call/jmp need memory
        or (op == 0x8D and not memory)  # lea
        or (op in (0x8C, 0x8E) and reg > 5)  # no such segment register
    )


def length(code: bytes, i: int) -> int | None:
    """Length of the instruction at ``code[i]``; ``None`` when not known for certain or cut short."""
    start, end = i, len(code)
    opsize, op2 = False, -1
    while i < end and code[i] in PREFIXES:
        if code[i] == 0x67:  # 16-bit addressing: declined
            return None
        opsize |= code[i] == 0x66
        i += 1
    if i >= end:
        return None
    op = code[i]
    i += 1
    if op == 0x0F:
        if i >= end:
            return None
        op2 = code[i]
        i += 1
        if op2 in (0x38, 0x3A):
            if i >= end:
                return None
            i += 1
            kind, has_modrm = (_IB if op2 == 0x3A else _NONE), True
        else:
            kind, has_modrm = _IMM2[op2], _MODRM2[op2]
            if op2 == 0xB8 and 0xF3 not in code[start:i]:  # popcnt needs F3 (0F B8 alone is JMPE)
                return None
    else:
        kind, has_modrm = _IMM1[op], _MODRM1[op]
    if kind == _BAIL:
        return None
    reg = -1
    if has_modrm:
        if i >= end:
            return None
        m = code[i]
        reg = (m >> 3) & 7
        if _declined(op, op2, m):
            return None
        n = _modrm_length(code, i)
        if not n:
            return None
        i += n
    if kind == _IB:
        i += 1
    elif kind == _IW:
        i += 2
    elif kind == _IZ:
        i += 2 if opsize else 4
    elif kind == _ENTER:
        i += 3
    elif kind == _FAR:
        i += 4 if opsize else 6
    elif kind == _MOFFS:
        i += 4
    elif kind == _GROUP3 and reg == 0:  # test r/m, imm (F6: imm8, F7: imm16/32); the rest has none
        i += 1 if op == 0xF6 else (2 if opsize else 4)
    if i > end or i - start > _MAX_LENGTH:
        return None
    return i - start


def opcode(code: bytes) -> bytes:
    """``code`` from its opcode on: the legacy prefixes skipped."""
    i = 0
    while i < len(code) and code[i] in PREFIXES:
        i += 1
    return code[i:]


def boundaries(pc: int, code: bytes, count: int) -> tuple[tuple[int, int], ...] | None:
    """(address, size) of the instructions of the block ``code`` at ``pc``, if exactly ``count`` tile it."""
    out: list[tuple[int, int]] = []
    i, end = 0, len(code)
    while i < end:
        n = length(code, i)
        if n is None or len(out) == count:
            return None
        out.append((pc + i, n))
        i += n
    return tuple(out) if i == end and len(out) == count else None
