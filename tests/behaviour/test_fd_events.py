"""FD and EVENTS (OPTIONS.md section 7): FD is readable when the socket's
state may have changed (edge-triggered), EVENTS says what can be done now;
what an event loop (asyncio's add_reader) relies on."""
import select
import time

import pytest


def fd_readable(fd, timeout):
    return bool(select.select([fd], [], [], timeout)[0])


def test_fd_fires_when_a_message_arrives(zmq, sock, endpoint):
    pull = sock(zmq.PULL)
    addr = endpoint.bind(pull, "tcp")
    push = sock(zmq.PUSH)
    push.connect(addr)
    assert not pull.getsockopt(zmq.EVENTS) & zmq.POLLIN
    fd = pull.getsockopt(zmq.FD)
    push.send(b"hello")
    deadline = time.monotonic() + 5
    while not pull.getsockopt(zmq.EVENTS) & zmq.POLLIN:
        assert time.monotonic() < deadline, "EVENTS never showed POLLIN"
        fd_readable(fd, 0.5)        # wake on the fd, then re-read EVENTS
    assert pull.recv() == b"hello"


def test_fd_is_quiet_once_events_were_read(zmq, sock, endpoint):
    """Reading EVENTS takes what woke the fd, so a loop does not spin."""
    pull = sock(zmq.PULL)
    addr = endpoint.bind(pull, "inproc")
    push = sock(zmq.PUSH)
    push.connect(addr)
    push.send(b"x")
    fd = pull.getsockopt(zmq.FD)
    assert fd_readable(fd, 5)
    assert pull.getsockopt(zmq.EVENTS) & zmq.POLLIN
    assert pull.recv() == b"x"
    pull.getsockopt(zmq.EVENTS)
    assert not fd_readable(fd, 0.1)


def test_events_reports_pollout_for_a_connected_push(zmq, sock, endpoint, wait_until):
    pull = sock(zmq.PULL)
    addr = endpoint.bind(pull, "tcp")
    push = sock(zmq.PUSH)
    push.connect(addr)
    wait_until(lambda: push.getsockopt(zmq.EVENTS) & zmq.POLLOUT, msg="POLLOUT")
    assert not push.getsockopt(zmq.EVENTS) & zmq.POLLIN


@pytest.mark.parametrize("stype,expect", [("PUB", 2), ("SUB", 0), ("REQ", 2), ("REP", 0)])
def test_events_follow_the_socket_type(zmq, sock, endpoint, stype, expect):
    """PUB is always writable, SUB never; REQ may send first, REP must wait."""
    s = sock(getattr(zmq, stype))
    peer_type = {"PUB": "SUB", "SUB": "PUB", "REQ": "REP", "REP": "REQ"}[stype]
    peer = sock(getattr(zmq, peer_type))
    addr = endpoint.bind(peer, "inproc")
    s.connect(addr)
    assert s.getsockopt(zmq.EVENTS) == expect


@pytest.mark.parametrize("transport", ["tcp", "ipc"])
def test_fd_wakes_for_the_first_message_on_a_connecting_socket(zmq, ctx, endpoint, transport):
    """A program that connects and then waits on FD before it ever reads
    EVENTS (aiozmq's streams do) must be woken once a message is there:
    wait on FD, read EVENTS, and again, until POLLIN. (libzmq's FD is
    readable at once after connect, for its pending commands; a FD that
    stays quiet with a message waiting would hang such a program.)"""
    a = ctx.socket(zmq.DEALER)
    a.linger = 0
    a.sndtimeo = 5000
    addr = endpoint.bind(a, transport)
    b = ctx.socket(zmq.DEALER)
    b.linger = 0
    fd = b.FD
    b.connect(addr)
    a.send(b"x")                      # waits for the connection
    deadline = time.monotonic() + 5
    while True:
        left = deadline - time.monotonic()
        assert left > 0 and select.select([fd], [], [], left)[0], "FD never became readable"
        if b.EVENTS & zmq.POLLIN:
            break
    assert b.recv(zmq.NOBLOCK) == b"x"
