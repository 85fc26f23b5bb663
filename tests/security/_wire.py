"""ZMTP bytes for the wire tests: a greeting as RFC 23 lays it out, the
frames of a captured byte stream, and a TCP relay that records both
directions of one connection between two real peers."""

from __future__ import annotations

import socket
import threading

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


class Recorder:
    """Relays one TCP connection to 127.0.0.1:target and records what each
    side sent: ``up`` (connecting side to target) and ``down``."""

    def __init__(self, target_port: int):
        self.target = target_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(5)
        self.port = self.listener.getsockname()[1]
        self.up = bytearray()
        self.down = bytearray()
        self.socks: list[socket.socket] = []
        self.threads = [threading.Thread(target=self._accept, daemon=True)]
        self.threads[0].start()

    def _accept(self):
        try:
            a, _ = self.listener.accept()
        except OSError:
            return
        b = socket.create_connection(("127.0.0.1", self.target), timeout=5)
        self.socks += [a, b]
        for src, dst, log in ((a, b, self.up), (b, a, self.down)):
            t = threading.Thread(target=self._pump, args=(src, dst, log), daemon=True)
            t.start()
            self.threads.append(t)

    @staticmethod
    def _pump(src, dst, log):
        src.settimeout(None)
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                log += data
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def close(self):
        for s in self.socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self.listener.close()
        for t in self.threads:
            t.join(5)
        for s in self.socks:
            s.close()
