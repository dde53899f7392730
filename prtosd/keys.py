"""CURVE keys for every TCP endpoint of a system (control plane, remote partitions).

A Unix socket in the 0700 run directory is protected by file permissions; a TCP endpoint is
not, so ZeroMQ's CURVE (encryption plus public-key authentication, with a ZAP authenticator
thread) guards each one. ``prtosd keys DIR`` writes one key directory:

``DIR/server.key`` / ``DIR/server.key_secret``
    the daemon's key pair (the public half is given to every client);
``DIR/clients/NAME.key`` / ``DIR/clients/NAME.key_secret``
    one key pair per client (a prtosctl user, a remote partition host);
``DIR/authorized/NAME.key``
    the public keys the daemon accepts, looked up at every handshake — remove a file to revoke
    that client (its new connections are refused at once).

Secret files are created 0600 and the directory 0700. The file format is pyzmq's
(``zmq.auth.create_certificates``), so keys made with other ZeroMQ tools can be dropped in.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import zmq

#: The handshake failures a CURVE socket's monitor reports (a refused key, a wrong server key, ...).
HANDSHAKE_FAILED = (
    zmq.EVENT_HANDSHAKE_FAILED_AUTH | zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL | zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL
)
SERVER = "server"
CLIENTS = "clients"
AUTHORIZED = "authorized"
_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")


class KeysError(Exception):
    """A key directory or key file is missing or unreadable; the message is for the user."""


@dataclass(frozen=True)
class KeyPair:
    public: bytes
    secret: bytes


def generate(directory: Path, clients: list[str] | tuple[str, ...] = ("client",), *, force: bool = False) -> list[Path]:
    """Create (or extend) a key directory; returns the files written.

    An existing server key pair is kept unless ``force``, so adding a client never invalidates
    the keys already handed out.
    """
    for name in clients:
        if not _NAME.match(name) or name == SERVER:
            raise KeysError(f"invalid client name {name!r} (letters, digits, '_', '.', '-'; not 'server')")
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(directory, 0o700)
    (directory / CLIENTS).mkdir(mode=0o700, exist_ok=True)
    (directory / AUTHORIZED).mkdir(mode=0o700, exist_ok=True)
    written: list[Path] = []
    if force or not (directory / f"{SERVER}.key_secret").exists():
        written += _create(directory, SERVER)
    for name in clients:
        if force or not (directory / CLIENTS / f"{name}.key_secret").exists():
            written += _create(directory / CLIENTS, name)
        shutil.copyfile(directory / CLIENTS / f"{name}.key", directory / AUTHORIZED / f"{name}.key")
        written.append(directory / AUTHORIZED / f"{name}.key")
    return written


def _create(directory: Path, name: str) -> list[Path]:
    import zmq.auth  # here, not at the top: ~15 ms that every `prtosd start` would pay for key files

    public, secret = zmq.auth.create_certificates(str(directory), name)
    os.chmod(secret, 0o600)
    return [Path(public), Path(secret)]


def load_pair(secret_file: Path) -> KeyPair:
    """A key pair from a ``*.key_secret`` file."""
    import zmq.auth  # see _create

    try:
        public, secret = zmq.auth.load_certificate(str(secret_file))
    except (OSError, ValueError) as exc:
        raise KeysError(f"cannot read key file {secret_file}: {exc}") from None
    if secret is None:
        raise KeysError(f"{secret_file} holds no secret key (use the .key_secret file)")
    return KeyPair(public, secret)


def load_public(public_file: Path) -> bytes:
    """The public key from a ``*.key`` (or ``*.key_secret``) file."""
    import zmq.auth  # see _create

    try:
        public, _ = zmq.auth.load_certificate(str(public_file))
    except (OSError, ValueError) as exc:
        raise KeysError(f"cannot read key file {public_file}: {exc}") from None
    return public


def check_server_dir(directory: Path) -> KeyPair:
    """The server key pair of a key directory that has an ``authorized`` folder; KeysError otherwise.

    Lets a command line check ``--keys`` before it starts anything.
    """
    if not directory.is_dir():
        raise KeysError(f"no key directory {directory} (create one with 'prtosd keys {directory}')")
    pair = load_pair(directory / f"{SERVER}.key_secret")
    authorized = directory / AUTHORIZED
    if not authorized.is_dir():
        raise KeysError(f"{authorized} is missing (create keys with 'prtosd keys {directory}')")
    return pair


def authorized_names(directory: Path) -> dict[str, str]:
    """Client name (file stem) by Z85 public key, for the keys in ``DIR/authorized``.

    ZeroMQ reports the public key of a CURVE peer as its ``User-Id``; this names it in audit records.
    """
    names: dict[str, str] = {}
    try:
        paths = sorted((directory / AUTHORIZED).glob("*.key"))
    except OSError:
        return names  # an unreadable directory authorises nobody
    for path in paths:
        try:
            names[load_public(path).decode()] = path.stem
        except KeysError:
            continue  # a file that is not a key authorises nobody
    return names


class _AuthorizedDir:
    """Looks a client key up in ``DIR/authorized`` at each handshake, so that removing a file
    revokes that client at once (new connections; a connection already made stays)."""

    def __init__(self, directory: Path):
        self.directory = directory

    def callback(self, domain: str, z85_key: bytes) -> bool:
        return z85_key.decode() in authorized_names(self.directory.parent)


def monitor_events(monitor: zmq.Socket) -> list[int]:
    """The events a socket monitor (``sock.get_monitor_socket``) has queued, without waiting.

    Refused handshakes never reach the socket's user; its monitor is where every TCP endpoint
    and client of the project learns about them (and about lost connections).
    """
    events = []
    while monitor.get(zmq.EVENTS) & zmq.POLLIN:  # no poller: the control server calls this every step
        # Imported only when there is an event: zmq.utils.monitor pulls in asyncio (~40 ms of start-up).
        from zmq.utils.monitor import recv_monitor_message

        events.append(recv_monitor_message(monitor)["event"])
    return events


class CurveServer:
    """Make sockets CURVE servers that accept only the keys in ``DIR/authorized``.

    One ZAP authenticator thread per ZeroMQ context (ZeroMQ allows only one handler); call
    :meth:`close` before terminating the context.
    """

    def __init__(self, ctx: zmq.Context, directory: Path):
        self.directory = directory
        self.pair = check_server_dir(directory)
        authorized = directory / AUTHORIZED
        # Imported here: it pulls in asyncio (~40 ms), and only TCP endpoints with CURVE keys need it,
        # while every `prtosd start` imports this module.
        from zmq.auth.thread import ThreadAuthenticator

        self.auth = ThreadAuthenticator(ctx)
        self.auth.start()
        self.auth.configure_curve_callback(domain="*", credentials_provider=_AuthorizedDir(authorized))

    def secure(self, sock: zmq.Socket) -> None:
        """Call before ``bind``."""
        sock.curve_secretkey = self.pair.secret
        sock.curve_publickey = self.pair.public
        sock.curve_server = True

    def close(self) -> None:
        self.auth.stop()


def secure_client(sock: zmq.Socket, client_secret_file: Path, server_public_file: Path) -> None:
    """Make ``sock`` a CURVE client with its own key pair that trusts the given server key. Call
    before ``connect``."""
    pair = load_pair(client_secret_file)
    sock.curve_secretkey = pair.secret
    sock.curve_publickey = pair.public
    sock.curve_serverkey = load_public(server_public_file)
