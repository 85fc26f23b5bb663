"""HANDSHAKE_IVL (ZMTP.md section 1): a connection whose handshake does not
finish in time is closed; other peers are served meanwhile."""
import socket
import time


def test_silent_connection_is_closed_after_handshake_ivl(zmq, sock, endpoint, recv_timeout):
    pull = sock(zmq.PULL, handshake_ivl=200)
    addr = endpoint.bind(pull, "tcp")
    port = int(addr.rsplit(":", 1)[1])
    raw = socket.create_connection(("127.0.0.1", port), timeout=5)
    started = time.monotonic()
    try:
        raw.settimeout(5)
        got = b""
        while True:                     # the greeting comes, then the close
            chunk = raw.recv(4096)
            if not chunk:
                break
            got += chunk
        assert 0.15 < time.monotonic() - started < 3
        assert got[:1] == b"\xff"
    finally:
        raw.close()
    push = sock(zmq.PUSH)
    push.connect(addr)
    push.send(b"fine")
    assert recv_timeout(pull) == b"fine"


def test_handshake_ivl_zero_waits_forever(zmq, sock, endpoint):
    pull = sock(zmq.PULL, handshake_ivl=0)
    addr = endpoint.bind(pull, "tcp")
    raw = socket.create_connection(("127.0.0.1", int(addr.rsplit(":", 1)[1])), timeout=5)
    try:
        raw.settimeout(0.5)
        raw.recv(64)                    # the greeting
        raw.settimeout(0.5)
        try:
            assert raw.recv(1) != b""   # nothing more, and no close
        except (socket.timeout, TimeoutError):
            pass
    finally:
        raw.close()
