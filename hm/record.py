"""HM log records and trace records: the 36-byte packed layouts of partition-api.md §11.5-§11.6.

Both share one shape — signature, checksum, two op-code words, a 64-bit timestamp and 16 bytes
of payload — and one checksum rule (semantics.md §9.6, K-06): with the checksum field at 0, the
sum of the 18 little-endian 16-bit words modulo 2^16, complemented. A record is intact iff the
sum of all 18 words (checksum included) is 0xFFFF.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

HMLOG_SIGNATURE = 0xFECF
TRACE_SIGNATURE = 0xC33C
RECORD_SIZE = 36

# struct prtos_hm_log / prtos_trace_event (packed):
#   u16 signature @0, u16 checksum @2, u32 op_code_hi @4, u32 op_code_lo @8, s64 timestamp @12,
#   u32 payload[4] @20  (HM: pc @20, psr @24 when VALID_CPUCTXT)
_LAYOUT = struct.Struct("<HHIIq4I")
_WORDS = struct.Struct("<18H")
assert _LAYOUT.size == RECORD_SIZE

OPCODE_SYS = 0x1
OPCODE_VALID_CPUCTXT = 0x2
SEQ_BIT = 4


def checksum(data: bytes) -> int:
    """Checksum of a 36-byte record whose checksum field is ignored (treated as 0)."""
    words = list(_WORDS.unpack(data))
    words[1] = 0
    return ~sum(words) & 0xFFFF


def is_intact(data: bytes) -> bool:
    return len(data) == RECORD_SIZE and sum(_WORDS.unpack(data)) & 0xFFFF == 0xFFFF


@dataclass(frozen=True, slots=True)
class Record:
    """A decoded record; ``op_code_hi``/``op_code_lo`` keep the raw words, properties decode them."""

    signature: int
    op_code_hi: int
    op_code_lo: int
    timestamp: int
    payload: tuple[int, int, int, int] = (0, 0, 0, 0)
    checksum: int = 0

    def pack(self, *, with_checksum: bool = True) -> bytes:
        raw = _LAYOUT.pack(self.signature, 0, self.op_code_hi, self.op_code_lo, self.timestamp, *self.payload)
        if not with_checksum:
            return raw
        return raw[:2] + struct.pack("<H", checksum(raw)) + raw[4:]

    @classmethod
    def unpack(cls, data: bytes) -> Record:
        sig, ck, hi, lo, ts, *payload = _LAYOUT.unpack(data)
        return cls(sig, hi, lo, ts, tuple(payload), ck)  # type: ignore[arg-type]

    # op_code_lo: bits 31..16 event (HM) or code (trace), 15..8 vCPU, 7..0 partition
    @property
    def partition_id(self) -> int:
        return self.op_code_lo & 0xFF

    @property
    def vcpu_id(self) -> int:
        return (self.op_code_lo >> 8) & 0xFF

    @property
    def event_id(self) -> int:
        return self.op_code_lo >> 16

    # op_code_hi: bits 31..4 sequence; HM: bit 1 VALID_CPUCTXT, bit 0 SYS; trace: bits 3..1 criticality
    @property
    def sequence(self) -> int:
        return self.op_code_hi >> SEQ_BIT

    @property
    def is_system(self) -> bool:
        return bool(self.op_code_hi & OPCODE_SYS)

    @property
    def has_cpu_context(self) -> bool:
        return bool(self.op_code_hi & OPCODE_VALID_CPUCTXT)

    @property
    def criticality(self) -> int:
        return (self.op_code_hi >> 1) & 0x7


def hm_record(
    event: int,
    partition: int,
    vcpu: int,
    timestamp: int,
    *,
    sequence: int = 0,
    pc: int | None = None,
    psr: int = 0,
    payload: tuple[int, int, int, int] = (0, 0, 0, 0),
    system: bool = False,
) -> Record:
    """Build an HM record; with ``pc`` the CPU context is valid (semantics.md §9.5)."""
    hi = (sequence << SEQ_BIT) & 0xFFFFFFFF
    if system:
        hi |= OPCODE_SYS
    if pc is not None:
        hi |= OPCODE_VALID_CPUCTXT
        payload = (pc & 0xFFFFFFFF, psr & 0xFFFFFFFF, 0, 0)
    lo = ((event & 0xFFFF) << 16) | ((vcpu & 0xFF) << 8) | (partition & 0xFF)
    return Record(HMLOG_SIGNATURE, hi, lo, timestamp, payload)
