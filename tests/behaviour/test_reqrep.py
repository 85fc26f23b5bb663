"""REQ/REP semantics (RFC 28, libzmq 4.3 behaviour; see SOCKETS.md "REQ (3)"
and "REP (4)").

* REQ: send, recv, send, ... (EFSM otherwise); load-balances requests; takes
  the reply only from the peer it sent to, only after an empty delimiter;
  REQ_RELAXED and REQ_CORRELATE loosen and tighten that;
* REP: recv, send, recv, ... (EFSM otherwise); keeps the envelope up to and
  including the first empty frame; its reply goes back to the requester and
  is dropped, never blocking, when that peer is gone or full.
"""

import struct

import pytest

from pattern_helpers import raises_errno, send_when_routable

ALL = ["tcp", "ipc", "inproc"]


@pytest.fixture
def connected(sock, endpoint):
    """``connected(bind_type, connect_type, transport, bind_opts, connect_opts)``."""
    def make(bind_type, connect_type, transport="inproc", bind_opts=None, connect_opts=None):
        a = sock(bind_type, **(bind_opts or {}))
        b = sock(connect_type, **(connect_opts or {}))
        b.connect(endpoint.bind(a, transport))
        return a, b
    return make


def req_has_reply(zmq, req):
    return req.getsockopt(zmq.EVENTS) & zmq.POLLIN


# --------------------------------------------------------------------------
# state machine
# --------------------------------------------------------------------------

def test_req_send_twice_is_efsm(zmq, connected):
    """REQ: "EFSM: send twice without recv"."""
    _, req = connected(zmq.REP, zmq.REQ)
    req.send(b"first")
    raises_errno(lambda: req.send(b"second"), zmq.EFSM)


def test_req_recv_before_send_is_efsm(zmq, connected):
    """REQ: "EFSM: ... or recv before send"."""
    _, req = connected(zmq.REP, zmq.REQ)
    raises_errno(req.recv, zmq.EFSM)


def test_rep_send_before_recv_is_efsm(zmq, connected):
    """REP: "EFSM: ... send before a request was received"."""
    rep, _ = connected(zmq.REP, zmq.REQ)
    raises_errno(lambda: rep.send(b"unasked"), zmq.EFSM)


def test_rep_recv_while_reply_owed_is_efsm(zmq, connected, recv_timeout):
    """REP: "EFSM: recv while a reply is owed"."""
    rep, req = connected(zmq.REP, zmq.REQ)
    req.send(b"q")
    assert recv_timeout(rep) == b"q"
    raises_errno(rep.recv, zmq.EFSM)


def test_efsm_error_leaves_state_usable(zmq, connected, recv_timeout):
    rep, req = connected(zmq.REP, zmq.REQ)
    req.send(b"q")
    raises_errno(lambda: req.send(b"again"), zmq.EFSM)
    assert recv_timeout(rep) == b"q"
    rep.send(b"r")
    assert recv_timeout(req) == b"r"


# --------------------------------------------------------------------------
# REQ
# --------------------------------------------------------------------------

@pytest.mark.parametrize("transport", ALL)
def test_round_trips_with_multipart_bodies(zmq, connected, transport, recv_multipart_timeout):
    rep, req = connected(zmq.REP, zmq.REQ, transport)
    for i in range(10):
        req.send_multipart([b"q%d" % i, b"", b"tail"])
        assert recv_multipart_timeout(rep) == [b"q%d" % i, b"", b"tail"]
        rep.send_multipart([b"", b"r%d" % i])
        assert recv_multipart_timeout(req) == [b"", b"r%d" % i]


@pytest.mark.parametrize("transport", ALL)
def test_req_round_robins_requests_over_reps(zmq, sock, endpoint, transport, recv_timeout,
                                             recv_any):
    """REQ send: "(2) picks a pipe by load-balance"."""
    reps = [sock(zmq.REP) for _ in range(3)]
    req = sock(zmq.REQ)
    for r in reps:
        req.connect(endpoint.bind(r, transport))
    order = []
    for i in range(9):
        req.send(b"%d" % i)
        idx, msg = recv_any(reps)
        assert msg == b"%d" % i
        order.append(idx)
        reps[idx].send(b"ok")
        assert recv_timeout(req) == b"ok"
    assert sorted(order[:3]) == [0, 1, 2]
    assert order[3:6] == order[:3] and order[6:] == order[:3]


def test_router_sees_req_envelope(zmq, connected, recv_multipart_timeout):
    """REQ to ROUTER: "the app sees [id][""][body...] and must send back [id][""][reply...]"."""
    router, req = connected(zmq.ROUTER, zmq.REQ, connect_opts={"routing_id": b"R1"})
    req.send_multipart([b"a", b"b"])
    assert recv_multipart_timeout(router) == [b"R1", b"", b"a", b"b"]
    router.send_multipart([b"R1", b"", b"x", b"y"])
    assert recv_multipart_timeout(req) == [b"x", b"y"]


def test_req_takes_reply_only_from_peer_it_sent_to(zmq, sock, endpoint, recv_any, recv_timeout,
                                                   assert_no_message):
    """REQ recv: "only from the pipe the request went to. Messages from other pipes are dropped"."""
    routers = [sock(zmq.ROUTER), sock(zmq.ROUTER)]
    req = sock(zmq.REQ, routing_id=b"req")
    for r in routers:
        req.connect(endpoint.bind(r, "tcp"))
    req.send(b"question")
    chosen, request = recv_any(routers, multipart=True)
    assert request == [b"req", b"", b"question"]
    other = routers[1 - chosen]
    send_when_routable(other, b"req", [b"", b"impostor"])
    assert_no_message(req, 200)
    routers[chosen].send_multipart([b"req", b"", b"answer"])
    assert recv_timeout(req) == b"answer"


def test_req_skips_reply_without_empty_delimiter(zmq, connected, recv_multipart_timeout,
                                                 assert_no_message):
    """REQ recv: "The reply must begin with an empty frame that has MORE ... Messages that do
    not are skipped"."""
    router, req = connected(zmq.ROUTER, zmq.REQ, connect_opts={"routing_id": b"R"})
    req.send(b"q")
    assert recv_multipart_timeout(router) == [b"R", b"", b"q"]
    router.send_multipart([b"R", b"no-delimiter"])
    assert_no_message(req, 200)


def test_req_blocks_without_peers(zmq, sock, endpoint):
    """REQ: "At HWM or with no peers: blocks"."""
    req = sock(zmq.REQ, sndtimeo=50)
    endpoint.bind(req, "tcp")
    with pytest.raises(zmq.Again):
        req.send(b"q", zmq.NOBLOCK)
    with pytest.raises(zmq.Again):
        req.send(b"q")


def test_req_relaxed_allows_new_request_and_drops_queued_reply(zmq, connected, wait_until,
                                                               recv_multipart_timeout,
                                                               recv_timeout):
    """REQ_RELAXED: "a new send is allowed at any time. Replies already queued are dropped
    when the new request starts"."""
    router, req = connected(zmq.ROUTER, zmq.REQ, connect_opts={"routing_id": b"R",
                                                                "req_relaxed": 1})
    req.send(b"q1")
    assert recv_multipart_timeout(router) == [b"R", b"", b"q1"]
    router.send_multipart([b"R", b"", b"r1"])
    wait_until(lambda: req_has_reply(zmq, req), msg="reply r1 queued at REQ")
    req.send(b"q2")
    assert recv_multipart_timeout(router) == [b"R", b"", b"q2"]
    router.send_multipart([b"R", b"", b"r2"])
    assert recv_timeout(req) == b"r2"


def test_req_relaxed_takes_late_reply_without_correlate(zmq, connected, recv_multipart_timeout,
                                                        recv_timeout):
    """REQ_RELAXED: "a late reply that arrives afterwards on the chosen pipe can still be taken
    as the new reply"."""
    router, req = connected(zmq.ROUTER, zmq.REQ, connect_opts={"routing_id": b"R",
                                                                "req_relaxed": 1})
    req.send(b"q1")
    req.send(b"q2")
    assert recv_multipart_timeout(router) == [b"R", b"", b"q1"]
    assert recv_multipart_timeout(router) == [b"R", b"", b"q2"]
    router.send_multipart([b"R", b"", b"late-r1"])
    assert recv_timeout(req) == b"late-r1"


def test_req_correlate_adds_incrementing_request_id(zmq, connected, recv_multipart_timeout,
                                                    recv_timeout):
    """REQ_CORRELATE: "adds a 4-byte request id frame ... copies the uint32 in host byte order
    ... and adds 1 per request"."""
    router, req = connected(zmq.ROUTER, zmq.REQ, connect_opts={
        "routing_id": b"R", "req_correlate": 1, "req_relaxed": 1})
    ids = []
    for i in range(3):
        req.send(b"q%d" % i)
        peer, reqid, delim, body = recv_multipart_timeout(router)
        assert (peer, len(reqid), delim, body) == (b"R", 4, b"", b"q%d" % i)
        ids.append(struct.unpack("=I", reqid)[0])
        router.send_multipart([peer, reqid, b"", b"r%d" % i])
        assert recv_timeout(req) == b"r%d" % i
    assert ids == [ids[0], (ids[0] + 1) % 2**32, (ids[0] + 2) % 2**32]


def test_req_correlate_drops_reply_with_stale_id(zmq, connected, recv_multipart_timeout,
                                                 recv_timeout):
    """REQ_CORRELATE: "Replies whose id does not match are dropped"."""
    router, req = connected(zmq.ROUTER, zmq.REQ, connect_opts={
        "routing_id": b"R", "req_correlate": 1, "req_relaxed": 1})
    req.send(b"q1")
    _, old_id, _, _ = recv_multipart_timeout(router)
    req.send(b"q2")
    _, new_id, _, _ = recv_multipart_timeout(router)
    router.send_multipart([b"R", old_id, b"", b"stale"])
    router.send_multipart([b"R", new_id, b"", b"fresh"])
    assert recv_timeout(req) == b"fresh"


# --------------------------------------------------------------------------
# REP
# --------------------------------------------------------------------------

def test_rep_returns_whole_envelope(zmq, connected, recv_multipart_timeout):
    """REP recv: "Frames from the start of a message up to and including the first empty
    frame ... are the envelope. They are stored for the reply, and the body is delivered"."""
    rep, dealer = connected(zmq.REP, zmq.DEALER)
    dealer.send_multipart([b"hop1", b"hop2", b"", b"body", b""])
    assert recv_multipart_timeout(rep) == [b"body", b""]
    rep.send_multipart([b"re", b""])
    assert recv_multipart_timeout(dealer) == [b"hop1", b"hop2", b"", b"re", b""]


def test_rep_drops_request_without_delimiter(zmq, connected, recv_multipart_timeout):
    """REP: "A message that ends before any empty frame is dropped whole"."""
    rep, dealer = connected(zmq.REP, zmq.DEALER)
    dealer.send_multipart([b"no", b"delimiter"])
    dealer.send_multipart([b"", b"good"])
    assert recv_multipart_timeout(rep) == [b"good"]


def test_rep_replies_to_the_requester(zmq, sock, endpoint, recv_timeout):
    """REP send: "the message goes to the pipe the request came from"."""
    rep = sock(zmq.REP)
    addr = endpoint.bind(rep, "inproc")
    reqs = [sock(zmq.REQ) for _ in range(3)]
    for r in reqs:
        r.connect(addr)
    for i, r in enumerate(reqs):
        r.send(b"%d" % i)
    for _ in reqs:
        rep.send(b"re:" + recv_timeout(rep))
    for i, r in enumerate(reqs):
        assert recv_timeout(r) == b"re:%d" % i


@pytest.mark.parametrize("transport", ALL)
def test_rep_reply_to_vanished_requester_is_dropped(zmq, sock, endpoint, transport,
                                                    recv_timeout):
    """REP send: "If that peer is gone ... the reply is dropped silently"."""
    rep = sock(zmq.REP, sndtimeo=-1)
    addr = endpoint.bind(rep, transport)
    gone = sock(zmq.REQ)
    gone.connect(addr)
    gone.send(b"q")
    assert recv_timeout(rep) == b"q"
    gone.close()
    rep.send(b"nobody listens")  # must neither block nor raise
    stays = sock(zmq.REQ)
    stays.connect(addr)
    stays.send(b"q2")
    assert recv_timeout(rep) == b"q2"
    rep.send(b"r2")
    assert recv_timeout(stays) == b"r2"


def test_rep_drops_reply_when_requester_pipe_is_full(zmq, sock, endpoint, recv_multipart_timeout):
    """REP send: "If ... its pipe is full, the reply is dropped silently. Send never blocks"."""
    rep = sock(zmq.REP, sndhwm=1, sndtimeo=-1)
    dealer = sock(zmq.DEALER, rcvhwm=1)
    dealer.connect(endpoint.bind(rep, "inproc"))
    n = 20
    for i in range(n):
        dealer.send_multipart([b"", b"q%d" % i])
    for i in range(n):
        assert recv_multipart_timeout(rep) == [b"q%d" % i]
        rep.send(b"r%d" % i)  # would hang here if REP blocked at HWM
    replies = []
    with pytest.raises(zmq.Again):
        while True:
            replies.append(dealer.recv_multipart(zmq.NOBLOCK))
    assert 0 < len(replies) < n
    assert replies == [[b"", b"r%d" % i] for i in range(len(replies))]


@pytest.mark.parametrize("transport", ALL)
def test_rep_fair_queues_requesters(zmq, sock, endpoint, transport, recv_timeout):
    """REP recv: "fair-queue"."""
    rep = sock(zmq.REP)
    addr = endpoint.bind(rep, transport)
    dealers = [sock(zmq.DEALER), sock(zmq.DEALER)]
    for d in dealers:
        d.connect(addr)
    for d in dealers:
        for i in range(5):
            d.send_multipart([b"", b"%d" % i])
    got = []
    for _ in range(10):
        got.append(recv_timeout(rep))
        rep.send(b"ok")
    assert sorted(got) == sorted([b"%d" % i for i in range(5)] * 2)
