"""A hostile ZMTP peer (a raw Python socket) against a bound PULL of the
implementation under test, which also serves a well-behaved pyzmq PUSH.

After each attack the hostile connection must be handled (closed where ZMTP
says so, see ZMTP.md sections 2.3, 4, 7, 8 and 16), nothing from the hostile
peer may be delivered, and the PULL must keep serving the good peer and
accepting new ones.  Nothing may hang: every raw socket has a timeout and
every zmq socket has RCVTIMEO/SNDTIMEO.
"""

import os
import random
import socket
import struct
import time

import pytest

NET = ["tcp", "ipc"]
CLOSE_TIMEOUT = 5.0  # seconds a misbehaving connection may take to be closed

SOCKET_TYPE_NUMBER = {"PAIR": 0, "PUB": 1, "SUB": 2, "REQ": 3, "REP": 4, "DEALER": 5,
                      "ROUTER": 6, "PULL": 7, "PUSH": 8, "XPUB": 9, "XSUB": 10}


# --------------------------------------------------------------------------
# ZMTP 3.1 encoding for the raw peer
# --------------------------------------------------------------------------

def greeting(mechanism=b"NULL", major=3, minor=1, as_server=0):
    """The 64-byte ZMTP greeting (signature, version, mechanism, filler)."""
    mech = mechanism.ljust(20, b"\x00")[:20]
    g = b"\xff" + b"\x00" * 7 + b"\x01" + b"\x7f" + bytes([major, minor]) + mech
    g += bytes([as_server]) + b"\x00" * 31
    assert len(g) == 64
    return g


def command(name, data=b""):
    body = bytes([len(name)]) + name + data
    if len(body) > 255:
        return b"\x06" + struct.pack(">Q", len(body)) + body
    return b"\x04" + bytes([len(body)]) + body


def metadata(**props):
    out = b""
    for key, value in props.items():
        k = key.replace("_", "-").encode()
        out += bytes([len(k)]) + k + struct.pack(">I", len(value)) + value
    return out


def ready(socket_type=b"PUSH"):
    return command(b"READY", metadata(Socket_Type=socket_type))


def frame(data, more=False):
    flags = 0x01 if more else 0x00
    if len(data) > 255:
        return bytes([flags | 0x02]) + struct.pack(">Q", len(data)) + data
    return bytes([flags, len(data)]) + data


def long_header(size, more=False):
    return bytes([0x02 | (0x01 if more else 0)]) + struct.pack(">Q", size)


class RawPeer:
    """A plain stream socket speaking (or abusing) ZMTP."""

    def __init__(self, transport, addr, timeout=CLOSE_TIMEOUT):
        if transport == "tcp":
            hostport = addr[len("tcp://"):]
            host, port = hostport.rsplit(":", 1)
            self.sock = socket.create_connection((host, int(port)), timeout=timeout)
        else:
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.settimeout(timeout)
            self.sock.connect(addr[len("ipc://"):])
        self.sock.settimeout(timeout)
        self.received = b""
        self.send_failed = False

    def send(self, data):
        self.sock.sendall(data)

    def send_hostile(self, data):
        """Send, tolerating that the server may already have hung up on us."""
        try:
            self.sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            self.send_failed = True

    def recv_exact(self, n):
        while len(self.received) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError(f"peer closed after {len(self.received)} bytes")
            self.received += chunk
        out, self.received = self.received[:n], self.received[n:]
        return out

    def read_frame(self):
        flags = self.recv_exact(1)[0]
        if flags & 0x02:
            size = struct.unpack(">Q", self.recv_exact(8))[0]
        else:
            size = self.recv_exact(1)[0]
        return flags, self.recv_exact(size)

    def handshake(self, socket_type=b"PUSH", ready_cmd=None):
        """Full NULL handshake as a well-behaved peer; returns the server's READY body."""
        self.send(greeting())
        server_greeting = self.recv_exact(64)
        assert server_greeting[0] == 0xFF and server_greeting[9] & 1, server_greeting
        assert server_greeting[10] == 3, f"server major version {server_greeting[10]}"
        assert server_greeting[12:32] == b"NULL".ljust(20, b"\x00")
        self.send(ready_cmd if ready_cmd is not None else ready(socket_type))
        flags, body = self.read_frame()
        assert flags & 0x04, f"expected a command, got flags {flags:#x}"
        return body

    def wait_closed(self, timeout=CLOSE_TIMEOUT):
        """Read until the server closes; True if it did within *timeout*."""
        self.sock.settimeout(timeout)
        deadline = time.monotonic() + timeout
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return True
                self.received += chunk
                if time.monotonic() > deadline:
                    return False
        except (ConnectionResetError, BrokenPipeError):
            return True
        except socket.timeout:
            return False

    def abort(self):
        """Vanish with a TCP RST (SO_LINGER 0) where possible."""
        if self.sock.family in (socket.AF_INET, socket.AF_INET6):
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.sock.close()

    def close(self):
        self.sock.close()


# --------------------------------------------------------------------------
# fixtures
# --------------------------------------------------------------------------

class Server:
    def __init__(self, zmq, pyzmq, sock, psock, endpoint, transport, recv_timeout,
                 recv_multipart_timeout, assert_no_message, **opts):
        self.zmq = zmq
        self.transport = transport
        self._psock = psock
        self._recv_timeout = recv_timeout
        self._recv_multipart_timeout = recv_multipart_timeout
        self._assert_no_message = assert_no_message
        self.pull = sock(zmq.PULL, **opts)
        self.addr = endpoint.bind(self.pull, transport)
        self.good = psock(pyzmq.PUSH)
        self.good.connect(self.addr)
        self.pyzmq = pyzmq
        self.raws = []
        self.count = 0
        self.assert_good_peer_served()

    def raw(self):
        r = RawPeer(self.transport, self.addr)
        self.raws.append(r)
        return r

    def recv(self, ms=5000):
        return self._recv_timeout(self.pull, ms)

    def recv_multipart(self, ms=5000):
        return self._recv_multipart_timeout(self.pull, ms)

    def assert_good_peer_served(self):
        """The good peer's next message is the next thing the PULL delivers."""
        self.count += 1
        tag = b"good-%d" % self.count
        self.good.send(tag)
        got = self._recv_multipart_timeout(self.pull)
        assert got == [tag], f"expected the good peer's {tag!r}, got {got!r:.200}"

    def assert_new_peer_served(self):
        p = self._psock(self.pyzmq.PUSH)
        p.connect(self.addr)
        p.send(b"newcomer")
        assert self.recv() == b"newcomer"
        p.close()

    def assert_healthy(self):
        self.assert_good_peer_served()
        self.assert_new_peer_served()
        self.assert_good_peer_served()
        self._assert_no_message(self.pull, 100)

    def cleanup(self):
        for r in self.raws:
            try:
                r.close()
            except OSError:
                pass


@pytest.fixture(params=NET)
def transport(request):
    return request.param


@pytest.fixture
def make_server(zmq, pyzmq, sock, psock, endpoint, transport, recv_timeout,
                recv_multipart_timeout, assert_no_message):
    servers = []

    def make(**opts):
        s = Server(zmq, pyzmq, sock, psock, endpoint, transport, recv_timeout,
                   recv_multipart_timeout, assert_no_message, **opts)
        servers.append(s)
        return s

    yield make
    for s in servers:
        s.cleanup()


@pytest.fixture
def server(make_server):
    return make_server()


# --------------------------------------------------------------------------
# positive control: the raw peer speaks correct ZMTP when it wants to
# --------------------------------------------------------------------------

def test_raw_peer_baseline_is_served(server):
    raw = server.raw()
    body = raw.handshake(b"PUSH")
    assert body.startswith(b"\x05READY")
    assert metadata(Socket_Type=b"PULL") in body, body
    raw.send(frame(b"raw-hello"))
    assert server.recv() == b"raw-hello"
    raw.send(frame(b"", more=True) + frame(b"x" * 300, more=True) + frame(b"end"))
    assert server.recv_multipart() == [b"", b"x" * 300, b"end"]
    # long size form for a short frame is legal and accepted
    raw.send(long_header(3) + b"abc")
    assert server.recv() == b"abc"
    server.assert_healthy()


def test_unknown_command_after_handshake_is_ignored(server):
    raw = server.raw()
    raw.handshake()
    raw.send(command(b"FOOBAR", b"whatever") + frame(b"after-unknown-command"))
    assert server.recv() == b"after-unknown-command"
    server.assert_healthy()


# --------------------------------------------------------------------------
# bad greetings
# --------------------------------------------------------------------------

GARBAGE = {
    "zeros": b"\x00" * 64,
    "random": b"\x00" + random.Random(1234).randbytes(511),
    "bad-signature-end": b"\xff" + b"\x00" * 8 + b"\x7e" + greeting()[10:],
}


@pytest.mark.parametrize("name", sorted(GARBAGE))
def test_garbage_instead_of_greeting_is_closed(server, name):
    raw = server.raw()
    raw.send_hostile(GARBAGE[name])
    assert raw.wait_closed(), f"connection sending {name} garbage was not closed"
    server.assert_healthy()


def test_http_request_is_not_delivered(server):
    """Text garbage: whatever the server does with the connection, nothing
    reaches the application and the good peer is unaffected."""
    raw = server.raw()
    raw.send(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
    server.assert_good_peer_served()
    server.assert_new_peer_served()
    raw.close()
    server.assert_healthy()


@pytest.mark.parametrize("major", [0x00, 0x01])
def test_legacy_major_version(server, major):
    """A ZMTP 1.0/2.0 greeting: close it, or downgrade as libzmq does --
    but never carry on as if it were a 3.x peer."""
    raw = server.raw()
    raw.send(greeting()[:10] + bytes([major, SOCKET_TYPE_NUMBER["PUSH"]]))
    closed = raw.wait_closed(1.0)
    data = raw.received
    if not closed:
        # libzmq's legacy downgrade: its major byte (3) then its socket type,
        # no 3.x minor/mechanism
        assert len(data) >= 12, f"connection neither closed nor answered: {data!r}"
        assert data[11] == SOCKET_TYPE_NUMBER["PULL"], data
        assert b"NULL" not in data, f"3.x greeting sent to a legacy peer: {data!r}"
    raw.close()
    server.assert_healthy()


@pytest.mark.parametrize("mechanism", [b"PLAIN", b"CURVE", b"NULL\x00\x00junk", b"null"])
def test_mechanism_mismatch_is_closed(server, mechanism):
    raw = server.raw()
    raw.send(greeting(mechanism))
    raw.send_hostile(ready() + frame(b"must-not-arrive"))
    assert raw.wait_closed(), f"mechanism {mechanism!r} accepted by a NULL server"
    after_greeting = raw.received[64:]
    assert b"\x05READY" not in after_greeting, "server sent READY after a mechanism mismatch"
    server.assert_healthy()


def test_truncated_greeting_then_vanish(server):
    raw = server.raw()
    raw.send(greeting()[:20])
    raw.close()
    server.assert_healthy()


def test_stalled_handshake_does_not_block_other_peers(server):
    raw = server.raw()
    raw.send(greeting()[:5])  # ... and then nothing
    server.assert_good_peer_served()
    server.assert_new_peer_served()
    raw2 = server.raw()
    raw2.send(greeting())  # full greeting, but never READY
    server.assert_good_peer_served()
    server.assert_new_peer_served()
    raw.close()
    raw2.close()
    server.assert_healthy()


def test_many_bad_connections_in_a_row(server):
    for i in range(30):
        raw = server.raw()
        raw.send_hostile(GARBAGE["zeros"])
        assert raw.wait_closed(), f"bad connection {i} not closed"
        raw.close()
    server.assert_healthy()


# --------------------------------------------------------------------------
# handshake violations
# --------------------------------------------------------------------------

@pytest.mark.parametrize("socket_type", [b"PUB", b"SUB", b"PULL", b"PAIR", b"REQ", b"DEALER",
                                         b"BOGUS", b""])
def test_incompatible_socket_type_is_closed(server, socket_type):
    raw = server.raw()
    raw.send(greeting())
    raw.recv_exact(64)
    raw.send_hostile(ready(socket_type) + frame(b"evil"))
    assert raw.wait_closed(), f"READY with Socket-Type {socket_type!r} accepted by a PULL"
    server.assert_healthy()  # and b"evil" was never delivered


def test_message_before_ready_is_closed(server):
    raw = server.raw()
    raw.send(greeting())
    raw.recv_exact(64)
    raw.send_hostile(frame(b"too-early"))
    assert raw.wait_closed(), "a message frame during the handshake was accepted"
    server.assert_healthy()


@pytest.mark.parametrize("meta", [
    b"\x0bSocket-Type\x00\x00\x00\x10PUSH",       # value length past the end
    b"\x0bSocket-Type\x00\x00\x00\x04PUSH\x05",   # lone trailing byte
    b"\x40Socket-Type",                           # name length past the end
], ids=["value-overrun", "trailing-byte", "name-overrun"])
def test_malformed_ready_metadata_is_closed(server, meta):
    raw = server.raw()
    raw.send(greeting())
    raw.recv_exact(64)
    raw.send_hostile(command(b"READY", meta) + frame(b"evil"))
    assert raw.wait_closed(), "malformed READY metadata accepted"
    server.assert_healthy()


# --------------------------------------------------------------------------
# oversized and truncated frames
# --------------------------------------------------------------------------

def test_frame_larger_than_maxmsgsize_is_closed(make_server, zmq):
    server = make_server(maxmsgsize=1024)
    assert server.pull.getsockopt(zmq.MAXMSGSIZE) == 1024
    raw = server.raw()
    raw.handshake()
    raw.send(frame(b"a" * 1024))  # exactly the limit: fine
    assert server.recv() == b"a" * 1024
    # the limit is per frame, not per message
    raw.send(frame(b"b" * 1024, more=True) + frame(b"c" * 1024))
    assert server.recv_multipart() == [b"b" * 1024, b"c" * 1024]
    server.assert_good_peer_served()
    raw.send_hostile(frame(b"d" * 1025))
    assert raw.wait_closed(), "frame over MAXMSGSIZE did not close the connection"
    server.assert_healthy()  # the 1025-byte frame was not delivered


@pytest.mark.parametrize("size", [2 ** 62, 2 ** 63 + 5, 2 ** 64 - 1],
                         ids=["2^62", "over-2^63", "2^64-1"])
def test_absurd_frame_size_is_closed(server, size):
    """A size no one can hold (or not even a legal one): close, don't allocate."""
    raw = server.raw()
    raw.handshake()
    raw.send_hostile(long_header(size) + b"some bytes")
    assert raw.wait_closed(), f"frame of declared size {size} not rejected"
    server.assert_healthy()


def test_absurd_frame_size_is_closed_with_maxmsgsize(make_server):
    server = make_server(maxmsgsize=1 << 20)
    raw = server.raw()
    raw.handshake()
    raw.send_hostile(long_header(1 << 40))
    assert raw.wait_closed()
    server.assert_healthy()


@pytest.mark.parametrize("how", ["close", "reset"])
@pytest.mark.parametrize("where", ["in-header", "in-body", "between-frames"])
def test_peer_vanishes_mid_message(server, how, where):
    raw = server.raw()
    raw.handshake()
    raw.send(frame(b"complete-before"))
    assert server.recv() == b"complete-before"
    if where == "in-header":
        tail = frame(b"part1", more=True) + long_header(1000)[:4]
    elif where == "in-body":
        tail = frame(b"part1", more=True) + long_header(1000) + b"y" * 100
    else:
        tail = frame(b"part1", more=True) + frame(b"part2", more=True)
    raw.send(tail)
    time.sleep(0.05)  # let the server read the partial message first
    if how == "reset":
        raw.abort()
    else:
        raw.close()
    # the partial message must never be delivered
    server.assert_healthy()


def test_peer_vanishes_mid_frame_of_large_message(server):
    raw = server.raw()
    raw.handshake()
    raw.send_hostile(long_header(8 * 1024 * 1024) + os.urandom(1024 * 1024))
    raw.abort()
    server.assert_healthy()
