"""DEALER/ROUTER semantics (RFC 28, libzmq 4.3 behaviour; see SOCKETS.md
"DEALER (5)", "ROUTER (6)" and section 4).

* ROUTER puts the peer's routing id in front of what it receives and routes
  what it sends by the first frame; ids come from CONNECT_ROUTING_ID, the
  peer's ROUTING_ID (alias IDENTITY), or are made up;
* unknown ids and full pipes drop silently, or give EHOSTUNREACH / EAGAIN
  with ROUTER_MANDATORY; ROUTER_HANDOVER lets a new connection take an id;
* PROBE_ROUTER announces a new peer with an empty message;
* DEALER load-balances, fair-queues and blocks at HWM or with no peers.
"""

import pytest

from pattern_helpers import fill_until_again, raises_errno, recv_poking, send_when_routable

ALL = ["tcp", "ipc", "inproc"]


def router_with_dealers(sock, endpoint, zmq, transport, ids, router_opts=None):
    router = sock(zmq.ROUTER, **(router_opts or {}))
    addr = endpoint.bind(router, transport)
    dealers = []
    for ident in ids:
        d = sock(zmq.DEALER, **({"routing_id": ident} if ident else {}))
        d.connect(addr)
        dealers.append(d)
    return router, dealers, addr


# --------------------------------------------------------------------------
# routing ids
# --------------------------------------------------------------------------

@pytest.mark.parametrize("transport", ALL)
def test_router_prefixes_peer_routing_id(zmq, sock, endpoint, transport, recv_multipart_timeout):
    """ROUTER recv: "Each message gets a frame in front holding the peer's routing id"."""
    router, (dealer,), _ = router_with_dealers(sock, endpoint, zmq, transport, [b"dealer-1"])
    dealer.send_multipart([b"a", b"", b"c"])
    assert recv_multipart_timeout(router) == [b"dealer-1", b"a", b"", b"c"]


@pytest.mark.parametrize("transport", ALL)
def test_router_routes_by_first_frame(zmq, sock, endpoint, transport, recv_multipart_timeout,
                                      assert_no_message):
    """ROUTER send: "the first frame (must have MORE) is the routing id. It is removed, and the
    rest goes to that peer's pipe"."""
    ids = [b"A", b"B", b"C"]
    router, dealers, _ = router_with_dealers(sock, endpoint, zmq, transport, ids)
    for d in dealers:
        d.send(b"hello")
    assert sorted(recv_multipart_timeout(router)[0] for _ in ids) == ids
    for ident in reversed(ids):
        router.send_multipart([ident, b"for-" + ident, b""])
    for ident, d in zip(ids, dealers):
        assert recv_multipart_timeout(d) == [b"for-" + ident, b""]
        assert_no_message(d, 20)


def test_identity_is_an_alias_of_routing_id(zmq, sock, endpoint, recv_multipart_timeout):
    assert zmq.IDENTITY == zmq.ROUTING_ID
    dealer = sock(zmq.DEALER)
    dealer.setsockopt(zmq.IDENTITY, b"old-name")
    assert dealer.getsockopt(zmq.ROUTING_ID) == b"old-name"
    router = sock(zmq.ROUTER)
    dealer.connect(endpoint.bind(router, "inproc"))
    dealer.send(b"x")
    assert recv_multipart_timeout(router) == [b"old-name", b"x"]


@pytest.mark.parametrize("value", [b"", b"x" * 256], ids=["empty", "256-bytes"])
def test_routing_id_length_must_be_1_to_255(zmq, sock, value):
    """ZMQ_ROUTING_ID: "binary 1..255 B; length 0 -> EINVAL"."""
    dealer = sock(zmq.DEALER)
    raises_errno(lambda: dealer.setsockopt(zmq.ROUTING_ID, value), zmq.EINVAL)
    dealer.setsockopt(zmq.ROUTING_ID, b"y" * 255)
    assert dealer.getsockopt(zmq.ROUTING_ID) == b"y" * 255


@pytest.mark.parametrize("transport", ["tcp", "inproc"])
def test_router_makes_up_distinct_ids(zmq, sock, endpoint, transport, recv_multipart_timeout):
    """Routing id rule 3: "otherwise made up: 5 bytes 0x00 + u32 big-endian counter"."""
    router, dealers, _ = router_with_dealers(sock, endpoint, zmq, transport, [None, None, None])
    for d in dealers:
        d.send(b"hi")
    got = [recv_multipart_timeout(router) for _ in dealers]
    ids = [g[0] for g in got]
    assert all(len(i) == 5 and i[0] == 0 for i in ids), ids
    assert len(set(ids)) == 3
    for n, ident in enumerate(ids):
        router.send_multipart([ident, b"%d" % n])
    replies = sorted(recv_multipart_timeout(d)[0] for d in dealers)
    assert replies == [b"0", b"1", b"2"]


def test_connect_routing_id_names_the_next_connection(zmq, sock, endpoint,
                                                      recv_multipart_timeout):
    """Routing id rule 1: "for an outgoing connection, ZMQ_CONNECT_ROUTING_ID given before
    that connect" wins over the peer's own ROUTING_ID, and applies to that connect only."""
    named = sock(zmq.DEALER, routing_id=b"self-chosen")
    anonymous = sock(zmq.DEALER)
    router = sock(zmq.ROUTER, routing_id=b"the-router")
    router.setsockopt(zmq.CONNECT_ROUTING_ID, b"alias")
    router.connect(endpoint.bind(named, "tcp"))
    router.connect(endpoint.bind(anonymous, "tcp"))
    send_when_routable(router, b"alias", [b"to-alias"])
    assert recv_multipart_timeout(named) == [b"to-alias"]
    anonymous.send(b"from-anonymous")
    ident, body = recv_multipart_timeout(router)
    assert body == b"from-anonymous"
    assert ident != b"alias" and len(ident) == 5 and ident[0] == 0


@pytest.mark.parametrize("transport", ALL)
def test_router_to_router_with_connect_routing_id(zmq, sock, endpoint, transport,
                                                   recv_multipart_timeout):
    server = sock(zmq.ROUTER, routing_id=b"server")
    client = sock(zmq.ROUTER, routing_id=b"client", connect_routing_id=b"server")
    client.connect(endpoint.bind(server, transport))
    send_when_routable(client, b"server", [b"ping"])
    assert recv_multipart_timeout(server) == [b"client", b"ping"]
    server.send_multipart([b"client", b"pong"])
    assert recv_multipart_timeout(client) == [b"server", b"pong"]


def test_duplicate_id_keeps_first_connection(zmq, sock, endpoint, recv_multipart_timeout,
                                             assert_no_message):
    """ROUTER: "Two connections with the same id: by default the new connection is ignored
    (it is kept but never read)"."""
    router, (first,), addr = router_with_dealers(sock, endpoint, zmq, "tcp", [b"X"])
    first.send(b"one")
    assert recv_multipart_timeout(router) == [b"X", b"one"]
    second = sock(zmq.DEALER, routing_id=b"X")
    second.connect(addr)
    second.send(b"from-second")
    first.send(b"three")
    assert recv_multipart_timeout(router) == [b"X", b"three"]
    assert_no_message(router, 200)
    router.send_multipart([b"X", b"reply"])
    assert recv_multipart_timeout(first) == [b"reply"]
    assert_no_message(second, 50)


def test_router_handover_gives_id_to_new_connection(zmq, sock, endpoint, recv_multipart_timeout,
                                                    assert_no_message):
    """ROUTER_HANDOVER=1: "the new connection takes the id and the old one is closed"."""
    router, (first,), addr = router_with_dealers(sock, endpoint, zmq, "tcp", [b"X"],
                                                 {"router_handover": 1})
    first.send(b"one")
    assert recv_multipart_timeout(router) == [b"X", b"one"]
    second = sock(zmq.DEALER, routing_id=b"X")
    second.connect(addr)
    second.send(b"two")
    assert recv_multipart_timeout(router) == [b"X", b"two"]
    router.send_multipart([b"X", b"reply"])
    assert recv_multipart_timeout(second) == [b"reply"]
    assert_no_message(first, 50)


# --------------------------------------------------------------------------
# unroutable messages and HWM
# --------------------------------------------------------------------------

def test_first_frame_without_more_is_ignored(zmq, sock, endpoint, recv_multipart_timeout,
                                             assert_no_message):
    """ROUTER send: "A first frame without MORE: ignored silently"."""
    router, (dealer,), _ = router_with_dealers(sock, endpoint, zmq, "inproc", [b"D"])
    dealer.send(b"hi")
    recv_multipart_timeout(router)
    router.send(b"D")
    assert_no_message(dealer, 100)
    router.send_multipart([b"D", b"after"])
    assert recv_multipart_timeout(dealer) == [b"after"]


def test_unknown_id_is_dropped_silently(zmq, sock, endpoint, recv_multipart_timeout):
    """ROUTER send: "Unknown id: dropped silently"."""
    router, (dealer,), _ = router_with_dealers(sock, endpoint, zmq, "inproc", [b"D"])
    dealer.send(b"hi")
    recv_multipart_timeout(router)
    router.send_multipart([b"nobody", b"lost"])
    router.send_multipart([b"D", b"kept"])
    assert recv_multipart_timeout(dealer) == [b"kept"]


def test_mandatory_unknown_id_is_ehostunreach(zmq, sock, endpoint):
    """ROUTER_MANDATORY=1: unknown id gives "EHOSTUNREACH at once"."""
    router = sock(zmq.ROUTER, router_mandatory=1)
    endpoint.bind(router, "tcp")
    raises_errno(lambda: router.send_multipart([b"nobody", b"x"]), zmq.EHOSTUNREACH)


def full_router_pipe(zmq, sock, endpoint, **router_opts):
    """A ROUTER and an unread DEALER "D" with HWM 1 on both ends of an inproc pipe."""
    router = sock(zmq.ROUTER, sndhwm=1, **router_opts)
    dealer = sock(zmq.DEALER, routing_id=b"D", rcvhwm=1)
    dealer.connect(endpoint.bind(router, "inproc"))
    dealer.send(b"hello")
    return router, dealer


def test_mandatory_full_pipe_is_again(zmq, sock, endpoint, recv_multipart_timeout):
    """ROUTER_MANDATORY: "Peer pipe full: ... EAGAIN (so a blocking send waits)"."""
    router, dealer = full_router_pipe(zmq, sock, endpoint, router_mandatory=1, sndtimeo=50)
    assert recv_multipart_timeout(router) == [b"D", b"hello"]
    queued = fill_until_again(router, [b"D", b"m"])
    assert queued >= 1
    with pytest.raises(zmq.Again):
        router.send_multipart([b"D", b"blocked"])
    assert [recv_multipart_timeout(dealer) for _ in range(queued)] == [[b"m"]] * queued


def test_router_drops_at_hwm_without_mandatory(zmq, sock, endpoint, recv_multipart_timeout):
    """ROUTER: "Peer pipe full: dropped silently"; ROUTER never blocks."""
    router, dealer = full_router_pipe(zmq, sock, endpoint, sndtimeo=-1)
    assert recv_multipart_timeout(router) == [b"D", b"hello"]
    n = 100
    for i in range(n):
        router.send_multipart([b"D", b"%d" % i], zmq.NOBLOCK)
    got = []
    with pytest.raises(zmq.Again):
        while True:
            got.append(dealer.recv(zmq.NOBLOCK))
    assert 0 < len(got) < n
    assert got == [b"%d" % i for i in range(len(got))]


def test_router_pollout_always_unless_mandatory(zmq, sock, endpoint):
    """ROUTER "POLLOUT/ZMQ_EVENTS: always writable, unless MANDATORY is set; then writable if
    any peer pipe has room"."""
    plain = sock(zmq.ROUTER)
    endpoint.bind(plain, "tcp")
    assert plain.getsockopt(zmq.EVENTS) & zmq.POLLOUT
    mandatory = sock(zmq.ROUTER, router_mandatory=1)
    endpoint.bind(mandatory, "tcp")
    assert not mandatory.getsockopt(zmq.EVENTS) & zmq.POLLOUT


# --------------------------------------------------------------------------
# PROBE_ROUTER
# --------------------------------------------------------------------------

@pytest.mark.parametrize("transport", ["tcp", "inproc"])
def test_dealer_probe_router_sends_empty_message(zmq, sock, endpoint, transport):
    """PROBE_ROUTER=1: "when a pipe is attached (connect or accept), an empty message is sent
    at once, so a ROUTER peer learns the DEALER's id"."""
    router = sock(zmq.ROUTER)
    dealer = sock(zmq.DEALER, routing_id=b"probe-me", probe_router=1)
    dealer.connect(endpoint.bind(router, transport))
    assert recv_poking(router, [dealer]) == [b"probe-me", b""]


def test_router_probe_router_announces_itself(zmq, sock, endpoint, recv_multipart_timeout):
    """ROUTER with PROBE_ROUTER=1: "sends an empty message to each new peer"."""
    server = sock(zmq.ROUTER)
    client = sock(zmq.ROUTER, routing_id=b"client", probe_router=1)
    client.connect(endpoint.bind(server, "tcp"))
    ident, empty = recv_multipart_timeout(server)
    assert (ident, empty) == (b"client", b"")
    server.send_multipart([b"client", b"welcome"])
    _, body = recv_multipart_timeout(client)
    assert body == b"welcome"


# --------------------------------------------------------------------------
# DEALER
# --------------------------------------------------------------------------

@pytest.mark.parametrize("transport", ALL)
def test_dealer_round_robins_over_routers(zmq, sock, endpoint, transport,
                                          recv_multipart_timeout):
    """DEALER "send: load-balance, no change to the message"."""
    routers = [sock(zmq.ROUTER) for _ in range(3)]
    dealer = sock(zmq.DEALER, routing_id=b"D")
    for r in routers:
        dealer.connect(endpoint.bind(r, transport))
    for i in range(9):
        dealer.send_multipart([b"%d" % i, b""])
    per_router = [[int(recv_multipart_timeout(r)[1]) for _ in range(3)] for r in routers]
    assert sorted(sum(per_router, [])) == list(range(9))
    for got in per_router:
        assert len({g % 3 for g in got}) == 1, per_router


@pytest.mark.parametrize("transport", ALL)
def test_dealer_fair_queues_from_routers(zmq, sock, endpoint, transport, recv_multipart_timeout):
    """DEALER "recv: fair-queue, no change"."""
    routers = [sock(zmq.ROUTER) for _ in range(2)]
    dealer = sock(zmq.DEALER, routing_id=b"D")
    for r in routers:
        dealer.connect(endpoint.bind(r, transport))
    for i, r in enumerate(routers):
        send_when_routable(r, b"D", [b"r%d" % i, b""])
        for n in range(4):
            r.send_multipart([b"D", b"r%d-%d" % (i, n)])
    got = [recv_multipart_timeout(dealer)[0] for _ in range(10)]
    for i in range(2):
        mine = [g for g in got if g.startswith(b"r%d" % i)]
        assert mine == [b"r%d" % i] + [b"r%d-%d" % (i, n) for n in range(4)]


def test_dealer_blocks_at_hwm(zmq, sock, endpoint):
    """DEALER: "At HWM or no peers: blocks"."""
    router = sock(zmq.ROUTER, rcvhwm=1)
    dealer = sock(zmq.DEALER, sndhwm=1, sndtimeo=50)
    dealer.connect(endpoint.bind(router, "inproc"))
    assert fill_until_again(dealer) >= 1
    with pytest.raises(zmq.Again):
        dealer.send(b"blocked")


def test_dealer_blocks_without_peers(zmq, sock, endpoint):
    dealer = sock(zmq.DEALER, sndtimeo=50)
    endpoint.bind(dealer, "tcp")
    with pytest.raises(zmq.Again):
        dealer.send(b"x", zmq.NOBLOCK)
    with pytest.raises(zmq.Again):
        dealer.send(b"x")
