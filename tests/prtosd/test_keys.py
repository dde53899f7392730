"""prtosd keys and the CURVE helpers: authorised clients get through, others are refused."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
import zmq
from click.testing import CliRunner

from prtosd.cli import main
from prtosd.keys import CurveServer, KeysError, generate, load_pair, secure_client


def test_cli_writes_private_key_directory(tmp_path: Path) -> None:
    d = tmp_path / "keys"
    r = CliRunner().invoke(main, ["keys", str(d), "--client", "ops", "--client", "node2"])
    assert r.exit_code == 0, r.output
    assert stat.S_IMODE(d.stat().st_mode) == 0o700
    for f in (d / "server.key_secret", d / "clients" / "ops.key_secret", d / "clients" / "node2.key_secret"):
        assert stat.S_IMODE(f.stat().st_mode) == 0o600
    assert sorted(p.name for p in (d / "authorized").iterdir()) == ["node2.key", "ops.key"]


def test_existing_keys_are_kept_unless_forced(tmp_path: Path) -> None:
    generate(tmp_path, ["a"])
    before = load_pair(tmp_path / "server.key_secret")
    generate(tmp_path, ["b"])
    assert load_pair(tmp_path / "server.key_secret") == before
    generate(tmp_path, ["b"], force=True)
    assert load_pair(tmp_path / "server.key_secret") != before


def test_bad_client_name_and_missing_files(tmp_path: Path) -> None:
    r = CliRunner().invoke(main, ["keys", str(tmp_path), "--client", "../x"])
    assert r.exit_code == 2 and "invalid client name" in r.output
    with pytest.raises(KeysError, match="cannot read key file"):
        load_pair(tmp_path / "nope.key_secret")


def test_curve_accepts_authorised_and_refuses_others(tmp_path: Path) -> None:
    generate(tmp_path / "k", ["good"])
    generate(tmp_path / "other", ["bad"])
    ctx = zmq.Context()
    server = CurveServer(ctx, tmp_path / "k")
    rep = ctx.socket(zmq.REP)
    rep.setsockopt(zmq.LINGER, 0)
    server.secure(rep)
    port = rep.bind_to_random_port("tcp://127.0.0.1")
    endpoint = f"tcp://127.0.0.1:{port}"
    try:
        good = ctx.socket(zmq.REQ)
        secure_client(good, tmp_path / "k" / "clients" / "good.key_secret", tmp_path / "k" / "server.key")
        pending = _roundtrip_async(good, endpoint)
        assert rep.poll(3000)
        rep.send(rep.recv())
        assert pending() == b"ping"
        bad = ctx.socket(zmq.REQ)
        secure_client(bad, tmp_path / "other" / "clients" / "bad.key_secret", tmp_path / "k" / "server.key")
        bad.setsockopt(zmq.LINGER, 0)
        bad.connect(endpoint)
        bad.send(b"ping")
        assert not rep.poll(500)  # never reaches the server
        plain = ctx.socket(zmq.REQ)
        plain.setsockopt(zmq.LINGER, 0)
        plain.connect(endpoint)
        plain.send(b"ping")
        assert not rep.poll(500)
        for s in (good, bad, plain):
            s.close(0)
    finally:
        rep.close(0)
        server.close()
        ctx.term()


def _roundtrip_async(sock: zmq.Socket, endpoint: str):
    sock.setsockopt(zmq.LINGER, 0)
    sock.connect(endpoint)
    sock.send(b"ping")
    return lambda: sock.recv() if sock.poll(3000) else None


def test_removing_an_authorised_key_revokes_it_at_once(tmp_path: Path) -> None:
    generate(tmp_path, ["ops"])
    ctx = zmq.Context()
    server = CurveServer(ctx, tmp_path)
    rep = ctx.socket(zmq.REP)
    rep.setsockopt(zmq.LINGER, 0)
    server.secure(rep)
    endpoint = f"tcp://127.0.0.1:{rep.bind_to_random_port('tcp://127.0.0.1')}"
    clients = []
    try:
        for expect in (b"ping", None):
            sock = ctx.socket(zmq.REQ)
            clients.append(sock)
            secure_client(sock, tmp_path / "clients" / "ops.key_secret", tmp_path / "server.key")
            pending = _roundtrip_async(sock, endpoint)
            if expect is not None:
                assert rep.poll(3000)
                rep.send(rep.recv())
                assert pending() == expect
                (tmp_path / "authorized" / "ops.key").unlink()  # revoke, with the daemon running
            else:
                assert not rep.poll(500)  # the same key, a new connection: refused
    finally:
        for s in clients:
            s.close(0)
        rep.close(0)
        server.close()
        ctx.term()
