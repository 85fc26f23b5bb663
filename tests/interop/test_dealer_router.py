"""DEALER/ROUTER interop between the implementation under test and real pyzmq.

DEALER-ROUTER, DEALER-DEALER and ROUTER-ROUTER run with either library on
either side, each side binding and each side connecting, over tcp and ipc.
What crosses the wire here is the ``Identity`` metadata (ROUTING_ID), which
the ROUTER turns into the routing-id frame, and ordinary multipart messages.
"""

import pytest

from pattern_helpers import (
    INTEROP_ROLES,
    interop_role_id,
    recv_poking,
    send_when_routable,
)

pytestmark = pytest.mark.interop

DEALER, ROUTER = 5, 6


@pytest.mark.parametrize("role", INTEROP_ROLES, ids=interop_role_id(["DEALER", "ROUTER"]))
def test_router_uses_dealer_routing_id(connect, role, recv_multipart_timeout):
    dealer, router = connect((DEALER, ROUTER), role, opts=({"routing_id": b"dealer-A"}, {}))
    dealer.send_multipart([b"", b"hello"])
    assert recv_multipart_timeout(router) == [b"dealer-A", b"", b"hello"]
    router.send_multipart([b"dealer-A", b"x", b"", b"y"])
    assert recv_multipart_timeout(dealer) == [b"x", b"", b"y"]


@pytest.mark.parametrize("role", INTEROP_ROLES, ids=interop_role_id(["DEALER", "ROUTER"]))
def test_router_generates_id_for_anonymous_dealer(connect, role, recv_multipart_timeout):
    """No Identity: the ROUTER makes up 5 bytes, 0x00 + u32, and routes replies by it."""
    dealer, router = connect((DEALER, ROUTER), role)
    dealer.send(b"anon")
    ident, body = recv_multipart_timeout(router)
    assert body == b"anon"
    assert len(ident) == 5 and ident[0] == 0
    router.send_multipart([ident, b"back"])
    assert recv_multipart_timeout(dealer) == [b"back"]


@pytest.mark.parametrize("role", INTEROP_ROLES, ids=interop_role_id(["DEALER", "ROUTER"]))
def test_many_multipart_messages_both_ways(connect, role, recv_multipart_timeout):
    dealer, router = connect((DEALER, ROUTER), role, opts=({"routing_id": b"D"}, {}))
    n = 200
    for i in range(n):
        dealer.send_multipart([b"%d" % i, b"", b"z" * (i % 300)])
    for i in range(n):
        assert recv_multipart_timeout(router) == [b"D", b"%d" % i, b"", b"z" * (i % 300)]
        router.send_multipart([b"D", b"r%d" % i])
    assert [recv_multipart_timeout(dealer) for _ in range(n)] == [[b"r%d" % i] for i in range(n)]


@pytest.mark.parametrize("role", INTEROP_ROLES, ids=interop_role_id(["DEALER", "ROUTER"]))
def test_probe_router_announces_dealer(connect, role):
    """PROBE_ROUTER: the DEALER sends an empty message on connect, so the ROUTER learns its id."""
    dealer, router = connect((DEALER, ROUTER), role,
                             opts=({"routing_id": b"prober", "probe_router": 1}, {}))
    assert recv_poking(router, [dealer]) == [b"prober", b""]


@pytest.mark.parametrize("role", INTEROP_ROLES, ids=interop_role_id(["DEALER", "DEALER"]))
def test_dealer_to_dealer_both_ways(connect, role, recv_multipart_timeout):
    a, b = connect((DEALER, DEALER), role)
    for i in range(50):
        a.send_multipart([b"a%d" % i, b""])
        b.send_multipart([b"", b"b%d" % i])
    assert [recv_multipart_timeout(b) for _ in range(50)] == [[b"a%d" % i, b""] for i in range(50)]
    assert [recv_multipart_timeout(a) for _ in range(50)] == [[b"", b"b%d" % i] for i in range(50)]


@pytest.mark.parametrize("role", INTEROP_ROLES, ids=interop_role_id(["ROUTER", "ROUTER"]))
def test_router_to_router_with_known_ids(connect, role, recv_multipart_timeout):
    """ROUTER-ROUTER: each side announces a ROUTING_ID; the connector may also name its peer
    with CONNECT_ROUTING_ID, which must agree with the binder's ROUTING_ID here."""
    _, binder = role
    opts = [{"routing_id": b"r0"}, {"routing_id": b"r1"}]
    opts[1 - binder]["connect_routing_id"] = b"r%d" % binder
    a, b = connect((ROUTER, ROUTER), role, opts=tuple(opts))
    send_when_routable(a, b"r1", [b"from-a"])
    assert recv_multipart_timeout(b) == [b"r0", b"from-a"]
    b.send_multipart([b"r0", b"from-b", b""])
    assert recv_multipart_timeout(a) == [b"r1", b"from-b", b""]
