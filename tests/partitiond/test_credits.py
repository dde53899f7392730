"""Port credits on the partition side (partitiond.credits): what is completed here, what is forwarded."""

from __future__ import annotations

import struct
from types import SimpleNamespace
from typing import Any

from partitiond.credits import HC_READ_OBJECT, HC_WRITE_OBJECT, PortCredits
from partitiond.pct import comm_port_word

PID = 2
SRC, DST = 5, 6  # global ids of the partition's source and destination ports
BUF, BAD = 0x1000, 0x9000


class Memory:
    """Guest memory: 0x0-0x8000 accessible, and the PCT words a send sets."""

    def __init__(self) -> None:
        self.bytes: dict[int, int] = {}

    def check(self, addr: int, length: int, *, write: bool = False, allow_null: bool = False) -> bool:
        return addr > 0 and addr + length <= 0x8000

    def read(self, addr: int, length: int) -> bytes:
        return bytes(self.bytes.get(addr + i, 0) for i in range(length))

    def write(self, addr: int, data: bytes) -> None:
        for i, b in enumerate(data):
            self.bytes[addr + i] = b


def partition() -> Any:
    ports = [SimpleNamespace(global_id=SRC, index=0), SimpleNamespace(global_id=DST, index=1)]
    return SimpleNamespace(id=PID, no_vcpus=1, areas=[object()], ports=ports)


def desc(port: int, pid: int = PID, klass: int = 4) -> int:
    return klass << 24 | pid << 10 | port


def credits(*entries: list[int], inbox: list[bytes] | None = None) -> tuple[PortCredits, Memory]:
    mem = Memory()
    c = PortCredits(partition(), mem)  # type: ignore[arg-type]
    msg: dict[str, Any] = {"credits": list(entries)}
    if inbox is not None:
        msg["inbox"] = inbox
    c.load(msg)
    return c, mem


def test_sends_on_credit_until_it_runs_out_and_set_the_own_bitmap_bit() -> None:
    c, mem = credits([SRC, 0, 16, 2, 0])
    mem.write(BUF, b"hello")
    assert c.serve(HC_WRITE_OBJECT, (desc(SRC), BUF, 5, 0, 0), 10) == 0
    assert c.serve(HC_WRITE_OBJECT, (desc(SRC), BUF, 3, 0, 0), 11) == 0
    assert c.serve(HC_WRITE_OBJECT, (desc(SRC), BUF, 3, 0, 0), 12) is None  # exhausted: forwarded
    addr, bit = comm_port_word(partition(), 0, 0)
    assert struct.unpack("<I", mem.read(addr, 4))[0] == bit
    log = c.take_log()
    assert log == {
        "ops": [[10, 12, desc(SRC), BUF, 5, 0, 0], [11, 12, desc(SRC), BUF, 3, 0, 0]],
        "sent": [b"hello", b"hel"],
    }
    assert c.take_log() == {}


def test_receives_hand_over_the_messages_and_truncate_to_the_buffer() -> None:
    c, mem = credits([DST, 1, 16, 2, 0], inbox=[b"first msg", b"second"])
    assert c.serve(HC_READ_OBJECT, (desc(DST), BUF, 5, 0, 0), 1) == 5
    assert mem.read(BUF, 6) == b"first\0"
    assert c.serve(HC_READ_OBJECT, (desc(DST), BUF, 16, 0, 0), 2) == 6
    assert c.serve(HC_READ_OBJECT, (desc(DST), BUF, 16, 0, 0), 3) is None
    assert c.take_log() == {"ops": [[1, 11, desc(DST), BUF, 5, 0, 5], [2, 11, desc(DST), BUF, 16, 0, 6]]}


def test_a_final_send_credit_answers_the_full_queue_once() -> None:
    c, mem = credits([SRC, 0, 16, 1, 1])
    mem.write(BUF, b"abcd")
    assert c.serve(HC_WRITE_OBJECT, (desc(SRC), BUF, 4, 0, 0), 1) == 0
    assert c.serve(HC_WRITE_OBJECT, (desc(SRC), BUF, 4, 0, 0), 2) == -7  # full: OP_NOT_ALLOWED
    assert c.serve(HC_WRITE_OBJECT, (desc(SRC), BUF, 4, 0, 0), 3) is None  # polling: forwarded
    assert c.take_log() == {
        "ops": [[1, 12, desc(SRC), BUF, 4, 0, 0], [2, 12, desc(SRC), BUF, 4, 0, -7]],
        "sent": [b"abcd", b"abcd"],
    }


def test_a_final_receive_credit_clears_the_own_bit_with_the_last_message_then_answers_empty() -> None:
    c, mem = credits([DST, 1, 16, 2, 1], inbox=[b"one", b"two"])
    addr, bit = comm_port_word(partition(), 0, 1)
    mem.write(addr, struct.pack("<I", bit | 1))  # this port's bit, and another port's
    assert c.serve(HC_READ_OBJECT, (desc(DST), BUF, 16, 0, 0), 1) == 3
    assert struct.unpack("<I", mem.read(addr, 4))[0] == bit | 1  # a message is still waiting
    assert c.serve(HC_READ_OBJECT, (desc(DST), BUF, 16, 0, 0), 2) == 3
    assert struct.unpack("<I", mem.read(addr, 4))[0] == 1  # the queue is empty: only its own bit cleared
    assert c.serve(HC_READ_OBJECT, (desc(DST), BUF, 16, 0, 0), 3) == -7
    assert c.serve(HC_READ_OBJECT, (desc(DST), BUF, 16, 0, 0), 4) is None
    # An empty queue from the start: refused once on credit too; errors before the empty check are not.
    c, _ = credits([DST, 1, 16, 0, 1], inbox=[])
    assert c.serve(HC_READ_OBJECT, (desc(DST), BAD, 16, 0, 0), 1) is None
    assert c.serve(HC_READ_OBJECT, (desc(DST), BUF, 17, 0, 0), 1) is None
    assert c.serve(HC_READ_OBJECT, (desc(DST), BUF, 16, 0, 0), 1) == -7


def test_a_credit_that_is_not_final_never_refuses() -> None:
    c, _ = credits([DST, 1, 16, 1, 0], inbox=[b"m"])
    assert c.serve(HC_READ_OBJECT, (desc(DST), BUF, 16, 0, 0), 1) == 1
    assert c.serve(HC_READ_OBJECT, (desc(DST), BUF, 16, 0, 0), 2) is None
    c, _ = credits([SRC, 0, 16, 0, 0])
    assert c.ports == {}  # nothing to give


def test_everything_off_the_success_path_is_forwarded() -> None:
    c, _ = credits([SRC, 0, 16, 4, 1], [DST, 1, 16, 1, 1], inbox=[b"m"])
    forwarded = [
        (HC_WRITE_OBJECT, (desc(SRC), BAD, 4, 0, 0)),  # bad pointer: INVALID_PARAM from prtosd
        (HC_WRITE_OBJECT, (desc(SRC), BUF, 0, 0, 0)),  # size 0
        (HC_WRITE_OBJECT, (desc(SRC), BUF, 17, 0, 0)),  # too long
        (HC_WRITE_OBJECT, (desc(SRC, pid=3), BUF, 4, 0, 0)),  # another partition's descriptor
        (HC_WRITE_OBJECT, (desc(SRC, klass=3), BUF, 4, 0, 0)),  # a sampling port
        (HC_WRITE_OBJECT, (desc(DST), BUF, 4, 0, 0)),  # wrong direction
        (HC_WRITE_OBJECT, (desc(7), BUF, 4, 0, 0)),  # no credit for that port
        (HC_READ_OBJECT, (desc(SRC), BUF, 4, 0, 0)),  # receive on a source
        (HC_READ_OBJECT, (desc(DST), BAD, 4, 0, 0)),
        (13, (desc(SRC), 0, 0, 0, 0)),  # seek: not a send or receive
    ]
    for nr, args in forwarded:
        assert c.serve(nr, args, 0) is None, (nr, args)
    assert c.take_log() == {}


def test_new_credits_replace_the_old_ones_and_a_reset_drops_them() -> None:
    c, _ = credits([SRC, 0, 16, 4, 0])
    c.load({})  # an hcall_ret without credits
    assert c.serve(HC_WRITE_OBJECT, (desc(SRC), BUF, 4, 0, 0), 0) is None
    c.load({"credits": [[SRC, 0, 16, 1, 0], [SRC, 5, 16, 1, 0], [DST, 1, 16, 3, 1], [7, 0, 16, 1]], "inbox": [b"x"]})
    assert c.ports[DST].left == 1  # no more receives than messages handed over
    assert not c.ports[DST].final  # ... and then not the end of the queue
    assert len(c.ports) == 2  # the entries of an unknown direction or of four fields are ignored
    c.clear()
    assert c.serve(HC_WRITE_OBJECT, (desc(SRC), BUF, 4, 0, 0), 0) is None
