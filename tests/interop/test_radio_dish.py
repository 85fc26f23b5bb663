"""RADIO/DISH against the reference libzmq (tests/libzmq_ref.py), both
ways: over tcp and ipc (ZMTP 3.1, group frame + body, JOIN/LEAVE
commands), over udp (libzmq's datagram layout, unicast on 127.0.0.1) and
over udp multicast across two network namespaces (tests/fault/netns.py).
Groups are filtered on both sides, joins and leaves apply during the
session, and the limits are libzmq's: groups of 255 bytes, datagrams of
8192 bytes."""

import errno
import time

import pytest


def wait_joined(send, recv, group, timeout=5.0):
    """Sends probes on `group` until one arrives: the join has reached the
    RADIO (JOINs travel on their own, there is nothing else to wait on).
    Returns nothing; the probes are consumed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        send(b"probe", group)
        try:
            got = recv(0.1)
        except TimeoutError:
            continue
        if got is not None:
            # drain any further probes
            while recv(0.05) is not None:
                pass
            return
    raise AssertionError(f"join of {group!r} never took effect")


# ---------------------------------------------------------------- helpers per side

def ours_recv(zmq, dish):
    def recv(timeout):
        if dish.poll(int(timeout * 1000)):
            f = dish.recv(copy=False)
            return f.bytes, f.group
        return None
    return recv


def ref_recv(ref, dish):
    def recv(timeout):
        dish.setsockopt(ref.RCVTIMEO, int(timeout * 1000))
        try:
            m = dish.recv()
        except ref.RefError as e:
            if ref.is_again(e):
                return None
            raise
        return m.data, m.group.decode()
    return recv


def ours_send(radio):
    return lambda data, group: radio.send(data, group=group)


def ref_send(radio):
    return lambda data, group: radio.send(data, group=group)


def stream_addr(endpoint, transport):
    return endpoint.fixed(transport)


# ---------------------------------------------------------------- tcp / ipc

@pytest.mark.parametrize("transport", ["tcp", "ipc"])
def test_our_radio_to_libzmq_dish(zmq, ref, refctx, sock, endpoint, transport):
    radio = sock(zmq.RADIO)
    addr = endpoint.bind(radio, transport)
    dish = refctx.socket(ref.DISH)
    dish.connect(addr)
    dish.join(b"weather")
    dish.join(b"a" * 255)
    send, recv = ours_send(radio), ref_recv(ref, dish)
    wait_joined(send, recv, "weather")
    radio.send(b"not joined", group="sport")
    radio.send(b"sunny", group="weather")
    radio.send(b"", group="weather")
    radio.send(b"long", group="a" * 255)
    assert recv(5) == (b"sunny", "weather")
    assert recv(5) == (b"", "weather")
    assert recv(5) == (b"long", "a" * 255)
    assert recv(0.2) is None
    # a leave during the session stops the group at the RADIO
    dish.leave(b"weather")
    dish.join(b"news")
    wait_joined(send, recv, "news")
    radio.send(b"gone", group="weather")
    radio.send(b"x" * 100000, group="news")
    assert recv(5) == (b"x" * 100000, "news")
    assert recv(0.2) is None


@pytest.mark.parametrize("transport", ["tcp", "ipc"])
def test_libzmq_radio_to_our_dish(zmq, ref, refctx, sock, endpoint, transport):
    radio = refctx.socket(ref.RADIO)
    radio.bind(endpoint.fixed(transport))
    dish = sock(zmq.DISH)
    dish.connect(radio.last_endpoint)
    dish.join("weather")
    dish.join(b"b" * 255)
    send, recv = ref_send(radio), ours_recv(zmq, dish)
    wait_joined(send, recv, "weather")
    radio.send(b"not joined", group=b"sport")
    radio.send(b"sunny", group=b"weather")
    radio.send(b"", group=b"weather")
    radio.send(b"long", group=b"b" * 255)
    assert recv(5) == (b"sunny", "weather")
    assert recv(5) == (b"", "weather")
    assert recv(5) == (b"long", "b" * 255)
    assert recv(0.2) is None
    dish.leave(b"weather")
    dish.join("news")
    wait_joined(send, recv, "news")
    radio.send(b"gone", group=b"weather")
    radio.send(b"y" * 100000, group=b"news")
    assert recv(5) == (b"y" * 100000, "news")
    assert recv(0.2) is None


def test_our_dish_binds_libzmq_radio_connects_and_reconnects(zmq, ref, refctx, sock, endpoint):
    """The DISH's groups are sent again on every new connection."""
    dish = sock(zmq.DISH)
    addr = endpoint.bind(dish, "tcp")
    dish.join("g")
    send_recv = ours_recv(zmq, dish)
    for _ in range(2):
        radio = refctx.socket(ref.RADIO)
        radio.connect(addr)
        wait_joined(ref_send(radio), send_recv, "g")
        radio.send(b"hello", group=b"g")
        assert send_recv(5) == (b"hello", "g")
        radio.close()


def test_libzmq_dish_joins_reach_our_radio_after_reconnect(zmq, ref, refctx, sock, endpoint):
    radio = sock(zmq.RADIO)
    addr = endpoint.fixed("tcp")
    dish = refctx.socket(ref.DISH)
    dish.bind(addr)
    dish.join(b"g")
    radio.connect(addr)
    recv = ref_recv(ref, dish)
    wait_joined(ours_send(radio), recv, "g")
    dish.close()
    dish = refctx.socket(ref.DISH)
    deadline = time.monotonic() + 5
    while True:     # libzmq lets go of the port in its own time
        try:
            dish.bind(addr)
            break
        except ref.RefError as e:
            if e.errno != errno.EADDRINUSE or time.monotonic() > deadline:
                raise
            time.sleep(0.05)
    dish.join(b"g")
    recv = ref_recv(ref, dish)
    wait_joined(ours_send(radio), recv, "g")
    radio.send(b"again", group="g")
    assert recv(5) == (b"again", "g")
