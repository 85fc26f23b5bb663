"""ZAP metadata reaches the messages (RFC 27, libzmq's zmq_msg_gets): a ZAP
handler that answers 200 with user id "alice" and the metadata
{"X-Role": "admin"} makes every message received on that connection carry
User-Id, X-Role, and the connection's own properties (Peer-Address, the
peer's Socket-Type), read with Frame.get on a frame received with
copy=False. The server is the implementation under test, the client
libzmq (pyzmq); with MQCORE_TEST_IMPL=zmq libzmq plays both."""

import threading

import pytest

from ._zap import ZAP_ENDPOINT

pytestmark = pytest.mark.interop

DEALER, ROUTER, REP = 5, 6, 4


def zmtp_properties(props):
    """ZMTP metadata: name length (1 byte), name, value length (4), value."""
    return b"".join(bytes([len(k)]) + k + len(v).to_bytes(4, "big") + v
                    for k, v in props.items())


class Handler:
    """A REP at the context's ZAP endpoint answering every request with
    200, user id "alice" and the metadata X-Role = admin."""

    def __init__(self, zmq, context):
        self.sock = context.socket(REP)
        self.sock.linger = 0
        self.sock.rcvtimeo = 100
        self.sock.bind(ZAP_ENDPOINT)
        self.requests = []
        self.stopping = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while not self.stopping:
            try:
                req = self.sock.recv_multipart()
            except Exception:  # noqa: BLE001 - Again: look at stopping
                continue
            self.requests.append(req)
            self.sock.send_multipart([req[0], req[1], b"200", b"OK", b"alice",
                                      zmtp_properties({b"X-Role": b"admin"})])

    def stop(self):
        self.stopping = True
        self.thread.join(5)
        self.sock.close()


@pytest.fixture
def handler(zmq, ctx):
    h = Handler(zmq, ctx)
    yield h
    h.stop()


def secure(mech, server, client, pyzmq):
    if mech == "plain":
        server.plain_server = True
        client.plain_username = b"alice"
        client.plain_password = b"anything"
    elif mech == "curve":
        (sp, ss), (cp, cs) = pyzmq.curve_keypair(), pyzmq.curve_keypair()
        server.curve_server = True
        server.curve_secretkey = ss
        client.curve_serverkey = sp
        client.curve_publickey, client.curve_secretkey = cp, cs
    else:
        server.zap_domain = b"metadata"


@pytest.mark.parametrize("mech", ["null", "plain", "curve"])
def test_zap_user_id_and_metadata_on_received_frames(zmq, pyzmq, ctx, pctx, make_socket,
                                                     handler, mech):
    server = make_socket(ctx, ROUTER)
    client = make_socket(pctx, DEALER)
    secure(mech, server, client, pyzmq)
    server.bind("tcp://127.0.0.1:*")
    client.connect(server.getsockopt(zmq.LAST_ENDPOINT).decode())
    client.send_multipart([b"first", b"second"])
    ident, first, second = server.recv_multipart(copy=False)
    assert (first.bytes, second.bytes) == (b"first", b"second")
    for frame in (first, second):
        assert frame.get("User-Id") == "alice"
        assert frame.get("X-Role") == "admin"
        assert frame.get("Peer-Address") == "127.0.0.1"
        assert frame.get("Socket-Type") == "DEALER"
    assert len(handler.requests) == 1
    assert handler.requests[0][5] == mech.upper().encode()
