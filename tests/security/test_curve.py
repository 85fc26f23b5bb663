"""CURVE (RFC 26) between the implementation under test and libzmq (pyzmq),
each side the CURVE server in turn, over tcp and ipc, for the socket-type
pairs that matter, with multipart and large messages; a wrong server key
lets nothing through and the server's monitor reports the handshake
failure with libzmq's code."""
import threading
import time

import pytest
from zmq.utils import z85

pytestmark = pytest.mark.interop

KEY_FORMS = ("z85", "binary", "z85nul")


def keys(pyzmq):
    return pyzmq.curve_keypair(), pyzmq.curve_keypair()


def key_as(form, pyzmq, z85key):
    if form == "binary":
        return z85.decode(z85key)
    if form == "z85nul":
        return z85key + b"\0"
    return z85key


def make_pair(zmq, pyzmq, ctx, pctx, make_socket, endpoint, types, server_lib, transport,
              form="z85", server_binds=True):
    """(client, server) CURVE sockets of the given types, server_lib's
    socket the CURVE server ("ours" = the implementation under test)."""
    (sp, ss), (cp, cs) = keys(pyzmq)
    client_type, server_type = types
    sctx, cctx = (ctx, pctx) if server_lib == "ours" else (pctx, ctx)
    server = make_socket(sctx, server_type)
    client = make_socket(cctx, client_type)
    server.curve_secretkey = key_as(form, pyzmq, ss)
    server.curve_publickey = key_as(form, pyzmq, sp)
    server.curve_server = True
    client.curve_serverkey = key_as(form, pyzmq, sp)
    client.curve_publickey = key_as(form, pyzmq, cp)
    client.curve_secretkey = key_as(form, pyzmq, cs)
    if server_binds:
        client.connect(endpoint.bind(server, transport))
    else:
        server.connect(endpoint.bind(client, transport))
    return client, server


SIDES = ("ours", "libzmq")
TRANSPORTS = ("tcp", "ipc")
REQ, REP, DEALER, ROUTER, PUB, SUB, PUSH, PULL, PAIR = 3, 4, 5, 6, 1, 2, 8, 7, 0
BIG = b"\xa5" * (1 << 20) + b"tail"


@pytest.fixture
def pair(zmq, pyzmq, ctx, pctx, make_socket, endpoint):
    def make(types, server_lib, transport, **kw):
        return make_pair(zmq, pyzmq, ctx, pctx, make_socket, endpoint, types, server_lib, transport, **kw)
    return make


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("server_lib", SIDES)
def test_req_rep(pair, server_lib, transport, recv_multipart_timeout):
    req, rep = pair((REQ, REP), server_lib, transport)
    for i in range(20):
        req.send_multipart([b"q%d" % i, b"part two"])
        assert recv_multipart_timeout(rep) == [b"q%d" % i, b"part two"]
        rep.send(b"a%d" % i)
        assert recv_multipart_timeout(req) == [b"a%d" % i]


@pytest.mark.parametrize("form", KEY_FORMS)
@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("server_lib", SIDES)
def test_dealer_router_multipart_and_large(pair, server_lib, transport, form, recv_multipart_timeout):
    dealer, router = pair((DEALER, ROUTER), server_lib, transport, form=form)
    dealer.send_multipart([b"", b"small", BIG, b""])
    ident, *rest = recv_multipart_timeout(router)
    assert rest == [b"", b"small", BIG, b""]
    router.send_multipart([ident, BIG, b"x"])
    assert recv_multipart_timeout(dealer) == [BIG, b"x"]
    for i in range(300):
        dealer.send_multipart([b"m%d" % i, b"y" * (i * 7)])
    for i in range(300):
        assert recv_multipart_timeout(router)[1:] == [b"m%d" % i, b"y" * (i * 7)]


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("server_lib", SIDES)
def test_push_pull_many_and_large(pair, server_lib, transport, recv_multipart_timeout):
    push, pull = pair((PUSH, PULL), server_lib, transport)
    for i in range(2000):
        push.send(b"%d" % i)
    push.send_multipart([BIG, BIG])
    for i in range(2000):
        assert recv_multipart_timeout(pull) == [b"%d" % i]
    assert recv_multipart_timeout(pull) == [BIG, BIG]


# Frame sizes around every boundary the MESSAGE path has: empty, the inline
# (VSM) limit, a CURVE header's 32/33 bytes, the 255/256 short/long frame
# length, the engine's 8 KiB copy limit, the 64 KiB pool and read batch,
# and past 1 MiB. Each body is pseudo-random (seeded by its size), so a
# shift, an overlap or a stale byte anywhere shows.
BOUNDARY_SIZES = (0, 1, 31, 32, 33, 255, 256, 8191, 8192, 8193, 16383, 16384,
                  65535, 65536, 65537, (1 << 20) + 1)


def _boundary_body(size, salt):
    import random
    return random.Random(size * 31 + salt).randbytes(size)


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("server_lib", SIDES)
def test_boundary_sizes_both_ways(pair, server_lib, transport, recv_multipart_timeout):
    """Every boundary size, alone and all together as one multipart
    message, from client to server and back, against libzmq: what arrives
    is byte for byte what was sent (also received without copying)."""
    client, server = pair((PAIR, PAIR), server_lib, transport)
    for salt, (src, dst) in enumerate(((client, server), (server, client))):
        bodies = [_boundary_body(n, salt) for n in BOUNDARY_SIZES]
        for body in bodies:
            src.send(body)
        src.send_multipart(bodies)
        src.send_multipart(bodies[::-1], copy=False)
        for body in bodies:
            got = recv_multipart_timeout(dst)
            assert len(got) == 1 and len(got[0]) == len(body) and got[0] == body
        got = recv_multipart_timeout(dst)
        assert [len(g) for g in got] == list(BOUNDARY_SIZES) and got == bodies
        got = [f.bytes for f in recv_multipart_timeout(dst, copy=False)]
        assert got == bodies[::-1]


def wait_subscribed(pub, sub, topic, recv_timeout_ms=50, tries=200):
    """Publishes a probe until the subscription has reached the publisher."""
    sub.rcvtimeo = recv_timeout_ms
    for _ in range(tries):
        pub.send_multipart([topic + b"-probe", b""])
        try:
            sub.recv_multipart()
        except Exception:  # noqa: BLE001 - Again until subscribed
            continue
        break
    else:
        raise AssertionError("subscription never arrived")
    sub.rcvtimeo = 5000
    while True:         # drop other probes already on their way
        sub.rcvtimeo = 100
        try:
            sub.recv_multipart()
        except Exception:  # noqa: BLE001
            break
    sub.rcvtimeo = 5000


@pytest.mark.parametrize("server_binds", [True, False], ids=["pub-binds", "sub-binds"])
@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("server_lib", SIDES)
def test_pub_sub_subscriptions_under_curve(pair, server_lib, transport, server_binds,
                                           recv_multipart_timeout, assert_no_message):
    """The subscriptions themselves travel as encrypted MESSAGE commands
    (SUBSCRIBE inside the box); filtering must still work."""
    sub, pub = pair((SUB, PUB), server_lib, transport, server_binds=server_binds)
    sub.subscribe(b"news")
    wait_subscribed(pub, sub, b"news")
    pub.send_multipart([b"sports", b"no"])
    pub.send_multipart([b"news", b"yes", BIG])
    assert recv_multipart_timeout(sub) == [b"news", b"yes", BIG]
    sub.unsubscribe(b"news")
    sub.subscribe(b"weather")
    wait_subscribed(pub, sub, b"weather")
    pub.send_multipart([b"news", b"gone"])
    pub.send_multipart([b"weather", b"rain"])
    assert recv_multipart_timeout(sub) == [b"weather", b"rain"]
    assert_no_message(sub)


@pytest.mark.parametrize("server_lib", SIDES)
def test_ours_both_sides(zmq, ctx, make_socket, endpoint, server_lib, recv_multipart_timeout):
    """Our client and our server, keys from our own curve_keypair."""
    sp, ss = zmq.curve_keypair()
    cp, cs = zmq.curve_keypair()
    server = make_socket(ctx, ROUTER, curve_server=1, curve_secretkey=ss, curve_publickey=sp)
    client = make_socket(ctx, DEALER, curve_serverkey=sp, curve_publickey=cp, curve_secretkey=cs)
    client.connect(endpoint.bind(server, "tcp"))
    client.send_multipart([b"a", BIG])
    ident, *rest = recv_multipart_timeout(server)
    assert rest == [b"a", BIG]
    server.send_multipart([ident, b"b"])
    assert recv_multipart_timeout(client) == [b"b"]


# ---------------------------------------------------------------- failures

def monitor_events(mod, sock, want, timeout=5.0):
    """Events from sock's monitor until one of `want` (event numbers)
    arrives; returns the list seen ([] on timeout)."""
    from importlib import import_module
    recv = import_module(mod.__name__ + ".utils.monitor").recv_monitor_message
    mon = sock.get_monitor_socket()
    mon.rcvtimeo = 200
    seen = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            try:
                ev = recv(mon)
            except Exception:  # noqa: BLE001 - Again: nothing yet
                continue
            seen.append(ev)
            if ev["event"] in want:
                break
    finally:
        sock.disable_monitor()
        mon.close(linger=0)
    return seen


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("server_lib", SIDES)
def test_wrong_server_key_fails_handshake(zmq, pyzmq, ctx, pctx, make_socket, endpoint,
                                          server_lib, transport, assert_no_message):
    """The client encrypts HELLO to a key that is not the server's: the
    server cannot open it, closes the connection and reports
    HANDSHAKE_FAILED_PROTOCOL with ZMTP_CRYPTOGRAPHIC; nothing passes."""
    (sp, ss), (cp, cs) = keys(pyzmq)
    wrong, _ = pyzmq.curve_keypair()
    sctx, smod, cctx = (ctx, zmq, pctx) if server_lib == "ours" else (pctx, pyzmq, ctx)
    server = make_socket(sctx, PULL, curve_server=1, curve_secretkey=ss, curve_publickey=sp)
    client = make_socket(cctx, PUSH, curve_serverkey=wrong, curve_publickey=cp,
                         curve_secretkey=cs, sndtimeo=0)
    addr = endpoint.bind(server, transport)
    want = {pyzmq.EVENT_HANDSHAKE_FAILED_PROTOCOL, pyzmq.EVENT_HANDSHAKE_SUCCEEDED}
    result = []
    t = threading.Thread(target=lambda: result.extend(monitor_events(smod, server, want)))
    t.start()
    time.sleep(0.1)
    client.connect(addr)
    t.join(10)
    codes = [(e["event"], e["value"]) for e in result]
    assert (pyzmq.EVENT_HANDSHAKE_FAILED_PROTOCOL, pyzmq.PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC) in codes, codes
    assert all(e != pyzmq.EVENT_HANDSHAKE_SUCCEEDED for e, _ in codes), codes
    try:
        client.send(b"secret")
    except Exception:  # noqa: BLE001 - Again: no peer to queue for
        pass
    assert_no_message(server, 300)


@pytest.mark.parametrize("server_lib", SIDES)
def test_null_client_to_curve_server_is_refused(zmq, pyzmq, ctx, pctx, make_socket, endpoint,
                                                server_lib, assert_no_message):
    """A mechanism mismatch: the NULL client never reaches the CURVE server."""
    sp, ss = pyzmq.curve_keypair()
    sctx, cctx = (ctx, pctx) if server_lib == "ours" else (pctx, ctx)
    server = make_socket(sctx, PULL, curve_server=1, curve_secretkey=ss, curve_publickey=sp)
    client = make_socket(cctx, PUSH, sndtimeo=0)
    client.connect(endpoint.bind(server, "tcp"))
    try:
        client.send(b"plain")
    except Exception:  # noqa: BLE001
        pass
    assert_no_message(server, 300)


@pytest.mark.parametrize("server_lib", SIDES)
def test_heartbeats_pass_inside_message_boxes(zmq, pyzmq, ctx, pctx, make_socket, endpoint,
                                              server_lib, recv_multipart_timeout):
    """PING/PONG go as MESSAGE boxes too (COMMAND flag inside): with a
    short heartbeat timeout on both sides the connection must survive a
    quiet second, which it only does if each side's PINGs are answered."""
    (sp, ss), (cp, cs) = keys(pyzmq)
    hb = dict(heartbeat_ivl=50, heartbeat_timeout=300, heartbeat_ttl=500)
    sctx, smod, cctx = (ctx, zmq, pctx) if server_lib == "ours" else (pctx, pyzmq, ctx)
    server = make_socket(sctx, PULL, curve_server=1, curve_secretkey=ss, curve_publickey=sp, **hb)
    client = make_socket(cctx, PUSH, curve_serverkey=sp, curve_publickey=cp, curve_secretkey=cs, **hb)
    client.connect(endpoint.bind(server, "tcp"))
    client.send(b"before")
    assert recv_multipart_timeout(server) == [b"before"]
    seen = monitor_events(smod, server, {pyzmq.EVENT_DISCONNECTED}, timeout=1.2)
    assert all(e["event"] != pyzmq.EVENT_DISCONNECTED for e in seen), seen
    client.send(b"after")
    assert recv_multipart_timeout(server) == [b"after"]


# Which libsodium CURVE runs on (mech/sodium.pxi): PyNaCl's by default,
# another one through MQCORE_SODIUM, none when the one asked for is missing.
# Each case runs in a child process, since the choice is made at import.
_SODIUM_CHILD = r"""
import sys
import mqcore, zmq
print(mqcore._core.sodium_library())
print(mqcore.has("curve"))
if not mqcore.has("curve"):
    try:
        mqcore.curve_keypair()
    except mqcore.ZMQError as e:
        print("keypair", e.errno == mqcore.ENOTSUP)
    s = mqcore.Context.instance().socket(mqcore.PULL)
    try:
        s.curve_server = True
    except mqcore.ZMQError as e:
        print("option", e.errno == mqcore.EINVAL)
    s.close(0)
    sys.exit(0)
sp, ss = mqcore.curve_keypair()
cp, cs = zmq.curve_keypair()
mctx, zctx = mqcore.Context(), zmq.Context()
server = mctx.socket(mqcore.PAIR)
server.curve_server, server.curve_secretkey = True, ss
server.rcvtimeo = server.sndtimeo = server.linger = 5000
port = server.bind_to_random_port("tcp://127.0.0.1")
client = zctx.socket(zmq.PAIR)
client.curve_serverkey, client.curve_publickey, client.curve_secretkey = sp, cp, cs
client.rcvtimeo = client.sndtimeo = 5000
client.linger = 0
client.connect("tcp://127.0.0.1:%d" % port)
body = bytes(range(256)) * 4097
client.send_multipart([b"", body])
assert server.recv_multipart() == [b"", body]
server.send_multipart([body, b"x"])
assert client.recv_multipart() == [body, b"x"]
print("traffic ok")
client.close(0)
server.close(0)
"""


def _sodium_child(value):
    import os
    import subprocess
    import sys
    import tempfile
    import mqcore
    package_root = os.path.dirname(os.path.dirname(os.path.abspath(mqcore.__file__)))
    env = dict(os.environ, PYTHONPATH=package_root)
    env.pop("MQCORE_SODIUM", None)
    if value is not None:
        env["MQCORE_SODIUM"] = value
    result = subprocess.run([sys.executable, "-c", _SODIUM_CHILD], capture_output=True,
                            text=True, timeout=60, cwd=tempfile.gettempdir(), env=env)
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def test_sodium_default_is_pynacl():
    assert _sodium_child(None) == ["pynacl", "True", "traffic ok"]
    assert _sodium_child("pynacl") == ["pynacl", "True", "traffic ok"]


def test_sodium_from_a_library_path(pyzmq):
    # pyzmq's wheel bundles a libsodium shared library: a real one to load.
    import glob
    import os
    libs_dir = os.path.join(os.path.dirname(os.path.dirname(pyzmq.__file__)), "pyzmq.libs")
    found = sorted(glob.glob(os.path.join(libs_dir, "libsodium*.so*")))
    assert found, f"no libsodium in {libs_dir}"
    assert _sodium_child(found[0]) == [found[0], "True", "traffic ok"]


def test_sodium_missing_library_means_no_curve(tmp_path):
    missing = str(tmp_path / "libsodium-missing.so")
    assert _sodium_child(missing) == ["None", "False", "keypair True", "option True"]
