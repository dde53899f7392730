"""Tests of BAIL's libc (partition-api.md §16, decisions D-48..D-53, K-12, K-13).

Why: partition programs print their results with printf and the scenarios compare console text
exactly, so the formatter must be standard C99. The printf cases are checked against the host C
library's snprintf (a real C99 implementation) called through ctypes; the strto* cases against a
small Python model of the C rules that is itself cross-checked with the host's strtoll/strtoull.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from pathlib import Path

import pytest
from guest import C_DIR, Guest, shared_cache

from partitiond.build import build_partition

LOAD = 0x6000000
libc = ctypes.CDLL(ctypes.util.find_library("c") or None)

INT = ctypes.c_int
UINT = ctypes.c_uint
LL = ctypes.c_longlong
ULL = ctypes.c_ulonglong

INT_VALUES = [0, 1, -1, 42, -42, 7, 255, 2147483647, -2147483648, 123456789]
INT_FORMATS = [
    "%d", "%i", "%5d", "%-5d|", "%05d", "%+d", "% d", "%+05d", "% 05d", "%.3d", "%8.3d", "%-8.3d|", "%.0d",
    "%+.0d", "%x", "%X", "%#x", "%#X", "%08x", "%#010x", "%-#10x|", "%o", "%#o", "%#.0o", "%u", "%10u", "%.5x",
    "%-#8o|", "%hd", "%hhd", "%hu", "%hhx", "%hho", "%+i", "%3d", "%1d", "%011d", "%-011d|", "%.10d", "%+.10d",
    "%#.5x", "%#5o",
]  # fmt: skip
LL_VALUES = [0, 1, -1, 1500000, 2**32, -(2**32), 2**63 - 1, -(2**63), 123456789012345, 0xFEDCBA9876543210 - 2**64]
LL_FORMATS = [
    "%lld", "%lli", "%llu", "%llx", "%llX", "%llo", "%20lld", "%-20lld|", "%020lld", "%+lld", "% lld", "%#llx",
    "%#llo", "%.20llu", "%25.20lld", "%jd", "%jx",
]  # fmt: skip
STRINGS = [b"", b"a", b"hello", b"hello world"]
STRING_FORMATS = ["%s", "%10s", "%-10s|", "%.3s", "%10.3s", "%-10.3s|", "%.0s", "%1s"]
CHAR_FORMATS = ["%c", "%5c", "%-5c|", "%1c"]
LITERALS = ["%%", "100%%", "%5%x", "a%%b%%c", "plain text"]


def c_literal(s: str) -> str:
    """A C string literal for ASCII text."""
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def host_format(fmt: str, args: list[ctypes._SimpleCData]) -> str:
    """What the host C library prints."""
    buf = ctypes.create_string_buffer(512)
    n = libc.snprintf(buf, 512, fmt.encode(), *args)
    assert 0 <= n < 512
    return buf.value.decode("latin-1")


def c_arg(arg: ctypes._SimpleCData) -> str:
    """The same argument as a C expression for the guest."""
    if isinstance(arg, ctypes.c_char_p):
        return "NULL" if arg.value is None else c_literal(arg.value.decode())
    if isinstance(arg, LL):
        return f"(long long){arg.value}LL" if arg.value != -(2**63) else "LLONG_MIN"
    if isinstance(arg, ULL):
        return f"{arg.value}ULL"
    if isinstance(arg, UINT):
        return f"{arg.value}U"
    return f"({arg.value})" if arg.value != -(2**31) else "INT_MIN"


def printf_cases() -> list[tuple[str, list]]:
    cases: list[tuple[str, list]] = []
    for fmt in INT_FORMATS:
        conv = fmt[-2] if fmt.endswith("|") else fmt[-1]
        for v in INT_VALUES:
            arg = INT(v) if conv in "di" else UINT(v & 0xFFFFFFFF)
            cases.append((fmt, [arg]))
    for fmt in LL_FORMATS:
        conv = fmt[-2] if fmt.endswith("|") else fmt[-1]
        for v in LL_VALUES:
            cases.append((fmt, [LL(v) if conv in "di" else ULL(v & (2**64 - 1))]))
    for fmt in STRING_FORMATS:
        cases.extend((fmt, [ctypes.c_char_p(s)]) for s in STRINGS)
    for fmt in CHAR_FORMATS:
        cases.extend((fmt, [INT(c)]) for c in (ord("A"), ord("z"), ord(" ")))
    cases.extend((fmt, []) for fmt in LITERALS)
    # widths and precisions from the argument list, including negative ones
    for w, p in ((8, 3), (-8, 3), (0, -1), (3, 0), (-3, 5)):
        cases.append(("%*.*d|", [INT(w), INT(p), INT(-42)]))
        cases.append(("%*x|", [INT(w), UINT(0xBEEF)]))
    cases.append(("%s and %s", [ctypes.c_char_p(b"one"), ctypes.c_char_p(b"two")]))
    cases.append(("%d %s %c %x %lld %u", [INT(-5), ctypes.c_char_p(b"mid"), INT(ord("q")), UINT(255), LL(-1), UINT(9)]))
    cases.append(("%s", [ctypes.c_char_p(None)]))
    return cases


def guest_only_cases() -> list[tuple[str, str, str]]:
    """(format, C arguments, expected output) where the guest differs from a 64-bit host by design."""
    return [
        ("%p", "(void *)0x1234", "0x00001234"),
        ("%p", "NULL", "0x00000000"),
        ("%12p|", "(void *)0xdeadbeef", "  0xdeadbeef|"),
        ("%-12p|", "(void *)0xABC", "0x00000abc  |"),
        ("%ld", "(long)-7", "-7"),  # l is 32 bits
        ("%lu", "4294967295UL", "4294967295"),
        ("%lx", "0xffffffffUL", "ffffffff"),
        ("%Lx", "0xabcUL", "abc"),  # upstream's L is l
        ("%zu %td", "(unsigned)5, 6", "5 6"),
        ("%D %I %U %C %S", "-1, 2, 3U, 'c', \"s\"", "-1 2 3 c s"),  # upper-case synonyms
        ("[%f|%d]", "7", "[f|7]"),  # unknown conversion: printed, no argument consumed
        ("%y%d", "3", "y3"),
        ("%lld", "1500000LL", "1500000"),
        ("%x %X", "0xffff, 0xffff", "ffff FFFF"),
        ("%08x", "0x12", "00000012"),
        ("%5d", "42", "   42"),
        ("%05d", "-42", "-0042"),
        ("%.3s", '"abcdef"', "abc"),
        ("%s", "(char *)0", "(null)"),
    ]


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return shared_cache(tmp_path_factory.getbasetemp())


@pytest.fixture(scope="module")
def out_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("libc")


def run_program(source: Path, out_dir: Path, cache: Path) -> Guest:
    elf = build_partition([source], out_dir / (source.stem + ".elf"), LOAD, cache=cache)
    g = Guest(elf).run()
    assert g.error is None, g.error
    assert g.halted
    return g


@pytest.fixture(scope="module")
def printf_run(out_dir: Path, cache: Path) -> tuple[list[str], Guest]:
    """Runs one generated program with every printf case; returns (expected lines, the run)."""
    body = []
    expected = []
    for fmt, args in printf_cases():
        call_args = "".join(", " + c_arg(a) for a in args)
        body.append(f'    n = printf({c_literal(fmt)}{call_args});\n    printf("<%d\\n", n);')
        ref = host_format(fmt, args)
        expected.append(f"{ref}<{len(ref)}")
    for fmt, cargs, want in guest_only_cases():
        body.append(f'    n = printf({c_literal(fmt)}, {cargs});\n    printf("<%d\\n", n);')
        expected.append(f"{want}<{len(want)}")
    src = out_dir / "libc_printf_gen.c"
    src.write_text(
        "#include <stdio.h>\n#include <limits.h>\n#include <irqs.h>\n\n"
        "void partition_main(void) {\n    int n;\n\n" + "\n".join(body) + "\n}\n"
    )
    return expected, run_program(src, out_dir, cache)


def test_printf_matches_c99(printf_run: tuple[list[str], Guest]) -> None:
    expected, g = printf_run
    actual = g.text.split("\n")[:-1]
    assert len(expected) > 650
    assert len(actual) == len(expected)
    mismatches = [(i, e, a) for i, (e, a) in enumerate(zip(expected, actual, strict=True)) if e != a]
    assert not mismatches, mismatches[:10]


def test_printf_reference_sanity() -> None:
    """The reference really is C99 (the spec's own examples, §16.3)."""
    assert host_format("%x", [UINT(0xFFFF)]) == "ffff"
    assert host_format("%05d", [INT(-42)]) == "-0042"
    assert host_format("%#o", [UINT(8)]) == "010"
    assert host_format("%.0d", [INT(0)]) == ""


def test_printf_one_console_write_per_line(printf_run: tuple[list[str], Guest]) -> None:
    expected, g = printf_run
    assert len(g.writes) == len(expected)
    assert all(w.endswith(b"\n") and w.count(b"\n") == 1 for w in g.writes)


def test_sprintf_family(out_dir: Path, cache: Path) -> None:
    g = run_program(C_DIR / "libc_sprintf.c", out_dir, cache)
    assert g.text.splitlines() == [
        "sprintf=5:ab-12.X",
        "snprintf_trunc=6:123.XX",
        "snprintf_zero=3:XXX",
        "snprintf_one=3:.XX",
        "snprintf_negative=3:XXX",
        "snprintf_null=14",
        "snprintf_fit=7:1234567.X",
        "vsnprintf=13:abcd.XX",
        "sprintf_long=2000 2000 7",
        "vprintf x 5 =11",
    ]


def show(data: bytes) -> str:
    return data.decode().replace("\0", ".")


def test_string_functions(out_dir: Path, cache: Path) -> None:
    g = run_program(C_DIR / "libc_string.c", out_dir, cache)
    got = dict(line.split("=", 1) for line in g.text.splitlines())
    assert got == {
        "memmove_up": "0101234789.",
        "memmove_down": "3456756789.",
        "memmove_ret": "1",
        "memcpy": "abcXX",
        "memcpy_ret": "1",
        "memset": "AAAXX",
        "memcmp": "1 0 -1 0",  # bytes compare unsigned: 0x80 > 0x01 (D-52)
        "strcmp": "1 0 -1 1 0",
        "strncmp": "0 -1 1",
        "strncpy_trunc": "abc.XX",  # K-12: dst[n-1] = 0 when the source is too long
        "strncpy_fill": "ab...X",
        "strncpy_exact": "abc.XX",
        "strcat": "abcd.X",
        "strncat": "abcdef.X",
        "strncat_empty": "abcdef.X",
        "strlen": "5 0 0",  # K-13: strlen(NULL) == 0
        "strchr": "4 1 11",
        "strrchr": "7 1 11",
        "strstr": "6 1 0 4",
    }


# -- strto* / atoi ------------------------------------------------------------------------------

SPACE = " \t\n\v\f\r"


def c_strto(s: str, base: int, bits: int, signed: bool) -> tuple[int, int]:
    """(value, characters consumed) of C's strto* for a `bits`-wide type, clamping on overflow."""
    if base < 0 or base == 1 or base > 36:
        return 0, 0
    i = 0
    while i < len(s) and s[i] in SPACE:
        i += 1
    neg = False
    if i < len(s) and s[i] in "+-":
        neg = s[i] == "-"
        i += 1

    def digit(c: str) -> int:
        return int(c, 36) if c.isascii() and c.isalnum() else 99

    if base in (0, 16) and s[i : i + 2].lower() == "0x" and i + 2 < len(s) and digit(s[i + 2]) < 16:
        i += 2
        base = 16
    elif base == 0:
        base = 8 if s[i : i + 1] == "0" else 10
    start = i
    m = 0
    while i < len(s) and digit(s[i]) < base:
        m = m * base + digit(s[i])
        i += 1
    if i == start:
        return 0, 0
    if signed:
        value = -min(m, 2 ** (bits - 1)) if neg else min(m, 2 ** (bits - 1) - 1)
    else:
        value = 2**bits - 1 if m > 2**bits - 1 else (-m) % 2**bits if neg else m
    return value, i


def c_atoi(s: str) -> int:
    """atoi with upstream's prefix rules and every hex digit accepted (D-53), 32-bit wrap."""
    i = 0
    while i < len(s) and s[i] in SPACE:
        i += 1
    neg = False
    if i < len(s) and s[i] in "+-":
        neg = s[i] == "-"
        i += 1
    base = 10
    if s[i : i + 2].lower() == "0x":
        base, i = 16, i + 2
    elif s[i : i + 1] == "0":
        base, i = 8, i + 1
    m = 0
    while i < len(s) and s[i].isascii() and s[i].isalnum() and int(s[i], 36) < base:
        m = (m * base + int(s[i], 36)) & 0xFFFFFFFF
        i += 1
    v = (-m if neg else m) & 0xFFFFFFFF
    return v - 2**32 if v >= 2**31 else v


def test_strto_model_agrees_with_host() -> None:
    strtoll = libc.strtoll
    strtoll.restype = ctypes.c_longlong
    strtoull = libc.strtoull
    strtoull.restype = ctypes.c_ulonglong
    for s in ["123", "  -42abc", "0x", "0xg", "0X1F", "019", "-9223372036854775809", "18446744073709551616", "-1"]:
        for base in (0, 2, 8, 10, 16, 36):
            raw = s.encode()
            end = ctypes.c_char_p()
            v = strtoll(raw, ctypes.byref(end), base)
            consumed = ctypes.cast(end, ctypes.c_void_p).value - ctypes.cast(raw, ctypes.c_void_p).value
            assert c_strto(s, base, 64, True)[0] == v, (s, base)
            assert c_strto(s, base, 64, True)[1] == consumed, (s, base)
            assert c_strto(s, base, 64, False)[0] == strtoull(raw, None, base), (s, base)


#: The inputs[] array of c/libc_stdlib.c, in the same order.
STRTO_INPUTS = [
    "123", "  -42abc", "+7", "0x1f", "0X1F", "017", "019", "0x", "0xg", "zz", "101",
    "2147483647", "2147483648", "-2147483648", "-2147483649", "99999999999999999999",
    "abc", "", "  +", "4294967295", "4294967296", "-1", "0xFFFFFFFF",
    "9223372036854775807", "9223372036854775808", "-9223372036854775808", "-9223372036854775809",
    "18446744073709551615", "18446744073709551616", "0x7fffffffffffffff", "\t\n 7", "-0",
]  # fmt: skip


def test_stdlib(out_dir: Path, cache: Path) -> None:
    g = run_program(C_DIR / "libc_stdlib.c", out_dir, cache)
    got = dict(line.split("=", 1) for line in g.text.splitlines())
    checked = 0
    for key, value in got.items():
        name, _, rest = key.partition("(")
        if name == "atoi":
            assert int(value) == c_atoi(STRTO_INPUTS[int(rest[:-1])]), key
        elif name in ("strtol", "strtoul", "strtoll", "strtoull"):
            index, _, base = rest[:-1].partition(",")
            bits = 64 if name in ("strtoll", "strtoull") else 32
            want = c_strto(STRTO_INPUTS[int(index)], int(base), bits, name in ("strtol", "strtoll"))
            assert value == f"{want[0]} {want[1]}", key
        else:
            continue
        checked += 1
    assert checked == len(STRTO_INPUTS) * (1 + 4 * 8)
    assert got["atoi(3)"] == "31"  # "0x1f": the hex branch accepts letters (D-53)
    assert got["atoi(5)"] == "15"  # "017": octal
    assert got["atoi(30)"] == "7"  # leading white space
    assert got["atoi_misc"] == "0 15 0"  # "08", "0xfg", NULL
    assert got["strtol(12,10)"] == "2147483647 10"  # clamped
    assert got["strtol(14,10)"] == "-2147483648 11"
    assert got["strtoul(21,10)"] == "4294967295 2"  # "-1"
    assert got["strtol(7,16)"] == "0 1"  # "0x": only the 0 is a number
    assert got["strtol(0,1)"] == "0 0"  # invalid base
    assert got["strtoll(26,10)"] == "-9223372036854775808 20"
    assert got["strtoull(28,10)"] == "18446744073709551615 20"
    assert got["strtol_null_end"] == "55"
    assert got["basename"] == "c|c||file.c"
    assert got["ctype"] == "10101010"
    assert got["limits"] == "-2147483648 2147483647 4294967295 -2147483648 2147483647 4294967295"
    assert got["llimits"] == "-9223372036854775808 9223372036854775807 18446744073709551615"
    assert got["offsetof"] == "4"
