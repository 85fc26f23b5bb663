"""PUB/SUB/XPUB/XSUB semantics (RFC 29, libzmq 4.3 behaviour; see SOCKETS.md
"PUB (1)", "SUB (2)", "XPUB (9)", "XSUB (10)" and ZMTP.md section 6.2-6.3).

* subscriptions are byte prefixes of the first frame, counted, and travel
  upstream; publishers fan out to matching subscribers and never block
  (except XPUB_NODROP), dropping at HWM;
* XPUB shows subscriptions as ``0x01``/``0x00`` + topic (first subscribe and
  last cancel only, unless XPUB_VERBOSE / XPUB_VERBOSER), can apply them by
  hand (XPUB_MANUAL) and greets new subscribers (XPUB_WELCOME_MSG);
* XSUB sends subscriptions as data frames, forwards other data upstream, and
  does not filter what it receives; INVERT_MATCHING turns matching around.

Subscriptions travel asynchronously, so tests wait for them: on an XPUB by
receiving the subscription, on a PUB with ``sync_pubsub`` probes of every
topic relied on; after a change, a new barrier topic ("mark1", ...) subscribed
behind it proves the change arrived.  Barrier topics never prefix one another.
"""

import pytest

from pattern_helpers import (
    fill_until_again,
    raises_errno,
    recv_poking,
    sync_pubsub,
    try_recv_multipart,
)

ALL = ["tcp", "ipc", "inproc"]


@pytest.fixture
def linked(sock, endpoint):
    """``linked(pub_type, sub_type, transport, pub_opts, sub_opts)``: publisher binds."""
    def make(pub_type, sub_type, transport="inproc", pub_opts=None, sub_opts=None):
        pub = sock(pub_type, **(pub_opts or {}))
        sub = sock(sub_type, **(sub_opts or {}))
        sub.connect(endpoint.bind(pub, transport))
        return pub, sub
    return make


def collect_until_end(pub, sub, topics, recv_multipart_timeout):
    """Publish one message per topic and an ``end`` sentinel (the subscriber
    must take "end"); return the first frames received before the sentinel."""
    for t in topics:
        pub.send(t)
    pub.send(b"end")
    got = []
    while True:
        msg = recv_multipart_timeout(sub)
        if msg == [b"end"]:
            return got
        got.append(msg[0])


# --------------------------------------------------------------------------
# SUB filtering
# --------------------------------------------------------------------------

@pytest.mark.parametrize("transport", ALL)
def test_prefix_subscription(zmq, linked, transport, recv_multipart_timeout):
    """PUB: "Sends to every pipe whose subscriptions match the first frame by byte-prefix"."""
    pub, sub = linked(zmq.PUB, zmq.SUB, transport)
    sub.subscribe(b"end")
    sub.subscribe(b"weather.")
    sync_pubsub(pub, sub, b"end", b"weather.probe")
    got = collect_until_end(pub, sub, [b"weather.nyc", b"weather", b"news", b"weather.", b"w"],
                            recv_multipart_timeout)
    assert got == [b"weather.nyc", b"weather."]


def test_empty_subscription_matches_everything(zmq, linked, recv_multipart_timeout):
    """"the empty subscription matches everything"."""
    pub, sub = linked(zmq.PUB, zmq.SUB)
    sub.subscribe(b"")
    sync_pubsub(pub, sub, b"end")
    assert collect_until_end(pub, sub, [b"a", b"", b"\x00\xff"], recv_multipart_timeout) == \
        [b"a", b"", b"\x00\xff"]


def test_sub_without_subscription_receives_nothing(zmq, sock, endpoint, recv_timeout,
                                                   assert_no_message):
    """SUB: "No subscriptions means nothing is received"."""
    pub = sock(zmq.PUB)
    addr = endpoint.bind(pub, "inproc")
    silent, listening = sock(zmq.SUB), sock(zmq.SUB)
    silent.connect(addr)
    listening.connect(addr)
    listening.subscribe(b"")
    sync_pubsub(pub, listening, b"end")
    pub.send(b"anything")
    assert recv_timeout(listening) == b"anything"
    assert_no_message(silent, 100)


def test_multipart_follows_first_frame(zmq, linked, recv_multipart_timeout):
    """PUB: "The other frames of a multipart message follow the first frame's decision"."""
    pub, sub = linked(zmq.PUB, zmq.SUB)
    sub.subscribe(b"end")
    sub.subscribe(b"A")
    sync_pubsub(pub, sub, b"end", b"Aprobe")
    pub.send_multipart([b"B", b"A"])
    pub.send_multipart([b"A", b"B", b""])
    pub.send(b"end")
    assert recv_multipart_timeout(sub) == [b"A", b"B", b""]
    assert recv_multipart_timeout(sub) == [b"end"]


@pytest.mark.parametrize("transport", ALL)
def test_unsubscribe_stops_delivery(zmq, linked, transport, recv_multipart_timeout):
    pub, sub = linked(zmq.PUB, zmq.SUB, transport)
    sub.subscribe(b"end")
    sub.subscribe(b"A")
    sync_pubsub(pub, sub, b"end", b"Aprobe")
    assert collect_until_end(pub, sub, [b"A1"], recv_multipart_timeout) == [b"A1"]
    sub.unsubscribe(b"A")
    sub.subscribe(b"mark")
    sync_pubsub(pub, sub, b"mark")
    assert collect_until_end(pub, sub, [b"A2"], recv_multipart_timeout) == []


def test_two_subscribes_need_two_unsubscribes(zmq, linked, recv_multipart_timeout):
    """ZMTP 6.2: "Subscriptions are counted, not idempotent: "A" twice needs two CANCELs"."""
    pub, sub = linked(zmq.PUB, zmq.SUB)
    sub.subscribe(b"end")
    sub.subscribe(b"A")
    sub.subscribe(b"A")
    sync_pubsub(pub, sub, b"end", b"Aprobe")
    sub.unsubscribe(b"A")
    sub.subscribe(b"mark1")
    sync_pubsub(pub, sub, b"mark1")
    assert collect_until_end(pub, sub, [b"A1"], recv_multipart_timeout) == [b"A1"]
    sub.unsubscribe(b"A")
    sub.subscribe(b"mark2")
    sync_pubsub(pub, sub, b"mark2")
    assert collect_until_end(pub, sub, [b"A2"], recv_multipart_timeout) == []


def test_pub_fans_out_to_every_subscriber(zmq, sock, endpoint, recv_timeout,
                                          recv_multipart_timeout):
    """distribute: "sends to every *matching* pipe"."""
    pub = sock(zmq.PUB)
    addr = endpoint.bind(pub, "tcp")
    subs = [sock(zmq.SUB) for _ in range(3)]
    for s in subs:
        s.connect(addr)
        s.subscribe(b"data")
        sync_pubsub(pub, s, b"data-probe")
    pub.send(b"data-mark")  # earlier subscribers also got later probes: skip them
    for s in subs:
        while recv_multipart_timeout(s)[0] != b"data-mark":
            pass
    for i in range(10):
        pub.send(b"data%d" % i)
    for s in subs:
        assert [recv_timeout(s) for _ in range(10)] == [b"data%d" % i for i in range(10)]


def test_sub_send_is_enotsup(zmq, sock):
    """"A send on a receive-only type (SUB, ...) ... gives ENOTSUP"."""
    sub = sock(zmq.SUB)
    raises_errno(lambda: sub.send(b"x"), zmq.ENOTSUP)


def test_pub_recv_is_enotsup(zmq, sock):
    """"... a recv on a send-only type (PUB, ...) gives ENOTSUP"."""
    pub = sock(zmq.PUB)
    raises_errno(pub.recv, zmq.ENOTSUP)


@pytest.mark.parametrize("socket_type", ["SUB", "XSUB"])
def test_sub_and_xsub_default_linger_is_zero(zmq, ctx, socket_type):
    """"SUB and XSUB set linger 0 by themselves (tested: SUB 0, DEALER -1)"."""
    s = ctx.socket(getattr(zmq, socket_type))
    try:
        assert s.getsockopt(zmq.LINGER) == 0
    finally:
        s.close()


# --------------------------------------------------------------------------
# HWM
# --------------------------------------------------------------------------

def test_pub_never_blocks_and_drops_at_hwm(zmq, linked):
    """PUB: "A subscriber at HWM misses the message (dropped for that pipe only) ... Never
    blocks"."""
    pub, sub = linked(zmq.PUB, zmq.SUB, pub_opts={"sndhwm": 5, "sndtimeo": -1},
                      sub_opts={"rcvhwm": 5})
    sub.subscribe(b"")
    sync_pubsub(pub, sub, b"end")
    n = 1000
    for i in range(n):
        pub.send(b"%d" % i)
    got = []
    with pytest.raises(zmq.Again):
        while True:
            got.append(sub.recv(zmq.NOBLOCK))
    assert 0 < len(got) < n
    assert got == [b"%d" % i for i in range(len(got))]


def test_pub_without_subscribers_drops(zmq, sock, endpoint):
    """PUB: "A message that matches no one is dropped. Never blocks"."""
    pub = sock(zmq.PUB, sndtimeo=-1)
    endpoint.bind(pub, "tcp")
    for _ in range(2000):
        pub.send(b"into the void")


def test_xpub_nodrop_gives_again_at_hwm(zmq, linked, recv_timeout):
    """XPUB_NODROP=1: "if any matching pipe is at HWM, send returns EAGAIN (so it blocks unless
    DONTWAIT) instead of dropping"."""
    xpub, sub = linked(zmq.XPUB, zmq.SUB, pub_opts={"xpub_nodrop": 1, "sndhwm": 5, "sndtimeo": 50},
                       sub_opts={"rcvhwm": 5})
    sub.subscribe(b"")
    assert recv_timeout(xpub) == b"\x01"
    queued = fill_until_again(xpub)
    assert queued >= 5
    with pytest.raises(zmq.Again):
        xpub.send(b"blocked")
    assert [recv_timeout(sub) for _ in range(queued)] == [b"x"] * queued


# --------------------------------------------------------------------------
# XPUB
# --------------------------------------------------------------------------

@pytest.mark.parametrize("transport", ALL)
def test_xpub_receives_subscribe_and_cancel(zmq, linked, transport, recv_timeout):
    """XPUB: "Receiving: subscription events as one-frame messages 0x01+topic / 0x00+topic"."""
    xpub, sub = linked(zmq.XPUB, zmq.SUB, transport)
    sub.subscribe(b"topic")
    assert recv_timeout(xpub) == b"\x01topic"
    assert xpub.getsockopt(zmq.RCVMORE) == 0
    sub.unsubscribe(b"topic")
    assert recv_timeout(xpub) == b"\x00topic"


def two_subscribers(zmq, sock, endpoint, **xpub_opts):
    xpub = sock(zmq.XPUB, **xpub_opts)
    addr = endpoint.bind(xpub, "inproc")
    subs = [sock(zmq.SUB), sock(zmq.SUB)]
    for s in subs:
        s.connect(addr)
    return xpub, subs


def test_xpub_passes_first_subscribe_and_last_cancel(zmq, sock, endpoint, recv_timeout):
    """XPUB: "By default only a topic's first subscription and its last cancel are passed up"."""
    xpub, (s1, s2) = two_subscribers(zmq, sock, endpoint)
    s1.subscribe(b"A")
    assert recv_timeout(xpub) == b"\x01A"
    s2.subscribe(b"A")
    s2.subscribe(b"mark2")
    assert recv_timeout(xpub) == b"\x01mark2"
    s1.unsubscribe(b"A")
    s1.subscribe(b"mark1")
    assert recv_timeout(xpub) == b"\x01mark1"
    s2.unsubscribe(b"A")
    assert recv_timeout(xpub) == b"\x00A"


def test_xpub_verbose_passes_every_subscribe(zmq, sock, endpoint, recv_timeout):
    """XPUB_VERBOSE=1: "pass up every subscribe, duplicates included" (cancels stay
    last-only)."""
    xpub, (s1, s2) = two_subscribers(zmq, sock, endpoint, xpub_verbose=1)
    s1.subscribe(b"A")
    assert recv_timeout(xpub) == b"\x01A"
    s2.subscribe(b"A")
    assert recv_timeout(xpub) == b"\x01A"
    s1.unsubscribe(b"A")
    s1.subscribe(b"mark1")
    assert recv_timeout(xpub) == b"\x01mark1"
    s2.unsubscribe(b"A")
    assert recv_timeout(xpub) == b"\x00A"


def test_xpub_verboser_passes_every_cancel(zmq, sock, endpoint, recv_timeout):
    """XPUB_VERBOSER=1: "pass up every subscribe and every unsubscribe"."""
    xpub, (s1, s2) = two_subscribers(zmq, sock, endpoint, xpub_verboser=1)
    s1.subscribe(b"A")
    assert recv_timeout(xpub) == b"\x01A"
    s2.subscribe(b"A")
    assert recv_timeout(xpub) == b"\x01A"
    s1.unsubscribe(b"A")
    assert recv_timeout(xpub) == b"\x00A"
    s2.unsubscribe(b"A")
    assert recv_timeout(xpub) == b"\x00A"


def test_xpub_cancels_topics_of_departed_subscriber(zmq, linked, recv_timeout):
    """XPUB: "When a subscriber disconnects: 0x00+topic for each topic no one is left
    subscribed to"."""
    xpub, sub = linked(zmq.XPUB, zmq.SUB, "tcp")
    sub.subscribe(b"A")
    sub.subscribe(b"B")
    assert {recv_timeout(xpub), recv_timeout(xpub)} == {b"\x01A", b"\x01B"}
    sub.close()
    assert {recv_timeout(xpub), recv_timeout(xpub)} == {b"\x00A", b"\x00B"}


def test_sub_unsubscribe_of_unknown_topic_sends_nothing(zmq, linked, recv_timeout):
    """SUB: "UNSUBSCRIBE for a topic that is not subscribed sends nothing"."""
    xpub, sub = linked(zmq.XPUB, zmq.SUB, pub_opts={"xpub_verboser": 1})
    sub.unsubscribe(b"never")
    sub.subscribe(b"mark")
    assert recv_timeout(xpub) == b"\x01mark"


def test_xpub_manual_applies_subscriptions_by_hand(zmq, linked, recv_timeout):
    """XPUB_MANUAL=1: "subscriptions are not applied by themselves. The app receives them and
    then calls setsockopt(ZMQ_SUBSCRIBE/ZMQ_UNSUBSCRIBE, topic) on the XPUB; this applies to the
    pipe of the last subscription message received"."""
    xpub, sub = linked(zmq.XPUB, zmq.SUB, pub_opts={"xpub_manual": 1})
    sub.subscribe(b"")
    assert recv_timeout(xpub) == b"\x01"
    xpub.send(b"A-unapplied")
    xpub.setsockopt(zmq.SUBSCRIBE, b"B")
    xpub.send(b"A-not-chosen")
    xpub.send(b"B1")
    assert recv_timeout(sub) == b"B1"
    xpub.setsockopt(zmq.UNSUBSCRIBE, b"B")
    xpub.send(b"B2")
    xpub.setsockopt(zmq.SUBSCRIBE, b"C")
    xpub.send(b"C1")
    assert recv_timeout(sub) == b"C1"


def test_xpub_welcome_message_goes_to_new_subscribers(zmq, sock, endpoint, recv_timeout):
    """XPUB_WELCOME_MSG: "this message is written straight to every new subscriber's pipe (not
    filtered by the XPUB). The SUB still filters it, so it must subscribe to it"."""
    xpub = sock(zmq.XPUB, xpub_welcome_msg=b"WELCOME")
    addr = endpoint.bind(xpub, "tcp")
    greeted, other, raw = sock(zmq.SUB), sock(zmq.SUB), sock(zmq.XSUB)
    greeted.subscribe(b"WELCOME")
    other.subscribe(b"news")
    for s in (greeted, other, raw):
        s.connect(addr)
    # the bound XPUB greets a connection once its own thread attaches it
    assert recv_poking(greeted, [xpub]) == [b"WELCOME"]
    assert recv_poking(raw, [xpub]) == [b"WELCOME"]
    received = {recv_timeout(xpub), recv_timeout(xpub)}
    assert received == {b"\x01WELCOME", b"\x01news"}
    xpub.send(b"news!")
    assert recv_timeout(other) == b"news!"


def test_xpub_invert_matching_sends_to_non_matching(zmq, linked, recv_timeout):
    """INVERT_MATCHING=1: "send to pipes whose subscriptions do not match"."""
    xpub, xsub = linked(zmq.XPUB, zmq.XSUB, pub_opts={"invert_matching": 1})
    xsub.send(b"\x01A")
    assert recv_timeout(xpub) == b"\x01A"
    xpub.send(b"A1")
    xpub.send(b"B1")
    assert recv_timeout(xsub) == b"B1"


def test_invert_matching_end_to_end(zmq, linked, recv_timeout):
    """INVERT_MATCHING on PUB and SUB ("subscribers must set it too"): SUB delivers only
    non-matching messages."""
    pub, sub = linked(zmq.PUB, zmq.SUB, pub_opts={"invert_matching": 1},
                      sub_opts={"invert_matching": 1})
    sub.subscribe(b"A")
    sync_pubsub(pub, sub, b"end")
    pub.send(b"A1")
    pub.send(b"B1")
    assert recv_timeout(sub) == b"B1"


def test_xpub_checks_every_frame_for_subscriptions(zmq, linked, recv_multipart_timeout,
                                                   recv_timeout):
    """XPUB: "By default every frame of an incoming multipart message is checked for
    0x01/0x00": ["data"(MORE), "\\x01second"] reaches the app and subscribes to "second"."""
    xpub, xsub = linked(zmq.XPUB, zmq.XSUB)
    xsub.send_multipart([b"data", b"\x01second"])
    assert recv_multipart_timeout(xpub) == [b"data", b"\x01second"]
    xpub.send(b"first")
    xpub.send(b"second!")
    assert recv_timeout(xsub) == b"second!"


# --------------------------------------------------------------------------
# XSUB
# --------------------------------------------------------------------------

def test_xsub_sends_subscriptions_and_data_upstream(zmq, linked, recv_multipart_timeout):
    """XSUB sends "0x01+topic: added ... and forwarded; ... anything else: forwarded upstream
    as an ordinary message", which XPUB passes up "with their flags"."""
    xpub, xsub = linked(zmq.XPUB, zmq.XSUB)
    xsub.send(b"\x01A")
    xsub.send_multipart([b"hello", b"", b"world"])
    xsub.send(b"")
    assert recv_multipart_timeout(xpub) == [b"\x01A"]
    assert recv_multipart_timeout(xpub) == [b"hello", b"", b"world"]
    assert recv_multipart_timeout(xpub) == [b""]


def test_xsub_counts_subscriptions(zmq, linked, recv_timeout):
    """XSUB: "0x00+topic: removed and forwarded only if it was present" -- counted like SUB."""
    xpub, xsub = linked(zmq.XPUB, zmq.XSUB, pub_opts={"xpub_verboser": 1})
    xsub.send(b"\x01A")
    xsub.send(b"\x01A")
    assert recv_timeout(xpub) == b"\x01A"
    assert recv_timeout(xpub) == b"\x01A"
    xsub.send(b"\x00A")
    xsub.send(b"\x00never")
    xsub.send(b"\x01mark")
    assert recv_timeout(xpub) == b"\x01mark"
    xsub.send(b"\x00A")
    assert recv_timeout(xpub) == b"\x00A"


def test_xsub_does_not_filter_locally(zmq, linked, recv_timeout):
    """XSUB: "Receives fair-queued with no local filtering (unlike SUB)"."""
    xpub, xsub = linked(zmq.XPUB, zmq.XSUB, pub_opts={"xpub_manual": 1})
    xsub.send(b"\x01A")
    assert recv_timeout(xpub) == b"\x01A"
    xpub.setsockopt(zmq.SUBSCRIBE, b"")
    xpub.send(b"B-not-subscribed")
    assert recv_timeout(xsub) == b"B-not-subscribed"


# --------------------------------------------------------------------------
# reconnection and forwarding
# --------------------------------------------------------------------------

@pytest.mark.parametrize("transport", ["tcp", "ipc"])
def test_sub_resends_subscriptions_to_new_publisher(zmq, sock, endpoint, transport,
                                                    bind_retry, recv_timeout):
    """SUB: "On each new or re-established connection it re-sends all current
    subscriptions"."""
    addr = endpoint.fixed(transport)
    first = sock(zmq.XPUB)
    first.bind(addr)
    sub = sock(zmq.SUB, reconnect_ivl=20)
    sub.connect(addr)
    sub.subscribe(b"A")
    sub.subscribe(b"B")
    assert {recv_timeout(first), recv_timeout(first)} == {b"\x01A", b"\x01B"}
    first.close()
    second = sock(zmq.XPUB)
    bind_retry(second, addr)
    # the SUB re-sends once its own thread sees the new connection
    resent = recv_poking(second, [sub])
    assert {resent[0], recv_timeout(second)} == {b"\x01A", b"\x01B"}
    second.send(b"B-again")
    assert recv_timeout(sub) == b"B-again"


def test_subscriptions_forwarded_through_xsub_xpub(zmq, sock, endpoint, recv_timeout):
    """XPUB-XSUB forwarding by hand: a subscription received on the middle XPUB, sent on the
    middle XSUB, reaches the top publisher; data comes back the other way."""
    top = sock(zmq.XPUB)
    mid_in = sock(zmq.XSUB)
    mid_in.connect(endpoint.bind(top, "tcp"))
    mid_out = sock(zmq.XPUB)
    sub = sock(zmq.SUB)
    sub.connect(endpoint.bind(mid_out, "tcp"))
    sub.subscribe(b"A")
    subscription = recv_timeout(mid_out)
    assert subscription == b"\x01A"
    mid_in.send(subscription)
    assert recv_timeout(top) == b"\x01A"
    top.send(b"B0")
    top.send(b"A1")
    forwarded = recv_timeout(mid_in)
    assert forwarded == b"A1"
    mid_out.send(forwarded)
    assert recv_timeout(sub) == b"A1"
    assert try_recv_multipart(mid_in, 20) is None
