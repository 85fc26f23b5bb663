"""PUB/SUB interop between the implementation under test and real pyzmq.

PUB-SUB, XPUB-SUB, PUB-XSUB and XPUB-XSUB run with either library on either
side, each side binding and each side connecting, over tcp and ipc.  What
crosses the wire: SUBSCRIBE/CANCEL commands (from SUB, and XSUB's stored
set), subscription data frames ``0x01``/``0x00`` + topic written by the
application to an XSUB, and published messages filtered by prefix.
"""

import pytest

from pattern_helpers import (
    INTEROP_ROLES,
    interop_role_id,
    recv_poking,
    sync_pubsub,
    try_recv_multipart,
)

pytestmark = pytest.mark.interop

PUB, SUB, XPUB, XSUB = 1, 2, 9, 10


def publish_and_collect(pub, sub, topics):
    """Send one message per topic, then an ``end`` sentinel (*sub* must be
    subscribed to it); return the topics received before the sentinel (one
    connection keeps order)."""
    for t in topics:
        pub.send_multipart([t, b"body"])
    pub.send_multipart([b"end", b""])
    got = []
    while True:
        msg = try_recv_multipart(sub, 5000)
        assert msg is not None, f"sentinel never arrived; got {got!r}"
        if msg[0] == b"end":
            return got
        got.append(msg[0])


@pytest.mark.parametrize("role", INTEROP_ROLES, ids=interop_role_id(["PUB", "SUB"]))
def test_sub_prefix_filter_reaches_publisher(connect, role):
    pub, sub = connect((PUB, SUB), role)
    sub.subscribe(b"end")
    sub.subscribe(b"weather.")
    sync_pubsub(pub, sub, b"end", b"weather.probe")
    got = publish_and_collect(pub, sub, [b"weather.paris", b"news", b"weather", b"weather.x"])
    assert got == [b"weather.paris", b"weather.x"]


@pytest.mark.parametrize("role", INTEROP_ROLES, ids=interop_role_id(["PUB", "SUB"]))
def test_unsubscribe_reaches_publisher(connect, role):
    pub, sub = connect((PUB, SUB), role)
    sub.subscribe(b"end")
    sub.subscribe(b"A")
    sync_pubsub(pub, sub, b"end", b"Aprobe")
    sub.unsubscribe(b"A")
    # the publisher applies a connection's subscription changes in order:
    # once "probe" (matched by nothing else) is active, the cancel of "A" is too
    sub.subscribe(b"probe")
    sync_pubsub(pub, sub, b"probe")
    assert publish_and_collect(pub, sub, [b"A1", b"A2"]) == []


@pytest.mark.parametrize("role", INTEROP_ROLES, ids=interop_role_id(["XPUB", "SUB"]))
def test_xpub_receives_sub_subscriptions(connect, role, recv_timeout):
    """XPUB shows subscriptions as 0x01+topic and cancels as 0x00+topic."""
    xpub, sub = connect((XPUB, SUB), role)
    sub.subscribe(b"topic")
    assert recv_poking(xpub, [sub]) == [b"\x01topic"]
    xpub.send_multipart([b"topic-1", b"data"])
    xpub.send(b"other")
    xpub.send(b"topic-2")
    assert recv_timeout(sub) == b"topic-1"
    assert recv_timeout(sub) == b"data"
    assert recv_timeout(sub) == b"topic-2"
    sub.unsubscribe(b"topic")
    assert recv_timeout(xpub) == b"\x00topic"


@pytest.mark.parametrize("role", INTEROP_ROLES, ids=interop_role_id(["XPUB", "SUB"]))
def test_xpub_welcome_message(connect, role, recv_timeout):
    xpub, sub = connect((XPUB, SUB), role, opts=({"xpub_welcome_msg": b"WELCOME"}, {}))
    sub.subscribe(b"WELCOME")
    assert recv_poking(sub, [xpub]) == [b"WELCOME"]
    assert recv_timeout(xpub) == b"\x01WELCOME"


@pytest.mark.parametrize("role", INTEROP_ROLES, ids=interop_role_id(["PUB", "XSUB"]))
def test_xsub_subscription_frames_filter_at_publisher(connect, role):
    """XSUB sends 0x01+topic as a data frame; the PUB must accept that form too."""
    pub, xsub = connect((PUB, XSUB), role)
    xsub.send(b"\x01end")
    xsub.send(b"\x01B")
    sync_pubsub(pub, xsub, b"end", b"Bprobe")
    assert publish_and_collect(pub, xsub, [b"A", b"B1", b"C", b"B2"]) == [b"B1", b"B2"]
    xsub.send(b"\x00B")
    xsub.send(b"\x01probe")
    sync_pubsub(pub, xsub, b"probe")
    assert publish_and_collect(pub, xsub, [b"B3"]) == []


@pytest.mark.parametrize("role", INTEROP_ROLES, ids=interop_role_id(["XPUB", "XSUB"]))
def test_xpub_xsub_subscriptions_and_upstream_data(connect, role, recv_timeout,
                                                   recv_multipart_timeout):
    xpub, xsub = connect((XPUB, XSUB), role)
    xsub.send(b"\x01news")
    assert recv_poking(xpub, [xsub]) == [b"\x01news"]
    # anything else from an XSUB is passed up to the XPUB application
    xsub.send_multipart([b"upstream", b"frames"])
    assert recv_multipart_timeout(xpub) == [b"upstream", b"frames"]
    xpub.send_multipart([b"news!", b"x"])
    xpub.send(b"sports")
    xpub.send(b"news2")
    assert recv_multipart_timeout(xsub) == [b"news!", b"x"]
    assert recv_multipart_timeout(xsub) == [b"news2"]
    xsub.send(b"\x00news")
    assert recv_timeout(xpub) == b"\x00news"
