"""zmq.Poller, zmq.select and Socket.poll (pyzmq's API over zmq_poll; see
OPTIONS.md sections 6-7).

* items are sockets, plain fds (ints) or objects with ``fileno()``;
  ``poll(timeout)`` takes milliseconds (None or negative: forever) and
  returns ``(item, events)`` for ready items only, level-triggered;
* register / modify / unregister change the set (register with flags 0
  unregisters); ``select`` takes seconds and returns three lists;
* readiness follows the socket type: REQ is never POLLIN before a request,
  REP never POLLOUT before one, PUB always POLLOUT, SUB never POLLOUT.
"""

import socket
import threading
import time

import pytest

ALL = ["tcp", "ipc", "inproc"]


@pytest.fixture
def pipeline(zmq, sock, endpoint):
    """``pipeline(transport)`` -> connected (push, pull)."""
    def make(transport="inproc"):
        pull = sock(zmq.PULL)
        push = sock(zmq.PUSH)
        push.connect(endpoint.bind(pull, transport))
        return push, pull
    return make


@pytest.fixture
def socketpair():
    a, b = socket.socketpair()
    yield a, b
    a.close()
    b.close()


def test_poll_times_out_with_nothing_ready(zmq, pipeline):
    _, pull = pipeline()
    poller = zmq.Poller()
    poller.register(pull, zmq.POLLIN)
    start = time.monotonic()
    assert poller.poll(100) == []
    elapsed = time.monotonic() - start
    assert 0.08 <= elapsed < 2.0


def test_poll_zero_returns_at_once(zmq, pipeline):
    _, pull = pipeline()
    poller = zmq.Poller()
    poller.register(pull, zmq.POLLIN)
    start = time.monotonic()
    assert poller.poll(0) == []
    assert time.monotonic() - start < 0.5


@pytest.mark.parametrize("transport", ALL)
def test_pollin_when_message_arrives(zmq, pipeline, transport):
    push, pull = pipeline(transport)
    poller = zmq.Poller()
    poller.register(pull, zmq.POLLIN)
    push.send(b"x")
    assert poller.poll(5000) == [(pull, zmq.POLLIN)]


def test_pollin_is_level_triggered(zmq, pipeline):
    """zmq_poll: "Level-triggered for ZeroMQ sockets: POLLIN means a whole message can be
    received now"."""
    push, pull = pipeline()
    poller = zmq.Poller()
    poller.register(pull, zmq.POLLIN)
    push.send_multipart([b"a", b"b"])
    push.send(b"c")
    assert poller.poll(5000) == [(pull, zmq.POLLIN)]
    assert poller.poll(0) == [(pull, zmq.POLLIN)]
    assert pull.recv_multipart() == [b"a", b"b"]
    assert poller.poll(0) == [(pull, zmq.POLLIN)]
    assert pull.recv() == b"c"
    assert poller.poll(0) == []


def test_poll_reports_only_ready_sockets(zmq, sock, endpoint):
    pulls = [sock(zmq.PULL) for _ in range(3)]
    pushes = [sock(zmq.PUSH) for _ in range(3)]
    poller = zmq.Poller()
    for pull, push in zip(pulls, pushes):
        push.connect(endpoint.bind(pull, "inproc"))
        poller.register(pull, zmq.POLLIN)
    pushes[1].send(b"only one")
    assert poller.poll(5000) == [(pulls[1], zmq.POLLIN)]


def test_pollout_needs_a_peer_for_push(zmq, sock, endpoint):
    """POLLOUT "means a message can be sent now without blocking"."""
    lonely = sock(zmq.PUSH)
    endpoint.bind(lonely, "tcp")
    pull = sock(zmq.PULL)
    push = sock(zmq.PUSH)
    push.connect(endpoint.bind(pull, "inproc"))
    poller = zmq.Poller()
    poller.register(lonely, zmq.POLLOUT)
    poller.register(push, zmq.POLLOUT)
    assert poller.poll(1000) == [(push, zmq.POLLOUT)]


def test_register_modify_unregister(zmq, sock, endpoint):
    a, b = sock(zmq.DEALER), sock(zmq.DEALER)
    b.connect(endpoint.bind(a, "inproc"))
    poller = zmq.Poller()
    poller.register(b)  # default: POLLIN | POLLOUT
    assert b in poller
    assert poller.poll(1000) == [(b, zmq.POLLOUT)]
    poller.modify(b, zmq.POLLIN)
    assert poller.poll(0) == []
    a.send(b"wake")
    assert poller.poll(5000) == [(b, zmq.POLLIN)]
    poller.register(b, zmq.POLLIN | zmq.POLLOUT)  # re-register updates the flags
    assert poller.poll(0) == [(b, zmq.POLLIN | zmq.POLLOUT)]
    poller.unregister(b)
    assert b not in poller
    assert poller.poll(0) == []


def test_register_with_no_flags_unregisters(zmq, pipeline):
    push, pull = pipeline()
    poller = zmq.Poller()
    poller.register(pull, zmq.POLLIN)
    poller.register(pull, 0)
    assert pull not in poller
    push.send(b"x")
    assert poller.poll(50) == []


def test_unregister_unknown_socket_is_keyerror(zmq, pipeline):
    _, pull = pipeline()
    with pytest.raises(KeyError):
        zmq.Poller().unregister(pull)


def test_raw_fd_and_object_with_fileno(zmq, socketpair):
    """zmq_poll: "Each item is a ZeroMQ socket ... or a plain fd"; pyzmq reports a plain
    item by its fd number, whether an int or an object with fileno() was registered."""
    a, b = socketpair
    poller = zmq.Poller()
    poller.register(a.fileno(), zmq.POLLIN)
    poller.register(b, zmq.POLLIN)
    assert b in poller
    assert poller.poll(50) == []
    b.sendall(b"to-a")
    assert poller.poll(5000) == [(a.fileno(), zmq.POLLIN)]
    a.sendall(b"to-b")
    assert dict(poller.poll(5000)) == {a.fileno(): zmq.POLLIN, b.fileno(): zmq.POLLIN}
    assert a.recv(10) == b"to-a"
    assert poller.poll(0) == [(b.fileno(), zmq.POLLIN)]
    poller.unregister(b)
    assert poller.poll(0) == []


def test_raw_fd_pollout(zmq, socketpair):
    a, _ = socketpair
    poller = zmq.Poller()
    poller.register(a, zmq.POLLOUT)
    assert poller.poll(1000) == [(a.fileno(), zmq.POLLOUT)]


def test_sockets_and_fds_in_one_poll(zmq, pipeline, socketpair):
    push, pull = pipeline()
    a, b = socketpair
    poller = zmq.Poller()
    poller.register(pull, zmq.POLLIN)
    poller.register(a, zmq.POLLIN)
    push.send(b"zmq")
    b.sendall(b"raw")
    deadline = time.monotonic() + 5
    ready = {}
    while len(ready) < 2 and time.monotonic() < deadline:
        ready.update(poller.poll(100))
    assert ready == {pull: zmq.POLLIN, a.fileno(): zmq.POLLIN}


@pytest.mark.parametrize("timeout", [None, -1])
def test_poll_without_timeout_waits_for_event(zmq, sock, endpoint, timeout):
    pull = sock(zmq.PULL)
    addr = endpoint.bind(pull, "inproc")
    push = sock(zmq.PUSH)
    push.connect(addr)
    poller = zmq.Poller()
    poller.register(pull, zmq.POLLIN)
    sender = threading.Timer(0.05, push.send, args=(b"late",))
    sender.start()
    try:
        assert poller.poll(timeout) == [(pull, zmq.POLLIN)]
    finally:
        sender.join()
    assert pull.recv() == b"late"


def test_select_reports_three_lists(zmq, pipeline, socketpair):
    push, pull = pipeline()
    a, b = socketpair
    assert zmq.select([pull, a], [], [], 0.05) == ([], [], [])
    push.send(b"x")
    b.sendall(b"y")
    deadline = time.monotonic() + 5
    readable = set()
    while len(readable) < 2 and time.monotonic() < deadline:
        rlist, wlist, xlist = zmq.select([pull, a], [push], [], 1.0)
        readable.update(rlist)
        assert wlist == [push] and xlist == []
    assert readable == {pull, a.fileno()}  # plain items come back as fd numbers


def test_select_timeout_is_in_seconds(zmq, pipeline):
    _, pull = pipeline()
    start = time.monotonic()
    assert zmq.select([pull], [], [], 0.1) == ([], [], [])
    assert 0.08 <= time.monotonic() - start < 2.0


def test_socket_poll(zmq, pipeline):
    push, pull = pipeline()
    assert pull.poll(20) == 0
    assert push.poll(1000, zmq.POLLOUT) == zmq.POLLOUT
    push.send(b"x")
    assert pull.poll(5000) == zmq.POLLIN


# --------------------------------------------------------------------------
# readiness per socket type (OPTIONS.md section 7)
# --------------------------------------------------------------------------

def test_req_readiness_follows_its_state(zmq, sock, endpoint, recv_timeout):
    """"REQ is never POLLIN before a request was sent"; no POLLOUT while a reply is owed."""
    rep, req = sock(zmq.REP), sock(zmq.REQ)
    req.connect(endpoint.bind(rep, "inproc"))
    poller = zmq.Poller()
    poller.register(req, zmq.POLLIN | zmq.POLLOUT)
    assert poller.poll(1000) == [(req, zmq.POLLOUT)]
    req.send(b"q")
    assert poller.poll(0) == []
    assert recv_timeout(rep) == b"q"
    rep.send(b"r")
    assert poller.poll(5000) == [(req, zmq.POLLIN)]


def test_rep_readiness_follows_its_state(zmq, sock, endpoint):
    """"REP never POLLOUT before a request came"."""
    rep, req = sock(zmq.REP), sock(zmq.REQ)
    req.connect(endpoint.bind(rep, "inproc"))
    poller = zmq.Poller()
    poller.register(rep, zmq.POLLIN | zmq.POLLOUT)
    assert poller.poll(50) == []
    req.send(b"q")
    assert poller.poll(5000) == [(rep, zmq.POLLIN)]
    rep.recv()
    assert poller.poll(0) == [(rep, zmq.POLLOUT)]


def test_pub_always_writable_sub_never(zmq, sock, endpoint):
    """"PUB/XSUB/ROUTER (not mandatory)/STREAM/SERVER are always POLLOUT, and SUB has no
    POLLOUT"."""
    pub, sub = sock(zmq.PUB), sock(zmq.SUB)
    endpoint.bind(pub, "tcp")
    sub.connect(endpoint.bind(sock(zmq.PUB), "inproc"))
    sub.subscribe(b"")
    poller = zmq.Poller()
    poller.register(pub, zmq.POLLIN | zmq.POLLOUT)
    poller.register(sub, zmq.POLLOUT)
    assert poller.poll(1000) == [(pub, zmq.POLLOUT)]
