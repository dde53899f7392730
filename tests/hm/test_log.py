"""Log streams on memory blocks: layout, circular behaviour, cursor, lock, persistence."""

from __future__ import annotations

import mmap
import struct
from pathlib import Path

import pytest

from hm.log import HEADER_SIZE, INVALID_PARAM, MAGIC1, MAGIC2, SEEK_CUR, SEEK_END, SEEK_SET, LogStream, capacity_for
from hm.record import RECORD_SIZE, Record, checksum, hm_record, is_intact


def rec(n: int) -> bytes:
    return hm_record(6, n & 0xFF, 0, 1000 + n, sequence=n, pc=0x6000000 + n, psr=0x202).pack()


def device(records: int) -> bytearray:
    return bytearray(HEADER_SIZE + RECORD_SIZE * records + 7)  # odd tail bytes are unused


def test_capacity_of_a_256k_block() -> None:
    assert capacity_for(256 * 1024) == 7280
    assert capacity_for(HEADER_SIZE - 1) == 0


def test_fresh_header_layout() -> None:
    dev = device(4)
    LogStream(dev)
    magic1, elem_size, cap, lock, c_hdr = struct.unpack_from("<Iiiii", dev, 0)
    assert (magic1, elem_size, cap, lock, c_hdr) == (MAGIC1, 36, 4, 0, 0)
    assert struct.unpack_from("<I", dev, 52)[0] == MAGIC2


def test_append_read_and_wrap() -> None:
    log = LogStream(device(3))
    for n in range(5):
        assert log.append(rec(n))
    assert log.status() == (3, 3, 0)
    assert [Record.unpack(log.read()).sequence for _ in range(3)] == [2, 3, 4]
    assert log.read() is None
    assert log.status() == (3, 3, 3)


def test_wrap_moves_the_cursor_back_with_the_discarded_record() -> None:
    log = LogStream(device(2))
    log.append(rec(0))
    log.append(rec(1))
    log.read()  # d = 1: record 0 read, record 1 next
    log.append(rec(2))  # discards record 0: the cursor follows and still points at record 1
    assert [Record.unpack(log.read()).sequence for _ in range(2)] == [1, 2]
    assert log.read() is None


def test_locked_full_log_drops_new_records() -> None:
    log = LogStream(device(2))
    log.append(rec(0))
    log.append(rec(1))
    log.lock()
    assert not log.append(rec(2))
    log.unlock()
    assert log.append(rec(3))
    assert [Record.unpack(log.read()).sequence for _ in range(2)] == [1, 3]


def test_seek() -> None:
    log = LogStream(device(8))
    for n in range(5):
        log.append(rec(n))
    assert log.seek(2, SEEK_SET) == 0 and log.status()[2] == 2
    assert log.seek(1, SEEK_CUR) == 0 and log.status()[2] == 3
    assert log.seek(-1, SEEK_END) == 0 and log.status()[2] == 4
    assert log.seek(100, SEEK_SET) == 0 and log.status()[2] == 5  # clamped
    assert log.seek(-100, SEEK_CUR) == 0 and log.status()[2] == 0
    assert log.seek(0, 3) == INVALID_PARAM


def test_survives_reopen_and_alternates_control_blocks(tmp_path: Path) -> None:
    path = tmp_path / "logBook.bin"
    path.write_bytes(bytes(256 * 1024))
    with path.open("r+b") as f, mmap.mmap(f.fileno(), 0) as mm:
        log = LogStream(mm)
        c0 = struct.unpack_from("<i", mm, 16)[0]
        log.append(rec(7))
        assert struct.unpack_from("<i", mm, 16)[0] == 1 - c0
        log.append(rec(8))
        log.read()
    # a new process (or a system reset) finds the log again, cursor included
    with path.open("r+b") as f, mmap.mmap(f.fileno(), 0) as mm:
        again = LogStream(mm)
        assert again.resumed
        assert again.status() == (2, 7280, 1)
        assert Record.unpack(again.read()).sequence == 8


def test_corrupt_header_gives_a_fresh_log() -> None:
    dev = device(4)
    LogStream(dev).append(rec(1))
    dev[0] ^= 0xFF
    log = LogStream(dev)
    assert not log.resumed and log.status() == (0, 4, 0)


def test_no_device_has_capacity_zero() -> None:
    log = LogStream(None)
    assert not log.append(rec(0))
    assert log.read() is None and log.status() == (0, 0, 0)


def test_record_checksum_rule() -> None:
    raw = rec(3)
    assert is_intact(raw)
    words = struct.unpack("<18H", raw)
    assert sum(words) & 0xFFFF == 0xFFFF
    assert checksum(raw) == words[1]
    broken = bytearray(raw)
    broken[12] ^= 1
    assert not is_intact(bytes(broken))


def test_hm_record_fields() -> None:
    r = Record.unpack(hm_record(20, 1, 2, 555, sequence=9, pc=0x6000010, psr=0x46).pack())
    assert (r.signature, r.event_id, r.vcpu_id, r.partition_id, r.timestamp) == (0xFECF, 20, 2, 1, 555)
    assert r.sequence == 9 and r.has_cpu_context and not r.is_system
    assert r.payload[:2] == (0x6000010, 0x46)


def test_append_rejects_wrong_size() -> None:
    with pytest.raises(ValueError):
        LogStream(device(1)).append(b"x")
