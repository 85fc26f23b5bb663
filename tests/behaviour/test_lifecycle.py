"""Socket and context life cycle (libzmq 4.3 behaviour; see SOCKETS.md 1.1).

Start order, reconnection, LINGER, ctx.term() from another thread,
RCVTIMEO, unbind/disconnect, LAST_ENDPOINT, abstract ipc names, IPv6,
endpoint errors.
"""

import errno
import os
import sys
import re
import threading
import time
import uuid

import pytest

ALL = ["tcp", "ipc", "inproc"]
NET = ["tcp", "ipc"]


@pytest.fixture
def fresh_ctx(zmq):
    """A context the test terminates itself; destroyed afterwards if it did not."""
    contexts = []

    def make():
        c = zmq.Context()
        contexts.append(c)
        return c

    yield make
    for c in contexts:
        if not c.closed:
            c.destroy(linger=0)


def run_in_thread(fn, *args):
    """Start *fn* in a daemon thread; return (thread, result dict)."""
    result = {}

    def target():
        t0 = time.monotonic()
        try:
            result["value"] = fn(*args)
        except BaseException as exc:  # noqa: BLE001
            result["error"] = exc
        result["elapsed"] = time.monotonic() - t0

    t = threading.Thread(target=target, daemon=True)
    t.start()
    return t, result


# --------------------------------------------------------------------------
# start order and reconnection
# --------------------------------------------------------------------------

@pytest.mark.parametrize("transport", ALL)
def test_push_connects_before_pull_binds(zmq, sock, endpoint, transport,
                                         recv_multipart_timeout):
    addr = endpoint.fixed(transport)
    push = sock(zmq.PUSH)
    push.connect(addr)
    msgs = [[b"m%d" % i, b""] for i in range(10)]
    for m in msgs:
        push.send_multipart(m)
    pull = sock(zmq.PULL)
    pull.bind(addr)
    assert [recv_multipart_timeout(pull) for _ in msgs] == msgs


@pytest.mark.parametrize("transport", ALL)
def test_pull_connects_before_push_binds(zmq, sock, endpoint, transport, recv_timeout):
    addr = endpoint.fixed(transport)
    pull = sock(zmq.PULL)
    pull.connect(addr)
    push = sock(zmq.PUSH)
    push.bind(addr)
    push.send(b"late-binder")  # blocks (SNDTIMEO 5 s) until the PULL is attached
    assert recv_timeout(pull) == b"late-binder"


@pytest.mark.parametrize("transport", NET)
def test_restarted_pull_binder_gets_queued_messages(zmq, sock, endpoint, transport,
                                                    recv_timeout, bind_retry):
    addr = endpoint.fixed(transport)
    push = sock(zmq.PUSH)
    push.connect(addr)
    pull = sock(zmq.PULL)
    pull.bind(addr)
    push.send(b"before")
    assert recv_timeout(pull) == b"before"
    pull.close()
    # Messages handed to the connection before the PUSH has noticed the
    # peer went away are lost (they go into a dead TCP socket: libzmq does
    # the same).  Give the PUSH a moment to notice; after that, messages
    # stay queued on the connecting side.
    time.sleep(0.3)
    for i in range(50):
        push.send(b"queued%d" % i)
    pull2 = sock(zmq.PULL)
    bind_retry(pull2, addr)
    assert [recv_timeout(pull2) for _ in range(50)] == [b"queued%d" % i for i in range(50)]
    push.send(b"after")
    assert recv_timeout(pull2) == b"after"


@pytest.mark.parametrize("transport", NET)
def test_connecting_pull_follows_restarted_push_binder(zmq, sock, endpoint, transport,
                                                       recv_timeout, bind_retry):
    addr = endpoint.fixed(transport)
    pull = sock(zmq.PULL)
    pull.connect(addr)
    for generation in range(3):
        push = sock(zmq.PUSH)
        bind_retry(push, addr)
        push.send(b"gen%d" % generation)  # blocks until the PULL reconnects
        assert recv_timeout(pull) == b"gen%d" % generation
        push.close()


@pytest.mark.parametrize("transport", NET)
def test_restarted_pair_binder(zmq, sock, endpoint, transport, recv_timeout, bind_retry):
    addr = endpoint.fixed(transport)
    b = sock(zmq.PAIR)
    b.connect(addr)
    a = sock(zmq.PAIR)
    a.bind(addr)
    b.send(b"one")
    assert recv_timeout(a) == b"one"
    a.close()
    time.sleep(0.3)  # let b notice (see test_restarted_pull_binder_gets_queued_messages)
    b.send(b"two")
    a2 = sock(zmq.PAIR)
    bind_retry(a2, addr)
    assert recv_timeout(a2) == b"two"
    a2.send(b"three")
    assert recv_timeout(b) == b"three"


# --------------------------------------------------------------------------
# LINGER
# --------------------------------------------------------------------------

@pytest.mark.parametrize("transport", NET)
def test_linger_delivers_pending_messages_after_close(zmq, sock, fresh_ctx, endpoint,
                                                      transport, recv_timeout):
    addr = endpoint.fixed(transport)
    c2 = fresh_ctx()
    push = c2.socket(zmq.PUSH)
    push.setsockopt(zmq.LINGER, 5000)
    push.connect(addr)
    for i in range(5):
        push.send(b"pending%d" % i)
    push.close()  # returns at once; the messages linger
    pull = sock(zmq.PULL)
    pull.bind(addr)
    t, result = run_in_thread(c2.term)
    assert [recv_timeout(pull) for _ in range(5)] == [b"pending%d" % i for i in range(5)]
    t.join(6)
    assert not t.is_alive(), "ctx.term() still blocked after the lingering messages went out"
    assert "error" not in result, result


@pytest.mark.parametrize("transport", NET)
def test_linger_zero_discards_pending_messages(zmq, sock, fresh_ctx, endpoint, transport,
                                               assert_no_message):
    addr = endpoint.fixed(transport)
    c2 = fresh_ctx()
    push = c2.socket(zmq.PUSH)
    push.setsockopt(zmq.LINGER, 0)
    push.connect(addr)
    push.send(b"doomed")
    push.close()
    t, result = run_in_thread(c2.term)
    t.join(2)
    assert not t.is_alive(), "ctx.term() blocked although LINGER=0"
    assert result["elapsed"] < 1.0
    pull = sock(zmq.PULL)
    pull.bind(addr)
    assert_no_message(pull, 400)


def test_positive_linger_bounds_term_without_peer(zmq, fresh_ctx, endpoint):
    c2 = fresh_ctx()
    push = c2.socket(zmq.PUSH)
    push.setsockopt(zmq.LINGER, 300)
    push.connect(endpoint.fixed("tcp"))  # nobody will ever listen
    push.send(b"undeliverable")
    push.close()
    t, result = run_in_thread(c2.term)
    t.join(5)
    assert not t.is_alive(), "ctx.term() ignored LINGER=300"
    assert "error" not in result, result
    assert 0.2 <= result["elapsed"] < 3.0, result["elapsed"]


def test_default_linger_blocks_term_until_delivered(zmq, sock, fresh_ctx, endpoint,
                                                   recv_timeout):
    """LINGER -1 (the default): term() waits for pending messages to go out."""
    addr = endpoint.fixed("tcp")
    c2 = fresh_ctx()
    push = c2.socket(zmq.PUSH)
    assert push.getsockopt(zmq.LINGER) == -1
    push.connect(addr)
    push.send(b"must-arrive")
    t0 = time.monotonic()
    push.close()
    assert time.monotonic() - t0 < 1.0, "close() itself must not block"
    t, result = run_in_thread(c2.term)
    time.sleep(0.3)
    assert t.is_alive(), "ctx.term() returned although a message was still pending"
    pull = sock(zmq.PULL)
    pull.bind(addr)
    assert recv_timeout(pull) == b"must-arrive"
    t.join(5)
    assert not t.is_alive()
    assert "error" not in result, result


# --------------------------------------------------------------------------
# context termination
# --------------------------------------------------------------------------

def test_term_from_another_thread_wakes_blocked_recv(zmq, fresh_ctx, endpoint):
    c2 = fresh_ctx()
    pull = c2.socket(zmq.PULL)
    pull.setsockopt(zmq.LINGER, 0)
    pull.setsockopt(zmq.RCVTIMEO, 10000)  # a failure shows up as Again, not a hang
    pull.bind(endpoint("tcp"))

    def term_later():
        time.sleep(0.2)
        c2.term()

    t, result = run_in_thread(term_later)
    t0 = time.monotonic()
    with pytest.raises(zmq.ContextTerminated) as info:
        pull.recv()
    assert time.monotonic() - t0 < 5.0
    assert info.value.errno == zmq.ETERM
    assert isinstance(info.value, zmq.ZMQError)
    # still terminated on the next call
    with pytest.raises(zmq.ContextTerminated):
        pull.recv()
    assert t.is_alive(), "term() must wait for the socket to be closed"
    pull.close()
    t.join(5)
    assert not t.is_alive(), "term() did not return after the last socket closed"
    assert "error" not in result, result


def test_term_from_another_thread_wakes_blocked_send(zmq, fresh_ctx):
    c2 = fresh_ctx()
    push = c2.socket(zmq.PUSH)
    push.setsockopt(zmq.LINGER, 0)
    push.setsockopt(zmq.SNDTIMEO, 10000)  # no peer: send blocks

    def term_later():
        time.sleep(0.2)
        c2.term()

    t, result = run_in_thread(term_later)
    with pytest.raises(zmq.ContextTerminated):
        push.send(b"x")
    push.close()
    t.join(5)
    assert not t.is_alive()
    assert "error" not in result, result


def test_term_wakes_recv_blocked_in_other_thread(zmq, fresh_ctx):
    c2 = fresh_ctx()
    pull = c2.socket(zmq.PAIR)
    pull.setsockopt(zmq.LINGER, 0)
    pull.setsockopt(zmq.RCVTIMEO, 10000)
    pull.bind("inproc://mqt-term-%s" % uuid.uuid4().hex)

    def blocked():
        try:
            pull.recv()
        finally:
            pull.close()

    t, result = run_in_thread(blocked)
    time.sleep(0.2)
    t0 = time.monotonic()
    c2.term()  # returns once the worker has closed its socket
    assert time.monotonic() - t0 < 5.0
    t.join(5)
    assert isinstance(result.get("error"), zmq.ContextTerminated), result


def test_term_without_sockets_is_immediate(zmq, fresh_ctx):
    c2 = fresh_ctx()
    t0 = time.monotonic()
    c2.term()
    assert time.monotonic() - t0 < 1.0
    assert c2.closed


# --------------------------------------------------------------------------
# timeouts
# --------------------------------------------------------------------------

@pytest.mark.parametrize("socket_type", ["PULL", "PAIR"])
def test_rcvtimeo_raises_again(zmq, sock, endpoint, socket_type):
    s = sock(getattr(zmq, socket_type), rcvtimeo=250)
    endpoint.bind(s, "tcp")
    t0 = time.monotonic()
    with pytest.raises(zmq.Again) as info:
        s.recv()
    elapsed = time.monotonic() - t0
    assert 0.2 <= elapsed < 3.0, elapsed
    assert info.value.errno == errno.EAGAIN


def test_rcvtimeo_zero_and_noblock_return_at_once(zmq, sock):
    s = sock(zmq.PULL, rcvtimeo=0)
    t0 = time.monotonic()
    with pytest.raises(zmq.Again):
        s.recv()
    s.setsockopt(zmq.RCVTIMEO, -1)
    with pytest.raises(zmq.Again):
        s.recv(zmq.NOBLOCK)
    assert time.monotonic() - t0 < 1.0


def test_rcvtimeo_getsockopt_roundtrip(zmq, sock):
    s = sock(zmq.PULL)
    for value in (-1, 0, 1, 250, 100000):
        s.setsockopt(zmq.RCVTIMEO, value)
        assert s.getsockopt(zmq.RCVTIMEO) == value
        s.setsockopt(zmq.SNDTIMEO, value)
        assert s.getsockopt(zmq.SNDTIMEO) == value


# --------------------------------------------------------------------------
# unbind / disconnect
# --------------------------------------------------------------------------

@pytest.mark.parametrize("transport", NET)
def test_unbind_stops_serving_new_peers(zmq, sock, endpoint, transport, recv_timeout,
                                        assert_no_message):
    pull = sock(zmq.PULL)
    addr = endpoint.bind(pull, transport)
    push = sock(zmq.PUSH)
    push.connect(addr)
    push.send(b"bound")
    assert recv_timeout(pull) == b"bound"
    pull.unbind(addr)
    late = sock(zmq.PUSH)
    late.connect(addr)
    late.send(b"after-unbind")  # queued on the connecting side only
    assert_no_message(pull, 300)


@pytest.mark.parametrize("transport", ALL)
def test_unbind_unknown_endpoint_is_enoent(zmq, sock, endpoint, transport):
    pull = sock(zmq.PULL)
    addr = endpoint.bind(pull, transport)
    pull.unbind(addr)
    with pytest.raises(zmq.ZMQError) as info:
        pull.unbind(addr)
    assert info.value.errno == errno.ENOENT


@pytest.mark.parametrize("transport", ALL)
def test_rebind_after_unbind(zmq, sock, endpoint, transport, recv_timeout, bind_retry):
    pull = sock(zmq.PULL)
    addr = endpoint.bind(pull, transport)
    pull.unbind(addr)
    bind_retry(pull, addr)
    push = sock(zmq.PUSH)
    push.connect(addr)
    push.send(b"rebound")
    assert recv_timeout(pull) == b"rebound"


@pytest.mark.parametrize("transport", ALL)
def test_disconnect_removes_peer_from_round_robin(zmq, sock, endpoint, transport,
                                                  recv_timeout, assert_no_message):
    a, b = sock(zmq.PULL), sock(zmq.PULL)
    addr_a, addr_b = endpoint.bind(a, transport), endpoint.bind(b, transport)
    push = sock(zmq.PUSH)
    push.connect(addr_a)
    push.connect(addr_b)
    push.send(b"0")
    push.send(b"1")
    assert sorted([recv_timeout(a), recv_timeout(b)]) == [b"0", b"1"]
    push.disconnect(addr_a)
    for i in range(10):
        push.send(b"only-b-%d" % i)
    assert [recv_timeout(b) for _ in range(10)] == [b"only-b-%d" % i for i in range(10)]
    assert_no_message(a, 200)


def test_disconnect_unknown_endpoint_is_enoent(zmq, sock, endpoint):
    push = sock(zmq.PUSH)
    push.connect(endpoint.fixed("tcp"))
    with pytest.raises(zmq.ZMQError) as info:
        push.disconnect(endpoint.fixed("tcp"))
    assert info.value.errno == errno.ENOENT


# --------------------------------------------------------------------------
# endpoints
# --------------------------------------------------------------------------

def test_last_endpoint_after_wildcard_tcp_bind(zmq, sock, recv_timeout):
    pull = sock(zmq.PULL)
    assert pull.getsockopt(zmq.LAST_ENDPOINT) in (b"", b"\x00")
    pull.bind("tcp://127.0.0.1:*")
    value = pull.getsockopt(zmq.LAST_ENDPOINT)
    assert isinstance(value, bytes)
    m = re.fullmatch(rb"tcp://127\.0\.0\.1:(\d+)", value)
    assert m, value
    port = int(m.group(1))
    assert 0 < port < 65536
    push = sock(zmq.PUSH)
    push.connect(value.decode())
    push.send(b"via-last-endpoint")
    assert recv_timeout(pull) == b"via-last-endpoint"


def test_last_endpoint_tracks_latest_bind(zmq, sock, endpoint):
    pull = sock(zmq.PULL)
    pull.bind("tcp://127.0.0.1:*")
    first = pull.getsockopt(zmq.LAST_ENDPOINT)
    pull.bind("tcp://127.0.0.1:*")
    second = pull.getsockopt(zmq.LAST_ENDPOINT)
    assert first != second
    path = endpoint.ipc_path()
    pull.bind("ipc://" + path)
    assert pull.getsockopt(zmq.LAST_ENDPOINT) == ("ipc://" + path).encode()


def test_two_binds_on_one_socket_both_serve(zmq, sock, endpoint, recv_timeout):
    pull = sock(zmq.PULL)
    tcp_addr = endpoint.bind(pull, "tcp")
    ipc_addr = endpoint.bind(pull, "ipc")
    p1, p2 = sock(zmq.PUSH), sock(zmq.PUSH)
    p1.connect(tcp_addr)
    p2.connect(ipc_addr)
    p1.send(b"tcp")
    p2.send(b"ipc")
    assert sorted([recv_timeout(pull), recv_timeout(pull)]) == [b"ipc", b"tcp"]


linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="abstract ipc names are a Linux feature")


@linux_only
def test_ipc_abstract_namespace(zmq, sock, recv_timeout, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    name = "@mqt-%s" % uuid.uuid4().hex[:12]
    addr = "ipc://" + name
    pull = sock(zmq.PULL)
    pull.bind(addr)
    assert pull.getsockopt(zmq.LAST_ENDPOINT) == addr.encode()
    push = sock(zmq.PUSH)
    push.connect(addr)
    push.send(b"abstract")
    assert recv_timeout(pull) == b"abstract"
    # abstract names live outside the file system
    assert not os.path.exists(name)
    assert os.listdir(tmp_path) == []


@linux_only
def test_ipc_abstract_name_in_use(zmq, sock):
    addr = "ipc://@mqt-%s" % uuid.uuid4().hex[:12]
    a, b = sock(zmq.PULL), sock(zmq.PULL)
    a.bind(addr)
    with pytest.raises(zmq.ZMQError) as info:
        b.bind(addr)
    assert info.value.errno == errno.EADDRINUSE


def test_ipv6_loopback(zmq, sock, recv_timeout, has_ipv6_loopback):
    if not has_ipv6_loopback():
        pytest.skip("no IPv6 loopback (::1) on this machine")
    pull = sock(zmq.PULL, ipv6=1)
    pull.bind("tcp://[::1]:*")
    value = pull.getsockopt(zmq.LAST_ENDPOINT)
    m = re.fullmatch(rb"tcp://\[::1\]:(\d+)", value)
    assert m, value
    push = sock(zmq.PUSH, ipv6=1)
    push.connect(value.decode())
    push.send(b"v6")
    assert recv_timeout(pull) == b"v6"


def test_tcp_port_in_use(zmq, sock):
    a, b = sock(zmq.PULL), sock(zmq.PULL)
    a.bind("tcp://127.0.0.1:*")
    with pytest.raises(zmq.ZMQError) as info:
        b.bind(a.getsockopt(zmq.LAST_ENDPOINT).decode())
    assert info.value.errno == errno.EADDRINUSE


def test_inproc_name_in_use(zmq, sock, endpoint):
    a, b = sock(zmq.PULL), sock(zmq.PULL)
    addr = endpoint.bind(a, "inproc")
    with pytest.raises(zmq.ZMQError) as info:
        b.bind(addr)
    assert info.value.errno == errno.EADDRINUSE


@pytest.mark.parametrize("bad,err", [
    ("tcp://127.0.0.1", errno.EINVAL),
    ("tcp://127.0.0.1:notaport", errno.EINVAL),
    ("foo://bar", errno.EPROTONOSUPPORT),
    ("nonsense", errno.EINVAL),
])
def test_bad_endpoints(zmq, sock, bad, err):
    s = sock(zmq.PUSH)
    with pytest.raises(zmq.ZMQError) as info:
        s.connect(bad)
    assert info.value.errno == err


def test_closed_socket(zmq, ctx):
    s = ctx.socket(zmq.PUSH)
    assert not s.closed
    s.close()
    assert s.closed
    s.close()  # closing twice is harmless
    with pytest.raises(zmq.ZMQError) as info:
        s.send(b"x")
    assert info.value.errno == errno.ENOTSOCK
