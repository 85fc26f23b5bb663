"""ZMTP bytes for the wire tests: a greeting as RFC 23 lays it out, the
frames of a captured byte stream, and (from tests/wire_relay.py) a TCP
relay that records both directions of one connection between two real
peers."""

from __future__ import annotations

import socket

from wire_relay import Recorder  # noqa: F401 - part of this module's kit

GREETING_SIZE = 64
COMMAND_FLAG = 0x04
LONG_FLAG = 0x02


def greeting(mechanism: bytes, as_server: bool, minor: int = 1) -> bytes:
    """A ZMTP 3.x greeting: signature, version, mechanism, as-server, filler."""
    return (b"\xff" + b"\0" * 8 + b"\x7f" + bytes([3, minor]) + mechanism.ljust(20, b"\0")
            + bytes([1 if as_server else 0]) + b"\0" * 31)


def frames(data: bytes) -> list[tuple[int, bytes]]:
    """(flags, body) of every complete frame after the greeting."""
    out = []
    pos = GREETING_SIZE
    while pos + 2 <= len(data):
        flags = data[pos]
        if flags & LONG_FLAG:
            if pos + 9 > len(data):
                break
            size, head = int.from_bytes(data[pos + 1:pos + 9], "big"), 9
        else:
            size, head = data[pos + 1], 2
        if pos + head + size > len(data):
            break
        out.append((flags, bytes(data[pos + head:pos + head + size])))
        pos += head + size
    return out


def command_name(body: bytes) -> bytes:
    """The name of a command frame's body (a length byte, then the name)."""
    return body[1:1 + body[0]]


def read_until_closed(sock: socket.socket, timeout: float, enough=lambda data: False) -> bytes:
    """Bytes from sock until the peer closes, enough(data) holds, or
    timeout seconds pass without anything arriving."""
    sock.settimeout(timeout)
    data = b""
    try:
        while not enough(data):
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    except (socket.timeout, ConnectionResetError):
        pass
    return data
