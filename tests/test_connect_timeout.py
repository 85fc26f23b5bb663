"""CONNECT_TIMEOUT (libzmq's tcp_connecter): a connect still in progress
after the timeout is abandoned (its fd closed: EVENT_CLOSED) and tried again
after the reconnect interval (EVENT_CONNECT_RETRIED). Made to hang for real:
the listener's accept queue is full, so the kernel drops our SYNs."""
import socket
import time

import pytest

from pattern_helpers import monitor_module


@pytest.fixture
def full_listener():
    """A tcp port whose backlog is full: connects to it stay in progress."""
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(0)
    port = lsock.getsockname()[1]
    fillers = []
    for _ in range(3):
        c = socket.socket()
        c.setblocking(False)
        try:
            c.connect(("127.0.0.1", port))
        except BlockingIOError:
            pass
        fillers.append(c)
    time.sleep(0.1)
    yield port
    for c in fillers:
        c.close()
    lsock.close()


def events_for(zmq, mon, seconds):
    recv = monitor_module(zmq).recv_monitor_message
    got = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if mon.poll(50):
            got.append(recv(mon)["event"])
    return got


def test_a_hanging_connect_is_abandoned_and_retried(zmq, sock, full_listener):
    s = sock(zmq.DEALER, connect_timeout=100, reconnect_ivl=50)
    mon = s.get_monitor_socket()
    try:
        s.connect(f"tcp://127.0.0.1:{full_listener}")
        got = events_for(zmq, mon, 1.0)
    finally:
        s.disable_monitor()
        mon.close(linger=0)
    assert zmq.EVENT_CONNECTED not in got
    assert got.count(zmq.EVENT_CONNECT_DELAYED) >= 2, got
    assert got.count(zmq.EVENT_CLOSED) >= 2, got
    assert got.count(zmq.EVENT_CONNECT_RETRIED) >= 2, got
    # Each abandoned connect: delayed, closed, then retried.
    first = got.index(zmq.EVENT_CONNECT_DELAYED)
    assert got[first:first + 3] == [zmq.EVENT_CONNECT_DELAYED, zmq.EVENT_CLOSED, zmq.EVENT_CONNECT_RETRIED]


def test_without_a_timeout_the_connect_keeps_waiting(zmq, sock, full_listener):
    s = sock(zmq.DEALER, reconnect_ivl=50)
    mon = s.get_monitor_socket()
    try:
        s.connect(f"tcp://127.0.0.1:{full_listener}")
        got = events_for(zmq, mon, 0.6)
    finally:
        s.disable_monitor()
        mon.close(linger=0)
    assert got == [zmq.EVENT_CONNECT_DELAYED], got


def test_a_connect_that_completes_in_time_is_kept(zmq, sock):
    a = sock(zmq.PAIR)
    a.bind("tcp://127.0.0.1:0")
    b = sock(zmq.PAIR, connect_timeout=200)
    b.connect(a.getsockopt(zmq.LAST_ENDPOINT).decode())
    b.send(b"hi")
    assert a.recv() == b"hi"
    time.sleep(0.4)          # past the timeout: nothing is torn down
    a.send(b"still here")
    assert b.recv() == b"still here"
