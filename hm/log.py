"""Persistent circular log streams on MemoryBlock devices (semantics.md §9.7).

The HM log and every trace stream use this one mechanism. The device is a byte buffer — in a
running system an ``mmap`` of the memory block's file in the run directory — so a record that
has been appended is on the device even if every process dies right after.

Crash consistency: the header has two control blocks; every change writes the *other* block and
only then switches ``c_hdr`` to it, so an interrupted update leaves the previous consistent copy
in force. A stream on anything but a MemoryBlock has capacity 0 (records are dropped).
"""

from __future__ import annotations

import struct
from typing import Protocol

from hm.record import RECORD_SIZE

MAGIC1 = 0xF9E8D7C6
MAGIC2 = 0x1A2B3C4D
HEADER_SIZE = 56
_HEAD = struct.Struct("<Iiiii")  # magic1, elem_size, max_num_of_elem, lock, c_hdr
_CTRL = struct.Struct("<iiii")  # tail, elem, head, d
_CTRL_OFF = (20, 36)
_MAGIC2_OFF = 52

SEEK_CUR, SEEK_SET, SEEK_END = 0, 1, 2
INVALID_PARAM = -3


class Buffer(Protocol):
    def __len__(self) -> int: ...
    def __getitem__(self, key: slice) -> bytes: ...
    def __setitem__(self, key: slice, value: bytes) -> None: ...


def capacity_for(size: int) -> int:
    """Records a block of ``size`` bytes holds (a 256 KiB block holds 7280)."""
    return max(0, (size - HEADER_SIZE) // RECORD_SIZE)


class LogStream:
    """One stream on one device buffer; one shared read cursor (``d``)."""

    def __init__(self, device: Buffer | None):
        self.dev = device
        self.capacity = capacity_for(len(device)) if device is not None else 0
        self.locked = False
        self.tail = self.elem = self.head = self.d = 0
        self._c_hdr = 0
        self.resumed = False  # True when open() found a valid previous log
        if self.capacity:
            self.open()

    # -- header -------------------------------------------------------------------------------

    def open(self) -> None:
        """Continue a valid log found on the device, or write a fresh header."""
        self.locked = False
        dev = self.dev
        assert dev is not None
        magic1, elem_size, cap, _lock, c_hdr = _HEAD.unpack(dev[0:20])
        (magic2,) = struct.unpack("<I", dev[_MAGIC2_OFF : _MAGIC2_OFF + 4])
        if (magic1, magic2, elem_size, cap) == (MAGIC1, MAGIC2, RECORD_SIZE, self.capacity) and c_hdr in (0, 1):
            off = _CTRL_OFF[c_hdr]
            tail, elem, head, d = _CTRL.unpack(dev[off : off + 16])
            if 0 <= elem <= cap and 0 <= tail < cap and 0 <= head < cap and 0 <= d <= elem:
                self.tail, self.elem, self.head, self.d, self._c_hdr = tail, elem, head, d, c_hdr
                self.resumed = True
                return
        self.reset()

    def reset(self) -> None:
        """Write a fresh header: the stream becomes empty."""
        if not self.capacity:
            return
        dev = self.dev
        assert dev is not None
        self.tail = self.elem = self.head = self.d = 0
        self._c_hdr = 0
        dev[0:20] = _HEAD.pack(MAGIC1, RECORD_SIZE, self.capacity, 0, 0)
        dev[_CTRL_OFF[0] : _CTRL_OFF[0] + 16] = _CTRL.pack(0, 0, 0, 0)
        dev[_CTRL_OFF[1] : _CTRL_OFF[1] + 16] = _CTRL.pack(0, 0, 0, 0)
        dev[_MAGIC2_OFF : _MAGIC2_OFF + 4] = struct.pack("<I", MAGIC2)

    def _save(self) -> None:
        dev = self.dev
        assert dev is not None
        nxt = 1 - self._c_hdr
        off = _CTRL_OFF[nxt]
        dev[off : off + 16] = _CTRL.pack(self.tail, self.elem, self.head, self.d)
        dev[16:20] = struct.pack("<i", nxt)  # the switch comes last
        self._c_hdr = nxt

    # -- operations ---------------------------------------------------------------------------

    def append(self, record: bytes) -> bool:
        """Store one 36-byte record; False if it was dropped (no capacity, or full and locked)."""
        if len(record) != RECORD_SIZE:
            raise ValueError("a log record is 36 bytes")
        if not self.capacity:
            return False
        if self.elem == self.capacity:
            if self.locked:
                return False
            self.head = (self.head + 1) % self.capacity
            self.elem -= 1
            if self.d > 0:
                self.d -= 1
        dev = self.dev
        assert dev is not None
        off = HEADER_SIZE + RECORD_SIZE * self.tail
        dev[off : off + RECORD_SIZE] = record
        self.tail = (self.tail + 1) % self.capacity
        self.elem += 1
        self._save()
        return True

    def read(self) -> bytes | None:
        """The record at the cursor (advancing it), or None when everything has been read."""
        if self.d >= self.elem:
            return None
        dev = self.dev
        assert dev is not None
        off = HEADER_SIZE + RECORD_SIZE * ((self.head + self.d) % self.capacity)
        self.d += 1
        self._save()
        return bytes(dev[off : off + RECORD_SIZE])

    def seek(self, offset: int, whence: int) -> int:
        """Move the cursor; returns 0, or PRTOS_INVALID_PARAM for an unknown ``whence`` (D-58)."""
        if whence == SEEK_SET:
            pos = offset
        elif whence == SEEK_CUR:
            pos = self.d + offset
        elif whence == SEEK_END:
            pos = self.elem + offset
        else:
            return INVALID_PARAM
        self.d = min(max(pos, 0), self.elem)
        if self.capacity:
            self._save()
        return 0

    def status(self) -> tuple[int, int, int]:
        """(num_of_events, max_events, current_event)."""
        return self.elem, self.capacity, self.d

    def lock(self) -> None:
        self.locked = True

    def unlock(self) -> None:
        self.locked = False
