"""The draft, thread-safe socket types (SOCKETS.md: SERVER/CLIENT, SCATTER/
GATHER, PEER, CHANNEL).

pyzmq's bundled libzmq is built without the draft API, so these run against
mqcore alone (mqcore on both ends, over a real tcp or ipc connection, which
exercises the same ZMTP handshake and framing as every other type)."""
import socket
import struct
import threading

import pytest

pytestmark = pytest.mark.skipif(
    __import__("os").environ.get("MQCORE_TEST_IMPL", "mqcore") != "mqcore",
    reason="the reference libzmq in pyzmq has no draft socket types")

NET = ["tcp", "ipc", "inproc"]


@pytest.mark.parametrize("transport", NET)
def test_server_replies_to_the_client_that_asked(zmq, sock, endpoint, transport):
    """SERVER: "recv sets [the routing id] on the message; send reads it from the message"."""
    server = sock(zmq.SERVER)
    addr = endpoint.bind(server, transport)
    clients = [sock(zmq.CLIENT) for _ in range(3)]
    for c in clients:
        c.connect(addr)
    for i, c in enumerate(clients):
        c.send(b"ask %d" % i)
    ids = {}
    for _ in clients:
        frame = server.recv(copy=False)
        assert frame.routing_id not in (None, 0)
        ids[frame.bytes] = frame.routing_id
    assert len(set(ids.values())) == 3
    for i, c in enumerate(clients):
        server.send(b"answer %d" % i, routing_id=ids[b"ask %d" % i])
    for i, c in enumerate(clients):
        assert c.recv() == b"answer %d" % i


def test_server_send_to_unknown_id_is_ehostunreach(zmq, sock):
    server = sock(zmq.SERVER)
    server.bind("inproc://draft-unknown")
    with pytest.raises(zmq.ZMQError) as e:
        server.send(b"x", routing_id=12345)
    assert e.value.errno == zmq.EHOSTUNREACH


def test_frame_routing_id_is_used_when_sending_a_frame(zmq, sock):
    server = sock(zmq.SERVER)
    server.bind("inproc://draft-frame")
    client = sock(zmq.CLIENT)
    client.connect("inproc://draft-frame")
    client.send(b"hi")
    req = server.recv(copy=False)
    reply = zmq.Frame(b"back")
    reply.routing_id = req.routing_id
    server.send(reply)
    assert client.recv() == b"back"


@pytest.mark.parametrize("stype", ["CLIENT", "SERVER", "SCATTER", "CHANNEL", "PEER"])
def test_sndmore_is_einval(zmq, sock, stype):
    """Thread-safe types: "ZMQ_SNDMORE gives EINVAL"."""
    s = sock(getattr(zmq, stype))
    with pytest.raises(zmq.ZMQError) as e:
        s.send(b"part", zmq.SNDMORE, routing_id=1)
    assert e.value.errno == zmq.EINVAL


@pytest.mark.parametrize("stype", ["CLIENT", "SERVER", "GATHER", "SCATTER", "PEER", "CHANNEL"])
def test_thread_safe_types_have_no_fd(zmq, sock, stype):
    """ "getsockopt(ZMQ_FD) gives EINVAL" and THREAD_SAFE reads 1."""
    s = sock(getattr(zmq, stype))
    assert s.getsockopt(zmq.THREAD_SAFE) == 1
    with pytest.raises(zmq.ZMQError) as e:
        s.getsockopt(zmq.FD)
    assert e.value.errno == zmq.EINVAL


def test_non_thread_safe_types_report_zero(zmq, sock):
    assert sock(zmq.DEALER).getsockopt(zmq.THREAD_SAFE) == 0


def zmtp_peer(port, socket_type):
    """A raw ZMTP 3.1 NULL peer of the given Socket-Type, after the handshake."""
    raw = socket.create_connection(("127.0.0.1", port), timeout=5)
    raw.sendall(b"\xff" + b"\0" * 7 + b"\x01\x7f\x03\x01NULL" + b"\0" * 48)
    got = b""
    while len(got) < 64:
        got += raw.recv(64 - len(got))
    props = b"\x0bSocket-Type" + struct.pack(">I", len(socket_type)) + socket_type
    body = b"\x05READY" + props
    raw.sendall(bytes([0x04, len(body)]) + body)
    return raw


def test_multipart_from_the_wire_is_dropped_whole(zmq, sock, endpoint, recv_timeout,
                                                  assert_no_message):
    """SOCKETS.md: multipart messages arriving from the wire are dropped whole."""
    gather = sock(zmq.GATHER)
    port = int(endpoint.bind(gather, "tcp").rsplit(":", 1)[1])
    raw = zmtp_peer(port, b"SCATTER")
    try:
        raw.sendall(b"\x01\x01a" + b"\x00\x01b" + b"\x00\x04solo")
        assert recv_timeout(gather) == b"solo"
        assert_no_message(gather, 100)
    finally:
        raw.close()


def test_scatter_load_balances_and_gather_fair_queues(zmq, sock, recv_timeout):
    """SCATTER = thread-safe PUSH, GATHER = thread-safe PULL."""
    gathers = [sock(zmq.GATHER) for _ in range(2)]
    for i, g in enumerate(gathers):
        g.bind("inproc://draft-scatter-%d" % i)
    scatter = sock(zmq.SCATTER)
    for i in range(2):
        scatter.connect("inproc://draft-scatter-%d" % i)
    for i in range(10):
        scatter.send(b"%d" % i)
    got = [[recv_timeout(g) for _ in range(5)] for g in gathers]
    assert sorted(got[0] + got[1]) == sorted(b"%d" % i for i in range(10))
    assert len(got[0]) == len(got[1]) == 5


def test_channel_is_an_exclusive_pair(zmq, sock, recv_timeout):
    a, b = sock(zmq.CHANNEL), sock(zmq.CHANNEL)
    a.bind("inproc://draft-channel")
    b.connect("inproc://draft-channel")
    a.send(b"ping")
    assert recv_timeout(b) == b"ping"
    b.send(b"pong")
    assert recv_timeout(a) == b"pong"


@pytest.mark.parametrize("transport", NET)
def test_peers_route_by_id_both_ways(zmq, sock, endpoint, transport):
    """PEER: connect_peer "connects and returns the new pipe's routing id"; the
    binding peer learns the connector's id from its first message."""
    a, b = sock(zmq.PEER), sock(zmq.PEER)
    addr = endpoint.bind(a, transport)
    a_id = b.connect_peer(addr)
    assert a_id != 0
    b.send(b"hello a", routing_id=a_id)
    frame = a.recv(copy=False)
    assert frame.bytes == b"hello a"
    a.send(b"hello b", routing_id=frame.routing_id)
    back = b.recv(copy=False)
    assert (back.bytes, back.routing_id) == (b"hello b", a_id)
    with pytest.raises(zmq.ZMQError) as e:
        a.send(b"nobody", routing_id=frame.routing_id + 1)
    assert e.value.errno == zmq.EHOSTUNREACH


def test_connect_peer_with_immediate_is_efault(zmq, sock):
    """ "EFAULT if ZMQ_IMMEDIATE=1" (the pipe, and so its id, comes later)."""
    p = sock(zmq.PEER, immediate=1)
    with pytest.raises(zmq.ZMQError) as e:
        p.connect_peer("tcp://127.0.0.1:5")
    assert e.value.errno == zmq.EFAULT


def test_connect_peer_only_on_peer(zmq, sock):
    with pytest.raises(zmq.ZMQError) as e:
        sock(zmq.CLIENT).connect_peer("inproc://whatever")
    assert e.value.errno == zmq.ENOTSUP


def test_many_threads_share_one_socket(zmq, sock):
    """Thread-safe: several threads receive from one GATHER at once and every
    message arrives exactly once."""
    gather = sock(zmq.GATHER)
    gather.bind("inproc://draft-threads")
    scatter = sock(zmq.SCATTER)
    scatter.connect("inproc://draft-threads")
    got, lock = [], threading.Lock()

    def receive(n):
        for _ in range(n):
            m = gather.recv()
            with lock:
                got.append(m)

    threads = [threading.Thread(target=receive, args=(250,)) for _ in range(4)]
    for t in threads:
        t.start()
    for i in range(1000):
        scatter.send(b"%d" % i)
    for t in threads:
        t.join(10)
    assert not any(t.is_alive() for t in threads)
    assert sorted(got) == sorted(b"%d" % i for i in range(1000))


def test_one_thread_sends_while_another_is_blocked_receiving(zmq, sock, recv_timeout):
    """A blocked recv must not hold up a send from another thread."""
    server = sock(zmq.SERVER)
    server.bind("inproc://draft-both")
    client = sock(zmq.CLIENT)
    client.connect("inproc://draft-both")
    received = []
    t = threading.Thread(target=lambda: received.append(client.recv()))
    t.start()
    client.send(b"hello")               # while the other thread waits in recv
    frame = server.recv(copy=False)
    server.send(b"welcome", routing_id=frame.routing_id)
    t.join(10)
    assert received == [b"welcome"]
