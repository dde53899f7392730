"""Malformed configurations: ``prtosd check`` on seeded mutations of every scenario's system.xml.

A configuration comes from a person or a generator, never from a trusted source, so whatever the
file holds the checker must answer with ``file:line: message`` (exit 2) or a clean check (exit 0),
never with a traceback. The checker is run in-process through click's runner so that hundreds of
mutants take about a second.
"""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from lxml import etree

from prtosd.cli import main

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = sorted((ROOT / "configs").glob("*/system.xml"))
#: Mutants per run: the normal run, and the ``soak`` run (``pytest -m soak``).
NORMAL_MUTANTS = 600
SOAK_MUTANTS = 6000

_JUNK_VALUES = [
    "", " ", "0", "-1", "4294967296", "0x", "0xZZ", "1e309", "nan", "inf", "99999999999999999999999ms",
    "-5ms", "1.5.6", "\u00e9\u4e2d", "&amp;", "MB", "0KB", "18446744073709551616", "system,fp,,", "yes",
    "PRTOS_HM_AC_NONSENSE", "1 2", "0x7fffffff", "%s%n", "../../etc/passwd", "a" * 4096,
]  # fmt: skip


def _random_value(rng: random.Random) -> str:
    """An attribute value that is usually wrong in an interesting way."""
    kind = rng.randrange(4)
    if kind == 0:
        return rng.choice(_JUNK_VALUES)
    if kind == 1:
        return str(rng.randint(-(2**40), 2**40)) + rng.choice(["", "ms", "us", "s", "KB", "MB", "GB", "Hz", "x"])
    if kind == 2:
        return hex(rng.getrandbits(rng.choice([8, 32, 33, 64])))
    return "".join(chr(rng.randrange(0x20, 0x7F)) for _ in range(rng.randrange(1, 12))).replace("<", "")


def _tree_mutation(text: bytes, rng: random.Random) -> bytes:
    """Delete, duplicate, swap or re-value elements and attributes of a well-formed document."""
    root = etree.fromstring(text)
    elements = [e for e in root.iter() if isinstance(e.tag, str)]
    for _ in range(rng.randint(1, 3)):
        el = rng.choice(elements)
        op = rng.randrange(8)
        parent = el.getparent()
        if op == 0 and parent is not None:
            parent.remove(el)
            elements = [e for e in root.iter() if isinstance(e.tag, str)]
        elif op == 1 and parent is not None:
            parent.insert(parent.index(el), etree.fromstring(etree.tostring(el)))
        elif op == 2 and parent is not None and len(parent) > 1:
            i, j = rng.sample(range(len(parent)), 2)
            a, b = parent[i], parent[j]
            parent.replace(a, etree.Element("placeholder"))
            parent.replace(b, a)
            parent.replace(parent[i], b)
        elif op == 3 and el.attrib:
            el.set(rng.choice(list(el.attrib)), _random_value(rng))
        elif op == 4 and el.attrib:
            del el.attrib[rng.choice(list(el.attrib))]
        elif op == 5:
            ns = rng.choice(["urn:foreign", "http://www.prtos.org/prtos-1.x", "http://evil.example/x"])
            el.append(etree.Element(f"{{{ns}}}{rng.choice(['Partition', 'Slot', 'Foo', 'Area'])}", id="0"))
        elif op == 6:
            el.set(f"{{urn:foreign}}{rng.choice(['id', 'size', 'x'])}", _random_value(rng))
        elif op == 7 and parent is not None:
            other = rng.choice(elements)
            if other is not el and el not in other.iterancestors() and other not in el.iterancestors():
                other.append(el)  # move an element somewhere it does not belong
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _text_mutation(text: bytes, rng: random.Random) -> bytes:
    """Byte-level damage: truncation, flipped bytes, bad encodings, entity tricks."""
    op = rng.randrange(6)
    if op == 0:
        return text[: rng.randrange(len(text))]
    if op == 1:
        data = bytearray(text)
        for _ in range(rng.randint(1, 8)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        return bytes(data)
    if op == 2:
        i = rng.randrange(len(text))
        return text[:i] + rng.choice([b"<", b">", b"&", b"\x00", b"\xff\xfe", b"]]>", b"<!--", b"</x>"]) + text[i:]
    if op == 3:
        doctype = b'<!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        body = text.split(b"?>", 1)[-1]
        return doctype + body.replace(b'name="', b'name="&b;', 1)
    if op == 4:
        doctype = b'<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        body = text.split(b"?>", 1)[-1]
        return doctype + body.replace(b'name="', b'name="&x;', 1)
    return text.decode("utf-8", "replace").encode("utf-16")


def mutate(text: bytes, rng: random.Random) -> bytes:
    """One mutant of a scenario: mostly structural, sometimes byte-level."""
    if rng.random() < 0.7:
        return _tree_mutation(text, rng)
    return _text_mutation(text, rng)


def _check_mutants(tmp_path: Path, count: int, seed: int) -> dict[int, int]:
    """Run ``prtosd check`` on ``count`` mutants; returns how many ended with each exit code."""
    rng = random.Random(seed)
    runner = CliRunner()
    originals = [(p.parent.name, p.read_bytes()) for p in SCENARIOS]
    codes: dict[int, int] = {}
    for n in range(count):
        _, text = originals[n % len(originals)]
        path = tmp_path / f"m{n}-{SCENARIOS[n % len(SCENARIOS)].parent.name}.xml"
        path.write_bytes(mutate(text, rng))
        res = runner.invoke(main, ["check", str(path)])
        where = f"mutant {n} (seed {seed}): {path}\n{res.output[-2000:]}"
        assert res.exception is None or isinstance(res.exception, SystemExit), where
        assert "Traceback" not in res.output, where
        assert res.exit_code in (0, 2), where
        if res.exit_code == 2:
            assert re.search(re.escape(str(path)) + r":\d+: ", res.output), where
        codes[res.exit_code] = codes.get(res.exit_code, 0) + 1
        path.unlink()
    return codes


def test_scenarios_load_cleanly(tmp_path: Path) -> None:
    """The originals are valid: the mutants' errors come from the mutations, not the starting point."""
    assert len(SCENARIOS) >= 10
    runner = CliRunner()
    for path in SCENARIOS:
        res = runner.invoke(main, ["check", str(path)])
        assert res.exit_code == 0, res.output


def test_mutated_configs_give_file_line_errors_never_tracebacks(tmp_path: Path) -> None:
    codes = _check_mutants(tmp_path, NORMAL_MUTANTS, seed=653)
    assert sum(codes.values()) == NORMAL_MUTANTS
    assert codes.get(2, 0) > NORMAL_MUTANTS // 2  # most mutants really are broken


@pytest.mark.soak
def test_many_mutated_configs(tmp_path: Path) -> None:
    codes = _check_mutants(tmp_path, SOAK_MUTANTS, seed=1653)
    assert sum(codes.values()) == SOAK_MUTANTS
