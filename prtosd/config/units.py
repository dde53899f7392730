"""Value types of the configuration format (config.md §2) and their exact conversions.

The XSD already checks the lexical forms; these functions turn a valid lexical value into the
number the rest of the system uses, and raise :class:`ValueError` with the normative message when
the value does not fit in 32 bits (check V-52).
"""

from __future__ import annotations

import re
from fractions import Fraction

MAX_UINT = 0xFFFFFFFF

_NUM = r"([0-9]+(?:\.[0-9]+)?)"
_TIME_RE = re.compile(_NUM + r"(s|S|ms|mS|us|uS)")
_SIZE_RE = re.compile(_NUM + r"(B|KB|MB)")
_FREQ_RE = re.compile(_NUM + r"(KHz|Khz|MHz|Mhz)")
_HEX_RE = re.compile(r"0x([0-9a-fA-F]+)")
_VERSION_RE = re.compile(r"([0-9]+)\.([0-9]+)\.([0-9]+)")

_TIME_SCALE = {"s": 1_000_000, "S": 1_000_000, "ms": 1000, "mS": 1000, "us": 1, "uS": 1}
_SIZE_SCALE = {"B": 1, "KB": 1024, "MB": 1024 * 1024}
_FREQ_SCALE = {"KHz": 1, "Khz": 1, "MHz": 1000, "Mhz": 1000}


def _scaled(text: str, pattern: re.Pattern[str], scale: dict[str, int], what: str, overflow: str) -> int:
    m = pattern.fullmatch(text)
    if m is None:
        raise ValueError(f'invalid {what} "{text}"')
    whole, _, frac = m.group(1).partition(".")
    whole = whole.lstrip("0") or "0"
    if len(whole) > 10:
        raise ValueError(overflow)  # and do not hand thousands of digits to int()
    # Digits beyond the 30th cannot change the truncated result (every scale divides 10**20).
    value = int(Fraction(f"{whole}.{frac[:30] or 0}") * scale[m.group(2)])  # exact, then truncated
    if value >= MAX_UINT:
        raise ValueError(overflow)
    return value


def to_time(text: str) -> int:
    """``2.5s`` → 2500000 (µs); fraction truncated after scaling."""
    return _scaled(text, _TIME_RE, _TIME_SCALE, "time", "Time exceeds MAX_UINT")


def to_size(text: str) -> int:
    """``1.5KB`` → 1536 (bytes)."""
    return _scaled(text, _SIZE_RE, _SIZE_SCALE, "size", "Size exceeds MAX_UINT")


def to_freq(text: str) -> int:
    """``1.5MHz`` → 1500 (kHz)."""
    return _scaled(text, _FREQ_RE, _FREQ_SCALE, "frequency", "Frequency exceeds MAX_UINT")


def to_hex(text: str) -> int:
    """``0x6000000`` → 100663296; more than 32 bits is an error."""
    m = _HEX_RE.fullmatch(text)
    if m is None:
        raise ValueError(f'invalid hexadecimal value "{text}"')
    value = int(m.group(1), 16)
    if value > MAX_UINT:
        raise ValueError(f'hexadecimal value "{text}" exceeds 32 bits')
    return value


def to_version(text: str) -> int:
    """``1.0.0`` → ``(1<<16)|(0<<8)|0``, each part masked to 8 bits."""
    m = _VERSION_RE.fullmatch(text)
    if m is None:
        raise ValueError(f'invalid version "{text}"')
    a, b, c = (int(g) & 0xFF for g in m.groups())
    return (a << 16) | (b << 8) | c


def to_id(text: str) -> int:
    """A decimal integer >= 0 (``xs:integer`` lexical form, optional ``+``)."""
    value = int(text.strip())
    if value < 0:
        raise ValueError(f'invalid id "{text}"')
    return value


def to_bool(text: str) -> bool:
    """``true``/``1`` or ``false``/``0``."""
    t = text.strip()
    if t in ("true", "1"):
        return True
    if t in ("false", "0"):
        return False
    raise ValueError(f'invalid boolean "{text}"')


def to_yntf(text: str) -> bool:
    """``yes``/``true`` → True, ``no``/``false`` → False (message of check V-51)."""
    t = text.strip()
    if t in ("yes", "true"):
        return True
    if t in ("no", "false"):
        return False
    raise ValueError("expected yes|no|true|false")


def to_flags(text: str, table: dict[str, int]) -> int:
    """OR of the items of a white-space separated flag list (message of check V-53)."""
    value = 0
    for item in text.split():
        if item not in table:
            raise ValueError(f"expected valid flag ({item})")
        value |= table[item]
    return value


def format_time(us: int) -> str:
    """µs back to the shortest exact lexical time (``2500000`` → ``2500ms``)."""
    if us % 1_000_000 == 0:
        return f"{us // 1_000_000}s"
    if us % 1000 == 0:
        return f"{us // 1000}ms"
    return f"{us}us"


def format_size(n: int) -> str:
    """Bytes back to the shortest exact lexical size."""
    if n and n % (1024 * 1024) == 0:
        return f"{n // (1024 * 1024)}MB"
    if n and n % 1024 == 0:
        return f"{n // 1024}KB"
    return f"{n}B"
