"""The mechanism interface (src/mech/): a mechanism is a row (name, number,
private state, init) with client/server roles, the greeting's as-server
byte, the peer's whole property list, and encode/decode run by the ZMTP
engine on every frame it writes and reads. Proved with a test-only toy
mechanism (api/testing.pxi) that XORs every frame: two mqcore sockets talk
through a relay that records the bytes on the wire."""
import os
import struct
import time

import pytest

pytestmark = pytest.mark.skipif(
    (os.environ.get("MQCORE_TEST_IMPL", "mqcore").strip() or "mqcore") != "mqcore",
    reason="drives mqcore's mechanism table through its test-only entry points")

from mqcore import _core  # noqa: E402
from wire_relay import Recorder  # noqa: E402


def xor(data):
    key = _core._toy_key()
    return bytes(b ^ key for b in data)


@pytest.fixture
def toy():
    return _core._toy_mechanism_register()


def test_a_registered_mechanism_transforms_every_frame_on_the_wire(zmq, sock, toy):
    server = sock(zmq.DEALER)
    client = sock(zmq.DEALER)
    _core._set_mechanism(server, toy, True)
    _core._set_mechanism(client, toy, False)
    server.bind("tcp://127.0.0.1:0")
    port = int(server.getsockopt(zmq.LAST_ENDPOINT).decode().rsplit(":", 1)[1])
    relay = Recorder(port)
    try:
        client.connect(f"tcp://127.0.0.1:{relay.port}")
        secret = b"attack at dawn " * 4
        big = bytes(range(256)) * 400           # a large body: written from its own memory path
        client.send_multipart([secret, big])
        assert server.recv_multipart() == [secret, big]
        server.send(b"reply from the server")
        assert client.recv() == b"reply from the server"
        up, down = bytes(relay.up), bytes(relay.down)
        # The greeting names the mechanism and each side's role.
        assert up[12:17] == b"X-TOY" and up[32] == 0
        assert down[12:17] == b"X-TOY" and down[32] == 1
        # The plain bytes never cross; their XOR-ed form does.
        assert secret not in up and xor(secret) in up
        assert big[:1000] not in up and xor(big[:1000]) in up
        assert b"reply from the server" not in down and xor(b"reply from the server") in down
        # The handshake is in the clear (READY with the toy's property).
        assert b"X-Toy" in up and b"X-Toy" in down
    finally:
        relay.close()


def test_roles_must_differ(zmq, sock, toy):
    # Two "servers": the toy mechanism refuses the peer, nothing is delivered.
    a = sock(zmq.PAIR, rcvtimeo=300)
    b = sock(zmq.PAIR, sndtimeo=0)
    _core._set_mechanism(a, toy, True)
    _core._set_mechanism(b, toy, True)
    a.bind("tcp://127.0.0.1:0")
    b.connect(a.getsockopt(zmq.LAST_ENDPOINT).decode())
    try:
        b.send(b"x")        # queued on the connecting side's pipe
    except zmq.Again:
        pass    # the refusal already ended the connection, and PAIR's pipe with it
    with pytest.raises(zmq.Again):
        a.recv()


def test_mismatched_mechanisms_do_not_talk(zmq, sock, toy):
    a = sock(zmq.PAIR, rcvtimeo=300)
    b = sock(zmq.PAIR, sndtimeo=0)
    _core._set_mechanism(a, toy, True)
    a.bind("tcp://127.0.0.1:0")
    b.connect(a.getsockopt(zmq.LAST_ENDPOINT).decode())     # NULL
    try:
        b.send(b"x")
    except zmq.Again:
        pass    # the mismatch already ended the connection, and PAIR's pipe with it
    with pytest.raises(zmq.Again):
        a.recv()


def test_encode_and_decode_count_every_frame_with_private_state(zmq, ctx, toy):
    before = _core._toy_mechanism_counts()
    server = ctx.socket(zmq.PULL)
    client = ctx.socket(zmq.PUSH)
    try:
        _core._set_mechanism(server, toy, True)
        _core._set_mechanism(client, toy, False)
        server.setsockopt(zmq.RCVTIMEO, 5000)
        server.bind("tcp://127.0.0.1:0")
        client.connect(server.getsockopt(zmq.LAST_ENDPOINT).decode())
        for i in range(50):
            client.send_multipart([b"a%d" % i, b"b"])
        for i in range(50):
            assert server.recv_multipart() == [b"a%d" % i, b"b"]
    finally:
        client.close(linger=1000)
        server.close(linger=0)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        enc, dec = _core._toy_mechanism_counts()
        if enc - before[0] >= 100 and dec - before[1] >= 100:
            break
        time.sleep(0.02)
    enc, dec = _core._toy_mechanism_counts()
    assert enc - before[0] >= 100 and dec - before[1] >= 100


def test_pubsub_subscriptions_are_encoded_too(zmq, sock, toy):
    pub = sock(zmq.PUB)
    sub = sock(zmq.SUB)
    _core._set_mechanism(pub, toy, True)
    _core._set_mechanism(sub, toy, False)
    pub.bind("tcp://127.0.0.1:0")
    sub.connect(pub.getsockopt(zmq.LAST_ENDPOINT).decode())
    sub.setsockopt(zmq.SUBSCRIBE, b"topic")
    deadline = time.monotonic() + 5
    while True:
        pub.send(b"topic hello")
        try:
            assert sub.recv(zmq.NOBLOCK) == b"topic hello"
            break
        except zmq.Again:
            assert time.monotonic() < deadline
            time.sleep(0.02)


def test_the_peer_properties_are_kept_whole():
    props = b"".join(bytes([len(n)]) + n + struct.pack(">I", len(v)) + v
                     for n, v in [(b"Socket-Type", b"DEALER"), (b"User-Id", b"alice"), (b"X-Trace", b"")])
    assert _core._metadata_lookup(props, "User-Id") == b"alice"
    assert _core._metadata_lookup(props, "user-id") == b"alice"      # names compare without case
    assert _core._metadata_lookup(props, "X-Trace") == b""
    assert _core._metadata_lookup(props, "Identity") is None


def test_the_greeting_carries_the_role():
    assert _core._greeting_as(True)[32] == 1
    assert _core._greeting_as(False)[32] == 0
    assert _core._greeting_as(False)[:32] == _core._greeting(0)[:32]


def test_commands_are_built_by_the_codec():
    ping = _core._ping_frame(2500, b"ctx")
    assert ping == b"\x04\x0a\x04PING\x00\x19ctx"
    pong, ttl = _core._pong_frame(ping[2:])
    assert pong == b"\x04\x08\x04PONGctx" and ttl == 2500
    frame, back, body = _core._subscription_command(True, b"news")
    assert frame == b"\x04\x0e\x09SUBSCRIBEnews" and back == b"\x01news" and body == b"\x09SUBSCRIBEnews"
    frame, back, body = _core._subscription_command(False, b"")
    assert frame == b"\x04\x07\x06CANCEL" and back == b"\x00"
    body, reason = _core._error_command(b"no")
    assert body == b"\x05ERROR\x02no" and reason == b"no"
