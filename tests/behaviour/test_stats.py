"""``Socket.stats()``: mqcore's per-socket counters (neither libzmq nor pyzmq
has them, so this module is skipped when pyzmq stands in for mqcore).

``stats()`` returns a dict with at least these integer counters, all 0 on a
new socket:

* ``msgs_sent`` / ``msgs_received``: whole messages (a multipart message
  counts once, like the HWM) that send() accepted / recv() returned;
* ``bytes_sent`` / ``bytes_received``: the sum of those messages' frame sizes;
* ``msgs_dropped``: messages the socket discarded silently at HWM (PUB/XPUB
  at a full subscriber, ROUTER at a full peer); an EAGAIN is not a drop;
* ``connects`` / ``disconnects``: connections (accepted or made) that were
  established / that ended.
"""

import os

import pytest

COUNTERS = {"msgs_sent", "msgs_received", "bytes_sent", "bytes_received",
            "msgs_dropped", "connects", "disconnects"}

pytestmark = pytest.mark.skipif(
    (os.environ.get("MQCORE_TEST_IMPL", "mqcore").strip() or "mqcore") == "zmq",
    reason="Socket.stats() is mqcore-only: pyzmq/libzmq have no per-socket counters")


def test_new_socket_counts_nothing(zmq, sock):
    stats = sock(zmq.DEALER).stats()
    assert isinstance(stats, dict)
    assert COUNTERS <= set(stats)
    assert all(isinstance(stats[k], int) and stats[k] == 0 for k in COUNTERS), stats


@pytest.mark.parametrize("transport", ["tcp", "ipc", "inproc"])
def test_messages_and_bytes_both_ways(zmq, sock, endpoint, transport, recv_multipart_timeout):
    pull, push = sock(zmq.PULL), sock(zmq.PUSH)
    push.connect(endpoint.bind(pull, transport))
    push.send(b"abc")
    push.send_multipart([b"de", b"", b"f"])
    assert recv_multipart_timeout(pull) == [b"abc"]
    assert recv_multipart_timeout(pull) == [b"de", b"", b"f"]
    sent, received = push.stats(), pull.stats()
    assert (sent["msgs_sent"], sent["bytes_sent"]) == (2, 6)
    assert (sent["msgs_received"], sent["bytes_received"]) == (0, 0)
    assert (received["msgs_received"], received["bytes_received"]) == (2, 6)
    assert (received["msgs_sent"], received["bytes_sent"]) == (0, 0)


def test_counters_are_per_socket(zmq, sock, endpoint, recv_multipart_timeout):
    pull = sock(zmq.PULL)
    addr = endpoint.bind(pull, "inproc")
    busy, idle = sock(zmq.PUSH), sock(zmq.PUSH)
    busy.connect(addr)
    idle.connect(addr)
    busy.send(b"x")
    recv_multipart_timeout(pull)
    assert busy.stats()["msgs_sent"] == 1
    assert idle.stats()["msgs_sent"] == 0


@pytest.mark.parametrize("transport", ["tcp", "ipc"])
def test_connects_and_disconnects(zmq, sock, endpoint, transport, wait_until):
    server = sock(zmq.PULL)
    addr = endpoint.bind(server, transport)
    client = sock(zmq.PUSH)
    client.connect(addr)
    wait_until(lambda: server.stats()["connects"] == 1, msg="server connects == 1")
    wait_until(lambda: client.stats()["connects"] == 1, msg="client connects == 1")
    assert server.stats()["disconnects"] == 0
    client.close()
    wait_until(lambda: server.stats()["disconnects"] == 1, msg="server disconnects == 1")
    assert server.stats()["connects"] == 1


def drain_count(zmq, s):
    n = 0
    while True:
        try:
            s.recv_multipart(zmq.NOBLOCK)
        except zmq.Again:
            return n
        n += 1


def test_pub_counts_messages_dropped_at_hwm(zmq, sock, endpoint, recv_multipart_timeout):
    pub = sock(zmq.XPUB, sndhwm=5)
    sub = sock(zmq.SUB, rcvhwm=5)
    sub.connect(endpoint.bind(pub, "inproc"))
    sub.subscribe(b"")
    assert recv_multipart_timeout(pub) == [b"\x01"]
    n = 200
    for i in range(n):
        pub.send(b"%d" % i)
    delivered = drain_count(zmq, sub)
    assert 0 < delivered < n
    assert pub.stats()["msgs_dropped"] == n - delivered


def test_router_counts_messages_dropped_at_hwm(zmq, sock, endpoint, recv_multipart_timeout):
    router = sock(zmq.ROUTER, sndhwm=1)
    dealer = sock(zmq.DEALER, routing_id=b"D", rcvhwm=1)
    dealer.connect(endpoint.bind(router, "inproc"))
    dealer.send(b"hi")
    recv_multipart_timeout(router)
    n = 50
    for i in range(n):
        router.send_multipart([b"D", b"%d" % i])
    delivered = drain_count(zmq, dealer)
    assert 0 < delivered < n
    assert router.stats()["msgs_dropped"] == n - delivered


def test_again_is_not_a_drop(zmq, sock, endpoint, recv_multipart_timeout):
    router = sock(zmq.ROUTER, sndhwm=1, router_mandatory=1)
    dealer = sock(zmq.DEALER, routing_id=b"D", rcvhwm=1)
    dealer.connect(endpoint.bind(router, "inproc"))
    dealer.send(b"hi")
    recv_multipart_timeout(router)
    with pytest.raises(zmq.Again):
        for i in range(50):
            router.send_multipart([b"D", b"%d" % i], zmq.NOBLOCK)
    assert router.stats()["msgs_dropped"] == 0
