"""ZMTP heartbeats (ZMTP.md section 14): PING every HEARTBEAT_IVL, a dropped
connection when nothing comes back within HEARTBEAT_TIMEOUT or the peer's
TTL, and a PONG echoing up to 16 context bytes for every PING received."""
import socket
import struct
import time

import pytest

GREETING = b"\xff" + b"\0" * 7 + b"\x01\x7f\x03\x01NULL" + b"\0" * 48


def ready(socket_type):
    body = b"\x05READY\x0bSocket-Type" + struct.pack(">I", len(socket_type)) + socket_type
    return bytes([0x04, len(body)]) + body


class RawZmtp:
    """A raw ZMTP 3.1 NULL peer accepted from a listening socket."""

    def __init__(self, conn, socket_type):
        self.conn = conn
        conn.settimeout(5)
        conn.sendall(GREETING + ready(socket_type))
        self.buf = b""
        self.read_exactly(64)       # the peer's greeting
        self.read_frame()           # the peer's READY

    def read_exactly(self, n):
        while len(self.buf) < n:
            chunk = self.conn.recv(65536)
            if not chunk:
                raise EOFError
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def read_frame(self):
        flags = self.read_exactly(1)[0]
        size = struct.unpack(">Q", self.read_exactly(8))[0] if flags & 2 else self.read_exactly(1)[0]
        return flags, self.read_exactly(size)

    def closed_within(self, seconds):
        """True if the other side closes the connection within `seconds`."""
        deadline = time.monotonic() + seconds
        try:
            while time.monotonic() < deadline:
                self.conn.settimeout(max(0.01, deadline - time.monotonic()))
                if not self.conn.recv(65536):
                    return True
        except (socket.timeout, TimeoutError):
            return False
        except ConnectionResetError:
            return True
        return False


@pytest.fixture
def raw_server():
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(4)
    ls.settimeout(5)
    yield ls
    ls.close()


def accept(raw_server, socket_type=b"ROUTER"):
    conn, _ = raw_server.accept()
    return RawZmtp(conn, socket_type)


def test_pings_go_out_every_interval_with_the_ttl(zmq, sock, raw_server):
    dealer = sock(zmq.DEALER, heartbeat_ivl=100, heartbeat_ttl=2500, heartbeat_timeout=5000)
    dealer.connect("tcp://127.0.0.1:%d" % raw_server.getsockname()[1])
    peer = accept(raw_server)
    started = time.monotonic()
    pings = []
    while len(pings) < 3:
        flags, body = peer.read_frame()
        if flags & 4 and body[:5] == b"\x04PING":
            pings.append(body)
    assert time.monotonic() - started < 2
    assert all(p == b"\x04PING" + struct.pack(">H", 25) for p in pings)   # TTL in 1/10 s


def test_ping_is_answered_with_its_context(zmq, sock, raw_server):
    dealer = sock(zmq.DEALER)
    dealer.connect("tcp://127.0.0.1:%d" % raw_server.getsockname()[1])
    peer = accept(raw_server)
    peer.conn.sendall(b"\x04\x0a\x04PING\x00\x00abc")
    flags, body = peer.read_frame()
    assert (flags, body) == (4, b"\x04PONGabc")


def test_silent_peer_is_dropped_after_the_timeout_and_reconnected(zmq, sock, raw_server):
    dealer = sock(zmq.DEALER, heartbeat_ivl=50, heartbeat_timeout=200, reconnect_ivl=50)
    dealer.connect("tcp://127.0.0.1:%d" % raw_server.getsockname()[1])
    peer = accept(raw_server)
    # The peer reads nothing and answers nothing (not even the PINGs).
    assert peer.closed_within(3)
    again = accept(raw_server)          # the connecting side comes back
    again.conn.close()


def test_peer_ttl_ends_a_silent_connection(zmq, sock, raw_server):
    dealer = sock(zmq.DEALER)           # no heartbeats of its own
    dealer.connect("tcp://127.0.0.1:%d" % raw_server.getsockname()[1])
    peer = accept(raw_server)
    peer.conn.sendall(b"\x04\x07\x04PING\x00\x02")      # TTL 200 ms, then silence
    assert peer.closed_within(3)


def test_without_heartbeats_a_quiet_connection_stays(zmq, sock, raw_server):
    dealer = sock(zmq.DEALER)
    dealer.connect("tcp://127.0.0.1:%d" % raw_server.getsockname()[1])
    peer = accept(raw_server)
    assert not peer.closed_within(0.5)


def test_libzmq_heartbeats_are_answered(zmq, pyzmq, sock, psock, endpoint, recv_multipart_timeout):
    """A pyzmq peer with a short heartbeat timeout keeps its connection to us."""
    router = sock(zmq.ROUTER)
    addr = endpoint.bind(router, "tcp")
    dealer = psock(pyzmq.DEALER, heartbeat_ivl=50, heartbeat_timeout=150, routing_id=b"d")
    monitor = dealer.get_monitor_socket(pyzmq.EVENT_DISCONNECTED | pyzmq.EVENT_HANDSHAKE_SUCCEEDED)
    dealer.connect(addr)
    assert monitor.poll(5000)
    from zmq.utils.monitor import recv_monitor_message
    assert recv_monitor_message(monitor)["event"] == pyzmq.EVENT_HANDSHAKE_SUCCEEDED
    time.sleep(0.6)                     # four timeouts' worth
    assert monitor.poll(0) == 0, "pyzmq dropped the connection: no PONG from us"
    dealer.send(b"still here")
    assert recv_multipart_timeout(router) == [b"d", b"still here"]
    dealer.disable_monitor()
    monitor.close(0)
