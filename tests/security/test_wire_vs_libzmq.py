"""The security handshakes on the wire, checked against the bytes libzmq
(pyzmq) sends in the same place, not only against ourselves.

PLAIN is deterministic, so each side is compared byte for byte: a raw TCP
peer plays the other end and records the greeting, HELLO and INITIATE a
client sends, and the greeting, WELCOME and READY (or the refusal) a
server sends. CURVE is random, so its handshake is compared by structure
through a recording relay between real peers: the commands, their flags
and sizes (HELLO's body is 200 bytes, WELCOME's 168), HELLO's clear
fields and first nonce, and the ERROR a server sends for a refused key.

One difference is deliberate: a server's greeting says as-server = 1 at
offset 32 as RFC 23 asks; libzmq 4.3.5 leaves that byte 0."""

import importlib
import socket
import time

import pytest

from ._wire import GREETING_SIZE, Recorder, command_name, frames, greeting, read_until_closed

pytestmark = pytest.mark.interop

REQ, REP, DEALER, ROUTER, PUB, SUB, PUSH, PULL = 3, 4, 5, 6, 1, 2, 8, 7
CLIENT_TYPES = {"dealer": DEALER, "req": REQ, "sub": SUB, "push": PUSH}
SERVER_TYPES = {"router": (ROUTER, b"DEALER"), "rep": (REP, b"REQ"), "pub": (PUB, b"SUB"),
                "pull": (PULL, b"PUSH")}      # and the peer type the raw client names
AS_SERVER = 32
TIMEOUT_S = 5


def command(name: bytes, body: bytes = b"") -> bytes:
    data = bytes([len(name)]) + name + body
    return b"\x04" + bytes([len(data)]) + data


def prop(name: bytes, value: bytes) -> bytes:
    return bytes([len(name)]) + name + len(value).to_bytes(4, "big") + value


def has_frames(n, prefix=b""):
    return lambda data: len(frames(prefix + data)) >= n


class Authenticated:
    """A fresh context of mod with its ZAP handler started (a context per
    capture: libzmq frees inproc://zeromq.zap.01 only some time after the
    handler's socket closes)."""

    def __init__(self, mod):
        self.context = mod.Context()
        thread = importlib.import_module(mod.__name__ + ".auth.thread")
        self.auth = thread.ThreadAuthenticator(self.context)
        self.auth.start()

    def __enter__(self):
        return self.context, self.auth

    def __exit__(self, *exc):
        self.auth.stop()
        self.context.destroy(linger=0)


def plain_client_bytes(mod, context, socket_type):
    """What a PLAIN client sends to a raw server that greets it and
    answers its HELLO with WELCOME: greeting + HELLO + INITIATE."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        listener.settimeout(TIMEOUT_S)
        client = context.socket(socket_type)
        client.linger = 0
        client.plain_username = b"admin"
        client.plain_password = b"secret"
        client.connect("tcp://127.0.0.1:%d" % listener.getsockname()[1])
        peer, _ = listener.accept()
        with peer:
            peer.sendall(greeting(b"PLAIN", as_server=True))
            sent = read_until_closed(peer, TIMEOUT_S, has_frames(1))
            peer.sendall(command(b"WELCOME"))
            sent += read_until_closed(peer, TIMEOUT_S, has_frames(2, sent))
        client.close()
    return sent


def plain_server_bytes(mod, socket_type, password, peer_type=b"DEALER"):
    """What a PLAIN server (its context's ZAP handler knowing admin/secret)
    sends to a raw client: greeting + WELCOME + READY, or its refusal."""
    with Authenticated(mod) as (context, auth):
        auth.configure_plain(domain="*", passwords={"admin": "secret"})
        server = context.socket(socket_type)
        server.linger = 0
        server.plain_server = True
        server.bind("tcp://127.0.0.1:*")
        port = int(server.getsockopt(mod.LAST_ENDPOINT).decode().rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT_S) as peer:
            peer.sendall(greeting(b"PLAIN", as_server=False)
                         + command(b"HELLO", b"\x05admin" + bytes([len(password)]) + password))
            got = read_until_closed(peer, TIMEOUT_S, has_frames(1))
            if command_name(frames(got)[0][1]) == b"WELCOME":
                peer.sendall(command(b"INITIATE", prop(b"Socket-Type", peer_type)
                                     + prop(b"Identity", b"")))
                got += read_until_closed(peer, TIMEOUT_S, has_frames(2, got))
        server.close()
    return got


@pytest.mark.parametrize("kind", CLIENT_TYPES)
def test_plain_client_bytes_equal_libzmq(zmq, pyzmq, ctx, pctx, kind):
    ours = plain_client_bytes(zmq, ctx, CLIENT_TYPES[kind])
    theirs = plain_client_bytes(pyzmq, pctx, CLIENT_TYPES[kind])
    assert [command_name(b) for _, b in frames(theirs)] == [b"HELLO", b"INITIATE"]
    assert frames(theirs)[0] == (4, b"\x05HELLO\x05admin\x06secret")
    assert ours == theirs


@pytest.mark.parametrize("kind", SERVER_TYPES)
def test_plain_server_bytes_equal_libzmq(zmq, pyzmq, kind):
    server_type, peer_type = SERVER_TYPES[kind]
    ours = plain_server_bytes(zmq, server_type, b"secret", peer_type)
    theirs = plain_server_bytes(pyzmq, server_type, b"secret", peer_type)
    assert [command_name(b) for _, b in frames(theirs)] == [b"WELCOME", b"READY"]
    assert ours[:AS_SERVER] == theirs[:AS_SERVER]
    assert ours[AS_SERVER + 1:] == theirs[AS_SERVER + 1:]
    assert ours[AS_SERVER] in (0, 1)


def test_plain_bad_password_refused_with_400(zmq, pyzmq):
    """Both servers answer the HELLO with one command ending in the status
    code "400". Its name differs: libzmq 4.3.5 sends the 9-byte body
    b"\\x5eRROR\\x03400" (name byte 0x5E, then "RROR"), which its own
    clients take for ERROR; RFC 23's is b"\\x05ERROR\\x03400"."""
    for mod in (zmq, pyzmq):
        got = plain_server_bytes(mod, PULL, b"wrong")
        (flags, body), = frames(got)
        assert flags == 4 and body.endswith(b"\x03400"), body
        assert len(got) == GREETING_SIZE + 2 + len(body)


def curve_capture(zmq, pyzmq, ours_side, refuse=False):
    """(up, down, server secret key): the bytes a CURVE DEALER client sent
    and those a CURVE ROUTER server sent, relayed between ours (on
    `ours_side`) and libzmq. The server's ZAP handler lets any key in, or
    refuses every key."""
    smod, cmod = (zmq, pyzmq) if ours_side == "server" else (pyzmq, zmq)
    with Authenticated(smod) as (sctx, auth):
        cctx = cmod.Context()
        try:
            return curve_relayed(smod, sctx, auth, cctx, pyzmq, refuse)
        finally:
            cctx.destroy(linger=0)


def curve_relayed(smod, sctx, auth, cctx, pyzmq, refuse):
    auth.configure_curve(domain="*", location=auth_allow_any(smod) if not refuse
                         else "/nonexistent-certificates")
    sp, ss = pyzmq.curve_keypair()
    cp, cs = pyzmq.curve_keypair()
    server = sctx.socket(ROUTER)
    client = cctx.socket(DEALER)
    recorder = None
    try:
        for s in (server, client):
            s.linger = 0
            s.rcvtimeo = s.sndtimeo = TIMEOUT_S * 1000
        server.curve_server = True
        server.curve_secretkey = ss
        client.curve_serverkey = sp
        client.curve_publickey, client.curve_secretkey = cp, cs
        server.bind("tcp://127.0.0.1:*")
        recorder = Recorder(int(server.getsockopt(smod.LAST_ENDPOINT).decode().rsplit(":", 1)[1]))
        client.connect("tcp://127.0.0.1:%d" % recorder.port)
        if refuse:
            deadline = time.monotonic() + TIMEOUT_S
            while not any(command_name(b) == b"ERROR" for _, b in frames(bytes(recorder.down))):
                assert time.monotonic() < deadline, "no ERROR within the timeout"
                time.sleep(0.01)
        else:
            client.send(b"ping")
            assert server.recv_multipart()[1:] == [b"ping"]
    finally:
        client.close()
        server.close()
        if recorder:
            recorder.close()
    return bytes(recorder.up), bytes(recorder.down), ss


def auth_allow_any(mod):
    return importlib.import_module(mod.__name__ + ".auth").CURVE_ALLOW_ANY


def shape(data):
    """(flags, command name or b"", body size) of each frame."""
    return [(flags, command_name(body) if flags & 4 else b"", len(body))
            for flags, body in frames(data)]


@pytest.mark.parametrize("ours_side", ["client", "server"])
def test_curve_handshake_shape_equals_libzmq(zmq, pyzmq, ours_side):
    ours_up, ours_down, _ = curve_capture(zmq, pyzmq, ours_side)
    lib_up, lib_down, _ = curve_capture(pyzmq, pyzmq, ours_side)
    # libzmq's own handshake: HELLO 200, INITIATE, one MESSAGE; WELCOME 168, READY.
    assert shape(lib_up)[0] == (4, b"HELLO", 200)
    assert shape(lib_down)[0] == (4, b"WELCOME", 168)
    assert [n for _, n, _ in shape(lib_up)] == [b"HELLO", b"INITIATE", b""]
    assert [n for _, n, _ in shape(lib_down)] == [b"WELCOME", b"READY"]
    assert shape(ours_up) == shape(lib_up)
    assert shape(ours_down) == shape(lib_down)
    assert ours_up[:GREETING_SIZE] == lib_up[:GREETING_SIZE]
    assert ours_down[:AS_SERVER] == lib_down[:AS_SERVER]
    assert ours_down[AS_SERVER + 1:GREETING_SIZE] == lib_down[AS_SERVER + 1:GREETING_SIZE]
    # HELLO's clear part: name, version 1.0, 72 bytes of anti-amplification
    # padding; then C' (32), the short nonce (8: the first is 1), the box (80).
    ours_hello, lib_hello = frames(ours_up)[0][1], frames(lib_up)[0][1]
    assert ours_hello[:80] == lib_hello[:80] == b"\x05HELLO\x01\x00" + bytes(72)
    assert ours_hello[112:120] == lib_hello[112:120] == (1).to_bytes(8, "big")


@pytest.mark.parametrize("ours_side", ["client", "server"])
def test_curve_refusal_bytes_equal_libzmq(zmq, pyzmq, ours_side):
    """A key the ZAP handler refuses: the server answers INITIATE with a
    clear ERROR "400", byte for byte as libzmq does."""
    ours_up, ours_down, _ = curve_capture(zmq, pyzmq, ours_side, refuse=True)
    lib_up, lib_down, _ = curve_capture(pyzmq, pyzmq, ours_side, refuse=True)
    assert frames(lib_down)[-1] == (4, b"\x05ERROR\x03400")
    assert frames(ours_down)[-1] == frames(lib_down)[-1]
    assert shape(ours_up) == shape(lib_up)
    assert shape(ours_down) == shape(lib_down)
