"""ZMQ_CONFLATE (SOCKETS.md section 4): "queue holds only the last message;
HWM ignored"; it acts on DEALER, PULL, PUSH, PUB and SUB only.

inproc is left out: there libzmq conflates by the connecting socket's option
instead of the reader's, so the reference and mqcore differ on purpose."""
import time

import pytest

SETTLE_S = 0.3      # long enough for 100 small messages to cross loopback


@pytest.mark.parametrize("transport", ["tcp", "ipc"])
def test_conflating_pull_keeps_only_the_newest(zmq, sock, endpoint, transport, recv_timeout,
                                               assert_no_message):
    pull = sock(zmq.PULL, conflate=1)
    addr = endpoint.bind(pull, transport)
    push = sock(zmq.PUSH)
    push.connect(addr)
    push.send(b"first")
    assert recv_timeout(pull) == b"first"        # connected
    for i in range(100):
        push.send(b"%d" % i)
    time.sleep(SETTLE_S)                          # all arrive before the read
    assert recv_timeout(pull) == b"99"
    assert_no_message(pull, 100)


@pytest.mark.parametrize("transport", ["tcp", "ipc"])
def test_conflating_sub_sees_the_latest_value(zmq, sock, endpoint, transport, recv_timeout,
                                              wait_until, assert_no_message):
    sub = sock(zmq.SUB, conflate=1)
    sub.setsockopt(zmq.SUBSCRIBE, b"")
    addr = endpoint.bind(sub, transport)
    pub = sock(zmq.PUB)
    pub.connect(addr)
    wait_until(lambda: _probe_seen(pub, sub), msg="subscription reached the PUB")
    for i in range(50):
        pub.send(b"price %d" % i)
    time.sleep(SETTLE_S)
    assert recv_timeout(sub) == b"price 49"
    assert_no_message(sub, 100)


def _probe_seen(pub, sub):
    pub.send(b"probe")
    return sub.poll(50) != 0 and sub.recv() == b"probe"


def test_conflate_ignores_hwm(zmq, sock, endpoint):
    """A conflating PUSH never blocks at SNDHWM: its queue keeps the newest."""
    push = sock(zmq.PUSH, conflate=1, sndhwm=1)
    push.connect(endpoint.fixed("tcp"))      # nobody there
    for i in range(100):
        push.send(b"%d" % i, zmq.NOBLOCK)


def test_conflate_reads_back(zmq, sock):
    s = sock(zmq.DEALER)
    s.conflate = 1
    assert s.conflate == 1
