"""CURVE on the wire, through a TCP relay between the two sides: the
plaintext never appears, the handshake is RFC 26's (greeting mechanism
"CURVE", a 200-byte HELLO), and a MESSAGE replayed or altered on the way
is refused (the connection is closed, nothing of it is delivered). Each
check runs with our side as client and as server against libzmq (pyzmq)."""
import socket
import threading

import pytest

pytestmark = pytest.mark.interop

PUSH, PULL = 8, 7
SECRET = b"attack at dawn, bring the red folder"


class FrameRelay:
    """Relays one TCP connection; client->server traffic is cut into ZMTP
    frames after the greeting and passed through `edit(index, frame) ->
    bytes` (index counts the client's frames from 0)."""

    def __init__(self, target_port, edit=None):
        self.target = target_port
        self.edit = edit or (lambda i, f: f)
        self.lsock = socket.socket()
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(1)
        self.port = self.lsock.getsockname()[1]
        self.lsock.settimeout(0.05)     # so that the accept thread sees close()
        self.up = bytearray()
        self.down = bytearray()
        self.socks = []
        self.closed = False
        self.threads = [threading.Thread(target=self._accept, daemon=True)]
        self.threads[0].start()

    def _accept(self):
        while not self.closed:
            try:
                a, _ = self.lsock.accept()
                break
            except socket.timeout:
                continue
            except OSError:
                return
        else:
            return
        a.settimeout(None)
        b = socket.create_connection(("127.0.0.1", self.target))
        self.socks += [a, b]
        for args in ((self._pump_frames, (a, b)), (self._pump, (b, a, self.down))):
            t = threading.Thread(target=args[0], args=args[1], daemon=True)
            t.start()
            self.threads.append(t)

    @staticmethod
    def _close(*socks):
        for s in socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def _pump(self, src, dst, log):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                log += data
                dst.sendall(data)
        except OSError:
            pass
        self._close(src, dst)

    def _pump_frames(self, src, dst):
        buf = bytearray()
        greeting = 0
        index = 0
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                self.up += data
                buf += data
                if greeting < 64:
                    # Passed on at once: libzmq sends its greeting in parts
                    # and waits for the peer's between them.
                    take = min(64 - greeting, len(buf))
                    dst.sendall(bytes(buf[:take]))
                    del buf[:take]
                    greeting += take
                    if greeting < 64:
                        continue
                while len(buf) >= 2:
                    flags = buf[0]
                    if flags & 2:
                        if len(buf) < 9:
                            break
                        size, head = int.from_bytes(buf[1:9], "big"), 9
                    else:
                        size, head = buf[1], 2
                    if len(buf) < head + size:
                        break
                    frame = bytes(buf[:head + size])
                    del buf[:head + size]
                    dst.sendall(self.edit(index, frame))
                    index += 1
        except OSError:
            pass
        self._close(src, dst)

    def close(self):
        """Ends every connection and thread of the relay."""
        self.closed = True
        self._close(*self.socks)
        for t in self.threads:
            t.join(2)
        for sock in self.socks + [self.lsock]:
            sock.close()


@pytest.fixture
def curve_pair(zmq, pyzmq, ctx, pctx, make_socket):
    relays = []

    def make(server_lib, edit=None, monitor=None):
        """monitor: a list that gets the server's monitor socket (open
        before anything connects)."""
        (sp, ss), (cp, cs) = pyzmq.curve_keypair(), pyzmq.curve_keypair()
        sctx, cctx = (ctx, pctx) if server_lib == "ours" else (pctx, ctx)
        server = make_socket(sctx, PULL, curve_server=1, curve_secretkey=ss, curve_publickey=sp)
        client = make_socket(cctx, PUSH, curve_serverkey=sp, curve_publickey=cp, curve_secretkey=cs)
        if monitor is not None:
            mon = server.get_monitor_socket()
            mon.setsockopt(pyzmq.RCVTIMEO, 5000)
            mon.setsockopt(pyzmq.LINGER, 0)
            monitor.append(mon)
        server.bind("tcp://127.0.0.1:0")
        port = int(server.getsockopt(pyzmq.LAST_ENDPOINT).decode().rsplit(":", 1)[1])
        relay = FrameRelay(port, edit)
        relays.append(relay)
        client.connect(f"tcp://127.0.0.1:{relay.port}")
        return client, server, relay

    yield make
    for r in relays:
        r.close()


def _frame(body, more=False):
    """A ZMTP data frame around body (short or long form)."""
    flags = 1 if more else 0
    if len(body) < 256:
        return bytes([flags, len(body)]) + body
    return bytes([flags | 2]) + len(body).to_bytes(8, "big") + body


def _body(frame):
    """The body of one whole ZMTP frame."""
    return frame[9:] if frame[0] & 2 else frame[2:]


def _protocol_failure(mon, server_lib):
    """The value of the first HANDSHAKE_FAILED_PROTOCOL event on a server's
    monitor (pyzmq's or ours), None when the connection ends (DISCONNECTED)
    without one. Each wait is bounded by the monitor's RCVTIMEO."""
    if server_lib == "ours":
        import mqcore as mod
        from mqcore.utils.monitor import recv_monitor_message
    else:
        import zmq as mod
        from zmq.utils.monitor import recv_monitor_message
    while True:
        ev = recv_monitor_message(mon)
        if ev["event"] == mod.EVENT_HANDSHAKE_FAILED_PROTOCOL:
            return ev["value"]
        if ev["event"] == mod.EVENT_DISCONNECTED:
            return None


SIDES = ("ours", "libzmq")


@pytest.mark.parametrize("server_lib", SIDES)
def test_plaintext_never_on_the_wire(curve_pair, server_lib, recv_multipart_timeout, wait_until):
    client, server, relay = curve_pair(server_lib)
    client.send_multipart([SECRET, SECRET * 1000])
    server_reply = recv_multipart_timeout(server)
    assert server_reply == [SECRET, SECRET * 1000]
    # Both greetings name CURVE; the client's first command is a 200-byte HELLO.
    wait_until(lambda: len(relay.down) >= 64)
    assert relay.up[12:17] == b"CURVE" and relay.down[12:17] == b"CURVE"
    assert relay.up[64:72] == bytes([0x04, 200]) + b"\x05HELLO"
    assert relay.down[64:66] == bytes([0x04, 168])         # WELCOME
    assert relay.down[66:74] == b"\x07WELCOME"
    assert SECRET[:12] not in relay.up and SECRET[:12] not in relay.down
    assert b"Socket-Type" not in relay.up and b"Socket-Type" not in relay.down
    assert b"\x07MESSAGE" in relay.up


def _nth_message(n, action):
    """An edit that applies action to the client's n-th MESSAGE frame (the
    client's frames 0 and 1 are HELLO and INITIATE)."""
    def edit(index, frame):
        return action(frame) if index == 2 + n else frame
    return edit


@pytest.mark.parametrize("server_lib", SIDES)
def test_replayed_message_is_refused(curve_pair, server_lib, recv_multipart_timeout,
                                     assert_no_message):
    client, server, relay = curve_pair(server_lib, _nth_message(0, lambda f: f + f))
    client.send(b"once")
    client.send(b"after")
    assert recv_multipart_timeout(server) == [b"once"]
    # The copy has the same nonce: the server closes the connection
    # rather than deliver it again (or anything after it).
    assert_no_message(server, 500)


@pytest.mark.parametrize("server_lib", SIDES)
def test_altered_message_is_refused(curve_pair, server_lib, recv_multipart_timeout,
                                    assert_no_message):
    def flip_last_byte(frame):
        return frame[:-1] + bytes([frame[-1] ^ 1])
    client, server, relay = curve_pair(server_lib, _nth_message(1, flip_last_byte))
    client.send(b"first")
    client.send(b"tampered")
    client.send(b"third")
    assert recv_multipart_timeout(server) == [b"first"]
    assert_no_message(server, 500)


@pytest.mark.parametrize("server_lib", SIDES)
def test_reordered_messages_are_refused(curve_pair, server_lib, recv_multipart_timeout,
                                        assert_no_message):
    """Frames 0 and 1 swapped on the way: the later nonce arrives first and
    is accepted; the earlier one then fails the order check."""
    held = []

    def swap(index, frame):
        if index == 2:
            held.append(frame)
            return b""
        if index == 3:
            return frame + held[0]
        return frame
    client, server, relay = curve_pair(server_lib, swap)
    client.send(b"m0")
    client.send(b"m1")
    client.send(b"m2")
    assert recv_multipart_timeout(server) == [b"m1"]
    assert_no_message(server, 500)


# A bad MESSAGE after the handshake is reported as libzmq's
# curve_mechanism_base decode reports it: HANDSHAKE_FAILED_PROTOCOL with the
# reason, then the connection ends. The same edits run against both servers
# so the codes are checked against libzmq itself, not only against these
# constants.
BAD_MESSAGES = {
    # the first message twice: the copy has the same nonce as the original
    "replayed": (lambda f: f + f, 0x10000002),          # INVALID_SEQUENCE
    # one bit of the box changed: the MAC fails
    "altered": (lambda f: f[:-1] + bytes([f[-1] ^ 1]), 0x11000001),   # CRYPTOGRAPHIC
    # not named MESSAGE
    "renamed": (lambda f: _frame(b"\x07MESSAGF" + _body(f)[8:]), 0x10000001),  # UNEXPECTED_COMMAND
    # named MESSAGE but shorter than name, nonce, MAC and flags
    "short": (lambda f: _frame(_body(f)[:32]), 0x10000012),     # MALFORMED_COMMAND_MESSAGE
}


@pytest.mark.parametrize("server_lib", SIDES)
@pytest.mark.parametrize("bad", sorted(BAD_MESSAGES))
def test_bad_message_monitor_event(curve_pair, server_lib, bad, recv_multipart_timeout,
                                   assert_no_message):
    action, code = BAD_MESSAGES[bad]
    monitor = []
    # Each edit hits the second MESSAGE, except the replay, which repeats the
    # first: either way "first" is the last thing delivered.
    n = 0 if bad == "replayed" else 1
    client, server, relay = curve_pair(server_lib, _nth_message(n, action), monitor)
    client.send(b"first")
    client.send(b"second")
    client.send(b"third")
    assert recv_multipart_timeout(server) == [b"first"]
    assert _protocol_failure(monitor[0], server_lib) == code
    # Nothing from the bad frame on, and no second connection.
    assert_no_message(server, 300)
    monitor[0].close()
