"""REQ/REP interop between the implementation under test and real pyzmq.

The pairs REQ-REP, REQ-ROUTER and DEALER-REP run with either library on
either side, each side binding and each side connecting, over tcp and ipc:
the envelope (empty delimiter, REQ_CORRELATE request id, ROUTER routing id)
must survive the trip between the two libraries unchanged.
"""

import struct

import pytest

from pattern_helpers import INTEROP_ROLES, interop_role_id

pytestmark = pytest.mark.interop

REQ, REP, DEALER, ROUTER = 3, 4, 5, 6


@pytest.mark.parametrize("role", INTEROP_ROLES, ids=interop_role_id(["REQ", "REP"]))
def test_req_rep_round_trips(connect, role, recv_multipart_timeout):
    req, rep = connect((REQ, REP), role)
    for i in range(20):
        body = [b"q%d" % i, b"", b"x" * i]
        req.send_multipart(body)
        assert recv_multipart_timeout(rep) == body
        rep.send_multipart([b"r%d" % i, b""])
        assert recv_multipart_timeout(req) == [b"r%d" % i, b""]


@pytest.mark.parametrize("role", INTEROP_ROLES, ids=interop_role_id(["REQ", "REP"]))
def test_correlated_req_to_rep(connect, role, recv_multipart_timeout):
    """REP echoes the request-id frame back, so REQ_CORRELATE works across libraries."""
    req, rep = connect((REQ, REP), role,
                       opts=({"req_correlate": 1, "req_relaxed": 1}, {}))
    for i in range(5):
        req.send(b"q%d" % i)
        assert recv_multipart_timeout(rep) == [b"q%d" % i]
        rep.send(b"r%d" % i)
        assert recv_multipart_timeout(req) == [b"r%d" % i]


@pytest.mark.parametrize("role", INTEROP_ROLES, ids=interop_role_id(["REQ", "ROUTER"]))
def test_router_sees_req_envelope(connect, role, recv_multipart_timeout):
    """REQ to ROUTER: the app sees [id][""][body...] and sends back [id][""][reply...]."""
    req, router = connect((REQ, ROUTER), role, opts=({"routing_id": b"client-1"}, {}))
    req.send_multipart([b"hello", b"world"])
    assert recv_multipart_timeout(router) == [b"client-1", b"", b"hello", b"world"]
    router.send_multipart([b"client-1", b"", b"re-hello"])
    assert recv_multipart_timeout(req) == [b"re-hello"]


@pytest.mark.parametrize("role", INTEROP_ROLES, ids=interop_role_id(["REQ", "ROUTER"]))
def test_correlated_request_id_frame(connect, role, recv_multipart_timeout):
    """REQ_CORRELATE adds a 4-byte request id (host order, +1 per request) before the delimiter."""
    req, router = connect((REQ, ROUTER), role,
                          opts=({"req_correlate": 1, "req_relaxed": 1}, {}))
    ids = []
    for i in range(3):
        req.send(b"q%d" % i)
        peer, reqid, delim, body = recv_multipart_timeout(router)
        assert (len(reqid), delim, body) == (4, b"", b"q%d" % i)
        ids.append(struct.unpack("=I", reqid)[0])
        router.send_multipart([peer, reqid, b"", b"r%d" % i])
        assert recv_multipart_timeout(req) == [b"r%d" % i]
    assert ids[1] == (ids[0] + 1) % 2**32
    assert ids[2] == (ids[1] + 1) % 2**32


@pytest.mark.parametrize("role", INTEROP_ROLES, ids=interop_role_id(["DEALER", "REP"]))
def test_dealer_to_rep_with_own_delimiter(connect, role, recv_multipart_timeout):
    """DEALER to REP: the DEALER sends ["", body...] itself and gets ["", reply...] back."""
    dealer, rep = connect((DEALER, REP), role)
    for i in range(10):
        dealer.send_multipart([b"", b"q%d" % i])
    for i in range(10):
        assert recv_multipart_timeout(rep) == [b"q%d" % i]
        rep.send(b"r%d" % i)
    assert [recv_multipart_timeout(dealer) for _ in range(10)] == \
        [[b"", b"r%d" % i] for i in range(10)]


@pytest.mark.parametrize("role", INTEROP_ROLES, ids=interop_role_id(["DEALER", "REP"]))
def test_rep_keeps_multi_hop_envelope(connect, role, recv_multipart_timeout):
    """REP stores every frame up to and including the first empty one and puts it back."""
    dealer, rep = connect((DEALER, REP), role)
    dealer.send_multipart([b"hop1", b"hop2", b"", b"body"])
    assert recv_multipart_timeout(rep) == [b"body"]
    rep.send(b"reply")
    assert recv_multipart_timeout(dealer) == [b"hop1", b"hop2", b"", b"reply"]


@pytest.mark.parametrize("rep_side", ["mq", "py"])
def test_rep_serves_reqs_from_both_libraries(zmq, pyzmq, sock, psock, endpoint, transport,
                                             rep_side, recv_timeout):
    rep = sock(zmq.REP) if rep_side == "mq" else psock(pyzmq.REP)
    addr = endpoint.bind(rep, transport)
    reqs = [sock(zmq.REQ), psock(pyzmq.REQ)]
    for r in reqs:
        r.connect(addr)
    for round_ in range(5):
        for i, r in enumerate(reqs):
            r.send(b"%d-%d" % (i, round_))
        for _ in reqs:
            request = recv_timeout(rep)
            rep.send(b"re:" + request)
        for i, r in enumerate(reqs):
            assert recv_timeout(r) == b"re:%d-%d" % (i, round_)
