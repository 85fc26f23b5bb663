"""Socket monitoring: Socket.monitor / get_monitor_socket / disable_monitor and
``<module>.utils.monitor.recv_monitor_message`` (libzmq zmq_socket_monitor,
v1 events; see OPTIONS.md section 5).

* each event is two frames: ``event u16 | value u32`` (host order, 6 bytes)
  and the endpoint string; MONITOR_STOPPED has an empty endpoint;
* connect side: CONNECT_DELAYED (tcp) -> CONNECTED -> HANDSHAKE_SUCCEEDED,
  then DISCONNECTED -> CONNECT_RETRIED when the peer goes away;
* bind side: LISTENING; per peer ACCEPTED -> HANDSHAKE_SUCCEEDED ...
  DISCONNECTED; unbind gives CLOSED;
* the event mask filters; the monitor endpoint must be inproc.
"""

import struct

import pytest

from pattern_helpers import monitor_module, raises_errno

NET = ["tcp", "ipc"]


@pytest.fixture
def watch(zmq):
    """``watch(socket, events=None)`` -> its monitor socket, with a receive timeout."""
    def start(s, events=None):
        mon = s.get_monitor_socket() if events is None else s.get_monitor_socket(events)
        mon.setsockopt(zmq.RCVTIMEO, 5000)
        mon.setsockopt(zmq.LINGER, 0)
        return mon
    return start


@pytest.fixture
def next_event(zmq):
    """``next_event(monitor)`` -> (event, value, endpoint str), failing after 5 s."""
    recv_monitor_message = monitor_module(zmq).recv_monitor_message

    def get(mon):
        try:
            msg = recv_monitor_message(mon)
        except zmq.Again:
            pytest.fail("no monitor event within 5 s")
        endpoint = msg["endpoint"]
        if isinstance(endpoint, bytes):
            endpoint = endpoint.decode()
        return int(msg["event"]), int(msg["value"]), endpoint
    return get


def events_until(next_event, mon, last):
    """Events (event, value, endpoint) up to and including the first *last*."""
    seen = []
    while not seen or seen[-1][0] != last:
        seen.append(next_event(mon))
    return seen


def test_bind_gives_listening(zmq, sock, endpoint, watch, next_event):
    """"bind side: LISTENING"; the value of LISTENING is the listening fd."""
    s = sock(zmq.PULL)
    mon = watch(s)
    addr = endpoint.bind(s, "tcp")
    event, value, where = next_event(mon)
    assert (event, where) == (zmq.EVENT_LISTENING, addr)
    assert value >= 0


@pytest.mark.parametrize("transport", NET)
def test_connect_side_sequence(zmq, sock, endpoint, transport, watch, next_event):
    """"connect side: CONNECT_DELAYED -> CONNECTED -> HANDSHAKE_SUCCEEDED" (ipc connects at
    once, without CONNECT_DELAYED)."""
    server = sock(zmq.PULL)
    addr = endpoint.bind(server, transport)
    client = sock(zmq.PUSH)
    mon = watch(client)
    client.connect(addr)
    seen = events_until(next_event, mon, zmq.EVENT_HANDSHAKE_SUCCEEDED)
    names = [e for e, _, _ in seen]
    expected = [zmq.EVENT_CONNECTED, zmq.EVENT_HANDSHAKE_SUCCEEDED]
    if transport == "tcp":
        expected.insert(0, zmq.EVENT_CONNECT_DELAYED)
    assert names == expected
    assert all(where == addr for _, _, where in seen)
    assert seen[-1][1] == 0


@pytest.mark.parametrize("transport", NET)
def test_bind_side_sequence(zmq, sock, endpoint, transport, watch, next_event):
    """"bind side: LISTENING; for each peer ACCEPTED -> HANDSHAKE_SUCCEEDED ...
    DISCONNECTED"."""
    server = sock(zmq.PULL)
    mon = watch(server)
    addr = endpoint.bind(server, transport)
    client = sock(zmq.PUSH)
    client.connect(addr)
    seen = events_until(next_event, mon, zmq.EVENT_HANDSHAKE_SUCCEEDED)
    assert [e for e, _, _ in seen] == \
        [zmq.EVENT_LISTENING, zmq.EVENT_ACCEPTED, zmq.EVENT_HANDSHAKE_SUCCEEDED]
    accepted_fd = seen[1][1]
    client.close()
    assert next_event(mon) == (zmq.EVENT_DISCONNECTED, accepted_fd, addr)
    assert all(where == addr for _, _, where in seen)


def test_peer_loss_gives_disconnected_then_connect_retried(zmq, sock, endpoint, watch,
                                                           next_event):
    """"when the peer goes away: DISCONNECTED -> CONNECT_RETRIED(ivl)"; with RECONNECT_IVL_MAX
    0 the interval carries a jitter below one more RECONNECT_IVL."""
    server = sock(zmq.PULL)
    addr = endpoint.bind(server, "tcp")
    client = sock(zmq.PUSH, reconnect_ivl=50)
    mon = watch(client)
    client.connect(addr)
    events_until(next_event, mon, zmq.EVENT_HANDSHAKE_SUCCEEDED)
    server.close()
    event, _, where = next_event(mon)
    assert (event, where) == (zmq.EVENT_DISCONNECTED, addr)
    event, value, where = next_event(mon)
    assert (event, where) == (zmq.EVENT_CONNECT_RETRIED, addr)
    assert 50 <= value < 100


def test_refused_connect_is_retried(zmq, sock, endpoint, watch, next_event):
    addr = endpoint.fixed("tcp")  # nobody listens there
    client = sock(zmq.PUSH, reconnect_ivl=20)
    mon = watch(client)
    client.connect(addr)
    seen = events_until(next_event, mon, zmq.EVENT_CONNECT_RETRIED)
    assert seen[0][0] == zmq.EVENT_CONNECT_DELAYED
    assert zmq.EVENT_CONNECTED not in [e for e, _, _ in seen]
    assert all(where == addr for _, _, where in seen)


@pytest.mark.parametrize("transport", NET)
def test_unbind_gives_closed(zmq, sock, endpoint, transport, watch, next_event):
    """"zmq_unbind / close of a listener: CLOSED"."""
    server = sock(zmq.PULL)
    mon = watch(server)
    addr = endpoint.bind(server, transport)
    assert next_event(mon)[0] == zmq.EVENT_LISTENING
    server.unbind(addr)
    event, _, where = next_event(mon)
    assert (event, where) == (zmq.EVENT_CLOSED, addr)


def test_disable_monitor_sends_monitor_stopped(zmq, sock, endpoint, watch, next_event):
    """"endpoint = NULL stops the monitor (and sends MONITOR_STOPPED ...)"; its endpoint frame
    is empty."""
    s = sock(zmq.PULL)
    mon = watch(s)
    endpoint.bind(s, "tcp")
    assert next_event(mon)[0] == zmq.EVENT_LISTENING
    s.disable_monitor()
    assert next_event(mon) == (zmq.EVENT_MONITOR_STOPPED, 0, "")


def test_closing_socket_sends_monitor_stopped(zmq, sock, endpoint, watch, next_event):
    """"closing the monitored socket does the same" (MONITOR_STOPPED)."""
    s = sock(zmq.PULL)
    mon = watch(s)
    endpoint.bind(s, "ipc")
    s.close()
    seen = events_until(next_event, mon, zmq.EVENT_MONITOR_STOPPED)
    assert seen[-1] == (zmq.EVENT_MONITOR_STOPPED, 0, "")


def test_event_mask_filters(zmq, sock, endpoint, watch, next_event):
    server = sock(zmq.PULL)
    mon = watch(server, zmq.EVENT_ACCEPTED | zmq.EVENT_DISCONNECTED)
    addr = endpoint.bind(server, "tcp")
    client = sock(zmq.PUSH)
    client.connect(addr)
    event, fd, _ = next_event(mon)
    assert event == zmq.EVENT_ACCEPTED
    client.close()
    assert next_event(mon) == (zmq.EVENT_DISCONNECTED, fd, addr)


def test_event_message_has_two_frames(zmq, sock, endpoint, watch):
    """v1 format: "exactly 2 frames": "event u16 | value u32 -- both in HOST byte order",
    then the "endpoint string, no NUL"."""
    s = sock(zmq.PULL)
    mon = watch(s, zmq.EVENT_LISTENING)
    addr = endpoint.bind(s, "tcp")
    head, where = mon.recv_multipart()
    assert len(head) == 6
    event, value = struct.unpack("=HI", head)
    assert event == zmq.EVENT_LISTENING
    assert value >= 0
    assert where == addr.encode()


def test_monitor_method_with_own_pair(zmq, ctx, sock, endpoint, next_event):
    """Socket.monitor(addr, events) publishes on inproc addr; monitor(None) stops it."""
    s = sock(zmq.PULL)
    s.monitor("inproc://watch-this", zmq.EVENT_ALL)
    reader = ctx.socket(zmq.PAIR)
    try:
        reader.setsockopt(zmq.RCVTIMEO, 5000)
        reader.connect("inproc://watch-this")
        addr = endpoint.bind(s, "tcp")
        event, _, where = next_event(reader)
        assert (event, where) == (zmq.EVENT_LISTENING, addr)
        s.monitor(None)
        assert next_event(reader) == (zmq.EVENT_MONITOR_STOPPED, 0, "")
    finally:
        reader.close(linger=0)


def test_monitor_endpoint_must_be_inproc(zmq, sock):
    """"The endpoint must be inproc:// (else EPROTONOSUPPORT)"."""
    s = sock(zmq.PULL)
    raises_errno(lambda: s.monitor("tcp://127.0.0.1:5555", zmq.EVENT_ALL), zmq.EPROTONOSUPPORT)
