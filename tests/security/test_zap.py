"""The ZAP client (RFC 27): an mqcore PLAIN (or NULL with ZAP_DOMAIN) server
asks the handler bound at inproc://zeromq.zap.01 in its own context -- here
mqcore's own ThreadAuthenticator, or a hand-made REP -- about pyzmq and mqcore
clients, over tcp and ipc. Accepted clients' messages pass; refused ones get
the monitor's HANDSHAKE_FAILED_AUTH with the status code and nothing passes;
a malformed reply is a protocol error with libzmq's ZAP code; a handler that
closes while a handshake waits neither crashes nor hangs anything."""

import threading
import time

import pytest
import zmq

import mqcore
import mqcore.auth.thread

from ._zap import ZAP_ENDPOINT, handshake_outcome

PASSWORDS = {"admin": "secret"}
TIMEOUT = 3000
ZAP_MALFORMED_REPLY = 0x20000001


@pytest.fixture
def auth(mctx):
    a = mqcore.auth.thread.ThreadAuthenticator(mctx)
    a.start()
    a.configure_plain(domain="*", passwords=PASSWORDS)
    yield a
    a.stop()


def server(mctx, bind_endpoint, plain=True, domain=None):
    s = mctx.socket(mqcore.PULL)
    if plain:
        s.plain_server = True
    if domain is not None:
        s.zap_domain = domain
    s.rcvtimeo = TIMEOUT
    s.linger = 0
    mon = s.get_monitor_socket()
    mon.rcvtimeo = TIMEOUT
    s.bind(bind_endpoint)
    return s, mon


def client(ctx, lib, user=None, password=None):
    c = ctx.socket(lib.PUSH)
    if user is not None:
        c.plain_username = user
        c.plain_password = password
    c.linger = 0
    c.sndtimeo = TIMEOUT
    return c


def wait_event(mon, wanted):
    """The first handshake outcome the monitor reports, which must be wanted."""
    ev = handshake_outcome(mon)
    assert ev["event"] == wanted, ev
    return ev


def rep_handler(mctx):
    """A hand-made ZAP handler: a REP bound where the ZAP client asks."""
    h = mctx.socket(mqcore.REP)
    h.rcvtimeo = h.sndtimeo = TIMEOUT
    h.linger = 0
    h.bind(ZAP_ENDPOINT)
    return h


def assert_nothing_passes(srv):
    srv.rcvtimeo = 300
    with pytest.raises(mqcore.Again):
        srv.recv()


@pytest.mark.parametrize("lib", ["pyzmq", "mqcore"])
def test_good_password_passes(auth, mctx, zctx, bind_endpoint, lib):
    srv, mon = server(mctx, bind_endpoint)
    c = client(zctx if lib == "pyzmq" else mctx, zmq if lib == "pyzmq" else mqcore,
               b"admin", b"secret")
    c.connect(srv.last_endpoint)
    c.send(b"hello")
    assert srv.recv() == b"hello"
    wait_event(mon, mqcore.EVENT_HANDSHAKE_SUCCEEDED)
    c.close()
    mon.close()
    srv.close()


@pytest.mark.parametrize("lib", ["pyzmq", "mqcore"])
def test_bad_password_refused(auth, mctx, zctx, bind_endpoint, lib):
    srv, mon = server(mctx, bind_endpoint)
    c = client(zctx if lib == "pyzmq" else mctx, zmq if lib == "pyzmq" else mqcore,
               b"admin", b"wrong")
    c.connect(srv.last_endpoint)
    ev = wait_event(mon, mqcore.EVENT_HANDSHAKE_FAILED_AUTH)
    assert ev["value"] == 400
    assert_nothing_passes(srv)
    c.close()
    mon.close()
    srv.close()


def test_deny_by_address(auth, mctx, zctx):
    auth.deny("127.0.0.1")
    srv, mon = server(mctx, "tcp://127.0.0.1:*")
    c = client(zctx, zmq, b"admin", b"secret")
    c.connect(srv.last_endpoint)
    assert wait_event(mon, mqcore.EVENT_HANDSHAKE_FAILED_AUTH)["value"] == 400
    assert_nothing_passes(srv)
    c.close()
    mon.close()
    srv.close()


def test_allow_by_address(auth, mctx, zctx):
    auth.allow("127.0.0.1")
    srv, mon = server(mctx, "tcp://127.0.0.1:*")
    c = client(zctx, zmq, b"admin", b"secret")
    c.connect(srv.last_endpoint)
    c.send(b"in")
    assert srv.recv() == b"in"
    c.close()
    mon.close()
    srv.close()


@pytest.mark.parametrize("lib", ["pyzmq", "mqcore"])
def test_null_with_domain_and_deny_list_refused(auth, mctx, zctx, lib):
    auth.deny("127.0.0.1")
    srv, mon = server(mctx, "tcp://127.0.0.1:*", plain=False, domain=b"global")
    c = client(zctx if lib == "pyzmq" else mctx, zmq if lib == "pyzmq" else mqcore)
    c.connect(srv.last_endpoint)
    assert wait_event(mon, mqcore.EVENT_HANDSHAKE_FAILED_AUTH)["value"] == 400
    assert_nothing_passes(srv)
    c.close()
    mon.close()
    srv.close()


def test_null_with_domain_allowed(auth, mctx, zctx):
    srv, mon = server(mctx, "tcp://127.0.0.1:*", plain=False, domain=b"global")
    c = client(zctx, zmq)
    c.connect(srv.last_endpoint)
    c.send(b"null")
    assert srv.recv() == b"null"
    c.close()
    mon.close()
    srv.close()


def test_null_without_handler_not_asked(mctx, zctx):
    srv, mon = server(mctx, "tcp://127.0.0.1:*", plain=False, domain=b"global")
    c = client(zctx, zmq)
    c.connect(srv.last_endpoint)
    c.send(b"free")
    assert srv.recv() == b"free"
    c.close()
    mon.close()
    srv.close()


def test_null_enforce_domain_without_handler_refused(mctx, zctx):
    srv = mctx.socket(mqcore.PULL)
    srv.zap_domain = b"global"
    srv.zap_enforce_domain = 1
    srv.linger = 0
    mon = srv.get_monitor_socket()
    mon.rcvtimeo = TIMEOUT
    srv.bind("tcp://127.0.0.1:*")
    c = client(zctx, zmq)
    c.connect(srv.last_endpoint)
    wait_event(mon, mqcore.EVENT_HANDSHAKE_FAILED_NO_DETAIL)
    assert_nothing_passes(srv)
    c.close()
    mon.close()
    srv.close()


def test_request_frames_and_user_handler(mctx, zctx):
    """A hand-made REP handler sees libzmq's request frames."""
    h = rep_handler(mctx)
    srv, mon = server(mctx, "tcp://127.0.0.1:*", domain=b"dom")
    srv.routing_id = b"srv-id"
    c = client(zctx, zmq, b"u", b"p")
    c.connect(srv.last_endpoint)
    req = h.recv_multipart()
    assert req == [b"1.0", b"1", b"dom", b"127.0.0.1", b"", b"PLAIN", b"u", b"p"]
    h.send_multipart([b"1.0", b"1", b"200", b"OK", b"user", b""])
    c.send(b"x")
    assert srv.recv() == b"x"
    c.close()
    mon.close()
    srv.close()
    h.close()


@pytest.mark.parametrize("reply, code", [
    ([b"1.0", b"1", b"200"], ZAP_MALFORMED_REPLY),                     # too few frames
    ([b"1.0", b"1", b"201", b"", b"", b""], ZAP_MALFORMED_REPLY + 3),  # no such status
], ids=["malformed", "bad-status"])
def test_bad_reply_is_protocol_error(mctx, zctx, reply, code):
    h = rep_handler(mctx)
    srv, mon = server(mctx, "tcp://127.0.0.1:*")
    c = client(zctx, zmq, b"u", b"p")
    c.connect(srv.last_endpoint)
    h.recv_multipart()
    h.send_multipart(reply)
    ev = wait_event(mon, mqcore.EVENT_HANDSHAKE_FAILED_PROTOCOL)
    assert ev["value"] == code
    assert_nothing_passes(srv)
    c.close()
    mon.close()
    srv.close()
    h.close()


def test_handler_closed_while_handshake_waits(mctx, zctx):
    h = rep_handler(mctx)
    srv, mon = server(mctx, "tcp://127.0.0.1:*")
    c = client(zctx, zmq, b"u", b"p")
    c.connect(srv.last_endpoint)
    h.recv_multipart()          # the request is in; never answered
    h.close()
    ev = wait_event(mon, mqcore.EVENT_HANDSHAKE_FAILED_AUTH)
    assert ev["value"] == 500
    assert_nothing_passes(srv)
    # The name is free again; with no handler a PLAIN server refuses.
    c.close()
    mon.close()
    srv.close()


def test_handler_closed_before_request_arrives(mctx, zctx):
    h = rep_handler(mctx)
    srv, mon = server(mctx, "tcp://127.0.0.1:*")
    h.close()
    c = client(zctx, zmq, b"u", b"p")
    c.connect(srv.last_endpoint)
    wait_event(mon, mqcore.EVENT_HANDSHAKE_FAILED_NO_DETAIL)
    assert_nothing_passes(srv)
    c.close()
    mon.close()
    srv.close()


def test_handler_closes_in_a_race(mctx, zctx):
    """Clients keep arriving while the handler socket closes: no crash,
    no hang, and the context terminates."""
    h = rep_handler(mctx)
    srv, mon = server(mctx, "tcp://127.0.0.1:*")
    srv.handshake_ivl = 1000
    clients = []
    for _ in range(10):
        c = client(zctx, zmq, b"u", b"p")
        c.connect(srv.last_endpoint)
        clients.append(c)
    time.sleep(0.05)
    h.close()
    for c in clients:
        c.close()
    mon.close()
    srv.close()
    t = threading.Thread(target=mctx.term, daemon=True)
    t.start()
    t.join(5)
    assert not t.is_alive()
