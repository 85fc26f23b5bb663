"""The fast read path (src/engine/fast_read.pxi): a thread blocked in a
receive on a socket with one tcp/ipc connection whose engine is idle reads
the connection itself and decodes what came into the pipe, instead of
waiting for the io thread to do it and wake it.

What must not change when it is taken: every message whole and in order
(with frames split anywhere, large bodies, multipart messages, a full
receive pipe), PINGs answered and our own heartbeat timeout fed by what the
socket's thread read, a bad stream dropped at once, end of file and
reconnects as before, timeouts and closes of a blocked receive.
``stats()["reads_direct"]`` counts the reads that brought frames, so each
test also shows that the path ran. mqcore-only (pyzmq has neither the path
nor the counter).
"""
import os
import random
import struct
import threading
import time

import pytest

from .test_heartbeat import RawZmtp, raw_server  # noqa: F401 - a fixture

pytestmark = pytest.mark.skipif(
    (os.environ.get("MQCORE_TEST_IMPL", "mqcore").strip() or "mqcore") == "zmq",
    reason="the fast read path and stats() are mqcore's")

TRANSPORTS = ["tcp", "ipc"]


def direct_reads(s):
    return s.stats()["reads_direct"]


def frame(body, more=False, command=False):
    flags = (1 if more else 0) | (4 if command else 0)
    if len(body) > 255:
        return bytes([flags | 2]) + struct.pack(">Q", len(body)) + body
    return bytes([flags, len(body)]) + body


def ping(ttl=0, context=b""):
    return frame(b"\x04PING" + struct.pack(">H", ttl) + context, command=True)


def message_bytes(parts):
    return b"".join(frame(p, more=i < len(parts) - 1) for i, p in enumerate(parts))


def payload(i, size):
    head = b"%08d:" % i
    return (head * (size // len(head) + 1))[:size]


def read_command(peer):
    """The next command frame from a raw peer, skipping our asks."""
    while True:
        flags, body = peer.read_frame()
        if flags & 4:
            return flags, body


def connect_to_raw(sock, raw_server, zmq_type, peer_type=b"DEALER", **opts):
    """A socket of ours connected to a raw ZMTP peer; (ours, peer)."""
    ours = sock(zmq_type, **opts)
    ours.connect("tcp://127.0.0.1:%d" % raw_server.getsockname()[1])
    conn, _ = raw_server.accept()
    return ours, RawZmtp(conn, peer_type)


def receive_in_thread(s, count, multipart=True, ask_each=True):
    """Starts a thread that asks (sends b"?") and then blocks in s.recv,
    until `count` messages came (or one failed); returns (thread, list it
    fills, errors). Asking first makes a receive the first after a send:
    the request/reply rhythm in which the fast read path is used. With
    ask_each False only the first receive is asked for (a DEALER whose
    peer is gone for good would block in the ask)."""
    got, errors = [], []

    def run():
        try:
            for i in range(count):
                if ask_each or i == 0:
                    s.send(b"?")
                got.append(s.recv_multipart() if multipart else s.recv())
        except Exception as e:      # noqa: BLE001 - reported by the test
            errors.append(e)

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t, got, errors


def repeat_until_direct(socks, step, times, budget=10.0):
    """Runs step(i) for i = 0, 1, ... (each with its own checks) `times`
    times, and on until every socket in socks has read its connection
    itself at least once or `budget` seconds have passed; asserts the
    former. On a loaded machine the io thread may read first many times
    over (the socket's thread has FASTR_DEFER_NS to come for the data), so
    the path is asserted to have run, not to run every time."""
    deadline = time.monotonic() + budget
    i = 0
    while i < times or (any(direct_reads(s) == 0 for s in socks) and time.monotonic() < deadline):
        step(i)
        i += 1
    assert all(direct_reads(s) > 0 for s in socks), [s.stats() for s in socks]


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_ping_pong_reads_directly(zmq, sock, endpoint, transport):
    a, b = sock(zmq.PAIR), sock(zmq.PAIR)
    b.connect(endpoint.bind(a, transport))

    def round_trip(i):
        b.send(b"%d" % i)
        assert a.recv() == b"%d" % i
        a.send(b"r%d" % i)
        assert b.recv() == b"r%d" % i
    repeat_until_direct([a, b], round_trip, 300)


def exchange_burst(rx, tx, burst, pause):
    """rx asks for a burst (one message) and receives it; tx, in a thread,
    answers the ask with the burst, after a pause (so that rx is blocked on
    the connection when it comes) if asked to. The ask makes rx's receive
    the first after a send: the request/reply rhythm in which the fast
    read path is used."""
    errors = []

    def serve():
        try:
            tx.recv()
            if pause:
                time.sleep(0.002)
            for parts in burst:
                tx.send_multipart(parts)
        except Exception as e:      # noqa: BLE001 - reported by the test
            errors.append(e)

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    rx.send(b"more")
    got = [rx.recv_multipart() for _ in burst]
    t.join(10)
    assert not errors and not t.is_alive()
    return got


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_bursts_of_every_size_arrive_whole_and_in_order(zmq, sock, endpoint, transport):
    # 70 KiB bodies outgrow one read (64 KiB): the socket's thread hands the
    # rest of the frame to the io thread; 1 MiB ones are read straight into
    # the message by the io thread.
    sizes = (0, 1, 100, 8192, 70 * 1024, 1, 1 << 20, 30)
    rx, tx = sock(zmq.DEALER), sock(zmq.DEALER)
    tx.connect(endpoint.bind(rx, transport))

    def burst(i):
        want = [[payload(i * 4 + m, sizes[(i + m + k) % len(sizes)]) for k in range(1 + (i + m) % 3)]
                for m in range(1 + i % 4)]
        assert exchange_burst(rx, tx, want, i % 3 == 0) == want, "burst %d differs" % i
    repeat_until_direct([rx], burst, 150)


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_full_receive_pipe_pushes_back_without_loss(zmq, sock, endpoint, transport):
    rx, tx = sock(zmq.DEALER, rcvhwm=1), sock(zmq.DEALER, sndhwm=1)
    tx.connect(endpoint.bind(rx, transport))

    def burst(i):
        want = [[b"%d.%d" % (i, m)] for m in range(60)]
        assert exchange_burst(rx, tx, want, i % 3 == 0) == want
    repeat_until_direct([rx], burst, 40)


def test_frames_split_anywhere_and_pings_between_them(zmq, sock, raw_server):
    """A raw peer writes data frames, multipart messages and PINGs cut at
    random points, pausing in the middle of frames, while the receiver is
    blocked on the connection; every message comes whole, every PING is
    answered."""
    rng = random.Random(1234)
    ours, peer = connect_to_raw(sock, raw_server, zmq.DEALER)
    pings = [0]

    def message(i):
        data = b""
        if rng.random() < 0.2:
            data += ping(0, b"c%d" % i)
            pings[0] += 1
        parts = [payload(i, rng.choice((0, 1, 7, 200, 300, 5000))) for _ in range(rng.randint(1, 3))]
        data += message_bytes(parts)
        cuts = []
        at = 0
        while at < len(data):
            n = rng.choice((1, 2, 3, 9, 64, 700, 4096))
            cuts.append((data[at:at + n], rng.random() < 0.2))
            at += n

        def write():
            time.sleep(0.001)           # the receiver blocks on the fd first
            for piece, pause in cuts:
                peer.conn.sendall(piece)
                if pause:
                    time.sleep(0.0005)  # mid-frame: the receiver may read a part

        writer = threading.Thread(target=write, daemon=True)
        writer.start()
        ours.send(b"?")
        assert ours.recv_multipart() == parts, "message %d differs" % i
        writer.join(5)
    repeat_until_direct([ours], message, 300)
    for _ in range(pings[0]):
        flags, body = read_command(peer)
        assert body.startswith(b"\x04PONG"), body[:10]


def test_ping_behind_a_frame_is_answered(zmq, sock, raw_server):
    # The receiver takes the data frame and leaves the PING to the engine;
    # nothing comes after it to wake the io thread.
    ours, peer = connect_to_raw(sock, raw_server, zmq.DEALER)

    def frame_and_ping(i):
        t, got, errors = receive_in_thread(ours, 1, multipart=False)
        time.sleep(0.02)
        peer.conn.sendall(frame(b"x%d" % i) + ping(0, b"ctx%d" % i))
        flags, body = read_command(peer)
        assert body == b"\x04PONGctx%d" % i
        t.join(5)
        assert got == [b"x%d" % i]
    repeat_until_direct([ours], frame_and_ping, 5)


def test_reads_in_the_receive_feed_our_heartbeat_timeout(zmq, sock, raw_server):
    # The peer never answers our PINGs, but sends data more often than the
    # timeout: it is alive, and the data is read by the blocked receiver.
    ours, peer = connect_to_raw(sock, raw_server, zmq.DEALER, heartbeat_ivl=50,
                                heartbeat_timeout=200)

    def data_after_a_while(i):
        later = threading.Timer(0.025, peer.conn.sendall, args=(frame(b"%d" % i),))
        later.start()
        ours.send(b"?")
        assert ours.recv() == b"%d" % i
        later.join(5)
        assert ours.stats()["disconnects"] == 0
    repeat_until_direct([ours], data_after_a_while, 40)


def test_answers_libzmq_pings_while_blocked(zmq, pyzmq, sock, psock, endpoint):
    # pyzmq's DEALER drops the connection when our PONGs do not come back.
    ours = sock(zmq.DEALER)
    theirs = psock(pyzmq.DEALER, heartbeat_ivl=10, heartbeat_timeout=150)
    theirs.connect(endpoint.bind(ours, "tcp"))
    t, got, errors = receive_in_thread(ours, 20, multipart=False)
    for i in range(20):
        assert theirs.recv() == b"?"
        time.sleep(0.03)            # ours sleeps on the connection; PINGs come
        theirs.send(b"%d" % i)
    t.join(5)
    assert not errors and got == [b"%d" % i for i in range(20)]
    assert ours.stats()["disconnects"] == 0


def test_bad_stream_is_dropped_at_once(zmq, sock, raw_server):
    ours, peer = connect_to_raw(sock, raw_server, zmq.DEALER, maxmsgsize=1000, rcvtimeo=2000)
    t, got, errors = receive_in_thread(ours, 2, multipart=False, ask_each=False)
    peer.conn.sendall(frame(b"fine"))
    time.sleep(0.05)                # blocked again, on the connection
    # Only the header of an oversized frame: its size alone is the error,
    # and nothing after it comes to make anyone look again.
    peer.conn.sendall(frame(b"x" * 2000)[:9])
    assert peer.closed_within(2), "the oversized frame did not end the connection"
    t.join(5)
    assert got == [b"fine"]
    assert errors and isinstance(errors[0], zmq.Again)


def test_bad_stream_behind_good_frames_in_one_read(zmq, sock, raw_server):
    ours, peer = connect_to_raw(sock, raw_server, zmq.DEALER, maxmsgsize=1000, rcvtimeo=2000)
    t, got, errors = receive_in_thread(ours, 4, multipart=False, ask_each=False)
    time.sleep(0.05)
    peer.conn.sendall(frame(b"a") + frame(b"b") + frame(b"c") + frame(b"y" * 1001))
    assert peer.closed_within(2)
    t.join(5)
    assert got == [b"a", b"b", b"c"]
    assert errors and isinstance(errors[0], zmq.Again)


def test_end_of_file_then_reconnect(zmq, sock, raw_server):
    ours, peer = connect_to_raw(sock, raw_server, zmq.DEALER, reconnect_ivl=20)
    t, got, errors = receive_in_thread(ours, 2, multipart=False)
    peer.conn.sendall(frame(b"first"))
    time.sleep(0.05)
    peer.conn.close()
    conn, _ = raw_server.accept()   # our reconnect
    again = RawZmtp(conn, b"DEALER")
    again.conn.sendall(frame(b"second"))
    t.join(5)
    assert not errors and got == [b"first", b"second"]
    assert ours.stats()["disconnects"] >= 1


def test_timeout_while_waiting_on_the_connection(zmq, sock, endpoint):
    a, b = sock(zmq.PAIR, rcvtimeo=150), sock(zmq.PAIR)
    b.connect(endpoint.bind(a, "tcp"))
    b.send(b"x")
    assert a.recv() == b"x"         # the connection is up and idle
    a.send(b"?")
    started = time.monotonic()
    with pytest.raises(zmq.Again):
        a.recv()
    assert 0.1 <= time.monotonic() - started < 3


def test_close_from_another_thread_wakes_the_receiver(zmq, sock, endpoint):
    a, b = sock(zmq.PAIR, rcvtimeo=-1), sock(zmq.PAIR)
    b.connect(endpoint.bind(a, "tcp"))
    b.send(b"x")
    assert a.recv() == b"x"
    t, got, errors = receive_in_thread(a, 1, multipart=False)
    time.sleep(0.1)
    a.close(linger=0)
    t.join(5)
    assert not t.is_alive()
    assert errors and errors[0].errno == zmq.ENOTSOCK


def test_req_rep_against_libzmq_both_ways(zmq, pyzmq, sock, psock, endpoint):
    req, rep = sock(zmq.REQ), psock(pyzmq.REP)
    rep.bind("tcp://127.0.0.1:0")
    req.connect(rep.getsockopt(pyzmq.LAST_ENDPOINT).decode())
    rep2, req2 = sock(zmq.REP), psock(pyzmq.REQ)
    req2.connect(endpoint.bind(rep2, "tcp"))

    def round_trips(i):
        req.send(b"q%d" % i)
        assert rep.recv() == b"q%d" % i
        rep.send(b"a%d" % i)
        assert req.recv() == b"a%d" % i
        req2.send(b"Q%d" % i)
        assert rep2.recv() == b"Q%d" % i
        rep2.send(b"A%d" % i)
        assert req2.recv() == b"A%d" % i
    repeat_until_direct([req, rep2], round_trips, 200)


def test_connection_dropped_by_a_timer_closes_while_the_receiver_sleeps(zmq, sock, raw_server):
    # poll() holds the files it sleeps on: closing the fd of a connection
    # the receiver sleeps on would not end the connection until the
    # receiver woke. A heartbeat timeout (no reconnect for a while) must
    # still close it at once.
    ours, peer = connect_to_raw(sock, raw_server, zmq.DEALER, heartbeat_ivl=50,
                                heartbeat_timeout=150, reconnect_ivl=20000, rcvtimeo=2500)
    t, got, errors = receive_in_thread(ours, 2, multipart=False)
    peer.conn.sendall(frame(b"one"))
    assert peer.closed_within(2), "the timed-out connection stayed open"
    t.join(5)
    assert got == [b"one"]
