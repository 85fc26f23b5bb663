"""The FD/EVENTS contract zmq.green (and tornado's ZMQStream) rely on.

A socket's FD is readable when its state may have changed; reading EVENTS
drains it; the FD then stays quiet until the next change, even though
EVENTS still reports what is ready (edge-triggered, as libzmq's).  Runs
against pyzmq/libzmq too (MQCORE_TEST_IMPL=zmq), the reference.
"""

from __future__ import annotations

import select

WAIT_S = 5


def _fd_readable(sock, timeout_s):
    return bool(select.select([sock.FD], [], [], timeout_s)[0])


def _settle(sock):
    """Read EVENTS until the FD is quiet: pending state changes are absorbed."""
    for _ in range(100):
        events = sock.EVENTS
        if not _fd_readable(sock, 0):
            return events
    raise AssertionError("FD never became quiet")


def test_fd_fires_once_per_change_and_events_drains_it(zmq, sock):
    pull, push = sock(zmq.PULL), sock(zmq.PUSH)
    pull.bind("inproc://fd-contract")
    push.connect("inproc://fd-contract")
    assert _settle(pull) & zmq.POLLIN == 0
    push.send(b"one")
    assert _fd_readable(pull, WAIT_S)
    assert pull.EVENTS & zmq.POLLIN
    # Drained: the message is still there, but the FD is quiet again.
    assert not _fd_readable(pull, 0)
    assert pull.EVENTS & zmq.POLLIN
    assert pull.recv(zmq.NOBLOCK) == b"one"
    assert _settle(pull) & zmq.POLLIN == 0


def test_fd_fires_when_a_send_becomes_possible(zmq, sock):
    push = sock(zmq.PUSH)
    push.bind("inproc://fd-writable")
    assert _settle(push) & zmq.POLLOUT == 0  # no peer: cannot send
    pull = sock(zmq.PULL)
    pull.connect("inproc://fd-writable")
    assert _fd_readable(push, WAIT_S)
    assert push.EVENTS & zmq.POLLOUT
