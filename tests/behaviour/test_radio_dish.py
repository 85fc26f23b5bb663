"""RADIO and DISH, mqcore to mqcore, over inproc, tcp, ipc and udp: groups
on messages, join/leave, filtering on both sides, the single-part rule,
what each side refuses (as libzmq: DISH send and RADIO recv ENOTSUP,
multipart EINVAL, groups over 255 bytes EINVAL), RADIO never blocking,
JOINs sent again after a reconnect, and udp's datagrams (libzmq's layout,
malformed ones dropped with nothing else lost), over IPv4 and IPv6."""

import copy
import errno
import socket
import time

import pytest


def free_udp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def free_udp6_port():
    with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as s:
        s.bind(("::1", 0))
        return s.getsockname()[1]


def pair(zmq, sock, endpoint, transport):
    """A RADIO and a DISH joined over transport (RADIO binds, except over
    udp where only DISH may)."""
    radio = sock(zmq.RADIO)
    dish = sock(zmq.DISH)
    if transport == "udp":
        addr = f"udp://127.0.0.1:{free_udp_port()}"
        dish.bind(addr)
        radio.connect(addr)
    else:
        addr = endpoint.bind(radio, transport)
        dish.connect(addr)
    return radio, dish


def wait_joined(radio, dish, group, timeout=5.0):
    """Probes until the join reached the RADIO (the probes are consumed)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        radio.send(b"probe", group=group)
        if dish.poll(50):
            while dish.poll(50):
                dish.recv()
            return
    raise AssertionError(f"join of {group!r} never took effect")


def recv_frame(dish, timeout_ms=5000):
    assert dish.poll(timeout_ms), "nothing arrived"
    f = dish.recv(copy=False)
    return f.bytes, f.group


TRANSPORTS = ["inproc", "tcp", "ipc", "udp"]


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_groups_are_filtered_and_travel_with_the_message(zmq, sock, endpoint, transport):
    radio, dish = pair(zmq, sock, endpoint, transport)
    dish.join("a")
    dish.join(b"g" * 255)
    wait_joined(radio, dish, "a")
    radio.send(b"not for us", group="b")
    radio.send(b"one", group="a")
    radio.send(b"", group="a")
    radio.send(b"long group", group="g" * 255)
    radio.send(b"no group")             # the group "" nobody joined
    assert recv_frame(dish) == (b"one", "a")
    assert recv_frame(dish) == (b"", "a")
    assert recv_frame(dish) == (b"long group", "g" * 255)
    assert not dish.poll(200)


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_join_and_leave_during_the_session(zmq, sock, endpoint, transport):
    radio, dish = pair(zmq, sock, endpoint, transport)
    dish.join("a")
    wait_joined(radio, dish, "a")
    dish.leave("a")
    dish.join("b")
    wait_joined(radio, dish, "b")
    radio.send(b"left", group="a")
    radio.send(b"joined", group="b")
    assert recv_frame(dish) == (b"joined", "b")
    assert not dish.poll(200)


@pytest.mark.parametrize("transport", ["inproc", "tcp"])
def test_radio_sends_only_where_joined(zmq, sock, endpoint, transport):
    """Each DISH gets its own groups: the RADIO's map, not only the DISH's
    filter (a DISH that joined nothing gets nothing, even over tcp)."""
    radio = sock(zmq.RADIO)
    addr = endpoint.bind(radio, transport)
    dishes = [sock(zmq.DISH) for _ in range(3)]
    for d, g in zip(dishes, ["x", "y", None]):
        d.connect(addr)
        if g:
            d.join(g)
    wait_joined(radio, dishes[0], "x")
    wait_joined(radio, dishes[1], "y")
    radio.send(b"to x", group="x")
    radio.send(b"to y", group="y")
    assert recv_frame(dishes[0]) == (b"to x", "x")
    assert recv_frame(dishes[1]) == (b"to y", "y")
    assert not dishes[2].poll(200)
    assert not dishes[0].poll(0) and not dishes[1].poll(0)


def test_what_each_side_refuses(zmq, sock, endpoint):
    radio, dish = pair(zmq, sock, endpoint, "inproc")
    with pytest.raises(zmq.ZMQError) as e:
        dish.send(b"x")
    assert e.value.errno == zmq.ENOTSUP
    with pytest.raises(zmq.ZMQError) as e:
        radio.recv()
    assert e.value.errno == zmq.ENOTSUP
    with pytest.raises(zmq.ZMQError) as e:
        radio.send(b"x", zmq.SNDMORE, group="a")
    assert e.value.errno == zmq.EINVAL
    for bad in ("a" * 256, b"b" * 256):
        with pytest.raises(zmq.ZMQError) as e:
            dish.join(bad)
        assert e.value.errno == zmq.EINVAL
        with pytest.raises(zmq.ZMQError) as e:
            radio.send(b"x", group=bad)
        assert e.value.errno == zmq.EINVAL
    dish.join("twice")
    with pytest.raises(zmq.ZMQError) as e:
        dish.join("twice")
    assert e.value.errno == zmq.EINVAL
    with pytest.raises(zmq.ZMQError) as e:
        dish.leave("never joined")
    assert e.value.errno == zmq.EINVAL
    other = sock(zmq.SUB)
    with pytest.raises(zmq.ZMQError) as e:
        other.join("a")
    assert e.value.errno == zmq.ENOTSUP


def test_frame_group_is_settable_and_sent(zmq, sock, endpoint):
    radio, dish = pair(zmq, sock, endpoint, "inproc")
    dish.join("framed")
    wait_joined(radio, dish, "framed")
    f = zmq.Frame(b"body")
    assert f.group == ""
    f.group = "framed"
    assert f.group == "framed" and f.get("group") == "framed"
    radio.send(f)
    got = dish.recv(copy=False)
    assert (got.bytes, got.group) == (b"body", "framed")
    assert copy.copy(got).group == "framed"
    radio.send(got)                         # a received frame sent on keeps its group
    assert recv_frame(dish) == (b"body", "framed")
    got.group = b"changed"
    assert got.group == "changed"
    with pytest.raises(zmq.ZMQError):
        got.group = "x" * 256
    # a group ends at its first NUL, as libzmq's C strings
    radio.send(b"cut", group=b"framed\0tail")
    assert recv_frame(dish) == (b"cut", "framed")


def test_radio_never_blocks_and_drops_at_hwm(zmq, sock, endpoint):
    radio = sock(zmq.RADIO, sndhwm=10)
    dish = sock(zmq.DISH, rcvhwm=10)
    addr = endpoint.bind(radio, "inproc")
    dish.connect(addr)
    dish.join("a")
    wait_joined(radio, dish, "a")
    for i in range(1000):
        radio.send(b"%d" % i, group="a", flags=zmq.NOBLOCK)
    got = []
    while dish.poll(200):
        got.append(dish.recv())
    assert 0 < len(got) < 1000
    assert got == sorted(got, key=int)      # what arrives, in order


def test_joins_are_sent_again_after_a_reconnect(zmq, sock, endpoint):
    """The DISH connects; its RADIO goes away and comes back on the same
    address: the groups it joined reach the new RADIO without a new join."""
    addr = endpoint.fixed("tcp")
    dish = sock(zmq.DISH, reconnect_ivl=20)
    dish.connect(addr)
    dish.join("kept")
    radio = sock(zmq.RADIO)
    radio.bind(addr)
    wait_joined(radio, dish, "kept")
    radio.close(linger=0)
    radio = sock(zmq.RADIO)
    deadline = time.monotonic() + 5
    while True:
        try:
            radio.bind(addr)
            break
        except zmq.ZMQError:
            assert time.monotonic() < deadline
            time.sleep(0.05)
    wait_joined(radio, dish, "kept")
    radio.send(b"after", group="kept")
    assert recv_frame(dish) == (b"after", "kept")


def test_udp_drops_malformed_datagrams_and_keeps_the_rest(zmq, sock):
    port = free_udp_port()
    dish = sock(zmq.DISH)
    dish.bind(f"udp://127.0.0.1:{port}")
    dish.join("g")
    bad = [b"", b"\x05abc", b"\xff" + b"g" * 254, b"\x02g"]
    good = [b"\x01g" + b"first", b"\x01gsecond", b"\x01g", b"\x01g" + b"z" * 8190]
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as raw:
        # the bind happens in the io thread: probe until it is there
        deadline = time.monotonic() + 5
        while True:
            raw.sendto(b"\x01gprobe", ("127.0.0.1", port))
            if dish.poll(50):
                break
            assert time.monotonic() < deadline
        while dish.poll(50):
            dish.recv()
        # a datagram over libzmq's 8192 bytes is cut by the receiver: dropped
        too_long = b"\x01g" + b"L" * 9000
        for d in [bad[0], good[0], bad[1], bad[2], too_long, good[1], bad[3], good[2], good[3]]:
            raw.sendto(d, ("127.0.0.1", port))
    assert recv_frame(dish) == (b"first", "g")
    assert recv_frame(dish) == (b"second", "g")
    assert recv_frame(dish) == (b"", "g")
    assert recv_frame(dish) == (b"z" * 8190, "g")
    assert not dish.poll(200)


def raw_to_dish(zmq, sock, groups, rcvhwm=None):
    """A DISH bound to udp, joined to groups, and a raw udp socket that
    reaches it (probed until the bind is there; the probes are consumed)."""
    port = free_udp_port()
    dish = sock(zmq.DISH)
    if rcvhwm is not None:
        dish.rcvhwm = rcvhwm
    dish.bind(f"udp://127.0.0.1:{port}")
    for g in groups:
        dish.join(g)
    raw = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    deadline = time.monotonic() + 5
    while True:
        raw.sendto(b"\x01" + groups[0].encode() + b"probe", ("127.0.0.1", port))
        if dish.poll(50):
            break
        assert time.monotonic() < deadline
    while dish.poll(50):
        dish.recv()
    return dish, raw, ("127.0.0.1", port)


def test_udp_batch_keeps_order_groups_and_drops_only_the_bad(zmq, sock):
    """Datagrams sent in one burst are read in batches (recvmmsg): a
    truncated or malformed one between good ones is dropped alone, and each
    good one keeps its own group, also when the group changes from one
    datagram to the next (a group is shared with the next of that group)."""
    dish, raw, to = raw_to_dish(zmq, sock, ["g", "hh"])
    with raw:
        sent = []
        for i in range(40):
            g = [b"g", b"hh", b"other"][i % 3]
            raw.sendto(bytes([len(g)]) + g + b"%d" % i, to)
            if g != b"other":
                sent.append((b"%d" % i, g.decode()))
            if i % 5 == 2:
                raw.sendto(b"\x01g" + b"L" * 9000, to)     # cut by the kernel: dropped
            if i % 7 == 3:
                raw.sendto(b"\x09g", to)                   # group past its end: dropped
    got = [recv_frame(dish) for _ in sent]
    assert got == sent
    assert not dish.poll(200)


def test_udp_full_pipe_in_a_batch_loses_and_reorders_nothing(zmq, sock):
    """A DISH whose pipe fills up in the middle of a batch keeps the rest
    of the batch (and the kernel's queue) until the application reads:
    every datagram arrives, in order."""
    dish, raw, to = raw_to_dish(zmq, sock, ["g"], rcvhwm=3)
    with raw:
        for i in range(60):
            raw.sendto(b"\x01g%d" % i, to)
    time.sleep(0.2)         # the io thread meets the full pipe
    got = [recv_frame(dish) for _ in range(60)]
    assert got == [(b"%d" % i, "g") for i in range(60)]
    assert not dish.poll(200)


def test_udp_radio_sends_a_burst_whole_and_in_order(zmq, sock):
    """More messages than one sendmmsg batch, of several sizes and groups:
    each is one datagram, in the order sent."""
    port = free_udp_port()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as raw:
        raw.bind(("127.0.0.1", port))
        raw.settimeout(5)
        radio = sock(zmq.RADIO)
        radio.sndhwm = 0
        radio.connect(f"udp://127.0.0.1:{port}")
        expected = []
        for i in range(100):
            g = [b"a", b"bb", b"a"][i % 3]
            body = b"%d:" % i + b"x" * (i * 37 % 500)
            if i == 50:
                body = b"y" * 8190      # 8192 with a 1-byte group: a batch of its own
                g = b"a"
            radio.send(body, group=g)
            expected.append(bytes([len(g)]) + g + body)
        assert [raw.recv(65536) for _ in expected] == expected


def test_udp_radio_drops_what_does_not_fit_a_datagram(zmq, sock):
    """libzmq's datagrams are 8192 bytes: a larger message is dropped whole
    (libzmq would overrun its buffer), the next one still goes."""
    port = free_udp_port()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as raw:
        raw.bind(("127.0.0.1", port))
        raw.settimeout(5)
        radio = sock(zmq.RADIO)
        radio.connect(f"udp://127.0.0.1:{port}")
        radio.send(b"x" * 8190, group="g")          # 1 + 1 + 8190 = 8192: fits
        radio.send(b"x" * 8191, group="g")          # one byte over
        radio.send(b"tail", group="grp")
        assert raw.recv(65536) == b"\x01g" + b"x" * 8190
        assert raw.recv(65536) == b"\x03grptail"


def test_udp_endpoints_resolve_as_libzmq(zmq, sock):
    dish = sock(zmq.DISH)
    for bad in ["udp://127.0.0.1", "udp://127.0.0.1:0", "udp://127.0.0.1;127.0.0.2:5555",
                "udp://239.1.1.1;239.1.1.2:5555"]:
        with pytest.raises(zmq.ZMQError) as e:
            dish.bind(bad)
        assert e.value.errno == zmq.EINVAL, bad
    with pytest.raises(zmq.ZMQError) as e:
        dish.bind("udp://nosuchif0;239.1.1.1:5555")
    assert e.value.errno == errno.ENODEV
    port = free_udp_port()
    dish.bind(f"udp://*:{port}")
    dish.unbind(f"udp://*:{port}")


def test_udp_multicast_options(zmq, sock):
    radio = sock(zmq.RADIO)
    assert radio.get(zmq.MULTICAST_HOPS) == 1
    assert radio.get(zmq.MULTICAST_LOOP) == 1
    radio.set(zmq.MULTICAST_HOPS, 4)
    radio.set(zmq.MULTICAST_LOOP, 0)
    assert radio.get(zmq.MULTICAST_HOPS) == 4
    assert radio.get(zmq.MULTICAST_LOOP) == 0
    with pytest.raises(zmq.ZMQError):
        radio.set(zmq.MULTICAST_HOPS, 0)


def test_radio_with_xpub_nodrop_says_again_instead_of_dropping(zmq, sock, endpoint):
    """libzmq's RADIO takes XPUB_NODROP: at the HWM a send is refused
    (EAGAIN) rather than dropped, and nothing sent is lost."""
    radio = sock(zmq.RADIO, sndhwm=10, xpub_nodrop=1)
    dish = sock(zmq.DISH, rcvhwm=10)
    addr = endpoint.bind(radio, "inproc")
    dish.connect(addr)
    dish.join("a")
    wait_joined(radio, dish, "a")
    sent = 0
    with pytest.raises(zmq.Again):
        for sent in range(10000):
            radio.send(b"%d" % sent, group="a", flags=zmq.NOBLOCK)
    got = []
    while dish.poll(200):
        got.append(int(dish.recv()))
    assert got == list(range(sent))


# ---------------------------------------------------------------- udp over IPv6

def test_udp_over_ipv6_loopback(zmq, sock):
    """udp://[::1]:port with the IPV6 option on both sides (libzmq wants it
    for an IPv6 address): groups filtered, messages whole and in order."""
    addr = f"udp://[::1]:{free_udp6_port()}"
    dish = sock(zmq.DISH, ipv6=1)
    dish.bind(addr)
    dish.join("v6")
    dish.join("e" * 255)
    radio = sock(zmq.RADIO, ipv6=1)
    radio.connect(addr)
    wait_joined(radio, dish, "v6")
    for i in range(20):
        radio.send(b"not joined", group="other")
        radio.send(b"%d" % i, group="v6")
    radio.send(b"", group="e" * 255)
    radio.send(b"z" * 8000, group="v6")
    got = [recv_frame(dish) for _ in range(22)]
    assert got == [(b"%d" % i, "v6") for i in range(20)] + [(b"", "e" * 255), (b"z" * 8000, "v6")]
    assert not dish.poll(200)


def test_udp_ipv6_datagrams_have_libzmqs_layout(zmq, sock):
    """Over IPv6 too a message is one datagram, group length, group, body,
    both ways (a plain AF_INET6 socket on the other end)."""
    with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as raw:
        raw.bind(("::1", 0))
        raw.settimeout(5)
        radio = sock(zmq.RADIO, ipv6=1)
        radio.connect(f"udp://[::1]:{raw.getsockname()[1]}")
        radio.send(b"body", group="grp")
        data, sender = raw.recvfrom(65536)
        assert data == b"\x03grpbody"
        assert sender[0] == "::1"
        port = free_udp6_port()
        dish = sock(zmq.DISH, ipv6=1)
        dish.bind(f"udp://[::1]:{port}")
        dish.join("grp")
        deadline = time.monotonic() + 5
        while not dish.poll(50):        # the bind's socket is made on the io thread
            assert time.monotonic() < deadline, "nothing arrived"
            raw.sendto(b"\x03grpfrom raw", ("::1", port))
        assert recv_frame(dish) == (b"from raw", "grp")


def test_udp_ipv6_address_needs_the_ipv6_option(zmq, sock):
    """Without IPV6 an IPv6 address does not resolve, as libzmq's udp:
    ENODEV on bind, EINVAL on connect (tests/interop checks libzmq says
    the same). With it, IPv4 addresses still work."""
    port = free_udp6_port()
    dish = sock(zmq.DISH)
    with pytest.raises(zmq.ZMQError) as e:
        dish.bind(f"udp://[::1]:{port}")
    assert e.value.errno == errno.ENODEV
    radio = sock(zmq.RADIO)
    with pytest.raises(zmq.ZMQError) as e:
        radio.connect(f"udp://[::1]:{port}")
    assert e.value.errno == errno.EINVAL
    addr = f"udp://127.0.0.1:{free_udp_port()}"
    dish = sock(zmq.DISH, ipv6=1)
    dish.bind(addr)
    dish.join("v4")
    radio = sock(zmq.RADIO, ipv6=1)
    radio.connect(addr)
    wait_joined(radio, dish, "v4")
    radio.send(b"still v4", group="v4")
    assert recv_frame(dish) == (b"still v4", "v4")
