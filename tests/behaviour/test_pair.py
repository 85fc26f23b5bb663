"""PAIR semantics (RFC 31, libzmq 4.3 behaviour; see SOCKETS.md).

One peer only; both directions; blocks (EAGAIN) with no peer or at HWM;
an extra peer is not served while the first one is attached.
"""

import time

import pytest

ALL = ["tcp", "ipc", "inproc"]
NET = ["tcp", "ipc"]


@pytest.fixture
def pair_of(zmq, sock, endpoint):
    def make(transport, **opts):
        a, b = sock(zmq.PAIR, **opts), sock(zmq.PAIR, **opts)
        addr = endpoint.bind(a, transport)
        b.connect(addr)
        return a, b, addr
    return make


@pytest.mark.parametrize("transport", ALL)
def test_both_directions(pair_of, transport, recv_timeout):
    a, b, _ = pair_of(transport)
    for i in range(100):
        b.send(b"b%d" % i)
        a.send(b"a%d" % i)
    assert [recv_timeout(a) for _ in range(100)] == [b"b%d" % i for i in range(100)]
    assert [recv_timeout(b) for _ in range(100)] == [b"a%d" % i for i in range(100)]


@pytest.mark.parametrize("transport", ALL)
def test_multipart_both_directions(pair_of, transport, recv_multipart_timeout):
    a, b, _ = pair_of(transport)
    msg = [b"", b"one", b"", b"three" * 100, b""]
    a.send_multipart(msg)
    b.send_multipart(msg[::-1])
    assert recv_multipart_timeout(b) == msg
    assert recv_multipart_timeout(a) == msg[::-1]


@pytest.mark.parametrize("transport", ALL)
def test_connect_before_bind(zmq, sock, endpoint, transport, recv_timeout):
    addr = endpoint.fixed(transport)
    b = sock(zmq.PAIR)
    b.connect(addr)
    for i in range(5):
        b.send(b"early%d" % i)
    a = sock(zmq.PAIR)
    a.bind(addr)
    assert [recv_timeout(a) for _ in range(5)] == [b"early%d" % i for i in range(5)]
    a.send(b"reply")
    assert recv_timeout(b) == b"reply"


def test_send_without_peer_raises_again(zmq, sock, endpoint):
    a = sock(zmq.PAIR)
    endpoint.bind(a, "tcp")
    with pytest.raises(zmq.Again):
        a.send(b"x", zmq.NOBLOCK)


def test_sndtimeo_without_peer(zmq, sock):
    a = sock(zmq.PAIR, sndtimeo=200)
    t0 = time.monotonic()
    with pytest.raises(zmq.Again):
        a.send(b"x")
    assert 0.15 <= time.monotonic() - t0 < 3.0


def test_rcvtimeo(zmq, pair_of):
    a, b, _ = pair_of("inproc")
    a.setsockopt(zmq.RCVTIMEO, 200)
    t0 = time.monotonic()
    with pytest.raises(zmq.Again):
        a.recv()
    assert 0.15 <= time.monotonic() - t0 < 3.0


@pytest.mark.parametrize("transport", ALL)
@pytest.mark.parametrize("hwm", [1, 4])
def test_noblock_send_raises_again_at_sndhwm(zmq, sock, endpoint, transport, hwm):
    a = sock(zmq.PAIR, sndhwm=hwm)
    a.connect(endpoint.fixed(transport))  # nobody binds
    for i in range(hwm):
        a.send(b"%d" % i, zmq.NOBLOCK)
    with pytest.raises(zmq.Again):
        a.send(b"over", zmq.NOBLOCK)


@pytest.mark.parametrize("transport", ALL)
def test_second_peer_is_not_served(zmq, sock, pair_of, transport,
                                   recv_timeout, assert_no_message, is_again):
    a, b, a_addr = pair_of(transport)
    b.send(b"from-b")
    assert recv_timeout(a) == b"from-b"  # b is attached
    intruder = sock(zmq.PAIR, sndtimeo=0)
    intruder.connect(a_addr)
    try:
        intruder.send(b"from-intruder")
    except Exception as exc:  # noqa: BLE001 - no pipe is fine too
        assert is_again(exc), exc
    assert_no_message(a, 300)
    a.send(b"to-b")
    assert recv_timeout(b) == b"to-b"
    assert_no_message(intruder, 100)
    # b still works in both directions
    b.send(b"still-b")
    assert recv_timeout(a) == b"still-b"


@pytest.mark.parametrize("transport", NET)
def test_new_peer_served_after_first_leaves(zmq, sock, pair_of, transport,
                                            recv_timeout, is_again, wait_until):
    a, b, addr = pair_of(transport)
    b.send(b"hello")
    assert recv_timeout(a) == b"hello"
    b.close()

    def a_has_no_peer():
        # with its peer gone, PAIR has no pipe left: send(NOBLOCK) -> Again
        try:
            a.send(b"probe", zmq.NOBLOCK)
        except Exception as exc:  # noqa: BLE001
            assert is_again(exc), exc
            return True
        return False

    wait_until(a_has_no_peer, msg="the PAIR to notice that its peer left")
    # send(NOBLOCK) fails as soon as b's pipe is being torn down, a moment
    # before PAIR has let go of it; a newcomer that arrives in that moment is
    # turned away (libzmq then keeps its connection but never serves it).  So
    # try fresh newcomers until one is served.
    a.setsockopt(zmq.RCVTIMEO, 300)
    deadline = time.monotonic() + 10
    got = None
    while got is None:
        assert time.monotonic() < deadline, "new peer never served after the first left"
        newcomer = sock(zmq.PAIR)
        newcomer.connect(addr)
        newcomer.send(b"knock")  # queued on the connecting side at once
        try:
            got = a.recv()
        except Exception as exc:  # noqa: BLE001
            assert is_again(exc), exc
            newcomer.close()
    assert got == b"knock"
    a.send(b"welcome")
    assert recv_timeout(newcomer) == b"welcome"
