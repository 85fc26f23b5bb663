"""Issue 8's interop matrix: PLAIN and CURVE between the implementation
under test ("ours") and libzmq (pyzmq), each side the server in turn, over
tcp and ipc, for REQ/REP, DEALER/ROUTER, PUB/SUB and PUSH/PULL. The
server's context always runs a ZAP handler: its own library's
ThreadAuthenticator (each context has its own inproc://zeromq.zap.01), so
ours answers for an mqcore server and pyzmq's for a libzmq one.

Good credentials pass messages both ways; bad ones (a wrong password, a
client key not in the certificate directory) are refused: the server's
monitor reports HANDSHAKE_FAILED_AUTH 400 exactly as libzmq's does in the
mirrored setup, the client never completes its handshake, nothing passes.
Large messages (1 MiB and 16 MiB + 1) travel under CURVE."""

import pytest

from ._zap import auth_module

pytestmark = pytest.mark.interop

REQ, REP, DEALER, ROUTER, PUB, SUB, PUSH, PULL = 3, 4, 5, 6, 1, 2, 8, 7
PAIRS = {"req-rep": (REQ, REP), "dealer-router": (DEALER, ROUTER),
         "sub-pub": (SUB, PUB), "push-pull": (PUSH, PULL)}
MECHS = ("plain", "curve")
SIDES = ("ours", "libzmq")
TRANSPORTS = ("tcp", "ipc")
USER, PASSWORD = "admin", "secret"
EV_CONNECTED, EV_ACCEPTED, EV_DISCONNECTED = 1, 32, 512
EV_HANDSHAKE_SUCCEEDED, EV_FAILED_AUTH = 0x1000, 0x4000
HANDSHAKE_EVENTS = (0x0800, 0x1000, 0x2000, 0x4000)     # failed-no-detail .. failed-auth


class Secured:
    """Builds client/server pairs where `server_lib` binds as the PLAIN or
    CURVE server with its own library's ZAP handler in front of it."""

    def __init__(self, zmq, pyzmq, ctx, pctx, make_socket, endpoint, tmp_path):
        self.zmq, self.pyzmq = zmq, pyzmq
        self.ctx, self.pctx = ctx, pctx
        self.make_socket = make_socket
        self.endpoint = endpoint
        self.tmp_path = tmp_path
        self.authenticators = {}

    def lib(self, side):
        return (self.zmq, self.ctx) if side == "ours" else (self.pyzmq, self.pctx)

    def authenticator(self, side):
        """The ZAP handler of side's context, started once."""
        if side not in self.authenticators:
            mod, context = self.lib(side)
            auth = auth_module(mod, "thread").ThreadAuthenticator(context)
            auth.start()
            self.authenticators[side] = auth
        return self.authenticators[side]

    def certificate_dir(self, public_key):
        d = self.tmp_path / "certs"
        d.mkdir(exist_ok=True)
        (d / "client.key").write_text(
            'metadata\ncurve\n    public-key = "%s"\n' % public_key.decode())
        return str(d)

    def pair(self, mech, server_lib, transport, types, good=True, monitor=False):
        """(client, server[, client_monitor, server_monitor]); the client
        connects, the server binds and authenticates."""
        client_lib = "libzmq" if server_lib == "ours" else "ours"
        sctx, cctx = self.lib(server_lib)[1], self.lib(client_lib)[1]
        client_type, server_type = types
        server = self.make_socket(sctx, server_type)
        client = self.make_socket(cctx, client_type)
        auth = self.authenticator(server_lib)
        if mech == "plain":
            auth.configure_plain(domain="*", passwords={USER: PASSWORD})
            server.plain_server = True
            client.plain_username = USER.encode()
            client.plain_password = (PASSWORD if good else "wrong").encode()
        else:
            (sp, ss), (cp, cs) = self.pyzmq.curve_keypair(), self.pyzmq.curve_keypair()
            allowed = cp if good else self.pyzmq.curve_keypair()[0]
            auth.configure_curve(domain="*", location=self.certificate_dir(allowed))
            server.curve_server = True
            server.curve_secretkey = ss
            client.curve_serverkey = sp
            client.curve_publickey, client.curve_secretkey = cp, cs
        addr = self.endpoint.bind(server, transport)
        monitors = ()
        if monitor:
            monitors = (client.get_monitor_socket(), server.get_monitor_socket())
            for m in monitors:
                m.rcvtimeo = 5000
        client.connect(addr)
        return (client, server) + monitors

    def close(self):
        """Stops the ZAP handlers (inproc://zeromq.zap.01 is free again)."""
        for auth in self.authenticators.values():
            auth.stop()
        self.authenticators.clear()


@pytest.fixture
def secured(zmq, pyzmq, ctx, pctx, make_socket, endpoint, tmp_path):
    s = Secured(zmq, pyzmq, ctx, pctx, make_socket, endpoint, tmp_path)
    yield s
    s.close()


def subscribed(pub, sub):
    """Publishes probes until one reaches the subscriber (the subscription
    itself travels through the secured connection)."""
    sub.subscribe(b"")
    sub.rcvtimeo = 20
    for _ in range(250):
        pub.send(b"probe")
        try:
            sub.recv()
            break
        except Exception:  # noqa: BLE001 - Again until the subscription arrives
            continue
    else:
        pytest.fail("the subscription never reached the publisher")
    sub.rcvtimeo = 100
    while True:                         # drop probes still in flight
        try:
            sub.recv()
        except Exception:  # noqa: BLE001
            break
    sub.rcvtimeo = 5000


def exchange(types, client, server, recv_multipart_timeout, assert_no_message):
    """Messages both ways where the pattern allows, multipart included."""
    if types == (SUB, PUB):
        subscribed(server, client)
        server.send_multipart([b"topic", b"body"])
        assert recv_multipart_timeout(client) == [b"topic", b"body"]
        return
    for i in range(3):
        client.send_multipart([b"ask %d" % i, b"", b"x" * 300])
        got = recv_multipart_timeout(server)
        if types == (DEALER, ROUTER):
            ident, got = got[0], got[1:]
        assert got == [b"ask %d" % i, b"", b"x" * 300]
        if types == (PUSH, PULL):
            continue
        reply = [b"answer %d" % i, b"more"]
        server.send_multipart([ident, *reply] if types == (DEALER, ROUTER) else reply)
        assert recv_multipart_timeout(client) == reply
    assert_no_message(server, 20)


@pytest.mark.parametrize("pair", PAIRS)
@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("server_lib", SIDES)
@pytest.mark.parametrize("mech", MECHS)
def test_good_credentials_pass(secured, mech, server_lib, transport, pair,
                               recv_multipart_timeout, assert_no_message):
    types = PAIRS[pair]
    client, server = secured.pair(mech, server_lib, transport, types)
    exchange(types, client, server, recv_multipart_timeout, assert_no_message)


def test_libzmq_server_sees_our_plain_user_id(secured, recv_timeout):
    """pyzmq's ZAP handler names the user; libzmq puts it on each message."""
    client, server = secured.pair("plain", "libzmq", "tcp", (PUSH, PULL))
    client.send(b"who")
    frame = recv_timeout(server, copy=False)
    assert frame.bytes == b"who" and frame.get("User-Id") == USER


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("server_lib", SIDES)
def test_large_multipart_under_curve(secured, server_lib, transport, recv_multipart_timeout):
    mib = bytes(range(256)) * 4096
    big = b"\x5a" * (16 * 1024 * 1024) + b"!"
    client, server = secured.pair("curve", server_lib, transport, (DEALER, ROUTER))
    client.send_multipart([b"head", mib, big, b""])
    ident, *got = recv_multipart_timeout(server, 20000)
    assert [len(p) for p in got] == [4, 1 << 20, (16 << 20) + 1, 0]
    assert got == [b"head", mib, big, b""]
    server.send_multipart([ident, big, mib])
    assert recv_multipart_timeout(client, 20000) == [big, mib]


def monitor_events(mod, mon, until=EV_DISCONNECTED):
    """(event, value) from mon up to and including the first `until`; the
    values of events that carry a file descriptor are left out (None)."""
    from importlib import import_module
    recv = import_module(mod.__name__ + ".utils.monitor").recv_monitor_message
    seen = []
    while not seen or seen[-1][0] != until:
        ev = recv(mon)
        keep = ev["event"] in HANDSHAKE_EVENTS
        seen.append((int(ev["event"]), int(ev["value"]) if keep else None))
    return seen


def refusal(secured, mech, server_lib, transport):
    """A client with bad credentials against server_lib: (the client's
    events, the server's events), both up to their DISCONNECTED."""
    client, server, cmon, smon = secured.pair(mech, server_lib, transport, (PUSH, PULL),
                                              good=False, monitor=True)
    cmod = secured.lib("libzmq" if server_lib == "ours" else "ours")[0]
    smod = secured.lib(server_lib)[0]
    server_events = monitor_events(smod, smon)
    client_events = monitor_events(cmod, cmon)
    return client, server, client_events, server_events


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("server_lib", SIDES)
@pytest.mark.parametrize("mech", MECHS)
def test_bad_credentials_refused(secured, mech, server_lib, transport, assert_no_message):
    client, server, client_events, server_events = refusal(secured, mech, server_lib, transport)
    # The server's view, event for event, as libzmq reports it.
    assert server_events == [(EV_ACCEPTED, None), (EV_FAILED_AUTH, 400),
                             (EV_DISCONNECTED, None)], server_events
    # The client connected, never completed a handshake, was disconnected.
    assert (EV_CONNECTED, None) in client_events[:2], client_events
    assert all(e != EV_HANDSHAKE_SUCCEEDED for e, _ in client_events), client_events
    assert client_events[-1] == (EV_DISCONNECTED, None)
    client.sndtimeo = 0
    try:
        client.send(b"never")
    except Exception:  # noqa: BLE001 - Again: no peer to queue for
        pass
    assert_no_message(server, 100)
