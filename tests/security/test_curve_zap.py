"""CURVE servers and ZAP: an mqcore CURVE server asks the handler bound at
inproc://zeromq.zap.01 (mqcore's ThreadAuthenticator) about each client's
long-term key, as libzmq's curve_server does. Clients whose certificate is
in the authenticator's directory (or any client with CURVE_ALLOW_ANY) get
through; others are refused with HANDSHAKE_FAILED_AUTH 400 and nothing
passes. Without a handler every key is accepted unless ZAP_ENFORCE_DOMAIN
is set. Clients are pyzmq (libzmq 4.3) and mqcore."""

import pytest
import zmq

import mqcore
import mqcore.auth
import mqcore.auth.thread

from ._zap import handshake_outcome

TIMEOUT = 3000


@pytest.fixture
def keys(tmp_path):
    """A server pair, an allowed client whose public certificate sits in
    the authenticator's directory, and a stranger."""
    server_pub, server_sec = mqcore.curve_keypair()
    allowed_pub, allowed_sec = mqcore.curve_keypair()
    stranger_pub, stranger_sec = mqcore.curve_keypair()
    certs = tmp_path / "certs"
    certs.mkdir()
    (certs / "allowed.key").write_text(
        "metadata\ncurve\n    public-key = \"%s\"\n" % allowed_pub.decode())
    return {"server": (server_pub, server_sec), "allowed": (allowed_pub, allowed_sec),
            "stranger": (stranger_pub, stranger_sec), "dir": str(certs)}


def curve_server(mctx, keys, enforce=False):
    s = mctx.socket(mqcore.PULL)
    s.curve_server = True
    s.curve_secretkey = keys["server"][1]
    if enforce:
        s.setsockopt(mqcore.ZAP_ENFORCE_DOMAIN, 1)
    s.rcvtimeo = TIMEOUT
    s.linger = 0
    mon = s.get_monitor_socket()
    mon.rcvtimeo = TIMEOUT
    s.bind("tcp://127.0.0.1:*")
    return s, mon


def curve_client(ctx, lib, keys, who):
    c = ctx.socket(lib.PUSH)
    c.curve_serverkey = keys["server"][0]
    c.curve_publickey, c.curve_secretkey = keys[who]
    c.linger = 0
    c.sndtimeo = TIMEOUT
    return c


def lib_and_ctx(name, mctx, zctx):
    return (zmq, zctx) if name == "pyzmq" else (mqcore, mctx)


@pytest.mark.parametrize("lib", ["pyzmq", "mqcore"])
def test_certificate_in_directory_passes_stranger_refused(mctx, zctx, keys, lib):
    auth = mqcore.auth.thread.ThreadAuthenticator(mctx)
    auth.start()
    try:
        auth.configure_curve(domain="*", location=keys["dir"])
        srv, mon = curve_server(mctx, keys)
        L, ctx = lib_and_ctx(lib, mctx, zctx)
        good = curve_client(ctx, L, keys, "allowed")
        good.connect(srv.last_endpoint)
        good.send(b"from a friend")
        assert srv.recv() == b"from a friend"
        assert handshake_outcome(mon)["event"] == mqcore.EVENT_HANDSHAKE_SUCCEEDED

        bad = curve_client(ctx, L, keys, "stranger")
        bad.connect(srv.last_endpoint)
        ev = handshake_outcome(mon)
        assert ev["event"] == mqcore.EVENT_HANDSHAKE_FAILED_AUTH and ev["value"] == 400
        srv.rcvtimeo = 300
        with pytest.raises(mqcore.Again):
            srv.recv()
        good.close()
        bad.close()
        mon.close()
        srv.close()
    finally:
        auth.stop()


def test_allow_any_lets_every_key_in(mctx, zctx, keys):
    auth = mqcore.auth.thread.ThreadAuthenticator(mctx)
    auth.start()
    try:
        auth.configure_curve(domain="*", location=mqcore.auth.CURVE_ALLOW_ANY)
        srv, mon = curve_server(mctx, keys)
        c = curve_client(zctx, zmq, keys, "stranger")
        c.connect(srv.last_endpoint)
        c.send(b"anyone")
        assert srv.recv() == b"anyone"
        c.close()
        mon.close()
        srv.close()
    finally:
        auth.stop()


def test_no_handler_accepts_any_key(mctx, zctx, keys):
    srv, mon = curve_server(mctx, keys)
    c = curve_client(zctx, zmq, keys, "stranger")
    c.connect(srv.last_endpoint)
    c.send(b"no handler")
    assert srv.recv() == b"no handler"
    c.close()
    mon.close()
    srv.close()


def test_enforced_domain_without_handler_refuses(mctx, zctx, keys):
    srv, mon = curve_server(mctx, keys, enforce=True)
    c = curve_client(zctx, zmq, keys, "allowed")
    c.connect(srv.last_endpoint)
    ev = handshake_outcome(mon)
    assert ev["event"] == mqcore.EVENT_HANDSHAKE_FAILED_NO_DETAIL
    srv.rcvtimeo = 300
    with pytest.raises(mqcore.Again):
        srv.recv()
    c.close()
    mon.close()
    srv.close()
