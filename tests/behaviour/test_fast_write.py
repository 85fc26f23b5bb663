"""The fast write path (src/engine/fast_write.pxi): a message sent to an
idle tcp/ipc connection, as the first send on it since the socket received
(a request/reply rhythm), is written to the fd by the sending thread itself.

What must not change when it is taken: order (with messages that still go
through the io thread, a short write whose rest the io thread finishes,
heartbeats the io thread writes in between), multipart atomicity, HWM
backpressure from a peer that stops reading, thread-safe sockets sending
from several threads, and linger at close. ``stats()["msgs_direct"]`` says
how many messages took the path, so each test also shows that it ran.
mqcore-only (pyzmq has neither the path nor the counter).
"""
import os
import socket
import struct
import threading
import time

import pytest

from .test_heartbeat import RawZmtp

pytestmark = pytest.mark.skipif(
    (os.environ.get("MQCORE_TEST_IMPL", "mqcore").strip() or "mqcore") == "zmq",
    reason="the fast write path and stats() are mqcore's")

TRANSPORTS = ["tcp", "ipc"]


def direct(s):
    return s.stats()["msgs_direct"]


def payload(i, size):
    head = b"%08d:" % i
    return (head * (size // len(head) + 1))[:max(size, len(head))]


def sizes_for(i):
    # Small and medium frames take the fast path when the connection is
    # idle; 9000 B (> the 8 KiB copy limit) never does.
    return (1, 100, 300, 4000, 8192, 9000)[i % 6]


def parts_for(i):
    # 1..10 frames: more than 8 never take the fast path.
    return [payload(i, sizes_for(i + k)) for k in range(1 + i % 10)]


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_ping_pong_is_written_directly(zmq, sock, endpoint, transport):
    a, b = sock(zmq.PAIR), sock(zmq.PAIR)
    b.connect(endpoint.bind(a, transport))
    for i in range(200):
        b.send(b"%d" % i)
        assert a.recv() == b"%d" % i
        a.send_multipart([b"", b"r%d" % i])
        assert b.recv_multipart() == [b"", b"r%d" % i]
    # Every send follows a receive (but b's first one).
    assert direct(a) >= 190 and direct(b) >= 190, (a.stats(), b.stats())


def stream_with_acks(a, b, total, make, every=10, pause_every=0):
    """a sends make(i) for i < total to b; b acks every `every`-th message
    and a waits for that ack, so the send after it may go direct while the
    ones in between queue behind it. Returns what b received, in order."""
    got = []

    def receive():
        for i in range(total):
            got.append(b.recv_multipart())
            if i % every == 0:
                b.send(b"ack %d" % i)
            if pause_every and i % pause_every == 0:
                time.sleep(0.005)

    reader = threading.Thread(target=receive)
    reader.start()
    try:
        for i in range(total):
            a.send_multipart(make(i))
            if i % every == 0:
                assert a.recv() == b"ack %d" % i
    finally:
        reader.join(30)
    assert not reader.is_alive()
    return got


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_order_with_direct_and_queued_messages_mixed(zmq, sock, endpoint, transport):
    """Direct sends after each ack, queued ones in between, frames too big
    or too many for the path: one stream, in order, every frame intact."""
    a, b = sock(zmq.PAIR), sock(zmq.PAIR)
    b.connect(endpoint.bind(a, transport))
    total = 3000
    got = stream_with_acks(a, b, total, parts_for)
    assert len(got) == total
    for i, msg in enumerate(got):
        assert msg == parts_for(i), "message %d out of order or damaged" % i
    assert 0 < direct(a) < total, a.stats()


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_short_writes_with_a_tiny_send_buffer(zmq, sock, endpoint, transport):
    """SNDBUF of 4 KiB: 8 KiB frames are written in part by the caller, the
    rest by the io thread, while the reader drains slowly. (The reader
    keeps its default RCVBUF: a tiny receive window on loopback stalls
    TCP itself for seconds at a time.)"""
    a = sock(zmq.PAIR, sndbuf=4096)
    b = sock(zmq.PAIR)
    b.connect(endpoint.bind(a, transport))

    def size(i):
        return 8192 - i % 3 if i % 2 else 50      # the small ones fit whole

    total = 400
    got = stream_with_acks(a, b, total, lambda i: [payload(i, size(i))], every=3, pause_every=20)
    assert [len(m[0]) for m in got] == [size(i) for i in range(total)]
    assert got == [[payload(i, size(i))] for i in range(total)]
    stats = a.stats()
    assert stats["msgs_direct"] + stats["msgs_direct_part"] > 0, stats


def test_rest_of_a_short_write_goes_out_with_nothing_after_it(zmq, sock):
    """A raw peer that stops reading but keeps sending "go": each go is
    received, and the send after it goes direct, until the kernel's
    buffers are full and one is written only in part. Nothing is sent after
    it, so only the engine, woken by the sending thread, can finish it; the
    peer then reads every message whole."""
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(1)
    ls.settimeout(5)
    stop = threading.Event()
    try:
        d = sock(zmq.DEALER, sndbuf=4096, sndhwm=1)
        d.connect("tcp://127.0.0.1:%d" % ls.getsockname()[1])
        conn, _ = ls.accept()
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        peer = RawZmtp(conn, b"DEALER")

        def say_go():
            while not stop.is_set():
                conn.sendall(b"\x00\x02go")
                time.sleep(0.002)

        talker = threading.Thread(target=say_go)
        talker.start()
        sent = 0
        try:
            while d.stats()["msgs_direct_part"] == 0:
                assert d.recv() == b"go"
                d.send(b"%06d" % sent + b"y" * 8000, zmq.NOBLOCK)
                sent += 1
        finally:
            stop.set()
            talker.join(5)
        for i in range(sent):
            flags, body = peer.read_frame()
            assert (flags & ~2, body) == (0, b"%06d" % i + b"y" * 8000), i   # 2: long size
        conn.close()
    finally:
        stop.set()
        ls.close()


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_peer_that_stops_reading_still_pushes_back(zmq, sock, endpoint, transport):
    """Direct sends (each after a receive), then the kernel's buffers fill,
    the pipe fills to its HWM and send says EAGAIN; nothing is lost, and
    once the reader has caught up the path is taken again."""
    a = sock(zmq.PAIR, sndhwm=5, sndbuf=8192)
    b = sock(zmq.PAIR, rcvhwm=5)
    a.connect(endpoint.bind(b, transport))
    sent = 0
    body = b"x" * 1000
    for _ in range(20):
        b.send(b"ping")
        assert a.recv() == b"ping"
        a.send(b"%06d" % sent + body)
        sent += 1
    assert direct(a) > 0, a.stats()
    with pytest.raises(zmq.Again):
        while sent < 100_000:
            a.send(b"%06d" % sent + body, zmq.NOBLOCK)
            sent += 1
    assert sent < 100_000
    for i in range(sent):
        assert b.recv() == b"%06d" % i + body
    before = direct(a)
    for i in range(20):
        b.send(b"ping")
        assert a.recv() == b"ping"
        a.send(b"again %d" % i)
        assert b.recv() == b"again %d" % i
    assert direct(a) > before, a.stats()


def test_heartbeats_between_direct_writes_keep_the_stream_whole(zmq, sock):
    """A raw ZMTP peer reads every byte: the io thread's PINGs land between
    the caller's frames, never inside one, and every frame is well formed."""
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(1)
    ls.settimeout(5)
    try:
        # PINGs every ms; the raw peer never answers them, so a long timeout.
        d = sock(zmq.DEALER, heartbeat_ivl=1, heartbeat_timeout=60_000)
        d.connect("tcp://127.0.0.1:%d" % ls.getsockname()[1])
        conn, _ = ls.accept()
        peer = RawZmtp(conn, b"ROUTER")
        total = 3000
        seen, pings = [], 0

        def read_all():
            nonlocal pings
            while len(seen) < total:
                flags, body = peer.read_frame()
                if flags & 4:
                    assert body[:5] == b"\x04PING", body
                    pings += 1
                    continue
                assert flags & 1 == 0, "a single-frame message arrived with MORE"
                seen.append(body)
                if (len(seen) - 1) % 5 == 0:
                    conn.sendall(b"\x00\x01t")     # the DEALER waits for it

        reader = threading.Thread(target=read_all)
        reader.start()
        deadline = time.monotonic() + 0.5
        i = 0
        while i < total:
            d.send(b"m%05d" % i + b"." * (i % 300))
            if i % 5 == 0:
                assert d.recv() == b"t"     # the next send may go direct
            i += 1
            if i % 100 == 0 and time.monotonic() < deadline:
                time.sleep(0.003)   # idle: direct writes, and PINGs due
        reader.join(30)
        assert not reader.is_alive()
        assert seen == [b"m%05d" % i + b"." * (i % 300) for i in range(total)]
        assert pings > 0 and direct(d) > 0, (pings, d.stats())
        conn.close()
    finally:
        ls.close()


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_against_libzmq_with_heartbeats(zmq, pyzmq, sock, psock, endpoint, transport):
    """REQ (mqcore) to a libzmq REP, both sending PINGs every millisecond:
    libzmq drops a connection that carries a malformed frame."""
    req = sock(zmq.REQ, heartbeat_ivl=1, heartbeat_timeout=1000)
    rep = psock(pyzmq.REP, heartbeat_ivl=1, heartbeat_timeout=1000)
    req.connect(endpoint.bind(rep, transport))
    for i in range(1500):
        req.send_multipart([b"q", b"%d" % i])
        assert rep.recv_multipart() == [b"q", b"%d" % i]
        rep.send(b"a%d" % i)
        assert req.recv() == b"a%d" % i
        if i % 300 == 0:
            time.sleep(0.005)
    assert direct(req) > 1000, req.stats()
    assert req.stats()["disconnects"] == 0


def test_thread_safe_sockets_from_several_threads(zmq, sock, endpoint):
    if not zmq.has("draft"):
        pytest.fail("this build has no draft socket types")
    server, client = sock(zmq.SERVER), sock(zmq.CLIENT)
    client.connect(endpoint.bind(server, "tcp"))
    threads, per = 4, 500
    errors = []

    def send_from(t):
        # Request/reply from each thread: a send after a receive (in any
        # thread) goes direct.
        try:
            for i in range(per):
                client.send(b"%d:%d" % (t, i))
                client.recv()
        except Exception as exc:      # reported by the main thread
            errors.append(exc)

    senders = [threading.Thread(target=send_from, args=(t,)) for t in range(threads)]
    for t in senders:
        t.start()
    last = [-1] * threads
    for _ in range(threads * per):
        frame = server.recv(copy=False)
        t, i = map(int, frame.bytes.split(b":"))
        assert i == last[t] + 1, "thread %d: %d after %d" % (t, i, last[t])
        last[t] = i
        server.send(b"ok", routing_id=frame.routing_id)
    for t in senders:
        t.join(10)
    assert not errors and last == [per - 1] * threads
    assert direct(client) > 0, client.stats()


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_close_with_linger_delivers_everything(zmq, sock, ctx, endpoint, transport):
    """A direct send, queued ones behind it, close at once with linger:
    all of them arrive."""
    for round_ in range(3):
        pull = sock(zmq.PAIR)
        addr = endpoint.bind(pull, transport)
        push = ctx.socket(zmq.PAIR)
        push.rcvtimeo = 5000
        push.connect(addr)
        for i in range(10):
            pull.send(b"go")
            assert push.recv() == b"go"
            push.send(b"pong")
            assert pull.recv() == b"pong"
        pull.send(b"go")
        assert push.recv() == b"go"
        for i in range(500):
            push.send(b"%d-%d" % (round_, i))
        assert direct(push) >= 1, push.stats()
        push.close(linger=-1)
        assert [pull.recv() for _ in range(500)] == [b"%d-%d" % (round_, i) for i in range(500)]
        pull.close()


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_curve_never_takes_the_path(zmq, sock, endpoint, transport):
    if not zmq.has("curve"):
        pytest.fail("this build has no CURVE")
    server_public, server_secret = zmq.curve_keypair()
    client_public, client_secret = zmq.curve_keypair()
    a = sock(zmq.PAIR, curve_server=1, curve_secretkey=server_secret)
    b = sock(zmq.PAIR, curve_serverkey=server_public, curve_publickey=client_public,
             curve_secretkey=client_secret)
    b.connect(endpoint.bind(a, transport))
    for i in range(100):
        b.send(b"%d" % i)
        assert a.recv() == b"%d" % i
        a.send(b"r%d" % i)
        assert b.recv() == b"r%d" % i
    assert direct(a) == 0 and direct(b) == 0
