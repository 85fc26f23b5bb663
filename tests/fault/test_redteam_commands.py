"""Commands from a raw ZMTP peer never reach the application as data.

SUBSCRIBE and CANCEL mean something only to the publishing side (PUB,
XPUB). mqcore turned them into 0x01/0x00 + topic messages for every socket
type, so a peer could inject such "messages" into a PULL, DEALER, ROUTER,
PAIR, SUB or XSUB; and one sent between the frames of a multipart message
became a frame of that message (the rest split off as a message of its
own). libzmq 4.3 also leaks them into ROUTER and PAIR (as the raw command
bytes) and drops the connection's later traffic elsewhere: mqcore only, the
libzmq behaviour is not the reference here.
"""

import socket
import sys
import time

import pytest

from .procs import IMPL

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from zmtp import command, greeting, ready  # noqa: E402

pytestmark = pytest.mark.skipif(IMPL != "mqcore", reason="libzmq leaks these commands too")


def part(data, more=False):
    return bytes([1 if more else 0, len(data)]) + data


SUBSCRIBE = command(b"SUBSCRIBE", b"topic")
CANCEL = command(b"CANCEL", b"topic")

CASES = [("PULL", b"PUSH"), ("DEALER", b"DEALER"), ("ROUTER", b"DEALER"), ("PAIR", b"PAIR"),
         ("SUB", b"PUB"), ("XSUB", b"PUB")]


def attach_raw(zmq, ctx, stype, peer_type):
    s = ctx.socket(getattr(zmq, stype))
    s.setsockopt(zmq.RCVTIMEO, 2000)
    s.setsockopt(zmq.LINGER, 0)
    if stype == "SUB":
        s.setsockopt(zmq.SUBSCRIBE, b"")
    port = s.bind_to_random_port("tcp://127.0.0.1")
    r = socket.create_connection(("127.0.0.1", port), timeout=5)
    r.sendall(greeting() + ready(peer_type))
    return s, r


def received(zmq, s, stype):
    """The messages delivered, without ROUTER's routing-id frame."""
    out = []
    while True:
        try:
            msg = s.recv_multipart(zmq.NOBLOCK if out else 0)
        except zmq.Again:
            return out
        if stype == "ROUTER":
            msg = msg[1:]
        out.append(msg)
        if msg == [b"end"]:
            return out


@pytest.mark.parametrize("stype,peer_type", CASES)
def test_subscribe_to_a_non_publisher_is_not_data(zmq, stype, peer_type):
    ctx = zmq.Context()
    ctx.setsockopt(zmq.LINGER, 0)
    try:
        s, r = attach_raw(zmq, ctx, stype, peer_type)
        with r:
            r.sendall(SUBSCRIBE + part(b"one") + CANCEL + part(b"A", True) + SUBSCRIBE
                      + part(b"B") + part(b"end"))
            assert received(zmq, s, stype) == [[b"one"], [b"A", b"B"], [b"end"]]
    finally:
        ctx.destroy(0)


def test_subscribe_between_frames_does_not_split_a_message_on_xpub(zmq):
    ctx = zmq.Context()
    ctx.setsockopt(zmq.LINGER, 0)
    try:
        s, r = attach_raw(zmq, ctx, "XPUB", b"XSUB")
        with r:
            r.sendall(SUBSCRIBE + part(b"A", True) + SUBSCRIBE + part(b"B") + part(b"end"))
            assert received(zmq, s, "XPUB") == [[b"\x01topic"], [b"A", b"B"], [b"end"]]
    finally:
        ctx.destroy(0)


def read_command(r, name, timeout=3.0):
    """The body of the next command frame called `name` from the socket."""
    from zmtp import read_frame
    r.settimeout(timeout)
    while True:
        flags, body = read_frame(r)
        if flags & 0x04 and body[1:1 + body[0]] == name:
            return body


@pytest.mark.parametrize("ping,pong", [
    (command(b"PING"), b"\x04PONG"),                                   # no TTL: nothing to echo
    (command(b"PING", b"\x00\x00"), b"\x04PONG"),
    (command(b"PING", b"\x00\x00" + b"c" * 40), b"\x04PONG" + b"c" * 16),  # context cut to 16
])
def test_pong_echoes_only_the_ping_context(zmq, ping, pong):
    # libzmq 4.3 answers a PING without TTL with 16 bytes of its own memory.
    from zmtp import read_exact
    ctx = zmq.Context()
    ctx.setsockopt(zmq.LINGER, 0)
    try:
        s, r = attach_raw(zmq, ctx, "PULL", b"PUSH")
        with r:
            read_exact(r, 64)
            read_command(r, b"READY")
            r.sendall(ping + part(b"end"))
            assert read_command(r, b"PONG") == pong
            assert received(zmq, s, "PULL") == [[b"end"]]
    finally:
        ctx.destroy(0)
