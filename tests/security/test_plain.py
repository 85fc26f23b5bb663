"""PLAIN (RFC 24) against libzmq through pyzmq: an mqcore PLAIN client to a
pyzmq PLAIN server whose ZAP handler is pyzmq's ThreadAuthenticator, over
tcp and ipc, for REQ/REP, PUSH/PULL and PUB/SUB; bad credentials refused
(no message passes, the server's monitor says HANDSHAKE_FAILED_AUTH 400);
a mechanism mismatch; the options as libzmq reads them back."""

import errno
import socket
import time

import pytest
import zmq
import zmq.auth.thread
from zmq.utils.monitor import recv_monitor_message

import mqcore
from mqcore.utils.monitor import recv_monitor_message as mq_recv_monitor_message

PASSWORDS = {"admin": "secret"}
TIMEOUT = 3000


@pytest.fixture
def zctx():
    ctx = zmq.Context()
    auth = zmq.auth.thread.ThreadAuthenticator(ctx)
    auth.start()
    auth.configure_plain(domain="*", passwords=PASSWORDS)
    yield ctx
    auth.stop()
    ctx.destroy(linger=0)


def plain_server(zctx, kind, bind_endpoint):
    s = zctx.socket(kind)
    s.plain_server = True
    s.rcvtimeo = s.sndtimeo = TIMEOUT
    s.linger = 0
    s.bind(bind_endpoint)
    return s, s.getsockopt(zmq.LAST_ENDPOINT).decode()


def plain_client(mctx, kind, user=b"admin", password=b"secret"):
    s = mctx.socket(kind)
    s.setsockopt(mqcore.PLAIN_USERNAME, user)
    s.setsockopt(mqcore.PLAIN_PASSWORD, password)
    s.rcvtimeo = s.sndtimeo = TIMEOUT
    s.linger = 0
    return s


def test_options_read_back(mctx):
    s = mctx.socket(mqcore.REQ)
    assert s.getsockopt(mqcore.MECHANISM) == 0
    s.setsockopt(mqcore.PLAIN_USERNAME, b"u")
    assert s.getsockopt(mqcore.MECHANISM) == 1
    assert s.getsockopt(mqcore.PLAIN_SERVER) == 0
    assert s.getsockopt(mqcore.PLAIN_USERNAME) == b"u"
    s.setsockopt(mqcore.PLAIN_SERVER, 1)
    assert s.getsockopt(mqcore.PLAIN_SERVER) == 1
    assert s.getsockopt(mqcore.MECHANISM) == 1
    s.setsockopt(mqcore.PLAIN_SERVER, 0)
    assert s.getsockopt(mqcore.MECHANISM) == 0
    with pytest.raises(mqcore.ZMQError):
        s.setsockopt(mqcore.PLAIN_SERVER, 2)
    with pytest.raises(mqcore.ZMQError):
        s.setsockopt(mqcore.PLAIN_PASSWORD, b"x" * 256)
    with pytest.raises(mqcore.ZMQError):
        s.setsockopt(mqcore.MECHANISM, 1)
    s.close()


def test_req_rep_client_to_libzmq_server(zctx, mctx, bind_endpoint):
    srv, addr = plain_server(zctx, zmq.REP, bind_endpoint)
    cli = plain_client(mctx, mqcore.REQ)
    cli.connect(addr)
    cli.send(b"hello")
    frame = srv.recv(copy=False)
    assert frame.bytes == b"hello"
    assert frame.get("User-Id") == "admin"
    srv.send(b"world")
    assert cli.recv() == b"world"


def test_push_pull_client_to_libzmq_server(zctx, mctx, bind_endpoint):
    srv, addr = plain_server(zctx, zmq.PULL, bind_endpoint)
    cli = plain_client(mctx, mqcore.PUSH)
    cli.connect(addr)
    for i in range(100):
        cli.send_multipart([b"part", str(i).encode()])
    for i in range(100):
        assert srv.recv_multipart() == [b"part", str(i).encode()]


def test_pub_sub_libzmq_server(zctx, mctx, bind_endpoint):
    srv, addr = plain_server(zctx, zmq.PUB, bind_endpoint)
    cli = plain_client(mctx, mqcore.SUB)
    cli.setsockopt(mqcore.SUBSCRIBE, b"t")
    cli.connect(addr)
    deadline = time.monotonic() + TIMEOUT / 1000
    while time.monotonic() < deadline:
        srv.send(b"t-msg")
        if cli.poll(50):
            assert cli.recv() == b"t-msg"
            break
    else:
        pytest.fail("no message through PLAIN PUB/SUB")


def test_bad_password_refused(zctx, mctx, bind_endpoint):
    srv, addr = plain_server(zctx, zmq.PULL, bind_endpoint)
    smon = srv.get_monitor_socket()
    smon.rcvtimeo = TIMEOUT
    cli = plain_client(mctx, mqcore.PUSH, password=b"wrong")
    cli.sndtimeo = 0
    cmon = cli.get_monitor_socket()
    cmon.rcvtimeo = TIMEOUT
    cli.connect(addr)
    while True:
        ev = recv_monitor_message(smon)
        assert ev["event"] != zmq.EVENT_HANDSHAKE_SUCCEEDED
        if ev["event"] == zmq.EVENT_HANDSHAKE_FAILED_AUTH:
            assert ev["value"] == 400
            break
    # Our side saw the handshake fail, never succeed.
    while True:
        ev = mq_recv_monitor_message(cmon)
        assert ev["event"] != mqcore.EVENT_HANDSHAKE_SUCCEEDED
        if ev["event"] == mqcore.EVENT_DISCONNECTED:
            break
    # The refused connection is not made again: once the socket has taken
    # in the end of its pipe (which follows the event), PUSH has no peer.
    deadline = time.monotonic() + TIMEOUT / 1000
    while True:
        try:
            cli.send(b"never")
        except mqcore.Again:
            break
        assert time.monotonic() < deadline, "the refused peer's pipe stayed"
        time.sleep(0.01)
    assert srv.poll(200) == 0


def test_mechanism_mismatch(zctx, mctx, bind_endpoint):
    # A NULL libzmq server and a PLAIN mqcore client: the server sees our
    # greeting and reports the mismatch; no handshake ever succeeds.
    srv = zctx.socket(zmq.PULL)
    srv.linger = 0
    smon = srv.get_monitor_socket()
    smon.rcvtimeo = TIMEOUT
    srv.bind(bind_endpoint)
    addr = srv.getsockopt(zmq.LAST_ENDPOINT).decode()
    cli = plain_client(mctx, mqcore.PUSH)
    cmon = cli.get_monitor_socket()
    cli.connect(addr)
    while True:
        ev = recv_monitor_message(smon)
        assert ev["event"] != zmq.EVENT_HANDSHAKE_SUCCEEDED
        if ev["event"] == zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL:
            assert ev["value"] == zmq.PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH
            break
    assert srv.poll(100) == 0
    while cmon.poll(0):
        assert mq_recv_monitor_message(cmon)["event"] != mqcore.EVENT_HANDSHAKE_SUCCEEDED


def mq_plain_server(mctx, kind, bind_endpoint):
    s = mctx.socket(kind)
    s.setsockopt(mqcore.PLAIN_SERVER, 1)
    s.rcvtimeo = s.sndtimeo = TIMEOUT
    s.linger = 0
    mon = s.get_monitor_socket()
    mon.rcvtimeo = TIMEOUT
    s.bind(bind_endpoint)
    return s, mon, s.getsockopt(mqcore.LAST_ENDPOINT).decode()


def wait_event(mon, wanted):
    while True:
        ev = mq_recv_monitor_message(mon)
        assert ev["event"] != mqcore.EVENT_HANDSHAKE_SUCCEEDED
        if ev["event"] == wanted:
            return ev


def test_server_without_zap_handler_refuses(mctx, bind_endpoint):
    # libzmq 4.3: a PLAIN server with no ZAP handler bound refuses every
    # client (handshake failed, no detail, EFAULT); nothing passes.
    zctx = zmq.Context()
    try:
        srv, mon, addr = mq_plain_server(mctx, mqcore.PULL, bind_endpoint)
        cli = zctx.socket(zmq.PUSH)
        cli.linger = 0
        cli.plain_username = b"admin"
        cli.plain_password = b"secret"
        cli.connect(addr)
        ev = wait_event(mon, mqcore.EVENT_HANDSHAKE_FAILED_NO_DETAIL)
        assert ev["value"] == errno.EFAULT
        assert srv.poll(200) == 0
    finally:
        zctx.destroy(linger=0)


def test_garbage_hello_closes_only_that_connection(mctx):
    srv, mon, addr = mq_plain_server(mctx, mqcore.PULL, "tcp://127.0.0.1:*")
    host, port = addr[len("tcp://"):].rsplit(":", 1)
    greeting = b"\xff" + b"\0" * 8 + b"\x7f\x03\x01" + b"PLAIN".ljust(20, b"\0") + b"\0" * 32
    bad = socket.create_connection((host, int(port)), timeout=TIMEOUT / 1000)
    other = socket.create_connection((host, int(port)), timeout=TIMEOUT / 1000)
    try:
        for s in (bad, other):
            s.sendall(greeting)
        body = b"\x05HELLO\x09short"         # name length past the end
        bad.sendall(b"\x04" + bytes([len(body)]) + body)
        ev = wait_event(mon, mqcore.EVENT_HANDSHAKE_FAILED_PROTOCOL)
        assert ev["value"] == zmq.PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_HELLO
        data = b""
        while True:                         # the bad one is closed
            chunk = bad.recv(4096)
            if not chunk:
                break
            data += chunk
        assert len(data) == 64              # our greeting, nothing else
        # The other connection is still open, waiting for its HELLO.
        other.settimeout(0.2)
        got = b""
        try:
            while len(got) < 64:
                chunk = other.recv(64 - len(got))
                assert chunk, "the other connection was closed"
                got += chunk
            other.recv(1)
            pytest.fail("unexpected bytes")
        except socket.timeout:
            pass
        assert len(got) == 64
    finally:
        bad.close()
        other.close()
