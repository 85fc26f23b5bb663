"""Message properties: what Frame.get(name) tells about the connection a
received frame came in on (zmq_msg_gets in libzmq).

Every expectation here is what libzmq does, checked by running the same test
with pyzmq as the implementation (MQCORE_TEST_IMPL=zmq) and by mirroring
each case with a pyzmq receiver in the same run.
"""

from __future__ import annotations

import errno
import os
import threading
import time

import pytest

TRANSPORTS = ["tcp", "ipc"]


def _expected_peer_address(transport):
    # libzmq: the numeric host for tcp; for ipc getnameinfo's "localhost"
    # and the peer process's credentials (the peer is this process here).
    if transport == "tcp":
        return "127.0.0.1"
    return f"localhost:{os.getuid()}:{os.getgid()}:{os.getpid()}"


def _properties(frame, names):
    out = {}
    for name in names:
        try:
            out[name] = frame.get(name)
        except Exception as exc:  # noqa: BLE001 - ZMQError of either library
            out[name] = ("error", getattr(exc, "errno", None))
    return out


NAMES = ["Socket-Type", "Identity", "Peer-Address", "User-Id", "socket-type", "Routing-Id"]


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("sender", ["mqcore", "pyzmq"])
def test_properties_of_each_frame_match_libzmq(zmq, pyzmq, sock, psock, endpoint, transport, sender):
    """A ROUTER receiving from a DEALER: every frame (the routing id frame
    too) carries the peer's Socket-Type and Identity and its Peer-Address;
    other names, and names in another case, are EINVAL. The same receiver
    made with pyzmq says the same."""
    results = []
    for make in (sock, psock):
        router = make(zmq.ROUTER if make is sock else pyzmq.ROUTER)
        addr = endpoint.bind(router, transport)
        mk = sock if sender == "mqcore" else psock
        mod = zmq if sender == "mqcore" else pyzmq
        dealer = mk(mod.DEALER, routing_id=b"dealer-1")
        dealer.connect(addr)
        dealer.send_multipart([b"a", b"b"])
        frames = router.recv_multipart(copy=False)
        assert [f.bytes for f in frames] == [b"dealer-1", b"a", b"b"]
        results.append([_properties(f, NAMES) for f in frames])
    ours, libzmq = results
    assert ours == libzmq
    for props in ours:
        assert props["Socket-Type"] == "DEALER"
        assert props["Identity"] == "dealer-1"
        assert props["Peer-Address"] == _expected_peer_address(transport)
        assert props["User-Id"] == ("error", errno.EINVAL)
        assert props["socket-type"] == ("error", errno.EINVAL)


def test_our_properties_as_libzmq_reads_them(zmq, pyzmq, sock, psock, endpoint):
    """The other direction: what a libzmq receiver reads off frames an
    mqcore REQ sent (our READY's properties)."""
    rep = psock(pyzmq.ROUTER)
    addr = endpoint.bind(rep, "tcp")
    req = sock(zmq.REQ, routing_id=b"asker")
    req.connect(addr)
    req.send(b"q")
    frames = rep.recv_multipart(copy=False)
    assert frames[0].bytes == b"asker"
    assert frames[-1].get("Socket-Type") == "REQ"
    assert frames[-1].get("Identity") == "asker"
    assert frames[-1].get("Peer-Address") == "127.0.0.1"


def test_inproc_and_unreceived_frames_have_none(zmq, sock, endpoint):
    pull = sock(zmq.PULL)
    addr = endpoint.bind(pull, "inproc")
    push = sock(zmq.PUSH)
    push.connect(addr)
    push.send(b"x")
    frame = pull.recv(copy=False)
    for f in (frame, zmq.Frame(b"made here")):
        with pytest.raises(zmq.ZMQError) as info:
            f.get("Socket-Type")
        assert info.value.errno == errno.EINVAL


def test_socket_types_without_identity(zmq, sock, endpoint):
    """PUSH sends no Identity property: asking for it is EINVAL, as in
    libzmq; the thread-safe types carry properties too."""
    pull = sock(zmq.PULL)
    addr = endpoint.bind(pull, "tcp")
    push = sock(zmq.PUSH)
    push.connect(addr)
    push.send(b"x")
    frame = pull.recv(copy=False)
    assert frame.get("Socket-Type") == "PUSH"
    with pytest.raises(zmq.ZMQError):
        frame.get("Identity")


def test_thread_safe_types_carry_properties(zmq, sock, endpoint):
    if not hasattr(zmq, "SERVER") or not zmq.has("draft"):
        pytest.skip("no draft socket types in this implementation")
    server = sock(zmq.SERVER)
    addr = endpoint.bind(server, "tcp")
    client = sock(zmq.CLIENT)
    client.connect(addr)
    client.send(b"x")
    frame = server.recv(copy=False)
    assert frame.get("Socket-Type") == "CLIENT"
    assert frame.get("Peer-Address") == "127.0.0.1"


def test_queued_messages_keep_the_properties_of_their_connection(zmq, pyzmq, sock, psock, endpoint, bind_retry):
    """A connecting socket keeps its pipe across reconnects: messages still
    queued from the first peer keep that peer's properties after a second
    peer took its place on the same address."""
    addr = endpoint.fixed("tcp")
    dealer = sock(zmq.DEALER, routing_id=b"d", reconnect_ivl=20)
    dealer.connect(addr)
    for name in (b"first", b"second"):
        router = psock(pyzmq.ROUTER, routing_id=name)
        bind_retry(router, addr)
        # So the ROUTER knows our id. Again until one arrives: until the
        # dealer sees the first peer gone, a hello can go to that one.
        deadline = time.monotonic() + 10
        dealer.send(b"hello")
        while not router.poll(100):
            assert time.monotonic() < deadline, "no hello reached the new peer"
            dealer.send(b"hello")
        rid, _ = router.recv_multipart()
        router.send_multipart([rid, name + b"-1"])
        router.send_multipart([rid, name + b"-2"])
        # Nothing is read yet; the router goes once its messages are out.
        router.close(linger=2000)
    seen = []
    for _ in range(4):
        f = dealer.recv(copy=False)
        seen.append((f.bytes, f.get("Identity"), f.get("Socket-Type")))
    assert seen == [
        (b"first-1", "first", "ROUTER"), (b"first-2", "first", "ROUTER"),
        (b"second-1", "second", "ROUTER"), (b"second-2", "second", "ROUTER"),
    ]


def test_frames_outlive_their_socket_and_connection(zmq, ctx, endpoint):
    """A Frame holds its properties itself: they stay readable after the
    socket that received it and the connection are gone."""
    pull = ctx.socket(zmq.PULL)
    pull.linger = 0
    addr = endpoint.bind(pull, "tcp")
    push = ctx.socket(zmq.PUSH)
    push.linger = 0
    push.connect(addr)
    push.send(b"x")
    pull.rcvtimeo = 5000
    frame = pull.recv(copy=False)
    push.close()
    pull.close()
    assert frame.get("Socket-Type") == "PUSH"
    assert frame.bytes == b"x"


def test_many_connections_many_receivers(zmq, sock, endpoint):
    """Frames from several peers read by a fair-queueing socket, from two
    threads' worth of senders, each with its own sender's identity."""
    router = sock(zmq.ROUTER)
    addr = endpoint.bind(router, "tcp")
    dealers = []
    for i in range(5):
        d = sock(zmq.DEALER, routing_id=b"peer%d" % i)
        d.connect(addr)
        dealers.append(d)
    def send_all(ds):
        for n in range(50):
            for d in ds:
                d.send(b"%d" % n)
    threads = [threading.Thread(target=send_all, args=([d],)) for d in dealers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    for _ in range(250):
        rid, body = router.recv_multipart(copy=False)
        assert rid.get("Identity") == rid.bytes.decode()
        assert body.get("Identity") == rid.bytes.decode()
