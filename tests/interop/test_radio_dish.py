"""RADIO/DISH against the reference libzmq (tests/libzmq_ref.py), both
ways: over tcp and ipc (ZMTP 3.1, group frame + body, JOIN/LEAVE
commands), over udp (libzmq's datagram layout, unicast on 127.0.0.1 and
[::1]) and over udp multicast, IPv4 and IPv6, across two network namespaces
(tests/fault/netns.py).
Groups are filtered on both sides, joins and leaves apply during the
session, and the limits are libzmq's: groups of 255 bytes, datagrams of
8192 bytes."""

import errno
import os
import pathlib
import socket
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


# ---------------------------------------------------------------- udp unicast

def free_udp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


UDP_BODY_MAX = 8192 - 1     # libzmq's datagram buffer less the group length byte


def test_our_radio_to_libzmq_dish_over_udp(zmq, ref, refctx, sock):
    addr = f"udp://127.0.0.1:{free_udp_port()}"
    dish = refctx.socket(ref.DISH)
    dish.bind(addr)
    dish.join(b"weather")
    dish.join(b"c" * 127)
    radio = sock(zmq.RADIO)
    radio.connect(addr)
    recv = ref_recv(ref, dish)
    wait_joined(ours_send(radio), recv, "weather")     # the socket is bound once this arrives
    radio.send(b"not joined", group="sport")
    radio.send(b"sunny", group="weather")
    radio.send(b"", group="weather")
    # (libzmq reads the length byte as a signed char: its DISH cannot take
    # groups over 127 bytes; ours can, see below)
    radio.send(b"long", group="c" * 127)
    radio.send(b"x" * (UDP_BODY_MAX - 7), group="weather")
    assert recv(5) == (b"sunny", "weather")
    assert recv(5) == (b"", "weather")
    assert recv(5) == (b"long", "c" * 127)
    assert recv(5) == (b"x" * (UDP_BODY_MAX - 7), "weather")
    assert recv(0.2) is None
    dish.leave(b"weather")
    radio.send(b"left", group="weather")
    radio.send(b"still", group="c" * 127)
    assert recv(5) == (b"still", "c" * 127)
    assert recv(0.2) is None


def test_libzmq_radio_to_our_dish_over_udp(zmq, ref, refctx, sock):
    addr = f"udp://127.0.0.1:{free_udp_port()}"
    dish = sock(zmq.DISH)
    dish.bind(addr)
    dish.join("weather")
    dish.join("d" * 255)
    radio = refctx.socket(ref.RADIO)
    radio.connect(addr)
    recv = ours_recv(zmq, dish)
    wait_joined(ref_send(radio), recv, "weather")
    radio.send(b"not joined", group=b"sport")
    radio.send(b"sunny", group=b"weather")
    radio.send(b"", group=b"weather")
    radio.send(b"long", group=b"d" * 255)
    radio.send(b"y" * (UDP_BODY_MAX - 7), group=b"weather")
    assert recv(5) == (b"sunny", "weather")
    assert recv(5) == (b"", "weather")
    assert recv(5) == (b"long", "d" * 255)
    assert recv(5) == (b"y" * (UDP_BODY_MAX - 7), "weather")
    assert recv(0.2) is None
    dish.leave("weather")
    dish.join("news")
    radio.send(b"left", group=b"weather")
    radio.send(b"fresh", group=b"news")
    assert recv(5) == (b"fresh", "news")
    assert recv(0.2) is None


def refusals(zmq, ref, refctx, sock, ours_type, their_type, how, addr):
    """The errnos with which a socket of each library refuses to `how`
    ("bind" or "connect") to addr; both must refuse."""
    theirs = refctx.socket(their_type)
    with pytest.raises(ref.RefError) as info:
        getattr(theirs, how)(addr)
    ours = sock(ours_type)
    with pytest.raises(zmq.ZMQError) as mine:
        getattr(ours, how)(addr)
    return mine.value.errno, info.value.errno


def test_udp_is_for_radio_and_dish_only_as_libzmq(zmq, ref, refctx, sock):
    addr = f"udp://127.0.0.1:{free_udp_port()}"
    cases = [(zmq.PUB, ref.PUB, "bind"), (zmq.SUB, ref.SUB, "connect"),
             (zmq.RADIO, ref.RADIO, "bind"), (zmq.DISH, ref.DISH, "connect")]
    for ours_type, their_type, how in cases:
        mine, theirs = refusals(zmq, ref, refctx, sock, ours_type, their_type, how, addr)
        assert mine == theirs == zmq.ENOCOMPATPROTO


# ---------------------------------------------------------------- udp over IPv6

def free_udp6_port():
    with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as s:
        s.bind(("::1", 0))
        return s.getsockname()[1]


def ref_socket_ipv6(ref, refctx, kind):
    s = refctx.socket(kind)
    s.setsockopt(ref.IPV6, 1)
    return s


def test_our_radio_to_libzmq_dish_over_udp_ipv6(zmq, ref, refctx, sock):
    addr = f"udp://[::1]:{free_udp6_port()}"
    dish = ref_socket_ipv6(ref, refctx, ref.DISH)
    dish.bind(addr)
    dish.join(b"weather")
    radio = sock(zmq.RADIO, ipv6=1)
    radio.connect(addr)
    recv = ref_recv(ref, dish)
    wait_joined(ours_send(radio), recv, "weather")
    radio.send(b"not joined", group="sport")
    for i in range(10):
        radio.send(b"v6 %d" % i, group="weather")
    radio.send(b"x" * (UDP_BODY_MAX - 7), group="weather")
    assert [recv(5) for _ in range(11)] == \
        [(b"v6 %d" % i, "weather") for i in range(10)] + [(b"x" * (UDP_BODY_MAX - 7), "weather")]
    assert recv(0.2) is None


def test_libzmq_radio_to_our_dish_over_udp_ipv6(zmq, ref, refctx, sock):
    addr = f"udp://[::1]:{free_udp6_port()}"
    dish = sock(zmq.DISH, ipv6=1)
    dish.bind(addr)
    dish.join("weather")
    dish.join("d" * 255)
    radio = ref_socket_ipv6(ref, refctx, ref.RADIO)
    radio.connect(addr)
    recv = ours_recv(zmq, dish)
    wait_joined(ref_send(radio), recv, "weather")
    radio.send(b"not joined", group=b"sport")
    for i in range(10):
        radio.send(b"v6 %d" % i, group=b"weather")
    radio.send(b"long", group=b"d" * 255)
    assert [recv(5) for _ in range(11)] == \
        [(b"v6 %d" % i, "weather") for i in range(10)] + [(b"long", "d" * 255)]
    assert recv(0.2) is None


def test_udp_ipv6_address_without_the_option_is_refused_as_libzmq(zmq, ref, refctx, sock):
    addr = f"udp://[::1]:{free_udp6_port()}"
    for ours_type, their_type, how in [(zmq.DISH, ref.DISH, "bind"), (zmq.RADIO, ref.RADIO, "connect")]:
        mine, theirs = refusals(zmq, ref, refctx, sock, ours_type, their_type, how, addr)
        assert mine == theirs, how


# ---------------------------------------------------------------- udp multicast

MCAST_PORT = 5600

# The reference peer inside the namespace: a libzmq RADIO that sends "n"
# on group "mc" until stdin closes, or a DISH that prints what it gets
# (the endpoint, then 1 to set IPV6).
REF_RADIO = r"""
import sys, time
sys.path.insert(0, sys.argv[1])
import libzmq_ref as ref
ref.load()
ctx = ref.Context()
r = ctx.socket(ref.RADIO)
r.setsockopt(ref.IPV6, int(sys.argv[3]) if len(sys.argv) > 3 else 0)
r.connect(sys.argv[2])
print("ready", flush=True)
n = 0
while True:
    r.send(b"from libzmq %d" % n, group=b"mc")
    r.send(b"other", group=b"not-joined")
    n += 1
    time.sleep(0.02)
"""

REF_DISH = r"""
import sys
sys.path.insert(0, sys.argv[1])
import libzmq_ref as ref
ref.load()
ctx = ref.Context()
d = ctx.socket(ref.DISH, rcvtimeo=10000)
d.setsockopt(ref.IPV6, int(sys.argv[3]) if len(sys.argv) > 3 else 0)
d.bind(sys.argv[2])
d.join(b"mc")
print("ready", flush=True)
while True:
    m = d.recv()
    print("got", m.group.decode(), m.data.decode(), flush=True)
"""


@pytest.fixture
def mcast_host():
    from fault.netns import NetnsHost, netns_unavailable
    reason = netns_unavailable()
    if reason:
        pytest.fail(f"multicast tests need network namespaces: {reason}")
    host = NetnsHost()
    try:
        yield host
    finally:
        host.close()


def mcast_group():
    return f"239.192.{os.getpid() % 250 + 1}.{(os.getpid() // 250) % 250 + 1}"


TESTS_DIR = str(pathlib.Path(__file__).resolve().parent.parent)


def assert_libzmq_dish_hears_only_its_group(radio, peer):
    """Multicast from our RADIO to the reference DISH in the namespace
    (joined to "mc"): sent until it has heard three, with another group's
    message before each; it reports only "mc"'s."""
    deadline = time.monotonic() + 10
    n = 0
    seen = []
    while len(seen) < 3 and time.monotonic() < deadline:
        radio.send(b"other", group="not-joined")
        radio.send(b"from mqcore %d" % n, group="mc")
        n += 1
        try:
            seen.append(peer.expect("got", timeout=0.05))
        except pytest.fail.Exception:
            pass
    assert len(seen) >= 3, seen
    assert all(line.startswith("got mc from mqcore ") for line in seen), seen


def hears_itself(radio, dish, timeout):
    """Whether a DISH on the sending host hears the RADIO's multicast to
    "mc" within timeout seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        radio.send(b"self", group="mc")
        if dish.poll(50):
            return True
    return False


def test_libzmq_radio_multicast_to_our_dish_across_namespaces(zmq, sock, mcast_host):
    group = mcast_group()
    mcast_host.route_multicast(group)
    dish = sock(zmq.DISH)
    dish.bind(f"udp://{mcast_host.local_addr};{group}:{MCAST_PORT}")
    dish.join("mc")
    peer = mcast_host.start(REF_RADIO, [TESTS_DIR, f"udp://{mcast_host.addr};{group}:{MCAST_PORT}"])
    peer.expect("ready")
    recv = ours_recv(zmq, dish)
    got = [recv(5) for _ in range(3)]
    assert all(g == "mc" and data.startswith(b"from libzmq ") for data, g in got), got


def test_our_radio_multicast_to_libzmq_dish_across_namespaces(zmq, sock, mcast_host):
    group = mcast_group()
    mcast_host.route_multicast(group)
    peer = mcast_host.start(REF_DISH, [TESTS_DIR, f"udp://{mcast_host.addr};{group}:{MCAST_PORT}"])
    peer.expect("ready")
    radio = sock(zmq.RADIO)
    radio.connect(f"udp://{mcast_host.local_addr};{group}:{MCAST_PORT}")
    assert_libzmq_dish_hears_only_its_group(radio, peer)


@pytest.mark.parametrize("loop", [1, 0])
def test_multicast_loop_decides_whether_this_host_hears_itself(zmq, sock, mcast_host, loop):
    """MULTICAST_LOOP as libzmq sets it (IP_MULTICAST_LOOP): a DISH on the
    sending host hears the group only with it on."""
    group = mcast_group()
    mcast_host.route_multicast(group)
    dish = sock(zmq.DISH)
    dish.bind(f"udp://{mcast_host.local_addr};{group}:{MCAST_PORT}")
    dish.join("mc")
    radio = sock(zmq.RADIO, multicast_loop=loop)
    radio.connect(f"udp://{mcast_host.local_addr};{group}:{MCAST_PORT}")
    assert hears_itself(radio, dish, timeout=5 if loop else 1) == bool(loop)


# IPv6 multicast: the interface by name (IPv6 multicast membership and
# sending go by interface index; libzmq takes it from the name before ';'),
# over the veth's link-local addresses, link-local (ff02::) and site-local
# (ff05::) groups. Both sides set IPV6.

def mcast6_group(scope):
    return f"{scope}::db8:{os.getpid() % 0xffff:x}"


@pytest.mark.parametrize("scope", ["ff02", "ff05"])
def test_libzmq_radio_ipv6_multicast_to_our_dish_across_namespaces(zmq, sock, mcast_host, scope):
    group = mcast6_group(scope)
    mcast_host.wait_ipv6_link_local()
    dish = sock(zmq.DISH, ipv6=1)
    dish.bind(f"udp://{mcast_host.host_if};[{group}]:{MCAST_PORT}")
    dish.join("mc")
    peer = mcast_host.start(REF_RADIO, [TESTS_DIR, f"udp://{mcast_host.peer_if};[{group}]:{MCAST_PORT}", "1"])
    peer.expect("ready")
    recv = ours_recv(zmq, dish)
    got = [recv(5) for _ in range(3)]
    assert all(g == "mc" and data.startswith(b"from libzmq ") for data, g in got), got


@pytest.mark.parametrize("scope", ["ff02", "ff05"])
def test_our_radio_ipv6_multicast_to_libzmq_dish_across_namespaces(zmq, sock, mcast_host, scope):
    group = mcast6_group(scope)
    mcast_host.wait_ipv6_link_local()
    peer = mcast_host.start(REF_DISH, [TESTS_DIR, f"udp://{mcast_host.peer_if};[{group}]:{MCAST_PORT}", "1"])
    peer.expect("ready")
    radio = sock(zmq.RADIO, ipv6=1)
    radio.connect(f"udp://{mcast_host.host_if};[{group}]:{MCAST_PORT}")
    assert_libzmq_dish_hears_only_its_group(radio, peer)


@pytest.mark.parametrize("loop", [1, 0])
def test_ipv6_multicast_loop_decides_whether_this_host_hears_itself(zmq, sock, mcast_host, loop):
    """MULTICAST_LOOP over IPv6 (IPV6_MULTICAST_LOOP), mqcore to mqcore on
    one interface: heard only with it on."""
    group = mcast6_group("ff02")
    mcast_host.wait_ipv6_link_local()
    ep = f"udp://{mcast_host.host_if};[{group}]:{MCAST_PORT}"
    dish = sock(zmq.DISH, ipv6=1)
    dish.bind(ep)
    dish.join("mc")
    radio = sock(zmq.RADIO, ipv6=1, multicast_loop=loop)
    radio.connect(ep)
    assert hears_itself(radio, dish, timeout=5 if loop else 1) == bool(loop)
